"""The Dashboard used for a while in JupyterLab at the default notebook width (968 px).

dashboard_use.ipynb: a breast-cancer table Dashboard whose "lime" method is slowed by 2.5 s
(so its panel can be looked at while it computes) and a reviews Dashboard. Checked in the DOM:
the filter bar's geometry, one navigation (pager and go-to box), labels that name the class with
its probability, a method added through its checkbox (the computed panels keep their content,
the new one shows its progress in its own header, the agreement waits), a sample change (no
panel ever shows "n/a" or zero bars), a text what-if (the edited prediction and the baseline in
the method headers), and, in the kernel, a flat live widget count over clicks through samples
and method changes. No console errors; screenshots in the light and dark theme.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from ..lab import (
    Notebook,
    collect_console_errors,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    set_checked,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("dashboard_use.ipynb")]

#: Viewport at which Lab (file browser open) gives the notebook its default 968 px.
VIEWPORT = {"width": 1318, "height": 1000}
PHRASE = re.compile(r"^(malignant|benign), P (= 0\.\d{2,3}|> 0\.999|< 0\.001)$")

# Records, from now on, every moment a visible method panel shows a placeholder value: a bar
# named "feature 0" (the empty view) or an "n/a" prediction / base value / header.
WATCH_BLANKS = """(root) => {
    window.__nbxBlanks = [];
    const check = () => {
        for (const el of root.querySelectorAll('.nbx-bar-name')) {
            if (el.offsetParent !== null && el.textContent === 'feature 0') window.__nbxBlanks.push('feature 0');
        }
        for (const el of root.querySelectorAll('.nbx-prediction, .nbx-base-value, .nbx-method-caption')) {
            if (el.offsetParent !== null && el.textContent.includes('n/a')) window.__nbxBlanks.push(el.textContent);
        }
    };
    new MutationObserver(check).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
}"""


def _cell(page: Page, n: int) -> Locator:
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(n).locator(".jp-OutputArea")


def _choice(out: Locator, name: str) -> Locator:
    return out.locator(f".nbx-method-choice:has(span[title='{name}']) input")


def _slot(out: Locator, name: str) -> Locator:
    return out.locator(f".nbx-slot-{name}")


def _box(loc: Locator) -> dict[str, float]:
    box = loc.bounding_box()
    assert box is not None, "not visible"
    return box


def _set_theme(page: Page, name: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(name)}$")).click()


def _check_confidence_geometry(out: Locator) -> None:
    """The read-out sits right of the upper handle with a gap, and its text fits its box."""
    geo = out.locator(".nbx-browse-confidence").first.evaluate("""(e) => {
        const r = (q) => e.querySelector(q).getBoundingClientRect();
        const ro = e.querySelector('.widget-readout');
        return { lower: r('.noUi-handle-lower').toJSON(), upper: r('.noUi-handle-upper').toJSON(),
                 track: r('.slider-container').toJSON(), readout: ro.getBoundingClientRect().toJSON(),
                 fits: ro.scrollWidth <= ro.clientWidth + 1, text: ro.textContent };
    }""")
    ro = geo["readout"]
    for part in ("lower", "upper", "track"):
        b = geo[part]
        overlap = b["left"] < ro["right"] and ro["left"] < b["right"] and b["top"] < ro["bottom"] and ro["top"] < b["bottom"]
        assert not overlap, f"the confidence read-out {ro} overlaps the slider's {part} {b}"
    assert ro["left"] - geo["upper"]["right"] >= 6, f"the read-out touches the upper handle: {geo}"
    assert geo["fits"], f"the read-out {geo['text']!r} overflows its box"


def test_dashboard_in_use(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    page.set_viewport_size(VIEWPORT)
    run_all(nb)
    out = _cell(page, 1)
    panel = out.locator(".nbx-sample-panel").first
    bars = out.locator(".nbx-feature-bars")
    expect(bars).to_have_count(2)
    wait_for_draws(bars.first, 0)
    width = page.locator(".jp-NotebookPanel:visible .jp-Cell").first.evaluate("(e) => e.getBoundingClientRect().width")
    assert abs(width - 968) < 40, f"the notebook is {width} px wide, not Lab's default"

    # Filter bar: the confidence read-out clear of its handles, also with the handles moved.
    _check_confidence_geometry(out)
    execute_in_kernel(nb, "dash.browser.set_filter(confidence=(0.55, 0.9))")
    expect(out.locator(".nbx-browse-confidence .widget-readout")).to_have_text("0.55 \u2013 0.90")
    _check_confidence_geometry(out)
    execute_in_kernel(nb, "dash.browser.clear_filter(); dash.select(0); dash.wait()")
    screenshot(page, "dashboard_use_filters", out.locator(".nbx-sample-browser").first)

    # One navigation: the table's pager with a go-to box; no stepper, no position slider.
    for gone in (".nbx-position", ".nbx-goto", ".nbx-step-prev", ".nbx-step-next", ".widget-select-multiple"):
        assert out.locator(gone).count() == 0, f"{gone} is still there"
    goto = out.locator("input.nbx-goto-input")
    expect(goto).to_have_count(1)
    goto.fill("37")
    goto.press("Enter")
    poll_kernel(nb, "dash.wait(); print(json.dumps(dash.index))", lambda i: i == 37)
    expect(panel.locator(".nbx-sample-index")).to_have_text("sample 37 of 171")
    expect(out.locator("tr.nbx-row.selected")).to_have_attribute("data-index", "37")
    # click, not check(): under load check() can read the box before its first paint after the click;
    # the kernel's filter and the box's state are then both waited for.
    out.locator(".nbx-browse-misclassified input[type=checkbox]").click()
    poll_kernel(nb, "dash.wait(); print(json.dumps(dash.browser.filter.misclassified))", lambda v: v is True)
    expect(out.locator(".nbx-browse-misclassified input[type=checkbox]")).to_be_checked()
    hidden = execute_in_kernel(nb, "import numpy as np\ns = dash.session\n"
                                   "print(json.dumps(int(np.flatnonzero(s.predicted == s.y)[5])))")
    goto.fill(str(hidden))
    goto.press("Enter")  # a sample the filter hides: the filter is cleared
    poll_kernel(nb, "dash.wait(); print(json.dumps([dash.index, dash.browser.filter.misclassified]))",
                lambda v: v == [hidden, False])
    expect(out.locator(".nbx-browse-misclassified input[type=checkbox]")).not_to_be_checked()
    goto.fill("37")
    goto.press("Enter")
    poll_kernel(nb, "dash.wait(); print(json.dumps(dash.index))", lambda i: i == 37)

    # Labels: the class with its probability, the same in the panel and every method's header.
    phrase = execute_in_kernel(nb, "from nbexplain.widgets._format import prediction_phrase\n"
                                   "s = dash.session; t = s.target_of(37)\n"
                                   "print(json.dumps(prediction_phrase(s.class_names[t], s.probabilities()[37, t])))")
    assert PHRASE.match(phrase), phrase
    expect(panel.locator(".nbx-predicted-line")).to_have_text(f"predicted{phrase}")
    for name in ("kernel_shap", "lime_batched"):
        expect(_slot(out, name).locator(".nbx-method-caption")).to_contain_text(phrase + " · base value ")
    assert all(re.fullmatch(r"0\.\d{2,3}|>0\.999|<0\.001", t.strip())
               for t in panel.locator(".nbx-pred-prob").all_inner_texts())

    # Everything of the first method's bars, its what-if read-outs too, lies inside its panel.
    cut = _slot(out, "kernel_shap").evaluate("""(slot) => {
        const right = slot.getBoundingClientRect().right + 1;
        return [...slot.querySelectorAll('.nbx-whatif-value, .nbx-bar-value')]
            .filter((e) => e.getBoundingClientRect().right > right || e.scrollWidth > e.clientWidth + 1)
            .map((e) => e.textContent);
    }""")
    assert cut == [], f"read-outs cut at the panel's edge: {cut}"

    # Add a slow method with its checkbox: the computed panels keep their content; the new one
    # says what it does in its own header; the agreement waits for it; no top progress bar.
    compare = out.locator(".nbx-compare").first
    compare.evaluate(WATCH_BLANKS)
    rows_before = [bars.nth(k).locator(".nbx-bar-row[data-index]").all_inner_texts() for k in range(2)]
    captions = [_slot(out, m).locator(".nbx-method-caption").inner_text() for m in ("kernel_shap", "lime_batched")]
    set_checked(_choice(out, "lime"), True)
    new = _slot(out, "lime")
    header = new.locator(".nbx-method-header")
    expect(header.locator(".nbx-method-caption")).to_have_text("computing for sample 37...", timeout=2000)
    expect(header.locator(".nbx-method-progress")).to_be_visible()
    expect(header.locator(".nbx-method-action")).to_have_text("cancel")
    slot_box, head_box = _box(new), _box(header)
    assert slot_box["y"] <= head_box["y"] and head_box["y"] + head_box["height"] <= slot_box["y"] + slot_box["height"]
    assert slot_box["width"] >= 250 and slot_box["height"] >= 150, f"the placeholder collapsed: {slot_box}"
    page.wait_for_timeout(800)  # past the top bar's delay: it would show by now
    expect(out.locator(".nbx-progress").first).to_be_hidden()
    assert [bars.nth(k).locator(".nbx-bar-row[data-index]").all_inner_texts() for k in range(2)] == rows_before
    assert [_slot(out, m).locator(".nbx-method-caption").inner_text()
            for m in ("kernel_shap", "lime_batched")] == captions
    labels = compare.locator(".nbx-compare-agreement .widget-label")
    expect(labels).to_have_count(3)
    expect(labels.nth(1)).to_have_text("kernel_shap vs lime: waiting for lime")
    screenshot(page, "dashboard_use_method_pending", compare)
    expect(new.locator(".nbx-feature-bars")).to_be_visible(timeout=20_000)
    expect(header.locator(".nbx-method-caption")).to_contain_text(phrase)
    expect(labels.nth(2)).to_contain_text("rank corr", timeout=20_000)

    # A sample change: the old results stay (dimmed) until the new ones arrive; never blank.
    out.locator("tr.nbx-row[data-index='40']").click()
    expect(new.locator(".nbx-method-caption")).to_have_text("computing for sample 40...", timeout=5000)
    expect(new).to_have_class(re.compile(r"\bnbx-method-stale\b"))  # the caption and class are two models
    page.wait_for_timeout(600)  # the dimming starts after a moment (no flicker on quick updates)
    opacity = float(new.locator(".nbx-bar-track").first.evaluate("(e) => getComputedStyle(e).opacity"))
    assert opacity < 0.6, f"the older result is not dimmed while it is recomputed (opacity {opacity})"
    expect(new.locator(".nbx-feature-bars .nbx-summary")).to_be_hidden()  # no "prediction 1" of its own
    screenshot(page, "dashboard_use_sample_pending", compare)
    poll_kernel(nb, "dash.wait(); print(json.dumps([dash.index, dash.compare.pending]))", lambda v: v == [40, []])
    expect(labels.nth(2)).to_contain_text("rank corr")
    blanks = page.evaluate("() => window.__nbxBlanks")
    assert blanks == [], f"a method panel showed placeholders while computing: {blanks[:5]}"
    screenshot(page, "dashboard_use_light", out)

    # The live widget count stays flat over clicks through samples and method changes.
    set_checked(_choice(out, "lime"), False)
    expect(_slot(out, "lime")).to_have_count(0)
    table = out.locator("[data-view=sample_table]").first

    def round_trip(page_rows: range) -> int:
        for r in page_rows:
            table.locator(f"tr.nbx-row[data-index='{r}']").click()
            poll_kernel(nb, "dash.wait(); print(json.dumps(dash.index))", lambda i, r=r: i == r)
            if r % 3 == 0:
                set_checked(_choice(out, "lime_batched"), False)
                expect(bars).to_have_count(1)
                set_checked(_choice(out, "lime_batched"), True)
                expect(bars).to_have_count(2)
        return int(execute_in_kernel(nb, "dash.wait(); print(json.dumps(live_widgets()))"))

    out.locator(".nbx-page-first").first.click()  # the pager's first page: samples 0-14
    expect(table.locator("tr.nbx-row").first).to_have_attribute("data-index", "0")
    first = round_trip(range(0, 10))
    out.locator(".nbx-page-next").first.click()
    expect(table.locator("tr.nbx-row").first).to_have_attribute("data-index", "15")
    second = round_trip(range(15, 25))
    assert second == first, f"{second - first} widgets more in the kernel after the second round"

    # Text what-if: drop a word; the method headers show the edited prediction and the baseline.
    out_t = _cell(page, 2)
    tokens = out_t.locator(".nbx-text-tokens").first
    wait_for_draws(tokens, 0)
    out_t.locator(".nbx-compare").first.evaluate(WATCH_BLANKS)
    tokens.locator("span.nbx-token").nth(1).click()
    poll_kernel(nb, "reviews.wait(); print(json.dumps(reviews.panel.note))", lambda n: "token" in n)
    want = execute_in_kernel(nb, "s = reviews.session; t = s.target_of(reviews.index)\n"
                                 "print(json.dumps(prediction_phrase(s.class_names[t], reviews.panel.probabilities[t])))")
    for slot in out_t.locator(".nbx-method-slot").all():
        caption = slot.locator(".nbx-method-caption")
        expect(caption).to_contain_text(want)
        expect(caption).to_contain_text("all words dropped")
        fits = caption.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1 && "
                                "e.getBoundingClientRect().right <= e.closest('.nbx-method-slot').getBoundingClientRect().right + 1")
        assert fits, f"the header {caption.inner_text()!r} is cut at its panel's edge"
    expect(out_t.locator(".nbx-sample-panel .nbx-predicted-line")).to_contain_text(want)
    assert page.evaluate("() => window.__nbxBlanks") == []
    screenshot(page, "dashboard_use_text_whatif", out_t)

    # Dark theme: the same views, in the theme's colours.
    try:
        _set_theme(page, "JupyterLab Dark")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
        page.wait_for_timeout(500)
        name_rgb = _slot(out, "kernel_shap").locator(".nbx-method-name").evaluate("(e) => getComputedStyle(e).color")
        r, g, b = (int(v) for v in re.findall(r"\d+", name_rgb)[:3])
        assert (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 > 0.6, f"the method name is dark on dark: {name_rgb}"
        screenshot(page, "dashboard_use_dark", out)
        screenshot(page, "dashboard_use_dark_text", out_t)
    finally:
        _set_theme(page, "JupyterLab Light")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=20_000)
    errors.assert_none()
