"""Grad-CAM through the layers (nbexplain.explainers.teaching.gradcam_layers / gradcam_stages): one image's map at
every stage, from one pass.

Checked against independent computations: every stage's map equals our GradCAM explainer run on that
one layer, and Captum's LayerGradCam (test-only reference) upsampled the same way
(``LayerAttribution.interpolate``, bilinear), to 1e-5 relative; the stages found for a Sequential CNN,
a ResNet-shaped network (in-place ReLU, ``out += identity``), a ``features`` container and a ViT;
the area by its formula; the deletion AUC is the deletion curve of each map. Hygiene: the user's model
(flags, parameters, buffers, .grad, hooks) and the caller's image are unchanged, also when the model
raises; re-running leaves no hook behind; bad inputs get errors that name the argument and the fix.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import vision_models as vm
from torch import nn
from torch_models import resnet

from nbexplain.explainers.gradients._engine import GradientError, hook_count
from nbexplain.explainers.gradients.layers import NoConvLayerError, UnknownLayerError
from nbexplain.explainers.teaching.gradcam_layers import gradcam_layers, map_area
from nbexplain.explainers.teaching.gradcam_stages import find_stages, thin
from nbexplain.explainers.vision.gradcam import GradCAM
from nbexplain.validate import NonFiniteError
from tests.core.test_state_guard import KINDS, assert_same, image_model, snapshot

captum_attr = pytest.importorskip("captum.attr")

TOL = 1e-5


def rel_err(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def sequential_cnn() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 4)).eval()


def digit_like(seed: int = 4) -> torch.Tensor:
    return torch.rand(1, 16, 16, generator=torch.Generator().manual_seed(seed))


CASES = {"sequential": lambda: (sequential_cnn(), digit_like()),
         "resnet": lambda: (resnet("tiny", num_classes=5), vm.images(1)[0]),
         "convnext": lambda: (vm.convnext(), vm.images(1)[0])}


class Merge(nn.Module):
    """Tokens rebuilt from the grid ``(n, C, h, w)`` and the class token: Captum attributes to this module's input."""

    def forward(self, grid: torch.Tensor, prefix: torch.Tensor) -> torch.Tensor:
        return torch.cat([prefix, grid.permute(0, 2, 3, 1).reshape(len(grid), -1, grid.shape[1])], dim=1)


class Tap(nn.Module):
    """A ViT block's norm, its tokens split into the class token and a 4 x 4 grid and merged back (same values)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.merge = inner, Merge()

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        y = self.inner(t)
        return self.merge(y[:, 1:].reshape(len(y), 4, 4, y.shape[-1]).permute(0, 3, 1, 2), y[:, :1])


def captum_map(model: nn.Module, stage: str, x: torch.Tensor, target: int, tokens: bool = False) -> np.ndarray:
    """Captum's LayerGradCam at ``stage``, upsampled to the input by LayerAttribution.interpolate (bilinear)."""
    model = copy.deepcopy(model)
    if tokens:
        parent, leaf = stage.rsplit(".", 1)
        tap = Tap(model.get_submodule(stage))
        setattr(model.get_submodule(parent), leaf, tap)
        cam = captum_attr.LayerGradCam(model, tap.merge).attribute(x[None], target=target, relu_attributions=True,
                                                                   attribute_to_layer_input=True)
        cam = cam[0] if isinstance(cam, tuple) else cam
    else:
        cam = captum_attr.LayerGradCam(model, model.get_submodule(stage)).attribute(x[None], target=target,
                                                                                    relu_attributions=True)
    up = captum_attr.LayerAttribution.interpolate(cam, tuple(x.shape[1:]), interpolate_mode="bilinear")
    return up[0, 0].detach().numpy()


# -- every stage's map is Grad-CAM at that layer --------------------------------------------------------
@pytest.mark.parametrize("name", ["sequential", "resnet", "convnext"])
def test_each_stage_equals_gradcam_and_captum_on_that_layer(name: str) -> None:
    model, x = CASES[name]()
    r = gradcam_layers(model, x, deletion=False)
    assert len(r) >= 2 and r.maps.shape == (len(r), *x.shape[1:])
    for i, stage in enumerate(r.names):
        ours = GradCAM(model, layer=stage).explain(x[None], target=r.target)
        assert rel_err(r.maps[i], ours.values[0]) <= TOL, stage
        assert rel_err(r.cams[i], ours.diagnostics["cam"][0]) <= TOL, stage
        assert r.notes[i] == ours.diagnostics["note"][0]
        assert tuple(r.resolutions[i]) == ours.diagnostics["cam_shape"]
        ref = captum_map(model, stage, x, r.target)
        assert rel_err(r.maps[i], ref) <= TOL, (stage, rel_err(r.maps[i], ref))
    with torch.no_grad():
        assert r.target == int(model(x[None]).argmax()) and r.output == pytest.approx(float(model(x[None])[0, r.target]))


