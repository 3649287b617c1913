"""Keras 3 models in JupyterLab: a Grad-CAM Heatmap of a channels-last CNN and the FeatureBars of KernelShap.

The notebook (tests/notebooks/keras.ipynb, built by build_keras.py) trains a Keras CNN on (n, 8, 8, 1)
digits and a Keras MLP on the breast cancer table in seconds, on the torch backend. The map must be
drawn 8 x 8 over the digit (not 8 x 1, as a channels-first reading of (8, 8, 1) would give), cell by
cell in the colours the protocol's arithmetic gives; the bars must show the six largest KernelShap
values, largest first, with their signs.
"""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Page, expect

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

pytestmark = [pytest.mark.browser, pytest.mark.notebook("keras.ipynb")]


def test_keras_grad_cam_heatmap_and_kernel_shap_bars(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)

    state = execute_in_kernel(nb, "print(json.dumps({'backend': keras.backend.backend(), 'env': os.environ.get("
                                  "'KERAS_BACKEND'), 'layer': cam.diagnostics['layer'], 'layout': cam.layout, "
                                  "'values': hm.values.tolist(), 'image': hm.image.tolist()}))")
    assert state["backend"] == "torch" and state["env"] == "torch"
    assert state["layer"] == "conv2" and state["layout"] == "HW"
    values, image = np.asarray(state["values"]), np.asarray(state["image"], dtype=np.uint8)
    assert values.shape == (8, 8) and image.shape == (8, 8) and values.max() > 0
    heatmap = page.locator(".nbx-heatmap").first
    wait_for_draws(heatmap, 0)
    canvas = heatmap.locator("canvas.nbx-heatmap-canvas")
    actual = canvas_array(canvas)
    assert actual.shape == (8, 8, 4), "one canvas pixel per cell of the 8 x 8 map"
    expected = heatmap_rgba(values, image, cmap="viridis", opacity=0.5, clip_percentile=100.0)
    assert max_channel_diff(actual, expected) <= 1, actual[..., :3].astype(int) - expected[..., :3].astype(int)
    screenshot(page, "keras_grad_cam", heatmap)

    want = execute_in_kernel(nb, "v = shap_e.values[0]; order = np.argsort(-np.abs(v), kind='stable')[:6]\n"
                                 "print(json.dumps({'names': [shap_e.feature_names[i] for i in order], "
                                 "'signs': [bool(v[i] >= 0) for i in order]}))")
    bars = page.locator(".nbx-feature-bars").first
    wait_for_draws(bars, 0)
    rows = bars.locator(".nbx-bar-row[data-index]")
    expect(rows).to_have_count(6)
    assert [rows.nth(i).locator(".nbx-bar-name").inner_text() for i in range(6)] == want["names"]
    for i, positive in enumerate(want["signs"]):
        classes = rows.nth(i).locator(".nbx-bar").get_attribute("class") or ""
        assert ("pos" if positive else "neg") in classes.split(), (i, classes)
    screenshot(page, "keras_kernel_shap_bars", bars)
    errors.assert_none()
