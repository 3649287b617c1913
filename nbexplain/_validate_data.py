"""Data checks of :mod:`nbexplain.validate`: tables (DataFrames included), labels and texts.

Import them from :mod:`nbexplain.validate`, which re-exports them.

Example:
    >>> from nbexplain.validate import check_texts
    >>> check_texts("one text")
    ['one text']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nbexplain.validate import LabelError, _torch_tensor, check_finite


def column_names(X: Any) -> list[str] | None:
    """A DataFrame's column names as strings (``None`` for arrays and tensors).

    Example:
        >>> column_names(np.zeros((1, 2))) is None
        True
    """
    cols = getattr(X, "columns", None)
    return None if cols is None or not hasattr(X, "dtypes") else [str(c) for c in cols]


_FRAME_AWARE = ("KernelShap, LimeTabularBatched, permutation_importance, partial_dependence, the surrogates and the "
                "Dashboard take such a DataFrame as it is (one feature per column, the model called with the frame)")


def table_array(X: Any, name: str = "X") -> tuple[np.ndarray, list[str] | None]:
    """A table (array, tensor or DataFrame) as a float64 array plus its column names (DataFrames).

    Refuses string, categorical and object columns (naming the column, the explainers that take
    such a DataFrame as it is, and the encoding to use otherwise) and scipy.sparse matrices (saying
    how to convert), and turns missing values of nullable columns (``pd.NA``) into NaN, for
    :func:`check_finite` to name. The frame-aware explainers code DataFrames with
    :mod:`nbexplain.frames` instead.

    Example:
        >>> table_array([[1, 2]])[0].dtype
        dtype('float64')
    """
    from nbexplain.frame_inputs import check_not_sparse

    check_not_sparse(X, name)
    columns = getattr(X, "columns", None)
    if columns is not None and hasattr(X, "dtypes"):
        names = [str(c) for c in columns]
        cols = []
        for c, label in zip(columns, names, strict=True):
            s = X[c]
            kind = str(s.dtype)
            if kind == "category":
                raise TypeError(f"{name} column {label!r} is categorical; {_FRAME_AWARE}; for this one, encode it as "
                                f"numbers first ({name}[{label!r}].cat.codes, or pd.get_dummies for one-hot)")
            if s.dtype.kind in "OSU" or kind.startswith("string") or kind == "str":
                raise TypeError(f"{name} column {label!r} holds strings (dtype {kind}); {_FRAME_AWARE}; for this one, "
                                "encode it as numbers first (an OrdinalEncoder, pd.factorize, or pd.get_dummies for "
                                "one-hot)")
            if s.dtype.kind not in "iufb" and not hasattr(s, "to_numpy"):
                raise TypeError(f"{name} column {label!r} has dtype {kind}; pass numbers")
            try:
                cols.append(s.to_numpy(dtype=np.float64, na_value=np.nan))
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name} column {label!r} (dtype {kind}) is not numeric: {exc}; convert it to "
                                "numbers first") from exc
        arr = np.stack(cols, axis=1) if cols else np.zeros((len(X), 0))
        return arr, names
    if _torch_tensor(X):
        X = X.detach().cpu()
        if str(X.dtype) in ("torch.bfloat16",):
            X = X.float()
        X = X.numpy()
    try:
        arr = np.asarray(X)
    except ValueError as exc:
        raise ValueError(f"{name} is ragged (rows of different lengths): {exc}; pass a rectangular table") from exc
    if arr.dtype.kind in "SU":
        raise TypeError(f"{name} holds strings (dtype {arr.dtype}); encode categories as numbers first (an "
                        "OrdinalEncoder or pd.factorize), or convert numeric text with .astype(float)")
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            first = next((v for v in arr.ravel() if not isinstance(v, (int, float, np.number))), None)
            raise TypeError(f"{name} has dtype object holding {type(first).__name__} {first!r}; pass numbers (encode "
                            "categories as numbers, replace None by np.nan and impute)") from exc
    elif arr.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr.astype(np.float64), None


def check_labels(y: Any, n: int, *, k: int | None = None, name: str = "y", x_name: str = "X") -> np.ndarray:
    """Class labels as int64 ``(n,)``: refuses strings, fractions, probabilities, NaN and labels >= ``k``.

    Example:
        >>> check_labels([0, 1.0], 2).tolist()
        [0, 1]
        >>> check_labels([0.2, 0.9], 2)
        Traceback (most recent call last):
        ...
        nbexplain.validate.LabelError: y holds 0.2 at row 0, not a class index; y looks like probabilities: pass class labels (y.round().astype(int) for one column, y.argmax(1) for (n, k))
    """
    arr = y.detach().cpu().numpy() if _torch_tensor(y) else np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2 and arr.dtype.kind == "f":
        raise LabelError(f"{name} has shape {arr.shape}: probabilities or one-hot rows, not labels; pass class "
                         f"indices ({name}.argmax(1))")
    if arr.ndim != 1:
        raise LabelError(f"{name} must be 1-D (one label per row), got shape {arr.shape}")
    if len(arr) != n:
        raise LabelError(f"{name} has {len(arr)} labels but {x_name} has {n} rows; pass one label per row")
    if arr.dtype.kind in "OSU":
        first = arr[0].item() if hasattr(arr[0], "item") else arr[0]
        raise LabelError(f"{name} holds {type(first).__name__} labels ({first!r}); map the classes to 0..k-1 first "
                         "(sklearn.preprocessing.LabelEncoder or pd.factorize)")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "f":
        check_finite(arr, name, fix="Drop or fill the rows with missing labels")
        frac = arr != np.round(arr)
        if frac.any():
            i = int(np.argmax(frac))
            probs = bool(((arr >= 0) & (arr <= 1)).all())
            fix = (f"{name} looks like probabilities: pass class labels ({name}.round().astype(int) for one column, "
                   f"{name}.argmax(1) for (n, k))") if probs else "map the classes to integers 0..k-1"
            raise LabelError(f"{name} holds {float(arr[i])!r} at row {i}, not a class index; {fix}")
    lab = arr.astype(np.int64)
    if lab.size and lab.min() < 0:
        i = int(np.argmax(lab < 0))
        raise LabelError(f"{name} holds label {int(lab[i])} at row {i}; class labels are 0..k-1")
    if k is not None and lab.size and lab.max() >= k:
        i = int(np.argmax(lab >= k))
        raise LabelError(f"{name} holds label {int(lab[i])} but the model gives {k} classes (first at row {i}); labels "
                         f"must be 0..{k - 1}")
    return lab


def check_texts(texts: Any, name: str = "texts") -> list[str]:
    """One string, or a list of strings, as a list; a named ``TypeError`` for a non-string entry.

    Example:
        >>> check_texts(["a", None])
        Traceback (most recent call last):
        ...
        TypeError: texts[1] is None, not a str; every text must be a string (drop or fill missing texts)
    """
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, np.ndarray) and texts.ndim == 0:
        texts = [texts.item()]
    try:
        items = list(texts)
    except TypeError:
        raise TypeError(f"{name} must be a str or a list of str, got {type(texts).__name__} {texts!r}") from None
    for i, t in enumerate(items):
        if not isinstance(t, str):
            what = "None" if t is None else f"{type(t).__name__} {t!r}"
            raise TypeError(f"{name}[{i}] is {what}, not a str; every text must be a string (drop or fill missing "
                            "texts)")
    return items
