"""KernelSHAP's estimate of each Shapley value as its coalition budget grows, with its error band (no widgets).

Above 10 players the coalition lattice is too large to draw (:mod:`nbexplain.explainers.teaching.shapley_lattice`),
and above 16 the exact values are too costly: KernelSHAP samples coalitions instead. This shows
how its estimate settles. :func:`shapley_convergence` runs
:class:`~nbexplain.explainers.perturbation.kernel_shap.KernelShap` (the same value function, seeded) on the
sample at a growing budget of coalitions (powers of two from 32 by default, up to 4096 and below
the ``2**M - 2`` at which KernelShap enumerates and is exact), plus its adaptive run
(``n_samples="auto"``: rounds until every standard error is within ``tol``), and keeps each
estimate with its standard error (``diagnostics["std_error"]``, the delta method on the kernel
least squares). The band is ``estimate +- z * std_error`` at ``level`` (``z = 1.96`` for 95%); it
covers the exact value about ``level`` of the time. The exact values come from KernelShap's
exact mode where they are computable (``M <= 16``).

Example:
    >>> import numpy as np
    >>> w = np.arange(1.0, 13.0); f = lambda X: (X @ w)[:, None] + X[:, :1] * X[:, 1:2]
    >>> c = shapley_convergence(f, np.ones(12), np.zeros((4, 12)), budgets=[64, 256])
    >>> c.budgets.tolist(), c.estimates.shape, c.exact.round(3)[:3].tolist()
    ([64, 256], (2, 12), [1.5, 2.5, 3.0])
    >>> bool(np.all(np.abs(c.estimates[-1] - c.exact) <= 4 * c.std_errors[-1] + 1e-9))
    True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explainers.teaching.shapley_lattice import (
    kernel_options,
    one_sample,
    output_label,
    players,
)
from nbexplain.explanation import Explanation
from nbexplain.guard import guarded
from nbexplain.validate import check_int, check_number

__all__ = ["EXACT_ROWS", "MAX_EXACT_PLAYERS", "ShapleyConvergence", "default_budgets", "shapley_convergence"]

#: The most players whose exact values are computed (KernelShap's exact mode: 2**16 coalitions).
MAX_EXACT_PLAYERS = 16
#: ``exact="auto"`` computes the exact values when ``2**M`` x background rows stays within this.
EXACT_ROWS = 2 ** 22


def default_budgets(m: int, max_budget: int = 4096) -> list[int]:
    """Powers of two from 32 (at least ``2*m + 2``) up to ``max_budget``, below ``2**m - 2``.

    Example:
        >>> default_budgets(12), default_budgets(30, 1024)
        ([32, 64, 128, 256, 512, 1024, 2048], [64, 128, 256, 512, 1024])
    """
    b, out = 32, []
    while b < 2 * m + 2:
        b *= 2
    while b <= max_budget and b < 2 ** m - 2:
        out.append(b)
        b *= 2
    return out


@dataclass(frozen=True)
class ShapleyConvergence:
    """KernelSHAP's estimates at growing budgets for one sample (see the module docstring).

    ``budgets`` ``(K,)``: the coalitions asked for; ``used`` ``(K,)``: distinct coalitions
    evaluated; ``estimates``, ``std_errors`` ``(K, M)``; ``adaptive``: the ``n_samples="auto"``
    run's :class:`~nbexplain.explanation.Explanation` (its ``diagnostics`` hold ``std_error``,
    ``coalitions``, ``converged``, ``exact``; None when not run); ``exact`` ``(M,)`` or None; ``z``: the band's
    half-width in standard errors at ``level``; ``note``: what was left out, in words.
    """

    names: list[str]
    budgets: np.ndarray
    used: np.ndarray
    estimates: np.ndarray
    std_errors: np.ndarray
    adaptive: Explanation | None = field(repr=False)
    exact: np.ndarray | None
    base_value: float
    prediction: float
    level: float
    output_label: str
    seed: int
    note: str = ""

    @property
    def z(self) -> float:
        """Standard errors each side of the estimate in the band (1.96 at 95%)."""
        return NormalDist().inv_cdf(0.5 + self.level / 2)

    @property
    def adaptive_budget(self) -> int | None:
        """Distinct coalitions the adaptive run evaluated (None without one)."""
        return None if self.adaptive is None else int(self.adaptive.diagnostics["coalitions"][0])

    @property
    def adaptive_estimate(self) -> np.ndarray | None:
        """The adaptive run's values ``(M,)`` (None without one)."""
        return None if self.adaptive is None else np.asarray(self.adaptive.values[0], dtype=np.float64)

    @property
    def adaptive_std_error(self) -> np.ndarray | None:
        """The adaptive run's standard errors ``(M,)``, 0 where it enumerated every coalition (None without one)."""
        if self.adaptive is None:
            return None
        return np.asarray(self.adaptive.diagnostics["std_error"][0], dtype=np.float64)

    def band(self) -> tuple[np.ndarray, np.ndarray]:
        """The band's ends ``(K, M)`` each: ``estimate -+ z * std_error`` (NaN where no error was measured).

        Example:
            >>> lo, hi = _example().band(); bool(np.all(lo <= hi))
            True
        """
        half = self.z * self.std_errors
        return self.estimates - half, self.estimates + half

    def coverage(self) -> float:
        """The share of bands (budgets x values, with an error measured) that hold the exact value.

        Example:
            >>> 0.0 <= _example().coverage() <= 1.0
            True
        """
        if self.exact is None:
            raise ValueError("no exact values to cover: they are computed for M <= 16 (exact=True)")
        lo, hi = self.band()
        ok = np.isfinite(lo) & np.isfinite(hi)
        inside = (lo <= self.exact) & (self.exact <= hi)
        return float(inside[ok].mean()) if ok.any() else float("nan")


