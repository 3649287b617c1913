"""The model anatomy inspector: lazy tabs, the per-(layer, sample) cache, errors in the widget,
graph clicks, and the 1 MB per-widget bound on ResNet-50."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nbexplain.explainers.gradients.layers import hook_count
from nbexplain.widgets.anatomy.size import state_bytes, state_report, widget_tree
from nbexplain.widgets.anatomy.view import LayerInspector, ModelAnatomy
from tests.torch_models import mlp, resnet, small_cnn

pytest.importorskip("bqplot")


def _digits_batch(n: int = 4) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(n, 1, 8, 8)


def _output(model: nn.Module, x: torch.Tensor, name: str) -> torch.Tensor:
    got = {}
    handle = dict(model.named_modules())[name].register_forward_hook(lambda _m, _a, out: got.setdefault("o", out))
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
    return got["o"].detach()


def _select(widget, **message) -> None:
    """What a browser event does: the widget's registered callbacks run."""
    widget._dispatch_event(widget, {"event": "select", **message}, [])


def test_inspector_is_lazy_caches_and_draws_exact_values() -> None:
    model, x = small_cnn().eval(), _digits_batch()
    insp = LayerInspector(model, x)
    assert insp.layer == "2"  # the last Conv2d
    assert insp.computed == [("activations", "2", 0), ("histogram", "2", 0)]  # only the open tab
    act = insp.tab(0)
    want = _output(model, x[:1], "2")[0].numpy()  # (16, 8, 8)
    np.testing.assert_allclose(act.grid.maps, want, rtol=1e-6, atol=1e-6)
    assert act.grid.labels[5] == "channel 5"
    np.testing.assert_array_equal(act.grid.order, np.argsort(-want.mean(axis=(1, 2)), kind="stable"))
    act.sort.value = "max"
    np.testing.assert_array_equal(act.grid.order, np.argsort(-want.max(axis=(1, 2)), kind="stable"))
    act.sort.value = "index"
    np.testing.assert_array_equal(act.grid.order, np.arange(16))
    counts, edges = np.histogram(want.astype(np.float64).ravel(), bins=50)
    np.testing.assert_array_equal(act.hist.bars.y, counts)
    np.testing.assert_allclose(act.hist.bars.x, (edges[:-1] + edges[1:]) / 2)
    assert act.stats.value.startswith(f"min {want.min():.4g}   mean {want.mean():.4g}   max {want.max():.4g}")
    assert insp.tabs.titles[3] == "Gradients"

    # A channel click: the enlarged heatmap is that channel at full resolution, over the input.
    _select(act.grid, index=3)
    assert act.grid.selected == 3 and act.enlarged.layout.display == "flex"
    np.testing.assert_allclose(act.enlarged.values, want[3], rtol=1e-6, atol=1e-6)
    assert act.enlarged.image.shape == (8, 8) and act.enlarged.title == "2 channel 3"
    _select(act.grid, index=7)
    np.testing.assert_allclose(act.enlarged.values, want[7], rtol=1e-6, atol=1e-6)

    # Another sample: only its activations are computed; coming back costs nothing.
    insp.sample = 2
    assert insp.computed[-2:] == [("activations", "2", 2), ("histogram", "2", 2)]
    np.testing.assert_allclose(act.grid.maps, _output(model, x[2:3], "2")[0].numpy(), rtol=1e-6, atol=1e-6)
    assert act.enlarged.layout.display == "none" and act.grid.selected == -1
    n = len(insp.computed)
    insp.sample = 0
    insp.sample = 2
    assert len(insp.computed) == n and insp.sample_picker.value == 2

    # A dense layer: bars of the unit values, no grid.
    insp.layer = "7"  # Linear(256, 32)
    assert act.grid_row.layout.display == "none" and act.dense_box.layout.display == "flex"
    np.testing.assert_allclose(act.dense_chart.bars.y, _output(model, x[2:3], "7")[0].numpy(), rtol=1e-6)
    assert insp.layer_picker.value == "7" and insp.heading.value.startswith("7 (Linear): output 1x32, 8,224 param")
    assert not any(k[0] in ("gradients", "weights", "filters", "curve") for k in insp.computed)


