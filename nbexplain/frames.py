"""DataFrames with mixed columns as the numeric tables the explainers work on, one feature per column.

:class:`FrameEncoding` is the one mechanism. It is fitted on a pandas DataFrame (numeric, string,
object, bool and pandas categorical columns, with missing values) and turns it into a float64
table with exactly one column per user column, and back:

- a numeric column stays numeric; a missing value stays ``NaN`` (whether the model takes it is
  the model's business: a Pipeline with a ``SimpleImputer`` does; the explainers say how they
  treat it, see :mod:`nbexplain.frame_inputs`); ``inf`` is refused at the boundary;
- a string, object, bool or categorical column becomes integer category codes ``0..K-1`` with
  the categories kept (a pandas categorical in its own order, strings sorted); missing values
  become a category of their own, labelled :data:`MISSING_LABEL` (``"(missing)"``), decoded back
  to the missing value the column held (``None``, ``np.nan``, ``pd.NA``);
- :meth:`FrameEncoding.decode` gives a DataFrame with the user's column names, order and dtypes
  (categories as the original strings, a categorical column with its categorical dtype), which is
  what the user's ``predict_proba`` is called with (:func:`nbexplain.frame_inputs.frame_model`).

Categories met later (an explained row with a city the background lacked) are appended, so
codes already handed out never change. The caller's DataFrame is never modified.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [30, 40, None], "city": ["Oslo", None, "Bergen"]})
    >>> enc = FrameEncoding.fit(df)
    >>> enc.encode(df).tolist()
    [[30.0, 1.0], [40.0, 2.0], [nan, 0.0]]
    >>> enc.labels(1)
    ['Bergen', 'Oslo', '(missing)']
    >>> enc.decode(enc.encode(df)).equals(df)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MISSING_LABEL", "FrameEncoding", "is_frame"]

#: The label of the category that stands for a missing value in a categorical column.
MISSING_LABEL = "(missing)"


class _Missing:
    """The category that stands for missing values (one object, compared by identity)."""

    def __repr__(self) -> str:
        return MISSING_LABEL


MISSING = _Missing()


def is_frame(X: Any) -> bool:
    """True for a pandas DataFrame (checked without importing pandas).

    Example:
        >>> is_frame([[1, 2]])
        False
    """
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def _pd() -> Any:
    import pandas as pd

    return pd


def _kind_of(s: Any, label: str, name: str, forced: bool) -> str:
    """``"number"`` or ``"category"`` for a column; a named ``TypeError`` for dtypes we cannot code."""
    pd = _pd()
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dt):
        return "category"
    if dt.kind in "mM" or isinstance(dt, (pd.PeriodDtype, pd.IntervalDtype)) or str(dt).startswith("datetime"):
        raise TypeError(f"{name} column {label!r} has dtype {dt}; convert it to numbers first (e.g. days since a "
                        f"date: ({name}[{label!r}] - {name}[{label!r}].min()).dt.days) or drop it")
    if dt.kind == "c":
        raise TypeError(f"{name} column {label!r} is complex (dtype {dt}); pass its real part or magnitude")
    if pd.api.types.is_numeric_dtype(dt):
        return "category" if forced else "number"
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal") and not forced:
        return "number"
    return "category"


def _sorted_values(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed types: the order of first appearance
        return values


class FrameEncoding:
    """How one DataFrame's columns map to numbers: one feature per column, categories kept.

    Build it with :meth:`fit`; :meth:`encode` a frame with the same columns, :meth:`decode`
    codes back to a frame, :meth:`labels` / :meth:`choices` for display. ``categorical``: column
    names to treat as categories although numeric (zip codes, small integer codes).

    Example:
        >>> import pandas as pd
        >>> enc = FrameEncoding.fit(pd.DataFrame({"x": [1.5, 2.5], "sex": pd.Categorical(["f", "m"])}))
        >>> enc.names, enc.kinds, enc.categorical_indices
        (['x', 'sex'], ['number', 'category'], [1])
    """

    def __init__(self, columns: list[Any], dtypes: list[Any], kinds: list[str], categories: list[list[Any] | None],
                 missing_values: list[Any]) -> None:
        self.columns = columns
        self.names = [str(c) for c in columns]
        self.dtypes = dtypes
        self.kinds = kinds
        self.categories = categories
        self.missing_values = missing_values
        self._lookup: list[dict[Any, int] | None] = [
            None if c is None else {v: i for i, v in enumerate(c) if v is not MISSING} for c in categories]

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def fit(cls, *frames: Any, categorical: Sequence[Any] | None = None, name: str = "X") -> FrameEncoding:
        """An encoding for the columns of ``frames`` (all with the same columns; categories from all).

        Example:
            >>> import pandas as pd
            >>> FrameEncoding.fit(pd.DataFrame({"b": [True, False]})).categories
            [[False, True]]
        """
        pd = _pd()
        frames = tuple(f for f in frames if f is not None)
        if not frames:
            raise ValueError("FrameEncoding.fit needs at least one DataFrame")
        first = frames[0]
        cols = list(first.columns)
        names = [str(c) for c in cols]
        dup = next((c for i, c in enumerate(names) if c in names[:i]), None)
        if dup is not None:
            raise ValueError(f"{name} has the column name {dup!r} twice; column names must be distinct: rename one")
        for other in frames[1:]:
            _same_columns(list(other.columns), cols, "the other data")
        forced = {str(c) for c in (categorical or [])}
        unknown = sorted(forced - set(names))
        if unknown:
            raise ValueError(f"categorical names {unknown} are not columns of {name}; columns are {names[:20]}")
        dtypes, kinds, cats, missing = [], [], [], []
        for c, label in zip(cols, names, strict=True):
            s = first[c]
            kind = _kind_of(s, label, name, label in forced)
            dtypes.append(s.dtype)
            kinds.append(kind)
            if kind == "number":
                cats.append(None)
                missing.append(np.nan)
                continue
            allv = pd.concat([f[c] for f in frames], ignore_index=True) if len(frames) > 1 else s
            na = allv.isna().to_numpy()
            if isinstance(s.dtype, pd.CategoricalDtype):
                values = list(s.dtype.categories)
            elif pd.api.types.is_bool_dtype(s.dtype):
                values = [False, True]
            else:
                values = _sorted_values(list(pd.unique(allv[~na])))
            if na.any():
                values.append(MISSING)
            cats.append(values)
            missing.append(allv[na].iloc[0] if na.any() else np.nan)
        return cls(cols, dtypes, kinds, cats, missing)

    # -- facts ------------------------------------------------------------------------------------
    @property
    def n_features(self) -> int:
        """The number of columns (= features)."""
        return len(self.columns)

    @property
    def categorical_indices(self) -> list[int]:
        """Indices of the columns coded as categories."""
        return [j for j, k in enumerate(self.kinds) if k == "category"]

    @property
    def integer_indices(self) -> list[int]:
        """Indices of the numeric columns with an integer dtype (numpy or pandas nullable)."""
        return [j for j, (k, d) in enumerate(zip(self.kinds, self.dtypes, strict=True))
                if k == "number" and d.kind in "iu"]

    def labels(self, j: int) -> list[str]:
        """The category labels of column ``j`` in code order (``"(missing)"`` for the missing category)."""
        cats = self.categories[j]
        if cats is None:
            raise ValueError(f"column {self.names[j]!r} is numeric; it has no categories")
        return [MISSING_LABEL if v is MISSING else str(v) for v in cats]

    def choices(self) -> dict[int, list[tuple[float, str]]]:
        """``{column index: [(code, label), ...]}`` for every categorical column (what-if menus, tables).

        Example:
            >>> import pandas as pd
            >>> FrameEncoding.fit(pd.DataFrame({"s": ["b", "a"]})).choices()
            {0: [(0.0, 'a'), (1.0, 'b')]}
        """
        return {j: [(float(i), lab) for i, lab in enumerate(self.labels(j))] for j in self.categorical_indices}

    def label_of(self, j: int, code: float) -> str:
        """The label of one code of column ``j`` (numbers as they are for numeric columns)."""
        if self.categories[j] is None:
            return "(missing)" if np.isnan(code) else f"{code:g}"
        return self.labels(j)[int(code)]

    def __repr__(self) -> str:
        cats = ", ".join(f"{self.names[j]}: {len(self.categories[j] or [])}" for j in self.categorical_indices)
        return f"FrameEncoding(columns={self.n_features}, categories={{{cats}}})"

    # -- encoding ---------------------------------------------------------------------------------
    def encode(self, frame: Any, name: str = "X", *, extend: bool = True) -> np.ndarray:
        """``frame`` as float64 ``(n, F)``: numbers (NaN where missing), category codes.

        The columns must be this encoding's, in its order. Categories not seen before are appended
        (``extend=True``) or refused. ``inf`` is left for the caller's finite check.

        Example:
            >>> import pandas as pd
            >>> enc = FrameEncoding.fit(pd.DataFrame({"s": ["a", "b"]}))
            >>> enc.encode(pd.DataFrame({"s": ["c", "a"]})).ravel().tolist(), enc.labels(0)
            ([2.0, 0.0], ['a', 'b', 'c'])
        """
        pd = _pd()
        if isinstance(frame, pd.Series):  # one row
            frame = frame.to_frame().T.infer_objects()
        _same_columns(list(frame.columns), self.columns, name)
        out = np.empty((len(frame), self.n_features), dtype=np.float64)
        for j in range(self.n_features):
            s = frame.iloc[:, j]
            out[:, j] = self._encode_number(s, j, name) if self.kinds[j] == "number" else self._encode_codes(
                s, j, name, extend)
        return out

    def _encode_number(self, s: Any, j: int, name: str) -> np.ndarray:
        pd = _pd()
        numeric = pd.api.types.is_numeric_dtype(s.dtype) or s.dtype == object
        if isinstance(s.dtype, pd.CategoricalDtype) or not numeric:
            raise TypeError(f"{name} column {self.names[j]!r} holds {s.dtype} values but it is numeric in the data the "
                            "explainer was built on; pass the same dtypes")
        try:
            return pd.to_numeric(s, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} column {self.names[j]!r} is numeric in the data the explainer was built on, but "
                            f"here it holds non-numbers ({exc}); pass the same dtypes") from None

    def _encode_codes(self, s: Any, j: int, name: str, extend: bool) -> np.ndarray:
        pd = _pd()
        lookup = self._lookup[j]
        assert lookup is not None
        na = s.isna().to_numpy()
        codes = np.full(len(s), np.nan)
        values = s.to_numpy(dtype=object)
        keyed = pd.Series(values[~na], dtype=object)
        try:
            codes[~na] = keyed.map(lookup).to_numpy(dtype=np.float64, na_value=np.nan)
        except TypeError as exc:  # unhashable values (lists, dicts)
            raise TypeError(f"{name} column {self.names[j]!r} holds unhashable values ({exc}); pass scalars") from None
        unseen = ~na & np.isnan(codes)
        if unseen.any() or (na.any() and MISSING not in (self.categories[j] or [])):
            new = _sorted_values(list(pd.unique(keyed[np.isnan(codes[~na])])))
            if not extend:
                what = repr(new[0]) if new else "missing values"
                raise ValueError(f"{name} column {self.names[j]!r} holds {what}, which the data the explainer was built "
                                 "on does not; include such rows in the background")
            self._extend(j, new, missing=bool(na.any()))
            return self._encode_codes(s, j, name, extend=False)
        if na.any():
            codes[na] = (self.categories[j] or []).index(MISSING)
        return codes

    def _extend(self, j: int, values: list[Any], missing: bool) -> None:
        cats = list(self.categories[j] or [])
        had_missing = MISSING in cats
        cats = [v for v in cats if v is not MISSING] if not had_missing else cats
        for v in values:
            cats.append(v)
        if missing and not had_missing:
            cats.append(MISSING)
        self.categories[j] = cats
        self._lookup[j] = {v: i for i, v in enumerate(cats) if v is not MISSING}

    # -- decoding ---------------------------------------------------------------------------------
    def decode(self, codes: Any) -> Any:
        """A DataFrame with the user's column names, order and dtypes from coded rows ``(n, F)``.

        Integer columns get their integer dtype back when every value is a whole number (else
        float64: a value an explainer made between two integers is not rounded).

        Example:
            >>> import pandas as pd
            >>> enc = FrameEncoding.fit(pd.DataFrame({"n": [1, 2], "s": pd.Categorical(["a", "b"])}))
            >>> enc.decode([[2.0, 0.0], [2.5, 1.0]]).dtypes.astype(str).tolist()
            ['float64', 'category']
        """
        pd = _pd()
        a = np.asarray(codes, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != self.n_features:
            raise ValueError(f"coded rows must be (n, {self.n_features}), got shape {a.shape}")
        data = {}
        for j in range(self.n_features):
            col = a[:, j]
            v = self._decode_number(col, j) if self.kinds[j] == "number" else self._decode_codes(col, j)
            data[j] = v if isinstance(v, pd.Series) else pd.Series(v, dtype=getattr(v, "dtype", None))
        out = pd.concat(data, axis=1) if data else pd.DataFrame(index=range(len(a)))
        out.columns = pd.Index(self.columns)
        return out

    def _decode_number(self, col: np.ndarray, j: int) -> Any:
        dt = self.dtypes[j]
        nan = np.isnan(col)
        if dt.kind in "iu":
            whole = bool(np.all(col[~nan] == np.round(col[~nan])))
            if not whole:
                return col
            if isinstance(dt, np.dtype):
                return col if nan.any() else col.astype(dt)
            return _masked(col, nan, dt)  # a nullable Int64 keeps pd.NA
        if isinstance(dt, np.dtype):
            return col.astype(dt, copy=False)
        return _masked(col, nan, dt)  # Float64: NaN as pd.NA

    def _decode_codes(self, col: np.ndarray, j: int) -> Any:
        pd = _pd()
        cats = self.categories[j] or []
        wrong = np.isnan(col) | (col != np.round(col)) | (col < 0) | (col >= len(cats))
        if wrong.any():
            raise ValueError(f"column {self.names[j]!r} got {float(col[wrong][0])!r}, which is not one of its "
                             f"{len(cats)} category codes (0..{len(cats) - 1}); a categorical column only takes its "
                             "categories")
        idx = col.astype(np.int64)
        dt = self.dtypes[j]
        miss = np.array([v is MISSING for v in cats], dtype=bool)[idx]
        if isinstance(dt, pd.CategoricalDtype):
            real = [v for v in cats if v is not MISSING]
            if list(dt.categories) == real:
                return pd.Categorical.from_codes(np.where(miss, -1, idx), dtype=dt)
            return pd.Categorical(np.array(cats, dtype=object)[idx], categories=real, ordered=dt.ordered)
        values = np.array(cats, dtype=object)[idx]
        values[miss] = self.missing_values[j]
        if isinstance(dt, np.dtype) and dt.kind == "b" and not miss.any():
            return values.astype(bool)
        if isinstance(dt, np.dtype) and dt.kind in "iuf" and not miss.any():
            return values.astype(dt)
        if isinstance(dt, np.dtype):
            return pd.Series(values, dtype=object)  # pandas would infer its str dtype from an object array
        try:
            return pd.array(values, dtype=dt)  # str / boolean / Int64 extension dtypes
        except (TypeError, ValueError):
            return values


def _masked(col: np.ndarray, nan: np.ndarray, dt: Any) -> Any:
    """A pandas nullable array (Int64, Float64, ...) of ``col`` with ``nan`` as its missing mask."""
    numpy_dtype = getattr(dt, "numpy_dtype", None)
    if numpy_dtype is None:
        return _pd().array(np.where(nan, None, col).tolist(), dtype=dt)
    return dt.construct_array_type()(np.where(nan, 0, col).astype(numpy_dtype), nan.copy())


def _same_columns(got: list[Any], want: list[Any], name: str) -> None:
    if got == want:
        return
    g, w = [str(c) for c in got], [str(c) for c in want]
    if sorted(g) == sorted(w):
        raise ValueError(f"{name} has the columns of the training data in another order; reorder them: "
                         f"{name}[{w[:8]}{'...' if len(w) > 8 else ''}]")
    missing = [c for c in w if c not in g]
    raise ValueError(f"{name} has columns {g[:8]} but the explainer was built on {w[:8]}"
                     + (f" (missing {missing[:5]})" if missing else "") + "; pass the same columns in the same order")
