"""Grad-CAM, Grad-CAM++ and layer attributions: against Captum, by hand, and hook hygiene.

Tolerances: Grad-CAM, layer gradient x activation and layer Integrated Gradients run the same
float32 arithmetic as Captum and agree to 1e-5 relative (max abs difference / max abs value).
Grad-CAM++ has no Captum counterpart; it is checked against the closed form evaluated in
float64 from the known gradient of a linear head, and against a hand-split autograd pass on a
nonlinear head, both to 1e-5 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nbexplain.explainers.gradients._engine import GradientError, hook_count
from nbexplain.explainers.gradients.layer_attribution import (
    LayerGradientXActivation,
    LayerIntegratedGradients,
)
from nbexplain.explainers.gradients.layers import (
    NoConvLayerError,
    UnknownLayerError,
    capture,
    last_conv_layer,
    resolve_layer,
)
from nbexplain.explainers.vision.gradcam import GradCAM, GradCAMPlusPlus
from tests.torch_models import functional_cnn, mlp, resnet, small_cnn

captum_attr = pytest.importorskip("captum.attr")

TOL = 1e-5


def rel_err(a, b) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b.detach() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def _cases():
    torch.manual_seed(0)
    return {
        "small_cnn": (small_cnn().eval(), torch.randn(5, 1, 8, 8)),
        "resnet": (resnet("tiny", num_classes=10), torch.randn(3, 3, 32, 32)),
        "functional_cnn": (functional_cnn().eval(), torch.randn(4, 1, 8, 8)),
    }


CASES = _cases()


def captum_gradcam(model, layer, x, target):
    attr = captum_attr.LayerGradCam(model, layer).attribute(x, target, relu_attributions=True)
    return captum_attr.LayerAttribution.interpolate(attr, tuple(x.shape[2:]), interpolate_mode="bilinear")[:, 0]


# -- Grad-CAM against Captum --------------------------------------------------------------------
@pytest.mark.parametrize(("case", "layer"), [
    ("small_cnn", "3"),                # BatchNorm output
    ("small_cnn", "0"),                # first conv, followed by a module ReLU
    ("resnet", "layer2"),              # a residual stage: out += identity, ReLU(inplace=True)
    ("resnet", "layer1.0.conv2"),
    ("resnet", "bn1"),                 # modified in place by the ReLU that follows it
    ("functional_cnn", "conv2"),       # modified in place by h.relu_()
])
@pytest.mark.parametrize("as_module", [False, True])
def test_grad_cam_equals_captum(case, layer, as_module):
    model, x = CASES[case]
    module = dict(model.named_modules())[layer]
    e = GradCAM(model, layer=module if as_module else layer).explain(x)
    ref = captum_gradcam(model, module, x, torch.as_tensor(e.target))
    assert e.values.shape == (x.shape[0], *x.shape[2:])
    assert rel_err(e.values, ref) < TOL
    assert e.method == "grad_cam" and e.diagnostics["layer"] == layer
    assert e.diagnostics["cam"].shape == (x.shape[0], *e.diagnostics["cam_shape"])


@pytest.mark.parametrize(("case", "expected"), [
    ("small_cnn", "2"), ("resnet", "layer2"), ("functional_cnn", "conv2")])  # ResNets: the last stage
def test_grad_cam_default_is_the_last_conv_run(case, expected):
    model, x = CASES[case]
    e = GradCAM(model).explain(x, target=1)
    assert e.diagnostics["layer"] == expected
    ref = captum_gradcam(model, dict(model.named_modules())[expected], x, 1)
    assert rel_err(e.values, ref) < TOL


def test_last_conv_follows_execution_order_not_registration():
    model, x = CASES["resnet"]
    # BasicBlock registers downsample after conv2 but runs it first
    assert last_conv_layer(model)[1] == "layer2.0.downsample.0"
    assert last_conv_layer(model, x[:1])[1] == "layer2.0.conv2"
    assert hook_count(model) == 0


def test_grad_cam_without_relu_and_upsampling():
    model, x = CASES["resnet"]
    e = GradCAM(model, layer="layer2", relu=False, upsample=False).explain(x, target=3)
    attr = captum_attr.LayerGradCam(model, model.layer2).attribute(x, 3)[:, 0]
    assert e.values.shape == (3, 4, 4) and (e.values < 0).any()
    assert rel_err(e.values, attr) < TOL


# -- Grad-CAM++ by hand -------------------------------------------------------------------------
def gradcam_pp_closed_form(act, grad):
    """float64 numpy: alpha = g^2 / (2 g^2 + sum(A) g^3), w = sum(alpha relu(g)), relu(sum w A)."""
    g2, g3 = grad**2, grad**3
    denom = 2 * g2 + act.sum(axis=(2, 3), keepdims=True) * g3
    alpha = np.where(denom != 0, g2 / np.where(denom != 0, denom, 1), 0)
    w = (alpha * np.maximum(grad, 0)).sum(axis=(2, 3))
    return np.maximum((w[:, :, None, None] * act).sum(1), 0)


def test_grad_cam_pp_on_a_linear_head_matches_the_closed_form():
    torch.manual_seed(3)
    conv = nn.Conv2d(2, 3, 3, padding=1)
    head = nn.Linear(3 * 6 * 6, 4)
    model = nn.Sequential(conv, nn.Flatten(), head).eval()
    x = torch.randn(4, 2, 6, 6)
    target = np.array([0, 1, 2, 3])
    e = GradCAMPlusPlus(model, layer=conv, upsample=False).explain(x, target=target)
    # the gradient of a linear head is its weight row: known without autograd
    act = conv(x).detach().double().numpy()
    grad = head.weight.detach().double().numpy()[target].reshape(4, 3, 6, 6)
    assert e.method == "grad_cam++"
    assert rel_err(e.values, gradcam_pp_closed_form(act, grad)) < TOL
    # Grad-CAM on the same head: weights are the spatial mean of the weight rows
    cam = GradCAM(model, layer=conv, upsample=False).explain(x, target=target)
    w = grad.mean(axis=(2, 3))
    assert rel_err(cam.values, np.maximum((w[:, :, None, None] * act).sum(1), 0)) < TOL


def test_grad_cam_pp_on_a_nonlinear_head_matches_a_split_autograd_pass():
    model, x = CASES["small_cnn"]
    e = GradCAMPlusPlus(model, layer="3").explain(x, target=2)
    with torch.no_grad():
        act = model[:4](x)
    act = act.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model[4:](act)[:, 2].sum(), act)
    ref = gradcam_pp_closed_form(act.detach().double().numpy(), grad.double().numpy())
    assert rel_err(e.diagnostics["cam"], ref) < TOL
    up = torch.nn.functional.interpolate(torch.as_tensor(ref)[:, None], size=(8, 8), mode="bilinear",
                                         align_corners=False)[:, 0]
    assert rel_err(e.values, up) < TOL


# -- layer attributions against Captum -----------------------------------------------------------
@pytest.mark.parametrize(("case", "layer"), [
    ("small_cnn", "3"), ("resnet", "layer2"), ("resnet", "layer1.0.conv2"), ("functional_cnn", "conv1")])
def test_layer_gradient_x_activation_equals_captum(case, layer):
    model, x = CASES[case]
    module = dict(model.named_modules())[layer]
    e = LayerGradientXActivation(model, layer=layer).explain(x, target=1)
    ref = captum_attr.LayerGradientXActivation(model, module).attribute(x, 1)
    assert rel_err(e.values, ref) < TOL
    np.testing.assert_allclose(e.diagnostics["channel_importance"],
                               e.values.reshape(*e.values.shape[:2], -1).sum(-1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("case", "layer", "rule", "baselines"), [
    ("small_cnn", "3", "gausslegendre", None),
    ("small_cnn", "0", "riemann_trapezoid", 0.3),
    ("resnet", "layer2", "gausslegendre", None),
    ("resnet", "layer1.0.conv2", "riemann_middle", "random"),
    ("functional_cnn", "conv1", "gausslegendre", None),
])
def test_layer_integrated_gradients_equals_captum(case, layer, rule, baselines):
    model, x = CASES[case]
    if baselines == "random":
        baselines = torch.rand(1, *x.shape[1:]) * 0.1
    module = dict(model.named_modules())[layer]
    e = LayerIntegratedGradients(model, layer=layer, steps=24, rule=rule).explain(x, target=2, baselines=baselines)
    ref, delta = captum_attr.LayerIntegratedGradients(model, module).attribute(
        x, baselines=baselines, target=2, n_steps=24, method=rule, return_convergence_delta=True)
    assert e.values.shape == tuple(ref.shape)
    if rule == "riemann_trapezoid":
        # Captum's trapezoid weights are 1/n with halved ends, summing to (n-1)/n; the engine's
        # sum to 1 (the trapezoid rule on n points): the results differ by exactly n/(n-1)
        ref = ref * 24 / 23
        delta = (ref.reshape(len(x), -1).sum(1) - (model(x)[:, 2] - model(x * 0 + 0.3)[:, 2])).detach()
    assert rel_err(e.values, ref) < TOL
    scale = np.abs(e.values).reshape(len(x), -1).sum(1).max()
    assert np.abs(e.diagnostics["delta"] - delta.double().numpy()).max() < TOL * scale
    assert e.method == "layer_integrated_gradients"


def test_layer_ig_handles_an_in_place_op_after_the_layer_where_captum_fails():
    """functional_cnn runs h.relu_() on conv2's output: Captum's substituted leaf cannot take it."""
    model, x = CASES["functional_cnn"]
    with pytest.raises(RuntimeError, match="in-place"):
        captum_attr.LayerIntegratedGradients(model, model.conv2).attribute(x, target=0, n_steps=4)
    deltas = [np.abs(LayerIntegratedGradients(model, layer="conv2", steps=s).explain(x, target=0)
                     .diagnostics["delta"]).max() for s in (2, 32)]
    # ReLU kinks along the path make the integrand piecewise smooth: the error falls, slowly
    assert deltas[1] < deltas[0] / 10
    e = LayerIntegratedGradients(model, layer="conv2", steps=32).explain(x, target=0)
    with torch.no_grad():
        np.testing.assert_allclose(e.base_values, model(torch.zeros_like(x))[:, 0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(e.values.reshape(len(x), -1).sum(1) + e.base_values - e.outputs,
                               e.diagnostics["delta"], atol=1e-5)
    assert hook_count(model) == 0


# -- batching, options, state -------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda m: GradCAM(m, layer="layer2", internal_batch_size=2),
    lambda m: GradCAMPlusPlus(m, internal_batch_size=1),
    lambda m: LayerGradientXActivation(m, layer="layer1"),
    lambda m: LayerIntegratedGradients(m, layer="layer2", steps=8, internal_batch_size=5),
])
def test_batched_equals_per_sample(make):
    model, x = CASES["resnet"]
    explainer = make(model)
    batched = explainer.explain(x, target=[1, 4, 7])
    for i, t in enumerate([1, 4, 7]):
        single = explainer.explain(x[i:i + 1], target=t)
        np.testing.assert_allclose(batched.values[i], single.values[0], rtol=1e-5, atol=1e-6)


def test_options_per_call_and_state_restored():
    model = resnet("tiny", num_classes=10).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 3, 32, 32)
    g = GradCAM(model)
    e = g.explain(x, layer="layer1.0.conv1", upsample=False)
    assert e.diagnostics["layer"] == "layer1.0.conv1" and e.values.shape == (2, 8, 8)
    assert g.layer is None and g.upsample is True
    assert all(m.training for m in model.modules())
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k  # BatchNorm running stats untouched
    assert e.params["layer"] is None and g.explain(x).params["relu"] is True


# -- hooks --------------------------------------------------------------------------------------
def test_no_hooks_left_after_100_calls():
    model, x = CASES["resnet"]
    user_hook = model.layer1.register_forward_hook(lambda *a: None)  # the user's own hook stays
    try:
        explainers = [GradCAM(model), GradCAMPlusPlus(model, layer="layer2"),
                      LayerGradientXActivation(model, layer=model.layer1),
                      LayerIntegratedGradients(model, layer="layer2", steps=2)]
        for i in range(100):
            explainers[i % 4].explain(x[:1])
        assert hook_count(model) == 1
    finally:
        user_hook.remove()
    assert hook_count(model) == 0


class Exploding(nn.Module):
    """Raises after its conv ran, when ``armed``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(2 * 4 * 4, 3)
        self.armed = False

    def forward(self, x):
        h = self.conv(x)
        if self.armed:
            raise RuntimeError("boom")
        return self.fc(h.flatten(1))