@guarded
def shapley_convergence(model: Any, x: Any, background: Any, *, feature_names: Sequence[str] | None = None,
                        groups: Any = None, target: Any = None, class_names: Sequence[str] | None = None,
                        budgets: Sequence[int] | None = None, max_budget: int = 4096, seed: int = 0,
                        tol: float = 0.01, level: float = 0.95, exact: bool | str = "auto", adaptive: bool = True,
                        **options: Any) -> ShapleyConvergence:
    """KernelSHAP at each of ``budgets`` coalitions (default :func:`default_budgets`) and its adaptive run.

    Arguments as :func:`~nbexplain.explainers.teaching.shapley_lattice.coalition_lattice`, plus ``seed``
    (every run's), ``tol`` (the adaptive run's), ``level`` (the band's, in (0, 1)) and ``exact``
    (``"auto"``: the exact values when ``M <= 16`` and ``2**M`` times the background rows is at
    most :data:`EXACT_ROWS`; True: always, up to ``M = 16``; False: never); ``adaptive=False``
    skips the adaptive run.

    Example:
        >>> c = _example(); c.names[:2], len(c.budgets), round(c.z, 2)
        (['feature 0', 'feature 1'], 2, 1.96)
    """
    opts = kernel_options(options, "shapley_convergence")
    check_int(seed, "seed", min=0)
    check_int(max_budget, "max_budget", min=1)
    level = check_number(level, "level (the band's coverage)", min=0.0, max=1.0, min_open=True, max_open=True)
    if exact not in (True, False, "auto"):
        raise ValueError(f"exact must be True, False or 'auto', got {exact!r}")
    idx, names = players(background, feature_names, groups)
    ks = KernelShap(model, background, feature_names=names, groups=idx, class_names=class_names,
                    exact_max_features=0, n_samples="auto", tol=tol, seed=seed, **opts)
    m = ks.n_players
    if m < 2:
        raise ValueError(f"KernelSHAP's estimate needs at least 2 features or groups, got {m}")
    plan = default_budgets(m, max_budget) if budgets is None else sorted({_budget(b, m) for b in budgets})
    if not plan:
        raise ValueError(f"with M = {m} players KernelSHAP enumerates all {2 ** m - 2} coalitions at any budget "
                         f"from {min(2 * m + 2, 2 ** m - 2)}: it is exact, there is nothing to converge; show the "
                         "coalition lattice instead (ShapleyView(..., mode='lattice'))")
    X = one_sample(x)
    capped = ""
    if adaptive:  # the adaptive run first: it fixes the target for the others
        with warnings.catch_warnings(record=True) as caught:  # its cap is said in the view's note, not warned
            warnings.simplefilter("always")
            run: Explanation | None = ks.explain(X, target=target)
        capped = " ".join(str(w.message) for w in caught if "max_samples" in str(w.message))
        for w in caught:  # any other warning goes on to the user
            if "max_samples" not in str(w.message):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    else:  # the first budget fixes it
        ks.n_samples = plan[0]
        run = None
    first = run if run is not None else ks.explain(X, target=target)
    t = int(first.target[0])
    estimates, errors, used = [], [], []
    for b in plan:
        ks.n_samples = b
        e = ks.explain(X, target=t)
        estimates.append(e.values[0])
        errors.append(e.diagnostics["std_error"][0])
        used.append(int(e.diagnostics["coalitions"][0]))
    exact_values, note = _exact(model, background, X, t, m, len(ks.background), exact, names, idx, class_names,
                                {**opts, "seed": seed})
    if capped:
        note = (note + " " if note else "") + "The adaptive run: " + capped
    if run is not None and run.diagnostics.get("exact"):
        note = (note + " " if note else "") + (
            f"The adaptive run enumerated all {2 ** m - 2} coalitions (its first round, 2M + 2048, covers them): exact.")
    labels = ks.feature_names or [f"feature {j}" for j in range(m)]
    return ShapleyConvergence(list(labels), np.array(plan), np.array(used), np.array(estimates, dtype=np.float64),
                              np.array(errors, dtype=np.float64), run, exact_values,
                              float(first.base_values[0]), float(first.outputs[0]), level,
                              output_label(first, ks.link), seed, note)


