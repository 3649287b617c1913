"""TextTokens in JupyterLab: token colours match the values, a click drops a token and re-predicts,
markup in tokens is literal text."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from ..expected import _js_round, lut
from ..lab import (
    Notebook,
    collect_console_errors,
    draws,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("text_tokens.ipynb")]

STATE = "print(json.dumps({'tokens': w.tokens, 'values': w.values.tolist(), 'dropped': w.dropped.tolist(), "\
        "'prediction': w.prediction, 'label': w.prediction_label, 'cmap': w.cmap}))"


def _output(page: Page, cell: int) -> Locator:
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(cell).locator(".jp-OutputArea")


def _rgb(css: str) -> tuple[int, ...]:
    m = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, [\d.]+)?\)", css)
    assert m, css
    return tuple(int(g) for g in m.groups())


def _alpha(css: str) -> float:
    m = re.fullmatch(r"rgba\(\d+, \d+, \d+, ([\d.]+)\)", css)
    return float(m.group(1)) if m else 1.0


def expected_colours(values: list[float], cmap: str) -> np.ndarray:
    """The protocol's colouring, from the values as the browser decodes them (float32)."""
    v = np.asarray(values, dtype=np.float32).astype(np.float64)
    s = float(np.abs(v).max()) or 1.0
    u = (np.clip(v / s, -1.0, 1.0) + 1.0) / 2.0
    return lut(cmap)[_js_round(u * 255).astype(int)].astype(int)


def test_text_tokens_colour_click_and_markup(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    root = _output(page, 0).locator(".nbx-text-tokens").first
    wait_for_draws(root, 0)
    state = execute_in_kernel(nb, STATE)
    spans = root.locator("span.nbx-token")
    expect(spans).to_have_count(len(state["tokens"]))
    assert spans.all_inner_texts() == state["tokens"]
    assert root.locator(".nbx-token-text").inner_text() == "saw it last night. the ending was wonderful."

    # Background of every token = the colour map at its value, with opacity min(1, 2 |v| / s)
    # (a word near 0 shows the page); dark chips (as drawn on the white page) get white text.
    styles = spans.evaluate_all(
        "(els) => els.map((e) => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color])")
    got = np.array([_rgb(bg) for bg, _ in styles])
    want = expected_colours(state["values"], state["cmap"])
    assert np.abs(got - want).max() <= 1, (got.tolist(), want.tolist())
    v = np.asarray(state["values"], dtype=np.float32).astype(np.float64)
    alphas = np.minimum(1.0, 2 * np.abs(v) / np.abs(v).max())
    np.testing.assert_allclose([_alpha(bg) for bg, _ in styles], alphas, atol=1 / 255 + 1e-3)  # 8-bit alpha
    for (_, colour), rgb, a in zip(styles, want, alphas, strict=True):
        drawn = a * rgb + (1 - a) * 255
        luma = 0.299 * drawn[0] + 0.587 * drawn[1] + 0.114 * drawn[2]
        assert _rgb(colour) == ((255, 255, 255) if luma < 140 else (26, 26, 26))
    top = int(np.argmax(state["values"]))
    assert tuple(want[top]) == (103, 0, 31)  # the strongest token has the map's end colour

    # Hover: the tooltip names the token and its value.
    tooltip = root.locator(".nbx-token-tooltip")
    spans.nth(top).hover()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text(re.compile(rf"^{state['tokens'][top]}: 0\.\d+$"))
    prediction = root.locator(".nbx-prediction")
    before = prediction.inner_text()
    assert before == f"P(positive): {float(np.format_float_positional(state['prediction'], 3, fractional=False)):g}"
    screenshot(page, "text_tokens_whatif", root)

    # Click the top token: Python drops it, re-predicts, re-explains; the DOM follows.
    n = draws(root)
    spans.nth(top).click()
    wait_for_draws(root, n)
    dropped = poll_kernel(nb, STATE, lambda s: s["dropped"][top] == 1.0)
    assert sum(dropped["dropped"]) == 1 and dropped["prediction"] < state["prediction"]
    expect(prediction).not_to_have_text(before)
    expect(spans.nth(top)).to_have_class(re.compile(r"\bdropped\b"))
    look = spans.nth(top).evaluate("(e) => [getComputedStyle(e).textDecorationLine, getComputedStyle(e).opacity]")
    assert "line-through" in look[0] and float(look[1]) < 0.6
    want_after = expected_colours(dropped["values"], dropped["cmap"])
    got_after = np.array([_rgb(bg) for bg in spans.evaluate_all("(els) => els.map((e) => getComputedStyle(e).backgroundColor)")])
    assert np.abs(got_after - want_after).max() <= 1
    screenshot(page, "text_tokens_dropped", root)

    # Keyboard: Enter on the focused token restores it (a second toggle of the same token).
    n = draws(root)
    spans.nth(top).focus()
    page.keyboard.press("Enter")
    wait_for_draws(root, n)
    restored = poll_kernel(nb, STATE, lambda s: s["dropped"][top] == 0.0)
    assert restored["prediction"] == pytest.approx(state["prediction"])
    expect(prediction).to_have_text(before)
    expect(spans.nth(top)).not_to_have_class(re.compile(r"\bdropped\b"))

    # Markup in tokens, the title and the label is literal text; nothing ran.
    markup = _output(page, 1).locator(".nbx-text-tokens").first
    wait_for_draws(markup, 0)
    expect(markup.locator("span.nbx-token").nth(1)).to_have_text('<img src=x onerror="window.__nbxTokenXss = 1">')
    expect(markup.locator("span.nbx-token").nth(2)).to_have_text("<b>bold</b>")
    expect(markup.locator(".nbx-title")).to_have_text("<i>markup</i> stays text")
    expect(markup.locator(".nbx-prediction")).to_have_text("<script>window.__nbxTokenXss = 2</script>: 0.5")
    assert markup.locator("img, b, i, script").count() == 0
    assert page.evaluate("() => window.__nbxTokenXss") is None
    screenshot(page, "text_tokens_markup", markup)
    errors.assert_none()
