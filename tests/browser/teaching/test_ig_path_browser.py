"""IGPathView in JupyterLab and in an exported page: the alpha slider scrubs in the browser.

``ig_path.ipynb`` (``tests/notebooks/build_ig_path.py``) holds three views: a digit (grey), a
colour picture (its completeness chart waits for the "compute" button) and a table row with
hostile names. The live test moves each slider and checks the canvases against the arrays the
view sent, decoded as the front end decodes them (8-bit frames exactly; float16 maps coloured by
the protocol's arithmetic), the marker, ``alpha`` in Python, the baseline picker and the compute
button (both recompute in Python), the names as text, and light and dark screenshots. The export
test opens the executed notebook as a saved page with no kernel and the network blocked: the
views draw, the pickers are greyed, and the slider still scrubs.
"""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect

from ..apps.test_html_export_browser import (  # noqa: F401 (fixtures)
    _saved_state,
    go_offline,
    kernel_env,
    server,
    site,
    vendored,
    wait_all_drawn,
)
from ..expected import _js_round, lut, max_channel_diff
from ..lab import (
    Notebook,
    canvas_array,
    collect_console_errors,
    execute_in_kernel,
    poll_kernel,
    run_all,
    screenshot,
    set_range,
    wait_for_draws,
)
from ..views.test_theme_browser import _set_theme

pytestmark = [pytest.mark.browser, pytest.mark.notebook("ig_path.ipynb")]

#: What the kernel sends for a view: its frames and its maps decoded as the front end decodes them.
SENT = """
import numpy as _np
from nbexplain.codec import encode_array as _enc

def _as_js(a):  # float16 halves to float32, times the scale in float64 (decodeArray), as float32
    e = _enc(a, 'float16')
    raw = _np.frombuffer(bytes(e['data']), '<f2').astype(_np.float64).reshape(e['shape'])
    return _np.float32(raw * e['scale']).tolist()

print(json.dumps({'frames': None if {v}.frames is None else {v}.frames.tolist(), 'alphas': {v}.alphas.tolist(),
                  'gradients': _as_js({v}.gradients), 'accumulated': _as_js({v}.accumulated),
                  'outputs': {v}.outputs.tolist(), 'baseline': {v}.path.baseline}))
"""


def _sent(nb: Notebook, view: str) -> dict[str, np.ndarray]:
    got = execute_in_kernel(nb, SENT.replace("{v}", view))
    return {k: (np.asarray(v) if isinstance(v, list) else v) for k, v in got.items()}


def _scale(frame: np.ndarray) -> float:
    """The heatmap's scale of one map (docs/PROTOCOL.md): 99th percentile of |v|, else max, else 1."""
    a = np.abs(frame.astype(np.float64)).ravel()
    s = float(np.percentile(a, 99))
    return s if s > 0 else (float(a.max()) if a.max() > 0 else 1.0)


def _rgba(values: np.ndarray, scale: float) -> np.ndarray:
    """Opaque RdBu_r colours of ``values`` on a fixed ``scale`` (the view paints maps without an image)."""
    u = (np.clip(values.astype(np.float64) / scale, -1.0, 1.0) + 1.0) / 2.0
    out = np.full((*values.shape, 4), 255, dtype=np.uint8)
    out[..., :3] = lut("RdBu_r")[_js_round(u * 255).astype(int)]
    return out


def _frame_rgba(frame: np.ndarray) -> np.ndarray:
    rgb = np.repeat(frame[..., None], 3, axis=-1) if frame.ndim == 2 else frame
    return np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255)], axis=-1).astype(np.uint8)


def _view(page: Page, title: str) -> Locator:
    return page.locator(".nbx-ig-path").filter(has=page.locator(".nbx-title", has_text=title)).first


def _check_frame(root: Locator, sent: dict[str, np.ndarray], g: int) -> None:
    """The canvases hold frame ``g``: the picture exactly, the maps in the protocol's colours."""
    assert root.get_attribute("data-frame") == str(g)
    if sent["frames"] is not None:
        np.testing.assert_array_equal(canvas_array(root.locator("canvas.nbx-igp-input")), _frame_rgba(sent["frames"][g]))
    grads, acc = sent["gradients"], sent["accumulated"]
    gradient = canvas_array(root.locator("canvas.nbx-igp-gradient"))
    assert max_channel_diff(gradient, _rgba(grads[g], _scale(grads[g]))) <= 1
    shared = max(_scale(a) for a in acc)  # one scale across alphas
    assert max_channel_diff(canvas_array(root.locator("canvas.nbx-igp-accumulated")), _rgba(acc[g], shared)) <= 1


