"""Browse a data set by its predictions: filter samples (misclassified, by class, by confidence...).

Pure numpy, vectorised: filtering 100,000 samples takes a few milliseconds. The result is the
ascending ``int64`` indices of the matching samples, which the sample browser pages through.

Example:
    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    >>> filter_samples(P, [0, 0, 1], filter=SampleFilter(misclassified=True)).tolist()
    [1]
    >>> filter_samples(P, filter=SampleFilter(predicted_class=1, confidence=(0.7, 1.0))).tolist()
    [2]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = ["SampleFilter", "filter_samples", "nan_rows", "top_class"]

#: The confidence range that keeps every sample (no confidence condition).
FULL_RANGE = (0.0, 1.0)


@dataclass(frozen=True)
class SampleFilter:
    """Which samples to show; every condition that is set must hold (logical AND).

    - ``misclassified``: only samples whose predicted class differs from the label (needs ``y``;
      samples without a prediction, all-NaN probabilities, are left out).
    - ``true_class`` / ``predicted_class``: only samples of that label / prediction (``None``: any).
    - ``confidence``: ``(low, high)``, the predicted class' probability must lie in it (inclusive).
      The default ``(0.0, 1.0)`` sets no condition (so outputs slightly above 1 still show).
    - ``text``: case-insensitive substring of the sample's text (text data only; ``""``: any).
    - ``nan_only``: only rows holding a NaN or infinite feature.

    Example:
        >>> SampleFilter(true_class=2, confidence=(0.5, 1.0)).active
        True
        >>> SampleFilter().active
        False
        >>> SampleFilter(confidence=(0.9, 0.1))
        Traceback (most recent call last):
        ...
        ValueError: confidence must be (low, high) with 0 <= low <= high <= 1; got (0.9, 0.1)
    """

    misclassified: bool = False
    true_class: int | None = None
    predicted_class: int | None = None
    confidence: tuple[float, float] = FULL_RANGE
    text: str = ""
    nan_only: bool = False

    def __post_init__(self) -> None:
        for name in ("true_class", "predicted_class"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                    raise ValueError(f"{name} must be a class index (int >= 0) or None; got {value!r}")
                object.__setattr__(self, name, int(value))
        try:
            lo, hi = (float(v) for v in self.confidence)
        except (TypeError, ValueError):
            raise ValueError(f"confidence must be a pair (low, high) of floats; got {self.confidence!r}") from None
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(
                f"confidence must be (low, high) with 0 <= low <= high <= 1; got {tuple(self.confidence)!r}"
            )
        object.__setattr__(self, "confidence", (lo, hi))
        if not isinstance(self.text, str):
            raise ValueError(f"text must be a str; got {type(self.text).__name__}")
        object.__setattr__(self, "misclassified", bool(self.misclassified))
        object.__setattr__(self, "nan_only", bool(self.nan_only))

    @property
    def active(self) -> bool:
        """True when any condition is set (the filter drops something, or could).

        Example:
            >>> SampleFilter(text="good").active
            True
        """
        return self != SampleFilter()

    def replace(self, **changes: Any) -> SampleFilter:
        """A copy with some fields changed; an unknown field name raises ``TypeError``.

        Example:
            >>> SampleFilter(misclassified=True).replace(true_class=1)
            SampleFilter(misclassified=True, true_class=1, predicted_class=None, confidence=(0.0, 1.0), text='', nan_only=False)
        """
        names = [f.name for f in fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise TypeError(f"unknown filter field(s) {', '.join(map(repr, unknown))}; valid ones are: {', '.join(names)}")
        values = {name: getattr(self, name) for name in names}
        values.update(changes)
        return SampleFilter(**values)


def top_class(probabilities: Any) -> tuple[np.ndarray, np.ndarray]:
    """The predicted class (argmax, int64) and its probability (float64) of every sample.

    NaN entries are ignored; a row of only NaN predicts class 0 with confidence NaN.

    Example:
        >>> pred, conf = top_class([[0.2, 0.8], [np.nan, 0.3], [np.nan, np.nan]])
        >>> pred.tolist(), conf.tolist()
        ([1, 1, 0], [0.8, 0.3, nan])
    """
    P = _probabilities(probabilities)
    if P.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    nan = np.isnan(P)
    filled = np.where(nan, -np.inf, P) if nan.any() else P
    pred = np.argmax(filled, axis=1).astype(np.int64)
    conf = np.take_along_axis(P, pred[:, None], axis=1)[:, 0].astype(np.float64)
    return pred, conf


def nan_rows(X: Any) -> np.ndarray:
    """A bool per sample: True where the sample holds any NaN or +-inf value.

    ``X`` is ``(n, ...)`` numbers (a table, images); a 1-D ``X`` is one value per sample.

    Example:
        >>> nan_rows([[1.0, np.nan], [2.0, 3.0], [np.inf, 0.0]]).tolist()
        [True, False, True]
    """
    a = np.asarray(X)
    if a.ndim == 0:
        raise ValueError("X must be an array with one row per sample; got a scalar")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"X must hold numbers to look for NaN; got dtype {a.dtype}")
    if not np.issubdtype(a.dtype, np.inexact):
        return np.zeros(a.shape[0], dtype=bool)
    return ~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1)


def filter_samples(
    probabilities: Any,
    y: Any = None,
    *,
    texts: Sequence[str] | None = None,
    nan_rows: Any = None,
    filter: SampleFilter = SampleFilter(),
) -> np.ndarray:
    """The ascending ``int64`` indices of the samples that pass ``filter``.

    ``probabilities``: ``(n, K)`` predicted class probabilities; ``y``: ``(n,)`` labels as class
    indices ``0..K-1`` (needed for ``misclassified`` and ``true_class``); ``texts``: ``n``
    strings (needed for ``text``); ``nan_rows``: ``(n,)`` bools, see :func:`nan_rows` (needed
    for ``nan_only``).

    Example:
        >>> P = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
        >>> filter_samples(P, [0, 1, 1], filter=SampleFilter(true_class=1)).tolist()
        [1, 2]
        >>> filter_samples(P, texts=["Good", "bad", "so good"], filter=SampleFilter(text="GOOD")).tolist()
        [0, 2]
        >>> filter_samples(P, filter=SampleFilter(misclassified=True))
        Traceback (most recent call last):
        ...
        ValueError: the misclassified filter needs the labels: pass y=
    """
    if not isinstance(filter, SampleFilter):
        raise TypeError(f"filter must be a SampleFilter; got {type(filter).__name__}")
    pred, conf = top_class(probabilities)
    k = np.shape(probabilities)[1]
    labels = None if y is None else class_labels(y, len(pred), k)
    folded = None if texts is None else fold_texts(texts, len(pred))
    nan = None if nan_rows is None else _nan_flags(nan_rows, len(pred))
    return select(pred, conf, k, filter, y=labels, folded_texts=folded, nan=nan)


def select(
    pred: np.ndarray,
    conf: np.ndarray,
    n_classes: int,
    f: SampleFilter,
    *,
    y: np.ndarray | None = None,
    folded_texts: list[str] | None = None,
    nan: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`filter_samples` on prepared inputs (from :func:`top_class`, :func:`class_labels`,
    :func:`fold_texts`), for callers that filter the same data many times.

    Example:
        >>> pred, conf = top_class([[0.9, 0.1], [0.4, 0.6]])
        >>> select(pred, conf, 2, SampleFilter(predicted_class=1)).tolist()
        [1]
    """
    for name in ("true_class", "predicted_class"):
        value = getattr(f, name)
        if value is not None and value >= n_classes:
            raise ValueError(f"{name}={value} is out of range: there are {n_classes} classes (0..{n_classes - 1})")
    if (f.misclassified or f.true_class is not None) and y is None:
        what = "misclassified" if f.misclassified else "true_class"
        raise ValueError(f"the {what} filter needs the labels: pass y=")
    if f.text and folded_texts is None:
        raise ValueError("the text search needs the samples' texts: pass texts= (text data only)")
    if f.nan_only and nan is None:
        raise ValueError("the nan_only filter needs the NaN flags: pass nan_rows=nan_rows(X)")
    mask = np.ones(len(pred), dtype=bool)
    if f.misclassified and y is not None:
        mask &= (pred != y) & ~np.isnan(conf)  # a sample the model gave no prediction for is not "misclassified"
    if f.true_class is not None and y is not None:
        mask &= y == f.true_class
    if f.predicted_class is not None:
        mask &= pred == f.predicted_class
    if f.confidence != FULL_RANGE:
        lo, hi = f.confidence
        mask &= (conf >= lo) & (conf <= hi)
    if f.nan_only and nan is not None:
        mask &= nan
    idx = np.flatnonzero(mask)
    if f.text and folded_texts is not None:
        needle = f.text.casefold()
        idx = idx[np.fromiter((needle in folded_texts[i] for i in idx), dtype=bool, count=len(idx))]
    return idx.astype(np.int64, copy=False)


