"""The Dashboard's chart tabs at notebook width, light and dark: bqplot figures laid out only when
their tab opens (no negative sizes), charts stacked below a breakpoint, no clipped or colliding
text, integer ticks for integer data, and theme colours with enough contrast.

global_layout.ipynb builds a ``LazyTab`` the way the Dashboard does and fills its Global, Errors &
bias and Surrogate pages while those tabs are closed (as ``Dashboard.compute_global()`` does).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from ..chart_checks import assert_ticks_apart, background_of, contrast, paint, plot_size
from ..lab import (
    Notebook,
    canvas_array,
    collect_console_errors,
    execute_in_kernel,
    run_all,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("global_layout.ipynb")]

NOTEBOOK_PX = 968  # JupyterLab's notebook width in the setup (1400 px window, file browser open)
HEIGHT_PX = 1700  # tall enough that a whole tab page fits on screen (element screenshots)


def _notebook_width(page: Page) -> float:
    return page.evaluate("() => document.querySelector('.jp-NotebookPanel .jp-Notebook').getBoundingClientRect().width")


def _set_notebook_width(page: Page, width: float) -> None:
    size = page.viewport_size or {"width": 1280, "height": 900}
    page.set_viewport_size({"width": int(size["width"] + width - _notebook_width(page)), "height": HEIGHT_PX})
    page.wait_for_function(f"() => Math.abs(document.querySelector('.jp-NotebookPanel .jp-Notebook')"
                           f".getBoundingClientRect().width - {width}) < 2", timeout=10_000)


def _output(page: Page, cell: int) -> Locator:
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(cell).locator(".jp-OutputArea")


def _open(tabs: Locator, name: str) -> None:
    tabs.locator(".lm-TabBar-tab", has_text=re.compile(f"^{re.escape(name)}$")).first.click()


def _box(el: Locator) -> dict[str, float]:
    box = el.bounding_box()
    assert box is not None, "not visible"
    return box


def _drawn(figure: Locator) -> None:
    """Wait until bqplot has laid the figure out (its plot area has a size)."""
    figure.page.wait_for_function(
        "(f) => { const r = f.querySelector('rect.plotarea_background');"
        " return r && r.getBoundingClientRect().width > 0 && f.querySelectorAll('g.axis .tick text').length > 1; }",
        arg=figure.element_handle(), timeout=30_000)


def _swarm_axis_luminance(swarm: Locator) -> float:
    """Mean luminance (0..1) of the beeswarm's canvas-drawn tick labels (below its 20 rows)."""
    canvas = swarm.locator("canvas.nbx-beeswarm-canvas")
    px = canvas_array(canvas)
    dpr = px.shape[1] / float(swarm.get_attribute("data-plot-width") or px.shape[1])
    strip = px[round((20 * 26 + 7) * dpr): round((20 * 26 + 17) * dpr)]
    text = strip[strip[..., 3] > 200][:, :3].astype(float)
    assert len(text) > 20, "no tick labels under the beeswarm"
    return float((text @ [0.2126, 0.7152, 0.0722]).mean() / 255)


def _set_theme(page: Page, name: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(name)}$")).click()


