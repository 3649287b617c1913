"""SampleExplorer on digits (a tiny CNN, saliency heatmaps) and breast cancer (an MLP, what-if bars)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import traitlets
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression

from nbexplain.codec import encode_array
from nbexplain.explainers import get_explainer
from nbexplain.models import predict_proba
from nbexplain.widgets import FeatureBars, Heatmap, SampleExplorer
from nbexplain.widgets._traits import to_display_image

pytestmark = pytest.mark.usefixtures("nbx_bundle")


class CountingExplainer:
    """A real explainer that counts its calls and can be told to fail on chosen samples."""

    def __init__(self, inner: Any, fail_when: Any = None) -> None:
        self.inner, self.calls, self.fail_when = inner, 0, fail_when
        self.method = getattr(inner, "method", "")

    def explain(self, X: Any, target: Any = None) -> Any:
        self.calls += 1
        if self.fail_when is not None and self.fail_when(X):
            raise ValueError("cannot explain this sample")
        return self.inner.explain(X, target=target)


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, np.ndarray, torch.nn.Module]:
    d = load_digits()
    X = torch.tensor(d.images[:12, None] / 16.0, dtype=torch.float32)
    torch.manual_seed(0)
    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 64, 10)
    )
    return X, d.target[:12], cnn


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray, list[str], torch.nn.Module]:
    bc = load_breast_cancer()
    X = bc.data[:30, :5]
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    torch.manual_seed(1)
    mlp = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    return X, bc.target[:30], [str(n) for n in bc.feature_names[:5]], mlp


def test_image_explorer_switches_samples(digits: Any) -> None:
    X, y, cnn = digits
    ex = SampleExplorer(cnn, X, y, class_names=[f"digit {i}" for i in range(10)], index=2)
    assert isinstance(ex.heatmap, Heatmap) and ex.bars is None
    heatmap, panel = ex.heatmap, ex.panel
    for i in (2, 5):
        ex.index = i
        assert ex.slider.value == i and panel.index == i and panel.n_samples == 12
        probs = predict_proba(cnn, X[i : i + 1])[0]
        np.testing.assert_allclose(panel.probabilities, probs, rtol=1e-5)
        assert panel.true_label == f"digit {y[i]}" and panel.kind == "image"
        np.testing.assert_array_equal(panel.image, to_display_image(X[i, 0].numpy(), normalize=True))
        direct = get_explainer("saliency", cnn).explain(X[i : i + 1], target=int(probs.argmax()))[0]
        np.testing.assert_allclose(heatmap.values, direct.values.reshape(heatmap.values.shape), rtol=1e-5)
        assert heatmap.image.shape == (8, 8) and heatmap.error == ""
    assert ex.heatmap is heatmap and ex.panel is panel  # the same widgets are reused
    ex.slider.value = 7  # the slider drives the index
    assert ex.index == 7 and panel.index == 7
    assert ex.cached_label.value == "3 cached"


def test_cache_hit_does_not_recompute_and_evicts_lru(digits: Any) -> None:
    X, _, cnn = digits
    counting = CountingExplainer(get_explainer("saliency", cnn))
    ex = SampleExplorer(cnn, X, method=counting, cache_size=2)
    ex.index = 1
    ex.index = 0
    assert counting.calls == 2 and ex.cache_info() == {"hits": 1, "misses": 2, "size": 2, "maxsize": 2}
    first = ex.explanation(0)
    assert ex.explanation(0) is first and counting.calls == 2
    ex.index = 3  # evicts sample 1, the least recently used
    ex.index = 1
    assert counting.calls == 4 and ex.cache_info()["size"] == 2


def test_explainer_failure_shows_in_the_panel_and_the_explorer_goes_on(digits: Any) -> None:
    X, _, cnn = digits
    bad = X[4].numpy()
    counting = CountingExplainer(get_explainer("saliency", cnn), fail_when=lambda x: np.array_equal(x[0], bad))
    ex = SampleExplorer(cnn, X, method=counting, images=(X[:, 0].numpy() * 255).astype(np.uint8))
    kept = ex.heatmap.values.copy()
    ex.index = 4
    assert ex.heatmap.error.startswith("ValueError: cannot explain this sample")
    assert ex.panel.index == 4 and ex.panel.error == ""  # the panel still shows sample 4
    np.testing.assert_array_equal(ex.heatmap.values, kept)
    ex.index = 6
    assert ex.heatmap.error == "" and ex.heatmap.title.startswith("sample 6: saliency for ")


def test_table_explorer_reuses_what_if_bars(cancer: Any) -> None:
    X, y, names, mlp = cancer
    ex = SampleExplorer(mlp, torch.from_numpy(X), y, feature_names=names, class_names=["malignant", "benign"],
                        background=X[:15])
    bars = ex.bars
    assert isinstance(bars, FeatureBars) and bars.whatif and bars.feature_names == names
    assert ex.panel.kind == "table" and ex.panel.row_names == names
    np.testing.assert_allclose(bars.slider_min, X.min(0))
    ex.index = 3
    assert ex.bars is bars and ex.panel.index == 3
    np.testing.assert_array_equal(bars.sample, X[3])
    np.testing.assert_array_equal(ex.panel.row_values, X[3])
    target = int(predict_proba(mlp, X[3:4])[0].argmax())
    direct = get_explainer("kernel_shap", mlp, data=X[:15]).explain(X[3:4], target=target)[0]
    np.testing.assert_allclose(bars.values, direct.values, atol=1e-6)
    assert bars.prediction_label == f"P({['malignant', 'benign'][target]})"
    edited = X[3] + 0.75
    bars.set_state({"sample": encode_array(edited)})  # a slider moved
    assert bars.error == ""
    assert bars.prediction == pytest.approx(predict_proba(mlp, edited[None])[0, target], rel=1e-5)
    assert ex.explanation(3) is not bars.explanation  # edits are not cached as sample 3


def test_input_errors_are_named(digits: Any, cancer: Any) -> None:
    X, y, cnn = digits
    with pytest.raises(ValueError, match="no samples"):
        SampleExplorer(cnn, X[:0])
    with pytest.raises(ValueError, match="y has 5 labels but X has 12 samples"):
        SampleExplorer(cnn, X, y[:5])
    with pytest.raises(ValueError, match="class_names has 3 names but the model gives 10 outputs"):
        SampleExplorer(cnn, X, class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="images has 2 entries but X has 12 samples"):
        SampleExplorer(cnn, X, images=np.zeros((2, 8, 8)))
    Xt, yt, _, _ = cancer
    logreg = LogisticRegression().fit(Xt, yt)
    with pytest.raises(ValueError, match=r"saliency, which needs a torch.nn.Module; got a LogisticRegression"):
        SampleExplorer(logreg, np.zeros((3, 8, 8)))
    with pytest.raises(TypeError):
        SampleExplorer(cnn, X, colour="red")
    ex = SampleExplorer(cnn, X[:3])
    with pytest.raises(traitlets.TraitError, match=r"index 3 is out of range: 0..2"):
        ex.index = 3
    with pytest.raises(IndexError):
        ex.explanation(-1)


# ----------------------------------------------------------------------------- method choice
def test_image_method_dropdown_switches_method_and_caches_per_method(digits: Any) -> None:
    from nbexplain.widgets.explore.sample_explorer import IMAGE_METHODS

    X, _, cnn = digits
    ex = SampleExplorer(cnn, X, class_names=[f"digit {i}" for i in range(10)], index=2)
    assert ex.method_choice in ex.children[0].children  # in the selector row
    assert tuple(ex.method_choice.options) == IMAGE_METHODS and ex.method == "saliency"
    target = int(ex.probabilities(2).argmax())
    saliency = ex.heatmap.values.copy()
    assert ex.heatmap.title == f"sample 2: saliency for 'digit {target}'"
    ex.method_choice.value = "gradient_x_input"  # the dropdown drives the method
    assert ex.method == "gradient_x_input" and ex.heatmap.error == ""
    direct = get_explainer("gradient_x_input", cnn).explain(X[2:3], target=target)[0]
    np.testing.assert_allclose(ex.heatmap.values, direct.values.reshape(ex.heatmap.values.shape), rtol=1e-5)
    assert not np.allclose(ex.heatmap.values, saliency)
    assert ex.heatmap.title == f"sample 2: gradient_x_input for 'digit {target}'"
    assert ex.heatmap.value_label == "gradient_x_input"
    assert ex.cache_info() == {"hits": 0, "misses": 2, "size": 2, "maxsize": 256}
    ex.method = "saliency"  # back: a cache hit, the same map
    np.testing.assert_array_equal(ex.heatmap.values, saliency)
    assert ex.cache_info()["hits"] == 1 and ex.cache_info()["misses"] == 2
    assert ex.method_choice.value == "saliency"
    for name in IMAGE_METHODS:  # every offered method explains the sample
        ex.method = name
        assert ex.heatmap.error == "", (name, ex.heatmap.error)
        assert ex.heatmap.title.startswith("sample 2: ") and np.isfinite(ex.heatmap.values).all()
    assert ex.cache_info()["size"] == len(IMAGE_METHODS)
    ex.index = 5  # a new sample under the method now chosen
    assert ex.heatmap.title.startswith("sample 5: grad_cam for ")
    assert ex.explanation(5, "deeplift").method == "deeplift"
    with pytest.raises(traitlets.TraitError, match="not offered here"):
        ex.method = "shap"


def test_constructor_method_picks_the_initial_choice(digits: Any) -> None:
    X, _, cnn = digits
    ex = SampleExplorer(cnn, X, method="integrated_gradients", index=1)
    assert ex.method_choice.value == "integrated_gradients"
    assert ex.heatmap.title.startswith("sample 1: integrated_gradients for ")
    counting = CountingExplainer(get_explainer("saliency", cnn))
    given = SampleExplorer(cnn, X, method=counting)  # an explainer object is offered first
    assert given.method_choice.options[0] == "saliency (given)" and counting.calls == 1
    given.method = "deeplift"
    given.method = "saliency (given)"
    assert counting.calls == 1  # cached under its own option


def test_a_method_failing_on_the_model_shows_in_the_heatmap_and_the_explorer_goes_on(digits: Any) -> None:
    X, _, _ = digits
    torch.manual_seed(3)
    no_conv = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))  # images, but no conv layer
    ex = SampleExplorer(no_conv, X)
    kept = ex.heatmap.values.copy()
    ex.method = "grad_cam"
    assert ex.heatmap.error.startswith("NoConvLayerError: ") and "layer=" in ex.heatmap.error
    np.testing.assert_array_equal(ex.heatmap.values, kept)
    ex.index = 3
    assert ex.panel.index == 3 and ex.panel.error == "" and ex.heatmap.error.startswith("NoConvLayerError")
    ex.method = "deeplift"
    assert ex.heatmap.error == "" and ex.heatmap.title.startswith("sample 3: deeplift for ")


def test_table_method_dropdown_offers_shap_and_lime(cancer: Any) -> None:
    X, _, names, mlp = cancer
    ex = SampleExplorer(mlp, X, feature_names=names, background=X[:15], index=3)
    assert tuple(ex.method_choice.options) == ("kernel_shap", "shap", "lime_batched", "lime")
    assert ex.method == "kernel_shap" and ex.explanation(3).method.startswith("kernel_shap")
    # KernelSHAP explains the probability the panel shows: the waterfall ends at the prediction.
    e = ex.explanation(3)
    np.testing.assert_allclose(e.values.sum() + e.base_values, ex.bars.prediction, atol=1e-6)
    ex.method = "shap"
    shap_values = ex.bars.values.copy()
    ex.method = "lime"
    assert ex.bars.error == "" and ex.explanation(3).method.startswith("lime")
    target = int(predict_proba(mlp, X[3:4])[0].argmax())
    direct = get_explainer("lime", mlp, data=X[:15]).explain(X[3:4], target=target)[0]
    np.testing.assert_allclose(ex.bars.values, direct.values, atol=1e-6)
    assert not np.allclose(ex.bars.values, shap_values)
    assert ex.cache_info()["size"] == 3  # kernel_shap, shap and lime for sample 3
    with pytest.raises(traitlets.TraitError, match="not offered here"):
        ex.method = "saliency"
    lime_first = SampleExplorer(mlp, X, method="lime", background=X[:15])
    assert lime_first.method == "lime" and lime_first.explanation(0).method.startswith("lime")
