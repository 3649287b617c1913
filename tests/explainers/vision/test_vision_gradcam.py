"""Grad-CAM / Grad-CAM++ on vision transformers and torchvision/timm-shaped CNNs.

The references are independent of :mod:`nbexplain.explainers.vision.families`:

* a hand computation: the layer output and its gradient taken with a plain forward hook and
  ``torch.autograd.grad``, rearranged by a reshape written out here for each architecture, and
  Grad-CAM / Grad-CAM++ evaluated in float64 numpy;
* Captum's ``LayerGradCam`` on a copy of the model whose layer hands its output through a
  ``Merge`` module taking the grid ``(n, C, h, w)`` (and the prefix tokens) as inputs:
  ``attribute_to_layer_input=True`` makes Captum compute Grad-CAM on exactly that grid.

Both agree with nbexplain to 1e-5 relative (the same float32 arithmetic; seen ~1e-7).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import vision_models as vm
from torch import nn
from torch.nn import functional as F
from torch_models import resnet, small_cnn

from nbexplain.explainers.gradients._engine import GradientError
from nbexplain.explainers.gradients.layers import hook_count
from nbexplain.explainers.vision.families import GridError, detect_family, token_grid
from nbexplain.explainers.vision.gradcam import GradCAM, GradCAMPlusPlus

captum_attr = pytest.importorskip("captum.attr")
transformers = pytest.importorskip("transformers")

TOL = 1e-5


def hf_vit(distilled: bool = False) -> nn.Module:
    """A tiny Hugging Face ViT (or DeiT with its distillation token) for 3 x 32 x 32 images, random weights."""
    torch.manual_seed(0)
    kw = dict(image_size=32, patch_size=8, num_channels=3, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
              intermediate_size=32, num_labels=5)
    if distilled:
        return transformers.DeiTForImageClassificationWithTeacher(transformers.DeiTConfig(**kw)).eval()
    return transformers.ViTForImageClassification(transformers.ViTConfig(**kw)).eval()


def rel_err(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def tokens_to_grid(prefix: int, h: int, w: int):
    return lambda t: t[:, prefix:].reshape(t.shape[0], h, w, t.shape[-1]).permute(0, 3, 1, 2)


def nhwc_to_grid(t):
    return t.permute(0, 3, 1, 2)


# model, default layer, its family, how its output becomes a grid (written out independently)
CASES = {
    "timm_vit": (lambda: vm.vit(), "blocks.1.norm1", "vit", tokens_to_grid(1, 4, 4)),
    "timm_vit_registers": (lambda: vm.vit(reg_tokens=3), "blocks.1.norm1", "vit", tokens_to_grid(4, 4, 4)),
    "timm_vit_avgpool": (lambda: vm.vit(class_token=False, global_pool="avg"), "blocks.1.norm1", "vit",
                         tokens_to_grid(0, 4, 4)),
    "tv_vit": (lambda: vm.tv_vit(), "encoder.layers.encoder_layer_1.ln_1", "vit", tokens_to_grid(1, 4, 4)),
    "hf_vit": (hf_vit, None, "vit", tokens_to_grid(1, 4, 4)),
    "hf_deit_distilled": (lambda: hf_vit(distilled=True), None, "vit", tokens_to_grid(2, 4, 4)),
    "swin": (lambda: vm.swin(), "layers.1.blocks.1.norm1", "swin", nhwc_to_grid),
    "resnet": (lambda: resnet("tiny", num_classes=5), "layer2", "resnet", None),
    "convnext": (lambda: vm.convnext(), "features.3", "convnext", None),
    "efficientnet": (lambda: vm.efficientnet(), "features.4", "efficientnet", None),
    "small_cnn": (lambda: small_cnn(), "2", "cnn", None),
}
TRANSFORMERS = [k for k, v in CASES.items() if v[3] is not None]


def _inputs(name: str) -> torch.Tensor:
    return vm.images(3, channels=1, size=8) if name == "small_cnn" else vm.images(3)


def _hf_layer(model: nn.Module) -> str:
    names = [n for n, _ in model.named_modules() if n.endswith("layernorm_before")]
    return names[-1]  # the last block's (transformers 4: vit.encoder.layer.1...; 5: vit.layers.1...)


@pytest.fixture(scope="module")
def models():
    return {name: case[0]() for name, case in CASES.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_default_layer_and_family_per_architecture(models, name):
    model, x = models[name], _inputs(name)
    _, layer, family, _ = CASES[name]
    layer = layer or _hf_layer(model)
    before = hook_count(model)
    e = GradCAM(model).explain(x)
    assert e.diagnostics["layer"] == layer and e.diagnostics["family"] == family == detect_family(model)
    assert e.values.shape == (3, *x.shape[2:]) and np.isfinite(e.values).all()
    expect = {"vit": "tokens:", "swin": "channels-last"}.get(family, "none")
    assert e.diagnostics["reshape"].startswith(expect)
    assert hook_count(model) == before


def hand_cam(model, layer_name, x, target, to_grid, plus_plus=False):
    """Grad-CAM(++) at the grid, float64, from a plain hook and autograd (no nbexplain code)."""
    layer = dict(model.named_modules())[layer_name]
    seen = []
    handle = layer.register_forward_hook(lambda _m, _i, out: seen.append(out))
    try:
        out = model(x.clone())
    finally:
        handle.remove()
    logits = getattr(out, "logits", out)
    (grad,) = torch.autograd.grad(logits[torch.arange(len(x)), target].sum(), seen[0])
    a = to_grid(seen[0].detach()).double().numpy()
    g = to_grid(grad).double().numpy()
    if plus_plus:
        denom = 2 * g**2 + a.sum((2, 3), keepdims=True) * g**3
        alpha = np.where(denom != 0, g**2 / np.where(denom != 0, denom, 1), 0)
        w = (alpha * np.maximum(g, 0)).sum((2, 3))
    else:
        w = g.mean((2, 3))
    return np.maximum((w[:, :, None, None] * a).sum(1), 0)


@pytest.mark.parametrize("name", TRANSFORMERS)
@pytest.mark.parametrize("method", [GradCAM, GradCAMPlusPlus])
def test_grad_cam_on_transformers_equals_a_hand_computation(models, name, method):
    model, x = models[name], _inputs(name)
    layer = CASES[name][1] or _hf_layer(model)
    e = method(model).explain(x, target=[0, 1, 2])
    ref = hand_cam(model, layer, x, [0, 1, 2], CASES[name][3], plus_plus=method is GradCAMPlusPlus)
    assert rel_err(e.diagnostics["cam"], ref) < TOL
    up = F.interpolate(torch.as_tensor(ref)[:, None], size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    assert rel_err(e.values, up) < TOL
    assert np.abs(e.values).max() > 0


class Merge(nn.Module):
    """Tokens (or NHWC) rebuilt from the grid ``(n, C, h, w)``: Captum attributes to this module's inputs."""

    def __init__(self, channels_last: bool) -> None:
        super().__init__()
        self.channels_last = channels_last

    def forward(self, grid: torch.Tensor, prefix: torch.Tensor) -> torch.Tensor:
        nhwc = grid.permute(0, 2, 3, 1)
        if self.channels_last:
            return nhwc + 0 * prefix.sum()
        return torch.cat([prefix, nhwc.reshape(len(grid), -1, grid.shape[1])], dim=1)


