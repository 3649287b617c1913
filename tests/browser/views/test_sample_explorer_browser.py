"""SampleExplorer in JupyterLab: switching samples redraws the panel, its image and the explanation."""

from __future__ import annotations

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

pytestmark = [pytest.mark.browser, pytest.mark.notebook("sample_explorer.ipynb")]





def _explorer(page: Page, cell: int) -> Locator:
    """The output area of code cell ``cell`` (one SampleExplorer per cell)."""
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(cell).locator(".jp-OutputArea")


def _draws(root: Locator) -> int:
    return int(root.get_attribute("data-draws") or 0)


def test_sample_explorer_switches_samples(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)

    # Images: digits + tiny CNN, saliency heatmap beside the sample panel.
    out = _explorer(page, 1)
    panel = out.locator(".nbx-sample-panel").first
    heatmap = out.locator(".nbx-heatmap").first
    wait_for_draws(panel, 0)
    wait_for_draws(heatmap, 0)
    index_text = panel.locator(".nbx-sample-index")
    expect(index_text).to_contain_text("20")  # "sample i of n", n = 20
    image0 = canvas_array(panel.locator("canvas.nbx-sample-image"))
    assert image0.shape == (8, 8, 4)
    map0 = canvas_array(heatmap.locator("canvas.nbx-heatmap-canvas"))
    text0 = index_text.inner_text()
    screenshot(page, "sample_explorer_images_0", out)

    # Switch with the ipywidgets number box (BoundedIntText): type 5, Enter.
    panel_draws, map_draws = _draws(panel), _draws(heatmap)
    number = out.locator(".widget-inline-hbox input[type=number]").first
    number.fill("5")
    number.press("Enter")
    wait_for_draws(panel, panel_draws)
    wait_for_draws(heatmap, map_draws)
    expect(index_text).not_to_have_text(text0)
    expect(index_text).to_contain_text("5")
    assert poll_kernel(nb, "print(json.dumps(images.index))", lambda i: i == 5) == 5
    image5 = canvas_array(panel.locator("canvas.nbx-sample-image"))
    map5 = canvas_array(heatmap.locator("canvas.nbx-heatmap-canvas"))
    assert not np.array_equal(image0, image5), "the sample image was not redrawn"
    assert not np.array_equal(map0, map5), "the heatmap was not redrawn"
    # The drawn sample is the kernel's sample 5 (grey levels of the display image).
    want = np.asarray(execute_in_kernel(nb, "print(json.dumps(images.display_image(5).tolist()))"))
    grey = want if want.ndim == 2 else want[..., 0]
    assert np.abs(image5[..., 0].astype(int) - grey.astype(int)).max() <= 1
    # The slider follows the number box (jslink).
    expect(out.locator(".widget-readout").first).to_have_text("5")
    screenshot(page, "sample_explorer_images_5", out)

    # Table: breast cancer + logistic regression, SHAP what-if bars beside the panel.
    out_t = _explorer(page, 2)
    panel_t = out_t.locator(".nbx-sample-panel").first
    bars_t = out_t.locator(".nbx-feature-bars").first
    wait_for_draws(panel_t, 0)
    wait_for_draws(bars_t, 0)
    expect(panel_t.locator("table.nbx-sample-table tr[data-index]")).to_have_count(30)
    first_value = panel_t.locator("table.nbx-sample-table tr[data-index='0']").inner_text()
    bars_draws = _draws(bars_t)
    number_t = out_t.locator(".widget-inline-hbox input[type=number]").first
    number_t.fill("3")
    number_t.press("Enter")
    wait_for_draws(bars_t, bars_draws, timeout_ms=60_000)
    expect(panel_t.locator(".nbx-sample-index")).to_contain_text("3")
    expect(panel_t.locator("table.nbx-sample-table tr[data-index='0']")).not_to_have_text(first_value)
    poll_kernel(nb, "print(json.dumps(table.index))", lambda i: i == 3)
    expect(panel_t.locator(".nbx-pred-row").first).to_be_visible()
    screenshot(page, "sample_explorer_table_3", out_t)
    screenshot(page, "sample_explorer_page")
    errors.assert_none()