@pytest.mark.parametrize("make", [
    lambda m: GradCAM(m), lambda m: GradCAM(m, layer="conv"), lambda m: GradCAMPlusPlus(m, layer=m.conv),
    lambda m: LayerGradientXActivation(m, layer="conv"), lambda m: LayerIntegratedGradients(m, layer="conv")])
def test_no_hooks_left_when_the_model_raises(make):
    model = Exploding().train()
    model.armed = True
    with pytest.raises(RuntimeError, match="boom"):
        make(model).explain(torch.randn(2, 1, 6, 6), target=0)
    assert hook_count(model) == 0 and model.training
    model.armed = False
    assert make(model).explain(torch.randn(2, 1, 6, 6), target=0).values.shape[0] == 2


def test_capture_removes_its_hook_on_exceptions_and_keeps_the_pre_inplace_output():
    model, x = CASES["resnet"]
    with pytest.raises(KeyError), capture(model, "bn1"):
        raise KeyError("inside")
    assert hook_count(model) == 0
    with torch.no_grad(), capture(model, "bn1") as cap:
        model(x)
    with torch.no_grad():
        ref = model.bn1(model.conv1(x))
    assert torch.equal(cap.activation, ref) and (ref < 0).any()  # the in-place ReLU did not touch it


# -- layer names and named errors ---------------------------------------------------------------
def test_resolve_layer_names():
    model, _ = CASES["resnet"]
    assert resolve_layer(model, "layer1[0].conv2") == (model.layer1[0].conv2, "layer1.0.conv2")
    assert resolve_layer(model, model.layer2[0].bn1)[1] == "layer2.0.bn1"
    with pytest.raises(UnknownLayerError, match=r"layer2\.0\.conv2") as info:
        GradCAM(model, layer="layer2.0.conv3")
    assert isinstance(info.value, ValueError) and "closest" in str(info.value)
    with pytest.raises(ValueError, match="not a submodule"):
        GradCAM(model, layer=nn.Conv2d(1, 1, 1))
    with pytest.raises(TypeError, match="dotted name"):
        resolve_layer(model, 3)


