"""GradCAMLayersView in JupyterLab: the stage slider scrubs the maps in the browser.

``gradcam_layers.ipynb`` (``tests/notebooks/build_gradcam_layers.py``) holds two views: a digit through
a small CNN's three stages (8x8, 4x4, 2x2) and a tiny network whose coarse last stage is all 0. The
test checks both canvases against the arrays the view sent, decoded as the front end decodes them
(the map over the picture, and the map at the layer's own resolution, each on its stage's own
scale of 1), the stage's name and resolution in words, the slider moving while the kernel is busy
(no round trip), ``stage`` reaching Python, keyboard and chart picks, the all-zero stage's note,
and light and dark screenshots, with no console errors. The export test opens the executed notebook
as a saved page with no kernel and the network blocked: the views draw and the slider still scrubs.
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
    run_cell_async,
    screenshot,
    set_range,
    wait_for_draws,
    wait_kernel_idle,
)
from ..views.test_theme_browser import _set_theme

pytestmark = [pytest.mark.browser, pytest.mark.notebook("gradcam_layers.ipynb")]

#: What the kernel sent for a view, decoded as the front end decodes it.
SENT = """
import numpy as _np
from nbexplain.codec import encode_array as _enc

def _as_js(a):  # float16 halves to float32, times the scale in float64 (decodeArray), as float32
    e = _enc(a, 'float16')
    raw = _np.frombuffer(bytes(e['data']), '<f2').astype(_np.float64).reshape(e['shape'])
    return _np.float32(raw * e['scale']).tolist()

print(json.dumps({'maps': _as_js({v}.maps), 'cams': _as_js({v}.cams), 'cam_shapes': {v}.cam_shapes,
                  'image': {v}.image.tolist(), 'names': {v}.stage_names, 'resolutions': {v}.resolutions,
                  'notes': {v}.notes, 'default': {v}.default_stage, 'stage': {v}.stage}))
"""

#: The visible notebook's kernel status, as its execution indicator shows it.
STATUS = ("[...document.querySelectorAll('.jp-NotebookPanel')].find((p) => p.offsetParent !== null)"
          "?.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status")


def _sent(nb: Notebook, view: str) -> dict:
    got = execute_in_kernel(nb, SENT.replace("{v}", view))
    for k in ("maps", "cams", "image"):
        got[k] = np.asarray(got[k])
    return got


def _colours(values: np.ndarray) -> np.ndarray:
    """viridis of values already divided by the stage's peak (the view's fixed scale of 1)."""
    return lut("viridis")[_js_round(np.clip(values.astype(np.float64), 0, 1) * 255).astype(int)].astype(np.float64)


def _overlay(sent: dict, s: int, opacity: float = 0.5) -> np.ndarray:
    img = sent["image"].astype(np.float64)[..., None].repeat(3, -1)
    out = np.full((*img.shape[:2], 4), 255, np.uint8)
    out[..., :3] = np.clip(_js_round((1 - opacity) * img + opacity * _colours(sent["maps"][s])), 0, 255)
    return out


def _raw(sent: dict, s: int) -> np.ndarray:
    sizes = [h * w for h, w in sent["cam_shapes"]]
    start = sum(sizes[:s])
    values = sent["cams"][start:start + sizes[s]].reshape(sent["cam_shapes"][s])
    out = np.full((*values.shape, 4), 255, np.uint8)
    out[..., :3] = _colours(values)
    return out


def _view(page: Page, title: str) -> Locator:
    return page.locator(".nbx-layer-maps").filter(has=page.locator(".nbx-title", has_text=title)).first


def _check_stage(root: Locator, sent: dict, s: int) -> None:
    """The canvases, the name and the resolution are stage ``s``'s."""
    expect(root).to_have_attribute("data-stage", str(s))
    overlay = canvas_array(root.locator("canvas.nbx-lmap-overlay"))
    assert overlay.shape == (8, 8, 4) and max_channel_diff(overlay, _overlay(sent, s)) <= 1
    raw = canvas_array(root.locator("canvas.nbx-lmap-raw"))
    assert raw.shape[:2] == tuple(sent["cam_shapes"][s]) and max_channel_diff(raw, _raw(sent, s)) <= 1
    expect(root.locator(".nbx-lmap-kind")).to_have_text("layer")
    expect(root.locator(".nbx-lmap-name")).to_have_text(sent["names"][s])
    h, w = sent["resolutions"][s]
    cells = "1 x 1 cell" if h * w == 1 else f"{h} x {w} cells"
    expect(root.locator(".nbx-lmap-resolution")).to_contain_text(f"{cells} for the 8 x 8 input")
    expect(root.locator(".nbx-lmap-stage-value")).to_have_text(f"{s + 1} / {len(sent['names'])}")
    if s == sent["default"]:
        expect(root.locator(".nbx-lmap-usual-badge")).to_be_visible()
    else:
        expect(root.locator(".nbx-lmap-usual-badge")).to_be_hidden()


