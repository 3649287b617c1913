"""ModelGraphView and ChannelGrid in JupyterLab: expand, arcs, selection, tile pixels, clicks reach Python."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from ..expected import lut
from ..lab import (
    Notebook,
    canvas_array,
    collect_console_errors,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("anatomy_views.ipynb")]

ROW_H = 26  # js/src/views/anatomy/modelgraph.ts
MARKUP = "<img src=x onerror=alert(1)>"


def _node(root: Locator, name: str) -> Locator:
    return root.locator(f".nbx-graph-node[data-name='{name}']")


def _expected_tile(values: np.ndarray, scale: float) -> np.ndarray:
    """RGBA the tile should hold: signed grid, RdBu_r, u = (v / s + 1) / 2, NaN grey."""
    table = lut("RdBu_r")
    u = (np.clip(values / scale, -1, 1) + 1) / 2
    idx = np.floor(np.nan_to_num(u) * 255 + 0.5).astype(int)
    rgb = table[idx]
    rgb[~np.isfinite(values)] = 128
    return np.concatenate([rgb, np.full((*values.shape, 1), 255, np.uint8)], axis=-1)


def test_model_graph_and_channel_grid(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)

    # -- tiny ResNet: default expansion, boxes, containers ----------------------------------------
    root = page.locator(".nbx-model-graph").first
    wait_for_draws(root, 0)
    assert execute_in_kernel(nb, "print(json.dumps(view.expanded))") == ["", "layer1", "layer2"]
    nodes = root.locator(".nbx-graph-node")
    names = [nodes.nth(i).get_attribute("data-name") for i in range(nodes.count())]
    assert names[:8] == ["", "conv1", "bn1", "relu", "maxpool", "layer1", "layer1.0", "layer2"]
    conv1 = _node(root, "conv1")
    expect(conv1.locator(".nbx-graph-type")).to_have_text("Conv2d")
    expect(conv1.locator(".nbx-graph-shape")).to_have_text("8x16x16")
    expect(conv1.locator(".nbx-graph-params")).to_have_text("1.2K")  # 3 * 8 * 7 * 7 = 1176
    expect(conv1).to_have_class(re.compile(r"\bleaf\b"))
    block = _node(root, "layer1.0")
    expect(block).not_to_have_class(re.compile(r"\bexpanded\b"))
    expect(block.locator(".nbx-graph-count")).to_have_text("5 layers")
    expect(_node(root, "layer1")).to_have_class(re.compile(r"\bexpanded\b"))
    expect(root.locator("svg.nbx-graph-edges path.nbx-graph-arc")).to_have_count(0)  # blocks collapsed
    screenshot(page, "model_graph_collapsed", root)

    # -- expand a block: more boxes, the residual arc appears, Python sees `expanded` ------------
    count = nodes.count()
    draws = int(root.get_attribute("data-draws") or 0)
    block.locator(".nbx-graph-toggle").click()
    wait_for_draws(root, draws)
    expect(nodes).to_have_count(count + 5)
    poll_kernel(nb, "print(json.dumps(view.expanded))", lambda e: "layer1.0" in e)
    arc = root.locator("path.nbx-graph-arc[data-from='maxpool'][data-to='layer1.0.relu']")
    expect(arc).to_have_count(1)
    # The arc runs from the middle of the maxpool box to the middle of the relu box.
    top = arc.evaluate("(p) => p.getBoundingClientRect().top")
    bottom = arc.evaluate("(p) => p.getBoundingClientRect().bottom")
    mid_pool = _node(root, "maxpool").evaluate("(e) => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; }")
    mid_relu = _node(root, "layer1.0.relu").evaluate("(e) => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; }")
    assert abs(top - mid_pool) < 2.5 and abs(bottom - mid_relu) < 2.5, (top, bottom, mid_pool, mid_relu)
    gutter_right = root.locator("svg.nbx-graph-edges").evaluate("(s) => s.getBoundingClientRect().right")
    assert gutter_right <= _node(root, "maxpool").evaluate("(e) => e.getBoundingClientRect().left") + 0.5
    expect(_node(root, "layer1.0.relu").locator(".nbx-graph-calls")).to_have_text("\u00d72")  # used twice

    # -- keyboard: Enter on a focused container expands it -------------------------------------
    draws = int(root.get_attribute("data-draws") or 0)
    _node(root, "layer2.0").focus()
    page.keyboard.press("Enter")
    wait_for_draws(root, draws)
    poll_kernel(nb, "print(json.dumps(view.expanded))", lambda e: "layer2.0" in e)
    expect(_node(root, "layer2.0.downsample")).to_have_count(1)

    # -- click a leaf: `selected` and the event reach Python ------------------------------------
    leaf = _node(root, "layer1.0.conv2")
    leaf.locator(".nbx-graph-name").click()
    poll_kernel(nb, "print(json.dumps(view.selected))", lambda s: s == "layer1.0.conv2")
    assert poll_kernel(nb, "print(json.dumps([e['name'] for e in events]))", lambda e: len(e) == 1) == ["layer1.0.conv2"]
    expect(leaf).to_have_class(re.compile(r"\bselected\b"))
    expect(root.locator(".nbx-graph-node.selected")).to_have_count(1)
    screenshot(page, "model_graph_expanded", root)
    # A selection set in Python inside a collapsed container marks that container.
    execute_in_kernel(nb, "view.selected = 'layer2.0.downsample.0'")
    expect(_node(root, "layer2.0.downsample")).to_have_class(re.compile(r"\bhas-selected\b"))
    expect(root.locator(".nbx-graph-node.selected")).to_have_count(0)

    # -- markup in names is literal text ------------------------------------------------------------
    mk = page.locator(".nbx-model-graph").nth(1)
    wait_for_draws(mk, 0)
    expect(_node(mk, MARKUP).locator(".nbx-graph-name")).to_have_text(MARKUP)
    expect(_node(mk, MARKUP).locator(".nbx-graph-type")).to_have_text("<b>Linear</b>")
    assert mk.locator("img, b").count() == 0

    # -- ResNet-50 fully expanded draws fast ----------------------------------------------------
    big = page.locator(".nbx-model-graph").nth(2)
    wait_for_draws(big, 0)
    n_modules = execute_in_kernel(nb, "print(len(big.graph['nodes']))")
    expect(big.locator(".nbx-graph-node")).to_have_count(n_modules)
    draw_ms = float(big.get_attribute("data-draw-ms") or "nan")
    print(f"\nResNet-50 graph, {n_modules} boxes expanded: draw {draw_ms:.1f} ms")
    assert draw_ms < 100
    assert big.locator("path.nbx-graph-arc").count() >= 16  # one residual arc per bottleneck at least
    scroll = big.locator(".nbx-graph-scroll")
    assert scroll.evaluate("(s) => s.scrollHeight > s.clientHeight + 100")  # scrolls, bounded height
    screenshot(page, "model_graph_resnet50", big)

    # -- ChannelGrid: tiles in display order, pixels, labels, click ------------------------------
    grid = page.locator(".nbx-channel-grid").first
    wait_for_draws(grid, 0)
    tiles = grid.locator(".nbx-channel-tile")
    expect(tiles).to_have_count(3)
    assert [tiles.nth(i).get_attribute("data-index") for i in range(3)] == ["2", "0", "1"]
    expect(grid.locator(".nbx-channel-label")).to_have_text(["ch2", "ch0", "<i>ch1</i>"])
    assert grid.locator("i").count() == 0
    maps = np.array(execute_in_kernel(nb, "print(json.dumps(np.nan_to_num(maps, nan=1e9).tolist()))"))
    maps[maps == 1e9] = np.nan
    for pos, index in enumerate([2, 0, 1]):
        px = canvas_array(tiles.nth(pos).locator("canvas.nbx-channel-canvas"))
        assert px.shape == (4, 5, 4)
        np.testing.assert_array_equal(px, _expected_tile(maps[index], 3.0), err_msg=f"tile {index}")
    assert tuple(canvas_array(tiles.nth(2).locator("canvas"))[3, 4, :3]) == (128, 128, 128)  # NaN
    legend = grid.locator(".nbx-channel-legend")  # a colour bar with the grid's value range
    expect(legend.locator(".nbx-legend-min")).to_have_text("-3")
    expect(legend.locator(".nbx-legend-max")).to_have_text("3")
    expect(legend.locator(".nbx-legend-caption")).to_have_text("one scale for all tiles")
    expect(legend.locator("canvas.nbx-legend-bar")).to_have_attribute("title", "RdBu_r")
    expect(legend.locator(".nbx-legend-nodata")).to_have_count(1)  # the NaN cell
    width = tiles.nth(0).locator("canvas").evaluate("(c) => c.getBoundingClientRect().width")
    assert abs(width - 62) < 0.5  # 60 CSS px + 1 px border each side
    # hover read-out: tile 0 (map 2), row 0, col 1 holds 3.0
    tiles.nth(0).scroll_into_view_if_needed()
    box = tiles.nth(0).locator("canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 1 + 60 * 1.5 / 5, box["y"] + 1 + 48 * 0.5 / 4)
    expect(grid.locator(".nbx-channel-readout")).to_have_text("ch2: row 0, col 1: 3")
    tiles.nth(2).click()
    poll_kernel(nb, "print(json.dumps(grid.selected))", lambda s: s == 1)
    assert poll_kernel(nb, "print(json.dumps([e['index'] for e in grid_events]))", lambda e: len(e) == 1) == [1]
    expect(tiles.nth(2)).to_have_class(re.compile(r"\bselected\b"))
    screenshot(page, "channel_grid", grid)

    # -- RGB tiles keep their colours ----------------------------------------------------------
    rgb = page.locator(".nbx-channel-grid").nth(1)
    wait_for_draws(rgb, 0)
    red = canvas_array(rgb.locator("canvas.nbx-channel-canvas").nth(0))
    blue = canvas_array(rgb.locator("canvas.nbx-channel-canvas").nth(1))
    assert np.all(red[..., :4] == [255, 0, 0, 255])
    assert tuple(blue[0, 0]) == (0, 0, 128, 255) and tuple(blue[1, 1]) == (255, 255, 255, 255)
    expect(rgb.locator(".nbx-channel-legend")).to_have_text("RGB tiles")
    screenshot(page, "anatomy_views_page")

    # -- ResNet-18 and an untraceable model both render -----------------------------------------
    r18 = page.locator(".nbx-model-graph").nth(3)
    wait_for_draws(r18, 0)
    stages = execute_in_kernel(nb, "print(json.dumps([n['name'] for n in r18.graph['nodes'] if n['depth'] == 1]))")
    for name in stages:  # conv1 ... fc, the four stages collapsed
        expect(_node(r18, name)).to_have_count(1)
    expect(_node(r18, "layer3")).to_contain_text("Sequential")
    screenshot(page, "model_graph_resnet18", r18)
    gate = page.locator(".nbx-model-graph").nth(4)
    wait_for_draws(gate, 0)
    assert execute_in_kernel(nb, "print(json.dumps(gate_graph.method))") == "hooks"
    expect(_node(gate, "a")).to_contain_text("Linear")
    expect(_node(gate, "b")).to_have_count(1)  # never ran on this input: listed last
    expect(gate.locator(".nbx-graph-node.leaf")).to_have_count(3)
    errors.assert_none()
