"""Paired, stratified coalition samples for KernelSHAP, the standard error of its values, and adaptive rounds.

The scheme is shap's KernelExplainer's, batched (used by :class:`~nbexplain.explainers.KernelShap`
and :class:`~nbexplain.explainers.TokenShap`). Sizes ``s`` and ``M - s`` are taken as a
pair; a pair whose kernel share of the planned budget covers all its coalitions is enumerated (from
the ends, ``s = 1`` first); the other sizes are *strata* drawn at random: pair counts per size in
proportion to the kernel weight (rounded, not drawn), within a size consecutive blocks of random
permutations (a block of ``M // s`` disjoint coalitions), each coalition paired with its complement
(antithetic). The values solve the kernel-weighted least squares with the efficiency constraint
exact (:func:`~nbexplain.explainers.perturbation._coalitions.solve_kernel`).

**Standard error** (:meth:`PairedSample.std_error`): the delta method (a sandwich estimate) for the
constrained least squares. The estimate solves ``H beta = g`` with ``H``, ``g`` sums over coalitions;
to first order ``beta_hat - beta = H^-1 sum_u psi_u``, ``psi_u`` the weighted residual score of a
sampling unit ``u`` (one permutation block: its coalitions and their complements). Units are
independent within a stratum and the stratum counts are fixed, so
``Var(phi_i) = sum_strata B/(B-1) sum_u (d_ui - n_u dbar_i)^2`` with ``d_u = H^-1 psi_u`` (and the
last player's ``-sum d_u``), the enumerated coalitions contributing nothing. Covert & Lee (2021,
"Improving KernelSHAP") estimate the same variance from the spread of estimates on independent
batches; the sandwich uses every unit at once (no batch solves, stable from the first round) and
respects the stratification. Exact values have standard error 0.

**Adaptive** (:func:`adaptive_values`): rounds of pairs from one seeded stream, the same for every
sample; a sample stops at the first round where every standard error is at most ``tol`` times its
largest ``|value|`` (Covert & Lee's convergence test, on the scale the bars are drawn at; they
divide by the range of the values), or at the cap. Rounds are small (128 coalitions or 20% of
those drawn, whichever is more), as a sample overshoots its need by up to one round. A sample's
values depend on its own rows and the seed only, never on the batch around it; each distinct
coalition is evaluated once per sample.

Example:
    >>> import numpy as np
    >>> s = PairedSample(6, budget=30); new = s.draw(8, np.random.default_rng(0))
    >>> Z, w = s.design()
    >>> Z.shape[1], bool(abs(w.sum() - 1) < 1e-12), s.n_pairs
    (6, True, 8)
"""

from __future__ import annotations

from collections.abc import Callable
from math import comb

import numpy as np

from nbexplain.explainers.perturbation._coalitions import kernel_size_shares, solve_kernel


