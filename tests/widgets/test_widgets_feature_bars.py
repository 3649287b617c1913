"""FeatureBars: validation, from_explanation, and the what-if loop driven the way the browser drives it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import traitlets
from sklearn.datasets import load_breast_cancer

from nbexplain.codec import encode_array
from nbexplain.explainers import get_explainer
from nbexplain.explanation import Explanation
from nbexplain.models import predict_proba
from nbexplain.widgets import FeatureBars

pytestmark = pytest.mark.usefixtures("nbx_bundle")


class FlakyMLP(torch.nn.Module):
    """A tiny MLP that raises while ``broken`` is set (a user model failing mid-session)."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(n_features, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
        self.broken = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.broken:
            raise RuntimeError("CUDA out of memory (simulated)\n  second line")
        return self.net(x)


@pytest.fixture(scope="module")
def table() -> tuple[np.ndarray, list[str], list[str]]:
    bc = load_breast_cancer()
    X = bc.data[:80, :6]
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    return X, [str(n) for n in bc.feature_names[:6]], [str(c) for c in bc.target_names]


@pytest.fixture
def mlp() -> FlakyMLP:
    torch.manual_seed(0)
    return FlakyMLP(6)


def send_sample_like_js(w: FeatureBars, x: np.ndarray) -> None:
    """Deliver a what-if sample as the front end does: an update message with a binary buffer."""
    enc = encode_array(np.asarray(x, np.float32))
    buf = enc.pop("data")
    msg = {"content": {"data": {"method": "update", "state": {"sample": enc}, "buffer_paths": [["sample", "data"]]}},
           "buffers": [memoryview(bytes(buf))]}
    w._handle_msg(msg)


def test_bars_take_their_share_of_a_row() -> None:
    import ipywidgets

    w = FeatureBars(np.ones(3))
    assert (w.layout.flex, w.layout.min_width) == ("1 1 auto", "0")
    own = ipywidgets.Layout(width="300px")
    assert FeatureBars(np.ones(3), layout=own).layout is own


def test_names_default_and_must_match_values() -> None:
    assert FeatureBars([1.0, -2.0, 0.5]).feature_names == ["feature 0", "feature 1", "feature 2"]
    assert FeatureBars([1.0, 2.0], ["x", "x"]).feature_names == ["x", "x"]  # duplicates are allowed
    with pytest.raises(traitlets.TraitError, match="feature_names has 2 names but values has 3 entries"):
        FeatureBars([1.0, 2.0, 3.0], ["a", "b"])
    with pytest.raises(traitlets.TraitError, match="feature_values has 2 entries but values has 3"):
        FeatureBars([1.0, 2.0, 3.0], feature_values=[1.0, 2.0])
    with pytest.raises(traitlets.TraitError, match=r"'values' of FeatureBars must be 1-D; got shape \[2, 2\]"):
        FeatureBars(np.zeros((2, 2)))


def test_settings_validation_and_unknown_kwargs() -> None:
    with pytest.raises(traitlets.TraitError, match=r"'mode'.*\['bars', 'waterfall'\]"):
        FeatureBars([1.0], mode="pie")
    with pytest.raises(traitlets.TraitError, match=r"'top_k'.*less than 0"):
        FeatureBars([1.0], top_k=-1)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'names'; valid ones are: .*feature_names"):
        FeatureBars([1.0], names=["a"])


def test_update_changes_the_feature_count_in_one_step() -> None:
    w = FeatureBars([1.0, 2.0], feature_values=[0.0, 0.0])
    w.update(values=[1.0, 2.0, 3.0], feature_names=["a", "b", "c"], feature_values=[1.0, 1.0, 1.0], mode="waterfall")
    assert w.values.size == 3 and w.mode == "waterfall"
    with pytest.raises(traitlets.TraitError, match="feature_names has 2 names"):
        w.update(values=[1.0, 2.0, 3.0, 4.0], feature_names=["a", "b"])
    assert w.feature_names == ["a", "b", "c"]


def test_from_explanation_picks_the_target_column() -> None:
    values = np.arange(12.0).reshape(2, 3, 2)  # 2 samples, 3 features, 2 outputs
    e = Explanation(values, base_values=[[0.1, 0.9], [0.2, 0.8]], data=[[1, 2, 3], [4, 5, 6]],
                    feature_names=["a", "b", "c"], target=[1, 0], outputs=[0.7, 0.3])
    w = FeatureBars.from_explanation(e[0], mode="waterfall")
    assert w.values.tolist() == [1.0, 3.0, 5.0] and w.base_value == 0.9 and w.prediction == 0.7
    assert w.feature_names == ["a", "b", "c"] and w.feature_values.tolist() == [1, 2, 3]
    assert FeatureBars.from_explanation(e[1], output=1).values.tolist() == [7.0, 9.0, 11.0]
    with pytest.raises(ValueError, match="single-sample"):
        FeatureBars.from_explanation(e)