def test_model_without_conv_asks_for_a_layer():
    model = mlp()
    with pytest.raises(NoConvLayerError, match="layer="):
        GradCAM(model).explain(torch.randn(2, 6))
    with pytest.raises(GradientError, match="spatial"):
        GradCAM(model, layer="1").explain(torch.randn(2, 6))
    # layer attributions work on any layer of the MLP
    e = LayerIntegratedGradients(model, layer="1", steps=32).explain(torch.randn(3, 6))
    assert e.values.shape == (3, 16) and np.abs(e.diagnostics["delta"]).max() < 1e-4
    assert hook_count(model) == 0


def test_layer_that_does_not_run_or_does_not_matter():
    model = Exploding()
    model.unused = nn.Conv2d(2, 2, 1)  # registered last, never run
    with pytest.raises(GradientError, match="did not run"):
        GradCAM(model, layer="unused").explain(torch.randn(1, 1, 6, 6))
    assert GradCAM(model).explain(torch.randn(1, 1, 6, 6)).diagnostics["layer"] == "conv"
    shared = nn.Sequential(nn.Conv2d(1, 1, 1), nn.Flatten(), nn.Linear(36, 2))
    twice = nn.Sequential(shared[0], shared[0], shared[1], shared[2])  # one module run twice
    with pytest.raises(GradientError, match="ran 2 times"):
        GradCAM(twice, layer="0").explain(torch.randn(1, 1, 6, 6))
    assert hook_count(model) == 0