def _move(root: Locator, s: int) -> None:
    before = int(root.get_attribute("data-draws") or 0)
    set_range(root.locator("input.nbx-lmap-stage"), s)
    wait_for_draws(root, before)


def test_the_stage_slider_scrubs_the_maps_and_reaches_python(page: Page, nb: Notebook) -> None:
    errors = collect_console_errors(page)
    run_all(nb)
    expect(page.locator(".nbx-layer-maps")).to_have_count(2)
    digit = _view(page, "a digit through the layers")
    wait_for_draws(digit, 0)
    sent = _sent(nb, "digit")
    assert sent["names"] == ["0", "3", "6"] and sent["resolutions"] == [[8, 8], [4, 4], [2, 2]]
    assert sent["default"] == 2 and sent["stage"] == 2
    _check_stage(digit, sent, 2)  # the usual Grad-CAM layer first
    expect(digit.locator(".nbx-lmap-stage-note")).to_contain_text("too coarse to localise")
    expect(digit.locator("circle.nbx-lmap-point")).to_have_count(3)
    screenshot(page, "gradcam_layers_digit_light", digit)

    # 1. The slider scrubs in the browser: it redraws while the kernel is busy, then Python catches up.
    run_cell_async(nb, "import time; time.sleep(6)")
    page.wait_for_function(f"() => ({STATUS}) === 'busy'", timeout=10_000)
    before = canvas_array(digit.locator("canvas.nbx-lmap-overlay"))
    _move(digit, 0)
    _check_stage(digit, sent, 0)
    assert page.evaluate(f"() => {STATUS}") == "busy", "the slider waited for the kernel"
    assert not np.array_equal(before, canvas_array(digit.locator("canvas.nbx-lmap-overlay"))), "no pixel changed"
    wait_kernel_idle(nb)
    poll_kernel(nb, "print(json.dumps([digit.stage, digit.stage_name]))", lambda v: v == [0, "0"])

    # 2. Arrow keys reach the slider; a click on the chart picks a stage; Python's choice draws too.
    digit.locator("input.nbx-lmap-stage").focus()
    page.keyboard.press("ArrowRight")
    _check_stage(digit, sent, 1)
    digit.locator("circle.nbx-lmap-point[data-index='2']").click()
    _check_stage(digit, sent, 2)
    poll_kernel(nb, "print(json.dumps(digit.stage))", lambda v: v == 2)
    execute_in_kernel(nb, "digit.stage = 1\nprint(json.dumps(1))")
    _check_stage(digit, sent, 1)
    ring = digit.locator("circle.nbx-lmap-chosen")
    expect(ring).to_have_attribute("data-index", "1")
    point = digit.locator("circle.nbx-lmap-point[data-index='1']")
    assert float(ring.get_attribute("cx") or "nan") == pytest.approx(float(point.get_attribute("cx") or "nan"), abs=0.01)

    # 3. The empty coarse stage says so in words; its map is all at the bottom of the scale.
    empty = _view(page, "an empty coarse stage")
    wait_for_draws(empty, 0)
    zero = _sent(nb, "empty")
    assert zero["names"] == ["0", "3"] and zero["stage"] == 1 and not zero["cams"][64:].any()
    _check_stage(empty, zero, 1)
    note = empty.locator(".nbx-lmap-stage-note")
    expect(note).to_be_visible()
    expect(note).to_have_text(zero["notes"][1])
    assert zero["notes"][1].startswith("Grad-CAM is 0 in 4 of 4 cells of layer '3' (2x2)")
    expect(note).to_contain_text("ReLU sets negatives to 0")
    expect(empty.locator(".nbx-legend")).to_contain_text("this stage's map is 0 everywhere")
    hollow = empty.locator("circle.nbx-lmap-point-none")  # no area for an all-0 map: a hollow point on the axis
    expect(hollow).to_have_count(1)
    expect(hollow).to_have_attribute("data-index", "1")
    assert float(empty.locator("circle.nbx-lmap-chosen").get_attribute("cy") or "nan") == \
        pytest.approx(float(hollow.get_attribute("cy") or "nan"), abs=0.01)
    _move(empty, 0)
    expect(note).to_be_hidden()  # the first stage's map is fine: no note
    _move(empty, 1)
    screenshot(page, "gradcam_layers_empty_light", empty)

    # 4. Dark theme: the text follows the theme, the data's colours do not change.
    pixels = canvas_array(digit.locator("canvas.nbx-lmap-overlay"))
    try:
        _set_theme(page, "JupyterLab Dark")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
        page.wait_for_timeout(500)
        expect(digit).to_have_class(re.compile(r"\bnbx-theme-dark\b"))
        np.testing.assert_array_equal(canvas_array(digit.locator("canvas.nbx-lmap-overlay")), pixels)
        screenshot(page, "gradcam_layers_digit_dark", digit)
        screenshot(page, "gradcam_layers_empty_dark", empty)
    finally:
        _set_theme(page, "JupyterLab Light")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=20_000)
    errors.assert_none()


