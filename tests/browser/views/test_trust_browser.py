"""TrustView in JupyterLab: the curves draw at notebook width, the scrubber changes the masked picture,
the sanity strip and the ranking show, a badge appears in a CompareView after set_badges, a slow
computation cancels, and the dark theme keeps everything readable.

trust.ipynb (built by tests/notebooks/build_trust.py): a report of four methods on planted-patch
images drawn with ``TrustView.from_report``, a CompareView of the same methods, a table TrustView
that computes on its worker, and a TrustView of a slow model that waits for its compute button.
"""

from __future__ import annotations

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

pytestmark = [pytest.mark.browser, pytest.mark.notebook("trust.ipynb")]

NOTEBOOK_PX = 968  # JupyterLab's notebook width in the setup (1400 px window, file browser open)
HEIGHT_PX = 2400  # the whole view on screen (element screenshots)
METHODS = ["saliency", "integrated_gradients", "edges", "random"]


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


def _drawn(figure: Locator) -> None:
    """Wait until bqplot has laid the figure out (its plot area has a size, its ticks are placed)."""
    figure.page.wait_for_function(
        "(f) => { const r = f.querySelector('rect.plotarea_background');"
        " return r && r.getBoundingClientRect().width > 0 && f.querySelectorAll('g.axis .tick text').length > 1; }",
        arg=figure.element_handle(), timeout=30_000)


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


def _curve_checks(view: Locator) -> dict[str, Locator]:
    figures = {}
    for kind in ("deletion", "insertion"):
        fig = view.locator(f".nbx-trust-{kind} .bqplot").first
        _drawn(fig)
        size = plot_size(fig)
        assert size["width"] > 200 and size["height"] > 150, (kind, size)
        # One line per method and the random floor, each with a path.
        paths = fig.locator("path.line").evaluate_all("(els) => els.map((e) => e.getAttribute('d') || '')")
        assert sum(1 for d in paths if d.count("L") >= 10) >= len(METHODS) + 1, (kind, paths[:2])
        texts = assert_ticks_apart(fig, f"{kind} curves")
        labels = [t["text"] for t in texts if t["kind"] == "label"]
        assert f"fraction of patches {'removed' if kind == 'deletion' else 'inserted'}" in labels, labels
        assert any(lab.startswith("P(") for lab in labels), labels  # the class named on the y axis
        figures[kind] = fig
    return figures


