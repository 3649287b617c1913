"""Uncertainty of sampled explanations: KernelSHAP's standard errors and adaptive stop, LIME's and
SmoothGrad's spread over seeds, all in ``Explanation.diagnostics`` and sliced with the samples.

The reference for KernelSHAP is analytic: a model of linear terms plus products of three and four
features, whose interventional Shapley values follow from the unanimity decomposition (checked
against exact enumeration below); paired sampling is exact for pairwise games, so the higher
orders are what makes the sampling error.
"""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
import pytest
import torch

from nbexplain.explainers.gradients.saliency import GradientXInput, Saliency
from nbexplain.explainers.gradients.smoothgrad import SmoothGrad
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explainers.perturbation.lime_batched import LimeTabularBatched
from nbexplain.explainers.perturbation.token_shap import TokenShap
from nbexplain.validate import ParameterError

F = 20
DEFAULT_BUDGET = 2 * F + 2048  # the fixed coalition budget n_samples="auto" meant before it became adaptive


def product_model(seed: int, F: int = F, n_rows: int = 10, n_bg: int = 16):
    """``f = w.x + sum_t c_t prod_{i in T_t} x_i`` (6 triples, 3 quadruples), data, and its exact Shapley values."""
    rng = np.random.default_rng(seed)
    lin = rng.normal(size=F)
    terms = [(list(rng.choice(F, 3, replace=False)), rng.normal() * 0.3) for _ in range(6)]
    terms += [(list(rng.choice(F, 4, replace=False)), rng.normal() * 0.15) for _ in range(3)]

    def f(X: np.ndarray) -> np.ndarray:
        out = X @ lin
        for T, c in terms:
            out = out + c * np.prod(X[:, T], axis=1)
        return out[:, None]

    def shapley(x: np.ndarray, bg: np.ndarray) -> np.ndarray:
        # prod_T (b_i + d_i [i in S]) = sum_{U <= T} prod_U d prod_{T-U} b [U <= S]: unanimity games on U,
        # each worth its coefficient split equally among U's members; averaged over the background rows
        phi = np.zeros(F)
        for b in bg:
            d = x - b
            phi += lin * d
            for T, c in terms:
                for k in range(1, len(T) + 1):
                    for U in combinations(T, k):
                        rest = [i for i in T if i not in U]
                        phi[list(U)] += c * np.prod(d[list(U)]) * np.prod(b[rest]) / k
        return phi / len(bg)

    bg, X = rng.normal(size=(n_bg, F)), rng.normal(size=(n_rows, F))
    return f, bg, X, np.array([shapley(x, bg) for x in X])