def test_inspector_other_tabs_compute_when_opened() -> None:
    model, x = small_cnn().eval(), _digits_batch()
    y = np.array([1, 2, 3, 4])
    insp = LayerInspector(model, x, y=y, layer="7", class_names=[f"digit {i}" for i in range(10)])
    assert insp.sample_picker.options[1] == ("1 (label digit 2)", 1)

    insp.tabs.selected_index = 1  # Filters: a Linear layer shows the first conv's filters with a note
    filters = insp.tab(1)
    assert "7 is not a convolution; showing the filters of the first convolution, 0" in filters.note.value
    np.testing.assert_allclose(filters.grid.maps, model[0].weight.detach()[:, 0].numpy(), rtol=1e-6)
    insp.layer = "2"  # a conv: its own filters, the mean over its 8 input channels
    np.testing.assert_allclose(filters.grid.maps, model[2].weight.detach().mean(1).numpy(), rtol=1e-5, atol=1e-7)
    assert ("activations", "2", 0) not in insp.computed  # the Activations tab is closed: not computed

    insp.tabs.selected_index = 2  # Weights: the layer's histogram and a table of all layers
    weights = insp.tab(2)
    w = model[2].weight.detach().double().numpy().ravel()
    np.testing.assert_array_equal(weights.hist.bars.y, np.histogram(w, bins=40)[0])
    assert f"std {w.std():.4g}" in weights.stats.value
    rows = [c.value for c in weights.table.children]
    assert rows[:8] == list(weights.COLUMNS) and len(rows) == 8 * (1 + weights.PAGE_ROWS)
    assert rows[8:12] == ["0", "Conv2d", "8x1x3x3", "80"] and rows[16] == "2"  # 2 conv, bn, 2 linear
    assert rows[48:] == [""] * (len(rows) - 48) and weights.page_label.value == "rows 1-5 of 5"
    assert weights.table.children[16].style.font_weight == "bold"  # the selected layer's row
    # The weight map: (16 output channels, 8 input channels x 3 x 3), exact (float16 on the wire).
    np.testing.assert_allclose(weights.map.values, model[2].weight.detach().numpy().reshape(16, 72), rtol=2e-3,
                               atol=1e-4)
    assert weights.map_note.value == "rows: output channels; columns: input channel x kernel position"
    insp.layer = "1"  # ReLU: no weights of its own
    assert weights.note.value == "1 has no weights of its own" and weights.hist.figure not in weights.box.children
    assert weights.map.layout.display == "none"

    insp.tabs.selected_index = 3  # Gradients, computed once for the batch
    grads = insp.tab(3)
    assert insp.computed.count(("gradients",)) == 1
    layers = ["0", "2", "3", "7", "9"]
    assert list(grads.norms.bars.x) == layers
    model.zero_grad()
    loss = nn.functional.cross_entropy(model(x), torch.as_tensor(y))
    loss.backward()
    want = [float(dict(model.named_modules())[n].weight.grad.norm()) for n in layers]
    model.zero_grad(set_to_none=True)
    assert grads.hist.figure not in grads.box.children and "1 has no parameters" in grads.note.value
    insp.layer = "3"
    assert grads.norms.bars.colors[2] == "#e4572e" and grads.hist.figure in grads.box.children
    assert int(np.sum(grads.hist.bars.y)) == 32  # BatchNorm2d(16): weight and bias gradients
    np.testing.assert_allclose(grads.norms.bars.y, np.log10(want), rtol=1e-4)  # log scale by default
    assert grads.norms.bars.base == np.floor(np.log10(min(want)) - 0.5) == grads.norms.y_scale.min
    assert grads.norms.y_axis.label == "gradient norm (log10)"
    grads.log.value = False
    assert not grads.norms.log and grads.norms.bars.base == 0 and grads.norms.y_axis.label == "gradient norm"
    np.testing.assert_allclose(grads.norms.bars.y, want, rtol=1e-4)

    insp.tabs.selected_index = 4  # Activation function: a BatchNorm is followed by ReLU "4"
    fn = insp.tab(4)
    assert "3 is not an activation; showing the next one after it, 4 (ReLU)" in fn.note.value
    xs = np.asarray(fn.chart.lines.x)
    np.testing.assert_allclose(fn.chart.lines.y[0], np.maximum(xs, 0), atol=1e-6)
    insp.layer = "8"  # Sigmoid itself
    np.testing.assert_allclose(fn.chart.lines.y[0], 1 / (1 + np.exp(-xs)), atol=1e-6)
    np.testing.assert_allclose(fn.chart.lines.y[1], np.exp(-xs) / (1 + np.exp(-xs)) ** 2, atol=1e-5)
    assert insp.error == ""