def _move(root: Locator, g: int) -> None:
    before = int(root.get_attribute("data-draws") or 0)
    set_range(root.locator("input.nbx-igp-alpha"), g)
    wait_for_draws(root, before)


def test_the_alpha_slider_scrubs_the_path_and_reaches_python(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    expect(page.locator(".nbx-ig-path")).to_have_count(3)
    digit = _view(page, "a digit")
    wait_for_draws(digit, 0)
    sent = _sent(nb, "digit")
    assert len(sent["alphas"]) == 33 and sent["frames"].shape == (33, 8, 8)
    _check_frame(digit, sent, 32)  # alpha = 1 at first: the input itself
    marker = digit.locator("line.nbx-igp-marker")
    x_end = float(marker.get_attribute("x1") or "nan")
    screenshot(page, "ig_path_digit_alpha1", digit)

    # 1. The slider: every canvas shows frame 8, the marker moves there, Python gets alpha.
    before = canvas_array(digit.locator("canvas.nbx-igp-input"))
    _move(digit, 8)
    _check_frame(digit, sent, 8)
    assert not np.array_equal(before, canvas_array(digit.locator("canvas.nbx-igp-input"))), "no pixel changed"
    assert float(marker.get_attribute("data-alpha") or "nan") == pytest.approx(sent["alphas"][8], abs=1e-7)
    assert float(marker.get_attribute("x1") or "nan") < x_end
    expect(digit.locator(".nbx-igp-alpha-value")).to_have_text(f"{sent['alphas'][8]:.3f}")
    poll_kernel(nb, "print(json.dumps(digit.alpha))", lambda a: a == pytest.approx(sent["alphas"][8], abs=1e-7))
    # arrow keys reach the slider (data-lm-suppress-shortcuts), one grid step each
    digit.locator("input.nbx-igp-alpha").focus()
    page.keyboard.press("ArrowRight")
    expect(digit).to_have_attribute("data-frame", "9")
    _check_frame(digit, sent, 9)
    ticks = digit.locator("line.nbx-igp-tick")
    expect(ticks).to_have_count(16)  # the rule's 16 points under the curve
    expect(digit.locator("path.nbx-igp-conv-line")).to_have_count(5)
    screenshot(page, "ig_path_digit_light", digit)

    # 2. The baseline picker recomputes in Python; the view draws the new path.
    draws = int(digit.get_attribute("data-draws") or 0)
    digit.locator("select.nbx-igp-baseline").select_option("blur")
    poll_kernel(nb, "print(json.dumps(digit.path.baseline))", lambda b: b == "blur")
    wait_for_draws(digit, draws)
    blurred = _sent(nb, "digit")
    page.wait_for_function("(el) => el.dataset.frame === '9'", arg=digit.element_handle())
    _check_frame(digit, blurred, 9)
    assert not np.array_equal(blurred["frames"][0], sent["frames"][0])

    # 3. The colour picture: RGB frames; its completeness chart comes with the compute button.
    colour = _view(page, "a colour picture")
    wait_for_draws(colour, 0)
    rgb = _sent(nb, "colour")
    assert rgb["frames"].shape == (17, 24, 24, 3)
    _move(colour, 4)
    _check_frame(colour, rgb, 4)
    button = colour.locator("button.nbx-igp-conv-compute")
    expect(colour.locator(".nbx-igp-conv-text")).to_contain_text("not computed yet")
    button.click()
    expect(colour.locator("path.nbx-igp-conv-line")).to_have_count(5, timeout=60_000)
    expect(colour.locator("circle.nbx-igp-conv-chosen")).to_have_count(1)  # riemann_trapezoid at 8 steps
    screenshot(page, "ig_path_colour_light", colour)

    # 4. The table: names and class names stay text; the slider moves the bars.
    table = _view(page, "a table row")
    wait_for_draws(table, 0)
    shown = execute_in_kernel(nb, "_a = table.path.attribution\nprint(json.dumps([names[j] for j in "
                                  "sorted(range(len(_a)), key=lambda j: -abs(float(table.accumulated[-1][j])))[:20]]))")
    rows = table.locator(".nbx-igp-row[data-index] .nbx-igp-name")
    texts = rows.evaluate_all("(els) => els.map((e) => e.textContent)")
    assert sorted(texts) == sorted(shown) and texts[0] == shown[0]  # literal text, the largest first
    assert all("<script>" in n or "<img" in n for n in shown)
    expect(table.locator(".nbx-igp-status")).to_contain_text("output '<b>benign</b>'")
    assert page.evaluate("() => window.__nbx_pwned") is None
    assert table.locator(".nbx-igp-name img, .nbx-igp-name script, .nbx-igp-status b").count() == 0
    bar = table.locator(".nbx-igp-row[data-index] .nbx-igp-abar").first
    width_end = bar.evaluate("(el) => el.style.width")
    _move(table, 3)
    assert bar.evaluate("(el) => el.style.width") != width_end, "the attribution bar did not move"
    screenshot(page, "ig_path_table_light", table)

    # 5. Dark theme: text follows the theme, the data's colours do not change.
    pixels = canvas_array(digit.locator("canvas.nbx-igp-accumulated"))
    try:
        _set_theme(page, "JupyterLab Dark")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
        page.wait_for_timeout(500)
        expect(digit).to_have_class(re.compile(r"\bnbx-theme-dark\b"))
        np.testing.assert_array_equal(canvas_array(digit.locator("canvas.nbx-igp-accumulated")), pixels)
        screenshot(page, "ig_path_digit_dark", digit)
        screenshot(page, "ig_path_table_dark", table)
    finally:
        _set_theme(page, "JupyterLab Light")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=20_000)
    errors.assert_none()