def _negative_cam_net() -> nn.Module:
    """Positive activations, negative channel weights for class 0: Grad-CAM's ReLU leaves nothing."""
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
    with torch.no_grad():
        net[0].weight.fill_(0.1)
        net[0].bias.fill_(0.1)
        net[3].weight.fill_(-0.01)
        net[3].bias.zero_()
    return net.eval()


def test_an_all_zero_map_says_why_and_what_to_try():
    from nbexplain.widgets import Heatmap

    x = torch.rand(2, 1, 8, 8)
    e = GradCAM(_negative_cam_net()).explain(x, target=0)
    assert np.abs(e.values).max() == 0  # drawn faithfully: nothing left
    note = e.diagnostics["note"]
    assert isinstance(note, list) and len(note) == 2
    assert note[0].startswith("Grad-CAM is 0 in 64 of 64 cells of layer '0' (8x8)")
    assert "negative in 64 of 64 cells" in note[0] and "ReLU" in note[0]
    assert "relu=False" in note[0] and "another method" in note[0]
    np.testing.assert_array_equal(e.diagnostics["positive_fraction"], [0.0, 0.0])
    assert e[1].diagnostics["note"] == note[1]  # sliced per sample
    assert Heatmap.from_explanation(e[0]).note == note[0]  # the view shows it
    assert Heatmap.from_explanation(e[0], note="mine").note == "mine"
    # relu=False keeps the (negative) map: nothing to explain away.
    signed = GradCAM(_negative_cam_net(), relu=False).explain(x, target=0)
    assert signed.diagnostics["note"] == ["", ""] and np.all(signed.values < 0)
    assert Heatmap.from_explanation(signed[0]).note == ""
    plus = GradCAMPlusPlus(_negative_cam_net()).explain(x, target=0)
    assert all(n == "" or n.startswith("Grad-CAM++ ") for n in plus.diagnostics["note"])