class Tap(nn.Module):
    """The layer, then its output split into grid and prefix and merged back (an identity in value)."""

    def __init__(self, inner: nn.Module, to_grid, prefix: int, channels_last: bool) -> None:
        super().__init__()
        self.inner, self.to_grid, self.prefix = inner, to_grid, prefix
        self.merge = Merge(channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x)
        return self.merge(self.to_grid(y), y[:, :self.prefix] if not self.merge.channels_last else y[:, :1, :1])


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_grad_cam_on_transformers_equals_captum_with_the_same_reshape(models, name):
    model, x = models[name], _inputs(name)
    layer = CASES[name][1] or _hf_layer(model)
    e = GradCAM(model).explain(x, target=[3, 1, 0])
    tapped = copy.deepcopy(model)
    parent, leaf = layer.rsplit(".", 1)
    inner = getattr(tapped.get_submodule(parent), leaf)
    prefix = e.diagnostics["reshape"].split(": ")[1].split(" ")[0] if CASES[name][2] == "vit" else "0"
    tap = Tap(inner, CASES[name][3], int(prefix), CASES[name][2] == "swin")
    setattr(tapped.get_submodule(parent), leaf, tap)

    def forward(t):
        out = tapped(t)
        return getattr(out, "logits", out)

    with torch.no_grad():
        torch.testing.assert_close(forward(x), getattr(model(x), "logits", model(x)))  # the tap changes nothing
    attr = captum_attr.LayerGradCam(forward, tap.merge).attribute(x, target=[3, 1, 0], relu_attributions=True,
                                                                  attribute_to_layer_input=True)
    grid_attr = attr[0] if isinstance(attr, tuple) else attr
    ref = captum_attr.LayerAttribution.interpolate(grid_attr, tuple(x.shape[2:]), interpolate_mode="bilinear")[:, 0]
    assert rel_err(e.values, ref.detach()) < TOL


