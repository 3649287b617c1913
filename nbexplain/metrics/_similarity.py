"""How similar two attribution maps are: the measures of the sanity check (:mod:`nbexplain.metrics.sanity`).

Every measure compares two maps of one sample, laid out by :func:`as_maps` as 2-D magnitude
maps: ``|attribution|`` summed over the channels of an image, a row ``(1, F)`` for features or
tokens. Then, with ``a`` the original map and ``b`` the map after randomisation:

- ``"spearman"``: Spearman's rank correlation of ``a`` and ``b`` over all positions (ties get
  their average rank, as ``scipy.stats.spearmanr``). Two constant maps count as identical (1);
  one constant map against a varying one shares no ranking (0).
- ``"ssim"``: the structural similarity of Wang et al. (2004) with the standard Gaussian window
  (sigma 1.5, 11 x 11, ``K1 = 0.01``, ``K2 = 0.03``, population covariances, the mean over the
  positions a whole window covers), on both maps rescaled to [0, 1] per map (``data_range = 1``).
  This is ``skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=1)``. Maps smaller than 11 pixels on a side get the
  largest odd window that fits, with sigma scaled alike (``1.5 * window / 11``); maps with a side
  under 3 pixels (features, tokens) have no SSIM: ``nan``.
- ``"top_k"``: the fraction of the ``k`` largest positions of ``a`` that are also among the
  ``k`` largest of ``b`` (ties broken by position); ``k`` an int, or a fraction of the positions.

Example:
    >>> import numpy as np
    >>> a = np.arange(16.0).reshape(4, 4)
    >>> round(spearman(a, a ** 2), 6), round(ssim(a, a), 6), top_k_intersection(a, a[::-1], 4)
    (1.0, 1.0, 0.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The names of the similarity measures.
MEASURES = ("spearman", "ssim", "top_k")
#: SSIM constants (Wang et al. 2004).
SSIM_K1, SSIM_K2, SSIM_SIGMA, SSIM_WINDOW = 0.01, 0.03, 1.5, 11


class MeasureError(ValueError):
    """An unknown similarity measure, or a ``top_k`` that selects nothing."""


def check_measures(measures: Any) -> tuple[str, ...]:
    """``measures`` (one name or several) as a tuple of known names; :class:`MeasureError` otherwise.

    Example:
        >>> check_measures("ssim"), check_measures(["spearman", "top_k"])
        (('ssim',), ('spearman', 'top_k'))
    """
    names = (measures,) if isinstance(measures, str) else tuple(measures)
    bad = [m for m in names if m not in MEASURES]
    if bad or not names:
        raise MeasureError(f"unknown similarity measure(s) {bad or names!r}; choose from {list(MEASURES)}")
    return names


def as_maps(values: Any, layout: str | None = None) -> np.ndarray:
    """Attributions ``(n, ...)`` as float64 magnitude maps ``(n, H, W)``.

    ``layout`` (``Explanation.layout``, or None to go by rank): ``"CHW"`` (and 3-D values) sums
    ``|a|`` over the channel axis, ``"HWC"`` over the last; ``"HW"`` takes ``|a|``; features and
    tokens (2-D values ``(n, F)``) become rows ``(n, 1, F)``. Anything of higher rank (a layer's
    activations) is flattened to a row.

    Example:
        >>> as_maps(np.ones((2, 3, 4, 5))).shape, as_maps(-np.ones((2, 6)))[0].tolist()
        ((2, 4, 5), [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    """
    v = np.abs(np.asarray(values, dtype=np.float64))
    if v.ndim < 2:
        raise ValueError(f"attributions must be (n, ...), got shape {v.shape}")
    if layout == "HWC" and v.ndim == 4:
        return v.sum(axis=-1)
    if v.ndim == 4 and layout in (None, "CHW"):
        return v.sum(axis=1)
    if v.ndim == 3 and layout in (None, "HW"):
        return v
    return v.reshape(len(v), 1, -1)


def spearman(a: Any, b: Any) -> float:
    """Spearman's rank correlation of two maps (any equal shapes), average ranks for ties.

    Example:
        >>> spearman([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]), spearman([1.0, 1.0], [1.0, 1.0])
        (-1.0, 1.0)
    """
    from scipy.stats import rankdata  # scipy comes with scikit-learn

    x, y = np.ravel(np.asarray(a, dtype=np.float64)), np.ravel(np.asarray(b, dtype=np.float64))
    if x.shape != y.shape:
        raise ValueError(f"maps of different sizes: {np.shape(a)} and {np.shape(b)}")
    cx, cy = np.ptp(x) == 0, np.ptp(y) == 0
    if cx or cy:
        return 1.0 if cx and cy else 0.0
    rx, ry = rankdata(x), rankdata(y)
    rx -= rx.mean()
    ry -= ry.mean()
    return float(np.clip((rx @ ry) / math.sqrt((rx @ rx) * (ry @ ry)), -1.0, 1.0))


def unit_range(m: np.ndarray) -> np.ndarray:
    """``m`` rescaled to [0, 1] (min to 0, max to 1); a constant map becomes zeros.

    Example:
        >>> unit_range(np.array([2.0, 4.0, 3.0])).tolist()
        [0.0, 1.0, 0.5]
    """
    m = np.asarray(m, dtype=np.float64)
    lo, span = m.min(), np.ptp(m)
    return np.zeros_like(m) if span == 0 else (m - lo) / span


def _gaussian_filter(m: np.ndarray, sigma: float, radius: int) -> np.ndarray:
    """Separable Gaussian filter over the last two axes, symmetric edges (as
    ``scipy.ndimage.gaussian_filter(mode="reflect", truncate=3.5)``)."""
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 * (t / sigma) ** 2)
    w /= w.sum()
    pad = [(0, 0)] * (m.ndim - 2) + [(radius, radius), (radius, radius)]
    p = np.pad(m, pad, mode="symmetric")
    h, wd = m.shape[-2:]
    rows = sum(w[i] * p[..., i:i + h, :] for i in range(2 * radius + 1))
    return sum(w[i] * rows[..., i:i + wd] for i in range(2 * radius + 1))


def ssim_window(height: int, width: int) -> tuple[int, float] | None:
    """``(window, sigma)`` of the SSIM for a map of this size; None when a side is under 3 pixels.

    Example:
        >>> ssim_window(64, 64), ssim_window(8, 8)[0], ssim_window(1, 30)
        ((11, 1.5), 7, None)
    """
    side = min(height, width, SSIM_WINDOW)
    if side < 3:
        return None
    win = side if side % 2 else side - 1
    return win, SSIM_SIGMA * win / SSIM_WINDOW


def ssim(a: Any, b: Any) -> float:
    """Gaussian-window SSIM of two 2-D maps, each first rescaled to [0, 1] (see the module docstring).

    Example:
        >>> a = np.outer(np.arange(12.0), np.ones(12))
        >>> round(ssim(a, a), 6), ssim(a, a.T) < 0.5, math.isnan(ssim(np.ones((1, 5)), np.ones((1, 5))))
        (1.0, True, True)
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"SSIM needs two 2-D maps of one shape, got {x.shape} and {y.shape}")
    return float(ssim_batch(x[None], y[None])[0])


def _unit_range_batch(m: np.ndarray) -> np.ndarray:
    lo = m.min(axis=(-2, -1), keepdims=True)
    span = m.max(axis=(-2, -1), keepdims=True) - lo
    return np.where(span == 0, 0.0, (m - lo) / np.where(span == 0, 1.0, span))


def ssim_batch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`ssim` of ``a[i]`` and ``b[i]`` for maps ``(n, H, W)``, in one pass.

    Example:
        >>> m = np.random.default_rng(1).random((3, 9, 9))
        >>> ssim_batch(m, m).round(6).tolist()
        [1.0, 1.0, 1.0]
    """
    shape = ssim_window(*a.shape[-2:])
    if shape is None:
        return np.full(len(a), np.nan)
    win, sigma = shape
    r = win // 2
    x, y = _unit_range_batch(np.asarray(a, dtype=np.float64)), _unit_range_batch(np.asarray(b, dtype=np.float64))
    mx, my = _gaussian_filter(x, sigma, r), _gaussian_filter(y, sigma, r)
    vx = _gaussian_filter(x * x, sigma, r) - mx * mx
    vy = _gaussian_filter(y * y, sigma, r) - my * my
    cxy = _gaussian_filter(x * y, sigma, r) - mx * my
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s[:, r:s.shape[1] - r, r:s.shape[2] - r].mean(axis=(1, 2))


def top_k_count(size: int, top_k: int | float) -> int:
    """How many positions ``top_k`` selects out of ``size`` (a fraction rounds up, at least 1).

    Example:
        >>> top_k_count(64, 0.1), top_k_count(64, 5), top_k_count(3, 10)
        (7, 5, 3)
    """
    if isinstance(top_k, float):
        return max(1, min(size, math.ceil(top_k * size)))
    return max(1, min(size, int(top_k)))


def top_k_intersection(a: Any, b: Any, top_k: int | float) -> float:
    """Fraction of the ``k`` largest positions of ``a`` that are among the ``k`` largest of ``b``.

    Example:
        >>> top_k_intersection([5.0, 4.0, 0.0, 1.0], [5.0, 0.0, 4.0, 1.0], 2)
        0.5
    """
    x, y = np.ravel(np.asarray(a, dtype=np.float64)), np.ravel(np.asarray(b, dtype=np.float64))
    k = top_k_count(x.size, top_k)
    ta = np.argsort(-x, kind="stable")[:k]
    tb = np.argsort(-y, kind="stable")[:k]
    return len(np.intersect1d(ta, tb)) / k


def similarities(measure: str, first: np.ndarray, second: np.ndarray, top_k: int | float) -> np.ndarray:
    """``measure`` between ``first[i]`` and ``second[i]`` for each sample (maps from :func:`as_maps`).

    Example:
        >>> m = np.random.default_rng(0).random((2, 8, 8))
        >>> similarities("spearman", m, m, 0.1).tolist()
        [1.0, 1.0]
    """
    if measure == "spearman":
        return np.array([spearman(a, b) for a, b in zip(first, second, strict=True)])
    if measure == "ssim":
        return ssim_batch(first, second)
    if measure == "top_k":
        return np.array([top_k_intersection(a, b, top_k) for a, b in zip(first, second, strict=True)])
    check_measures(measure)
    raise AssertionError("unreachable")


def downsample(maps: np.ndarray, max_size: int) -> np.ndarray:
    """Maps ``(..., H, W)`` averaged over ``k x k`` blocks, ``k = ceil(max(H, W) / max_size)``
    (the rule of :func:`nbexplain.anatomy.activation_maps`), as float32.

    Example:
        >>> downsample(np.ones((2, 3, 130, 64)), 64).shape
        (2, 3, 44, 22)
    """
    import torch
    from torch.nn import functional as F

    h, w = maps.shape[-2:]
    k = math.ceil(max(h, w) / max_size)
    if k <= 1:
        return np.asarray(maps, dtype=np.float32)
    t = torch.from_numpy(np.ascontiguousarray(maps, dtype=np.float32)).reshape(-1, 1, h, w)
    small = F.adaptive_avg_pool2d(t, (math.ceil(h / k), math.ceil(w / k)))
    return small.reshape(*maps.shape[:-2], *small.shape[-2:]).numpy()
