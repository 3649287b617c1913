"""ModelAnatomy in JupyterLab: a graph click drives the inspector; channels, histogram, gradients draw."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from ..lab import (
    Notebook,
    canvas_array,
    collect_console_errors,
    draws,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser]


def _bar_heights(root: Locator) -> list[float]:
    return root.locator("g.bargroup rect.bar").evaluate_all(
        "(els) => els.map((e) => e.getBoundingClientRect().height)")


def _tiles(grid: Locator) -> np.ndarray:
    """Every tile canvas of a channel grid, in display order, stacked (n, h, w, 4)."""
    canvases = grid.locator("canvas.nbx-channel-canvas")
    return np.stack([canvas_array(canvases.nth(i)) for i in range(canvases.count())])


def _wait_heights(page: Page, root: Locator, n: int) -> None:
    try:
        _wait(page, root, n)
    except Exception:
        screenshot(page, "anatomy_failed")
        raise AssertionError(f"bars never drew: {n} wanted, heights {_bar_heights(root)}") from None


def _wait(page: Page, root: Locator, n: int) -> None:
    page.wait_for_function(
        "([el, n]) => { const r = [...el.querySelectorAll('g.bargroup rect.bar')];"
        " return r.length === n && r.some((e) => e.getBoundingClientRect().height > 0); }",
        arg=[root.element_handle(), n], timeout=30_000)


@pytest.mark.notebook("anatomy.ipynb")
def test_anatomy_graph_click_channels_histogram_gradients(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    page.set_viewport_size({"width": 1500, "height": 1100})
    run_all(nb)
    root = page.locator(".nbx-anatomy").first
    graph = root.locator(".nbx-model-graph").first
    acts = root.locator(".nbx-anatomy-activations").first
    grid = acts.locator(".nbx-channel-grid").first
    wait_for_draws(graph, 0)
    wait_for_draws(grid, 0)
    assert execute_in_kernel(nb, "print(json.dumps(insp.layer))") == "2"
    expect(grid.locator("canvas.nbx-channel-canvas")).to_have_count(16)
    before = _tiles(grid)
    assert before.std() > 0  # the channels are not blank
    screenshot(page, "anatomy_start", root)

    # A click on the first conv in the graph: the inspector follows (dropdown, heading, grid).
    n_draws = draws(grid)
    graph.locator('.nbx-graph-node[data-name="0"]').first.click()
    poll_kernel(nb, "print(json.dumps([insp.layer, insp.layer_picker.value, anatomy.graph_view.selected]))",
                lambda r: r == ["0", "0", "0"])
    wait_for_draws(grid, n_draws)
    expect(grid.locator("canvas.nbx-channel-canvas")).to_have_count(8)
    expect(root.locator(".nbx-anatomy-heading")).to_have_text("0 (Conv2d): output 1x8x8x8, 80 parameters")
    selected = root.locator(".nbx-anatomy-inspector select").first.evaluate(
        "(s) => s.options[s.selectedIndex].textContent.replace(/\\u00a0/g, ' ')")
    assert selected == "0 (Conv2d)"
    after = _tiles(grid)
    assert after.shape[0] == 8 and not np.array_equal(after, before[:8])
    expect(graph.locator(".nbx-graph-node.selected")).to_have_count(1)

    # A click on a channel: the enlarged heatmap shows it; another channel draws other pixels.
    tiles = grid.locator(".nbx-channel-canvas")
    tiles.nth(0).click()
    heat = acts.locator(".nbx-heatmap").first
    wait_for_draws(heat, 0)
    first = poll_kernel(nb, "print(json.dumps(insp.tab(0).grid.selected))", lambda r: r >= 0)
    want_first = int(execute_in_kernel(nb, "print(json.dumps(int(insp.tab(0).grid.order[0])))"))
    assert first == want_first
    heat_canvas = heat.locator("canvas.nbx-heatmap-canvas").first
    px1 = canvas_array(heat_canvas)
    n_heat = draws(heat)
    tiles.nth(3).click()
    poll_kernel(nb, "print(json.dumps(insp.tab(0).channel))", lambda r: r != first)
    wait_for_draws(heat, n_heat)
    px2 = canvas_array(heat_canvas)
    assert px1.shape == px2.shape and not np.array_equal(px1, px2)
    title = execute_in_kernel(nb, "print(json.dumps(insp.tab(0).enlarged.title))")
    assert title.startswith("0 channel ")
    screenshot(page, "anatomy_channel", root)

    # The activation histogram: 50 bars with heights proportional to the kernel's counts.
    hist = acts.locator(".bqplot").last
    _wait_heights(page, hist, 50)
    counts = np.array(execute_in_kernel(nb, "print(json.dumps(insp.tab(0).hist.bars.y.tolist()))"))
    heights = np.array(_bar_heights(hist))
    k = int(np.argmax(counts))
    np.testing.assert_allclose(heights / heights[k], counts / counts[k], atol=0.02)
    stats = acts.locator(".nbx-anatomy-act-stats").first.text_content() or ""
    assert stats.startswith("min ") and " mean " in stats and " max " in stats

    # The gradients tab: one bar per layer with weights, the selected layer in orange.
    root.locator(".lm-TabBar-tab", has_text="Gradients").first.click()
    grads = root.locator(".nbx-anatomy-gradients").first
    norms = grads.locator(".bqplot").first
    _wait_heights(page, norms, 5)
    got = execute_in_kernel(nb, "print(json.dumps([list(insp.tab(3).norms.bars.x), insp.tab(3).norms.bars.colors]))")
    assert got[0] == ["0", "2", "3", "7", "9"] and got[1][0] == "#e4572e"
    fills = norms.locator("g.bargroup rect.bar").evaluate_all("(els) => els.map((e) => getComputedStyle(e).fill)")
    assert fills[0] != fills[1]
    assert min(_bar_heights(norms)) > 0  # log scale: every norm is visible
    screenshot(page, "anatomy_gradients", root)

    # The other tabs open without errors (checked by eye in the screenshots).
    for name, css in [("Filters", ".nbx-anatomy-filters"), ("Weights", ".nbx-anatomy-weights"),
                      ("Activation function", ".nbx-anatomy-activation-fn")]:
        root.locator(".lm-TabBar-tab", has_text=name).first.click()
        expect(root.locator(css).first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(300)
        screenshot(page, f"anatomy_{css.rsplit('-', 1)[-1]}", root)
    expect(root.locator(".nbx-anatomy-filters canvas.nbx-channel-canvas")).to_have_count(8)
    expect(root.locator(".nbx-anatomy-activation-fn path.line").first).to_be_attached()
    assert execute_in_kernel(nb, "print(json.dumps(insp.error))") == ""
    errors.assert_none()