@pytest.mark.parametrize(("name", "layer"), [("convnext", "features.3.1.block.2"),  # LayerNorm after Permute: NHWC
                                             ("convnext", "features.3.1.block.3"),  # Linear over channels: NHWC
                                             ("swin", "layers.1")])                  # a whole Swin stage
def test_channels_last_layers_inside_cnns_and_stages(models, name, layer):
    model, x = models[name], _inputs(name)
    e = GradCAM(model, layer=layer, relu=False).explain(x, target=[4, 0, 2])
    assert e.diagnostics["reshape"].startswith("channels-last")
    ref = hand_cam(model, layer, x, [4, 0, 2], nhwc_to_grid)
    raw = e.diagnostics["cam"]
    assert rel_err(np.maximum(raw, 0), ref) < TOL


def test_a_reshape_callable_equals_the_automatic_reshape(models):
    model, x = models["timm_vit"], _inputs("timm_vit")
    auto = GradCAM(model).explain(x, target=2)
    given = GradCAM(model, reshape=tokens_to_grid(1, 4, 4)).explain(x, target=2)
    np.testing.assert_array_equal(auto.values, given.values)
    assert given.diagnostics["reshape"] == "reshape= callable" and given.params["reshape"] == "callable"
    with pytest.raises(GradientError, match=r"reshape turned layer 'blocks.1.norm1' output \(\d, 17, 16\) into"):
        GradCAM(model, reshape=lambda t: t[:, 0]).explain(x)
    with pytest.raises(TypeError, match="reshape must be None or a callable"):
        GradCAM(model, reshape="tokens")


def test_non_square_images_use_the_patch_grid():
    model = vm.vit(img_size=(32, 16))
    x = vm.images(2, size=32)[..., :16]
    e = GradCAM(model).explain(x, target=1)
    assert e.diagnostics["cam_shape"] == (4, 2) and e.values.shape == (2, 32, 16)
    ref = hand_cam(model, "blocks.1.norm1", x, [1, 1], tokens_to_grid(1, 4, 2))
    assert rel_err(e.diagnostics["cam"], ref) < TOL


class TokenMixer(nn.Module):
    """A transformer over 13 tokens cut from the image by a Linear (no patch size to read, no class token)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(4, 8)
        self.blocks = nn.Sequential(vm.Block(8, 2))
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(1)[:, :52].reshape(len(x), 13, 4)
        return self.head(self.blocks(self.embed(tokens)).mean(1))


def test_tokens_without_a_grid_are_refused_with_the_fix():
    with pytest.raises(GridError, match=r"13 tokens.*pass reshape= a function \(n, N, C\) -> \(n, C, h, w\)"):
        GradCAM(TokenMixer()).explain(torch.randn(2, 1, 8, 8))
    e = GradCAM(TokenMixer(), reshape=lambda t: t[:, 1:].reshape(len(t), 3, 4, 8).permute(0, 3, 1, 2)).explain(
        torch.randn(2, 1, 8, 8))
    assert e.diagnostics["cam_shape"] == (3, 4)
    assert token_grid(TokenMixer(), 16, (8, 8)) == (0, (4, 4))  # no prefix declared: none dropped


def test_window_attention_output_is_refused(models):
    with pytest.raises(GradientError, match=r"first axis is not the sample axis.*window"):
        GradCAM(models["swin"], layer="layers.0.blocks.0.attn").explain(_inputs("swin"))


def test_a_coarse_vit_map_suggests_an_earlier_block():
    model = vm.vit(img_size=16, patch_size=8)  # a 2 x 2 grid for a 16 x 16 image
    e = GradCAM(model, relu=False).explain(vm.images(1, size=16))
    assert e.diagnostics["cam_shape"] == (2, 2)
    assert "an earlier layer (e.g. layer='blocks.0.norm1')" in e.diagnostics["note"][0]


@pytest.mark.parametrize("name", list(CASES))
def test_explaining_changes_nothing(models, name):
    model, x = models[name], _inputs(name)
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        before = getattr(model.eval()(x), "logits", model(x)).clone()
    model.train()
    hooks = hook_count(model)
    x_before = x.clone()
    for method in (GradCAM, GradCAMPlusPlus):
        method(model).explain(x)
    assert all(m.training for m in model.modules()) and hook_count(model) == hooks
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert torch.equal(x, x_before)
    model.eval()
    with torch.no_grad():
        assert torch.equal(getattr(model(x), "logits", model(x)), before)