def max_rel_error(values: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per sample: the largest |error| over the features, relative to the largest |true value|."""
    return np.abs(values - truth).max(1) / np.abs(truth).max(1)


@pytest.fixture(scope="module")
def model7():
    return product_model(7)


# -- KernelSHAP ------------------------------------------------------------------------------------
def test_analytic_reference_equals_exact_enumeration() -> None:
    f, bg, X, truth = product_model(3, F=9, n_rows=3, n_bg=4)
    e = KernelShap(f, bg).explain(X, target=0)
    assert e.method == "kernel_shap_exact"
    np.testing.assert_allclose(e.values, truth, atol=1e-10)
    np.testing.assert_array_equal(e.diagnostics["std_error"], np.zeros((3, 9)))  # exact: no sampling error
    np.testing.assert_array_equal(e.diagnostics["error_estimate"], np.zeros(3))


@pytest.mark.parametrize("n_samples", [1024, "auto"])
def test_std_error_matches_the_spread_over_30_seeds(model7, n_samples: int | str) -> None:
    f, bg, X, truth = model7
    runs = [KernelShap(f, bg, n_samples=n_samples, seed=s).explain(X[:3], target=0) for s in range(30)]
    values = np.stack([e.values for e in runs])  # (30, 3, 20)
    se = np.stack([e.diagnostics["std_error"] for e in runs])
    spread = values.std(0, ddof=1)  # the empirical standard deviation over seeds, per value
    ratio = se.mean((0, 2)) / spread.mean(1)  # per sample: mean standard error / mean spread
    assert ((ratio > 1 / 1.5) & (ratio < 1.5)).all(), ratio
    per_value = se.mean(0) / spread
    assert 0.8 < np.median(per_value) < 1.25, np.median(per_value)
    # the estimate is centred on the truth: the 30-seed mean is within 4 standard errors of it
    assert (np.abs(values.mean(0) - truth[:3]) < 4 * spread / np.sqrt(30) + 1e-12).mean() > 0.95
    assert (se > 0).all()


def test_adaptive_default_reaches_one_percent_with_fewer_coalitions(model7) -> None:
    f, bg, X, truth = model7
    e = KernelShap(f, bg).explain(X, target=0)  # n_samples="auto", tol=0.01
    d = e.diagnostics
    assert e.method == "kernel_shap" and d["exact"] is False and d["tol"] == 0.01 and e.params["tol"] == 0.01
    assert max_rel_error(e.values, truth).max() <= 0.01, max_rel_error(e.values, truth)
    assert d["converged"].all()
    coalitions = d["coalitions"]
    assert coalitions.shape == (10,) and d["n_coalitions"] == coalitions.max()
    assert coalitions.sum() < 10 * DEFAULT_BUDGET, coalitions  # fewer model evaluations than the fixed default
    assert coalitions.min() < DEFAULT_BUDGET < coalitions.max()  # effort goes where the error is
    # the stop rule held: every standard error within tol / z of the sample's largest |value|
    z = 3.0235  # Bonferroni bound for 20 values at 95%
    assert (d["std_error"].max(1) <= 0.01 / z * np.abs(e.values).max(1) + 1e-12).all()
    np.testing.assert_array_equal(d["error_estimate"], d["std_error"].max(1))
    np.testing.assert_allclose(e.values.sum(1), e.outputs - e.base_values, atol=1e-9)


def test_adaptive_is_seeded_and_independent_of_the_batch(model7) -> None:
    f, bg, X, _ = model7
    batch = KernelShap(f, bg, seed=4).explain(X[:4], target=0)
    alone = KernelShap(f, bg, seed=4).explain(X[2:3], target=0)
    # the same coalitions and stopping round; the solve agrees to rounding (one least squares for the batch)
    np.testing.assert_allclose(batch.values[2], alone.values[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(batch.diagnostics["std_error"][2], alone.diagnostics["std_error"][0], rtol=1e-9)
    assert batch.diagnostics["coalitions"][2] == alone.diagnostics["coalitions"][0]
    again = KernelShap(f, bg, seed=4).explain(X[:4], target=0)
    np.testing.assert_array_equal(again.values, batch.values)
    other = KernelShap(f, bg, seed=5).explain(X[:4], target=0)
    assert not np.array_equal(other.values, batch.values)


def test_additive_model_is_exact_and_stops_in_the_first_round() -> None:
    rng = np.random.default_rng(0)
    w, bg, X = rng.normal(size=F), rng.normal(size=(5, F)), rng.normal(size=(3, F))
    e = KernelShap(lambda Z: (Z @ w)[:, None], bg).explain(X, target=0)
    np.testing.assert_allclose(e.values, (X - bg.mean(0)) * w, atol=1e-10)
    assert e.diagnostics["std_error"].max() < 1e-10 and e.diagnostics["converged"].all()
    assert (e.diagnostics["coalitions"] <= 2 * F + 256).all()  # the first round


def test_the_cap_stops_and_warns(model7) -> None:
    f, bg, X, _ = model7
    with pytest.warns(UserWarning, match=r"stopped at max_samples=600 coalitions.*Raise max_samples or tol"):
        e = KernelShap(f, bg, tol=1e-4, max_samples=600).explain(X[:2], target=0)
    assert not e.diagnostics["converged"].any()
    assert (e.diagnostics["coalitions"] <= 600).all()
    assert (e.diagnostics["std_error"] > 0).all()


def test_fixed_budget_reports_standard_errors_too(model7) -> None:
    f, bg, X, truth = model7
    e = KernelShap(f, bg, n_samples=3000).explain(X[:3], target=0)
    d = e.diagnostics
    assert "converged" not in d and "tol" not in d and e.params["tol"] is None
    assert (d["coalitions"] == d["n_coalitions"]).all() and d["n_coalitions"] <= 3000
    assert d["std_error"].shape == (3, F) and (d["std_error"] > 0).all()
    # the errors are of the size the standard errors say: within 5 standard errors, all of them
    assert (np.abs(e.values - truth[:3]) < 5 * d["std_error"]).all()


@pytest.mark.parametrize(("kwargs", "match"), [({"tol": 0}, r"tol .*must be a positive finite number, got 0"),
                                               ({"tol": float("nan")}, r"tol"),
                                               ({"max_samples": 100}, r"max_samples must be an int >= 296, got 100")])
def test_bad_tolerances_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        KernelShap(lambda Z: Z[:, :1], np.zeros((2, F)), **kwargs)


def test_slicing_keeps_the_standard_errors_per_sample(model7) -> None:
    f, bg, X, _ = model7
    e = KernelShap(f, bg).explain(X[:4], target=0)
    d = e.diagnostics
    one = e[2]
    np.testing.assert_array_equal(one.diagnostics["std_error"], d["std_error"][2])
    assert one.diagnostics["std_error"].shape == one.values.shape == (F,)
    assert one.diagnostics["coalitions"] == d["coalitions"][2] and one.diagnostics["tol"] == 0.01
    assert bool(one.diagnostics["converged"]) is bool(d["converged"][2])
    two = e[[3, 1]]
    np.testing.assert_array_equal(two.diagnostics["std_error"], d["std_error"][[3, 1]])
    np.testing.assert_array_equal(two.diagnostics["error_estimate"], d["error_estimate"][[3, 1]])


def test_token_shap_reports_standard_errors() -> None:
    def predict(texts: list[str]) -> np.ndarray:
        good = np.array([t.split().count("good") + 0.5 * ("not" in t.split() and "bad" in t.split()) for t in texts])
        p = 1 / (1 + np.exp(-(good - 1)))
        return np.stack([1 - p, p], 1)

    text = "good film , not bad ! the plot is good but not bad at all"
    sampled = TokenShap(predict, tokenizer=str.split, max_exact=8, n_samples=1024).explain(text)
    se = sampled.diagnostics["std_error"]
    assert se.shape == sampled.values.shape and (se >= 0).all() and se.max() > 0
    assert sampled.diagnostics["error_estimate"] == pytest.approx(se.max())
    exact = TokenShap(predict, tokenizer=str.split).explain("good film , not bad")
    assert (exact.diagnostics["std_error"] == 0).all()


# -- LIME and SmoothGrad: the spread over seeds -------------------------------------------------------
@pytest.fixture(scope="module")
def logistic():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    X = data.data[:, :10]
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, data.target), X


def test_lime_spread_is_the_spread_of_single_seed_runs(logistic) -> None:
    model, X = logistic
    spread = LimeTabularBatched(model, X, num_samples=400, seed=3, n_seeds=4).explain(X[:5])
    singles = np.stack([LimeTabularBatched(model, X, num_samples=400, seed=s).explain(X[:5]).values
                        for s in range(3, 7)])
    d = spread.diagnostics
    np.testing.assert_allclose(spread.values, singles.mean(0), atol=1e-12)
    np.testing.assert_allclose(d["seed_std"], singles.std(0, ddof=1), atol=1e-12)
    np.testing.assert_allclose(d["std_error"], d["seed_std"] / 2, atol=1e-15)
    assert d["n_seeds"] == 4 and d["top_k"] == 5 and spread.params["n_seeds"] == 4
    # top-5 overlap by hand, sample 0
    tops = [set(np.argsort(-np.abs(v[0]), kind="stable")[:5].tolist()) for v in singles]
    want = np.mean([len(tops[a] & tops[b]) / 5 for a in range(4) for b in range(a + 1, 4)])
    assert d["topk_overlap"][0] == pytest.approx(want)
    assert d["topk_overlap"].shape == (5,) and ((d["topk_overlap"] >= 0) & (d["topk_overlap"] <= 1)).all()
    one = spread[1]
    np.testing.assert_array_equal(one.diagnostics["seed_std"], d["seed_std"][1])
    assert one.diagnostics["topk_overlap"] == d["topk_overlap"][1]


def test_lime_spread_shrinks_with_more_samples_and_default_is_unchanged(logistic) -> None:
    model, X = logistic
    small = LimeTabularBatched(model, X, num_samples=250, n_seeds=6).explain(X[:4]).diagnostics["seed_std"]
    large = LimeTabularBatched(model, X, num_samples=4000, n_seeds=6).explain(X[:4]).diagnostics["seed_std"]
    ratio = small.mean() / large.mean()
    assert 2.5 < ratio < 6.5, ratio  # sqrt(4000 / 250) = 4: LIME's sampling noise, measured
    plain = LimeTabularBatched(model, X, num_samples=300).explain(X[:3])
    first = LimeTabularBatched(model, X, num_samples=300, n_seeds=1).explain(X[:3])
    np.testing.assert_array_equal(plain.values, first.values)
    assert set(plain.diagnostics) == {"score", "local_prediction"}
    with pytest.raises(ParameterError, match="n_seeds"):
        LimeTabularBatched(model, X, n_seeds=0)


def _mlp() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))


def test_smoothgrad_spread_is_the_spread_of_single_seed_runs() -> None:
    model, x = _mlp(), torch.randn(4, 6, generator=torch.Generator().manual_seed(1))
    e = SmoothGrad(Saliency(model), n_samples=8, seed=2, n_seeds=5).explain(x, target=1)
    singles = np.stack([SmoothGrad(Saliency(model), n_samples=8, seed=s).explain(x, target=1).values
                        for s in range(2, 7)])
    np.testing.assert_allclose(e.values, singles.mean(0), rtol=1e-6)
    np.testing.assert_allclose(e.diagnostics["seed_std"], singles.std(0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(e.diagnostics["std_error"], e.diagnostics["seed_std"] / np.sqrt(5), rtol=1e-6)
    assert e.params["n_seeds"] == 5 and e.params["seed"] == 2
    np.testing.assert_array_equal(e[3].diagnostics["std_error"], e.diagnostics["std_error"][3])
    # the noise's spread falls as 1/sqrt(n_samples)
    many = SmoothGrad(Saliency(model), n_samples=128, n_seeds=5).explain(x, target=1, seed=2)
    ratio = e.diagnostics["seed_std"].mean() / many.diagnostics["seed_std"].mean()
    assert 2.0 < ratio < 8.0, ratio  # sqrt(128 / 8) = 4


def test_smoothgrad_spread_with_tuple_inputs_and_default_unchanged() -> None:
    bil = torch.nn.Bilinear(2, 3, 2)
    a, b = torch.randn(4, 2), torch.randn(4, 3)
    sg = SmoothGrad(GradientXInput(bil), n_samples=6)
    e1, e2 = sg.explain((a, b), target=0, n_seeds=3)
    assert e1.values.shape == e1.diagnostics["std_error"].shape == (4, 2)
    assert e2.values.shape == e2.diagnostics["std_error"].shape == (4, 3)
    runs = [sg.explain((a, b), target=0, seed=s)[1].values for s in range(3)]
    np.testing.assert_allclose(e2.values, np.mean(runs, 0), rtol=1e-6)
    plain = sg.explain((a, b), target=0)
    assert "seed_std" not in plain[0].diagnostics and plain[0].params["n_seeds"] == 1
    with pytest.raises(ParameterError, match="n_seeds"):
        sg.explain((a, b), target=0, n_seeds=0)


def test_no_warning_on_the_default_paths(model7) -> None:
    f, bg, X, _ = model7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KernelShap(f, bg).explain(X[:2], target=0)
