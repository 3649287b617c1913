"""LimeNeighbourhoodView in JupyterLab at 968 px: the samples' scatter and the fit draw, the kernel-width
slider refits (the R² words and the coefficient bars change), the image strip draws pixels, the text
samples show their words as text, hostile names stay text, the dark theme reads, no console errors.

lime_neighbourhood.ipynb (built by tests/notebooks/build_lime_neighbourhood.py): a breast-cancer
row (20 seeds), a digit image (slic superpixels) and a review.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from ..chart_checks import assert_ticks_apart, background_of, contrast, paint, plot_size
from ..lab import (
    Notebook,
    canvas_array,
    collect_console_errors,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("lime_neighbourhood.ipynb")]

NOTEBOOK_PX = 968  # JupyterLab's notebook width in the setup (1400 px window, file browser open)
HEIGHT_PX = 2600


def _set_notebook_width(page: Page, width: float) -> None:
    def current() -> float:
        return page.evaluate("() => document.querySelector('.jp-NotebookPanel .jp-Notebook')"
                             ".getBoundingClientRect().width")

    size = page.viewport_size or {"width": 1280, "height": 900}
    page.set_viewport_size({"width": int(size["width"] + width - current()), "height": HEIGHT_PX})
    page.wait_for_function(f"() => Math.abs(document.querySelector('.jp-NotebookPanel .jp-Notebook')"
                           f".getBoundingClientRect().width - {width}) < 2", timeout=10_000)


def _output(page: Page, cell: int) -> Locator:
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(cell).locator(".jp-OutputArea")


def _drawn(figure: Locator, points: int = 0) -> None:
    """Wait until bqplot laid the figure out (plot area with a size, ticks placed) and drew ``points`` dots."""
    figure.page.wait_for_function(
        "([f, n]) => { const r = f.querySelector('rect.plotarea_background');"
        " return r && r.getBoundingClientRect().width > 0 && f.querySelectorAll('g.axis .tick text').length > 1"
        " && f.querySelectorAll('path.dot').length >= n; }",
        arg=[figure.element_handle(), points], timeout=30_000)


def _set_theme(page: Page, name: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(name)}$")).click()


def _click_slider_at(slider: Locator, fraction: float) -> None:
    """Click an ipywidgets slider's track at ``fraction`` of its length, as a user would."""
    track = slider.locator(".noUi-base").first
    box = track.bounding_box()
    assert box is not None, "the slider's track is not visible"
    slider.page.mouse.click(box["x"] + fraction * box["width"], box["y"] + box["height"] / 2)


def _bar_values(view: Locator) -> list[str]:
    return view.locator(".nbx-feature-bars .nbx-bar-list .nbx-bar-value").all_text_contents()


def _table_checks(page: Page, nb: Notebook, view: Locator) -> tuple[Locator, Locator]:
    scatter = view.locator(".nbx-lime-projection .bqplot").first
    fit = view.locator(".nbx-lime-fit .bqplot").first
    n = execute_in_kernel(nb, "print(len(view.samples_view.points.x))")
    _drawn(scatter, n)
    _drawn(fit, n)
    for fig, what in ((scatter, "projection"), (fit, "fit")):
        size = plot_size(fig)
        assert size["width"] > 200 and size["height"] > 150, (what, size)
        assert_ticks_apart(fig, what)
    # every sample is a dot, sized by its kernel weight: sizes differ
    areas = scatter.locator("path.dot").evaluate_all(
        "(els) => els.slice(0, 400).map((e) => { const b = e.getBBox(); return b.width * b.height; })")
    assert len(set(np.round(areas, 1))) > 5, "the points all have one size: the kernel weight is not drawn"
    labels = [t["text"] for t in assert_ticks_apart(scatter, "projection") if t["kind"] == "label"]
    assert any(lab.startswith("PC 1 (") for lab in labels), labels
    # the charts stay inside the output at 968 px
    out_box = _output(page, 1).bounding_box()
    for fig in (scatter, fit):
        box = fig.bounding_box()
        assert box["x"] >= out_box["x"] - 1 and box["x"] + box["width"] <= out_box["x"] + out_box["width"] + 1
    return scatter, fit