def _budget(b: Any, m: int) -> int:
    check_int(b, "budgets (coalitions per run)", min=2 * m + 2)
    if b >= 2 ** m - 2:
        raise ValueError(f"a budget of {b} coalitions covers all {2 ** m - 2} of M = {m} players: KernelShap is then "
                         f"exact; pass budgets below {2 ** m - 2}")
    return int(b)


def _exact(model: Any, background: Any, X: Any, target: int, m: int, rows: int, exact: bool | str,
           names: Any, idx: Any, class_names: Any, opts: dict[str, Any]) -> tuple[np.ndarray | None, str]:
    """KernelShap's exact values (its exact mode) when asked for and computable, and a note when not."""
    if exact is False:
        return None, ""
    if m > MAX_EXACT_PLAYERS:
        if exact is True:
            raise ValueError(f"exact values need all 2**M coalitions; M = {m} is above {MAX_EXACT_PLAYERS}: "
                             "pass exact='auto' or False")
        return None, f"No exact values: M = {m} is above {MAX_EXACT_PLAYERS} (2**M coalitions)."
    if exact == "auto" and 2 ** m * rows > EXACT_ROWS:
        return None, (f"No exact values: 2**{m} coalitions x {rows} background rows is above {EXACT_ROWS:,} model "
                      "rows; pass exact=True to compute them anyway.")
    ks = KernelShap(model, background, feature_names=names, groups=idx, class_names=class_names,
                    exact_max_features=MAX_EXACT_PLAYERS, **opts)
    return np.asarray(ks.explain(X, target=target).values[0], dtype=np.float64), ""


def _example() -> ShapleyConvergence:
    """The docstrings' example: a 12-feature model with one interaction."""
    w = np.arange(1.0, 13.0)
    return shapley_convergence(lambda X: (X @ w)[:, None] + 3 * X[:, :1] * X[:, 1:2], np.ones(12),
                               np.random.default_rng(0).normal(size=(6, 12)), budgets=[64, 256])
