"""Coalitions for KernelSHAP (all of them; the kernel and its solve), players and background.

Pure numpy pieces used by :class:`nbexplain.explainers.perturbation.kernel_shap.KernelShap`:

- :func:`all_coalitions` and :func:`shapley_from_values`: every subset of ``M`` players and the
  Shapley formula ``phi_i = sum_S |S|!(M-|S|-1)!/M! (v(S+i) - v(S))``. The formula is used rather than
  a weighted least-squares solve over all coalitions: its weights are positive and bounded, so there
  is no ill-conditioned normal matrix and no "infinite" weight for the empty and full coalitions;
  efficiency (sum phi = v(full) - v(empty)) holds by telescoping, to float rounding.
- :func:`kernel_size_shares` and :func:`solve_kernel`: the Shapley kernel's weight per coalition
  size, and the kernel-weighted least squares solved with the efficiency constraint eliminated
  exactly (last player's value = total - the others), for all explained samples at once (one
  design matrix). The paired, stratified sample itself, its standard errors and the adaptive
  rounds are in :mod:`nbexplain.explainers.perturbation._kernel_sample`.

Example:
    >>> import numpy as np
    >>> Z = all_coalitions(2); Z.astype(int).tolist()
    [[0, 0], [1, 0], [0, 1], [1, 1]]
    >>> v = np.array([[0.0, 1.0, 2.0, 4.0]])  # v(S) for S = {}, {0}, {1}, {0, 1}
    >>> shapley_from_values(v, 2).tolist()
    [[1.5, 2.5]]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from math import factorial

import numpy as np

from nbexplain.validate import check_feature_names

BIG_BACKGROUND = 200


def all_coalitions(m: int) -> np.ndarray:
    """All ``2**m`` coalitions as a bool matrix; row ``c`` has player ``i`` present iff bit ``i`` of ``c``.

    Example:
        >>> all_coalitions(3).shape
        (8, 3)
    """
    idx = np.arange(2 ** m, dtype=np.int64)
    return ((idx[:, None] >> np.arange(m)) & 1).astype(bool)


def shapley_from_values(v: np.ndarray, m: int) -> np.ndarray:
    """Exact Shapley values ``(n, m)`` from ``v`` ``(n, 2**m)`` ordered as :func:`all_coalitions`.

    Example:
        >>> shapley_from_values(np.array([[0.0, 1.0]]), 1).tolist()
        [[1.0]]
    """
    idx = np.arange(2 ** m, dtype=np.int64)
    size = np.zeros(2 ** m, dtype=np.int64)
    for i in range(m):
        size += (idx >> i) & 1
    w = np.array([factorial(s) * factorial(m - s - 1) / factorial(m) for s in range(m)])
    phi = np.empty((v.shape[0], m))
    for i in range(m):
        without = idx[((idx >> i) & 1) == 0]
        phi[:, i] = (v[:, without | (1 << i)] - v[:, without]) @ w[size[without]]
    return phi


def kernel_size_shares(m: int) -> np.ndarray:
    """Share of the Shapley kernel's total weight on each coalition size ``1..m-1`` (index ``s-1``).

    Example:
        >>> kernel_size_shares(4).round(3).tolist()
        [0.364, 0.273, 0.364]
    """
    s = np.arange(1, m)
    w = (m - 1) / (s * (m - s))
    return w / w.sum()


def solve_kernel(Z: np.ndarray, w: np.ndarray, v: np.ndarray, v0: np.ndarray, v1: np.ndarray) -> np.ndarray:
    """Kernel-weighted least squares with ``sum(phi) = v1 - v0`` exactly; ``(n, m)`` for ``v`` ``(n, C)``.

    The last player's value is eliminated (``phi_m = v1 - v0 - sum_{i<m} phi_i``), as in shap.

    Example:
        >>> Z = all_coalitions(2)[1:3]; v = np.array([[1.0, 2.0]])
        >>> solve_kernel(Z, np.ones(2), v, np.zeros(1), np.array([4.0])).round(6).tolist()
        [[1.5, 2.5]]
    """
    Zf = Z.astype(np.float64)
    total = v1 - v0  # (n,)
    y = v - v0[:, None] - np.outer(total, Zf[:, -1])  # (n, C)
    A = Zf[:, :-1] - Zf[:, -1:]
    sw = np.sqrt(w)[:, None]
    beta = np.linalg.lstsq(A * sw, (y.T * sw), rcond=None)[0].T  # (n, m-1)
    return np.concatenate([beta, (total - beta.sum(axis=1))[:, None]], axis=1)


# -- players (features or groups) and the background ----------------------------------
def check_groups(groups: Sequence[Sequence[int]] | None, F: int) -> list[np.ndarray]:
    """The players as index arrays: one per feature, or the given groups checked to partition ``0..F-1``."""
    if groups is None:
        return [np.array([i]) for i in range(F)]
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__iter__"):
        raise TypeError(f"groups must be a list of feature-index lists, got {type(groups).__name__} {groups!r}")
    try:
        out = [np.asarray(g).reshape(-1) for g in groups]
    except TypeError as exc:
        raise TypeError(f"groups must be a list of feature-index lists: {exc}") from exc
    for g in out:
        if g.size and (g.dtype.kind not in "iu"):
            raise TypeError(f"groups hold {g.tolist()[:5]} (dtype {g.dtype}); a group is a list of int column indices")
    out = [g.astype(np.int64) for g in out]
    if not out or any(len(g) == 0 for g in out):
        raise ValueError("groups must be a non-empty list of non-empty index lists (one per player)")
    flat = np.concatenate(out)
    if flat.min() < 0 or flat.max() >= F:
        raise ValueError(f"groups hold feature index {int(flat[(flat < 0) | (flat >= F)][0])} but the data has {F} features (0..{F - 1})")
    if len(flat) != F or len(np.unique(flat)) != F:
        missing = sorted(set(range(F)) - set(flat.tolist()))
        raise ValueError(f"groups must partition the {F} features (each index in exactly one group); "
                         + (f"missing {missing[:10]}" if missing else "some index appears twice"))
    return out


def player_names(names: Sequence[str] | None, groups: list[np.ndarray], F: int, grouped: bool) -> list[str] | None:
    """One name per player: as given, joined member names for groups, ``group g``, or None."""
    if names is None:
        return [f"group {g}" for g in range(len(groups))] if grouped else None
    names = [str(s) for s in names]
    if len(names) == len(groups):
        return check_feature_names(names, len(groups), what="the data (or groups)")
    if grouped and len(names) == F:
        return ["+".join(names[i] for i in g) for g in groups]
    raise ValueError(f"got {len(names)} feature_names for {F} features and {len(groups)} players; "
                     "pass one name per feature or, with groups, one per group")


def summarise_background(bg: np.ndarray, size: int | None, how: str, seed: int,
                         categorical: Sequence[int] | None = None,
                         medoids: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Background rows and weights: all (warning above 200 rows), a seeded sample, or weighted k-means centres.

    With ``categorical`` columns (category codes) or missing values (NaN), a centre would average
    codes or lose the NaN: k-means then runs on a numeric design (categories one-hot, NaN at the
    column mean, columns standardised) and each cluster is stood for by its medoid, the real row
    nearest its centre, weighted by the cluster's size (also with ``medoids=True``: a DataFrame's
    integer columns keep whole numbers).
    """
    m = len(bg)
    if size is None:
        if m > BIG_BACKGROUND:
            warnings.warn(f"background has {m} rows: every coalition is evaluated against each of them, so the "
                          f"cost grows {m}x; pass background_size=50..100 (k-means summary) to cut it",
                          UserWarning, stacklevel=3)
        return bg, np.full(m, 1.0 / m)
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"background_size must be a positive int or None, got {size!r}")
    if size >= m:
        return bg, np.full(m, 1.0 / m)
    if how == "sample":
        idx = np.random.default_rng(seed).choice(m, size=size, replace=False)
        return bg[np.sort(idx)], np.full(size, 1.0 / size)
    if how != "kmeans":
        raise ValueError(f"background_summary must be 'kmeans' or 'sample', got {how!r}")
    from sklearn.cluster import KMeans  # type: ignore[import-untyped]

    medoids = medoids or bool(categorical) or bool(np.isnan(bg).any())
    design = _kmeans_design(bg, list(categorical or [])) if medoids else bg
    km = KMeans(n_clusters=size, random_state=seed, n_init=3).fit(design)
    counts = np.bincount(km.labels_, minlength=size).astype(float)
    keep = counts > 0
    if not medoids:
        return km.cluster_centers_[keep].astype(np.float64), counts[keep] / counts.sum()
    d2 = ((design - km.cluster_centers_[km.labels_]) ** 2).sum(axis=1)
    rows = [int(np.flatnonzero(km.labels_ == c)[np.argmin(d2[km.labels_ == c])]) for c in np.flatnonzero(keep)]
    return bg[rows].astype(np.float64), counts[keep] / counts.sum()


def _kmeans_design(bg: np.ndarray, categorical: list[int]) -> np.ndarray:
    """Standardised numeric columns (NaN at the mean) beside one-hot categories, for k-means distances."""
    parts = []
    for j in range(bg.shape[1]):
        col = bg[:, j]
        if j in categorical:
            parts.append((col[:, None] == np.unique(col)[None, :]).astype(np.float64))
            continue
        ok = ~np.isnan(col)
        mean = col[ok].mean() if ok.any() else 0.0
        std = col[ok].std() if ok.sum() > 1 else 0.0
        filled = np.where(ok, col, mean)
        parts.append(((filled - mean) / (std if std > 0 else 1.0))[:, None])
    return np.concatenate(parts, axis=1)
