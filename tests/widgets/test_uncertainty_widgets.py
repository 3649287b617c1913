"""Error bars in the widgets: FeatureBars' ``errors`` trait (codec, validation, tied to its values), set
from an explanation's standard errors by ``from_explanation``, CompareView and the Dashboard."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from nbexplain.codec import decode_array
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explanation import Explanation
from nbexplain.widgets import FeatureBars
from nbexplain.widgets.dashboard import Dashboard
from nbexplain.widgets.explore.compare_view import CompareView
from nbexplain.widgets.views.feature_bars import errors_of

pytestmark = pytest.mark.usefixtures("nbx_bundle")

F = 20


def _proba(X: np.ndarray) -> np.ndarray:
    z = X[:, 0] - 0.8 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3] * X[:, 4] + 0.2 * X[:, 5:].sum(1)
    p = 1 / (1 + np.exp(-z))
    return np.c_[1 - p, p]


@pytest.fixture(scope="module")
def table() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(60, F))
    return X, (_proba(X)[:, 1] > 0.5).astype(int)


@pytest.fixture(scope="module")
def sampled(table: tuple[np.ndarray, np.ndarray]) -> Explanation:
    X, _ = table
    return KernelShap(_proba, X[:8]).explain(X[10:13], target=1)  # 20 features: sampled, adaptive


def test_errors_travel_in_the_codec_and_are_checked() -> None:
    w = FeatureBars(np.array([0.5, -0.2, 0.1]), ["a", "b", "c"], errors=[0.05, np.nan, 0.0])
    state = w.get_state()["errors"]
    assert set(state) >= {"dtype", "shape", "data"} and state["shape"] == [3]
    np.testing.assert_array_equal(decode_array(state), np.array([0.05, np.nan, 0.0], np.float32))
    with pytest.raises(traitlets.TraitError, match="errors has 2 entries but values has 3"):
        w.errors = [0.1, 0.2]
    with pytest.raises(traitlets.TraitError, match=r"errors must be standard errors \(>= 0.*entry 1 is -0.1"):
        w.errors = [0.1, -0.1, 0.0]
    with pytest.raises(traitlets.TraitError, match="must be 1-D"):
        w.errors = np.zeros((3, 1))
    assert FeatureBars(np.zeros(2)).errors is None  # optional


def test_errors_belong_to_their_values() -> None:
    w = FeatureBars(np.array([0.5, -0.2]), errors=[0.1, 0.1])
    w.update(values=np.array([0.4, -0.3]), errors=[0.2, 0.3])
    np.testing.assert_allclose(w.errors, [0.2, 0.3])
    w.update(values=np.array([0.1, 0.2, 0.3]), feature_names=list("xyz"))  # new values, no errors: cleared
    assert w.errors is None
    w.update(errors=[0.01, 0.02, 0.03])
    w.values = np.array([1.0, 2.0, 3.0])  # set on their own: old errors would be drawn on new values
    assert w.errors is None


def test_from_explanation_draws_the_standard_errors(sampled: Explanation) -> None:
    assert sampled.method == "kernel_shap"
    w = FeatureBars.from_explanation(sampled[1])
    np.testing.assert_allclose(w.errors, sampled.diagnostics["std_error"][1])
    assert (w.errors > 0).all()
    exact = Explanation(np.ones((1, 3)), diagnostics={"std_error": np.zeros((1, 3))})
    assert FeatureBars.from_explanation(exact[0]).errors is None  # exact values: nothing to draw
    assert FeatureBars.from_explanation(Explanation(np.ones((1, 3)))[0]).errors is None
    # per-output values pick the output's column, as the values do
    se = np.arange(6.0).reshape(1, 3, 2) / 10
    multi = Explanation(np.ones((1, 3, 2)), base_values=np.zeros((1, 2)), target=[1], diagnostics={"std_error": se})
    np.testing.assert_allclose(errors_of(multi[0]), [0.1, 0.3, 0.5])
    np.testing.assert_allclose(FeatureBars.from_explanation(multi[0], output=0).errors, [0.0, 0.2, 0.4])
    wrong = Explanation(np.ones((1, 3)), diagnostics={"std_error": np.ones((1, 2))})
    assert errors_of(wrong[0]) is None


def test_compare_view_draws_whiskers_only_for_sampled_methods(sampled: Explanation) -> None:
    plain = Explanation(sampled.values[:1] * 0.9, base_values=sampled.base_values[:1], data=sampled.data[:1])
    cv = CompareView()
    cv.show({"kernel_shap": sampled[0], "plain": plain})
    np.testing.assert_allclose(cv.views["kernel_shap"].errors, sampled.diagnostics["std_error"][0])
    assert cv.views["plain"].errors is None
    cv.show({"kernel_shap": RuntimeError("model failed"), "plain": plain})  # a failed method: no stale whiskers
    assert cv.views["kernel_shap"].errors is None and not cv.views["kernel_shap"].values.any()


def test_dashboard_bars_carry_kernel_shap_errors(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    d = Dashboard(_proba, X, y, methods=["kernel_shap"], background=X[:8], sync=True)
    try:
        d.select(4)
        e = d.explanations()["kernel_shap"]
        bars = d.compare.views["kernel_shap"]
        assert e.diagnostics["std_error"].shape == (F,)
        np.testing.assert_allclose(bars.errors, e.diagnostics["std_error"], rtol=1e-6)
    finally:
        d.close()
