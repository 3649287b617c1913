"""Heatmap in JupyterLab: exact cell colours, browser-only redraws, hover read-out, click -> Python."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from ..expected import heatmap_rgba, max_channel_diff
from ..lab import (
    Notebook,
    canvas_array,
    cell_center,
    collect_console_errors,
    execute_in_kernel,
    interrupt_kernel,
    poll_kernel,
    run_all,
    run_cell_async,
    screenshot,
    set_range,
    wait_for_draws,
    wait_kernel_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("heatmap.ipynb")]





def _known_map(nb: Notebook) -> tuple[np.ndarray, np.ndarray]:
    got = execute_in_kernel(
        nb, "print(json.dumps({'values': values.tolist(), 'image': image.tolist()}))"
    )
    return np.asarray(got["values"], dtype=np.float64), np.asarray(got["image"], dtype=np.uint8)


def test_heatmap_pixels_slider_hover_click(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    root = page.locator(".nbx-heatmap").first
    wait_for_draws(root, 0)
    canvas = root.locator("canvas.nbx-heatmap-canvas")
    values, image = _known_map(nb)
    assert values.shape == (16, 16) and np.isnan(values[5, 7])

    # 1. Every cell has the colour the protocol's arithmetic gives (RdBu_r, opacity 0.5).
    actual = canvas_array(canvas)
    assert actual.shape == (16, 16, 4), "one canvas pixel per cell"
    expected = heatmap_rgba(values, image, cmap="RdBu_r", opacity=0.5, clip_percentile=100.0)
    assert max_channel_diff(actual, expected) <= 1, (actual[..., :3] - expected[..., :3].astype(int))
    assert tuple(actual[5, 7]) == (0x80, 0x80, 0x80, 255), "NaN cell is opaque #808080"
    expect(root.locator(".nbx-legend-nodata")).to_have_count(1)
    screenshot(page, "heatmap_lab", root)

    # 2. Hover shows "row r, col c: <value>" with the cell's value (3 significant digits).
    r, c = 2, 3
    page.mouse.move(*cell_center(canvas, r, c))
    tooltip = root.locator(".nbx-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(f"row {r}, col {c}:")
    shown = float(re.search(r":\s*(\S+)", tooltip.inner_text()).group(1))
    assert shown == pytest.approx(values[r, c], rel=6e-3, abs=1e-6)
    page.mouse.move(*cell_center(canvas, 5, 7))
    expect(tooltip).to_contain_text("row 5, col 7:")

    # 3. A click sets `selected`, and Python sees it.
    page.mouse.click(*cell_center(canvas, 4, 9))
    poll_kernel(nb, "print(json.dumps(hm.selected))", lambda sel: sel == [4, 9])

    # 4. With the kernel busy, the opacity slider still redraws at once (no round trip).
    run_cell_async(nb, "import time\ntime.sleep(30)")
    expect(page.locator(".jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "busy"
    )
    opacity = root.locator("input[type=range].nbx-opacity")
    for setting, want in (("max", 1.0), ("min", 0.0)):
        before = int(root.get_attribute("data-draws") or 0)
        t0 = time.monotonic()
        set_range(opacity, setting)
        wait_for_draws(root, before, timeout_ms=1000)
        elapsed = time.monotonic() - t0
        assert elapsed < 1.0, f"redraw took {elapsed:.2f} s"
        expected = heatmap_rgba(values, image, cmap="RdBu_r", opacity=want, clip_percentile=100.0)
        assert max_channel_diff(canvas_array(canvas), expected) <= 1, f"opacity {want}"
    assert page.locator(".jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator").get_attribute(
        "data-status") == "busy", "the kernel was busy the whole time"
    screenshot(page, "heatmap_lab_opacity0", root)

    # Free the kernel: the saved opacity then reaches Python.
    interrupt_kernel(nb)
    wait_kernel_idle(nb, timeout_ms=20_000)
    poll_kernel(nb, "print(json.dumps(hm.opacity))", lambda v: v == 0.0)
    screenshot(page, "heatmap_lab_page")
    errors.assert_none()
