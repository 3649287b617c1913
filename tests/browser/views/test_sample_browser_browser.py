"""SampleBrowser in JupyterLab on 100,000 rows: paging, filters, selection, keyboard, literal markup."""

from __future__ import annotations

import re
from typing import Any

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

pytestmark = [pytest.mark.browser, pytest.mark.notebook("sample_browser.ipynb")]

PAGE_STATE = """t = {name}.table
print(json.dumps({{"page": t.page, "total": t.total, "indices": [int(i) for i in t.indices],
                  "labels": t.labels, "values": t.values.tolist(), "selected": t.selected}}))"""


def _output(page: Page, cell: int) -> Locator:
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(cell).locator(".jp-OutputArea")


def _rows(table: Locator) -> list[dict[str, Any]]:
    """What the DOM shows: per row the sample index, the two labels and the numeric cells."""
    return table.locator("tr.nbx-row").evaluate_all(
        """(rows) => rows.map((r) => ({
            index: Number(r.dataset.index),
            true: r.querySelector('.nbx-st-true').textContent,
            pred: r.querySelector('.nbx-st-pred').textContent,
            nums: [...r.querySelectorAll('td.nbx-st-num')].map((td) => td.textContent),
            wrong: r.classList.contains('nbx-wrong'),
            selected: r.classList.contains('selected'),
            snippet: r.querySelector('.nbx-st-snippet')?.textContent ?? null,
        }))"""
    )


def _assert_matches_kernel(table: Locator, nb: Notebook, name: str = "b") -> dict[str, Any]:
    """The DOM rows are the kernel's page: indices, labels, and numbers to 4 significant digits."""
    state = execute_in_kernel(nb, PAGE_STATE.format(name=name))
    rows = _rows(table)
    assert [r["index"] for r in rows] == state["indices"]
    for r, (i, values) in enumerate(zip(state["indices"], state["values"], strict=True)):
        row = rows[r]
        assert (row["true"], row["pred"]) == (state["labels"][2 * r], state["labels"][2 * r + 1]), i
        assert len(row["nums"]) == len(values)
        for text, want in zip(row["nums"], values, strict=True):
            if want != want:  # NaN
                assert text == "NaN"
            else:
                assert abs(float(text) - want) <= 5e-4 * abs(want) + 1e-12, (i, text, want)
    return state


def _wait_redraw(table: Locator, before: int) -> None:
    wait_for_draws(table, before, timeout_ms=30_000)


def _draws(table: Locator) -> int:
    return int(table.get_attribute("data-draws") or 0)


