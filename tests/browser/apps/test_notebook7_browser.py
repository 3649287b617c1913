"""An nbexplain widget in Jupyter Notebook 7: the heatmap notebook runs and draws the known map."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from ..expected import heatmap_rgba, max_channel_diff
from ..lab import (
    canvas_array,
    collect_console_errors,
    execute_in_kernel,
    open_notebook,
    run_all,
    screenshot,
    set_range,
    wait_for_draws,
)

pytestmark = pytest.mark.browser


def test_heatmap_in_notebook7(page: Page, notebook_server, nbx_bundle) -> None:
    errors = collect_console_errors(page)
    nb = open_notebook(page, notebook_server, "heatmap.ipynb")
    try:
        run_all(nb)
        root = page.locator(".nbx-heatmap").first
        wait_for_draws(root, 0)
        got = execute_in_kernel(
            nb, "print(json.dumps({'values': values.tolist(), 'image': image.tolist()}))"
        )
        values = np.asarray(got["values"], dtype=np.float64)
        image = np.asarray(got["image"], dtype=np.uint8)
        canvas = root.locator("canvas.nbx-heatmap-canvas")
        expected = heatmap_rgba(values, image, cmap="RdBu_r", opacity=0.5, clip_percentile=100.0)
        assert max_channel_diff(canvas_array(canvas), expected) <= 1
        before = int(root.get_attribute("data-draws") or 0)
        root.locator("select.nbx-cmap").select_option("viridis")
        wait_for_draws(root, before)
        expected = heatmap_rgba(values, image, cmap="viridis", opacity=0.5, clip_percentile=100.0)
        assert max_channel_diff(canvas_array(canvas), expected) <= 1
        set_range(root.locator("input[type=range].nbx-opacity"), 0.8)
        expect(root.locator(".nbx-legend-nodata")).to_have_count(1)
        screenshot(page, "heatmap_notebook7")
        errors.assert_none()
    finally:
        nb.close()
