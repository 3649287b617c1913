"""The tabular explainers' entry for DataFrames: coded tables in, the user's DataFrame to the model.

:func:`table_input` is what KernelShap, LimeTabularBatched, permutation importance, partial
dependence, the surrogates and the session call on their data: a DataFrame is coded with a
:class:`~nbexplain.frames.FrameEncoding` (one feature per column); an array given with an
encoding is taken as codes; any other table takes the array path (:func:`nbexplain.validate.table_array`).
:func:`frame_model` wraps the user's model so that it is called with the decoded DataFrame.

Missing values (the one exception to "non-finite inputs are refused"): in a DataFrame, ``NaN``
(or ``None`` / ``pd.NA``) in a numeric column is data, kept as ``NaN`` and handed to the model in
the decoded frame (a Pipeline with a ``SimpleImputer`` takes it; a model that cannot gets our
message naming the column). ``inf`` is still refused, with its row and column, and so is any
``NaN`` in a plain array (there is no column to say it is a missing value). In a categorical
column a missing value is the category ``"(missing)"``, never ``NaN``. How each explainer treats
a ``NaN`` is said in its own docstring.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, None], "s": ["a", "b"]})
    >>> codes, enc = table_input(df, "X")
    >>> codes.tolist(), enc.names
    ([[1.0, 0.0], [nan, 1.0]], ['x', 's'])
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from nbexplain.frames import FrameEncoding, is_frame
from nbexplain.validate import InputError, check_finite

__all__ = ["SparseInputError", "check_missing_ok", "check_not_empty", "check_not_sparse", "codes_fn", "frame_model",
           "table_input"]


class SparseInputError(InputError, TypeError):
    """A scipy.sparse matrix where a dense table is needed (the message says how to convert)."""


def check_not_sparse(X: Any, name: str) -> None:
    """Refuse a scipy.sparse matrix (or array) with a message that says so and how to convert.

    Example:
        >>> import scipy.sparse as sp
        >>> check_not_sparse(sp.csr_matrix((2, 3)), "background")
        Traceback (most recent call last):
        ...
        nbexplain.frame_inputs.SparseInputError: background is a scipy.sparse csr_matrix of shape (2, 3); nbexplain's tabular explainers take dense tables (they replace whole columns of a row): pass background.toarray() (2 x 3 float64 = 48 bytes), or the DataFrame before your pipeline's encoder if that is what made it sparse
    """
    sparse = sys.modules.get("scipy.sparse")
    if sparse is None or not sparse.issparse(X):
        return
    n, f = X.shape
    if n == 0 or f == 0:
        raise SparseInputError(f"{name} is empty: a scipy.sparse {type(X).__name__} of shape ({n}, {f}), with no "
                               f"{'rows' if n == 0 else 'columns'}; pass at least one row, as a dense table "
                               f"({name}.toarray(): nbexplain's tabular explainers take dense tables)")
    raise SparseInputError(f"{name} is a scipy.sparse {type(X).__name__} of shape ({n}, {f}); nbexplain's tabular "
                           "explainers take dense tables (they replace whole columns of a row): pass "
                           f"{name}.toarray() ({n} x {f} float64 = {_bytes(8 * n * f)}), or the DataFrame before your "
                           "pipeline's encoder if that is what made it sparse")


def _bytes(b: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if b >= size:
            return f"{b / size:.1f} {unit}"
    return f"{b} bytes"


def check_not_empty(arr: np.ndarray, name: str) -> None:
    """A named error for a table with no rows or no columns.

    Example:
        >>> check_not_empty(np.zeros((0, 3)), "background")
        Traceback (most recent call last):
        ...
        ValueError: background is empty (0 rows, 3 columns); pass at least one row and one column (e.g. a sample of the training data)
    """
    if arr.ndim == 2 and (arr.shape[0] == 0 or arr.shape[1] == 0):
        raise ValueError(f"{name} is empty ({arr.shape[0]} rows, {arr.shape[1]} columns); pass at least one row "
                         "and one column (e.g. a sample of the training data)")


def check_missing_ok(arr: np.ndarray, name: str, encoding: FrameEncoding) -> np.ndarray:
    """``arr`` when its only non-finite values are NaN in numeric columns (missing values); else named errors."""
    finite_or_nan = np.where(np.isnan(arr), 0.0, arr)
    check_finite(finite_or_nan, name, feature_names=encoding.names,
                 fix="Replace infinite values (np.inf is no missing value: use NaN) or drop those rows")
    return arr


def table_input(X: Any, name: str, encoding: FrameEncoding | None = None, *,
                n_features: int | None = None) -> tuple[np.ndarray, FrameEncoding | None] | tuple[None, None]:
    """``X`` coded as float64 ``(n, F)`` with its encoding, or ``(None, None)`` for the array path.

    A DataFrame (or a Series as one row) is coded with ``encoding`` (fitted on ``X`` when None);
    an array given with an ``encoding`` is taken as codes and checked (categorical columns hold
    their codes). Sparse matrices are refused by name; an empty table is named as empty.

    Example:
        >>> table_input(np.ones((1, 2)), "X")
        (None, None)
    """
    check_not_sparse(X, name)
    if is_frame(X) or (encoding is not None and hasattr(X, "to_frame") and hasattr(X, "index")):
        enc = encoding if encoding is not None else FrameEncoding.fit(X, name=name)
        arr = enc.encode(X, name)
        check_not_empty(arr, name)
        return check_missing_ok(arr, name, enc), enc
    if encoding is None:
        return None, None
    from nbexplain.validate import table_array

    arr, _ = table_array(X, name)
    if arr.ndim == 1 and arr.shape[0] == encoding.n_features:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != (n_features or encoding.n_features):
        raise ValueError(f"{name} must be coded rows (n, {encoding.n_features}) of the encoding's columns "
                         f"{encoding.names[:8]}, got shape {arr.shape}; or pass a DataFrame")
    check_not_empty(arr, name)
    check_missing_ok(arr, name, encoding)
    for j in encoding.categorical_indices:
        col = arr[:, j]
        k = len(encoding.categories[j] or [])
        bad = np.isnan(col) | (col != np.round(col)) | (col < 0) | (col >= k)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{name} column {encoding.names[j]!r} holds {float(col[i])!r} at row {i}, not a category "
                             f"code (0..{k - 1}: {encoding.labels(j)[:6]}); pass a DataFrame, or codes of its encoding")
    return arr, encoding


def _wants_frame(model: Any, encoding: FrameEncoding) -> bool:
    """A model gets a DataFrame when it was fitted on one, or when some column is not numeric."""
    return (hasattr(model, "feature_names_in_") or bool(encoding.categorical_indices)
            or hasattr(model, "named_steps") or hasattr(model, "transformers"))


class _FrameEstimator:
    """The user's model behind coded rows: each call decodes them to the user's DataFrame first."""

    def __init__(self, model: Any, encoding: FrameEncoding) -> None:
        self.model, self.encoding = model, encoding
        self._frame = _wants_frame(model, encoding)
        if hasattr(model, "n_features_in_"):
            self.n_features_in_ = model.n_features_in_
        for method in ("predict_proba", "decision_function", "predict"):
            if hasattr(model, method):
                setattr(self, method, self._calling(getattr(model, method), method))

    def _input(self, codes: Any) -> Any:
        a = np.asarray(codes, dtype=np.float64)
        return self.encoding.decode(a) if self._frame else a

    def _calling(self, f: Any, what: str) -> Any:
        owner = type(self.model).__name__

        def call(codes: Any) -> Any:
            X = self._input(codes)
            try:
                return f(X)
            except (ValueError, TypeError) as exc:
                hint = _frame_hint(X, self.encoding, exc)
                if hint is None:
                    raise
                raise type(exc)(f"{owner}.{what} failed on the rows nbexplain made from your data: {exc}. "
                                f"{hint}") from exc

        call.__name__ = what
        return call

    def __repr__(self) -> str:
        return f"FrameModel({type(self.model).__name__}, {self.encoding!r})"


class _FrameCallable(_FrameEstimator):
    def __init__(self, model: Any, encoding: FrameEncoding) -> None:
        super().__init__(model, encoding)
        self._call = self._calling(model, getattr(model, "__name__", "__call__"))

    def __call__(self, codes: Any) -> Any:
        return self._call(codes)


def _frame_hint(X: Any, encoding: FrameEncoding, exc: BaseException) -> str | None:
    text = str(exc)
    if "NaN" in text or "missing" in text.lower():
        if is_frame(X):
            nan_cols = [str(c) for c in X.columns if X[c].isna().any()]
        else:
            nan_cols = [encoding.names[j] for j in np.flatnonzero(np.isnan(np.asarray(X, dtype=np.float64)).any(0))]
        if nan_cols:
            return (f"The data has missing values in {nan_cols[:5]}, kept as NaN for the model: impute them first, or "
                    "put a sklearn.impute.SimpleImputer in the pipeline")
    cats = [encoding.names[j] for j in encoding.categorical_indices]
    if cats and is_frame(X) and ("string" in text or "convert" in text or "float" in text):
        return (f"The model is given a DataFrame with the data's columns, where {cats[:5]} hold categories (strings); "
                "it must take such a frame (a Pipeline with a OneHotEncoder / OrdinalEncoder does)")
    return None


def codes_fn(f: Any) -> Any:
    """Mark ``f`` as a predict function that takes coded rows itself (:func:`frame_model` leaves it as is).

    Example:
        >>> codes_fn(lambda A: A)._nbx_takes_codes
        True
    """
    f._nbx_takes_codes = True
    return f


def frame_model(model: Any, encoding: FrameEncoding) -> Any:
    """``model`` called on coded rows: they are decoded to the user's DataFrame first.

    A model fitted on a DataFrame (``feature_names_in_``, a Pipeline) or data with a categorical
    column gets the DataFrame (names, order, dtypes as given); an all-numeric table for a model
    fitted on arrays gets the array. The wrapper has the model's ``predict_proba`` /
    ``decision_function`` / ``predict`` (and is callable when the model is a plain function); a
    model's own error on those rows is re-raised with what nbexplain passed it.

    Example:
        >>> import pandas as pd
        >>> enc = FrameEncoding.fit(pd.DataFrame({"s": ["a", "b"]}))
        >>> f = frame_model(lambda df: (df["s"] == "b").to_numpy(float)[:, None], enc)
        >>> f(np.array([[1.0], [0.0]])).ravel().tolist()
        [1.0, 0.0]
    """
    if isinstance(model, _FrameEstimator) or getattr(model, "_nbx_takes_codes", False):
        return model
    from nbexplain.models import is_torch_module

    if is_torch_module(model):
        if encoding.categorical_indices:
            cats = [encoding.names[j] for j in encoding.categorical_indices]
            raise TypeError(f"a torch model takes numbers, but the data has categorical columns {cats[:5]}; encode "
                            "them as the model was trained (codes or one-hot) and pass an array")
        return model
    has_method = any(hasattr(model, m) for m in ("predict_proba", "decision_function", "predict"))
    wrapped = _FrameEstimator(model, encoding) if has_method else _FrameCallable(model, encoding)
    _declared_copy(model, wrapped)
    return wrapped


def _declared_copy(model: Any, wrapped: Any) -> None:
    """A callable declared with ``nbx.declare_output`` keeps its declaration behind the wrapper."""
    from nbexplain import output_kind

    try:
        per = output_kind._REMEMBERED.get(model)
    except TypeError:
        return
    kind = (per or {}).get("")
    if kind is not None:
        output_kind.declare(wrapped, kind)
