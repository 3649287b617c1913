"""The user-facing quickstart notebook, run top to bottom in a real JupyterLab.

Every nbexplain widget it creates must draw (each root's ``data-draws`` counter moves, canvases
hold coloured pixels), with no console errors. The screenshots are the ones the README shows.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import numpy as np
import pytest
from playwright.sync_api import Page

from ..lab import (
    REPO_ROOT,
    Notebook,
    canvas_array,
    collect_console_errors,
    open_notebook,
    run_all,
    screenshot,
    wait_for_draws,
)

pytestmark = pytest.mark.browser

QUICKSTART = REPO_ROOT / "notebooks" / "quickstart.ipynb"


@pytest.fixture
def nb(page: Page, jupyter_server, nbx_bundle) -> Iterator[Notebook]:
    shutil.copy(QUICKSTART, jupyter_server.root_dir / "quickstart.ipynb")
    notebook = open_notebook(page, jupyter_server, "quickstart.ipynb")
    yield notebook
    notebook.close()


def test_quickstart_runs_and_every_widget_draws(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    page.set_viewport_size({"width": 1280, "height": 1000})
    run_all(nb, timeout_ms=240_000)
    panel = page.locator(".jp-NotebookPanel:visible")
    roots = panel.locator(".nbx-root")
    # 2 FeatureBars + explorer (panel + bars) + heatmap + 2 heatmaps + 5 method heatmaps
    # + explorer (panel + heatmap).
    assert roots.count() == 14, roots.count()
    for i in range(roots.count()):
        wait_for_draws(roots.nth(i), 0)
    assert panel.locator(".nbx-error, .nbx-render-error").count() == 0

    # The what-if bars: a row per shown feature, a slider on each, a probability shown.
    bars = panel.locator(".nbx-feature-bars").nth(1)
    assert bars.locator(".nbx-bar-row[data-index]").count() == 10
    assert bars.locator("input.nbx-whatif").count() == 10
    prediction = bars.locator(".nbx-prediction").inner_text()
    assert "P(" in prediction, prediction

    # The digit heatmap: an 8x8 canvas with both diverging colours present (red and blue cells).
    heatmap = panel.locator(".nbx-heatmap").first
    px = canvas_array(heatmap.locator("canvas.nbx-heatmap-canvas"))
    assert px.shape == (8, 8, 4)
    rgb = px[..., :3].astype(int).reshape(-1, 3)
    assert (rgb[:, 0] - rgb[:, 2] > 40).any() and (rgb[:, 2] - rgb[:, 0] > 40).any()
    assert np.ptp(rgb, axis=0).max() > 60

    # The five gradient methods side by side, each with its title.
    compare = panel.locator(".widget-hbox:has(.nbx-heatmap)").filter(has_text="Grad-CAM").first
    titles = compare.locator(".nbx-title").all_inner_texts()
    assert titles == ["saliency", "SmoothGrad", "integrated gradients", "DeepLIFT", "Grad-CAM"], titles
    screenshot(page, "quickstart-methods", compare)
    screenshot(page, "quickstart-whatif", bars)
    screenshot(page, "quickstart-heatmap", heatmap)
    explorers = panel.locator(".widget-vbox:has(.nbx-sample-panel)")
    screenshot(page, "quickstart-explorer-table", explorers.first)
    screenshot(page, "quickstart-explorer-images", explorers.last)
    errors.assert_none()
