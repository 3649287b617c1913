"""Our batched tabular LIME against the lime package, and its own guarantees (seeded, batch-free, one call)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nbexplain.explainers.perturbation.lime_batched import LimeTabularBatched
from nbexplain.explainers.perturbation.lime_tabular import LimeTabular


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, object]:
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    return X, model


class CountingModel:
    """predict_proba that counts its calls and rows."""

    def __init__(self, model: object) -> None:
        self.model, self.calls, self.rows = model, 0, 0

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.rows += len(X)
        return self.model.predict_proba(X)  # type: ignore[attr-defined]


def test_agrees_with_lime_package_in_distribution(cancer: tuple[np.ndarray, object]) -> None:
    """Over 5 seeds each, mean coefficients agree within 0.03 (the largest are ~0.25), top-5 overlap >= 4."""
    X, model = cancer
    rows = X[[0, 1, 5]]
    ours = np.mean([LimeTabularBatched(model, X, num_samples=3000, seed=s).explain(rows, target=1).values
                    for s in range(5)], axis=0)
    ref = [LimeTabular(model, X, num_samples=3000, seed=s).explain(rows, target=1) for s in range(5)]
    theirs = np.mean([e.values for e in ref], axis=0)
    assert np.abs(ours - theirs).max() < 0.03, np.abs(ours - theirs).max()
    for a, b in zip(ours, theirs, strict=True):
        assert len(set(np.argsort(-np.abs(a))[:5]) & set(np.argsort(-np.abs(b))[:5])) >= 4
        big = np.abs(b) > 0.05
        assert big.sum() >= 5 and np.array_equal(np.sign(a[big]), np.sign(b[big]))
    ours_e = LimeTabularBatched(model, X, num_samples=3000, seed=0).explain(rows, target=1)
    theirs_score = np.mean([e.diagnostics["score"] for e in ref], axis=0)
    assert np.abs(ours_e.diagnostics["score"] - theirs_score).max() < 0.08
    assert np.abs(ours_e.base_values - np.mean([e.base_values for e in ref], axis=0)).max() < 0.05


def test_seeded_rerun_identical_and_batch_free(cancer: tuple[np.ndarray, object]) -> None:
    X, model = cancer
    lime = LimeTabularBatched(model, X, num_samples=500, seed=3)
    a, b = lime.explain(X[:6]), lime.explain(X[:6])
    assert np.array_equal(a.values, b.values) and np.array_equal(a.base_values, b.base_values)
    single = [lime.explain(X[i:i + 1]) for i in range(6)]
    assert np.array_equal(a.values, np.concatenate([e.values for e in single]))
    assert np.array_equal(a.diagnostics["score"], np.concatenate([e.diagnostics["score"] for e in single]))
    other = LimeTabularBatched(model, X, num_samples=500, seed=4).explain(X[:6])
    assert not np.array_equal(a.values, other.values)


def test_one_model_call_per_batch(cancer: tuple[np.ndarray, object]) -> None:
    X, model = cancer
    counting = CountingModel(model)
    e = LimeTabularBatched(counting, X, num_samples=400).explain(X[:7])
    assert counting.calls == 1 and counting.rows == 7 * 400
    assert e.values.shape == (7, 30) and e.diagnostics["local_prediction"].shape == (7,)
    assert e.method == "lime_tabular_batched" and e.target.tolist() == np.argmax(
        model.predict_proba(X[:7]), 1).tolist()  # type: ignore[attr-defined]


def test_local_prediction_is_intercept_plus_weights() -> None:
    """With discretisation, the sample's surrogate row is all ones: local = intercept + sum(values)."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)

    def f(Z: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-3 * Z[:, 2]))
        return np.stack([1 - p, p], 1)

    e = LimeTabularBatched(f, X, num_samples=2000).explain(X[:3], target=1)
    assert np.allclose(e.diagnostics["local_prediction"], e.base_values + e.values.sum(1))
    assert (np.argmax(np.abs(e.values), 1) == 2).all()
    assert e.diagnostics["score"].shape == (3,) and np.all((e.diagnostics["score"] > 0) & (e.diagnostics["score"] <= 1))


