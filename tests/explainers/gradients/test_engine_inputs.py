"""The gradient engine's inputs: tuples of inputs, extra forward arguments, token ids, preprocess.

Checked against Captum on the same models (tuple inputs with ``additional_forward_args``,
``multiply_by_inputs=False``, ``LayerIntegratedGradients`` on an embedding fed token ids) and
against the axioms (completeness on the embeddings), plus the float64 accumulation of 500 steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients as CaptumIG
from captum.attr import LayerGradientXActivation as CaptumLayerGxA
from captum.attr import LayerIntegratedGradients as CaptumLayerIG
from captum.attr import Saliency as CaptumSaliency
from torch import nn

from nbexplain.explainers import (
    DeepLift,
    GradientXInput,
    IntegratedGradients,
    LayerGradientXActivation,
    LayerIntegratedGradients,
    Saliency,
    SmoothGrad,
)
from nbexplain.explainers.gradients._engine import hook_count


class TwoInputs(nn.Module):
    """``f(a, b, mask) = Linear(cat(tanh(W a) * mask, b))``: two float inputs and a 0/1 mask."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 5)
        self.out = nn.Linear(5 + 3, 2)

    def forward(self, a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError("mask must be 0/1: the engine must not change it")
        return self.out(torch.cat([torch.tanh(self.a(a)) * mask, b], 1)) * scale


class TokenModel(nn.Module):
    """Token ids -> embedding -> masked mean -> tanh -> Linear, with ``forward(ids, attention_mask)``."""

    def __init__(self, vocab: int = 30, dim: int = 6) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=0)
        self.hidden = nn.Linear(dim, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        e = self.emb(ids) * attention_mask.unsqueeze(-1)
        pooled = e.sum(1) / attention_mask.sum(1, keepdim=True).clamp(min=1)
        return self.out(torch.tanh(self.hidden(pooled)))


@pytest.fixture
def two() -> tuple[nn.Module, tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
    torch.manual_seed(0)
    model = TwoInputs()
    a, b = torch.randn(5, 4), torch.randn(5, 3)
    mask = torch.tensor([[1.0], [0.0], [1.0], [1.0], [0.0]])
    return model, (a, b), mask


@pytest.fixture
def tokens() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    model = TokenModel()
    ids = torch.randint(1, 30, (4, 7))
    mask = torch.ones(4, 7, dtype=torch.long)
    ids[1, 5:] = 0  # padding
    mask[1, 5:] = 0
    return model, ids, mask


def _close(ours: np.ndarray, theirs: torch.Tensor, atol: float = 1e-5) -> None:
    np.testing.assert_allclose(ours, theirs.detach().double().numpy(), atol=atol, rtol=1e-4)


# -- tuple inputs and additional_forward_args ------------------------------------------------------
def test_saliency_and_gradient_x_input_per_input_match_captum(two) -> None:
    model, (a, b), mask = two
    ea, eb = Saliency(model).explain((a, b), target=1, additional_forward_args=(mask, 2.0))
    ca, cb = CaptumSaliency(model).attribute((a, b), target=1, additional_forward_args=(mask, 2.0), abs=False)
    assert ea.values.shape == (5, 4) and eb.values.shape == (5, 3)
    _close(ea.values, ca)
    _close(eb.values, cb)
    np.testing.assert_allclose(ea.data, a.numpy())  # each explanation holds its own input
    assert np.array_equal(ea.outputs, eb.outputs) and np.array_equal(ea.target, eb.target)
    gx_a, gx_b = GradientXInput(model).explain((a, b), target=1, additional_forward_args=(mask, 2.0))
    _close(gx_a.values, ca * a)
    _close(gx_b.values, cb * b)


@pytest.mark.parametrize("multiply", [True, False])
def test_integrated_gradients_tuple_inputs_match_captum(two, multiply: bool) -> None:
    model, (a, b), mask = two
    base = (torch.zeros(1, 4), torch.full((1, 3), 0.5))
    ours = IntegratedGradients(model, steps=32, multiply_by_inputs=multiply).explain(
        (a, b), target=0, baselines=(base[0], 0.5), additional_forward_args=(mask,))
    theirs = CaptumIG(model, multiply_by_inputs=multiply).attribute(
        (a, b), baselines=base, target=0, additional_forward_args=(mask,), n_steps=32)
    for e, t in zip(ours, theirs, strict=True):
        _close(e.values, t)
    if multiply:  # completeness over both inputs together
        total = ours[0].values.sum(1) + ours[1].values.sum(1)
        np.testing.assert_allclose(total, ours[0].outputs - ours[0].base_values, atol=1e-5)
        assert abs(ours[0].diagnostics["delta"]).max() < 1e-5
    else:
        assert "delta" not in ours[0].diagnostics and ours[0].params["multiply_by_inputs"] is False


def test_extra_arguments_are_never_perturbed(two) -> None:
    model, (a, b), mask = two  # the model raises when the mask is not 0/1
    ea, _ = SmoothGrad(Saliency(model), n_samples=6, noise=0.3).explain((a, b), target=0, additional_forward_args=mask)
    plain, _ = Saliency(model).explain((a, b), target=0, additional_forward_args=mask)
    zero_rows = mask[:, 0] == 0
    # rows whose mask is 0 do not depend on a: noise on a cannot create a gradient there
    assert np.abs(ea.values[zero_rows.numpy()]).max() == 0 and np.abs(plain.values[zero_rows.numpy()]).max() == 0
    assert np.abs(ea.values[~zero_rows.numpy()] - plain.values[~zero_rows.numpy()]).max() > 0  # noise did act


def test_tuple_input_errors_name_the_problem(two) -> None:
    model, (a, b), mask = two
    with pytest.raises(ValueError, match=r"inputs\[1\] has 4 samples but inputs\[0\] has 5"):
        Saliency(model).explain((a, b[:4]), additional_forward_args=mask)
    with pytest.raises(ValueError, match="baselines for 2 inputs must be None or a tuple of 2"):
        IntegratedGradients(model).explain((a, b), baselines=torch.zeros(1, 4), additional_forward_args=mask)
    with pytest.raises(TypeError, match="DeepLift takes one input tensor"):
        DeepLift(model).explain((a, b), additional_forward_args=mask)
    with pytest.raises(ValueError, match="empty tuple"):
        Saliency(model).explain(())


# -- token ids: layer methods on an embedding ------------------------------------------------------
@pytest.mark.parametrize("batch", ["auto", 5])
def test_layer_integrated_gradients_on_token_ids_matches_captum(tokens, batch) -> None:
    model, ids, mask = tokens
    pad = torch.zeros_like(ids)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    e = LayerIntegratedGradients(model, layer="emb", steps=40, internal_batch_size=batch).explain(
        ids, target=2, baselines=pad, additional_forward_args=mask)
    theirs, delta = CaptumLayerIG(model, model.emb).attribute(
        ids, baselines=pad, target=2, additional_forward_args=(mask,), n_steps=40, return_convergence_delta=True)
    assert e.values.shape == (4, 7, 6) and e.layout == "layer"
    _close(e.values, theirs)
    # completeness on the embeddings: the per-token sums add up to f(ids) - f(pad)
    per_token = e.values.sum(-1)
    np.testing.assert_allclose(per_token.sum(1), e.outputs - e.base_values, atol=2e-5)
    np.testing.assert_allclose(e.diagnostics["delta"], delta.numpy(), atol=2e-5)
    assert np.abs(per_token[1, 5:]).max() == 0  # padding: same id in input and baseline
    assert hook_count(model) == 0 and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_layer_methods_on_token_ids_local_and_gradient_x_activation(tokens) -> None:
    model, ids, mask = tokens
    local = LayerIntegratedGradients(model, layer=model.emb, steps=16, multiply_by_inputs=False).explain(
        ids, target=0, additional_forward_args=(mask,))
    theirs = CaptumLayerIG(model, model.emb, multiply_by_inputs=False).attribute(
        ids, baselines=torch.zeros_like(ids), target=0, additional_forward_args=(mask,), n_steps=16)
    _close(local.values, theirs)
    assert "delta" not in local.diagnostics
    gxa = LayerGradientXActivation(model, layer="emb").explain((ids, mask), target=1)
    _close(gxa.values, CaptumLayerGxA(model, model.emb).attribute((ids, mask), target=1))


def test_token_ids_as_a_tuple_with_the_mask_as_second_input(tokens) -> None:
    model, ids, mask = tokens  # Captum's style: both as inputs, the layer method explains the embedding
    e = LayerIntegratedGradients(model, layer="emb", steps=24).explain((ids, mask), target=1,
                                                                       baselines=(torch.zeros_like(ids), mask))
    single = LayerIntegratedGradients(model, layer="emb", steps=24).explain(ids, target=1,
                                                                            additional_forward_args=mask)
    np.testing.assert_allclose(e.values, single.values, atol=1e-6)


def test_gradient_methods_on_token_ids_point_to_the_layer_methods(tokens) -> None:
    model, ids, mask = tokens
    for method in (Saliency(model), IntegratedGradients(model), SmoothGrad(Saliency(model))):
        with pytest.raises(TypeError, match=r"integers, which have no gradient.*LayerIntegratedGradients.*TextExplainer"):
            method.explain(ids, additional_forward_args=mask)


# -- accuracy and preprocessing --------------------------------------------------------------------
def test_500_steps_in_float32_stay_accurate() -> None:
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    x = torch.randn(3, 64) * 3
    e32 = IntegratedGradients(model, steps=500, rule="riemann_middle").explain(x, target=1)
    e64 = IntegratedGradients(model.double(), steps=500, rule="riemann_middle").explain(x.double(), target=1)
    model.float()
    scale = np.abs(e64.values).max()
    assert np.abs(e32.values - e64.values).max() / scale < 2e-6
    assert np.abs(e32.diagnostics["delta"] - e64.diagnostics["delta"]).max() < 1e-5


def test_preprocess_runs_for_the_model_and_the_explanation_keeps_the_raw_input() -> None:
    torch.manual_seed(4)
    cnn = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    mean, std = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1), torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)
    raw = torch.rand(2, 3, 6, 6)
    normalize = lambda t: (t - mean) / std  # noqa: E731
    ours = IntegratedGradients(cnn, steps=24, preprocess=normalize).explain(raw, target=0)
    whole = nn.Sequential(type("Norm", (nn.Module,), {"forward": lambda self, t: normalize(t)})(), cnn)
    ref = CaptumIG(whole).attribute(raw, target=0, n_steps=24)
    _close(ours.values, ref, atol=1e-5)
    np.testing.assert_allclose(ours.data, raw.numpy())  # drawn over the image the user sees
    with torch.no_grad():
        np.testing.assert_allclose(ours.outputs, cnn(normalize(raw))[:, 0].double().numpy(), atol=1e-6)
    assert "normalize" in ours.params["preprocess"] or "lambda" in ours.params["preprocess"]
    with pytest.raises(TypeError, match="preprocess must be a callable"):
        Saliency(cnn, preprocess="imagenet")