def test_vit_stages_are_the_block_norms_read_as_a_token_grid() -> None:
    model, x = vm.vit(), vm.images(1)[0]
    r = gradcam_layers(model, x, target=2, deletion=False)
    assert r.names == ["blocks.0.norm1", "blocks.1.norm1"] and r.resolutions == [(4, 4), (4, 4)]
    assert r.family == "vit" and r.default_index == 1 and "prefix token" in r.reshape[0]
    for i, stage in enumerate(r.names):
        assert rel_err(r.maps[i], GradCAM(model, layer=stage).explain(x[None], target=2).values[0]) <= TOL
        assert rel_err(r.maps[i], captum_map(model, stage, x, 2, tokens=True)) <= TOL


def test_relu_false_keeps_the_sign_as_gradcam_does() -> None:
    model, x = sequential_cnn(), digit_like()
    r = gradcam_layers(model, x, target=1, relu=False, deletion=False)
    assert any((m < 0).any() for m in r.cams)
    for i, stage in enumerate(r.names):
        ref = GradCAM(model, layer=stage, relu=False).explain(x[None], target=1).values[0]
        assert rel_err(r.maps[i], ref) <= TOL
        np.testing.assert_allclose(r.raw[i], r.cams[i], atol=0)


# -- the stages ---------------------------------------------------------------------------------------
def test_stages_of_a_sequential_cnn_are_its_convolutions_in_order() -> None:
    r = gradcam_layers(sequential_cnn(), digit_like(), deletion=False)
    assert r.names == ["0", "2", "5", "8"] and r.resolutions == [(16, 16), (16, 16), (8, 8), (4, 4)]
    assert r.default_index == 3 and r.how == "every convolution the forward pass runs" and r.family == "cnn"


def test_stages_of_a_resnet_are_its_layers_with_inplace_relu_and_residual_adds() -> None:
    model = resnet("tiny", num_classes=5)
    assert any(isinstance(m, nn.ReLU) and m.inplace for m in model.modules())
    r = gradcam_layers(model, vm.images(1)[0], deletion=False)
    assert r.names == ["layer1", "layer2"] and r.resolutions == [(8, 8), (4, 4)]  # layer3/4 are Identity here
    assert r.family == "resnet" and r.default_index == 1 and r.how == "ResNet's stages layer1..layer4"


def test_stages_of_a_features_container_are_where_the_resolution_changes() -> None:
    s = find_stages(vm.convnext(), vm.images(1))
    assert s.names == ["features.1", "features.3"] and s.shapes == [(8, 8), (4, 4)] and s.default == "features.3"
    assert s.how == "the last output of features[i] at each resolution"


def test_max_stages_thins_evenly_keeping_first_last_and_the_usual_layer() -> None:
    model, x = sequential_cnn(), digit_like()
    r = gradcam_layers(model, x, max_stages=2, deletion=False)
    assert r.names == ["0", "8"] and "2 of 4 evenly spread (max_stages=2)" in r.how
    assert thin(10, 4, keep=(5,)) == [0, 3, 5, 9] and thin(2, 12) == [0, 1]


def test_layers_given_are_put_in_execution_order_and_used_as_stages() -> None:
    model, x = sequential_cnn(), digit_like()
    r = gradcam_layers(model, x, layers=["5", model[0]], deletion=False)
    assert r.names == ["0", "5"] and r.how == "the layers given"
    assert r.index("5") == 1 and r.index(-2) == 0


# -- the numbers per stage ----------------------------------------------------------------------------
def test_area_and_deletion_auc_per_stage() -> None:
    from nbexplain.metrics import deletion_curves

    model, x = sequential_cnn(), digit_like()
    r = gradcam_layers(model, x, deletion_steps=6, n_random=2, seed=3)
    m = np.maximum(r.maps.astype(np.float64), 0).reshape(len(r), -1)
    expected = m.sum(1) ** 2 / (m.shape[1] * (m * m).sum(1))
    np.testing.assert_allclose(r.area, expected, rtol=1e-5)
    assert np.isnan(map_area(np.zeros((1, 3, 3))))[0] and map_area(np.ones((1, 3, 3)))[0] == 1.0
    ref = deletion_curves(model, np.repeat(x.numpy()[None], len(r), 0), r.maps, target=r.target, steps=6, n_random=2,
                          seed=3)
    np.testing.assert_allclose(r.deletion_auc, ref.auc, rtol=1e-6)
    assert r.random_auc == pytest.approx(float(ref.mean_random_auc))


