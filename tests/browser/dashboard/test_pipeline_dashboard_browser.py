"""A Dashboard on a scikit-learn Pipeline over a DataFrame (strings, a categorical, NaN) in JupyterLab.

pipeline_dashboard.ipynb: breast-cancer columns plus "size" (strings with missing values) and
"grade" (a pandas categorical), a ColumnTransformer pipeline. Checked in the DOM: the sample
panel, the sample table and every method's bars show the categories as their strings; the
what-if choice box offers a column's categories; picking one re-predicts through the Pipeline
(checked in the kernel against ``pipe.predict_proba`` on the edited DataFrame) and the panel
shows the new string; the Global tab's PDP of "size" names its categories on the axis. No
console errors; the user's DataFrame is unchanged; light-theme screenshots.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ..lab import (
    Notebook,
    collect_console_errors,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    wait_for_draws,
)

pytestmark = [pytest.mark.browser, pytest.mark.notebook("pipeline_dashboard.ipynb")]

SIZES = ["large", "medium", "small", "(missing)"]
SHOWN = (
    "row = X_test.iloc[dash.index]\n"
    "print(json.dumps({'index': int(dash.index), 'size': row['size'], 'grade': str(row['grade']),"
    " 'radius': float(row['mean radius'])}))"
)


def test_pipeline_dashboard_shows_strings_and_offers_categories(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    dash = page.locator(".nbx-dashboard")
    expect(dash).to_have_count(1)
    shown = execute_in_kernel(nb, SHOWN)
    assert shown["size"] == "medium"

    # The sample panel: the string column's value is its string, a numeric one a number.
    panel = dash.locator(".nbx-sample-panel")
    wait_for_draws(panel, 0)
    size_cell = panel.locator("tr[data-index='3'] .nbx-sample-value")
    expect(size_cell).to_have_text("medium")
    expect(size_cell).to_have_class("nbx-sample-value nbx-sample-category")
    expect(panel.locator("tr[data-index='4'] .nbx-sample-value")).to_have_text(shown["grade"])
    expect(panel.locator("tr[data-index='0'] .nbx-sample-name")).to_have_text("mean radius")
    expect(panel.locator("tr[data-index='0'] .nbx-sample-value")).to_have_text(f"{shown['radius']:.3g}")

    # The sample table: the categorical columns' cells hold strings only.
    table = dash.locator("[data-view=sample_table]")
    wait_for_draws(table, 0)
    expect(table.locator("th").nth(7)).to_have_text("size")
    cells = table.locator("td.nbx-st-cat").all_inner_texts()
    assert cells and set(cells) <= set(SIZES) | {"I", "II", "III"}, cells
    assert any(c in SIZES for c in cells) and any(c in ("I", "II", "III") for c in cells)

    # Every method's bars: the feature value of "size" is its string; the first has the what-if menus.
    bars = dash.locator(".nbx-feature-bars")
    expect(bars).to_have_count(2)
    for i in range(2):
        wait_for_draws(bars.nth(i), 0)
        expect(bars.nth(i).locator(".nbx-bar-row[data-index='3'] .nbx-bar-fvalue")).to_have_text("medium")
    first = bars.nth(0)
    choice = first.locator("select.nbx-whatif-choice[data-index='3']")
    expect(choice).to_have_count(1)
    assert choice.locator("option").all_inner_texts() == SIZES
    assert first.locator("select.nbx-whatif-choice[data-index='4'] option").all_inner_texts() == ["I", "II", "III"]
    assert first.locator("input[type=range].nbx-whatif[data-index='3']").count() == 0
    assert first.locator("input[type=range].nbx-whatif[data-index='0']").count() == 1
    screenshot(page, "pipeline_dashboard_light", dash)

    # What-if: pick "large"; the Pipeline re-predicts the edited DataFrame row.
    choice.select_option(label="large")
    after = poll_kernel(
        nb,
        "e = dash._edited_input\n"
        "edited = None if e is None else dash.session.encoding.decode(e[None].astype(float))\n"
        "print(json.dumps({'size': None if e is None else edited['size'].iloc[0],"
        " 'shown': dash.panel.probabilities.tolist() if e is not None and dash.panel.probabilities is not None else None,"
        " 'expected': None if e is None else pipe.predict_proba(edited)[0].tolist(), 'note': dash.panel.note}))",
        lambda s: s["size"] == "large" and s["shown"] is not None and s["note"].startswith("edited"),
    )
    assert after["shown"] == pytest.approx(after["expected"], rel=1e-6)
    expect(size_cell).to_have_text("large")
    expect(first.locator(".nbx-bar-row[data-index='3'] .nbx-bar-fvalue")).to_have_text("large")
    expect(panel.locator(".nbx-sample-note")).to_contain_text("edited: size")
    screenshot(page, "pipeline_dashboard_whatif_light", dash)

    # Global tab: the partial dependence of "size" runs over its categories, named on the axis.
    dash.locator(".lm-TabBar-tab, .p-TabBar-tab").filter(has_text="Global").first.click()
    pdp = dash.locator(".nbx-pdp")
    expect(pdp).to_have_count(1, timeout=60_000)
    pdp.locator("select").first.select_option(label="size")
    ticks = pdp.locator("g.tick text")
    expect(ticks.filter(has_text="medium")).to_have_count(1, timeout=30_000)
    assert [t.strip() for t in ticks.all_text_contents() if t.strip() in SIZES] == SIZES
    screenshot(page, "pipeline_dashboard_pdp_light", pdp)
    assert execute_in_kernel(nb, "print(json.dumps(bool(X_test.equals(X_copy))))") is True
    errors.assert_none()
