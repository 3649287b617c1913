"""A transformers classifier in JupyterLab: words, their pieces, a truncation note, attention, the Dashboard.

transformers.ipynb: a tiny BERT trained on the reviews with a small WordPiece vocabulary.
Checked in the DOM: Integrated Gradients and token SHAP side by side on the same words, a split
word's pieces on hover; a truncated text's note; the attention view's lines, its layer / head
pickers reaching Python, its hover focus and its matrix drawing (pixels); the Dashboard built
with ``tokenizer=`` showing both families and dropping a word on click. No console errors;
screenshots in the light and dark theme.
"""

from __future__ import annotations

import re

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
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("transformers.ipynb")]


def _cell(page: Page, n: int) -> Locator:
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(n).locator(".jp-OutputArea")


def _set_theme(page: Page, name: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(name)}$")).click()


def test_transformer_words_attention_and_dashboard(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    page.set_viewport_size({"width": 1318, "height": 1000})
    run_all(nb, timeout_ms=240_000)

    # Both families on the same words; a split word lists its pieces on hover.
    compare = _cell(page, 0)
    views = compare.locator(".nbx-text-tokens")
    expect(views).to_have_count(2)
    words = execute_in_kernel(nb, "print(json.dumps(te.tokenize(review)))")
    for k in range(2):
        expect(views.nth(k).locator("span.nbx-token")).to_have_count(len(words))
        assert views.nth(k).locator("span.nbx-token").all_inner_texts() == words
    split = views.first.locator("span.nbx-token.nbx-token-split")
    assert split.count() >= 1, "no word shows as made of pieces"
    split.first.hover()
    tip = views.first.locator(".nbx-token-tooltip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(" + ")
    expect(compare.locator(".nbx-compare-agreement .widget-label").first).to_contain_text(
        "integrated_gradients vs token_shap: rank corr")
    screenshot(page, "transformers_compare", compare)

    # The truncated text says so above its words.
    note = _cell(page, 1).locator(".nbx-token-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("truncated: the text has")

    # Attention: lines drawn, pickers reach Python, hover focuses one row, the matrix draws.
    att = _cell(page, 2).locator(".nbx-attention")
    expect(att.locator("line.nbx-attn-line").first).to_be_attached(timeout=10_000)
    n_tokens = execute_in_kernel(nb, "print(json.dumps(len(att.tokens)))")
    expect(att.locator(".nbx-attn-from")).to_have_count(n_tokens)
    all_lines = att.locator("line.nbx-attn-line").count()
    att.locator("select.nbx-attn-layer").select_option("layer 2")
    att.locator("select.nbx-attn-head").select_option("head 1")
    poll_kernel(nb, "print(json.dumps([att.layer, att.head]))", lambda v: v == [1, 0])
    att.locator(".nbx-attn-from").nth(1).hover()
    expect(att.locator(".nbx-attn-from.nbx-attn-focus")).to_have_count(1)
    focused = att.locator("line.nbx-attn-line")
    assert 0 < focused.count() <= n_tokens and focused.count() < max(all_lines, 2)
    assert {focused.nth(i).get_attribute("data-from") for i in range(focused.count())} == {"1"}
    expect(att.locator(".nbx-attn-readout")).to_contain_text("attends most to")
    screenshot(page, "transformers_attention_lines", att)
    att.locator("select.nbx-attn-mode").select_option("matrix")
    matrix = att.locator("canvas.nbx-attn-matrix")
    expect(matrix).to_be_visible()
    pixels = canvas_array(matrix)
    assert pixels.shape[0] >= n_tokens and np.ptp(pixels[..., :3]) > 50, "the attention grid is blank"
    poll_kernel(nb, "print(json.dumps(att.mode))", lambda v: v == "matrix")

    # The Dashboard with tokenizer=: both families side by side, a word click drops the word.
    dash = _cell(page, 3)
    slots = dash.locator(".nbx-method-slot")
    expect(slots).to_have_count(2, timeout=60_000)
    expect(dash.locator(".nbx-slot-integrated_gradients .nbx-text-tokens")).to_be_visible(timeout=60_000)
    expect(dash.locator(".nbx-slot-token_shap .nbx-text-tokens")).to_be_visible(timeout=60_000)
    poll_kernel(nb, "dash.wait(); print(json.dumps(dash.compare.pending))", lambda v: v == [], timeout_s=90)
    first = dash.locator(".nbx-slot-integrated_gradients span.nbx-token").first
    first.click()
    poll_kernel(nb, "dash.wait(); e = dash.explanations()['token_shap']; print(json.dumps(len(e.feature_names)))",
                lambda n: n >= 1, timeout_s=90)
    expect(dash.locator(".nbx-slot-integrated_gradients span.nbx-token.dropped")).to_have_count(1, timeout=30_000)
    screenshot(page, "transformers_dashboard", dash)

    _set_theme(page, "JupyterLab Dark")
    expect(page.locator("body[data-jp-theme-light='false']")).to_have_count(1)
    screenshot(page, "transformers_attention_dark", att)
    screenshot(page, "transformers_compare_dark", compare)
    _set_theme(page, "JupyterLab Light")
    errors.assert_none()
