"""GradCAMLayersView: what it sends (the one codec, within the wire budget, with the note), the stage
selection going both ways, names as text, and the user's model left as it was.

The numbers themselves are checked against GradCAM and Captum in tests/explainers/teaching/test_gradcam_through_layers.py;
here the decoded payload must give them back (each stage's map times its peak).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets
from torch import nn
from torch_models import resnet

import nbexplain as nbx
from nbexplain.codec import decode_array
from nbexplain.explainers.gradients._engine import hook_count
from nbexplain.widgets.teaching.gradcam_layers_view import GradCAMLayersView
from nbexplain.widgets.teaching.gradcam_layers_wire import stage_bytes
from tests.core.test_state_guard import KINDS, assert_same, image_model, snapshot

HOSTILE = '<img src=x onerror="window.__nbx_pwned=1">'


def cnn() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8 * 2 * 2, 4)).eval()


def digit() -> torch.Tensor:
    return torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(5))


def _wire(view: GradCAMLayersView) -> tuple[dict, int]:
    from ipywidgets.widgets.widget import _remove_buffers

    state, _paths, buffers = _remove_buffers(view.get_state())
    return state, sum(memoryview(b).nbytes for b in buffers)


def test_payload_goes_through_the_codec_and_decodes_to_the_stages_maps(recorded: None) -> None:
    view = GradCAMLayersView(cnn(), digit(), target=2, deletion_steps=4, class_names=["a", "b", HOSTILE, "d"])
    r = view.result
    assert view.stage_names == ["0", "3", "6"] and view.resolutions == [[8, 8], [4, 4], [2, 2]]
    assert view.default_stage == 2 and view.stage == 2 and view.stage_name == "6"  # the usual layer first
    state = view.get_state()
    for name in ("image", "maps", "cams", "peaks", "area", "deletion_auc"):
        assert set(state[name]) >= {"dtype", "shape", "data"}, name
        assert isinstance(state[name]["data"], (bytes, memoryview)), name  # binary, never a JSON list
    assert state["maps"]["dtype"] == "float16" and state["maps"]["shape"] == [3, 8, 8]
    assert state["image"]["dtype"] == "uint8" and state["image"]["shape"] == [8, 8]
    assert state["peaks"]["dtype"] == "float32" and state["area"]["dtype"] == "float32"
    msg = next(m for m in view.comm.messages if m["msg_type"] == "comm_open")
    assert msg["buffers"], "arrays travel as binary buffers"
    # what the browser decodes, times each stage's peak, is the full-resolution result
    peaks = decode_array(state["peaks"])
    maps = decode_array(state["maps"]) * peaks[:, None, None]
    np.testing.assert_allclose(maps, r.maps, atol=2e-3 * float(np.abs(r.maps).max()))
    cams = decode_array(state["cams"])
    offsets = np.cumsum([0] + [h * w for h, w in state["cam_shapes"]])
    for i, cam in enumerate(r.cams):
        np.testing.assert_allclose(cams[offsets[i]:offsets[i + 1]].reshape(cam.shape) * peaks[i], cam,
                                   atol=2e-3 * float(np.abs(cam).max()))
        assert peaks[i] == pytest.approx(float(np.abs(cam).max()), rel=1e-6)
    np.testing.assert_array_equal(view.image, np.clip(np.rint(r.x[0] * 255), 0, 255))  # the picture, 8-bit grey
    np.testing.assert_allclose(decode_array(state["deletion_auc"]), r.deletion_auc)
    assert view.output_label == f"output '{HOSTILE}' = {r.output:.4g}"  # a string; drawn with textContent
    assert view.note == "" and view.metric == "deletion" and view.notes == r.notes
    view.close()


def test_stage_selection_round_trip() -> None:
    view = GradCAMLayersView(cnn(), digit(), deletion=False, stage="3")
    assert view.stage == 1 and view.metric == "area"
    view.set_state({"stage": 0})  # what the browser's slider sends
    at = view.at_stage()
    assert view.stage_name == "0" and at["name"] == "0" and at["resolution"] == (8, 8) and not at["usual"]
    np.testing.assert_array_equal(at["map"], view.result.maps[0])
    assert view.get_state(["stage"]) == {"stage": 0}  # and what Python sets goes to the browser
    view.stage = 2
    assert view.at_stage()["usual"] and view.at_stage()["deletion_auc"] is None
    with pytest.raises(traitlets.TraitError, match=r"stage must be an index in 0..2 \(the stages are"):
        view.stage = 3
    with pytest.raises(traitlets.TraitError, match="metric 'deletion' needs the deletion AUC"):
        view.metric = "deletion"
    with pytest.raises(ValueError, match="no stage named 'nope'"):
        GradCAMLayersView(cnn(), digit(), deletion=False, stage="nope")
    with pytest.raises(ValueError, match="class_names has 2 names but the explained output is 3; pass one name"):
        GradCAMLayersView(cnn(), digit(), target=3, deletion=False, class_names=["a", "b"])
    with pytest.raises(ValueError, match="class_names is one string"):
        GradCAMLayersView(cnn(), digit(), deletion=False, class_names="abcd")
    with pytest.raises(TypeError, match="layer"):
        GradCAMLayersView(cnn(), digit(), layer="3")  # a typo of layers= is refused, not ignored
    view.close()


def test_wire_budget_downsamples_and_says_so() -> None:
    model = resnet("tiny", num_classes=3)
    x = torch.rand(3, 224, 224, generator=torch.Generator().manual_seed(8))
    view = GradCAMLayersView(model, x, deletion=False)
    _state, nbytes = _wire(view)
    assert nbytes <= 1_000_000 and view.maps.shape == (2, 56, 56) and view.image.shape == (56, 56, 3)
    assert view.resolutions == [[56, 56], [28, 28]] and view.cam_shapes == [[56, 56], [28, 28]]
    assert view.note.startswith("the picture and the upsampled maps block-averaged 4 x 4 (224 x 224 -> 56 x 56 cells)")
    assert "976.6 KB" in view.note and "the numbers per stage use the full-resolution maps" in view.note
    full = view.result.maps[0]  # the block-averaged map is the mean over 4 x 4 blocks, in the stage's unit
    np.testing.assert_allclose(view.maps[0] * view.peaks[0], full.reshape(56, 4, 56, 4).mean((1, 3)),
                               atol=1e-3 * np.abs(full).max())
    small = GradCAMLayersView(model, x, deletion=False, max_bytes=20_000)
    _state, nbytes = _wire(small)
    assert nbytes <= 20_000 and small.maps.shape[1] < 56
    assert "layer-resolution maps of layer1 (56 x 56 ->" in small.note and "within the 19.5 KB this view" in small.note
    assert stage_bytes((224, 224), [(56, 56), (28, 28)], 3, small.maps.shape[1]) <= 20_000
    with pytest.raises(ValueError, match="max_bytes=5000 cannot hold the 2 stages' maps even at 4 x 4"):
        GradCAMLayersView(model, x, deletion=False, max_bytes=5000)
    view.close()
    small.close()


@pytest.mark.parametrize("kind", KINDS)
def test_the_view_leaves_the_models_state(kind: str) -> None:
    model = image_model(kind)
    x = np.random.default_rng(0).normal(size=(1, 8, 8)).astype(np.float32)
    before = snapshot(model, [x])
    try:
        view = GradCAMLayersView(model, x, deletion_steps=3)
        view.stage = 0
        view.close()
    except Exception:
        if not kind.startswith("raising"):
            raise
    assert_same(before, snapshot(model, [x]))


def test_rerunning_the_view_leaks_no_hooks_and_a_failure_leaves_no_widget() -> None:
    from ipywidgets.widgets.widget import _instances

    model = cnn()
    for _ in range(3):
        GradCAMLayersView(model, digit(), deletion_steps=3).close()
    assert hook_count(model) == 0
    alive = len(_instances)
    with pytest.raises(ValueError, match="x must be one image"):
        GradCAMLayersView(model, digit()[None])
    with pytest.raises(ValueError, match="max_map"):
        GradCAMLayersView(model, digit(), max_map=2)
    assert len(_instances) == alive and hook_count(model) == 0


def test_exports() -> None:
    assert nbx.GradCAMLayersView is GradCAMLayersView and "GradCAMLayersView" in nbx.__all__
    assert "GradCAMLayersView" in nbx.widgets.__all__