def _state_frames(state: dict, title: str) -> tuple[np.ndarray, np.ndarray]:
    """The saved view's frames and alphas, decoded from the page's widget state (base64 buffers)."""
    model = next(m for m in state.values() if m.get("state", {}).get("_view") == "ig_path"
                 and m["state"].get("title") == title)
    buffers = {tuple(b["path"]): base64.b64decode(b["data"]) for b in model.get("buffers", [])}
    st = model["state"]
    frames = np.frombuffer(buffers[("frames", "data")], np.uint8).reshape(st["frames"]["shape"])
    alphas = np.frombuffer(buffers[("alphas", "data")], "<f4")
    return frames, alphas


@pytest.fixture(scope="module")
def exported(site, kernel_env, vendored):  # noqa: F811 (fixtures of the export tests)
    import shutil

    from nbexplain.export import export_html

    from ..conftest import NOTEBOOKS_DIR

    work = site / "ig_path-src"
    work.mkdir(exist_ok=True)
    shutil.copy2(NOTEBOOKS_DIR / "ig_path.ipynb", work / "ig_path.ipynb")
    html = export_html(work / "ig_path.ipynb", site / "ig_path.html", timeout=300)
    return html, _saved_state(html)


def test_the_slider_scrubs_in_an_exported_page_without_a_kernel(page: Page, exported, server: str) -> None:  # noqa: F811
    html, state = exported
    seen = go_offline(page)
    errors = collect_console_errors(page)
    page.goto(f"{server}/{html.name}")
    wait_all_drawn(page, 3)
    digit = _view(page, "a digit")
    expect(digit).to_have_attribute("data-kernel", "none")
    assert digit.locator("select.nbx-igp-baseline").is_disabled()
    expect(digit.locator(".nbx-kernel-note")).to_contain_text("needs a running kernel")
    frames, alphas = _state_frames(state, "a digit, from black")
    assert frames.shape == (33, 8, 8)
    canvas = digit.locator("canvas.nbx-igp-input")
    np.testing.assert_array_equal(canvas_array(canvas), _frame_rgba(frames[32]))
    x_end = float(digit.locator("line.nbx-igp-marker").get_attribute("x1") or "nan")
    for g in (0, 5, 20):
        _move(digit, g)
        np.testing.assert_array_equal(canvas_array(canvas), _frame_rgba(frames[g]))
        assert float(digit.locator("line.nbx-igp-marker").get_attribute("data-alpha") or "nan") == \
            pytest.approx(alphas[g], abs=1e-7)
    assert float(digit.locator("line.nbx-igp-marker").get_attribute("x1") or "nan") < x_end
    expect(digit.locator("path.nbx-igp-conv-line")).to_have_count(5)  # computed before the page was saved
    colour = _view(page, "a colour picture")
    rgb, _ = _state_frames(state, "a colour picture, from its blur")
    _move(colour, 16)
    np.testing.assert_array_equal(canvas_array(colour.locator("canvas.nbx-igp-input")), _frame_rgba(rgb[16]))
    assert colour.locator("button.nbx-igp-conv-compute").is_disabled()
    screenshot(page, "export-ig-path", digit)
    assert seen.external == [], f"requests left the machine: {seen.external}"
    assert seen.local_failures == [], seen.local_failures
    errors.assert_none()