class PairedSample:
    """Enumerated coalitions plus stratified random pairs, grown by :meth:`draw`; weights by :meth:`design`.

    ``budget``: the coalition budget the enumerated part is planned on (shap's rule: a size pair
    is enumerated when its kernel share of what is left covers every coalition in it).

    Example:
        >>> s = PairedSample(4, budget=100)  # 2**4 - 2 = 14 coalitions: every size is enumerated
        >>> s.enumerated.shape, s.n_strata
        ((14, 4), 0)
    """

    def __init__(self, m: int, budget: int) -> None:
        self.m = m
        shares = kernel_size_shares(m)
        pair_share = {s: shares[s - 1] + (shares[m - s - 1] if s != m - s else 0.0) for s in range(1, m // 2 + 1)}
        left, budget_left = 1.0, float(budget)
        rows: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        done = 0
        for s in range(1, m // 2 + 1):
            count = comb(m, s) * (1 if s == m - s else 2)
            if budget_left * pair_share[s] / left < count - 1e-9:
                break
            for size in sorted({s, m - s}):
                Zs = _subsets_of_size(m, size)
                rows.append(Zs)
                weights.append(np.full(len(Zs), shares[size - 1] / len(Zs)))
            budget_left -= count
            left -= pair_share[s]
            done = s
        self.enumerated = np.concatenate(rows) if rows else np.zeros((0, m), dtype=bool)
        self.w_enum = np.concatenate(weights) if weights else np.zeros(0)
        keep = left > 1e-12
        #: Sizes drawn at random (the smaller of each pair) and their kernel share of the weight.
        self.sizes = np.arange(done + 1, m // 2 + 1) if keep else np.zeros(0, np.int64)
        self.shares = np.array([pair_share[s] for s in self.sizes.tolist()])
        self.pairs = np.zeros((0, m), dtype=bool)  # one coalition per pair; its complement is implied
        self.stratum = np.zeros(0, np.int64)  # index into sizes
        self.unit = np.zeros(0, np.int64)  # sampling unit (permutation block), non-decreasing

    @property
    def n_strata(self) -> int:
        """Number of sizes drawn at random (0: everything is enumerated)."""
        return len(self.sizes)

    @property
    def n_pairs(self) -> int:
        """Pairs drawn so far."""
        return len(self.pairs)

    @property
    def n_coalitions(self) -> int:
        """Coalitions in the design (enumerated + 2 per pair, duplicates counted)."""
        return len(self.enumerated) + 2 * len(self.pairs)

    def draw(self, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        """Add ``n_pairs`` pairs, stratified by size; returns the new coalitions and their complements.

        Pair counts per size are the kernel shares rounded (largest remainder, ties broken at
        random); within a size, coalitions are consecutive blocks of random permutations, so each
        is a uniform random subset and every player appears about equally often.
        """
        if self.n_strata == 0 or n_pairs <= 0:
            return np.zeros((0, self.m), dtype=bool)
        exact = n_pairs * self.shares / self.shares.sum()
        counts = np.floor(exact).astype(np.int64)
        rest = n_pairs - int(counts.sum())
        if rest > 0:
            frac = exact - counts + rng.random(len(counts)) * 1e-9
            counts[np.argsort(-frac)[:rest]] += 1
        first_unit = int(self.unit[-1]) + 1 if len(self.unit) else 0
        rows, strata, units = [], [], []
        for k, (size, c) in enumerate(zip(self.sizes.tolist(), counts.tolist(), strict=True)):
            if c == 0:
                continue
            per_perm = self.m // size
            perms = np.argsort(rng.random((-(-c // per_perm), self.m)), axis=1)
            blocks = perms[:, : per_perm * size].reshape(-1, size)[:c]
            Z = np.zeros((c, self.m), dtype=bool)
            np.put_along_axis(Z, blocks, True, axis=1)
            rows.append(Z)
            strata.append(np.full(c, k))
            units.append(first_unit + np.arange(c) // per_perm)
            first_unit += -(-c // per_perm)
        new = np.concatenate(rows)
        self.pairs = np.concatenate([self.pairs, new])
        self.stratum = np.concatenate([self.stratum, *strata])
        self.unit = np.concatenate([self.unit, *units])
        return np.concatenate([new, ~new])

    def design(self) -> tuple[np.ndarray, np.ndarray]:
        """All coalitions ``(C, m)`` (enumerated, pairs, their complements) and their kernel weights ``(C,)``.

        A pair of stratum ``s`` weighs ``share_s / (2 N_s)`` per coalition (``N_s`` pairs drawn
        there); the shares of strata not drawn yet go to the others, so the weights sum to 1.
        """
        wp = self._pair_weights()
        return (np.concatenate([self.enumerated, self.pairs, ~self.pairs]),
                np.concatenate([self.w_enum, wp, wp]))

    def _pair_weights(self) -> np.ndarray:
        if not len(self.pairs):
            return np.zeros(0)
        count = np.bincount(self.stratum, minlength=self.n_strata)
        drawn = count > 0
        share = np.where(drawn, self.shares, 0.0) * self.shares.sum() / self.shares[drawn].sum()
        return share[self.stratum] / (2 * count[self.stratum])

    def std_error(self, v: np.ndarray, v0: np.ndarray, v1: np.ndarray, phi: np.ndarray) -> np.ndarray:
        """Standard error ``(n, m)`` of ``phi = solve_kernel(*design(), v, v0, v1)`` (see the module docstring).

        ``v`` ``(n, C)`` holds the coalition values in :meth:`design`'s order. NaN when only one
        stratum was drawn, with a single pair (no spread to measure); 0 with no random part.

        Example:
            >>> import numpy as np
            >>> s = PairedSample(8, budget=40); Z = s.draw(60, np.random.default_rng(1))
            >>> Zd, w = s.design(); f = lambda Z: Z @ np.arange(8.0) + Z[:, 0] * Z[:, 1] * Z[:, 2]
            >>> v = f(Zd.astype(float))[None]; phi = solve_kernel(Zd, w, v, np.zeros(1), f(np.ones((1, 8))))
            >>> se = s.std_error(v, np.zeros(1), f(np.ones((1, 8))), phi)
            >>> se.shape, bool((se > 0).all() and (se < 0.2).all())
            ((1, 8), True)
        """
        n, m = phi.shape
        if not len(self.pairs):
            return np.zeros((n, m))
        Z, w = self.design()
        e0, p = len(self.enumerated), len(self.pairs)
        Zf = Z.astype(np.float64)
        A = Zf[:, :-1] - Zf[:, -1:]
        resid = v - v0[:, None] - np.outer(v1 - v0, Zf[:, -1]) - phi[:, :-1] @ A.T  # (n, C)
        Q = np.linalg.pinv((A * w[:, None]).T @ A)
        wp, a_in, a_out = w[e0:e0 + p], A[e0:e0 + p], A[e0 + p:]
        blocks = np.bincount(self.stratum[np.r_[True, self.unit[1:] != self.unit[:-1]]], minlength=self.n_strata)
        # a stratum of one block is measured on its pairs (blocks are sums of negatively correlated pairs,
        # so this overstates the variance: conservative); strata of one pair are measured together
        split = (blocks[self.stratum] == 1)[1:]
        starts = np.flatnonzero(np.r_[True, (self.unit[1:] != self.unit[:-1]) | split])
        size_u = np.diff(np.r_[starts, p]).astype(np.float64)
        stratum_u = self.stratum[starts]
        groups = [np.flatnonzero(stratum_u == k) for k in range(self.n_strata)]
        if any(len(g) == 1 for g in groups):
            lone = np.concatenate([g for g in groups if len(g) == 1])
            groups = [g for g in groups if len(g) > 1] + [lone]
        var = np.zeros((n, m))
        units = len(starts)
        step = max(1, 2 ** 22 // (3 * p + units * m))  # samples per chunk: their temporaries stay ~32 MB
        for i in range(0, n, step):
            r_in, r_out = resid[i:i + step, e0:e0 + p] * wp, resid[i:i + step, e0 + p:] * wp
            du = np.empty((len(r_in), units, m))
            for k in range(m - 1):  # each unit's score: the sum of its pairs' (one column at a time: fast)
                du[:, :, k] = np.add.reduceat(r_in * a_in[:, k] + r_out * a_out[:, k], starts, axis=1)
            du[..., :-1] = du[..., :-1] @ Q  # each unit's influence on beta ...
            du[..., -1] = -du[..., :-1].sum(-1)  # ... and on the last player
            for g in groups:
                if len(g) < 2:
                    var[i:i + step] = np.nan
                    continue
                mean = du[:, g].sum(1) / size_u[g].sum()
                dev = du[:, g] - size_u[g, None] * mean[:, None]
                var[i:i + step] += len(g) / (len(g) - 1) * (dev ** 2).sum(1)
        return np.sqrt(var)


def _subsets_of_size(m: int, s: int) -> np.ndarray:
    from itertools import combinations

    combos = np.array(list(combinations(range(m), s)), dtype=np.int64).reshape(-1, s)
    Z = np.zeros((len(combos), m), dtype=bool)
    np.put_along_axis(Z, combos, True, axis=1)
    return Z


Game = Callable[[np.ndarray, np.ndarray], np.ndarray]


def first_round(m: int) -> int:
    """Coalitions in the first adaptive round for ``m`` players: ``2*m + 256``.

    Example:
        >>> first_round(20)
        296
    """
    return 2 * m + 256


def error_bound_z(m: int, level: float = 0.95) -> float:
    """Standard errors within which all ``m`` errors fall with probability ``level`` (Bonferroni, two-sided).

    Example:
        >>> round(error_bound_z(20), 2), round(error_bound_z(1), 2)
        (3.02, 1.96)
    """
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - (1 - level) / (2 * m))


def sampled_values(game: Game, n: int, m: int, v0: np.ndarray, v1: np.ndarray, n_samples: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """KernelSHAP on a fixed budget of ``n_samples`` coalitions: values, standard errors ``(n, m)``, coalitions.

    ``game(rows, Z)``: the values ``(len(rows), len(Z))`` of coalitions ``Z`` for samples ``rows``.

    Example:
        >>> import numpy as np
        >>> w = np.arange(1.0, 11.0); game = lambda rows, Z: np.repeat((Z @ w)[None], len(rows), 0)
        >>> phi, se, c = sampled_values(game, 1, 10, np.zeros(1), np.array([55.0]), 200, np.random.default_rng(0))
        >>> phi.round(8).tolist()[0][:3], float(se.max()) < 1e-8
        ([1.0, 2.0, 3.0], True)
    """
    sample = PairedSample(m, n_samples)
    sample.draw((n_samples - len(sample.enumerated)) // 2, rng)
    Z, w = sample.design()
    cache = _GameCache(game, n)
    cols = cache.columns(np.arange(n), Z)
    v = cache.v[:, cols]
    phi = solve_kernel(Z, w, v, v0, v1)
    return phi, sample.std_error(v, v0, v1, phi), cache.n_columns


def adaptive_values(game: Game, n: int, m: int, v0: np.ndarray, v1: np.ndarray, *, tol: float, first: int,
                    step: int, cap: int, plan: int, growth: float = 0.0,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """KernelSHAP in rounds until every standard error is ``<= tol * max|value|`` (or ``cap`` coalitions).

    The enumerated part is planned on ``plan`` coalitions; the first round draws pairs up to
    ``first`` coalitions, each later round ``step`` or ``growth`` times those drawn more, never
    past ``cap``. Returns values, standard errors,
    distinct coalitions evaluated per sample ``(n,)`` and whether each sample converged ``(n,)``.

    Example:
        >>> import numpy as np
        >>> w = np.arange(1.0, 11.0); game = lambda rows, Z: np.repeat((Z @ w)[None], len(rows), 0)
        >>> phi, se, used, ok = adaptive_values(game, 2, 10, np.zeros(2), np.full(2, 55.0), tol=0.01, first=100,
        ...                                     step=50, cap=1000, plan=100, rng=np.random.default_rng(0))
        >>> phi.round(8)[0, :3].tolist(), used.tolist(), ok.tolist()  # additive: exact in round 1 (94 distinct)
        ([1.0, 2.0, 3.0], [94, 94], [True, True])
    """
    sample = PairedSample(m, plan)
    phi, se = np.zeros((n, m)), np.zeros((n, m))
    used, converged = np.zeros(n, np.int64), np.zeros(n, bool)
    active = np.arange(n)
    cache = _GameCache(game, n)
    col_enum = cache.columns(active, sample.enumerated)
    col_in, col_out = np.zeros(0, np.int64), np.zeros(0, np.int64)
    want = first
    while active.size:
        new = sample.draw((want - sample.n_coalitions) // 2, rng)
        cols = cache.columns(active, new)
        col_in, col_out = np.r_[col_in, cols[: len(new) // 2]], np.r_[col_out, cols[len(new) // 2:]]
        Z, w = sample.design()
        va = cache.v[active][:, np.r_[col_enum, col_in, col_out]]
        phi_a = solve_kernel(Z, w, va, v0[active], v1[active])
        se_a = sample.std_error(va, v0[active], v1[active], phi_a)
        floor = 1e-12 * (1 + np.abs(v0[active]) + np.abs(v1[active]))
        done = (se_a <= (tol * np.abs(phi_a).max(1) + floor)[:, None]).all(1)
        stop = done | (sample.n_coalitions + 2 > cap) | (sample.n_strata == 0)
        rows = active[stop]
        phi[rows], se[rows], converged[rows], used[rows] = phi_a[stop], se_a[stop], done[stop], cache.n_columns
        active = active[~stop]
        want = min(cap, sample.n_coalitions + max(step, int(growth * sample.n_coalitions)))
    return phi, se, used, converged


class _GameCache:
    """Coalition values, each distinct coalition evaluated once (for the samples still running)."""

    def __init__(self, game: Game, n: int) -> None:
        self.game, self.v = game, np.empty((n, 0))
        self.index: dict[bytes, int] = {}

    @property
    def n_columns(self) -> int:
        return self.v.shape[1]

    def columns(self, rows: np.ndarray, Z: np.ndarray) -> np.ndarray:
        """The column of each coalition of ``Z``, evaluating the new ones for ``rows``."""
        keys = [k.tobytes() for k in np.packbits(Z, axis=1)]
        fresh: dict[bytes, int] = {}
        for j, k in enumerate(keys):
            if k not in self.index and k not in fresh:
                fresh[k] = j
        if fresh:
            vals = np.full((len(self.v), len(fresh)), np.nan)
            vals[rows] = self.game(rows, Z[list(fresh.values())])
            for c, k in enumerate(fresh, start=self.n_columns):
                self.index[k] = c
            self.v = np.concatenate([self.v, vals], axis=1)
        return np.array([self.index[k] for k in keys], dtype=np.int64)
