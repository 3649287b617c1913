"""The widgets follow JupyterLab's light/dark theme: text and rules switch, data colours do not."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from ..lab import (
    Notebook,
    canvas_array,
    collect_console_errors,
    run_all,
    screenshot,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("sample_explorer.ipynb")]




def _luminance(page: Page, selector: str) -> float:
    """Relative luminance (0 black .. 1 white) of the computed text colour of the first match."""
    rgb = page.eval_on_selector(selector, "(e) => getComputedStyle(e).color")
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def _set_theme(page: Page, name: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(name)}$")).click()


def test_widgets_follow_the_dark_theme(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    panel = page.locator(".jp-NotebookPanel:visible")
    heatmap = panel.locator(".nbx-heatmap").first
    bars = panel.locator(".nbx-feature-bars").first
    wait_for_draws(heatmap, 0)
    wait_for_draws(bars, 0)
    name_sel = ".jp-NotebookPanel .nbx-feature-bars .nbx-bar-name"
    label_sel = ".jp-NotebookPanel .nbx-sample-panel .nbx-sample-table td"
    assert _luminance(page, name_sel) < 0.3 and _luminance(page, label_sel) < 0.3
    pixels_light = canvas_array(heatmap.locator("canvas.nbx-heatmap-canvas"))
    try:
        _set_theme(page, "JupyterLab Dark")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
        page.wait_for_timeout(500)  # theme CSS swap
        assert _luminance(page, name_sel) > 0.6 and _luminance(page, label_sel) > 0.6
        # The data's colours are the data's: the heatmap cells are unchanged.
        np.testing.assert_array_equal(canvas_array(heatmap.locator("canvas.nbx-heatmap-canvas")), pixels_light)
        screenshot(page, "theme_dark_explorer", panel.locator(".widget-vbox:has(.nbx-feature-bars)").first)
        screenshot(page, "theme_dark_heatmap", panel.locator(".widget-vbox:has(.nbx-heatmap)").first)
    finally:
        _set_theme(page, "JupyterLab Light")  # the settings persist for the session's server
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=20_000)
    errors.assert_none()
