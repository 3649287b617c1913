"""FeatureBars what-if in JupyterLab: sliders re-predict through Python, names stay literal text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..lab import (
    Notebook,
    collect_console_errors,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    set_range,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("feature_bars_whatif.ipynb")]

IMG_PAYLOAD = '<img src=x onerror="window.__nbx_pwned=1">'
SCRIPT_PAYLOAD = "<script>window.__nbx_pwned=1</script>"




def test_feature_bars_whatif_topk_and_injection(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    root = page.locator(".nbx-feature-bars").first
    wait_for_draws(root, 0)
    feature_rows = root.locator(".nbx-bar-row[data-index]")
    n_features = execute_in_kernel(nb, "print(json.dumps(len(w.feature_names)))")
    assert n_features == 8

    # Injection payloads in feature names are literal text, never markup.
    expect(root.locator(".nbx-bar-row[data-index='6'] .nbx-bar-name")).to_have_text(IMG_PAYLOAD)
    expect(root.locator(".nbx-bar-row[data-index='7'] .nbx-bar-name")).to_have_text(SCRIPT_PAYLOAD)
    assert root.locator("img, script").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert page.evaluate("() => window.__nbx_pwned") is None
    screenshot(page, "feature_bars_lab", root)

    # Top-k: 3 rows plus one "other features" row; back to all.
    topk = root.locator("input[type=range].nbx-topk")
    set_range(topk, 3)
    expect(feature_rows).to_have_count(3)
    expect(root.locator(".nbx-bar-rest")).to_contain_text("5")
    poll_kernel(nb, "print(json.dumps(w.top_k))", lambda k: k == 3)
    set_range(topk, 0 if topk.get_attribute("min") == "0" else "max")
    expect(feature_rows).to_have_count(n_features)

    # What-if: the keyboard moves feature 0's slider (End = its maximum); Python re-predicts.
    prediction = root.locator(".nbx-prediction")
    before_text = prediction.inner_text()
    before = execute_in_kernel(
        nb, "print(json.dumps({'p': w.prediction, 'x0': float(w.sample[0]),"
            " 'max0': float(w.slider_max[0])}))"
    )
    slider = root.locator("input[type=range].nbx-whatif[data-index='0']")
    assert slider.get_attribute("data-lm-suppress-shortcuts") == "true"
    slider.focus()
    page.keyboard.press("End")
    # Sliders move over integer positions whose last one is exactly slider_max; the feature
    # value the slider stands for is in data-value.
    expect(slider).to_have_attribute("data-value", re.compile(r"."))
    moved_to = float(slider.get_attribute("data-value") or "nan")
    assert moved_to == pytest.approx(before["max0"], rel=1e-6)
    assert moved_to > before["x0"]
    expect(prediction).not_to_have_text(before_text, timeout=20_000)
    after = poll_kernel(
        nb,
        "print(json.dumps({'p': w.prediction, 'x0': float(w.sample[0]), 'busy': w.busy,"
        " 'error': w.error}))",
        lambda s: s["x0"] != before["x0"] and not s["busy"],
    )
    assert after["error"] == ""
    assert after["x0"] == pytest.approx(moved_to, rel=1e-5)
    assert after["p"] != before["p"]
    expect(root.locator(".nbx-busy")).to_have_count(0, timeout=20_000)
    screenshot(page, "feature_bars_lab_whatif", root)
    screenshot(page, "feature_bars_lab_page")
    assert page.evaluate("() => window.__nbx_pwned") is None
    errors.assert_none()