def _state_sent(state: dict, title: str) -> dict:
    """The saved view's arrays, decoded from the page's widget state as the front end decodes them."""
    model = next(m for m in state.values() if m.get("state", {}).get("_view") == "layer_maps"
                 and m["state"].get("title") == title)
    buffers = {tuple(b["path"]): base64.b64decode(b["data"]) for b in model.get("buffers", [])}
    st = model["state"]

    def floats(name: str) -> np.ndarray:
        enc = st[name]
        raw = np.frombuffer(buffers[(name, "data")], "<f2" if enc["dtype"] == "float16" else "<f4")
        return np.float32(raw.astype(np.float64) * enc.get("scale", 1.0)).reshape(enc["shape"])

    image = np.frombuffer(buffers[("image", "data")], np.uint8).reshape(st["image"]["shape"])
    return {"maps": floats("maps"), "cams": floats("cams"), "cam_shapes": st["cam_shapes"], "image": image,
            "names": st["stage_names"], "resolutions": st["resolutions"], "notes": st["notes"],
            "default": st["default_stage"], "stage": st["stage"]}


@pytest.fixture(scope="module")
def exported(site, kernel_env, vendored):  # noqa: F811 (fixtures of the export tests)
    import shutil

    from nbexplain.export import export_html

    from ..conftest import NOTEBOOKS_DIR

    work = site / "gradcam_layers-src"
    work.mkdir(exist_ok=True)
    shutil.copy2(NOTEBOOKS_DIR / "gradcam_layers.ipynb", work / "gradcam_layers.ipynb")
    html = export_html(work / "gradcam_layers.ipynb", site / "gradcam_layers.html", timeout=300)
    return html, _saved_state(html)


def test_the_slider_scrubs_in_an_exported_page_without_a_kernel(page: Page, exported, server: str) -> None:  # noqa: F811
    html, state = exported
    seen = go_offline(page)
    errors = collect_console_errors(page)
    page.goto(f"{server}/{html.name}")
    wait_all_drawn(page, 2)
    digit = _view(page, "a digit through the layers")
    expect(digit).to_have_attribute("data-kernel", "none")
    sent = _state_sent(state, "a digit through the layers")
    assert sent["names"] == ["0", "3", "6"] and sent["stage"] == 2
    _check_stage(digit, sent, 2)
    for s in (0, 1, 2):
        _move(digit, s)
        _check_stage(digit, sent, s)
    digit.locator("circle.nbx-lmap-point[data-index='0']").click()
    _check_stage(digit, sent, 0)
    empty = _view(page, "an empty coarse stage")
    expect(empty.locator(".nbx-lmap-stage-note")).to_contain_text("Grad-CAM is 0 in 4 of 4 cells")
    screenshot(page, "export-gradcam-layers", digit)
    assert seen.external == [], f"requests left the machine: {seen.external}"
    assert seen.local_failures == [], seen.local_failures
    errors.assert_none()
