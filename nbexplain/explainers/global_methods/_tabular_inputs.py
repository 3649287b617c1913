"""Shared input checks for the tabular model-agnostic explainers (permutation, PDP, surrogates).

Example:
    >>> import numpy as np
    >>> check_table(np.ones((2, 3))).shape
    (2, 3)
    >>> resolve_feature("b", ["a", "b"])
    1
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.models import PredictFn, as_predict_fn
from nbexplain.validate import check_feature_names, check_finite, checked_predict, table_array

# Rows x features per model call: copies are stacked and sent in chunks of at most this many values.
CHUNK_VALUES = 1 << 22


def check_table(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a non-empty float64 ``(n, F)`` table; named errors for empty, ragged or non-numeric.

    Example:
        >>> check_table([[1, 2]]).dtype
        dtype('float64')
    """
    arr, _ = table_array(X, name)
    if arr.ndim != 2:
        fix = "; add the sample axis with x[None]" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}{fix}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); pass at least one row and one feature")
    return check_finite(arr, name)


def frame_table(X: Any, name: str = "X", encoding: Any = None) -> tuple[np.ndarray, Any]:
    """``X`` as float64 ``(n, F)`` plus its :class:`~nbexplain.frames.FrameEncoding` (None for arrays).

    A DataFrame (or an array with ``encoding``: codes) takes :func:`nbexplain.frame_inputs.table_input`
    (one feature per column, NaN kept as a missing value in numeric columns); other tables
    :func:`check_table`.

    Example:
        >>> import pandas as pd
        >>> frame_table(pd.DataFrame({"s": ["a", "b"]}))[0].ravel().tolist()
        [0.0, 1.0]
    """
    from nbexplain.frame_inputs import table_input

    arr, enc = table_input(X, name, encoding)
    if arr is None:
        return check_table(X, name), None
    return arr, enc


def check_names(feature_names: Sequence[str] | None, n_features: int) -> list[str]:
    """One name per column (``x0, x1, ...`` when ``None``); a named error for a count mismatch.

    Example:
        >>> check_names(None, 2)
        ['x0', 'x1']
    """
    names = check_feature_names(feature_names, n_features)
    return [f"x{j}" for j in range(n_features)] if names is None else names


class UnknownFeatureError(KeyError, ValueError):
    """A feature name that is not among the names; the message lists close names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class FeatureIndexError(IndexError, ValueError):
    """A feature index outside ``-F..F-1``."""


def resolve_feature(feature: Any, names: Sequence[str] | None, n_features: int | None = None) -> int:
    """A column index from an int or a name; an unknown name lists close names.

    ``names`` may be None (then only indices work, below ``n_features``). The errors are both
    ``KeyError``/``IndexError`` and ``ValueError``, so callers may catch either.

    Example:
        >>> resolve_feature(-1, ["a", "b"])
        1
    """
    n = len(names) if names is not None else int(n_features or 0)
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
        j = int(feature)
        if not -n <= j < n:
            raise FeatureIndexError(f"feature index {j} not found: X has {n} features (0..{n - 1})")
        return j % n
    if isinstance(feature, str):
        if names is None:
            raise ValueError(f"feature {feature!r} is a name but no feature_names were given; pass "
                             "feature_names=[...] or a column index")
        names = [str(f) for f in names]
        if names.count(feature) > 1:
            raise ValueError(f"feature {feature!r} is ambiguous: feature_names has it {names.count(feature)} times "
                             "(columns " + ", ".join(str(j) for j, f in enumerate(names) if f == feature)
                             + "); make the names distinct or pass a column index")
        if feature in names:
            return names.index(feature)
        close = difflib.get_close_matches(feature, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(map(repr, close))}?" if close else f"names are {names[:20]}"
        raise UnknownFeatureError(f"unknown feature name {feature!r}; {hint}")
    raise TypeError(f"a feature is an int index or a str name, got {type(feature).__name__} {feature!r}")


def wrap_predict(model_or_predict: Any, n_features: int, encoding: Any = None) -> PredictFn:
    """``as_predict_fn`` plus a check that the model accepts ``n_features`` columns.

    With an ``encoding`` (:mod:`nbexplain.frames`) the model is called with the decoded DataFrame.

    Example:
        >>> f = wrap_predict(lambda X: X[:, 0], 2)
        >>> f(np.ones((1, 2))).shape
        (1, 1)
    """
    if encoding is not None:
        from nbexplain.frame_inputs import frame_model

        model_or_predict = frame_model(model_or_predict, encoding)
    f = as_predict_fn(model_or_predict)
    nf = getattr(model_or_predict, "n_features_in_", None)
    if isinstance(nf, (int, np.integer)) and int(nf) != n_features:
        raise ValueError(f"mismatched feature counts: X has {n_features} features, the model takes {int(nf)} (it was "
                         "fitted on that many); pass the same columns, in the same order")
    return checked_predict(f, model_or_predict, "the model")


def predict_chunked(f: PredictFn, stacked: np.ndarray) -> np.ndarray:
    """Call ``f`` on a large stack of rows in few big chunks; returns ``(N, k)``.

    Example:
        >>> predict_chunked(lambda X: X.sum(axis=1, keepdims=True), np.ones((5, 2))).ravel().tolist()
        [2.0, 2.0, 2.0, 2.0, 2.0]
    """
    rows = max(1, CHUNK_VALUES // max(1, stacked.shape[1]))
    outs = [np.asarray(f(stacked[s:s + rows]), dtype=np.float64) for s in range(0, len(stacked), rows)]
    k = {o.shape[1] for o in outs}
    if len(k) != 1:
        raise ValueError(f"the model returned a different number of outputs per call ({sorted(k)}); "
                         "it must return (n, k) with a fixed k")
    return np.concatenate(outs, axis=0)


def default_output(target: Any, outputs: np.ndarray) -> int:
    """The output column to explain: 0 for one output, 1 (positive class) for two, else the
    output with the largest mean; an int ``target`` is range-checked.

    Example:
        >>> default_output(None, np.zeros((3, 2)))
        1
    """
    k = outputs.shape[1]
    if target is None:
        return 0 if k == 1 else 1 if k == 2 else int(np.argmax(outputs.mean(axis=0)))
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"target must be an int output index or None here, got {target!r}")
    if not 0 <= int(target) < k:
        raise ValueError(f"target {int(target)} is out of range: the model has {k} outputs, valid targets are 0..{k - 1}")
    return int(target)
