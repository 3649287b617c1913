"""The anatomy, feature bars, heatmap and text tokens at JupyterLab's default notebook width
(1400 px wide window, file browser open: a 968 px output area), in the light and dark theme:
no text is cut, the bars and the channel grid use the width they get, a for/against heatmap pair
shares one diverging scale with the image showing at 0, an all-zero Grad-CAM map says why, and
every view follows the theme (issue 11)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from ..expected import _js_round, lut
from ..lab import (
    Notebook,
    canvas_array,
    collect_console_errors,
    draws,
    execute_in_kernel,
    run_all,
    screenshot,
    set_range,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("views_polish.ipynb")]

CELLS = {"anatomy": 0, "bars": 1, "compare": 2, "pair": 3, "gradcam": 4, "text": 5}

# Elements (visible ones under a root) whose text is wider than their box: cut or hidden.
CLIPPED = """(els) => els.filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
                        .map((e) => [e.className, e.textContent, e.scrollWidth, e.clientWidth])"""


def _output(page: Page, name: str) -> Locator:
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(CELLS[name]).locator(".jp-OutputArea")


def _default_width(page: Page) -> None:
    """The issue's window width with Lab's file browser open; tall, so screenshots hold a view."""
    page.set_viewport_size({"width": 1400, "height": 2200})
    page.wait_for_timeout(300)
    width = page.evaluate("() => document.querySelector('.jp-NotebookPanel .jp-OutputArea-output')"
                          ".getBoundingClientRect().width")
    assert page.locator("#filebrowser").is_visible() and 940 <= width <= 1000, width


def _clipped(root: Locator, selector: str) -> list[list[object]]:
    return root.locator(selector).evaluate_all(CLIPPED)


def _set_theme(page: Page, name: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(name)}$")).click()
    light = "true" if name == "JupyterLab Light" else "false"
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", light, timeout=20_000)
    page.wait_for_timeout(800)  # the theme's CSS, then the views' redraws


def _rgba(css: str) -> tuple[float, ...]:
    m = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", css.strip())
    assert m, css
    return tuple(float(g) if g is not None else 1.0 for g in m.groups())


def _luminance(rgb: tuple[float, ...]) -> float:
    c = np.asarray(rgb[:3], dtype=np.float64) / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def _tab(insp: Locator, title: str) -> None:
    insp.locator(".lm-TabBar-tab", has_text=re.compile(f"^{re.escape(title)}$")).click()
    insp.page.wait_for_timeout(400)


def _check_anatomy(page: Page, nb: Notebook) -> None:
    root = _output(page, "anatomy").locator(".nbx-anatomy").first
    insp = root.locator(".nbx-anatomy-inspector")
    grid = root.locator(".nbx-anatomy-activations .nbx-channel-grid").first
    wait_for_draws(grid, 0)
    # Tab labels and every text line of the inspector: whole, at the default width.
    assert _clipped(insp, ".lm-TabBar-tabLabel") == []
    expect(insp.locator(".lm-TabBar-tab")).to_have_count(5)
    assert _clipped(insp, ".widget-label") == []
    assert _clipped(grid, ".nbx-channel-label") == []
    screenshot(page, "polish_light_anatomy_activations", insp)

    # The grid uses the width beside the enlarged channel: more than two columns of tiles.
    lefts = grid.locator(".nbx-channel-tile").evaluate_all("(els) => els.map((e) => e.getBoundingClientRect().left)")
    columns = len(set(round(x) for x in lefts))
    assert columns >= 5, columns
    # ... under a colour bar with the value range, signed: -s .. s of RdBu_r.
    legend = grid.locator(".nbx-channel-legend")
    lo, hi = (float(legend.locator(sel).inner_text()) for sel in (".nbx-legend-min", ".nbx-legend-max"))
    assert lo == -hi and hi > 0
    bar = canvas_array(legend.locator("canvas.nbx-legend-bar"))
    assert tuple(bar[0, 0, :3]) == tuple(lut("RdBu_r")[0]) and tuple(bar[0, 255, :3]) == tuple(lut("RdBu_r")[255])
    assert legend.is_visible() and legend.bounding_box()["y"] < grid.locator(".nbx-channel-tile").first.bounding_box()["y"]

    # A click enlarges the channel beside the grid, its title whole.
    grid.locator(".nbx-channel-tile").first.click()
    enlarged = root.locator(".nbx-anatomy-activations .nbx-heatmap").first
    wait_for_draws(enlarged, 0)
    expect(enlarged).to_be_visible()
    assert _clipped(enlarged, ".nbx-title") == [] and _clipped(insp, ".widget-label") == []
    screenshot(page, "polish_light_anatomy_enlarged", insp)

    # The tiles scroll inside the view; another layer starts at the top again.
    tiles = grid.locator(".nbx-channel-tiles")
    assert tiles.evaluate("(t) => t.scrollHeight > t.clientHeight + 50")
    tiles.evaluate("(t) => { t.scrollTop = 300; }")
    assert tiles.evaluate("(t) => t.scrollTop") > 0
    n = draws(grid)
    execute_in_kernel(nb, "insp.layer = '2.conv1'")
    wait_for_draws(grid, n)
    assert tiles.evaluate("(t) => t.scrollTop") == 0

    # The other tabs: their notes, statistics, tables and axis labels are whole too.
    for title in ("Filters", "Weights", "Gradients", "Activation function"):
        _tab(insp, title)
        tab = insp.locator(".widget-tab-contents > :visible").first
        page.wait_for_function("(t) => t.querySelector('.widget-label') && t.innerText.length > 20",
                               arg=tab.element_handle(), timeout=30_000)
        page.wait_for_timeout(600)  # bqplot lays out once the tab is open
        assert _clipped(insp, ".widget-label") == [], title
        assert _clipped(insp, ".lm-TabBar-tabLabel") == [], title
        for fig in tab.locator(".bqplot").all():
            box = fig.bounding_box()
            texts = fig.locator("svg .tick text, svg text.axislabel").evaluate_all(
                "(els) => els.filter((e) => e.textContent).map((e) => { const r = e.getBoundingClientRect();"
                " return [e.textContent, r.left, r.right, r.top, r.bottom]; })")
            out = [t for t in texts if t[1] < box["x"] - 1 or t[2] > box["x"] + box["width"] + 1
                   or t[3] < box["y"] - 1 or t[4] > box["y"] + box["height"] + 1]
            assert out == [], (title, out)
        if title == "Weights":
            table = insp.locator(".nbx-anatomy-weight-table")
            assert table.evaluate("(t) => t.scrollWidth <= t.clientWidth + 1"), "the weight table is cut"
        screenshot(page, f"polish_light_anatomy_{title.split()[0].lower()}", insp)
    _tab(insp, "Activations")


def _check_bars(page: Page) -> None:
    views = [_output(page, "bars").locator(".nbx-feature-bars").first,
             *_output(page, "compare").locator(".nbx-feature-bars").all()]
    assert len(views) == 3
    for root in views:
        wait_for_draws(root, 0)
        width = root.bounding_box()["width"]
        tracks = root.locator(".nbx-bar-row[data-index] .nbx-bar-track").evaluate_all(
            "(els) => els.map((e) => e.getBoundingClientRect().width)")
        assert len(tracks) == 8 and min(tracks) >= 0.4 * width, (width, tracks)
        assert _clipped(root, ".nbx-bar-name, .nbx-bar-fvalue, .nbx-bar-value") == []
        expect(root.locator(".nbx-topk-value")).to_have_text("8 of 30")
    compare = _output(page, "compare")
    left, right = (v.bounding_box() for v in views[1:])
    assert left["y"] == right["y"] and left["width"] > 420 and right["width"] > 420  # side by side, halves
    set_range(views[0].locator("input.nbx-topk"), 5)
    expect(views[0].locator(".nbx-topk-value")).to_have_text("5 of 30")
    expect(views[0].locator(".nbx-bar-row[data-index]")).to_have_count(5)
    screenshot(page, "polish_light_bars", _output(page, "bars"))
    screenshot(page, "polish_light_compare", compare)


def _check_pair(page: Page, nb: Notebook) -> None:
    state = execute_in_kernel(nb, "print(json.dumps({'v': pair_values.tolist(), 'img': pair_image.tolist()}))")
    values = np.asarray(state["v"], dtype=np.float64)
    image = np.asarray(state["img"], dtype=np.float64)
    pos, neg = _output(page, "pair").locator(".nbx-heatmap").all()
    for root, sign in ((pos, "positive"), (neg, "negative")):
        wait_for_draws(root, 0)
        px = canvas_array(root.locator("canvas.nbx-heatmap-canvas")).astype(int)
        shown = np.maximum(values, 0) if sign == "positive" else np.minimum(values, 0)
        s = float(np.percentile(np.abs(shown), 99))
        u = (np.clip(shown / s, -1, 1) + 1) / 2
        colour = lut("RdBu_r")[_js_round(u * 255).astype(int)]
        want = _js_round(0.4 * image[..., None] + 0.6 * colour)
        zero = shown == 0
        want[zero] = image[zero][:, None]  # no colour at 0: the image itself
        assert np.abs(px[..., :3] - want).max() <= 1, sign
        assert (px[..., 3] == 255).all()
        # The zero-valued columns are the image, untouched (viridis' opaque purple hid it).
        assert (px[:, 4:8, 0] == image[:, 4:8]).all() and (px[:, 4:8, 2] == image[:, 4:8]).all()
        legend = root.locator(".nbx-legend")
        ends = [legend.locator(".nbx-legend-min").inner_text(), legend.locator(".nbx-legend-max").inner_text()]
        assert ends == (["0", f"{s:.3g}"] if sign == "positive" else [f"-{s:.3g}", "0"]), ends
        bar = canvas_array(legend.locator("canvas.nbx-legend-bar"))
        half = lut("RdBu_r")[128:] if sign == "positive" else lut("RdBu_r")[:128]
        assert tuple(bar[0, 0, :3]) == tuple(half[0]) and tuple(bar[0, 255, :3]) == tuple(half[-1])
        expect(legend.locator(".nbx-legend-caption")).to_have_text("0: not coloured")
        # Every slider shows its value.
        values_shown = root.locator(".nbx-control-value").all_inner_texts()
        assert values_shown == ["0.6", "99", "0"], values_shown
    set_range(pos.locator("input.nbx-opacity"), 0.3)
    expect(pos.locator(".nbx-control-value").first).to_have_text("0.3")
    screenshot(page, "polish_light_pair", _output(page, "pair"))


def _check_gradcam(page: Page) -> None:
    root = _output(page, "gradcam").locator(".nbx-heatmap").first
    wait_for_draws(root, 0)
    note = root.locator(".nbx-heatmap-note")
    expect(note).to_be_visible()
    text = note.inner_text()
    assert text.startswith("Grad-CAM is 0 in 64 of 64 cells") and "ReLU" in text and "relu=False" in text, text
    assert note.bounding_box()["width"] <= 261 and _clipped(root, ".nbx-heatmap-note") == []
    assert note.bounding_box()["y"] < root.locator("canvas.nbx-heatmap-canvas").bounding_box()["y"]  # above the map
    screenshot(page, "polish_light_gradcam", _output(page, "gradcam"))


def test_views_fit_the_default_width(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    page.set_viewport_size({"width": 1400, "height": 2200})
    run_all(nb)
    _default_width(page)
    _check_anatomy(page, nb)
    _check_bars(page)
    _check_pair(page, nb)
    _check_gradcam(page)
    screenshot(page, "polish_light_text", _output(page, "text"))
    errors.assert_none()


def test_views_follow_the_dark_theme(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    page.set_viewport_size({"width": 1400, "height": 2200})
    run_all(nb)
    _default_width(page)
    text = _output(page, "text").locator(".nbx-text-tokens").first
    wait_for_draws(text, 0)
    wait_for_draws(_output(page, "anatomy").locator(".nbx-channel-grid").first, 0)
    try:
        _set_theme(page, "JupyterLab Dark")
        bg = _rgba(page.evaluate("() => { const p = document.createElement('div');"
                                 " p.style.color = getComputedStyle(document.body).getPropertyValue('--jp-layout-color0');"
                                 " document.body.append(p); const c = getComputedStyle(p).color; p.remove(); return c; }"))
        assert _luminance(bg) < 0.05, bg
        # Words near 0 show the page's background, not white chips; every word's text reads.
        values = execute_in_kernel(nb, "print(json.dumps(text.values.tolist()))")
        looks = text.locator("span.nbx-token").evaluate_all(
            "(els) => els.map((e) => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color])")
        s = max(abs(v) for v in values)
        for v, (chip, colour) in zip(values, looks, strict=True):
            r, g, b, a = _rgba(chip)
            drawn = tuple(a * c + (1 - a) * k for c, k in zip((r, g, b), bg[:3], strict=True))
            if abs(v) < 0.02 * s:
                assert a <= 0.05 and _contrast(drawn, bg) < 1.2, (v, chip)
            assert _contrast(_rgba(colour), drawn) >= 3.0, (v, chip, colour)
        # Text of every view is the theme's (light on dark), bqplot's included (not orange).
        for name, selector in (("bars", ".nbx-bar-name"), ("compare", ".nbx-bar-name"), ("pair", ".nbx-control"),
                               ("gradcam", ".nbx-heatmap-note"), ("anatomy", ".nbx-graph-type"),
                               ("anatomy", ".nbx-anatomy-heading"), ("anatomy", ".nbx-channel-readout")):
            colour = _output(page, name).locator(selector).first.evaluate("(e) => getComputedStyle(e).color")
            assert _luminance(_rgba(colour)) > 0.35, (name, selector, colour)
        insp = _output(page, "anatomy").locator(".nbx-anatomy-inspector")
        fills = insp.locator(".bqplot svg text.axislabel, .bqplot svg .tick text, .bqplot .mainheading").evaluate_all(
            "(els) => els.filter((e) => e.textContent).map((e) => getComputedStyle(e).fill)")
        assert fills and all(_luminance(_rgba(f)) > 0.35 and _rgba(f)[:3] != (255, 165, 0) for f in fills), fills
        _tab(insp, "Activation function")
        page.wait_for_timeout(600)
        strokes = insp.locator(".bqplot svg path.line").evaluate_all(
            "(els) => els.map((e) => getComputedStyle(e).stroke)")
        assert strokes and all(_contrast(_rgba(c), bg) >= 3.0 for c in strokes), strokes
        screenshot(page, "polish_dark_anatomy_activation", insp)
        _tab(insp, "Gradients")
        page.wait_for_timeout(600)
        screenshot(page, "polish_dark_anatomy_gradients", insp)
        _tab(insp, "Activations")
        for name in CELLS:
            screenshot(page, f"polish_dark_{name}", _output(page, name))
    finally:
        _set_theme(page, "JupyterLab Light")
    errors.assert_none()
