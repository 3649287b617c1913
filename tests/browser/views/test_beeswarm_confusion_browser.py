"""Beeswarm (10,000 x 20) and ConfusionMatrix in JupyterLab: pixels, hover, clicks reach Python."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

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

pytestmark = [pytest.mark.browser, pytest.mark.notebook("beeswarm_confusion.ipynb")]

ROW_CSS = 26  # js/src/views/tables/beeswarm.ts
DOT_CSS = 2
LOW, HIGH, NAN_GREY = (0, 139, 251), (255, 0, 82), (128, 128, 128)


def _coloured(band: np.ndarray) -> np.ndarray:
    """Mask of opaque point pixels that are not grey (guides, zero line, NaN dots are grey)."""
    rgb = band[..., :3].astype(int)
    return (band[..., 3] == 255) & (rgb.max(axis=-1) - rgb.min(axis=-1) > 60)


def _extreme_point(px: np.ndarray, row: int, dpr: float, side: str) -> tuple[tuple[int, ...], float, float]:
    """Colour of the outermost point pixel of a row, and that point's centre (device pixels)."""
    top = round(row * ROW_CSS * dpr)
    band = px[top : round((row + 1) * ROW_CSS * dpr)]
    ys, xs = np.nonzero(_coloured(band))
    assert xs.size > 500, f"row {row} is (nearly) empty: {xs.size} point pixels"
    x = xs.max() if side == "right" else xs.min()
    at = ys[xs == x]
    colour = tuple(int(c) for c in band[at[0], x, :3])
    centre_x = x - DOT_CSS * dpr if side == "right" else x + DOT_CSS * dpr
    return colour, float(centre_x), float(top + at.mean())


def _hover_text(page: Page, canvas: Locator, root: Locator, x: float, y: float, dpr: float) -> str:
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + x / dpr, box["y"] + y / dpr)
    tooltip = root.locator(".nbx-beeswarm-tooltip")
    expect(tooltip).to_be_visible()
    return tooltip.inner_text()


