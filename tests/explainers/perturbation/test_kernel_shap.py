"""KernelShap: exact mode against brute-force Shapley values, sampled mode against known values and shap."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch

from nbexplain.explainers.perturbation.kernel_shap import KernelShap


def mlp(F: int, k: int = 3, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(F, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                               torch.nn.ReLU(), torch.nn.Linear(16, k)).double()


def brute_force(f, x: np.ndarray, bg: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """Shapley values of v(S) = mean_b f(x_S, b_notS) by the factorial formula over every subset."""
    M = len(groups)
    subsets = [S for s in range(M + 1) for S in itertools.combinations(range(M), s)]
    rows = []
    for S in subsets:
        r = bg.copy()
        cols = [c for g in S for c in groups[g]]
        r[:, cols] = x[cols]
        rows.append(r)
    out = f(np.concatenate(rows)).reshape(len(subsets), len(bg)).mean(axis=1)
    v = dict(zip(subsets, out, strict=True))
    phi = np.zeros(M)
    for i in range(M):
        others = [j for j in range(M) if j != i]
        for s in range(M):
            w = math.factorial(s) * math.factorial(M - s - 1) / math.factorial(M)
            for S in itertools.combinations(others, s):
                phi[i] += w * (v[tuple(sorted((*S, i)))] - v[S])
    return phi


def torch_fn(model: torch.nn.Module, t: int):
    return lambda Z: model(torch.as_tensor(Z)).detach().numpy()[:, t]


@pytest.mark.parametrize("F", [6, 8, 10])
def test_exact_equals_brute_force_on_torch_mlps(F: int) -> None:
    model = mlp(F, seed=F)
    rng = np.random.default_rng(F)
    bg, X = rng.normal(size=(6, F)), rng.normal(size=(3, F))
    e = KernelShap(model, bg).explain(X, target=2)
    assert e.method == "kernel_shap_exact" and e.diagnostics["exact"] and e.diagnostics["n_coalitions"] == 2 ** F
    for i in range(3):
        ref = brute_force(torch_fn(model, 2), X[i], bg, [[j] for j in range(F)])
        np.testing.assert_allclose(e.values[i], ref, atol=1e-6)
    np.testing.assert_allclose(e.values.sum(1), e.outputs - e.base_values, atol=1e-8)


def test_exact_equals_brute_force_on_sklearn_model() -> None:
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(1)
    Xtr = rng.normal(size=(200, 6))
    y = (Xtr[:, 0] + Xtr[:, 1] * Xtr[:, 2] > 0).astype(int)
    rf = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(Xtr, y)
    e = KernelShap(rf, Xtr[:8], feature_names=list("abcdef")).explain(Xtr[10:13])
    for i in range(3):
        ref = brute_force(lambda Z, t=e.target[i]: rf.predict_proba(Z)[:, t], Xtr[10 + i], Xtr[:8], [[j] for j in range(6)])
        np.testing.assert_allclose(e.values[i], ref, atol=1e-6)
    assert e.feature_names == list("abcdef")
    np.testing.assert_allclose(e.outputs, rf.predict_proba(Xtr[10:13]).max(1))


def quadratic(F: int, seed: int = 0):
    """f = w.x + sum_{i<j} c_ij x_i x_j and its interventional Shapley values, analytically."""
    rng = np.random.default_rng(seed)
    w, C = rng.normal(size=F), np.triu(rng.normal(size=(F, F)) * 0.3, 1)

    def f(Z: np.ndarray) -> np.ndarray:
        return Z @ w + np.einsum("ni,ij,nj->n", Z, C, Z)

    def phi(x: np.ndarray, bg: np.ndarray) -> np.ndarray:
        mu, Ebb = bg.mean(0), bg.T @ bg / len(bg)
        S = C + C.T  # symmetric pair coefficients
        # pair (i, j): 1/2 [x_i mu_j - E b_i b_j + x_i x_j - x_j mu_i], summed over j != i
        pair = 0.5 * (np.outer(x, mu) - Ebb + np.outer(x, x) - np.outer(mu, x))
        return w * (x - mu) + (S * pair).sum(1)

    return f, phi


def test_sampled_mode_matches_analytic_values_with_20_features() -> None:
    f, phi = quadratic(20)
    rng = np.random.default_rng(3)
    bg, X = rng.normal(size=(30, 20)), rng.normal(size=(4, 20))
    e = KernelShap(f, bg).explain(X)
    assert e.method == "kernel_shap" and not e.diagnostics["exact"]
    assert e.diagnostics["n_coalitions"] <= 2 * 20 + 2048
    for i in range(4):
        ref = phi(X[i], bg)
        # paired sampling is exact for games with at most pairwise interactions, up to rounding
        np.testing.assert_allclose(e.values[i], ref, atol=1e-8 * np.abs(ref).max() + 1e-9)
    np.testing.assert_allclose(e.values.sum(1), e.outputs - e.base_values, atol=1e-8)


def test_sampled_mode_close_to_exact_on_mlp_with_12_features() -> None:
    model = mlp(12, seed=5)
    rng = np.random.default_rng(5)
    bg, X = rng.normal(size=(10, 12)), rng.normal(size=(5, 12))
    exact = KernelShap(model, bg).explain(X, target=0)
    sampled = KernelShap(model, bg, exact_max_features=8, n_samples=1500).explain(X, target=0)
    assert not sampled.diagnostics["exact"] and exact.diagnostics["exact"]
    err = np.abs(sampled.values - exact.values).max(1) / np.abs(exact.values).max(1)
    assert err.max() < 0.03, err  # tolerance: 3% of the largest exact value per sample
    assert (sampled.diagnostics["error_estimate"] > 0).all()
    np.testing.assert_allclose(sampled.values.sum(1), sampled.outputs - sampled.base_values, atol=1e-8)


def test_agrees_with_shap_kernel_explainer() -> None:
    shap = pytest.importorskip("shap")
    model = mlp(8, k=1, seed=2)
    rng = np.random.default_rng(2)
    bg, X = rng.normal(size=(10, 8)), rng.normal(size=(3, 8))
    ours = KernelShap(model, bg).explain(X, target=0)
    f = torch_fn(model, 0)
    ke = shap.KernelExplainer(f, bg)
    theirs = np.asarray(ke.shap_values(X, nsamples=1000, l1_reg=False, silent=True))
    # with nsamples >= 2**8 - 2 shap enumerates every coalition, so both are exact
    np.testing.assert_allclose(ours.values, theirs.reshape(ours.values.shape), atol=1e-6)
    np.testing.assert_allclose(ours.base_values, ke.expected_value, atol=1e-10)


def test_agrees_with_shap_kernel_explainer_in_sampled_mode() -> None:
    shap = pytest.importorskip("shap")
    model = mlp(12, k=1, seed=3)
    rng = np.random.default_rng(3)
    bg, X = rng.normal(size=(10, 12)), rng.normal(size=(3, 12))
    exact = KernelShap(model, bg).explain(X, target=0).values
    ours = KernelShap(model, bg, exact_max_features=8, n_samples=3000).explain(X, target=0).values
    state = np.random.get_state()
    np.random.seed(0)  # shap samples coalitions from numpy's global generator
    try:
        theirs = np.asarray(shap.KernelExplainer(torch_fn(model, 0), bg).shap_values(
            X, nsamples=3000, l1_reg=False, silent=True)).reshape(exact.shape)
    finally:
        np.random.set_state(state)
    scale = np.abs(exact).max(1, keepdims=True)
    # both sample 3000 of the 4094 coalitions: each within 3% of the largest exact value, so within 6% of each other
    assert (np.abs(theirs - exact) / scale).max() < 0.03 and (np.abs(ours - exact) / scale).max() < 0.03
    assert (np.abs(ours - theirs) / scale).max() < 0.06


def test_seeded_rerun_identical_and_seed_matters() -> None:
    f, _ = quadratic(20, seed=1)
    g = lambda Z: np.tanh(f(Z))  # noqa: E731  (higher-order interactions: the sample matters)
    rng = np.random.default_rng(0)
    bg, X = rng.normal(size=(5, 20)), rng.normal(size=(3, 20))
    a = KernelShap(g, bg, n_samples=300, seed=7).explain(X).values
    b = KernelShap(g, bg, n_samples=300, seed=7).explain(X).values
    c = KernelShap(g, bg, n_samples=300, seed=8).explain(X).values
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_groups_on_one_hot_model_equal_grouped_game() -> None:
    rng = np.random.default_rng(4)
    cats = rng.integers(0, 3, size=40)
    onehot = np.eye(3)[cats]
    Xfull = np.concatenate([rng.normal(size=(40, 2)), onehot, rng.normal(size=(40, 1))], axis=1)  # 6 columns
    groups = [[0], [1], [2, 3, 4], [5]]
    model = mlp(6, k=2, seed=4)
    e = KernelShap(model, Xfull[:7], groups=groups, feature_names=["a", "b", "c=0", "c=1", "c=2", "d"]).explain(
        Xfull[20:23], target=1)
    assert e.values.shape == (3, 4) and e.feature_names == ["a", "b", "c=0+c=1+c=2", "d"]
    assert e.diagnostics["n_coalitions"] == 16 and e.params["groups"] == groups
    for i in range(3):
        ref = brute_force(torch_fn(model, 1), Xfull[20 + i], Xfull[:7], groups)
        np.testing.assert_allclose(e.values[i], ref, atol=1e-6)
    np.testing.assert_array_equal(e.diagnostics["inputs"], Xfull[20:23])


@pytest.mark.parametrize("exact_max", [16, 4])
def test_batched_equals_per_sample_and_chunking_does_not_matter(exact_max: int) -> None:
    model = mlp(7, seed=9)
    rng = np.random.default_rng(9)
    bg, X = rng.normal(size=(8, 7)), rng.normal(size=(5, 7))
    kw = {"exact_max_features": exact_max, "n_samples": 60}
    batch = KernelShap(model, bg, **kw).explain(X, target=1)
    tiny = KernelShap(model, bg, batch_size=50, **kw).explain(X, target=1)  # tiles split coalitions
    np.testing.assert_allclose(tiny.values, batch.values, atol=1e-12)
    for i in range(5):
        one = KernelShap(model, bg, **kw).explain(X[i:i + 1], target=1)
        np.testing.assert_allclose(one.values[0], batch.values[i], atol=1e-12)
    numpy_path = KernelShap(lambda Z: model(torch.as_tensor(Z)).detach().numpy(), bg, **kw).explain(X, target=1)
    np.testing.assert_allclose(numpy_path.values, batch.values, atol=1e-10)


def test_torch_float32_probabilities_and_training_flag_restored() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).train()
    rng = np.random.default_rng(0)
    bg, X = rng.normal(size=(6, 5)), rng.normal(size=(3, 5))
    e = KernelShap(model, bg, output="probabilities").explain(X, target=1)
    assert model.training
    p = torch.sigmoid(model(torch.as_tensor(X, dtype=torch.float32))).detach().numpy()[:, 0]
    np.testing.assert_allclose(e.outputs, p, atol=1e-6)
    np.testing.assert_allclose(e.values.sum(1), e.outputs - e.base_values, atol=1e-8)
    with pytest.raises(ValueError, match="out of range: the model has 2 outputs"):
        KernelShap(model, bg, output="probabilities").explain(X, target=2)


def test_background_summary_kmeans_sample_and_big_background_warning() -> None:
    rng = np.random.default_rng(0)
    big = rng.normal(size=(300, 4))
    f = lambda Z: Z @ [1.0, 2.0, 3.0, 4.0]  # noqa: E731
    with pytest.warns(UserWarning, match="background has 300 rows"):
        full = KernelShap(f, big)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km = KernelShap(f, big, background_size=20)
        sm = KernelShap(f, big, background_size=20, background_summary="sample", seed=3)
    assert len(full.background) == 300 and len(km.background) <= 20 and len(sm.background) == 20
    assert abs(km.background_weights.sum() - 1) < 1e-12
    # weighted k-means centres keep the background mean, so a linear model's base value is unchanged
    x = rng.normal(size=(2, 4))
    np.testing.assert_allclose(km.explain(x).base_values, full.explain(x).base_values, atol=1e-8)
    np.testing.assert_array_equal(KernelShap(f, big, background_size=20, background_summary="sample",
                                             seed=3).background, sm.background)


def test_bad_inputs_are_named() -> None:
    bg, X = np.zeros((4, 3)), np.ones((2, 3))
    with pytest.raises(ValueError, match="background is empty"):
        KernelShap(lambda Z: Z, np.zeros((0, 3)))
    with pytest.raises(ValueError, match="X has 4 features but the background/training data has 3"):
        KernelShap(lambda Z: Z, bg).explain(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"returned shape \(1,\) for 2 input rows"):
        KernelShap(lambda Z: Z[:1, 0], bg).explain(X)
    with pytest.raises(ValueError, match="returned NaN"):
        KernelShap(lambda Z: np.where(Z[:, :1] == 1, np.nan, 0.0), bg).explain(X, target=0)
    with pytest.raises(ValueError, match="returned NaN"):
        masked_nan = lambda Z: np.where((Z[:, :1] == 1) & (Z[:, 1:2] == 0), np.nan, 0.0)  # noqa: E731
        KernelShap(masked_nan, bg).explain(X, target=0)  # NaN only on masked rows
    with pytest.raises(ValueError, match="target 3 is out of range: the model has 3 outputs"):
        KernelShap(lambda Z: Z, bg).explain(X, target=3)
    with pytest.raises(ValueError, match="partition"):
        KernelShap(lambda Z: Z, bg, groups=[[0], [1]])
    with pytest.raises(ValueError, match="feature index 5"):
        KernelShap(lambda Z: Z, bg, groups=[[0], [1, 5]])
    with pytest.raises(ValueError, match="feature_names"):
        KernelShap(lambda Z: Z, bg, feature_names=["a"])
    with pytest.raises(ValueError, match="n_samples"):
        KernelShap(lambda Z: Z, bg, n_samples=1)
    calls = []

    def shifty(Z: np.ndarray) -> np.ndarray:
        calls.append(len(Z))
        return np.zeros((len(Z), 2 if len(calls) < 3 else 3))

    with pytest.raises(ValueError, match="returned 3 outputs on masked rows but 2"):
        KernelShap(shifty, bg).explain(X, target=0)