def class_labels(y: Any, n: int, n_classes: int) -> np.ndarray:
    """``y`` checked and converted to ``int64`` class indices ``0..n_classes-1``.

    Example:
        >>> class_labels([0.0, 1.0, 1.0], 3, 2).tolist()
        [0, 1, 1]
    """
    a = np.asarray(y)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"y must hold one label per sample ({n}); got shape {list(a.shape)}")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(
            f"y must hold class indices 0..{n_classes - 1}; got dtype {a.dtype} (map names to indices first)"
        )
    labels = a.astype(np.int64)
    if n and (not np.array_equal(labels, a) or labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"y must hold class indices 0..{n_classes - 1} (the columns of probabilities)")
    return labels


def fold_texts(texts: Sequence[str], n: int) -> list[str]:
    """The texts case-folded for case-insensitive search; checks there is one per sample.

    Example:
        >>> fold_texts(["Straße", "OK"], 2)
        ['strasse', 'ok']
    """
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings, one per sample; got one str")
    out = [str(t).casefold() for t in texts]
    if len(out) != n:
        raise ValueError(f"texts has {len(out)} entries but probabilities has {n} samples")
    return out


def _nan_flags(flags: Any, n: int) -> np.ndarray:
    a = np.asarray(flags)
    if a.shape != (n,):
        raise ValueError(f"nan_rows must be {n} bools (one per sample), e.g. nan_rows(X); got shape {list(a.shape)}")
    return a.astype(bool)


def _probabilities(probabilities: Any) -> np.ndarray:
    P = np.asarray(probabilities)
    if P.ndim != 2 or P.shape[1] == 0:
        raise ValueError(f"probabilities must be (n, K) with K >= 1 classes; got shape {list(P.shape)}")
    if not np.issubdtype(P.dtype, np.number):
        raise ValueError(f"probabilities must hold numbers; got dtype {P.dtype}")
    return P
