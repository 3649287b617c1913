"""Coalitions for KernelSHAP (all of them, or a paired Shapley-kernel sample), players and background.

Two pure numpy pieces used by :class:`nbexplain.explainers.kernel_shap.KernelShap`:

- :func:`all_coalitions` and :func:`shapley_from_values`: every subset of ``M`` players and the
  Shapley formula ``phi_i = sum_S |S|!(M-|S|-1)!/M! (v(S+i) - v(S))``. The formula is used rather than
  a weighted least-squares solve over all coalitions: its weights are positive and bounded, so there
  is no ill-conditioned normal matrix and no "infinite" weight for the empty and full coalitions;
  efficiency (sum phi = v(full) - v(empty)) holds by telescoping, to float rounding.
- :func:`sample_coalitions` and :func:`solve_kernel`: shap's KernelExplainer scheme, batched. Sizes
  ``s`` and ``M - s`` are taken as a pair; a pair whose kernel share of the budget covers all its
  coalitions is enumerated (from the ends, ``s = 1`` first), the rest are drawn with sizes in
  proportion to the kernel weight (stratified: counts per size rounded, not drawn; within a size,
  blocks of random permutations), each paired with its complement (antithetic). The weighted
  least squares is solved with the efficiency constraint eliminated exactly (last player's value =
  total - the others), for all explained samples at once (one design matrix).

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
from math import comb, factorial

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


def sample_coalitions(m: int, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coalitions ``(C, m)`` bool, their kernel weights ``(C,)`` and a half label ``(C,)`` (-1: enumerated).

    Duplicate draws are merged (weights added), so ``C <= n_samples``. The half label (0 or 1,
    by pair) lets the caller solve on each half of the random part to estimate the error.

    Example:
        >>> Z, w, half = sample_coalitions(5, 40, np.random.default_rng(0))
        >>> bool(abs(w.sum() - 1) < 1e-12), Z.shape[1]
        (True, 5)
    """
    shares = kernel_size_shares(m)
    pair_share = {s: shares[s - 1] + (shares[m - s - 1] if s != m - s else 0.0) for s in range(1, m // 2 + 1)}
    budget, left = float(n_samples), 1.0
    rows: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    done = 0
    for s in range(1, m // 2 + 1):
        count = comb(m, s) * (1 if s == m - s else 2)
        if budget * pair_share[s] / left < count - 1e-9:
            break
        for size in {s, m - s}:
            Zs = _subsets_of_size(m, size)
            rows.append(Zs)
            weights.append(np.full(len(Zs), shares[size - 1] / len(Zs)))
        budget -= count
        left -= pair_share[s]
        done = s
    enumerated = np.concatenate(rows) if rows else np.zeros((0, m), dtype=bool)
    w_enum = np.concatenate(weights) if weights else np.zeros(0)
    n_pairs = int(budget) // 2
    if n_pairs == 0 or left <= 1e-12:
        return enumerated, w_enum, np.full(len(enumerated), -1)
    Zr, w_half = _stratified_draws(m, [(s, pair_share[s]) for s in range(done + 1, m // 2 + 1)], n_pairs, rng)
    sampled = np.concatenate([Zr, ~Zr])
    half = np.concatenate([np.arange(len(Zr)) % 2] * 2)
    w_s = np.concatenate([w_half, w_half])
    # merge duplicates within each half (identical coalitions need one model evaluation)
    key = np.concatenate([np.packbits(sampled, axis=1), half[:, None].astype(np.uint8)], axis=1)
    uniq, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    w_u = np.bincount(inverse.ravel(), weights=w_s, minlength=len(uniq))
    return (np.concatenate([enumerated, sampled[first]]), np.concatenate([w_enum, w_u]),
            np.concatenate([np.full(len(enumerated), -1), half[first]]))


def _stratified_draws(m: int, pairs: list[tuple[int, float]], n_pairs: int,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` coalitions (each stands for itself and its complement) and their weights.

    Pair counts per size are the kernel shares rounded (largest remainder, so sizes are stratified
    rather than drawn); within a size, coalitions are consecutive blocks of random permutations,
    so each is a uniform random subset and every feature appears about equally often.
    """
    share = np.array([sh for _, sh in pairs])
    exact = n_pairs * share / share.sum()
    counts = np.floor(exact).astype(np.int64)
    rest = n_pairs - counts.sum()
    if rest > 0:
        frac = exact - counts + rng.random(len(counts)) * 1e-9
        counts[np.argsort(-frac)[:rest]] += 1
    rows, weights = [], []
    for (size, sh), c in zip(pairs, counts, strict=True):
        if c == 0:
            continue
        per_perm = m // size
        perms = np.argsort(rng.random((-(-c // per_perm), m)), axis=1)
        blocks = perms[:, : per_perm * size].reshape(-1, size)[:c]
        Z = np.zeros((c, m), dtype=bool)
        np.put_along_axis(Z, blocks, True, axis=1)
        rows.append(Z)
        weights.append(np.full(c, sh / share[counts > 0].sum() * share.sum() / (2 * c)))
    order = rng.permutation(int(counts.sum()))  # mixes sizes across the two halves
    return np.concatenate(rows)[order], np.concatenate(weights)[order]


def _subsets_of_size(m: int, s: int) -> np.ndarray:
    from itertools import combinations

    combos = np.array(list(combinations(range(m), s)), dtype=np.int64).reshape(-1, s)
    Z = np.zeros((len(combos), m), dtype=bool)
    np.put_along_axis(Z, combos, True, axis=1)
    return Z


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