def test_trust_view_draws_scrubs_badges_and_cancels(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    _set_notebook_width(page, NOTEBOOK_PX)
    run_all(nb)
    view = _output(page, 1).locator(".nbx-trust").first
    figures = _curve_checks(view)
    screenshot(page, "trust_view_light", view)
    # Both charts stay inside the output at 968 px (side by side or stacked, never cut).
    out_box = _output(page, 1).bounding_box()
    for fig in figures.values():
        box = fig.bounding_box()
        assert box["x"] >= out_box["x"] - 1 and box["x"] + box["width"] <= out_box["x"] + out_box["width"] + 1
    want = execute_in_kernel(nb, "print(json.dumps(view.deletion_chart.legend_texts()))")
    legend = view.locator(".nbx-trust-deletion .nbx-trust-legend-text")
    expect(legend).to_have_text(want)
    assert any(t.startswith("random order: AUC") for t in want) and all("AUC" in t for t in want)

    # The scrubber: at 0 nothing is removed; clicking the track at 60 % removes patches (set to 0).
    scrub = view.locator(".nbx-trust-scrubber")
    canvas = scrub.locator("canvas.nbx-sample-image")
    expect(canvas).to_have_count(1)
    before = canvas_array(canvas)
    readout = scrub.locator(".nbx-trust-readout")
    expect(readout).to_contain_text("0 of 64 patches removed")
    _click_slider_at(scrub.locator(".nbx-trust-slider"), 0.6)
    state = poll_kernel(nb, "print(json.dumps([view.scrubber.slider.value, view.deletion_chart.marker.visible,"
                            " float(view.deletion_chart.marker.x[0])]))", lambda s: s[0] > 0.4)
    assert state[1] and abs(state[2] - state[0]) < 0.02, state
    expect(readout).not_to_contain_text("0 of 64 patches removed")
    page.wait_for_function("([c, b]) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                           " let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] !== b[i / 4]; return n > 0; }",
                           arg=[canvas.element_handle(), before[..., 0].reshape(-1).tolist()], timeout=10_000)
    after = canvas_array(canvas)
    changed = np.any(after[..., :3] != before[..., :3], axis=-1)
    assert changed.mean() > 0.2, f"only {changed.mean():.0%} of the masked picture changed"
    removed = execute_in_kernel(nb, "c = view.scrubber.current(); f = view.scrubber.slider.value;"
                                    " print(json.dumps(c.removed_pixels(0, f).tolist()))")
    assert np.array_equal(changed, np.asarray(removed)) or changed[np.asarray(removed)].mean() > 0.9
    # The marker sits on the curve of the method picked.
    marker = figures["deletion"].locator("g.dot, path.dot").first
    expect(marker).to_be_attached()
    screenshot(page, "trust_view_light", view)

    # The ranking and the sanity strip: the edge detector fails, its verdict says so in words.
    expect(view.locator(".nbx-trust-grid .nbx-trust-header").first).to_have_text("method")
    expect(view.locator(".nbx-trust-better").first).to_contain_text("lower is better — removing the patches")
    edges = view.locator(".nbx-trust-verdict", has_text=re.compile("^edges: failed$"))
    expect(edges).to_have_count(1)
    expect(view.locator(".nbx-trust-verdict.nbx-trust-pass")).to_have_count(2)
    expect(view.locator(".nbx-trust-why", has_text="barely changes")).to_have_count(1)
    sanity_fig = view.locator(".nbx-trust-sanity .bqplot").first
    _drawn(sanity_fig)
    assert plot_size(sanity_fig)["width"] > 200
    expect(view.locator(".nbx-trust-maps").first.locator("canvas.nbx-heatmap-canvas")).to_have_count(3)  # trained + 2 layers
    screenshot(page, "trust_sanity_light", view.locator(".nbx-trust-sanity"))

    # Badges: none before set_badges; then one per method, in the header.
    cv = _output(page, 2).locator(".nbx-compare").first
    expect(cv.locator(".nbx-method-badge:visible")).to_have_count(0)
    execute_in_kernel(nb, "cv.set_badges(trust_badges(report))")
    badges = cv.locator(".nbx-method-badge")
    expect(badges.filter(has_text=re.compile(r"deletion AUC .* vs random .* · sanity (passed|failed)"))).to_have_count(3)
    expect(cv.locator(".nbx-slot-edges .nbx-method-badge")).to_contain_text("sanity failed")
    screenshot(page, "trust_badges_light", cv)

    # The table view computed on its worker: the scrubber shows the row with the replaced features marked.
    table = _output(page, 3).locator(".nbx-trust").first
    _curve_checks_table(table)
    rows = table.locator(".nbx-trust-scrubber .nbx-sample-name")
    expect(rows).to_have_count(8)
    _click_slider_at(table.locator(".nbx-trust-slider"), 0.5)
    expect(table.locator(".nbx-trust-scrubber .nbx-sample-name", has_text="(replaced)")).to_have_count(4)
    screenshot(page, "trust_table_light", table)

    # A slow model: compute shows progress, cancel stops it, the view says so and offers compute again.
    slow = _output(page, 4).locator(".nbx-trust").first
    button = slow.locator("button.nbx-trust-compute")
    button.click()
    expect(slow.locator(".nbx-progress")).to_be_visible(timeout=10_000)
    expect(slow.locator(".nbx-progress-label")).to_contain_text("trust report", timeout=10_000)
    slow.locator("button.nbx-cancel").click()
    poll_kernel(nb, "print(json.dumps(slow_view.task.state))", lambda s: s == "cancelled", timeout_s=30)
    expect(slow.locator(".nbx-trust-status")).to_contain_text("cancelled")
    expect(button).to_be_enabled()
    assert execute_in_kernel(nb, "print(json.dumps(slow_view.report is None))") is True
    errors.assert_none()


def _curve_checks_table(view: Locator) -> None:
    for kind in ("deletion", "insertion"):
        fig = view.locator(f".nbx-trust-{kind} .bqplot").first
        _drawn(fig)
        assert plot_size(fig)["width"] > 200
        labels = [t["text"] for t in assert_ticks_apart(fig, f"table {kind}") if t["kind"] == "label"]
        assert f"fraction of features {'removed' if kind == 'deletion' else 'inserted'}" in labels, labels


def test_trust_view_in_the_dark_theme(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    _set_notebook_width(page, NOTEBOOK_PX)
    run_all(nb)
    view = _output(page, 1).locator(".nbx-trust").first
    figures = _curve_checks(view)
    execute_in_kernel(nb, "cv.set_badges(trust_badges(report))")
    try:
        _set_theme(page, "JupyterLab Dark")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
        page.wait_for_timeout(500)  # theme CSS swap
        fig = figures["deletion"]
        bg = background_of(fig)
        assert contrast("rgb(255, 255, 255)", bg) > 10, f"not the dark theme's background: {bg}"
        lines = fig.locator("path.line")
        checks = {
            "first method's line": paint(lines.nth(1), "stroke"),
            "axis label": paint(fig.locator("text.axislabel").first),
            "tick label": paint(fig.locator(".tick text").first),
            "legend text": paint(view.locator(".nbx-trust-legend-text").first, "color"),
            "section heading": paint(view.locator(".nbx-trust-section").first, "color"),
            "ranking cell": paint(view.locator(".nbx-trust-grid .nbx-trust-cell").first, "color"),
            "verdict": paint(view.locator(".nbx-trust-verdict").first, "color"),
            "badge": paint(_output(page, 2).locator(".nbx-method-badge").first, "color"),
        }
        low = {k: (c, round(contrast(c, bg), 2)) for k, c in checks.items() if contrast(c, bg) < 3}
        assert not low, f"too little contrast against {bg}: {low}"
        screenshot(page, "trust_view_dark", view)
        screenshot(page, "trust_badges_dark", _output(page, 2).locator(".nbx-compare").first)
        screenshot(page, "trust_table_dark", _output(page, 3).locator(".nbx-trust").first)
    finally:
        _set_theme(page, "JupyterLab Light")  # the settings persist for the session's server
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=20_000)
    errors.assert_none()
