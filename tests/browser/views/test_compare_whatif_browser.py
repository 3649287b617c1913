"""CompareView in JupyterLab: image methods side by side with a click-to-occlude what-if, a table
comparison with a categorical what-if choice box, and agreement labels equal to Python's."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from ..lab import (
    Notebook,
    canvas_array,
    cell_center,
    collect_console_errors,
    draws,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("compare_whatif.ipynb")]

METHODS = ["saliency", "gradient_x_input", "integrated_gradients"]
EAST = '<img src=x onerror="window.__nbx_pwned=1">east'
AGREEMENT_IN_KERNEL = (
    "print(json.dumps({{'labels': [lab.value for lab in {cv}.agreement_labels],"
    " 'recomputed': agreement({{m: w.values for m, w in {cv}.views.items()}}, k={cv}.k,"
    " reduce_channels=True).summary()}}))"
)


def _fmt(x: float) -> str:
    """The front end's formatValue for 1e-3 <= |x| < 1e5: 3 significant digits, no trailing zeros."""
    return f"{float(f'{x:.3g}'):g}"


def _labels(compare) -> list[str]:
    return [t.strip() for t in compare.locator(".nbx-compare-agreement .widget-label").all_inner_texts()]


def _maps(heatmaps) -> list[np.ndarray]:
    return [canvas_array(heatmaps.nth(i).locator("canvas.nbx-heatmap-canvas")) for i in range(len(METHODS))]


