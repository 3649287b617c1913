"""torchvision/timm-shaped networks as they come: every gradient method and the anatomy.

The networks (tests/vision_models.py, tests/torch_models.py) carry what breaks explainers in
practice: in-place ReLU and ``out += identity`` (ResNet), a 7x7 depthwise convolution, LayerNorm
over channels behind ``Permute``, GELU, layer scale and ``StochasticDepth`` (ConvNeXt), SiLU,
squeeze-excitation ``scale * x`` and depthwise convolutions (EfficientNet), BatchNorm in eval,
channels-last memory format, and a ViT / Swin. Checked:

* every method runs, on contiguous and channels-last models and inputs, gives finite values of
  the right shape, equal (to float32 rounding) between the two memory formats, and leaves the
  model (flags, parameters, buffers, hooks, outputs) and the input as they were;
* Captum agrees on the ResNet and the ConvNeXt (Saliency, Input x Gradient, Integrated Gradients,
  SmoothGrad over the same noise, LayerGradCam, LayerIntegratedGradients, LayerGradientXActivation)
  to 1e-5 relative;
* DeepLift sums to f(x) - f(baseline) on all three CNNs (its product and layer-norm rules), and
  refuses the transformers with a named error;
* the anatomy (graph, activations, gradients, weights, filters) runs on each.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import vision_models as vm
from torch_models import resnet

from nbexplain.anatomy import (
    activation_maps,
    capture_gradients,
    filter_maps,
    model_graph,
    weight_summary,
)
from nbexplain.explainers import (
    DeepLift,
    GradCAM,
    GradCAMPlusPlus,
    GradientXInput,
    IntegratedGradients,
    LayerGradientXActivation,
    LayerIntegratedGradients,
    Saliency,
    SmoothGrad,
)
from nbexplain.explainers.gradients.deeplift import DeepLiftUnsupportedError
from nbexplain.explainers.gradients.layers import hook_count

captum_attr = pytest.importorskip("captum.attr")

# model factory, a layer for the layer methods (a stage), a conv layer for the anatomy
NETS = {
    "resnet": (lambda: resnet("tiny", num_classes=5), "layer1", "layer1.0.conv2"),
    "convnext": (vm.convnext, "features.1", "features.1.0.block.0"),
    "efficientnet": (vm.efficientnet, "features.2", "features.2.0.block.1.0"),
    "vit": (vm.vit, "blocks.0.norm1", "patch_embed.proj"),
    "swin": (vm.swin, "layers.0", "patch_embed.proj"),
}
CNNS = ["resnet", "convnext", "efficientnet"]
TARGET = [0, 1, 2]


def methods(layer: str, deeplift: bool = True) -> dict[str, object]:
    out = {
        "saliency": lambda m: Saliency(m),
        "gradient_x_input": lambda m: GradientXInput(m),
        "smoothgrad": lambda m: SmoothGrad(Saliency(m), n_samples=3, seed=1),
        "integrated_gradients": lambda m: IntegratedGradients(m, steps=8),
        "grad_cam": lambda m: GradCAM(m),
        "grad_cam++": lambda m: GradCAMPlusPlus(m),
        "layer_integrated_gradients": lambda m: LayerIntegratedGradients(m, layer=layer, steps=8),
        "layer_gradient_x_activation": lambda m: LayerGradientXActivation(m, layer=layer),
    }
    if deeplift:
        out["deeplift"] = lambda m: DeepLift(m)
    return out


def as_channels_last(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.nn.Module, torch.Tensor]:
    return model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)


@pytest.fixture(scope="module")
def nets():
    return {name: spec[0]() for name, spec in NETS.items()}


@pytest.mark.parametrize("name", list(NETS))
def test_every_method_runs_leaves_the_model_alone_and_ignores_memory_format(nets, name):
    layer = NETS[name][1]
    x = vm.images(3)
    plain = nets[name]
    cl_model, cl_x = as_channels_last(NETS[name][0](), x)  # the same weights (same seed), channels-last
    assert cl_x.is_contiguous(memory_format=torch.channels_last)
    for model, inputs in ((plain, x), (cl_model, cl_x)):
        model.train()
        state = {k: v.clone() for k, v in model.state_dict().items()}
        hooks = hook_count(model)
        x_before = inputs.clone()
        with torch.no_grad():
            out_before = model.eval()(inputs).clone()
        model.train()
        results = {}
        for method, make in methods(layer, deeplift=name in CNNS).items():
            e = make(model).explain(inputs, target=TARGET)
            assert np.isfinite(e.values).all() and e.values.shape[0] == 3, method
            results[method] = e.values
        assert all(m.training for m in model.modules()) and hook_count(model) == hooks
        assert all(p.requires_grad and p.grad is None for p in model.parameters())
        assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
        assert torch.equal(inputs, x_before)
        with torch.no_grad():
            assert torch.equal(model.eval()(inputs), out_before)
        if model is plain:
            reference = results
        else:
            for method, values in results.items():
                scale = max(np.abs(reference[method]).max(), 1e-12)
                assert np.abs(values - reference[method]).max() <= 1e-4 * scale, (name, method)


# -- Captum ---------------------------------------------------------------------------------------
def rel(ours, ref) -> float:
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    return float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-30))


def leaf(x: torch.Tensor) -> torch.Tensor:
    return x.clone().requires_grad_(True)


@pytest.mark.parametrize("name", ["resnet", "convnext"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_agrees_with_captum(name, channels_last):
    model, layer = NETS[name][0](), NETS[name][1]
    x = vm.images(3)
    if channels_last:
        model, x = as_channels_last(model, x)
    module = model.get_submodule(layer)
    cam_layer = GradCAM(model).explain(x[:1]).diagnostics["layer"]
    checks = {
        "saliency": (Saliency(model), captum_attr.Saliency(model).attribute(leaf(x), target=TARGET, abs=False)),
        "gradient_x_input": (GradientXInput(model), captum_attr.InputXGradient(model).attribute(leaf(x), target=TARGET)),
        "integrated_gradients": (IntegratedGradients(model, steps=16), captum_attr.IntegratedGradients(model).attribute(
            x, target=TARGET, n_steps=16, method="gausslegendre")),
        "layer_integrated_gradients": (LayerIntegratedGradients(model, layer=layer, steps=16),
                                       captum_attr.LayerIntegratedGradients(model, module).attribute(
                                           x, target=TARGET, n_steps=16, method="gausslegendre")),
        "layer_gradient_x_activation": (LayerGradientXActivation(model, layer=layer),
                                        captum_attr.LayerGradientXActivation(model, module).attribute(x, target=TARGET)),
        "grad_cam": (GradCAM(model), captum_attr.LayerAttribution.interpolate(
            captum_attr.LayerGradCam(model, model.get_submodule(cam_layer)).attribute(
                x, target=TARGET, relu_attributions=True), tuple(x.shape[2:]), interpolate_mode="bilinear")[:, 0]),
    }
    for method, (ours, ref) in checks.items():
        assert rel(ours.explain(x, target=TARGET).values, ref) < 1e-5, method
    z = torch.randn((4, *x.shape[1:]), generator=torch.Generator().manual_seed(5))
    sigma = 0.1 * (x.flatten(1).max(1).values - x.flatten(1).min(1).values).view(-1, 1, 1, 1)
    ref = torch.stack([captum_attr.Saliency(model).attribute(leaf(x + sigma * z[j]), target=TARGET, abs=False)
                       for j in range(4)]).mean(0)
    ours = SmoothGrad(Saliency(model), n_samples=4, noise=0.1, seed=5).explain(x, target=TARGET)
    assert rel(ours.values, ref) < 1e-5


# -- DeepLift -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CNNS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_deeplift_sums_to_delta(name, channels_last):
    model, x = NETS[name][0](), vm.images(3)
    b = 0.3 * vm.images(3, seed=9)
    if channels_last:
        model, x = as_channels_last(model, x)
    e = DeepLift(model).explain(x, target=TARGET, baselines=b)
    with torch.no_grad():
        gap = (model(x) - model(b))[torch.arange(3), TARGET].double().numpy()
    assert np.abs(gap).min() > 1e-3  # the outputs move: the check means something
    np.testing.assert_allclose(e.values.reshape(3, -1).sum(1), gap, rtol=1e-4, atol=1e-7)
    assert np.abs(e.diagnostics["relative_delta"]).max() < 1e-4


def test_deeplift_through_layer_norms_of_a_constant_baseline():
    """A zero image reaches each LayerNorm as a constant (variance 0, rsqrt = 1000 at eps 1e-6): the product rule
    takes the order without cancelling terms (the symmetric split loses ~1e-3 here, and all digits on a real
    torchvision / timm ConvNeXt-T)."""
    model, x = vm.convnext(dims=(8, 16, 32), depths=(1, 1, 1)), vm.images(3)
    e = DeepLift(model).explain(x, target=TARGET)
    with torch.no_grad():
        gap = (model(x) - model(torch.zeros_like(x)))[torch.arange(3), TARGET].double().numpy()
    np.testing.assert_allclose(e.values.reshape(3, -1).sum(1), gap, rtol=1e-5, atol=1e-8)


def test_deeplift_rules_are_needed_gradients_times_delta_do_not_sum():
    """Gradient x (x - baseline) misses the gap on the ConvNeXt and the EfficientNet: the rules matter."""
    for name in ("convnext", "efficientnet"):
        model, x, b = NETS[name][0](), vm.images(3), 0.3 * vm.images(3, seed=9)
        leaf_x = leaf(x)
        out = model(leaf_x)[torch.arange(3), TARGET]
        (g,) = torch.autograd.grad(out.sum(), leaf_x)
        with torch.no_grad():
            gap = (model(x) - model(b))[torch.arange(3), TARGET]
        assert (((x - b) * g).flatten(1).sum(1) - gap).abs().max() > 1e-2 * gap.abs().max()


@pytest.mark.parametrize("name", ["convnext", "efficientnet"])
def test_captum_deeplift_misses_the_gap_where_ours_sums_to_it(name):
    """Captum's DeepLift keeps plain gradients through GELU, LayerNorm and the squeeze-excitation product:
    silently incomplete here (no reference for our values, hence the completeness checks above)."""
    import warnings

    model, x, b = NETS[name][0](), vm.images(3), 0.3 * vm.images(3, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, delta = captum_attr.DeepLift(model).attribute(x, baselines=b, target=TARGET, return_convergence_delta=True)
    ours = DeepLift(model).explain(x, target=TARGET, baselines=b)
    assert float(delta.abs().max()) > 1e3 * np.abs(ours.diagnostics["delta"]).max()


@pytest.mark.parametrize(("name", "op"), [("vit", "scaled_dot_product_attention"), ("swin", "matmul")])
def test_deeplift_refuses_attention_with_a_named_error(nets, name, op):
    with pytest.raises(DeepLiftUnsupportedError, match=f"{op}.*IntegratedGradients"):
        DeepLift(nets[name]).explain(vm.images(2))
    tv = vm.tv_vit()
    with pytest.raises(DeepLiftUnsupportedError, match="multi_head_attention_forward"):
        DeepLift(tv).explain(vm.images(2))
    assert hook_count(tv) == 0 and torch.overrides._get_current_function_mode_stack() == []


# -- anatomy --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(NETS))
@pytest.mark.parametrize("channels_last", [False, True])
def test_anatomy_runs(name, channels_last):
    model, x = NETS[name][0](), vm.images(2)
    if channels_last:
        model, x = as_channels_last(model, x)
    with torch.no_grad():
        before = model(x).clone()
    graph = model_graph(model, x[:1])
    assert len(graph.nodes) > 5 and graph.n_params == sum(p.numel() for p in model.parameters())
    maps = activation_maps(model, x, NETS[name][2])
    assert maps.kind == "conv" and np.isfinite(maps.maps).all()
    report = capture_gradients(model, x, torch.tensor([0, 1]))
    assert report is not None
    assert len(weight_summary(model)) > 3
    assert filter_maps(model).n_filters > 0
    assert hook_count(model) == 0 and all(p.grad is None for p in model.parameters())
    with torch.no_grad():
        assert torch.equal(model(x), before)