def test_what_if_edit_matches_a_direct_computation(table: Any, mlp: FlakyMLP) -> None:
    X, names, classes = table
    w = FeatureBars.what_if(mlp, X[0], explainer="saliency", data=X, feature_names=names, class_names=classes)
    target = int(predict_proba(mlp, X[:1])[0].argmax())
    assert w.whatif and w.prediction_label == f"P({classes[target]})"
    assert w.slider_min.tolist() == pytest.approx(X.min(0).tolist())
    np.testing.assert_allclose(w.slider_step, (X.max(0) - X.min(0)) / 100, rtol=1e-6)
    before = w.values.copy()

    edited = X[0].copy()
    edited[2] = X[:, 2].max() + 5.0  # beyond the slider: accepted
    send_sample_like_js(w, edited)
    assert w.error == "" and not w.busy
    direct = get_explainer("saliency", mlp).explain(edited[None], target=target)[0]
    np.testing.assert_allclose(w.values, direct.values, rtol=1e-5)
    assert w.prediction == pytest.approx(predict_proba(mlp, edited[None])[0, target])
    np.testing.assert_array_equal(w.feature_values, edited)
    assert not np.allclose(w.values, before)
    assert w.prediction_label == f"P({classes[target]})"  # the target class stays fixed
    assert w.explanation.target == target

    w.reset()
    np.testing.assert_array_equal(w.sample, X[0])
    np.testing.assert_allclose(w.values, before)


def test_model_failure_goes_to_error_and_the_widget_recovers(table: Any, mlp: FlakyMLP) -> None:
    X, _, _ = table
    w = FeatureBars.what_if(mlp, X[1], explainer="saliency", data=X)
    kept = w.values.copy()
    mlp.broken = True
    edited = X[1] + 0.5
    w.set_state({"sample": encode_array(edited)})
    assert w.error.startswith("RuntimeError: CUDA out of memory (simulated) second line (")
    assert "\n" not in w.error and not w.busy
    np.testing.assert_array_equal(w.values, kept)  # nothing half-updated
    mlp.broken = False
    w.set_state({"sample": encode_array(edited + 0.1)})
    assert w.error == ""
    assert w.prediction == pytest.approx(predict_proba(mlp, (edited + 0.1)[None].astype(np.float32))[0].max(), abs=0.5)


def test_a_wrong_length_sample_from_the_browser_is_rejected(table: Any, mlp: FlakyMLP) -> None:
    X, _, _ = table
    w = FeatureBars.what_if(mlp, X[2], explainer="saliency", data=X)
    send_sample_like_js(w, X[2][:4])
    assert "what-if sample rejected" in w.error and "4 values for 6 features" in w.error
    np.testing.assert_array_equal(w.sample, X[2])
    with pytest.raises(traitlets.TraitError, match="sample has 4 entries"):
        w.sample = X[2][:4]  # from Python it is an ordinary error
    send_sample_like_js(w, X[3])
    assert w.error == ""


def test_what_if_with_real_shap_is_additive(table: Any, mlp: FlakyMLP) -> None:
    """shap's PermutationExplainer, asked for by name, as the sliders move."""
    X, names, classes = table
    w = FeatureBars.what_if(mlp, X[0], data=X[:20], feature_names=names, class_names=classes, mode="waterfall",
                            explainer="shap")
    edited = X[0].copy()
    edited[0] -= 1.0
    w.set_state({"sample": encode_array(edited)})
    assert w.error == ""
    direct = get_explainer("shap", mlp, data=X[:20]).explain(edited[None], target=w.explanation.target)[0]
    np.testing.assert_allclose(w.values, direct.values, atol=1e-6)
    assert w.base_value + w.values.sum() == pytest.approx(w.prediction, abs=1e-4)


def test_what_if_default_is_exact_kernel_shap(table: Any, mlp: FlakyMLP) -> None:
    """The default explainer: nbexplain's KernelSHAP, exact below 17 features, additive, and fast."""
    X, names, classes = table
    w = FeatureBars.what_if(mlp, X[0], data=X[:20], feature_names=names, class_names=classes)
    edited = X[0].copy()
    edited[1] += 0.5
    w.set_state({"sample": encode_array(edited)})
    assert w.error == ""
    direct = get_explainer("kernel_shap", mlp, data=X[:20]).explain(edited[None], target=w.explanation.target)[0]
    np.testing.assert_allclose(w.values, direct.values, atol=1e-6)
    assert direct.diagnostics["exact"] is True
    assert w.base_value + w.values.sum() == pytest.approx(w.prediction, abs=1e-4)