def test_compare_views_image_and_categorical_whatif(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    image_cv = page.locator(".nbx-compare").nth(0)
    table_cv = page.locator(".nbx-compare").nth(1)

    # Images: one heatmap per method, its slot's header naming the method, each drawn (8 x 8 cells, not flat).
    heatmaps = image_cv.locator(".nbx-heatmap")
    expect(heatmaps).to_have_count(len(METHODS))
    slots = image_cv.locator(".nbx-method-slot")
    for i, method in enumerate(METHODS):
        wait_for_draws(heatmaps.nth(i), 0)
        expect(slots.nth(i).locator(".nbx-method-name")).to_have_text(method)
        assert slots.nth(i).locator(".nbx-heatmap").count() == 1
    maps0 = _maps(heatmaps)
    for m in maps0:
        assert m.shape == (8, 8, 4)
        assert len(np.unique(m[..., :3].reshape(-1, 3), axis=0)) > 4, "a heatmap drew a flat map"
    assert image_cv.locator(".nbx-error").count() == 0

    # Agreement labels: what Python computed, and what agreement() gives for the views' maps.
    state = execute_in_kernel(nb, AGREEMENT_IN_KERNEL.format(cv="image_cv"))
    assert state["labels"] == state["recomputed"]
    assert len(state["labels"]) == 3 and state["labels"][0].startswith("saliency vs gradient_x_input: rank corr ")
    expect(image_cv.locator(".nbx-compare-agreement .widget-label")).to_have_count(3)
    assert _labels(image_cv) == state["labels"]
    screenshot(page, "compare_images_before", image_cv)

    # Image what-if: click cell (3, 4) of the first heatmap; Python toggles that 2 x 2 patch,
    # re-predicts the occluded digit and redraws every method's map.
    before = execute_in_kernel(nb, "print(json.dumps({'p': image_state['p'], 'clicks': image_state['clicks']}))")
    pred_label = page.locator(".nbx-test-image-pred")
    expect(pred_label).to_contain_text("occluded patches: 0")
    counts = [draws(heatmaps.nth(i)) for i in range(len(METHODS))]
    x, y = cell_center(heatmaps.nth(0).locator("canvas.nbx-heatmap-canvas"), 3, 4)
    page.mouse.click(x, y)
    after = poll_kernel(
        nb,
        "print(json.dumps({'p': image_state['p'], 'clicks': image_state['clicks'],"
        " 'mask': mask.mask.astype(int).tolist(), 'x': image_state['x'][0, 0].tolist(),"
        " 'p_check': float(torch.softmax(cnn(torch.tensor(image_state['x'])), 1)[0, target])}))",
        lambda s: s["clicks"] == before["clicks"] + 1,
    )
    expected_mask = np.zeros((4, 4), int)
    expected_mask[1, 2] = 1  # pixel (3, 4) lies in patch (1, 2)
    np.testing.assert_array_equal(after["mask"], expected_mask)
    assert not np.any(np.asarray(after["x"])[2:4, 4:6]), "the clicked patch was not occluded"
    assert after["p"] == pytest.approx(after["p_check"], rel=1e-5)
    assert after["p"] != before["p"]
    expect(pred_label).to_contain_text("occluded patches: 1")
    for i in range(len(METHODS)):
        wait_for_draws(heatmaps.nth(i), counts[i])
    page.wait_for_timeout(300)  # the last of the burst of trait changes settles
    maps1 = _maps(heatmaps)
    for method, m0, m1 in zip(METHODS, maps0, maps1, strict=True):
        assert not np.array_equal(m0, m1), f"{method}'s map was not redrawn after the occlusion"
    state = execute_in_kernel(nb, AGREEMENT_IN_KERNEL.format(cv="image_cv"))
    assert state["labels"] == state["recomputed"] and _labels(image_cv) == state["labels"]
    screenshot(page, "compare_images_occluded", image_cv)

    # Table: one FeatureBars per method; "region" is a choice box with literal labels.
    bars = table_cv.locator(".nbx-feature-bars")
    expect(bars).to_have_count(2)
    for i in range(2):
        wait_for_draws(bars.nth(i), 0)
    first = bars.nth(0)
    choice = first.locator("select.nbx-whatif-choice[data-index='2']")
    expect(choice).to_have_count(1)
    assert choice.get_attribute("data-lm-suppress-shortcuts") == "true"
    assert first.locator("input[type=range].nbx-whatif[data-index='2']").count() == 0
    assert first.locator("input[type=range].nbx-whatif[data-index='0']").count() == 1
    assert choice.locator("option").all_inner_texts() == ["north", "south", EAST]
    expect(choice).to_have_value("0")
    expect(first.locator(".nbx-bar-row[data-index='2'] .nbx-bar-fvalue")).to_have_text("north")
    assert table_cv.locator("img").count() == 0
    state = execute_in_kernel(nb, AGREEMENT_IN_KERNEL.format(cv="table_cv"))
    assert state["labels"] == state["recomputed"] and _labels(table_cv) == state["labels"]
    predictions = table_cv.locator(".nbx-prediction")
    p_before = execute_in_kernel(nb, "print(json.dumps(table_state['p']))")
    expect(predictions.nth(0)).to_have_text(f"P(yes): {_fmt(p_before)}")
    text_before = predictions.nth(0).inner_text()
    screenshot(page, "compare_table_before", table_cv)

    # Choose "east": the browser sends the category's value; Python re-predicts and re-explains.
    choice.select_option(index=2)
    expect(predictions.nth(0)).not_to_have_text(text_before, timeout=20_000)
    expect(predictions.nth(1)).to_have_text(predictions.nth(0).inner_text())
    after = poll_kernel(
        nb,
        "print(json.dumps({'x': table_state['x'].tolist(), 'p': table_state['p'],"
        " 'check': float(clf.predict_proba(table_state['x'][None])[0, 1]),"
        " 'errors': [w.error for w in table_cv.views.values()]}))",
        lambda s: s["x"][2] == 2.0,
    )
    assert after["errors"] == ["", ""]
    assert after["p"] == pytest.approx(after["check"]) and after["p"] > p_before
    expect(predictions.nth(0)).to_have_text(f"P(yes): {_fmt(after['p'])}")
    expect(first.locator(".nbx-bar-row[data-index='2'] .nbx-bar-fvalue")).to_have_text(EAST)
    expect(bars.nth(1).locator("select.nbx-whatif-choice[data-index='2']")).to_have_value("2")
    state = execute_in_kernel(nb, AGREEMENT_IN_KERNEL.format(cv="table_cv"))
    assert state["labels"] == state["recomputed"] and _labels(table_cv) == state["labels"]
    screenshot(page, "compare_table_east", table_cv)

    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__nbx_pwned") is None
    assert table_cv.locator("img").count() == 0
    errors.assert_none()