def test_an_all_zero_coarse_stage_says_why_in_words() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Conv2d(4, 2, 1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2)).eval()
    with torch.no_grad():  # the last stage: positive everywhere, and class 1 rests on it negatively -> ReLU gives 0
        model[3].weight.mul_(0.01)
        model[3].bias.fill_(5.0)
        model[7].weight[1] = -1.0
    r = gradcam_layers(model, torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(0)), target=1,
                       deletion=False)
    assert r.names == ["0", "3"] and r.resolutions[1] == (2, 2)
    assert not r.maps[1].any() and np.isnan(r.area[1])
    assert r.notes[1].startswith("Grad-CAM is 0 in 4 of 4 cells of layer '3' (2x2)")
    assert "ReLU sets negatives to 0" in r.notes[1] and "relu=False" in r.notes[1] and "layer='0'" in r.notes[1]


# -- the user's model, the caller's image and hooks --------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_the_models_state_and_the_image_are_unchanged_also_when_it_raises(kind: str) -> None:
    model = image_model(kind)
    x = np.random.default_rng(0).normal(size=(1, 8, 8)).astype(np.float32)
    before = snapshot(model, [x])
    try:
        gradcam_layers(model, x, deletion_steps=3)
    except Exception:
        if not kind.startswith("raising"):
            raise
    else:
        assert not kind.startswith("raising")
    assert_same(before, snapshot(model, [x]))


def test_hooks_are_not_leaked_when_rerun_or_when_the_model_raises() -> None:
    model, x = resnet("tiny", num_classes=5), vm.images(1)[0]
    seen: list[int] = []
    model.layer1.register_forward_hook(lambda m, i, o: seen.append(1))  # the user's own hook stays
    assert hook_count(model) == 1
    first = gradcam_layers(model, x, deletion_steps=3)
    for _ in range(3):
        again = gradcam_layers(model, x, deletion_steps=3)
        assert hook_count(model) == 1
    np.testing.assert_array_equal(first.maps, again.maps)
    assert seen, "the user's hook still fires"

    class Boom(Exception):
        pass

    def fail(m, i, o):
        raise Boom("the user's model failed in layer2")

    h = model.layer2.register_forward_hook(fail)
    with pytest.raises(Boom):
        gradcam_layers(model, x, deletion=False)
    h.remove()
    assert hook_count(model) == 1


# -- bad inputs ----------------------------------------------------------------------------------------
def test_bad_inputs_get_errors_that_name_the_argument_and_the_fix() -> None:
    model, x = sequential_cnn(), digit_like()
    with pytest.raises(ValueError, match=r"x must be one image \(C, H, W\) without the batch axis.*x\[0\]"):
        gradcam_layers(model, x[None])
    bad = x.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match="x"):
        gradcam_layers(model, bad)
    with pytest.raises(UnknownLayerError, match="nope"):
        gradcam_layers(model, x, layers=["nope"])
    with pytest.raises(ValueError, match="layers is an empty list"):
        gradcam_layers(model, x, layers=[])
    with pytest.raises(ValueError, match="max_stages"):
        gradcam_layers(model, x, max_stages=0)
    with pytest.raises(TypeError, match="relu must be True or False, got 'no'"):
        gradcam_layers(model, x, relu="no")
    with pytest.raises(ValueError, match="deletion_steps"):
        gradcam_layers(model, x, deletion_steps=0)
    with pytest.raises(GradientError, match=r"outputs shape .* not a map .*pass layers="):
        gradcam_layers(model, x, layers=["11"])  # the Linear head

    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)
            self.head = nn.Linear(256, 2)

        def forward(self, t):
            return self.head(self.conv(self.conv(t)).flatten(1))

    with pytest.raises(GradientError, match=r"ran \{'conv': 2\} times.*exactly once"):
        gradcam_layers(Twice(), x, layers=["conv"])
    with pytest.raises(NoConvLayerError, match="pass layers="):
        gradcam_layers(nn.Sequential(nn.Flatten(), nn.Linear(256, 2)), x)
    r = gradcam_layers(model, x, deletion=False)
    with pytest.raises(ValueError, match=r"no stage named 'x'; the stages are \['0', '2', '5', '8'\]"):
        r.index("x")
    with pytest.raises(ValueError, match="stage"):
        r.index(4)


def test_a_channels_last_keras_cnn_gives_the_same_maps_as_gradcam() -> None:
    pytest.importorskip("keras")
    import keras_nets

    model = keras_nets.cnn()
    x = keras_nets.digits()[0][7]  # (8, 8, 1), channels last
    r = gradcam_layers(model, x)
    assert r.names == ["conv1", "conv2"] and r.resolutions == [(8, 8), (8, 8)] and r.maps.shape == (2, 8, 8)
    assert r.deletion_auc is None  # the deletion curves take (n, C, H, W) images: not computed here
    for i, stage in enumerate(r.names):
        assert rel_err(r.maps[i], GradCAM(model, layer=stage).explain(x[None], target=r.target).values[0]) <= TOL
