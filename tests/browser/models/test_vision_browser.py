"""A vision transformer's Grad-CAM and attention rollout in JupyterLab (light theme): both maps are drawn
over the digit, pixel for pixel as the protocol's colouring gives them, and neither is all 0."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Page

from ..expected import heatmap_rgba, max_channel_diff
from ..lab import (
    Notebook,
    canvas_array,
    collect_console_errors,
    execute_in_kernel,
    run_all,
    screenshot,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("vision.ipynb")]


def test_vit_grad_cam_and_rollout_over_the_digit(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    roots = page.locator(".jp-NotebookPanel:visible .nbx-heatmap")
    for k in range(2):
        wait_for_draws(roots.nth(k), 0)
    got = execute_in_kernel(nb, "print(json.dumps({'image': image.tolist(), 'cam': cam_view.values.tolist(), "
                                "'rollout': rollout_view.values.tolist(), 'layer': cam.diagnostics['layer'], "
                                "'reshape': cam.diagnostics['reshape'], 'grid': rollout.diagnostics['grid']}))")
    assert got["layer"] == "blocks.1.norm1" and got["reshape"] == "tokens: 1 prefix token(s) dropped, 8x8 grid"
    assert got["grid"] == [8, 8]
    image = np.asarray(got["image"], dtype=np.uint8)
    strokes = image > 0.3 * 255
    assert 0.1 < strokes.mean() < 0.6, "the sample is a digit: strokes on a dark background"
    for k, name in enumerate(("cam", "rollout")):
        values = np.asarray(got[name], dtype=np.float64)
        assert values.shape == (32, 32) and np.abs(values).max() > 0, f"{name}: the map is not all 0"
        canvas = canvas_array(roots.nth(k).locator("canvas.nbx-heatmap-canvas"))
        assert canvas.shape == (32, 32, 4), "one canvas pixel per map cell"
        # every pixel is the map's colour blended over the digit, as the protocol computes it
        expected = heatmap_rgba(values, image, cmap="viridis", opacity=0.6, clip_percentile=100.0)
        assert max_channel_diff(canvas, expected) <= 1, name
        # the map varies (more than a few colours) and the digit shows through it: strokes are brighter
        assert len({tuple(p) for p in canvas[..., :3].reshape(-1, 3)}) > 20, name
        grey = canvas[..., :3].astype(float).mean(-1)
        assert grey[strokes].mean() - grey[~strokes].mean() > 40, name
    screenshot(page, "vision_vit_gradcam_rollout", page.locator(".jp-NotebookPanel:visible .jp-OutputArea").nth(1))
    errors.assert_none()