def test_a_coarse_layer_and_a_zero_gradient_are_named():
    coarse = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 4, stride=4),
                           nn.Flatten(), nn.Linear(16, 2)).eval()
    e = GradCAM(coarse, layer="2", relu=False).explain(torch.rand(1, 1, 8, 8))
    assert e.diagnostics["cam_shape"] == (2, 2)
    assert "only 2x2 cells for the 8x8 input (each cell covers 4x4 input pixels)" in e.diagnostics["note"][0]
    assert "an earlier layer (e.g. layer='0')" in e.diagnostics["note"][0]
    dead = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 8 * 8, 2)).eval()
    with torch.no_grad():
        dead[2].weight.zero_()
    note = GradCAM(dead).explain(torch.rand(1, 1, 8, 8), target=0).diagnostics["note"][0]
    assert note.startswith("Grad-CAM is 0 in 64 of 64 cells") and "gradient" in note and "is 0" in note


def test_usual_maps_have_no_note():
    for name, (model, x) in _cases().items():
        e = GradCAM(model).explain(x)
        busy = np.count_nonzero(e.diagnostics["cam"].reshape(len(x), -1), axis=1)
        cells = e.diagnostics["cam"][0].size
        for n, count in zip(e.diagnostics["note"], busy, strict=True):
            assert (n == "") == (count > max(1, 0.02 * cells)), (name, n, count)
