"""Known answers and named errors for permutation importance, PDP/ICE and surrogate models."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from nbexplain.explainers.global_methods.partial_dependence import partial_dependence
from nbexplain.explainers.global_methods.permutation import permutation_importance
from nbexplain.explainers.global_methods.surrogates import GlobalSurrogate, LocalSurrogate


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(300, 4))


def g1(v):
    return np.sin(2 * v) + v**2


def g2(v):
    return np.exp(0.5 * v)


def additive(A):
    return g1(A[:, 0]) + g2(A[:, 1])


W = np.array([3.0, -2.0, 0.5, 0.0])


def linear(A):
    return A @ W + 1.0


# -- permutation importance ----------------------------------------------------------------
def test_permutation_unused_feature_is_exactly_zero_and_used_rank_by_weight(X):
    y = linear(X)
    e = permutation_importance(linear, X, y, n_repeats=4)
    assert e.values.shape == (1, 4) and e.method == "permutation_importance"
    assert e.values[0, 3] == 0.0 and np.all(e.diagnostics["repeats"][0, 3] == 0.0)
    assert list(np.argsort(-e.values[0])[:3]) == [0, 1, 2]
    d = e.diagnostics
    assert d["metric"] == "r2" and d["baseline_score"] == pytest.approx(1.0)
    assert d["std"].shape == (1, 4) and d["repeats"].shape == (1, 4, 4)


def test_permutation_unused_feature_small_with_noise(X):
    rng = np.random.default_rng(1)
    y = linear(X) + rng.normal(scale=0.5, size=len(X))
    e = permutation_importance(lambda A: A[:, :3] @ W[:3] + 1.0, X, y, metric="mse")
    assert e.values[0, 3] == 0.0 and e.values[0, 0] > 10


def test_permutation_seeded_rerun_identical_and_batch_equals_unbatched(X):
    y = linear(X)
    a = permutation_importance(linear, X, y, seed=3)
    b = permutation_importance(linear, X, y, seed=3)
    c = permutation_importance(linear, X, y, seed=3, batch=False)
    np.testing.assert_array_equal(a.diagnostics["repeats"], b.diagnostics["repeats"])
    np.testing.assert_allclose(a.diagnostics["repeats"], c.diagnostics["repeats"], atol=1e-12)
    assert not np.array_equal(a.values, permutation_importance(linear, X, y, seed=4).values)


def test_permutation_classifier_auto_accuracy_groups_and_callable(X):
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    clf = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    e = permutation_importance(clf, X, y, groups={"ab": [0, 1], "cd": ["x2", "x3"]})
    assert e.diagnostics["metric"] == "accuracy" and e.feature_names == ["ab", "cd"]
    assert e.values[0, 0] > 0.3
    ll = permutation_importance(clf, X, y, metric="log_loss")
    assert ll.values[0, 0] > 0 and ll.diagnostics["metric"] == "log_loss"

    def neg_mae(yt, out):
        return -float(np.mean(np.abs(yt - out[:, 1])))
    cm = permutation_importance(clf, X, y, metric=neg_mae)
    assert cm.diagnostics["metric"] == "neg_mae" and cm.values[0, 0] > 0


def test_permutation_named_errors(X):
    with pytest.raises(ValueError, match="y has 10 entries but X has 300 rows"):
        permutation_importance(linear, X, np.zeros(10))
    with pytest.raises(ValueError, match="metric must be"):
        permutation_importance(linear, X, linear(X), metric="f1")
    with pytest.raises(ValueError, match="empty"):
        permutation_importance(linear, np.zeros((0, 4)), np.zeros(0))
    with pytest.raises(ValueError, match="2 feature_names but X has 4"):
        permutation_importance(linear, X, linear(X), feature_names=["a", "b"])
    with pytest.raises(KeyError, match="did you mean 'x1'"):
        permutation_importance(linear, X, linear(X), groups=[["x1x"]])


# -- PDP and ICE ---------------------------------------------------------------------------
def test_pdp_recovers_additive_component_and_ice_parallel(X):
    pd = partial_dependence(additive, X, 0, grid_resolution=15)
    grid = pd.grid[0]
    assert grid.shape == (15,) and pd.ice.shape == (300, 15) and pd.categorical == [False]
    diff = pd.average - g1(grid)
    np.testing.assert_allclose(diff, diff[0], atol=1e-10)  # g1 up to a constant
    np.testing.assert_allclose(diff[0], g2(X[:, 1]).mean(), atol=1e-10)
    centred = pd.ice - pd.ice[:, :1]
    np.testing.assert_allclose(centred, np.broadcast_to(centred[0], centred.shape), atol=1e-10)
    assert grid[0] == pytest.approx(np.quantile(X[:, 0], 0.05))
    assert grid[-1] == pytest.approx(np.quantile(X[:, 0], 0.95))


def test_pdp_2d_of_additive_is_sum_of_1d_minus_constant(X):
    p2 = partial_dependence(additive, X, ("x0", "x1"), grid_resolution=8, kind="average")
    p0 = partial_dependence(additive, X, 0, grid_resolution=8, kind="average")
    p1 = partial_dependence(additive, X, 1, grid_resolution=8, kind="average")
    assert p2.average.shape == (8, 8) and p2.ice is None
    np.testing.assert_array_equal(p2.grid[0], p0.grid[0])
    diff = p2.average - (p0.average[:, None] + p1.average[None, :])
    np.testing.assert_allclose(diff, diff[0, 0], atol=1e-10)


def test_pdp_categorical_grid_uniform_grid_sample_and_target(X):
    Xc = X.copy()
    Xc[:, 2] = np.arange(300) % 4
    pd = partial_dependence(lambda A: A[:, 2] * 2.0, Xc, 2, sample=20, seed=1)
    assert pd.categorical == [True] and pd.grid[0].tolist() == [0.0, 1.0, 2.0, 3.0]
    np.testing.assert_allclose(pd.average, [0.0, 2.0, 4.0, 6.0])
    assert pd.ice.shape == (20, 4) and len(set(pd.ice_rows.tolist())) == 20
    again = partial_dependence(lambda A: A[:, 2] * 2.0, Xc, 2, sample=20, seed=1)
    np.testing.assert_array_equal(pd.ice_rows, again.ice_rows)
    u = partial_dependence(linear, X, 0, grid="uniform", grid_resolution=5, categorical=False)
    np.testing.assert_allclose(np.diff(u.grid[0]), np.diff(u.grid[0])[0])
    two = partial_dependence(lambda A: np.c_[A[:, 0], -A[:, 0]], X, 0, target=0, kind="individual")
    assert two.target == 0 and np.all(np.diff(two.average) > 0)
    d = pd.to_dict()
    assert d["grid"] == [[0.0, 1.0, 2.0, 3.0]] and len(d["ice"]) == 20


def test_pdp_2d_ice_too_big_is_dropped_with_note(X, monkeypatch):
    # the package re-exports the function under the module's name, so fetch the module itself
    mod = importlib.import_module("nbexplain.explainers.global_methods.partial_dependence")
    monkeypatch.setattr(mod, "MAX_ICE_VALUES", 100)
    pd = partial_dependence(additive, X, (0, 1), grid_resolution=5)
    assert pd.ice is None and pd.average.shape == (5, 5) and "2-D ICE not kept" in pd.notes[0]


def test_pdp_named_errors(X):
    with pytest.raises(KeyError, match="did you mean 'x1'"):
        partial_dependence(additive, X, "x1 ")
    with pytest.raises(IndexError, match="feature index 9 not found"):
        partial_dependence(additive, X, 9)
    Xc = X.copy()
    Xc[:, 3] = 7.0
    with pytest.raises(ValueError, match="feature 'x3' is constant"):
        partial_dependence(additive, Xc, 3)
    with pytest.raises(ValueError, match="one feature or a pair"):
        partial_dependence(additive, X, [0, 1, 2])
    with pytest.raises(ValueError, match="returned NaN"):
        partial_dependence(lambda A: np.full(len(A), np.nan), X, 0)
    with pytest.raises(ValueError, match="returned shape"):
        partial_dependence(lambda A: A[:3, 0], X, 0)


# -- surrogates ----------------------------------------------------------------------------
def test_linear_surrogate_of_linear_model_fidelity_one_and_coefficients(X):
    s = GlobalSurrogate(linear, kind="linear").fit(X)
    assert s.fidelity_metric == "r2" and abs(s.fidelity - 1.0) <= 1e-9
    np.testing.assert_allclose(s.coef, W, atol=1e-9)
    assert s.intercept == pytest.approx(1.0) and s.n_holdout == 75 and s.n_train == 225
    e = s.explain(X[:5])
    np.testing.assert_allclose(e.base_values + e.values.sum(axis=1), linear(X[:5]), atol=1e-9)


def test_lad_surrogate_robust_to_outlier(X):
    bad = X[:, 0] == X[:, 0].max()

    def f(A):
        return A @ W + 1.0 + 1e4 * (A[:, 0] >= X[:, 0].max())

    ls = GlobalSurrogate(f, kind="linear", holdout=0).fit(X)
    lad = GlobalSurrogate(f, kind="lad", holdout=0).fit(X)
    assert bad.sum() == 1
    np.testing.assert_allclose(lad.coef, W, atol=1e-6)
    assert np.abs(ls.coef - W).max() > 1.0


def test_tree_surrogate_of_depth2_tree_has_accuracy_one():
    # features on a lattice, so a held-out row cannot fall between the two trees' thresholds
    X = np.random.default_rng(0).integers(0, 20, size=(400, 4)).astype(float)
    y = ((X[:, 0] > 6) & (X[:, 2] < 12)).astype(int)
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    s = GlobalSurrogate(model, kind="tree").fit(X)
    assert s.fidelity == 1.0 and s.fidelity_metric == "accuracy"
    assert "x0" in s.tree_text and s.feature_importances.shape == (4,)
    with pytest.raises(TypeError, match="no additive contributions"):
        s.explain(X)


def test_logistic_surrogate_and_one_class_error(X):
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    s = GlobalSurrogate(model, kind="logistic").fit(X)
    assert s.fidelity > 0.85 and s.coef.shape == (4,) and s.coef[0] > 0 > s.coef[1]
    assert s.explain(X[:3]).values.shape == (3, 4)
    one = lambda A: np.c_[np.ones(len(A)), np.zeros(len(A))]  # noqa: E731
    with pytest.raises(ValueError, match="the model predicts one class on X; a logistic surrogate needs two"):
        GlobalSurrogate(one, kind="logistic").fit(X)
    with pytest.raises(ValueError, match="needs a classifier"):
        GlobalSurrogate(linear, kind="logistic").fit(X)


def test_surrogate_named_errors(X):
    with pytest.raises(ValueError, match="empty"):
        GlobalSurrogate(linear).fit(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="kind must be one of"):
        GlobalSurrogate(linear, kind="forest")
    with pytest.raises(ValueError, match="returned shape"):
        GlobalSurrogate(lambda A: np.zeros((len(A) + 1, 1))).fit(X)
    s = GlobalSurrogate(linear).fit(X)
    with pytest.raises(ValueError, match="mismatched feature counts"):
        s.explain(X[:, :3])
    with pytest.raises(ValueError, match="mismatched feature counts"):
        LocalSurrogate(linear, X).explain(X[0, :3])
    tree = DecisionTreeClassifier(max_depth=1).fit(X[:, :3], X[:, 0] > 0)
    with pytest.raises(ValueError, match="X has 4 features, the model takes 3"):
        GlobalSurrogate(tree, kind="tree").fit(X)
    with pytest.raises(ValueError, match="empty"):
        LocalSurrogate(linear, np.zeros((0, 4)))


def test_local_surrogate_of_linear_model(X):
    e = LocalSurrogate(linear, X, num_samples=500).explain(X[:3])
    d = e.diagnostics
    np.testing.assert_allclose(d["coefficients"], np.broadcast_to(W, (3, 4)), atol=1e-9)
    np.testing.assert_allclose(d["fidelity"], 1.0, atol=1e-9)
    np.testing.assert_allclose(e.base_values + e.values.sum(axis=1), linear(X[:3]), atol=1e-9)
    np.testing.assert_allclose(e.values, W * (X[:3] - X.mean(axis=0)), atol=1e-9)
    assert d["worst_features"] == [[], [], []]
    single = LocalSurrogate(linear, X, num_samples=500).explain(X[0])
    np.testing.assert_array_equal(single.values, e.values[:1])


def test_local_surrogate_nonlinear_error_grows_with_distance(X):
    f = lambda A: A[:, 0] + A[:, 1] ** 2  # noqa: E731
    e = LocalSurrogate(f, X, num_samples=3000, seed=2).explain(X[:4])
    err = e.diagnostics["error_by_distance"]
    assert err.shape == (4, 5) and len(e.diagnostics["distance_bins"]) == 6
    assert np.all(err[:, -1] > 2 * err[:, 0])
    assert np.all(e.diagnostics["fidelity"] < 1.0)
    assert all(w[0] == "x1" for w in e.diagnostics["worst_features"])
    again = LocalSurrogate(f, X, num_samples=3000, seed=2).explain(X[:4])
    np.testing.assert_array_equal(e.values, again.values)


# -- batching and torch models -------------------------------------------------------------
class CountingModel:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, A):
        self.calls += 1
        return self.fn(A)


def test_batched_calls_are_few(X):
    m = CountingModel(linear)
    permutation_importance(m, X, linear(X), n_repeats=5)
    assert m.calls == 2  # the original rows, then all 20 permuted copies in one stack
    m.calls = 0
    partial_dependence(m, X, (0, 1), grid_resolution=10)
    assert m.calls == 1
    m.calls = 0
    LocalSurrogate(m, X, num_samples=300).explain(X[:10])
    assert m.calls == 1


def test_torch_model_through_all_three(X):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).train()
    y = net(torch.as_tensor(X, dtype=torch.float32)).detach().numpy().ravel()
    e = permutation_importance(net, X, y, n_repeats=2)
    assert e.diagnostics["baseline_score"] == pytest.approx(1.0) and net.training
    assert partial_dependence(net, X, 2, grid_resolution=6).average.shape == (6,)
    assert GlobalSurrogate(net, kind="lad").fit(X).coef.shape == (4,)
    assert LocalSurrogate(net, X, num_samples=200).explain(X[0]).values.shape == (1, 4)