def test_lime_view_draws_refits_and_shows_samples(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    _set_notebook_width(page, NOTEBOOK_PX)
    run_all(nb)
    view = _output(page, 1).locator(".nbx-lime-view").first
    _table_checks(page, nb, view)
    r2 = view.locator(".nbx-lime-r2")
    expect(r2).to_contain_text("weighted R² = ")
    expect(r2).to_have_text(execute_in_kernel(nb, "print(json.dumps(view.fit_chart.r2_text))"))
    expect(view.locator(".nbx-lime-seeds")).to_contain_text("Over 20 seeds (0 to 19)")
    expect(view.locator(".nbx-feature-bars .nbx-bar-whisker:visible").first).to_be_visible()
    before_r2, before_bars = r2.text_content(), _bar_values(view)
    assert len(before_bars) >= 5
    screenshot(page, "lime_view_table_light", view)

    # The kernel-width slider: a click on its track refits at once (no model call: the outputs are cached).
    calls = execute_in_kernel(nb, "print(view.session.model_calls)")
    _click_slider_at(view.locator(".nbx-lime-width"), 0.15)
    width = poll_kernel(nb, "print(json.dumps(view.kernel_width))", lambda w: abs(w - 4.108) > 0.1)
    assert width < 4.1, width
    expect(r2).not_to_have_text(before_r2 or "")
    page.wait_for_function("([v, b]) => JSON.stringify(Array.from(v.querySelectorAll("
                           "'.nbx-feature-bars .nbx-bar-list .nbx-bar-value')).map((e) => e.textContent)) !== b",
                           arg=[view.element_handle(), json.dumps(before_bars)], timeout=15_000)
    state = execute_in_kernel(nb, "print(json.dumps([view.session.model_calls, view.neighbourhood.kernel_width,"
                                  " view.fit_chart.r2_text]))")
    assert state[0] == calls and abs(state[1] - width) < 1e-9
    expect(r2).to_have_text(state[2])
    # the scatter's point areas follow the new weights
    _drawn(view.locator(".nbx-lime-projection .bqplot").first, 100)

    # The seed slider moves the bars within their whiskers; the selection returns to Python.
    _click_slider_at(view.locator(".nbx-lime-seed"), 0.9)
    seed = poll_kernel(nb, "print(json.dumps(view.seed))", lambda s: s > 10)
    assert execute_in_kernel(nb, "print(json.dumps(view.neighbourhood.seed))") == seed
    expect(view.locator(".nbx-lime-bars-title")).to_contain_text(f"seed {seed},")

    # Hostile feature and class names are text, never markup (every bar shown).
    assert page.evaluate("() => window.__nbx_pwned") is None
    execute_in_kernel(nb, "view.bars.top_k = 0")
    for name in ('<img src=x onerror="window.__nbx_pwned=1">', "<script>window.__nbx_pwned=1</script>"):
        expect(view.locator(".nbx-feature-bars .nbx-bar-name", has_text=name)).to_have_count(1)
    fit_labels = [t["text"] for t in assert_ticks_apart(view.locator(".nbx-lime-fit .bqplot").first, "fit")
                  if t["kind"] == "label"]
    assert any("<b>malignant</b>" in lab or "P(benign)" in lab for lab in fit_labels), fit_labels
    screenshot(page, "lime_view_table_light", view)

    # The image strip: every tile's canvas has pixels (the masked digit), the instance tile first.
    image = _output(page, 2).locator(".nbx-lime-view").first
    tiles = image.locator(".nbx-lime-strip canvas.nbx-channel-canvas")
    expect(tiles).to_have_count(16)
    first, other = canvas_array(tiles.nth(0)), canvas_array(tiles.nth(8))
    assert first[..., :3].std() > 10, "the instance tile is blank"
    assert np.any(first[..., :3] != other[..., :3]), "two samples show the same image"
    expect(image.locator(".nbx-channel-label").first).to_have_text("instance")
    heat = image.locator(".nbx-lime-coefficients canvas.nbx-heatmap-canvas")
    expect(heat).to_have_count(1)
    _drawn(image.locator(".nbx-lime-fit .bqplot").first, 50)
    screenshot(page, "lime_view_image_light", image)

    # The text samples: the instance keeps every word; later samples strike some through.
    text = _output(page, 3).locator(".nbx-lime-view").first
    docs = text.locator(".nbx-text-tokens")
    expect(docs).to_have_count(4)
    expect(docs.first).to_contain_text("<b>wonderful</b>")
    assert page.evaluate("() => window.__nbx_pwned") is None
    _drawn(text.locator(".nbx-lime-fit .bqplot").first, 50)
    screenshot(page, "lime_view_text_light", text)
    errors.assert_none()


def test_lime_view_in_the_dark_theme(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    _set_notebook_width(page, NOTEBOOK_PX)
    run_all(nb)
    view = _output(page, 1).locator(".nbx-lime-view").first
    scatter, fit = _table_checks(page, nb, view)
    try:
        _set_theme(page, "JupyterLab Dark")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
        page.wait_for_timeout(500)  # theme CSS swap
        bg = background_of(scatter)
        assert contrast("rgb(255, 255, 255)", bg) > 10, f"not the dark theme's background: {bg}"
        checks = {
            "axis label": paint(scatter.locator("text.axislabel").first),
            "tick label": paint(scatter.locator(".tick text").first),
            "fit point": paint(fit.locator("path.dot").first),
            "instance": paint(scatter.locator("path.dot").last),
            "R² words": paint(view.locator(".nbx-lime-r2").first, "color"),
            "seed words": paint(view.locator(".nbx-lime-seeds").first, "color"),
        }
        low = {k: (c, round(contrast(c, bg), 2)) for k, c in checks.items() if contrast(c, bg) < 3}
        assert not low, f"too little contrast against {bg}: {low}"
        screenshot(page, "lime_view_table_dark", view)
        screenshot(page, "lime_view_image_dark", _output(page, 2).locator(".nbx-lime-view").first)
        screenshot(page, "lime_view_text_dark", _output(page, 3).locator(".nbx-lime-view").first)
    finally:
        _set_theme(page, "JupyterLab Light")  # the settings persist for the session's server
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=20_000)
    errors.assert_none()