def test_beeswarm_and_confusion_matrix(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)

    # -- Beeswarm: first draw, rows, colours -------------------------------------------------
    root = page.locator(".nbx-beeswarm").first
    wait_for_draws(root, 0)
    draw_ms = float(root.get_attribute("data-draw-ms") or "nan")
    print(f"\nbeeswarm 10,000 x 20 first draw (decode + layout + paint): {draw_ms:.1f} ms")
    assert draw_ms < 200, f"first draw took {draw_ms} ms"
    assert root.get_attribute("data-layouts") == "1"
    labels = root.locator(".nbx-beeswarm-label")
    expect(labels).to_have_count(20)
    expect(labels.nth(0)).to_have_text("<b>top</b> feature")  # literal text, most important first
    expect(labels.nth(1)).to_have_text("f7")
    assert root.locator(".nbx-beeswarm-label b").count() == 0
    canvas = root.locator("canvas.nbx-beeswarm-canvas")
    px = canvas_array(canvas)
    css_w = canvas.evaluate("(c) => c.getBoundingClientRect().width")
    dpr = px.shape[1] / css_w
    names = [labels.nth(r).inner_text() for r in range(20)]
    for r in range(20):
        _extreme_point(px, r, dpr, "right")  # every row has points
    # Top row (coefficient +3): high feature values on the right (red), low on the left (blue);
    # second row (-2.5): the reverse. The outermost samples lie beyond the 5-95 percentiles.
    right0, cx, cy = _extreme_point(px, 0, dpr, "right")
    assert right0 == HIGH
    assert _extreme_point(px, 0, dpr, "left")[0] == LOW
    assert _extreme_point(px, 1, dpr, "right")[0] == LOW
    assert _extreme_point(px, 1, dpr, "left")[0] == HIGH
    f5 = names.index("f5")
    band5 = px[int(f5 * ROW_CSS * dpr) : int((f5 + 1) * ROW_CSS * dpr)]
    assert (np.all(band5[..., :3] == NAN_GREY, axis=-1) & (band5[..., 3] == 255)).sum() > 20, "NaN values drawn grey"
    expect(root.locator(".nbx-beeswarm-colorbar")).to_be_visible()
    screenshot(page, "beeswarm_10k", root)

    # -- Hover read-out: the rightmost dot of the top row is one of its largest attributions --
    text = _hover_text(page, canvas, root, cx, cy, dpr)
    m = re.fullmatch(r"sample (\d+), feature (.+): (\S+), attribution (\S+)", text)
    assert m, text
    sample, feature, value, attribution = int(m[1]), m[2], float(m[3]), float(m[4])
    assert feature == "<b>top</b> feature"
    truth = execute_in_kernel(
        nb,
        f"i = {sample} - 1000\n"
        "print(json.dumps({'x': X[i, 3], 'a': attr[i, 3], 'rank': int((attr[:, 3] > attr[i, 3]).sum()),"
        " 'peak': float(np.abs(attr).max())}))",
    )
    assert truth["rank"] < 3, f"hovered sample {sample} is not at the right end: {truth}"
    assert value == pytest.approx(truth["x"], rel=6e-3)
    assert attribution == pytest.approx(truth["a"], abs=truth["peak"] * 1e-3 + abs(truth["a"]) * 6e-3)

    # -- Click: `selected` and the select event reach Python ------------------------------------
    box = canvas.bounding_box()
    assert box is not None
    draws_before = int(root.get_attribute("data-draws") or 0)
    page.mouse.click(box["x"] + cx / dpr, box["y"] + cy / dpr)
    poll_kernel(nb, "print(json.dumps(bw.selected))", lambda s: s == sample)
    got = poll_kernel(nb, "print(json.dumps([e['index'] for e in bw_events]))", lambda e: len(e) == 1)
    assert got == [sample]
    wait_for_draws(root, draws_before)

    # -- highlight: rings repaint, the layout is not recomputed ---------------------------------
    before = canvas_array(canvas)
    draws_before = int(root.get_attribute("data-draws") or 0)
    low = execute_in_kernel(nb, "j = int(np.argmin(attr[:, 3])); bw.highlight = 1000 + j; print(j)")
    wait_for_draws(root, draws_before)
    after = canvas_array(canvas)
    assert root.get_attribute("data-layouts") == "1"
    changed = np.nonzero(np.any(after != before, axis=-1))
    assert changed[0].size > 0, "the highlight ring was not drawn"
    # A ring is drawn in every row; the one in the top row surrounds the leftmost dot.
    _, lx, ly = _extreme_point(before, 0, dpr, "left")
    top_rows = changed[0] < ROW_CSS * dpr
    assert np.hypot(changed[1][top_rows] - lx, changed[0][top_rows] - ly).max() < 9 * dpr, low
    screenshot(page, "beeswarm_highlight", root)

    # -- ConfusionMatrix --------------------------------------------------------------------------
    cm_root = page.locator(".nbx-confusion-matrix").first
    wait_for_draws(cm_root, 0)
    matrix = execute_in_kernel(nb, "print(json.dumps(cm.matrix.astype(int).tolist()))")
    assert matrix == [[45, 3, 2], [6, 24, 0], [0, 3, 17]]
    for t in range(3):
        for p in range(3):
            cell = cm_root.locator(f".nbx-cm-cell[data-true='{t}'][data-pred='{p}']")
            expect(cell).to_have_text(str(matrix[t][p]))
    expect(cm_root.locator(".nbx-cm-cell")).to_have_count(9)
    expect(cm_root.locator(".nbx-cm-cell.nbx-cm-diag")).to_have_count(3)
    expect(cm_root.locator(".nbx-cm-col-name[data-pred='1']")).to_have_text("<img src=x onerror=alert(1)>")
    expect(cm_root.locator(".nbx-cm-row-name[data-true='1']")).to_have_text("<img src=x onerror=alert(1)>")
    assert cm_root.locator("img").count() == 0
    expect(cm_root.locator(".nbx-cm-recall")).to_have_text(["0.9", "0.8", "0.85"])
    expect(cm_root.locator(".nbx-cm-accuracy")).to_have_text("accuracy 0.86 (n = 100)")
    expect(cm_root.locator(".nbx-cm-axis-true")).to_have_text("true")
    expect(cm_root.locator(".nbx-cm-axis-pred")).to_have_text("predicted")

    target = cm_root.locator(".nbx-cm-cell[data-true='1'][data-pred='0']")
    target.click()
    poll_kernel(nb, "print(json.dumps(cm.selected))", lambda s: s == [1, 0])
    expect(target).to_have_class(re.compile(r"\bselected\b"))
    expect(cm_root.locator(".nbx-cm-cell.selected")).to_have_count(1)
    screenshot(page, "confusion_matrix_selected", cm_root)
    target.click()  # again: the event arrives, the selection clears
    events = poll_kernel(
        nb, "print(json.dumps([[e['true'], e['pred'], e['selected']] for e in cm_events]))", lambda e: len(e) == 2
    )
    assert events == [[1, 0, True], [1, 0, False]]
    poll_kernel(nb, "print(json.dumps(cm.selected))", lambda s: s is None)
    expect(cm_root.locator(".nbx-cm-cell.selected")).to_have_count(0)
    screenshot(page, "beeswarm_confusion_page")
    errors.assert_none()