def test_chart_tabs_lay_out_for_the_notebook_width(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    _set_notebook_width(page, NOTEBOOK_PX)
    run_all(nb)
    tabs = _output(page, 1)
    assert execute_in_kernel(nb, "print(json.dumps(len(global_box.children)))") == 2
    # The pages were filled while closed: none of their figures exists in the page yet.
    assert tabs.locator(".bqplot").count() == 0

    _open(tabs, "Global")
    importance = tabs.locator(".nbx-importance").first
    swarm = tabs.locator(".nbx-beeswarm").first
    bars_fig = importance.locator(".bqplot").first
    _drawn(bars_fig)
    expect(importance.locator("g.bargroup rect.bar")).to_have_count(20)
    size = plot_size(bars_fig)
    assert size["width"] > 200 and size["height"] > 200, size
    # 968 px is too narrow for both side by side: the beeswarm goes under the bars, inside the output.
    out_box, imp_box, swarm_box = _box(tabs), _box(importance), _box(swarm)
    assert swarm_box["y"] >= imp_box["y"] + imp_box["height"] - 1, (imp_box, swarm_box)
    for box in (imp_box, swarm_box):
        assert box["x"] >= out_box["x"] - 1 and box["x"] + box["width"] <= out_box["x"] + out_box["width"] + 1
    # The title is a whole line of text above the figure, not cut.
    title = importance.locator(".nbx-chart-title")
    expect(title).to_have_text("mean |SHAP| of the log-odds of benign, on 80 test samples")
    assert title.evaluate("(e) => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight + 1")
    assert_ticks_apart(bars_fig, "importance bars")
    pdp_fig = tabs.locator(".nbx-pdp .bqplot").first
    _drawn(pdp_fig)
    assert plot_size(pdp_fig)["width"] > 300
    pdp_text = assert_ticks_apart(pdp_fig, "PDP")
    assert "P(benign)" in [b["text"] for b in pdp_text if b["kind"] == "label"]
    screenshot(page, "global_layout_global_968", tabs)

    _open(tabs, "Errors & bias")
    bias_fig = tabs.locator(".nbx-bias .bqplot").first
    _drawn(bias_fig)
    bias_ticks = [b["text"] for b in assert_ticks_apart(bias_fig, "slice accuracy") if b["kind"] == "tick"]
    assert {"0.00", "0.25", "0.50", "0.75", "1.00"} <= set(bias_ticks), bias_ticks
    screenshot(page, "global_layout_errors_968", tabs)

    _open(tabs, "Surrogate")
    sur_fig = tabs.locator(".nbx-surrogate .bqplot").first
    _drawn(sur_fig)
    sur_text = assert_ticks_apart(sur_fig, "surrogate")
    assert "change in P(benign) per +1 SD of the feature" in [b["text"] for b in sur_text]
    expect(tabs.locator(".nbx-surrogate .widget-label").first).to_contain_text("linear surrogate of P(benign)")
    screenshot(page, "global_layout_surrogate_968", tabs)

    # An integer feature: integer ticks only.
    counts_fig = _output(page, 3).locator(".nbx-pdp .bqplot").first
    _drawn(counts_fig)
    x_ticks = counts_fig.locator("g.axis").first.locator(".tick text").all_text_contents()
    counts_text = assert_ticks_apart(counts_fig, "count PDP")
    assert x_ticks and all(re.fullmatch(r"-?\d+", t) for t in x_ticks), x_ticks
    assert any(b["text"] == "lymph nodes" for b in counts_text)

    # Narrower than the beeswarm asks for (560 px of plot): it shrinks to fit, as do the bars.
    _set_notebook_width(page, 640)
    _open(tabs, "Global")
    swarm = tabs.locator(".nbx-beeswarm").first
    page.wait_for_function("(e) => Number(e.dataset.plotWidth) < 560", arg=swarm.element_handle(), timeout=10_000)
    out_box = _box(tabs)
    for part in (swarm, tabs.locator(".nbx-importance").first, tabs.locator(".nbx-pdp").first):
        box = _box(part)
        assert box["x"] + box["width"] <= out_box["x"] + out_box["width"] + 1, (part, box, out_box)
    assert swarm.locator("canvas").evaluate("(c) => c.getBoundingClientRect().right") <= out_box["x"] + out_box["width"]
    assert_ticks_apart(tabs.locator(".nbx-importance .bqplot").first, "importance bars at 640 px")
    legend = tabs.locator(".nbx-pdp .nbx-chart-note").first
    expect(legend).to_contain_text("orange: this sample")
    assert legend.evaluate("(e) => e.scrollWidth <= e.clientWidth"), "the PDP legend is cut"
    screenshot(page, "global_layout_global_640", tabs)

    # Wide enough for both: the bars sit beside the beeswarm, and reopened tabs draw again.
    _set_notebook_width(page, 1600)
    _open(tabs, "Global")
    _drawn(tabs.locator(".nbx-importance .bqplot").first)
    imp_box, swarm_box = _box(tabs.locator(".nbx-importance").first), _box(tabs.locator(".nbx-beeswarm").first)
    assert abs(imp_box["y"] - swarm_box["y"]) < 2 and swarm_box["x"] >= imp_box["x"] + imp_box["width"] - 1
    assert plot_size(tabs.locator(".nbx-importance .bqplot").first)["width"] > 200
    screenshot(page, "global_layout_global_1600", tabs)
    errors.assert_none()


def test_chart_tabs_follow_the_dark_theme(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    _set_notebook_width(page, NOTEBOOK_PX)
    run_all(nb)
    tabs = _output(page, 1)
    # Global is open when the theme changes: what was drawn in light follows the switch.
    _open(tabs, "Global")
    pdp_fig = tabs.locator(".nbx-pdp .bqplot").first
    bars_fig = tabs.locator(".nbx-importance .bqplot").first
    swarm = tabs.locator(".nbx-beeswarm").first
    _drawn(pdp_fig)
    _drawn(bars_fig)
    assert _swarm_axis_luminance(swarm) < 0.3
    try:
        _set_theme(page, "JupyterLab Dark")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
        page.wait_for_timeout(500)  # theme CSS swap
        assert _swarm_axis_luminance(swarm) > 0.6  # the canvas axis was repainted in the dark theme's text colour
        bg = background_of(pdp_fig)
        lines = pdp_fig.locator("path.line")
        assert contrast("rgb(255, 255, 255)", bg) > 10, f"not the dark theme's background: {bg}"
        checks = {
            # The lines in mark order: the ICE lines, the average, the highlighted sample.
            "PDP average line": paint(lines.nth(lines.count() - 2), "stroke"),
            "PDP highlighted line": paint(lines.last, "stroke"),
            "PDP axis label": paint(pdp_fig.locator("text.axislabel").first),
            "PDP tick label": paint(pdp_fig.locator(".tick text").first),
            "bar name": paint(bars_fig.locator("g.axis .tick text").first),
            "bar": paint(bars_fig.locator("rect.bar").first),
            "bar axis label": paint(bars_fig.locator("text.axislabel").first),
            "chart title": paint(tabs.locator(".nbx-importance .nbx-chart-title").first, "color"),
        }
        low = {k: (c, round(contrast(c, bg), 2)) for k, c in checks.items() if contrast(c, bg) < 3}
        assert not low, f"too little contrast against {bg}: {low}"
        screenshot(page, "global_layout_global_dark", tabs)
        _open(tabs, "Errors & bias")
        bias_fig = tabs.locator(".nbx-bias .bqplot").first
        _drawn(bias_fig)
        assert contrast(paint(bias_fig.locator("text.axislabel").first), bg) >= 3
        screenshot(page, "global_layout_errors_dark", tabs)
        _open(tabs, "Surrogate")
        sur_fig = tabs.locator(".nbx-surrogate .bqplot").first
        _drawn(sur_fig)
        for el in (sur_fig.locator("text.axislabel").first, sur_fig.locator(".tick text").first):
            assert contrast(paint(el), bg) >= 3
        screenshot(page, "global_layout_surrogate_dark", tabs)
    finally:
        _set_theme(page, "JupyterLab Light")  # the settings persist for the session's server
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=20_000)
    errors.assert_none()