class _Flaky(nn.Module):
    """A conv net with a module that never runs and a switch that makes forward raise."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(4 * 8 * 8, 3)
        self.unused = nn.Linear(3, 3)
        self.broken = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.conv(x))
        if self.broken:
            raise RuntimeError("the model broke on purpose")
        return self.fc(h.flatten(1))


def test_errors_raise_at_construction_and_show_in_the_widget_later() -> None:
    model, x = _Flaky(), _digits_batch(2)
    with pytest.raises(ValueError, match="'unused' never ran in the forward pass"):
        LayerInspector(model, x, layer="unused")
    with pytest.raises(ValueError, match=r"no layer named 'cnov'.*'conv'"):
        LayerInspector(model, x, layer="cnov")
    with pytest.raises(ValueError, match=r"shape \(1, 3, 8, 8\)"):
        LayerInspector(model, torch.zeros(2, 3, 8, 8))
    with pytest.raises(ValueError, match="y has 3 labels for 2 samples"):
        LayerInspector(model, x, y=[0, 1, 2])

    insp = LayerInspector(model, x)
    assert insp.layer == "conv"
    assert insp.show_layer("unused") is False
    assert insp.error.startswith("ValueError: the layer 'unused' never ran") and insp.layer == "conv"
    assert insp.error_label.layout.display == "flex"
    with pytest.raises(ValueError, match="never ran"):
        insp.layer = "unused"

    model.broken = True
    assert insp.show_layer("relu") is True  # the switch worked; the tab's compute failed
    assert "the model broke on purpose" in insp.error and hook_count(model) == 0
    model.broken = False
    insp.tabs.selected_index = 1
    insp.tabs.selected_index = 0  # reopening the tab retries the failed draw
    assert insp.error == "" and insp.tab(0).key == ("relu", 0)
    np.testing.assert_allclose(insp.tab(0).grid.maps, _output(model, x[:1], "relu")[0].numpy(), rtol=1e-6)

    plain = LayerInspector(mlp(), torch.zeros(3, 6))  # no conv: the Filters tab says so in the widget
    assert plain.layer == "0" and plain.image(0) is None
    plain.tabs.selected_index = 1
    assert "no convolutional layer" in plain.error or "Conv2d" in plain.error


def test_model_anatomy_graph_click_selects_the_layer() -> None:
    torch.manual_seed(0)
    anatomy = ModelAnatomy(resnet("tiny", num_classes=3), torch.randn(2, 3, 32, 32))
    insp, view = anatomy.inspector, anatomy.graph_view
    assert insp.layer == "layer2.0.conv2"  # the last convolution to run
    assert view.selected == insp.layer
    _select(view, name="layer1.0.conv2")
    assert insp.layer == "layer1.0.conv2" and view.selected == "layer1.0.conv2"
    assert {"layer1", "layer1.0"} <= set(view.expanded)
    assert insp.tab(0).grid.maps.shape == (8, 8, 8)
    _select(view, name="layer1")  # a whole stage: it joins the dropdown
    assert insp.layer == "layer1" and insp.layer_picker.value == "layer1" and insp.error == ""
    assert ("layer1 (Sequential)", "layer1") in insp.layer_picker.options
    _select(view, name="")  # the root: an error in the inspector, nothing else changes
    assert "whole model" in insp.error and insp.layer == "layer1"
    insp.layer_picker.value = "fc"
    assert view.selected == "fc" and insp.error == ""
    assert len(widget_tree(anatomy)) > 20 and state_bytes(view) > 0


@pytest.mark.slow
def test_resnet50_every_widget_stays_under_1mb_per_layer() -> None:
    model = resnet("50")
    x = torch.randn(1, 3, 224, 224)
    anatomy = ModelAnatomy(model, x)
    insp = anatomy.inspector
    leaves = [n for n in insp.graph.nodes if n.is_leaf and n.output_shape is not None and len(n.output_shape) == 4]
    largest = max(leaves, key=lambda n: int(np.prod(n.output_shape)))
    assert int(np.prod(largest.output_shape)) >= 256 * 56 * 56
    insp.layer = largest.name
    _select(insp.tab(0).grid, index=0)
    sizes = {}
    for tab in range(5):
        insp.tabs.selected_index = tab
        assert insp.error == ""
        report = state_report(anatomy)
        sizes[tab] = report
        assert report["largest"] <= 1_000_000, (tab, report)
    assert sizes[4]["total"] < 5_000_000, sizes
    grid = insp.tab(0).grid
    assert state_bytes(grid) > 0.3e6  # the maps are sent, downsampled, not dropped


def test_layout_gives_the_grid_the_width_and_the_view_the_scrolling() -> None:
    from nbexplain.widgets.anatomy.activations import ENLARGED_PX, tile_size

    anatomy = ModelAnatomy(small_cnn(), _digits_batch(2))
    act = anatomy.inspector.tab(0)
    # The grid grows into the width beside the enlarged channel; no box around it scrolls (its
    # tiles scroll inside the view, under the colour bar), so the bar and read-out stay in sight.
    assert (act.grid.layout.flex, act.grid.layout.max_height, act.grid.layout.overflow) == ("1 1 auto", None, None)
    assert act.enlarged_box.layout.width == f"{ENLARGED_PX + 16}px"
    assert act.grid.tile_size == tile_size(16) == 56
    anatomy.inspector.tabs.selected_index = 1
    assert anatomy.inspector.tab(1).grid.layout.max_height is None
    assert anatomy.graph_view.layout.width == "380px"
    anatomy.close()


def test_long_layer_names_get_rotated_ticks_and_margins() -> None:
    from nbexplain.widgets.anatomy.charts import BarChart

    chart = BarChart("layer", "norm", ordinal=True)
    chart.set(["0", "2"], np.array([1.0, 2.0]))
    assert chart.x_axis.tick_rotate == 0 and chart.figure.fig_margin["bottom"] == 45
    chart.set(["layer1.0.conv1", "layer1.0.conv2"], np.array([1.0, 2.0]))
    assert chart.x_axis.tick_rotate == -40 and chart.x_axis.tick_style["text-anchor"] == "end"
    assert chart.figure.fig_margin["bottom"] >= 6.4 * 14 * 0.64 + 22
    assert chart.figure.fig_margin["left"] >= 62
