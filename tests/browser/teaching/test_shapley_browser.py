"""ShapleyView in JupyterLab: the lattice draws, clicks reach Python and back, the waterfall sums.

``shapley.ipynb`` (``tests/notebooks/build_shapley.py``) holds three views: a lattice of four
groups (two hostile group names), the full lattice of ten features, and KernelSHAP's convergence
on twelve features. The test checks the lattice's geometry against the numbers in the kernel,
clicks a coalition and a feature (and sets them from Python), the efficiency waterfall's steps
(each starts where the last ended, the last ends at the prediction, on screen too), the
convergence chart's bands and exact line, the names as text, and light and dark screenshots.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from ..expected import _js_round, lut
from ..lab import (
    Notebook,
    collect_console_errors,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    wait_for_draws,
)
from ..views.test_theme_browser import _set_theme

pytestmark = [pytest.mark.browser, pytest.mark.notebook("shapley.ipynb")]


def _view(page: Page, title: str) -> Locator:
    return page.locator(".nbx-shapley").filter(has=page.locator(".nbx-title", has_text=title)).first


def _boxes(loc: Locator) -> list[dict[str, float]]:
    return loc.evaluate_all("(els) => els.map((e) => { const b = e.getBoundingClientRect(); "
                            "return {x: b.x, y: b.y, w: b.width, h: b.height, c: Number(e.dataset.c)}; })")


def _check_waterfall(root: Locator, base: float, prediction: float, m: int) -> None:
    """Each step starts where the last ended, the last ends at the prediction, on screen too."""
    rows = root.locator("g.nbx-shap-wf-row[data-start]")
    steps = rows.evaluate_all("(els) => els.map((e) => [Number(e.dataset.start), Number(e.dataset.end), "
                              "Number(e.dataset.index)])")
    assert steps[0][0] == pytest.approx(base, abs=1e-5)
    for (_, end), (start, _) in zip([s[:2] for s in steps], [s[:2] for s in steps[1:]], strict=False):
        assert start == pytest.approx(end, abs=1e-9)
    assert steps[-1][1] == pytest.approx(prediction, abs=1e-4)
    assert sorted(int(s[2]) for s in steps if s[2] >= 0) == list(range(m)) or len(steps) == 12
    wf = root.locator("svg.nbx-shap-waterfall")
    assert float(wf.locator("line.nbx-shap-wf-base").get_attribute("data-value") or "nan") == pytest.approx(base, abs=1e-5)
    # geometry: the first bar leaves the base line, the last bar reaches the prediction line
    first = rows.first.locator("rect.nbx-shap-wf-bar").bounding_box()
    last = rows.last.locator("rect.nbx-shap-wf-bar").bounding_box()
    base_x = wf.locator("line.nbx-shap-wf-base").bounding_box()["x"]
    pred_x = wf.locator("line.nbx-shap-wf-prediction").bounding_box()["x"]
    assert min(abs(first["x"] - base_x), abs(first["x"] + first["width"] - base_x)) < 2.5
    assert min(abs(last["x"] - pred_x), abs(last["x"] + last["width"] - pred_x)) < 2.5


def test_the_lattice_draws_and_the_selection_goes_both_ways(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    expect(page.locator(".nbx-shapley")).to_have_count(3)
    small = _view(page, "four groups")
    wait_for_draws(small, 0)
    got = execute_in_kernel(nb, "print(json.dumps({'values': small.lattice.values.tolist(), 'names': small.names, "
                                "'shapley': small.lattice.shapley.tolist(), 'base': small.base_value, "
                                "'prediction': small.prediction}))")
    values, names = np.asarray(got["values"]), got["names"]
    assert len(values) == 16 and small.get_attribute("data-mode") == "lattice"

    # 1. The lattice: 16 nodes, one row per size top to bottom, the values in data-value.
    nodes = small.locator("circle.nbx-shap-node")
    expect(nodes).to_have_count(16)
    shown = np.array(nodes.evaluate_all("(els) => els.map((e) => Number(e.dataset.value))"))
    np.testing.assert_allclose(shown, values, rtol=1e-5, atol=1e-5)
    boxes = _boxes(nodes)
    centre_y = {b["c"]: b["y"] + b["h"] / 2 for b in boxes}
    for c in range(16):
        for d in range(16):
            if bin(c).count("1") < bin(d).count("1"):
                assert centre_y[c] < centre_y[d]
    svg_box = small.locator("svg.nbx-shap-lattice").bounding_box()
    assert all(b["w"] > 8 and svg_box["x"] <= b["x"] and b["x"] + b["w"] <= svg_box["x"] + svg_box["width"] + 0.5
               for b in boxes)
    expect(small.locator("line.nbx-shap-link")).to_have_count(32)  # 4 * 2**3 edges, drawn faintly
    # every node's colour: RdBu_r at v(S) - v({}) on the scale of the largest |difference| (base = middle)
    centred = values - values[0]
    scale = float(np.abs(centred).max())
    want = lut("RdBu_r")[_js_round((np.clip(centred / scale, -1, 1) + 1) / 2 * 255).astype(int)]
    fills = nodes.evaluate_all("(els) => els.map((e) => e.getAttribute('fill'))")
    for c, fill in enumerate(fills):
        assert [int(v) for v in re.findall(r"\d+", fill)] == want[c].tolist(), (c, fill)
    screenshot(page, "shapley_lattice_light", small)

    # 2. Click a coalition: Python gets its members; the read-out names them as text.
    small.locator("circle.nbx-shap-node[data-c='5']").click()
    poll_kernel(nb, "print(json.dumps(small.coalition))", lambda c: c == [0, 2])
    expect(small).to_have_attribute("data-coalition", "5")
    expect(small.locator(".nbx-shap-coalition")).to_contain_text(f"{{{names[0]}, {names[2]}}}")
    expect(small.locator("circle.nbx-shap-node.selected")).to_have_count(1)

    # 3. Pick a feature (a group): its 8 edges, the weight table ends at its Shapley value.
    small.locator(".nbx-shap-feature[data-index='1']").click()
    poll_kernel(nb, "print(json.dumps(small.feature))", lambda f: f == 1)
    expect(small.locator("line.nbx-shap-edge")).to_have_count(8)
    total = float(small.locator(".nbx-shap-total-value").get_attribute("data-value") or "nan")
    assert total == pytest.approx(got["shapley"][1], rel=1e-4, abs=1e-5)
    contributions = small.locator("line.nbx-shap-edge").evaluate_all(
        "(els) => els.map((e) => [Number(e.dataset.from), Number(e.dataset.to), Number(e.dataset.contribution)])")
    for a, b, d in contributions:
        assert d == pytest.approx(values[int(b)] - values[int(a)], abs=1e-4)
    sel = execute_in_kernel(nb, "print(json.dumps({k: v for k, v in small.selection().items()}))")
    assert sel["feature"] == names[1] and sel["coalition"] == [names[0], names[2]]
    expect(small.locator(".nbx-shap-coalition")).to_contain_text(f"{names[1]} joins")
    screenshot(page, "shapley_lattice_feature_light", small.locator(".nbx-shap-lattice-box"))

    # 4. From Python to the browser.
    draws = int(small.get_attribute("data-draws") or 0)
    execute_in_kernel(nb, "small.feature = 3\nsmall.coalition = [1]")
    expect(small).to_have_attribute("data-feature", "3")
    expect(small).to_have_attribute("data-coalition", "2")
    assert int(small.get_attribute("data-draws") or 0) > draws

    # 5. The waterfall sums from the base value to the prediction; a click on a bar picks that player.
    _check_waterfall(small, got["base"], got["prediction"], 4)
    small.locator("g.nbx-shap-wf-player[data-index='2']").click()
    poll_kernel(nb, "print(json.dumps(small.feature))", lambda f: f == 2)

    # 6. Hostile names stay text.
    assert page.evaluate("() => window.__nbx_pwned") is None
    assert small.locator("img, script").count() == 0
    chips = small.locator(".nbx-shap-feature-name").evaluate_all("(els) => els.map((e) => e.textContent)")
    assert chips == names and any("<img" in n for n in names)
    # four players: nodes labelled by letter, each chip gives its letter
    expect(small.locator(".nbx-shap-letter")).to_have_text(["A", "B", "C", "D"])
    labels = small.locator("text.nbx-shap-node-label").evaluate_all("(els) => els.map((e) => e.textContent)")
    assert labels[0] == "{}" and "A,C" in labels and labels[-1] == "A,B,C,D"

    # 7. Ten features: 1024 nodes inside the picture, none on top of another.
    full = _view(page, "ten features")
    wait_for_draws(full, 0)
    expect(full.locator("circle.nbx-shap-node")).to_have_count(1024)
    fb = _boxes(full.locator("circle.nbx-shap-node"))
    centres = {(round(b["x"] + b["w"] / 2, 1), round(b["y"] + b["h"] / 2, 1)) for b in fb}
    assert len(centres) == 1024
    fbox = full.locator("svg.nbx-shap-lattice").bounding_box()
    assert all(fbox["x"] - 0.5 <= b["x"] and b["x"] + b["w"] <= fbox["x"] + fbox["width"] + 0.5 for b in fb)
    fvals = execute_in_kernel(nb, "print(json.dumps([full.base_value, full.prediction]))")
    _check_waterfall(full, fvals[0], fvals[1], 10)
    full.locator(".nbx-shap-feature[data-index='2']").click()
    expect(full.locator("line.nbx-shap-edge")).to_have_count(512)
    screenshot(page, "shapley_full_light", full.locator(".nbx-shap-stage"))

    # 8. Twelve features: the convergence chart with its bands and the exact values.
    wide = _view(page, "twelve features")
    wait_for_draws(wide, 0)
    expect(wide).to_have_attribute("data-mode", "convergence")
    conv = execute_in_kernel(nb, "_c = wide.convergence_result\nprint(json.dumps({'budgets': _c.budgets.tolist(), "
                                 "'exact': _c.exact.tolist(), 'lo': _c.band()[0].tolist(), 'hi': _c.band()[1].tolist(), "
                                 "'base': _c.base_value, 'prediction': _c.prediction}))")
    k = len(conv["budgets"])
    shown_index = int(wide.get_attribute("data-shown") or -1)
    assert shown_index == int(np.argmax(np.abs(conv["exact"])))
    points = wide.locator("circle.nbx-shap-conv-point")
    expect(points).to_have_count(k)
    lo = np.array(points.evaluate_all("(els) => els.map((e) => Number(e.dataset.lo))"))
    hi = np.array(points.evaluate_all("(els) => els.map((e) => Number(e.dataset.hi))"))
    want_lo, want_hi = np.asarray(conv["lo"], dtype=float)[:, shown_index], np.asarray(conv["hi"], dtype=float)[:, shown_index]
    ok = np.isfinite(want_lo)
    np.testing.assert_allclose(lo[ok], want_lo[ok], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(hi[ok], want_hi[ok], rtol=1e-4, atol=1e-5)
    band = wide.locator("path.nbx-shap-conv-band")
    assert (band.get_attribute("d") or "").endswith("Z") and band.bounding_box()["height"] > 0
    expect(wide.locator("path.nbx-shap-conv-line.shown")).to_have_count(1)
    plot = wide.locator("rect.nbx-shap-frame").bounding_box()
    for box in _boxes(points):  # the axis is zoomed on the shown player: every point inside the plot
        assert plot["y"] - 0.5 <= box["y"] and box["y"] + box["h"] <= plot["y"] + plot["height"] + 0.5
    exact_line = wide.locator("line.nbx-shap-conv-exact")
    assert float(exact_line.get_attribute("data-value") or "nan") == pytest.approx(conv["exact"][shown_index], abs=1e-5)
    wide.locator("tr.nbx-shap-conv-row[data-index='4']").click()
    poll_kernel(nb, "print(json.dumps(wide.feature))", lambda f: f == 4)
    expect(wide).to_have_attribute("data-shown", "4")
    _check_waterfall(wide, conv["base"], conv["prediction"], 12)
    screenshot(page, "shapley_convergence_light", wide.locator(".nbx-shap-conv-box"))
    screenshot(page, "shapley_convergence_waterfall_light", wide.locator(".nbx-shap-efficiency-box"))

    # 9. Dark theme: text follows the theme, the data's colours do not change.
    fill = nodes.nth(3).get_attribute("fill")
    try:
        _set_theme(page, "JupyterLab Dark")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
        page.wait_for_timeout(500)
        expect(small).to_have_class(re.compile(r"\bnbx-theme-dark\b"))
        assert nodes.nth(3).get_attribute("fill") == fill
        colour = small.locator(".nbx-shap-wf-name").first.evaluate("(e) => getComputedStyle(e).fill")
        assert colour not in ("rgba(0, 0, 0, 0.87)", "rgb(0, 0, 0)"), colour  # light text on the dark page
        screenshot(page, "shapley_lattice_dark", small.locator(".nbx-shap-lattice-box"))
        screenshot(page, "shapley_waterfall_dark", small.locator(".nbx-shap-efficiency-box"))
        screenshot(page, "shapley_convergence_dark", wide.locator(".nbx-shap-conv-box"))
    finally:
        _set_theme(page, "JupyterLab Light")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=20_000)
    errors.assert_none()
