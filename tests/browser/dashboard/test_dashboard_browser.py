"""Dashboard in JupyterLab: every interaction goes browser -> kernel -> browser, checked on DOM and pixels.

dashboard_table.ipynb: a 12-feature table (a model that raises for sample 3, a NaN in sample 5,
a markup feature name) and a 100,000-row table (filters, paging, a long global computation that
is cancelled). dashboard_media.ipynb: digits with a small CNN (patch clicks) and short reviews
with a small text classifier (token clicks).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from ..lab import (
    Notebook,
    canvas_array,
    cell_center,
    collect_console_errors,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    set_checked,
    set_range,
    wait_for_draws,
)

IMG_PAYLOAD = '<img src=x onerror="window.__nbx_pwned=1">'


def _cell(page: Page, n: int) -> Locator:
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(n).locator(".jp-OutputArea")


def _tab(out: Locator, name: str) -> None:
    out.locator(".lm-TabBar-tab", has_text=re.compile(f"^{re.escape(name)}$")).first.click()


def _draws(root: Locator) -> int:
    return int(root.get_attribute("data-draws") or 0)


def _prob_text(panel: Locator) -> str:
    return " ".join(panel.locator(".nbx-pred-row").all_inner_texts())


@pytest.mark.browser
@pytest.mark.notebook("dashboard_table.ipynb")
def test_dashboard_table(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    out = _cell(page, 1)
    panel = out.locator(".nbx-sample-panel").first
    table = out.locator("[data-view=sample_table]").first
    wait_for_draws(panel, 0)
    bars = out.locator(".nbx-feature-bars")
    expect(bars).to_have_count(2)  # kernel_shap and lime_batched side by side
    wait_for_draws(bars.first, 0)
    screenshot(page, "dashboard_table_explore", out)
    # The two methods sit side by side (same row) at this notebook width.
    tops = [bars.nth(k).bounding_box()["y"] for k in range(2)]
    assert abs(tops[0] - tops[1]) < 2, f"the methods' bars are not side by side: tops {tops}"

    # Markup in a feature name is literal text, in the panel and in the bars.
    expect(panel.locator("tr[data-index='11'] .nbx-sample-name")).to_have_text(IMG_PAYLOAD)
    assert out.locator("img").count() == 0
    assert page.evaluate("() => window.__nbx_pwned") is None

    # A row click selects the sample in Python and redraws the panel and the bars.
    panel_draws, bar_draws = _draws(panel), _draws(bars.first)
    table.locator("tr.nbx-row[data-index='2']").click()
    poll_kernel(nb, "print(json.dumps(table.index))", lambda i: i == 2)
    wait_for_draws(panel, panel_draws)
    wait_for_draws(bars.first, bar_draws)
    expect(panel.locator(".nbx-sample-index")).to_contain_text("sample 2")

    # The model raises for sample 3: the panel says so, and sample 4 still works.
    table.locator("tr.nbx-row[data-index='3']").click()
    expect(panel.locator(".nbx-error")).to_contain_text("sensor fault")
    expect(bars.first.locator(".nbx-error")).to_contain_text("sensor fault")
    screenshot(page, "dashboard_table_failing_sample", out)
    table.locator("tr.nbx-row[data-index='4']").click()
    expect(panel.locator(".nbx-error")).to_have_count(0)
    expect(bars.first.locator(".nbx-error")).to_have_count(0)
    # Sample 5 has a NaN: flagged in the table and in the panel.
    expect(table.locator("tr.nbx-row[data-index='5']")).to_have_class(re.compile("nan"))
    table.locator("tr.nbx-row[data-index='5']").click()
    expect(panel.locator(".nbx-sample-note")).to_contain_text("NaN")
    expect(panel.locator(".nbx-sample-note")).to_contain_text("mean perimeter")

    # What-if: a slider in the first method's bars re-predicts and re-explains.
    table.locator("tr.nbx-row[data-index='4']").click()
    poll_kernel(nb, "table.wait(); print(json.dumps(table.index))", lambda i: i == 4)
    probs_before = execute_in_kernel(nb, "print(json.dumps(table.panel.probabilities.tolist()))")
    values_before = execute_in_kernel(nb, "print(json.dumps(table.compare.views['kernel_shap'].values.tolist()))")
    slider = bars.first.locator("input[type=range].nbx-whatif[data-index='0']")
    expect(slider).to_have_count(1)
    set_range(slider, "max")
    poll_kernel(nb, "table.wait(); print(json.dumps(table.panel.note))", lambda n: "edited" in n)
    expect(panel.locator(".nbx-sample-note")).to_contain_text("edited: mean radius")
    probs_after = execute_in_kernel(nb, "print(json.dumps(table.panel.probabilities.tolist()))")
    assert not np.allclose(probs_before, probs_after), "the prediction did not change"
    values_after = execute_in_kernel(nb, "print(json.dumps(table.compare.views['kernel_shap'].values.tolist()))")
    assert not np.allclose(values_before, values_after), "the explanation did not change"
    # The first method's header shows the edited prediction, as the panel does ("benign, P = 0.97").
    want = execute_in_kernel(nb, "from nbexplain.widgets._format import prediction_phrase\n"
                                 "s = table.session; t = s.target_of(4)\n"
                                 "print(json.dumps(prediction_phrase(s.class_names[t], table.panel.probabilities[t])))")
    header = out.locator(".nbx-method-slot").first.locator(".nbx-method-caption")
    expect(header).to_contain_text(want)
    expect(panel.locator(".nbx-predicted-line")).to_contain_text(want)
    screenshot(page, "dashboard_table_whatif", out)

    # The README's picture: the explorer with a filter, the sample and both methods.
    page.set_viewport_size({"width": 1500, "height": 1250})
    out.locator(".lm-TabBar").first.scroll_into_view_if_needed()
    page.evaluate("() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer, "
                  ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook').scrollBy(0, -30)")
    screenshot(page, "dashboard_overview")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A method switch changes the explanation shown (one checkbox per method).
    def choice(name: str) -> Locator:
        return out.locator(f".nbx-method-choice:has(span[title='{name}']) input")

    set_checked(choice("kernel_shap"), False)
    expect(bars).to_have_count(1)
    poll_kernel(nb, "table.wait(); print(json.dumps(list(table.explanations())))", lambda m: m == ["lime_batched"])
    expect(choice("lime_batched")).to_be_disabled()  # the last method cannot be unchecked
    set_checked(choice("kernel_shap"), True)
    expect(bars).to_have_count(2)
    poll_kernel(nb, "table.wait(); print(json.dumps(table.methods))", lambda m: m == ["lime_batched", "kernel_shap"])

    # Errors tab: a confusion-matrix click filters the explorer to that cell.
    _tab(out, "Errors & bias")
    cm = out.locator(".nbx-confusion-matrix").first
    wait_for_draws(cm, 0)
    cell = cm.locator(".nbx-cm-cell[data-true='0'][data-pred='1']")
    want = execute_in_kernel(nb, "s = table.session; import numpy as np\n"
                                 "print(json.dumps(np.flatnonzero((s.y == 0) & (s.predicted == 1)).tolist()))")
    assert cell.inner_text().strip() == str(len(want))
    cell.click()
    expect(out.locator("[data-view=sample_table]").first).to_be_visible()
    rows = out.locator("[data-view=sample_table] tr.nbx-row")
    expect(rows).to_have_count(min(len(want), 15))
    shown_idx = sorted(int(r.get_attribute("data-index")) for r in rows.all())
    assert shown_idx == want[: len(shown_idx)]
    screenshot(page, "dashboard_table_confusion_filter", out)

    # Global tab: bars and the beeswarm draw.
    _tab(out, "Global")
    bee = out.locator(".nbx-beeswarm").first
    wait_for_draws(bee, 0, timeout_ms=120_000)
    assert (canvas_array(bee.locator("canvas.nbx-beeswarm-canvas"))[..., 3] > 0).sum() > 500
    screenshot(page, "dashboard_table_global", out)

    # 100,000 rows: paging and filters, only a page in the browser.
    big = _cell(page, 2)
    big_table = big.locator("[data-view=sample_table]").first
    wait_for_draws(big_table, 0)
    expect(big.locator(".nbx-page-info").first).to_contain_text("of 100000")
    first_rows = [r.get_attribute("data-index") for r in big_table.locator("tr.nbx-row").all()]
    big.locator(".nbx-page-next").first.click()
    expect(big_table.locator("tr.nbx-row").first).not_to_have_attribute("data-index", first_rows[0] or "")
    assert [r.get_attribute("data-index") for r in big_table.locator("tr.nbx-row").all()] == [
        str(i) for i in range(10, 20)]
    set_checked(big.locator(".nbx-browse-misclassified input[type=checkbox]").first, True)
    n_wrong = execute_in_kernel(nb, "print(json.dumps(int((big.session.predicted != big.session.y).sum())))")
    expect(big.locator(".nbx-page-info").first).to_contain_text(f"of {n_wrong}")
    idx = [int(r.get_attribute("data-index")) for r in big_table.locator("tr.nbx-row").all()]
    wrong = execute_in_kernel(nb, f"print(json.dumps([bool(big.session.predicted[i] != big.session.y[i]) for i in {idx}]))")
    assert all(wrong)

    # A long computation: the global tab on 100,000 samples shows progress; cancel stops it.
    _tab(big, "Global")
    progress = big.locator(".nbx-progress").first
    expect(progress).to_be_visible(timeout=10_000)
    screenshot(page, "dashboard_progress", big)
    big.locator(".nbx-cancel").first.click()
    poll_kernel(nb, "print(json.dumps(big.runner.state['last']))", lambda s: s == "cancelled")
    expect(progress).to_be_hidden(timeout=10_000)
    # ...and the dashboard still works afterwards.
    _tab(big, "Explore")
    big_table.locator("tr.nbx-row").nth(1).click()
    poll_kernel(nb, "big.wait(); print(json.dumps(big.index))", lambda i: i == idx[1])
    errors.assert_none()


@pytest.mark.browser
@pytest.mark.notebook("dashboard_media.ipynb")
def test_dashboard_images_and_text(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)

    # Image and text dashboards have no Surrogate tab (a linear surrogate needs a table).
    for n in (1, 2):
        tabs = _cell(page, n).locator(".lm-TabBar-tab")
        expect(tabs).to_have_count(4)
        assert [t.strip() for t in tabs.all_inner_texts()] == ["Explore", "Global", "Errors & bias", "Trust"]

    # Images: a click on a map hides a patch; the prediction and the maps change.
    out = _cell(page, 1)
    panel = out.locator(".nbx-sample-panel").first
    maps = out.locator(".nbx-heatmap")
    expect(maps).to_have_count(2)
    wait_for_draws(maps.first, 0)
    tops = [maps.nth(k).bounding_box()["y"] for k in range(2)]
    assert abs(tops[0] - tops[1]) < 2, f"the methods' maps are not side by side: tops {tops}"
    canvas = maps.first.locator("canvas.nbx-heatmap-canvas")
    before_img = canvas_array(panel.locator("canvas.nbx-sample-image"))
    before_map = canvas_array(canvas)
    before = _prob_text(panel)
    d = _draws(maps.first)
    canvas.scroll_into_view_if_needed()
    x, y = cell_center(canvas, 3, 3)
    page.mouse.click(x, y)
    wait_for_draws(maps.first, d)
    poll_kernel(nb, "images.wait(); print(json.dumps(images.panel.note))", lambda n: "patch" in n)
    expect(panel.locator(".nbx-sample-note")).to_contain_text("1 patch")
    page.wait_for_timeout(300)
    after_img = canvas_array(panel.locator("canvas.nbx-sample-image"))
    assert (after_img[2:4, 2:4, :3] == 128).all(), "the hidden patch is not drawn grey"
    assert not np.array_equal(before_img, after_img)
    assert not np.array_equal(before_map, canvas_array(canvas))
    assert _prob_text(panel) != before
    screenshot(page, "dashboard_images_patch", out)

    # Text: a token click drops it; the prediction changes; markup-free literal tokens.
    out_t = _cell(page, 2)
    panel_t = out_t.locator(".nbx-sample-panel").first
    tokens = out_t.locator(".nbx-text-tokens").first
    wait_for_draws(tokens, 0)
    spans = tokens.locator("span.nbx-token")
    assert spans.count() >= 3
    best = execute_in_kernel(nb, "import numpy as np\n"
                                 "e = reviews.explanations()[reviews.methods[0]]\n"
                                 "print(json.dumps(int(np.argmax(np.abs(e.values)))))")
    before_t = _prob_text(panel_t)
    d = _draws(tokens)
    spans.nth(best).click()
    wait_for_draws(tokens, d)
    poll_kernel(nb, "reviews.wait(); print(json.dumps(reviews.panel.note))", lambda n: "token" in n)
    expect(spans.nth(best)).to_have_class(re.compile("dropped"))
    expect(panel_t.locator(".nbx-pred-row").first).not_to_have_text(before_t.split("\n")[0] + "#")
    assert _prob_text(panel_t) != before_t
    screenshot(page, "dashboard_text_token", out_t)
    errors.assert_none()
