"""How much two attribution methods agree: rank correlation and top-k overlap (pure numpy).

Attributions of any shape are compared element by element after flattening (a C x H x W map
becomes C*H*W numbers). Pass ``reduce_channels=True`` to sum a 3-D (C, H, W) map over its first
axis first, so maps of methods that give one value per pixel and of methods that give one per
channel and pixel can be compared (both become H*W numbers).

- :func:`rank_correlation`: Spearman's rho with average ranks for ties (as
  ``scipy.stats.spearmanr``); pairs where either value is NaN are dropped; a constant vector
  gives NaN with a reason instead of an error.
- :func:`top_k_overlap`: how many of the k largest ``|value|`` positions the two share.
- :func:`agreement` -> :class:`AgreementReport`: both, for every pair of methods.

Example:
    >>> import numpy as np
    >>> a, b = np.array([0.1, 0.5, -0.9, 0.0]), np.array([0.2, -0.1, -1.0, 0.4])
    >>> round(rank_correlation(a, b), 3)
    0.2
    >>> top_k_overlap(a, b, k=2)
    1
    >>> agreement({"saliency": a, "shap": b}, k=2).summary()
    ['saliency vs shap: rank corr 0.20, top-2 overlap 1/2']
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.models import to_numpy

__all__ = ["AgreementReport", "agreement", "average_ranks", "rank_correlation", "spearman", "top_k_overlap"]


def _flat(name: str, a: Any, reduce_channels: bool) -> np.ndarray:
    arr = to_numpy(a)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}; pass the attribution values")
    arr = arr.astype(np.float64)
    if reduce_channels and arr.ndim == 3:
        arr = arr.sum(axis=0)
    return arr.reshape(-1)


def _pair(a: Any, b: Any, reduce_channels: bool) -> tuple[np.ndarray, np.ndarray]:
    fa, fb = _flat("a", a, reduce_channels), _flat("b", b, reduce_channels)
    if fa.size != fb.size:
        raise ValueError(
            f"the attributions have {fa.size} and {fb.size} values after flattening; compare maps of "
            "the same shape (or pass reduce_channels=True to sum C x H x W maps over channels)"
        )
    return fa, fb


def average_ranks(x: Any) -> np.ndarray:
    """Ranks 1..n of ``x``, ties sharing the average of their ranks (``scipy.stats.rankdata``).

    Example:
        >>> average_ranks([10.0, 20.0, 10.0, 5.0]).tolist()
        [2.5, 4.0, 2.5, 1.0]
    """
    v = np.asarray(x, dtype=np.float64).reshape(-1)
    order = np.argsort(v, kind="mergesort")
    sorted_v = v[order]
    starts = np.r_[True, sorted_v[1:] != sorted_v[:-1]]  # first index of each run of ties
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    ends = np.r_[first[1:], v.size]  # one past the last index of each run
    mean_rank = (first + ends + 1) / 2.0  # mean of ranks first+1 .. end
    ranks = np.empty(v.size)
    ranks[order] = mean_rank[group]
    return ranks


def spearman(a: Any, b: Any, *, reduce_channels: bool = False) -> tuple[float, str]:
    """Spearman's rho of two attributions and ``""``, or NaN and the reason it is undefined.

    Example:
        >>> spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
        (nan, 'a is constant (all 3 values equal): no ranking to correlate')
    """
    fa, fb = _pair(a, b, reduce_channels)
    keep = ~(np.isnan(fa) | np.isnan(fb))
    fa, fb = fa[keep], fb[keep]
    if fa.size < 2:
        return float("nan"), f"only {fa.size} value pair(s) without NaN: need at least 2"
    for name, v in (("a", fa), ("b", fb)):
        if np.all(v == v[0]):
            return float("nan"), f"{name} is constant (all {v.size} values equal): no ranking to correlate"
    ra, rb = average_ranks(fa), average_ranks(fb)
    ra -= ra.mean()
    rb -= rb.mean()
    rho = float(np.dot(ra, rb) / np.sqrt(np.dot(ra, ra) * np.dot(rb, rb)))
    return float(np.clip(rho, -1.0, 1.0)), ""


def rank_correlation(a: Any, b: Any, *, reduce_channels: bool = False) -> float:
    """Spearman's rank correlation of two attributions, flattened; NaN-safe.

    Pairs where either value is NaN are dropped. Returns NaN when fewer than two pairs remain
    or one side is constant (:func:`spearman` also gives the reason).

    Example:
        >>> rank_correlation([1.0, 2.0, np.nan, 4.0], [2.0, 4.0, 0.0, 8.0])
        1.0
    """
    return spearman(a, b, reduce_channels=reduce_channels)[0]


def _top_k(v: np.ndarray, k: int) -> set[int]:
    mag = np.where(np.isnan(v), -np.inf, np.abs(v))
    order = np.argsort(-mag, kind="stable")  # ties: the lower index first
    return {int(i) for i in order[:k] if mag[i] > -np.inf}


def top_k_overlap(a: Any, b: Any, k: int = 5, *, reduce_channels: bool = False) -> int:
    """How many positions the ``k`` largest ``|a|`` and the ``k`` largest ``|b|`` share (0..k).

    Flattened first; NaN values never count as large; ties in magnitude go to the lower index.
    ``k`` larger than the number of values is clipped to it.

    Example:
        >>> top_k_overlap([3.0, -2.0, 0.1, 0.0], [0.0, 5.0, -4.0, 0.2], k=2)
        1
    """
    if int(k) < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    fa, fb = _pair(a, b, reduce_channels)
    kk = min(int(k), fa.size)
    return len(_top_k(fa, kk) & _top_k(fb, kk))


@dataclass
class AgreementReport:
    """Pairwise agreement of several methods' attributions for one sample.

    ``correlation[i, j]`` is the rank correlation of ``methods[i]`` and ``methods[j]`` (1 on the
    diagonal, NaN where undefined: see ``reasons``); ``overlap[i, j]`` the top-``k`` overlap.
    """

    methods: list[str]
    correlation: np.ndarray
    overlap: np.ndarray
    k: int
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)

    def pairs(self) -> list[tuple[str, str, float, int]]:
        """``(a, b, rank corr, overlap)`` for each pair, in method order.

        Example:
            >>> agreement({"x": [1.0, 2.0], "y": [2.0, 1.0]}, k=1).pairs()
            [('x', 'y', -1.0, 0)]
        """
        return [
            (a, b, float(self.correlation[i, j]), int(self.overlap[i, j]))
            for (i, a), (j, b) in itertools.combinations(enumerate(self.methods), 2)
        ]

    def summary(self) -> list[str]:
        """One text row per pair: ``"A vs B: rank corr 0.83, top-5 overlap 4/5"``.

        An undefined correlation reads ``"rank corr n/a (<reason>)"``.

        Example:
            >>> agreement({"x": [1.0, 1.0], "y": [2.0, 1.0]}, k=1).summary()
            ['x vs y: rank corr n/a (x is constant (all 2 values equal): no ranking to correlate), top-1 overlap 1/1']
        """
        rows = []
        for a, b, rho, ov in self.pairs():
            corr = f"{rho:.2f}" if np.isfinite(rho) else f"n/a ({self.reasons.get((a, b), 'undefined')})"
            rows.append(f"{a} vs {b}: rank corr {corr}, top-{self.k} overlap {ov}/{self.k}")
        return rows


def agreement(values: dict[str, Any], k: int = 5, *, reduce_channels: bool = False) -> AgreementReport:
    """Rank correlation and top-``k`` overlap for every pair of methods in ``values``.

    ``values`` maps a method name to its attributions (all the same shape after flattening, or
    after the channel sum with ``reduce_channels=True``). ``k`` is clipped to the number of
    values, so the report's ``k`` may be smaller than asked.

    Example:
        >>> r = agreement({"a": [1.0, 2.0, 3.0], "b": [1.0, 3.0, 2.0], "c": [3.0, 2.0, 1.0]}, k=1)
        >>> r.correlation.round(2).tolist()
        [[1.0, 0.5, -1.0], [0.5, 1.0, -0.5], [-1.0, -0.5, 1.0]]
        >>> r.overlap.tolist()
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    """
    if not isinstance(values, dict) or not values:
        raise ValueError("values must be a non-empty dict {method name: attributions}")
    methods = [str(m) for m in values]
    flat = [_flat(f"values[{m!r}]", v, reduce_channels) for m, v in zip(methods, values.values(), strict=True)]
    sizes = {f.size for f in flat}
    if len(sizes) > 1:
        shapes = ", ".join(f"{m}: {f.size}" for m, f in zip(methods, flat, strict=True))
        raise ValueError(
            f"the methods' attributions differ in size after flattening ({shapes}); pass maps of one "
            "shape (reduce_channels=True sums C x H x W maps over channels)"
        )
    if int(k) < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    kk = min(int(k), max(sizes.pop(), 1))
    n = len(methods)
    corr = np.eye(n)
    overlap = np.zeros((n, n), dtype=np.int64)
    reasons: dict[tuple[str, str], str] = {}
    for i in range(n):
        overlap[i, i] = len(_top_k(flat[i], kk))
        for j in range(i + 1, n):
            rho, why = spearman(flat[i], flat[j])
            corr[i, j] = corr[j, i] = rho
            if why:
                reasons[(methods[i], methods[j])] = why.replace("a is", f"{methods[i]} is").replace(
                    "b is", f"{methods[j]} is"
                )
            overlap[i, j] = overlap[j, i] = top_k_overlap(flat[i], flat[j], kk)
    return AgreementReport(methods, corr, overlap, kk, reasons)
