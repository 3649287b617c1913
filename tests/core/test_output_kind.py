"""One detection of "probabilities or logits", used by every entry point; and every view reads the layout.

The defects these pin down: ``LimeImage``, ``SampleExplorer`` and ``FeatureBars.what_if`` given a
function that already returns probabilities pushed them through softmax a second time (0.686
shown where the model said 0.890); a ShapPartition image explanation (H, W, C) was drawn as
C x H x W.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import nbexplain as nbx
from nbexplain.models import as_predict_fn, predict_proba
from nbexplain.output_kind import OutputKindError, declare, detect, remembered_kind

rng = np.random.default_rng(0)
X = rng.normal(size=(30, 3))


def proba_fn(A: np.ndarray) -> np.ndarray:
    """Already probabilities: P(class 1) = sigmoid(2 x0)."""
    p = 1 / (1 + np.exp(-2 * np.asarray(A)[:, 0]))
    return np.c_[1 - p, p]


def test_detect_rule() -> None:
    assert detect(np.array([[0.1, 0.9], [0.5, 0.5]])) == "probabilities"
    assert detect(np.array([[0.1, 0.8]])) == "logits"  # does not sum to 1
    assert detect(np.array([[-0.2, 1.2]])) == "logits"  # sums to 1 but outside [0, 1]
    assert detect(np.array([[0.7], [0.2]])) == "probabilities"  # a sigmoid column
    assert detect(np.array([[2.5], [-1.0]])) == "logits"


def test_predict_wrapper_does_not_softmax_probabilities_twice() -> None:
    got = as_predict_fn(proba_fn, output="probabilities")(X[:5])
    np.testing.assert_allclose(got, proba_fn(X[:5]))


def test_torch_model_ending_in_softmax_is_not_softmaxed_again() -> None:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=1))
    want = m(torch.as_tensor(X[:5], dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(predict_proba(m, X[:5]), want, rtol=1e-6)
    e = nbx.KernelShap(m, X[:4], output="probabilities").explain(X[:2])
    np.testing.assert_allclose(e.outputs, want[np.arange(2), e.target], rtol=1e-5)


def test_logits_still_go_through_softmax() -> None:
    lin = nn.Linear(3, 2)
    z = lin(torch.as_tensor(X[:4], dtype=torch.float32)).detach().double().numpy()
    want = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(predict_proba(lin, X[:4]), want, rtol=1e-6)


def test_one_row_cannot_flip_what_the_first_batch_decided() -> None:
    def logit(A: np.ndarray) -> np.ndarray:  # one logit column, sometimes inside [0, 1]
        return np.asarray(A)[:, :1] * 3.0

    predict_proba(logit, X)  # the first batch holds values outside [0, 1]: logits
    row = np.array([[0.1, 0.0, 0.0]])  # logit 0.3: a fresh guess would take it as P = 0.3
    np.testing.assert_allclose(predict_proba(logit, row)[0, 1], 1 / (1 + np.exp(-0.3)))


def test_declare_and_returns_override_the_guess() -> None:
    def scores(A: np.ndarray) -> np.ndarray:
        return np.full((len(A), 2), 0.5)  # looks like probabilities, is not

    declare(scores, "logits")
    assert remembered_kind(scores, np.full((1, 2), 0.5)) == "logits"
    declare(scores, "auto")
    assert remembered_kind(scores, np.full((1, 2), 0.5)) == "probabilities"
    with pytest.raises(ValueError, match="returns must be one of"):
        as_predict_fn(scores, output="probabilities", returns="softmax")


def test_probabilities_that_stop_being_probabilities_raise() -> None:
    f = as_predict_fn(lambda A: np.asarray(A)[:, :2], output="probabilities", returns="probabilities")
    with pytest.raises(OutputKindError, match="returns='logits'"):
        f(np.array([[3.0, 1.0, 0.0]]))


def test_feature_bars_what_if_shows_the_models_probability() -> None:
    x = np.array([1.045, 0.2, -0.3])  # P(class 1) = 0.890
    w = nbx.FeatureBars.what_if(proba_fn, x, data=X, explainer="shap")
    assert w.prediction == pytest.approx(proba_fn(x[None])[0, 1], abs=1e-6)
    w.close()


def test_sample_explorer_shows_the_models_probabilities() -> None:
    ex = nbx.SampleExplorer(proba_fn, X[:6], method="kernel_shap", background=X[:5])
    np.testing.assert_allclose(ex.probabilities(2), proba_fn(X[2:3])[0], rtol=1e-9)
    ex.close()


def test_lime_image_explains_the_models_probability() -> None:
    imgs = rng.random((1, 8, 8, 3))

    def f(B: np.ndarray) -> np.ndarray:
        p = np.asarray(B).mean(axis=(1, 2, 3))
        return np.c_[1 - p, p]

    e = nbx.LimeImage(f, num_samples=30, segmentation="slic").explain(imgs, target=1)
    assert e.outputs[0] == pytest.approx(f(imgs)[0, 1], abs=1e-9)


# -- layout ----------------------------------------------------------------------------------------
def test_shap_partition_image_is_drawn_channels_first() -> None:
    from nbexplain.explainers.perturbation.shap_library import ShapPartition

    img = np.zeros((1, 6, 8, 3))
    img[0, :, :4, 0] = 1.0  # the left half of the red channel decides the output

    def f(B: np.ndarray) -> np.ndarray:
        s = np.asarray(B)[:, :, :4, 0].mean(axis=(1, 2))
        return np.c_[s, 1 - s]

    e = ShapPartition(f, "image", max_evals=200).explain(img, target=0)
    assert e.layout == "HWC"
    h = nbx.Heatmap.from_explanation(e[0])
    from nbexplain.codec import decode_array

    vals = decode_array(h.values) if isinstance(h.values, dict) else np.asarray(h.values)
    assert vals.shape[-2:] == (6, 8)  # H x W, not W x C
    np.testing.assert_allclose(np.asarray(vals).reshape(-1, 6, 8).sum(0),
                               np.asarray(e[0].values).sum(-1), rtol=1e-2, atol=1e-3)
    h.close()


def test_layout_is_stated_and_checked() -> None:
    assert nbx.Explanation(np.zeros((2, 3))).layout == "features"
    assert nbx.Explanation(np.zeros((2, 1, 4, 4))).layout == "CHW"
    with pytest.raises(ValueError, match="layout 'HWC' needs 3-D"):
        nbx.Explanation(np.zeros((2, 4)), layout="HWC")
    with pytest.raises(ValueError, match="not an image"):
        nbx.Explanation(np.zeros((2, 4)))[0].image_values()
    lin = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 2))
    e = nbx.LayerGradientXActivation(lin, layer="0").explain(torch.zeros(1, 1, 6, 6))
    assert e.layout == "layer" and e[0:1].layout == "layer"