def test_a_transformers_style_output_is_read_as_its_logits(tokens) -> None:
    model, ids, mask = tokens

    class Output(dict):
        def __init__(self, logits: torch.Tensor) -> None:
            super().__init__(logits=logits)
            self.logits = logits

    class Wrapped(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor) -> Output:
            return Output(self.inner(ids, attention_mask))

    wrapped = Wrapped(model)
    e = LayerIntegratedGradients(wrapped, layer="inner.emb", steps=8).explain(ids, additional_forward_args=mask)
    plain = LayerIntegratedGradients(model, layer="emb", steps=8).explain(ids, additional_forward_args=mask)
    np.testing.assert_allclose(e.values, plain.values, atol=1e-6)
    assert e.diagnostics["layer"] == "inner.emb"


class TextCNN(nn.Module):
    """Token ids -> embedding -> Conv1d -> max over positions -> Linear, with an optional mask."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(30, 8)
        self.conv = nn.Conv1d(8, 6, 3, padding=1)
        self.out = nn.Linear(6, 3)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = torch.relu(self.conv(self.emb(ids).transpose(1, 2)))
        if mask is not None:
            h = h * mask.unsqueeze(1)
        return self.out(h.max(-1).values)


def test_grad_cam_over_token_positions_of_token_ids_matches_captum(tokens) -> None:
    from captum.attr import LayerAttribution, LayerGradCam

    from nbexplain.explainers import GradCAM

    _, ids, mask = tokens
    torch.manual_seed(2)
    model = TextCNN()
    e = GradCAM(model).explain(ids, target=1, additional_forward_args=mask.float())
    ref = LayerGradCam(model, model.conv).attribute(ids, target=1, additional_forward_args=(mask.float(),),
                                                    relu_attributions=True)
    ref = LayerAttribution.interpolate(ref, (ids.shape[1],), "linear")[:, 0]
    assert e.values.shape == tuple(ids.shape) and e.layout == "tokens" and e.diagnostics["layer"] == "conv"
    _close(e.values, ref)
    assert hook_count(model) == 0


def test_the_session_runs_the_model_on_preprocessed_pictures_and_draws_over_the_pictures() -> None:
    from nbexplain.session import ExplainSession

    torch.manual_seed(5)
    cnn = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    mean, std = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1), torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)
    normalize = lambda t: (t - mean) / std  # noqa: E731
    pictures = torch.rand(6, 3, 6, 6)
    s = ExplainSession(cnn, pictures.numpy(), methods=["integrated_gradients", "grad_cam"], preprocess=normalize)
    with torch.no_grad():
        ref = cnn(normalize(pictures)).softmax(-1).double().numpy()
    np.testing.assert_allclose(s.probabilities(), ref, atol=1e-6)
    e = s.explain(2, "integrated_gradients")
    np.testing.assert_allclose(e.data, pictures[2].numpy())  # the picture, not the model's input
    direct = IntegratedGradients(cnn, preprocess=normalize).explain(pictures[2:3], target=int(s.predicted[2]))
    np.testing.assert_allclose(e.values, direct.values[0], atol=1e-6)
    assert s.explain(2, "grad_cam").values.shape == (6, 6)
    with pytest.raises(ValueError, match="preprocess= goes with images and a torch model"):
        ExplainSession(lambda X: X, np.zeros((3, 4)), preprocess=normalize)
