"""KernelSHAP's estimate as its budget grows: it converges toward the exact values, its band covers them.

The exact values are checked against brute-force enumeration written here (12 players, 4096
coalitions), the estimates' error must shrink with the budget at about the Monte Carlo rate, the
95% band must hold the exact value at a sensible rate over seeds, and a seed reproduces a run.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pytest

from nbexplain.explainers.teaching.shapley_convergence import (
    MAX_EXACT_PLAYERS,
    default_budgets,
    shapley_convergence,
)

RNG = np.random.default_rng(1)
M = 12
BG = RNG.normal(size=(6, M))
X = RNG.normal(size=M)
W = RNG.normal(size=M)


def f(A: np.ndarray) -> np.ndarray:
    """Linear plus a pairwise and a three-way interaction: (n, 12) -> (n, 1)."""
    return (A @ W + np.tanh(A[:, 0] * A[:, 1]) + 0.5 * A[:, 2] * A[:, 3] * A[:, 4])[:, None]


def brute_shapley(fn, x, bg):
    """Exact interventional Shapley values by the subset formula over all 2**M coalitions."""
    m = len(x)
    masks = ((np.arange(2 ** m)[:, None] >> np.arange(m)) & 1).astype(bool)
    rows = np.where(masks[:, None, :], x[None, None, :], bg[None, :, :]).reshape(-1, m)
    v = fn(rows)[:, 0].reshape(2 ** m, len(bg)).mean(1)
    sizes = masks.sum(1)
    phi = np.zeros(m)
    for i in range(m):
        without = np.flatnonzero(~masks[:, i])
        s = sizes[without]
        w = np.array([factorial(k) * factorial(m - k - 1) / factorial(m) for k in range(m)])[s]
        phi[i] = w @ (v[without | (1 << i)] - v[without])
    return phi


def test_the_exact_values_are_the_enumerated_ones_and_sum_to_the_prediction() -> None:
    c = shapley_convergence(f, X, BG, budgets=[64], adaptive=False)
    np.testing.assert_allclose(c.exact, brute_shapley(f, X, BG), rtol=1e-9, atol=1e-12)
    assert c.exact.sum() == pytest.approx(c.prediction - c.base_value, abs=1e-9)
    assert c.prediction == pytest.approx(float(f(X[None])[0, 0]))
    assert c.base_value == pytest.approx(float(f(BG).mean()))
    # KernelSHAP keeps efficiency at every budget (its constraint)
    assert c.estimates[0].sum() == pytest.approx(c.prediction - c.base_value, abs=1e-8)


def test_the_estimates_converge_toward_the_exact_values() -> None:
    errors = []
    for seed in range(4):
        c = shapley_convergence(f, X, BG, seed=seed, adaptive=False)
        errors.append(np.abs(c.estimates - c.exact).mean(axis=1))
    mean = np.mean(errors, axis=0)
    assert c.budgets.tolist() == default_budgets(M) == [32, 64, 128, 256, 512, 1024, 2048]
    assert mean[-1] < mean[0] / 5, mean
    slope = np.polyfit(np.log(c.budgets), np.log(mean), 1)[0]
    assert -1.2 < slope < -0.3, f"error ~ budget^{slope:.2f}; Monte Carlo gives about -0.5"
    # the standard errors shrink with it, and the adaptive run reaches its tolerance
    assert np.all(np.isnan(c.std_errors[0]))  # too few coalitions at 32 to measure an error
    se = np.nanmean(c.std_errors[1:], axis=1)
    assert se[-1] < se[0] / 3
    a = shapley_convergence(f, X, BG, budgets=[64], tol=0.02, seed=0)
    scale = np.abs(a.adaptive_estimate).max()
    assert np.all(a.adaptive_std_error <= 0.02 * scale * 1.0001) and a.adaptive_budget > 0
    assert np.abs(a.adaptive_estimate - a.exact).max() < 5 * 0.02 * scale


def test_the_band_covers_the_exact_value_at_a_sensible_rate() -> None:
    coverage = [shapley_convergence(f, X, BG, seed=seed, adaptive=False).coverage() for seed in range(6)]
    assert 0.8 <= float(np.mean(coverage)) <= 1.0, coverage
    c = shapley_convergence(f, X, BG, seed=0, adaptive=False, level=0.5)
    assert c.z == pytest.approx(0.6745, abs=1e-4)
    narrow = np.mean([shapley_convergence(f, X, BG, seed=s, adaptive=False, level=0.5).coverage() for s in range(3)])
    assert narrow < np.mean(coverage)  # a narrower band holds it less often
    lo, hi = c.band()
    ok = np.isfinite(c.std_errors)
    assert np.all(lo[ok] <= c.estimates[ok]) and np.all(c.estimates[ok] <= hi[ok])


def test_a_seed_reproduces_a_run() -> None:
    a = shapley_convergence(f, X, BG, budgets=[64, 256], seed=3)
    b = shapley_convergence(f, X, BG, budgets=[64, 256], seed=3)
    other = shapley_convergence(f, X, BG, budgets=[64, 256], seed=4)
    np.testing.assert_array_equal(a.estimates, b.estimates)
    np.testing.assert_array_equal(a.std_errors, b.std_errors)
    np.testing.assert_array_equal(a.adaptive_estimate, b.adaptive_estimate)
    assert not np.array_equal(a.estimates, other.estimates)
    assert a.seed == 3 and a.used.tolist() == b.used.tolist()


def test_groups_and_names() -> None:
    groups = {f"g{k}": [k, k + 6] for k in range(6)}
    c = shapley_convergence(f, X, BG, groups=groups, budgets=[32], adaptive=False, exact=False)
    assert c.names == [f"g{k}" for k in range(6)] and c.exact is None
    assert c.estimates.shape == (1, 6)


def test_exact_values_are_left_out_beyond_their_limit_and_said_so() -> None:
    m = MAX_EXACT_PLAYERS + 1
    c = shapley_convergence(lambda A: A.sum(1, keepdims=True), np.ones(m), np.zeros((2, m)), budgets=[64],
                            adaptive=False)
    assert c.exact is None and f"M = {m}" in c.note
    with pytest.raises(ValueError, match="no exact values"):
        c.coverage()
    with pytest.raises(ValueError, match="exact='auto' or False"):
        shapley_convergence(lambda A: A.sum(1, keepdims=True), np.ones(m), np.zeros((2, m)), budgets=[64],
                            adaptive=False, exact=True)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="budgets"):
        shapley_convergence(f, X, BG, budgets=[4])
    with pytest.raises(ValueError, match="covers all 14"):
        shapley_convergence(lambda A: A[:, :1], np.ones(4), np.zeros((2, 4)), budgets=[20])
    with pytest.raises(ValueError, match="it is exact, there is nothing to converge"):
        shapley_convergence(lambda A: A[:, :1], np.ones(3), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="level"):
        shapley_convergence(f, X, BG, level=1.0)
    with pytest.raises(ValueError, match="seed"):
        shapley_convergence(f, X, BG, seed=-1)
    with pytest.raises(ValueError, match="exact must be"):
        shapley_convergence(f, X, BG, exact="yes")
    with pytest.raises(TypeError, match="unexpected keyword"):
        shapley_convergence(f, X, BG, n_samples=100)
