"""The same checks on torchvision's and timm's own architectures (random weights), where they import.

On this project's CPU machine torchvision and timm do not import beside torch (RECIPE.md), so this
file is skipped there and the shaped networks of ``tests/vision_models.py`` stand in; it runs
wherever they do (a GPU machine, a user's environment). Checked: the family and default layer of
each architecture and its token / channels-last reshape, attention maps against timm's own
non-fused computation, DeepLift's summation-to-delta on ConvNeXt-T and EfficientNet-B0 from a zero
image, and that nothing is left on the model.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

torchvision = pytest.importorskip("torchvision")
timm = pytest.importorskip("timm")

from nbexplain.explainers import AttentionRollout, DeepLift, GradCAM, attention_maps  # noqa: E402
from nbexplain.explainers.gradients.layers import hook_count  # noqa: E402

tvm = torchvision.models

ARCHITECTURES = {
    "tv_resnet18": (lambda: tvm.resnet18(num_classes=3), 64, "resnet", "layer4", "none"),
    "tv_convnext_tiny": (lambda: tvm.convnext_tiny(num_classes=3), 64, "convnext", "features.7", "none"),
    "tv_efficientnet_b0": (lambda: tvm.efficientnet_b0(num_classes=3), 64, "efficientnet", "features.8", "none"),
    "tv_vit": (lambda: tvm.VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=2, hidden_dim=32,
                                             mlp_dim=64, num_classes=3), 64, "vit",
               "encoder.layers.encoder_layer_1.ln_1", "tokens: 1 prefix"),
    "tv_swin_t": (lambda: tvm.swin_t(num_classes=3), 64, "swin", "features.7.1.norm1", "channels-last"),
    "timm_vit": (lambda: timm.create_model("vit_tiny_patch16_224", num_classes=3, img_size=64, depth=2), 64, "vit",
                 "blocks.1.norm1", "tokens: 1 prefix"),
    "timm_deit_distilled": (lambda: timm.create_model("deit_tiny_distilled_patch16_224", num_classes=3, img_size=64,
                                                      depth=2), 64, "vit", "blocks.1.norm1", "tokens: 2 prefix"),
    "timm_swin": (lambda: timm.create_model("swin_tiny_patch4_window7_224", num_classes=3, img_size=112), 112, "swin",
                  "layers.3.blocks.1.norm1", "channels-last"),
    "timm_convnext": (lambda: timm.create_model("convnext_atto", num_classes=3), 64, "convnext", "stages.3", "none"),
    "timm_efficientnet": (lambda: timm.create_model("efficientnet_b0", num_classes=3), 64, "efficientnet", "bn2",
                          "none"),
}


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_family_default_layer_and_reshape(name):
    make, size, family, layer, reshape = ARCHITECTURES[name]
    model = make().eval()
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = model(x).clone()
    e = GradCAM(model).explain(x)
    assert (e.diagnostics["family"], e.diagnostics["layer"]) == (family, layer)
    assert e.diagnostics["reshape"].startswith(reshape) and e.values.shape == (2, size, size)
    assert np.isfinite(e.values).all() and hook_count(model) == 0
    with torch.no_grad():
        assert torch.equal(model(x), before)


@pytest.mark.parametrize("name", ["timm_vit", "timm_deit_distilled"])
def test_timm_attention_maps_equal_its_non_fused_probabilities(name):
    model = ARCHITECTURES[name][0]().eval()
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    ref, seen = copy.deepcopy(model), []
    for block in ref.blocks:
        block.attn.fused_attn = False
        block.attn.attn_drop.register_forward_hook(lambda _m, inp, _o: seen.append(inp[0].detach()))
    with torch.no_grad():
        ref(x)
    np.testing.assert_allclose(attention_maps(model, x), torch.stack(seen, 1).numpy(), atol=1e-6)
    e = AttentionRollout(model).explain(x)
    assert e.values.shape == (2, 64, 64) and e.diagnostics["grid"] == (4, 4)
    assert hook_count(model) == 0


def test_torchvision_vit_attention_maps_and_swin_refusal():
    model = ARCHITECTURES["tv_vit"][0]().eval()
    maps = attention_maps(model, torch.randn(2, 3, 64, 64))
    assert maps.shape == (2, 2, 2, 17, 17) and np.abs(maps.sum(-1) - 1).max() < 1e-5
    from nbexplain.explainers.vision.attention import AttentionCaptureError

    with pytest.raises(AttentionCaptureError, match="window attention"):
        attention_maps(ARCHITECTURES["tv_swin_t"][0]().eval(), torch.randn(1, 3, 64, 64))


@pytest.mark.parametrize("name", ["tv_convnext_tiny", "tv_efficientnet_b0", "timm_convnext", "timm_efficientnet"])
def test_deeplift_sums_to_delta_from_a_zero_image(name):
    model = ARCHITECTURES[name][0]().eval()
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    e = DeepLift(model).explain(x, target=[0, 1])
    with torch.no_grad():
        gap = (model(x) - model(torch.zeros_like(x)))[[0, 1], [0, 1]].double().numpy()
    np.testing.assert_allclose(e.values.reshape(2, -1).sum(1), gap, rtol=1e-3, atol=1e-6)
