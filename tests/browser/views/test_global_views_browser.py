"""Global views in JupyterLab: bqplot importance bars and PDP lines, and a cancellable task bar."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from ..lab import (
    Notebook,
    collect_console_errors,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
)

pytestmark = [pytest.mark.browser]
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "global_views.ipynb"


def _output(page: Page, cell: int) -> Locator:
    return page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(cell).locator(".jp-OutputArea")


def _bar_boxes(root: Locator) -> list[dict[str, float]]:
    rects = root.locator("g.bargroup rect.bar")
    return rects.evaluate_all(
        "(els) => els.map((e) => { const b = e.getBoundingClientRect();"
        " return {x: b.x, y: b.y, w: b.width, h: b.height}; })"
    )


def _line_paths(root: Locator) -> list[str]:
    return root.locator("path.line").evaluate_all("(els) => els.map((e) => e.getAttribute('d') || '')")


@pytest.mark.notebook("global_views.ipynb")
def test_global_views_draw_and_tasks_cancel(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)

    # Importance bars: 4 bars, widths proportional to the kernel's values, largest on top.
    bars = _output(page, 1).locator(".nbx-importance").first
    expect(bars.locator("g.bargroup rect.bar")).to_have_count(4, timeout=30_000)
    want = execute_in_kernel(nb, "print(json.dumps({'y': bars.bars.y.tolist(), 'x': bars.shown_names}))")
    assert want["y"] == sorted(want["y"], reverse=True) and want["y"][-1] > 0
    page.wait_for_function(
        "(el) => [...el.querySelectorAll('g.bargroup rect.bar')].every((r) => r.getBoundingClientRect().width > 0)",
        arg=bars.element_handle(), timeout=30_000)
    boxes = _bar_boxes(bars)
    tops = [b["y"] for b in boxes]
    widths = [b["w"] for b in sorted(boxes, key=lambda b: b["y"])]
    assert tops == sorted(tops) or sorted(tops) == tops[::-1]
    for w, v in zip(widths, want["y"], strict=True):
        assert abs(w / widths[0] - v / want["y"][0]) < 0.02, (widths, want["y"])
    # Tick labels (SVG text) in the same order, the markup name as literal text.
    ticks = bars.locator("g.axis text").all_text_contents()
    shown = [t for t in ticks if t in want["x"]]
    label_y = {t: bars.locator("g.axis text", has_text=re.compile(f"^{re.escape(t)}$")).first.bounding_box()["y"]
               for t in shown}
    assert sorted(label_y, key=label_y.get) == want["x"], label_y
    assert "petal <b>width</b> (cm)" in ticks
    screenshot(page, "global_importance", bars)

    # PDP: average, ICE and highlight lines; switching the feature redraws them.
    pdp = _output(page, 2).locator(".nbx-pdp").first
    expect(pdp.locator("path.line").first).to_be_attached(timeout=30_000)
    before = _line_paths(pdp)
    assert len(before) >= 40 + 2 and all(before)  # 40 ICE lines, the average, the highlight
    pdp.locator("select").select_option(label="sepal width (cm)")
    poll_kernel(nb, "print(json.dumps([pdp.feature.value, pdp.x_axis.label]))",
                lambda r: r == [1, "sepal width (cm)"])
    page.wait_for_function(
        "([el, old]) => { const d = [...el.querySelectorAll('path.line')].map((p) => p.getAttribute('d'));"
        " return d.length === old.length && d.some((x, i) => x !== old[i]); }",
        arg=[pdp.element_handle(), before], timeout=30_000)
    after = _line_paths(pdp)
    assert after != before
    # The new feature's ticks are drawn with the new tick format (round values, e.g. 2.75, not "3").
    want_ticks = execute_in_kernel(nb, "print(json.dumps([pdp.x_axis.tick_format, pdp.x_axis.tick_values.tolist()]))")
    decimals = int(re.fullmatch(r"\.(\d)f", want_ticks[0]).group(1))
    expect(pdp.locator("g.axis").first.locator(".tick text")).to_have_text([f"{v:.{decimals}f}" for v in want_ticks[1]])
    expect(pdp.locator("g.axis text.axislabel", has_text="sepal width (cm)")).to_have_count(1)
    screenshot(page, "global_pdp", pdp)

    # A long task: the bar appears after its delay, cancel stops it, the next task completes.
    out = _output(page, 3)
    progress = out.locator(".nbx-progress")
    label = out.locator(".nbx-progress-label")
    expect(progress).to_be_hidden()
    out.locator("button.nbx-test-start").click()
    expect(progress).to_be_visible(timeout=10_000)
    expect(label).to_have_text(re.compile(r"^long task: ([1-9]\d*)/50, \d+\.\d s$"), timeout=10_000)
    screenshot(page, "global_progress_running", out)
    out.locator("button.nbx-cancel").click()
    poll_kernel(nb, "print(json.dumps([t.state for t in tasks]))", lambda s: s == ["cancelled"])
    state = execute_in_kernel(nb, "print(json.dumps(runner.state))")
    assert state["last"] == "cancelled" and 0 < state["done"] < 50
    expect(label).to_have_text("long task: cancelled")
    expect(progress).to_be_hidden(timeout=10_000)
    out.locator("button.nbx-test-start").click()
    expect(progress).to_be_visible(timeout=10_000)
    poll_kernel(nb, "print(json.dumps([t.state for t in tasks]))", lambda s: s == ["cancelled", "done"])
    result = execute_in_kernel(nb, "print(json.dumps([tasks[1].result, runner.state]))")
    assert result[0] == "finished" and result[1]["done"] == 50 and result[1]["last"] == "done"
    expect(progress).to_be_hidden(timeout=10_000)

    # The surrogate and bias views draw (checked by eye in the screenshots).
    surrogate = _output(page, 4).locator(".nbx-surrogate").first
    expect(surrogate.locator("g.bargroup rect.bar")).to_have_count(4, timeout=30_000)
    bias = _output(page, 5).locator(".nbx-bias").first
    expect(bias.locator("g.bargroup rect.bar")).to_have_count(4, timeout=30_000)
    expect(bias.locator(".nbx-bias-table .widget-label").first).to_have_text("metric")
    screenshot(page, "global_surrogate", surrogate)
    screenshot(page, "global_bias", bias)
    errors.assert_none()


def test_global_views_export_draws_bqplot_offline(page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  nbx_bundle: Path) -> None:
    """The notebook exported to HTML: bqplot and bqscales are vendored and the charts draw offline."""
    from nbexplain.export import export_html

    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(NOTEBOOK.parents[2]),
                                                                   os.environ.get("PYTHONPATH")])))
    work = tmp_path / "site"
    work.mkdir()
    (work / NOTEBOOK.name).write_bytes(NOTEBOOK.read_bytes())
    html = export_html(work / NOTEBOOK.name, timeout=180)
    files = {p.name for p in (work / "global_views_files").iterdir()}
    assert {"bqplot.js", "bqscales.js", "anywidget.js"} <= files
    assert '"bqplot": "global_views_files/bqplot"' in html.read_text(encoding="utf-8")

    external: list[str] = []

    def route(r: Any) -> None:
        if urlsplit(r.request.url).scheme == "file":
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    errors = collect_console_errors(page)
    page.goto(html.as_uri())
    expect(page.locator(".nbx-importance g.bargroup rect.bar")).to_have_count(4, timeout=60_000)
    expect(page.locator(".nbx-bias g.bargroup rect.bar")).to_have_count(4, timeout=30_000)
    assert page.locator(".nbx-pdp path.line").count() >= 42
    widths = page.locator(".nbx-importance g.bargroup rect.bar").evaluate_all(
        "(els) => els.map((e) => e.getBoundingClientRect().width)")
    assert min(widths) > 0
    expect(page.locator(".nbx-bias .widget-label", has_text=re.compile("^metric$"))).to_have_count(1)
    screenshot(page, "global_export_offline")
    assert external == []
    errors.assert_none()
