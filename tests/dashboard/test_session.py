"""ExplainSession: the Dashboard's computations, checked against direct calls and exact answers."""

from __future__ import annotations

import numpy as np
import pytest

from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.session import ExplainSession, detect_kind


def _logistic(X: np.ndarray) -> np.ndarray:
    z = 1.5 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2]
    p = 1 / (1 + np.exp(-z))
    return np.c_[1 - p, p]


@pytest.fixture
def table() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(1).normal(size=(120, 4))
    y = (X[:, 0] > 0).astype(int)
    return X, y


def test_detect_kind() -> None:
    assert detect_kind(["a", "b"]) == "text"
    assert detect_kind(np.zeros((3, 2))) == "table"
    assert detect_kind(np.zeros((3, 8, 8))) == "image"
    with pytest.raises(ValueError, match="list of texts"):
        detect_kind("one string")
    with pytest.raises(ValueError, match="got shape"):
        detect_kind(np.zeros(3))


def test_probabilities_and_predictions(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    s = ExplainSession(_logistic, X, y, methods=["kernel_shap"])
    np.testing.assert_allclose(s.probabilities(), _logistic(X))
    np.testing.assert_array_equal(s.predicted, _logistic(X).argmax(axis=1))
    assert s.class_names == ["class 0", "class 1"]
    assert s.errors == {}


def test_one_failing_sample_is_isolated(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    X = X.copy()
    X[7, 0] = 999.0

    def flaky(A: np.ndarray) -> np.ndarray:
        if np.any(A[:, 0] == 999.0):
            raise ValueError("sensor fault")
        return _logistic(A)

    s = ExplainSession(flaky, X, y, methods=["kernel_shap"], background=X[10:20])
    p = s.probabilities(batch_size=32)
    assert np.isnan(p[7]).all() and np.isfinite(np.delete(p, 7, axis=0)).all()
    assert s.errors == {7: "ValueError: sensor fault"}
    assert s.predicted[7] == -1
    with pytest.raises(RuntimeError, match="sensor fault"):
        s.explain(7, "kernel_shap")
    assert s.explain(8, "kernel_shap").values.shape == (4,)
    assert 7 not in s.subsample(1000)


def test_model_failing_everywhere_is_a_clear_error(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table

    def broken(A: np.ndarray) -> np.ndarray:
        raise RuntimeError("weights not loaded")

    with pytest.raises(RuntimeError, match=r"failed on every sample.*weights not loaded"):
        ExplainSession(broken, X, y, methods=["kernel_shap"], background=X[:5]).probabilities()


def test_explain_matches_direct_kernel_shap_and_is_cached(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    s = ExplainSession(_logistic, X, y, methods=["kernel_shap"])
    e = s.explain(3, "kernel_shap")
    t = int(_logistic(X[3:4]).argmax())
    want = KernelShap(_logistic, s.background).explain(X[3:4], target=np.array([t]))[0]
    np.testing.assert_allclose(e.values, want.values, atol=1e-10)
    assert s.explain(3, "kernel_shap") is e and s.hits == 1 and s.misses == 1
    # completeness on the explained class: sum = f(x) - E_background f
    base = _logistic(s.background)[:, t].mean()
    assert e.values.sum() == pytest.approx(_logistic(X[3:4])[0, t] - base, abs=1e-9)


def test_explain_input_is_the_edited_row(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    s = ExplainSession(_logistic, X, y, methods=["kernel_shap"])
    row = X[0].copy()
    row[0] += 2.0
    e = s.explain_input(row, "kernel_shap", target=1)
    want = KernelShap(_logistic, s.background).explain(row[None], target=np.array([1]))[0]
    np.testing.assert_allclose(e.values, want.values, atol=1e-10)


def test_nan_rows_and_features(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    X = X.copy()
    X[5, 2] = np.nan
    s = ExplainSession(_logistic, X, y, methods=["kernel_shap"], feature_names=["a", "b", "<b>c</b>", "d"])
    assert np.flatnonzero(s.nan_rows()).tolist() == [5]
    assert s.nan_features(5) == ["<b>c</b>"] and s.nan_features(4) == []
    assert np.isfinite(s.background).all()


def test_global_attributions_batched_equals_whole(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    s = ExplainSession(_logistic, X, y, methods=["kernel_shap"])
    idx, vals = s.global_attributions("kernel_shap", n_max=40, batch_size=7)
    assert idx.size == 40 and np.all(np.diff(idx) > 0)
    for j in (0, 17, 39):
        np.testing.assert_allclose(vals[j], s.explain(int(idx[j]), "kernel_shap").values, atol=1e-10)


def test_global_attributions_cancel_between_batches(table: tuple[np.ndarray, np.ndarray]) -> None:
    from nbexplain.tasks import Cancelled, TaskControl

    X, y = table
    s = ExplainSession(_logistic, X, y, methods=["kernel_shap"])
    seen: list[float] = []

    class Stop(TaskControl):
        def progress(self, done: float, total: float | None = None, message: str = "") -> None:
            seen.append(done)
            if len(seen) == 2:
                self.cancel()

    with pytest.raises(Cancelled):
        s.global_attributions("kernel_shap", n_max=40, batch_size=5, control=Stop())
    assert seen == [5, 10]


def test_partial_dependence_and_surrogate(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    s = ExplainSession(_logistic, X, y, methods=["kernel_shap"])
    r = s.partial_dependence(0, grid_resolution=10)
    assert r.average.shape == (10,) and r.ice.shape[1] == 10
    # P(class) is monotone in feature 0 for this logistic model: increasing for class 1
    d = np.diff(r.average)
    assert np.all(d >= -1e-12) or np.all(d <= 1e-12)
    fit = s.surrogate()
    assert 0.5 < fit.fidelity <= 1.0 and fit.coef.shape == (4,)


def test_bad_input_messages(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    with pytest.raises(ValueError, match=r"got 2 feature_names but X has 4 features \(columns\)"):
        ExplainSession(_logistic, X, y, feature_names=["a", "b"], methods=["kernel_shap"])
    with pytest.raises(ValueError, match="one label per sample"):
        ExplainSession(_logistic, X, y[:-1], methods=["kernel_shap"])
    with pytest.raises(ValueError, match="did you mean 'kernel_shap'"):
        ExplainSession(_logistic, X, y, methods=["kernel_shapp"])
    with pytest.raises(ValueError, match="one to four methods"):
        ExplainSession(_logistic, X, y, methods=["kernel_shap", "lime", "shap", "lime_batched", "saliency"])
    with pytest.raises(ValueError, match="X_train and y_train together"):
        ExplainSession(_logistic, X, y, X_train=X, methods=["kernel_shap"])
    with pytest.raises(ValueError, match=r"need a torch\.nn\.Module"):
        ExplainSession(lambda A: A, np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="class_names has 3 names"):
        ExplainSession(_logistic, X, y, class_names=["a", "b", "c"], methods=["kernel_shap"]).probabilities()
