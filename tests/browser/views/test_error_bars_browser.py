"""Error bars in JupyterLab: each sampled value's whisker spans ±2 standard errors on the bar's own
scale (DOM geometry against the values), the tooltip and legend say so, both modes, the compare
view, whiskers cleared with new values, the dark theme."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from ..lab import (
    Notebook,
    collect_console_errors,
    execute_in_kernel,
    run_all,
    screenshot,
    wait_for_draws,
)
from .test_theme_browser import _set_theme

pytestmark = [pytest.mark.browser, pytest.mark.notebook("error_bars.ipynb")]

PX = 1.0  # layout rounding: whisker ends within a pixel of where the values put them


def _boxes(root: Locator) -> dict[int, dict[str, dict[str, float]]]:
    """Per shown feature row: the track, bar and whisker boxes (page pixels); whisker None when hidden."""
    return root.evaluate(
        """(el) => Object.fromEntries([...el.querySelectorAll('.nbx-bar-row[data-index]')].map((row) => {
            const box = (e) => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right}; };
            const w = row.querySelector('.nbx-bar-whisker');
            return [row.dataset.index, {track: box(row.querySelector('.nbx-bar-track')),
                                        bar: box(row.querySelector('.nbx-bar')),
                                        whisker: w.hidden ? null : box(w)}];
        }))"""
    )


def _check_geometry(root: Locator, values: np.ndarray, errors: np.ndarray, shown: list[int], mode: str,
                    base: float) -> None:
    """Every shown row's whisker is [end - 2 se, end + 2 se] on a track that holds all of them."""
    if mode == "bars":
        ends = {i: values[i] for i in shown}
        lo = min(0.0, *(values[i] for i in shown))
        hi = max(0.0, *(values[i] for i in shown))
    else:
        total, ends = base, {}
        for i in shown:
            total += values[i]
            ends[i] = total
        rest = values.sum() - sum(values[i] for i in shown)
        lo = min(base, *ends.values(), total + rest)
        hi = max(base, *ends.values(), total + rest)
    lo = min(lo, *(ends[i] - 2 * errors[i] for i in shown))
    hi = max(hi, *(ends[i] + 2 * errors[i] for i in shown))
    boxes = _boxes(root)
    assert sorted(int(k) for k in boxes) == sorted(shown)
    for i in shown:
        b = boxes[str(i)]
        track = b["track"]

        def x(value: float, track: dict = track) -> float:
            return track["left"] + (value - lo) / (hi - lo) * (track["right"] - track["left"])

        w = b["whisker"]
        assert w is not None, f"feature {i} has a standard error but no whisker"
        assert w["left"] == pytest.approx(x(ends[i] - 2 * errors[i]), abs=PX), (mode, i)
        assert w["right"] == pytest.approx(x(ends[i] + 2 * errors[i]), abs=PX), (mode, i)
        far = b["bar"]["right"] if (values[i] >= 0) else b["bar"]["left"]  # the bar's end the value moves
        assert (w["left"] + w["right"]) / 2 == pytest.approx(far, abs=PX), (mode, i)
        assert track["left"] - PX <= w["left"] and w["right"] <= track["right"] + PX  # never cut at the edge


def _line_luminance(whisker: Locator) -> float:
    rgb = whisker.evaluate("(e) => getComputedStyle(e).borderTopColor")
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_whiskers_draw_two_standard_errors(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    panel = page.locator(".jp-NotebookPanel:visible")
    root = panel.locator(".nbx-feature-bars").first
    wait_for_draws(root, 0)
    state = execute_in_kernel(nb, "print(json.dumps({'v': bars.values.tolist(), 'e': bars.errors.tolist(), "
                                  "'base': bars.base_value, 'se': shap_e.diagnostics['std_error'][0].tolist()}))")
    values, se = np.array(state["v"], np.float32).astype(float), np.array(state["e"], np.float32).astype(float)
    np.testing.assert_allclose(se, state["se"], rtol=1e-6)  # the explanation's standard errors, unchanged
    assert (se > 0).all()
    shown = sorted(np.argsort(-np.abs(values), kind="stable")[:8].tolist())

    # legend and geometry, plain bars
    expect(root.locator(".nbx-error-note")).to_have_text("whiskers: ±2 standard errors (about 95%)")
    expect(root.locator(".nbx-bar-row[data-index] .nbx-bar-whisker:not([hidden])")).to_have_count(8)
    expect(root.locator(".nbx-bar-rest .nbx-bar-whisker")).to_be_hidden()  # the summed rest has none
    _check_geometry(root, values, se, shown, "bars", state["base"])
    expect(root.locator(".nbx-bar-row[data-index='3'] .nbx-bar-name")).to_have_text(
        '<img src=x onerror="window.__nbx_pwned=1">')  # a name is text, never markup

    # tooltip: the value, its standard error and the interval the whisker shows
    top = int(np.argmax(np.abs(values)))
    root.locator(f".nbx-bar-row[data-index='{top}']").hover()
    tip = root.locator(".nbx-tooltip")
    expect(tip).to_be_visible()
    m = re.search(r"attribution (\S+) ± (\S+) \(standard error; whisker ±2 SE: (\S+) to (\S+)\)", tip.inner_text())
    assert m, tip.inner_text()
    assert float(m.group(2)) == pytest.approx(se[top], rel=0.01)
    assert float(m.group(3)) == pytest.approx(values[top] - 2 * se[top], rel=0.01, abs=1e-3)
    assert float(m.group(4)) == pytest.approx(values[top] + 2 * se[top], rel=0.01, abs=1e-3)
    screenshot(page, "error_bars_light", root)

    # waterfall: the whisker sits on each step's running total
    root.locator("select.nbx-mode").select_option("waterfall")
    expect(root).to_have_class(re.compile(r"nbx-mode-waterfall"))
    order = np.argsort(-np.abs(values), kind="stable")[:8].tolist()
    _check_geometry(root, values, se, order, "waterfall", state["base"])
    root.locator("select.nbx-mode").select_option("bars")

    # the compare view: both sampled methods carry whiskers (KernelSHAP's error, LIME's spread over seeds)
    cv_bars = panel.locator(".nbx-feature-bars").nth(1), panel.locator(".nbx-feature-bars").nth(2)
    for view in cv_bars:
        wait_for_draws(view, 0)
        expect(view.locator(".nbx-bar-row[data-index] .nbx-bar-whisker:not([hidden])")).to_have_count(6)
        expect(view.locator(".nbx-error-note")).to_be_visible()

    # dark theme: the whiskers are drawn in the foreground colour, light on dark
    whisker = root.locator(".nbx-bar-row[data-index] .nbx-bar-whisker:not([hidden])").first
    assert _line_luminance(whisker) < 0.3
    try:
        _set_theme(page, "JupyterLab Dark")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
        page.wait_for_timeout(500)  # theme CSS swap
        assert _line_luminance(whisker) > 0.6
        _check_geometry(root, values, se, shown, "bars", state["base"])
        screenshot(page, "error_bars_dark", root)
        screenshot(page, "error_bars_dark_compare", panel.locator(".nbx-feature-bars").nth(1))
    finally:
        _set_theme(page, "JupyterLab Light")

    # new values without errors: the old whiskers go (they belonged to the old values)
    execute_in_kernel(nb, "bars.update(values=bars.values * 0.5)")
    expect(root.locator(".nbx-bar-whisker:not([hidden])")).to_have_count(0)
    expect(root.locator(".nbx-error-note")).to_be_hidden()
    assert page.evaluate("() => window.__nbx_pwned") is None
    errors.assert_none()