def test_continuous_mode_and_categorical_features() -> None:
    rng = np.random.RandomState(1)
    X = np.c_[rng.randn(300, 2), rng.randint(0, 3, 300)]

    def f(Z: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-(2 * Z[:, 0] + (Z[:, 2] == 1))))
        return np.stack([1 - p, p], 1)

    e = LimeTabularBatched(f, X, discretize_continuous=False, categorical_features=[2],
                           num_samples=3000).explain(X[:2], target=1)
    assert e.values.shape == (2, 3) and (e.values[:, 0] > 0).all() and abs(e.values[0, 1]) < 0.05
    d = LimeTabularBatched(f, X, discretizer="decile", num_samples=500).explain(X[:1])
    assert d.params["discretizer"] == "decile"
    reg = LimeTabularBatched(f, X, num_samples=500).explain(X[:2], target=lambda out: out[:, 1] - out[:, 0])
    assert reg.target is None and reg.output_names == ["target"]


def test_bad_inputs_named(cancer: tuple[np.ndarray, object]) -> None:
    X, model = cancer
    lime = LimeTabularBatched(model, X, num_samples=100)
    with pytest.raises(ValueError, match="has 5 features"):
        lime.explain(X[:2, :5])
    with pytest.raises(ValueError, match="training_data is empty"):
        LimeTabularBatched(model, np.zeros((0, 30)))
    with pytest.raises(ValueError, match="feature_names"):
        LimeTabularBatched(model, X, feature_names=["a"])
    with pytest.raises(ValueError, match="discretizer"):
        LimeTabularBatched(model, X, discretizer="entropy")
    with pytest.raises(ValueError, match="num_samples"):
        LimeTabularBatched(model, X, num_samples=2)
    with pytest.raises(ValueError, match="one column"):
        LimeTabularBatched(lambda Z: Z[:, :1], X, num_samples=50).explain(X[:1])
    with pytest.raises(ValueError, match="out of range"):
        lime.explain(X[:1], target=5)
    with pytest.raises(ValueError, match="NaN"):
        LimeTabularBatched(lambda Z: np.full((len(Z), 2), np.nan), X, num_samples=50).explain(X[:1])


def test_perturbations_follow_lime_sampling(cancer: tuple[np.ndarray, object]) -> None:
    """Per feature: bin frequencies within 0.02 and per-bin mean within 0.1 bin-std of lime's own draws."""
    from lime.lime_tabular import LimeTabularExplainer

    X, model = cancer
    ours = LimeTabularBatched(model, X, num_samples=20000)
    _, inv = ours._perturb(X[3])
    ref = LimeTabularExplainer(X, random_state=0)
    _, inv_ref = ref._LimeTabularExplainer__data_inverse(X[3], 20000)
    for f in range(X.shape[1]):
        edges = ours._edges[f]
        a, b = np.searchsorted(edges, inv[1:, f]), np.searchsorted(edges, inv_ref[1:, f])
        nb = len(edges) + 1
        assert np.abs(np.bincount(a, minlength=nb) - np.bincount(b, minlength=nb)).max() / 20000 < 0.02
        for k in range(nb):
            va, vb = inv[1:, f][a == k], inv_ref[1:, f][b == k]
            if len(vb) > 500 and vb.std() > 0:
                assert abs(va.mean() - vb.mean()) < 0.1 * vb.std(), (f, k)
                assert abs(va.std() / vb.std() - 1) < 0.1, (f, k)


def test_docstring_examples_run() -> None:
    import doctest

    from nbexplain.explainers.perturbation import lime_batched, lime_package, shap_library

    for module in (lime_batched, lime_package, shap_library):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