def test_sample_browser_pages_filters_and_selects(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    out = _output(page, 0)
    table = out.locator(".nbx-sample-table").first
    wait_for_draws(table, 0)
    info = table.locator(".nbx-page-info")
    expect(info).to_have_text("rows 1-15 of 100000")
    expect(table.locator("tr.nbx-row")).to_have_count(15)
    state = _assert_matches_kernel(table, nb)
    assert state["indices"] == list(range(15)) and state["selected"] == 0
    expect(table.locator("tr.nbx-row.selected")).to_have_attribute("data-index", "0")
    # Markup in class and feature names is literal text; nothing ran.
    headers = table.locator("th").all_text_contents()
    assert "<script>window.__nbx_pwned=1</script>" in headers
    shown = {r["true"] for r in _rows(table)} | {r["pred"] for r in _rows(table)}
    assert '<img src=x onerror="window.__nbx_pwned=1">' in shown or "<b>bird</b>" in shown
    assert table.locator("img, script, b").count() == 0
    assert page.evaluate("() => window.__nbx_pwned === undefined")
    screenshot(page, "sample_browser_page0", out)

    # Paging: next, next, prev; each time the DOM is the kernel's page.
    for button, want_page in ((".nbx-page-next", 1), (".nbx-page-next", 2), (".nbx-page-prev", 1)):
        before = _draws(table)
        table.locator(button).click()
        _wait_redraw(table, before)
        poll_kernel(nb, "print(b.table.page)", lambda p, w=want_page: p == w)
        expect(info).to_have_text(f"rows {want_page * 15 + 1}-{want_page * 15 + 15} of 100000")
        state = _assert_matches_kernel(table, nb)
        assert state["indices"] == list(range(want_page * 15, want_page * 15 + 15))

    # A row click selects the sample in Python and highlights the row.
    third = table.locator("tr.nbx-row").nth(2)
    clicked = int(third.get_attribute("data-index") or -1)
    third.click()
    assert poll_kernel(nb, "print(b.selected)", lambda s: s == clicked) == clicked
    expect(third).to_have_class(re.compile(r"\bselected\b"))
    expect(table.locator("tr.nbx-row.selected")).to_have_count(1)
    # Up/down keys on the focused table move the selection (the notebook does not take them).
    active_cell = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell')]
        .findIndex((c) => c.classList.contains('jp-mod-active'))"""
    active_before = page.evaluate(active_cell)
    assert active_before >= 0
    table.locator(".nbx-st-scroll").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert poll_kernel(nb, "print(b.selected)", lambda s: s == clicked + 2) == clicked + 2
    page.keyboard.press("ArrowUp")
    poll_kernel(nb, "print(b.selected)", lambda s: s == clicked + 1)
    expect(table.locator("tr.nbx-row.selected")).to_have_attribute("data-index", str(clicked + 1))
    assert page.evaluate(active_cell) == active_before, "the notebook took the arrow keys"
    # Past the page's last row the keys turn the page (Python steps).
    execute_in_kernel(nb, "b.selected = 29")
    expect(table.locator("tr.nbx-row.selected")).to_have_attribute("data-index", "29")
    before = _draws(table)
    table.locator(".nbx-st-scroll").focus()
    page.keyboard.press("ArrowDown")
    _wait_redraw(table, before)
    poll_kernel(nb, "print(b.selected)", lambda s: s == 30)
    expect(info).to_have_text("rows 31-45 of 100000")
    expect(table.locator("tr.nbx-row.selected")).to_have_attribute("data-index", "30")

    # Misclassified: the count changes and every shown row is misclassified.
    before = _draws(table)
    set_checked(out.locator(".nbx-browse-misclassified input[type=checkbox]"), True)
    _wait_redraw(table, before)
    n_wrong = poll_kernel(nb, "print(len(b.indices) if b.filter.misclassified else -1)", lambda k: k > 0)
    assert n_wrong == execute_in_kernel(nb, "print(int((P.argmax(1) != y).sum()))")
    expect(info).to_have_text(f"rows 1-15 of {n_wrong}")
    expect(out.locator(".nbx-browse-count")).to_contain_text(f"{n_wrong} of 100000 samples")
    rows = _rows(table)
    assert len(rows) == 15 and all(r["wrong"] and r["true"] != r["pred"] for r in rows)
    assert execute_in_kernel(
        nb, f"print(json.dumps(bool((P.argmax(1)[{[r['index'] for r in rows]}] != y[{[r['index'] for r in rows]}]).all())))"
    ) is True
    _assert_matches_kernel(table, nb)

    # The predicted-class dropdown ("dog" = class 2) on top of it.
    before = _draws(table)
    out.locator(".nbx-browse-pred select").select_option(label="dog")
    _wait_redraw(table, before)
    poll_kernel(nb, "print(b.filter.predicted_class)", lambda p: p == 2)
    state = _assert_matches_kernel(table, nb)
    assert all(r["pred"] == "dog" and r["wrong"] for r in _rows(table))
    n_dog = execute_in_kernel(nb, "print(int(((P.argmax(1) != y) & (P.argmax(1) == 2)).sum()))")
    assert state["total"] == n_dog
    screenshot(page, "sample_browser_filtered", out)

    # The confidence slider: drag the lower handle to about 60% of the track.
    slider = out.locator(".nbx-browse-confidence")
    track = slider.locator(".noUi-target, .slider").first
    handle = slider.locator(".noUi-handle").first
    hb, tb = handle.bounding_box(), track.bounding_box()
    assert hb is not None and tb is not None
    before = _draws(table)
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(tb["x"] + 0.6 * tb["width"], hb["y"] + hb["height"] / 2, steps=8)
    page.mouse.up()
    _wait_redraw(table, before)
    lo = poll_kernel(nb, "print(b.filter.confidence[0])", lambda v: 0.4 < v < 0.8)
    state = _assert_matches_kernel(table, nb)
    assert all(lo - 1e-6 <= v[0] <= 1.0 + 1e-6 for v in state["values"])
    assert state["total"] == execute_in_kernel(
        nb, f"c = P.max(1); print(int(((P.argmax(1) != y) & (P.argmax(1) == 2) & (c >= {lo!r})).sum()))"
    )

    # A filter from Python that matches nothing: a clear empty row; the controls follow.
    before = _draws(table)
    execute_in_kernel(nb, "b.set_filter(true_class=2)")  # misclassified, true 2, predicted 2: empty
    _wait_redraw(table, before)
    expect(table.locator("tr.nbx-empty")).to_have_text("no samples match the filter")
    expect(info).to_have_text("no rows (0 of 0)")
    expect(out.locator(".nbx-browse-true select option:checked")).to_have_text("dog")
    assert execute_in_kernel(nb, "print(b.selected)") == -1
    screenshot(page, "sample_browser_empty", out)

    # Clear, then the stepper turns the page.
    execute_in_kernel(nb, "b.clear_filter(); b.selected = 14")
    expect(info).to_have_text("rows 1-15 of 100000")
    before = _draws(table)
    out.locator("button.nbx-step-next").click()
    _wait_redraw(table, before)
    poll_kernel(nb, "print(b.selected)", lambda s: s == 15)
    expect(info).to_have_text("rows 16-30 of 100000")
    expect(table.locator("tr.nbx-row.selected")).to_have_attribute("data-index", "15")

    # Text data: the search box filters (case-insensitive) and snippets are literal text.
    tout = _output(page, 1)
    ttable = tout.locator(".nbx-sample-table").first
    wait_for_draws(ttable, 0)
    expect(ttable.locator(".nbx-page-info")).to_have_text("rows 1-5 of 10")
    before = _draws(ttable)
    search = tout.locator(".nbx-browse-search input")
    search.fill("GOOD")
    _wait_redraw(ttable, before)
    want = poll_kernel(nb, "print(json.dumps([int(i) for i in tb.indices]))", lambda v: len(v) < 10)
    assert want == [0, 2, 5, 8]
    expect(ttable.locator(".nbx-page-info")).to_have_text("rows 1-4 of 4")
    rows = _rows(ttable)
    assert [r["index"] for r in rows] == want and all("good" in r["snippet"].lower() for r in rows)
    _assert_matches_kernel(ttable, nb, "tb")
    screenshot(page, "sample_browser_text", tout)
    errors.assert_none()
