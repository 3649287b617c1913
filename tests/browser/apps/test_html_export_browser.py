"""``nbexplain.export``: notebooks saved as HTML draw their widgets offline, with no kernel.

Notebooks are exported once per module (executed with nbclient on this interpreter's kernel):
``notebooks/quickstart.ipynb`` and ``dashboard.ipynb`` (their runs shared per session by the
``notebook_runs`` fixture, tests/notebook_runs.py) and a tiny one holding one Heatmap of a known
8 x 8 map. Each page
is opened in headless Chromium from a loopback ``http.server`` (the tiny one from ``file://``
too) while a route handler aborts, and records, every request to any other host: that list
must stay empty. The tests check that every ``.nbx-root`` draws, that the heatmap's canvas holds
the colours the live view draws (the protocol's arithmetic, ``expected.heatmap_rgba``, which
``test_heatmap_browser`` checks the live view against), that a browser-side control redraws
without a kernel, that ipywidgets (SampleExplorer's slider row) render and stay linked, and that
the console shows no error. Screenshots: ``test-artifacts/screenshots/export-*.png``.

The tests without the ``browser`` mark need no browser: they check the files ``export_html``
writes and its error messages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import numpy as np
import pytest
from notebook_runs import NotebookRuns
from playwright.sync_api import Page, expect

from nbexplain import export as nbx_export
from nbexplain.export import (
    MissingWidgetStateError,
    NotebookExecutionError,
    VendoredFilesMissingError,
    export_html,
)

from ..expected import heatmap_rgba, lut, max_channel_diff
from ..lab import canvas_array, collect_console_errors, screenshot, set_range, wait_for_draws
from ..offline import go_offline, serve_folder, wait_all_drawn
from ..offline import saved_state as _saved_state

REPO_ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = REPO_ROOT / "notebooks" / "quickstart.ipynb"
DASHBOARD = REPO_ROOT / "notebooks" / "dashboard.ipynb"
NBX_VIEWS = {"heatmap", "feature_bars", "sample_panel"}  # the quickstart's views
DASHBOARD_VIEWS = {"sample_table", "text_tokens", "beeswarm", "confusion_matrix"}
STATE_MIME = "application/vnd.jupyter.widget-state+json"
VENDORED = {"require.js", "embed-amd.js", "anywidget.js"}

# The tiny notebook: one Heatmap of a known map (exact -1 and +1 at two corners, a NaN cell).
TINY_SOURCE = """\
import numpy as np
import nbexplain

values = np.linspace(-1.0, 1.0, 64, dtype=np.float32).reshape(8, 8)
values[3, 4] = np.nan
rows, cols = np.mgrid[0:8, 0:8]
image = ((rows * 29 + cols * 11) % 256).astype(np.uint8)
hm = nbexplain.Heatmap(values, image=image, cmap="RdBu_r", opacity=0.5, clip_percentile=100.0,
                       precision="float32", width=240, title="known 8x8 map")
hm
"""


def _tiny_map() -> tuple[np.ndarray, np.ndarray]:
    """The same map and image as TINY_SOURCE, computed here."""
    values = np.linspace(-1.0, 1.0, 64, dtype=np.float32).reshape(8, 8)
    values[3, 4] = np.nan
    rows, cols = np.mgrid[0:8, 0:8]
    image = ((rows * 29 + cols * 11) % 256).astype(np.uint8)
    return values.astype(np.float64), image


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A ``python3`` kernelspec that starts this interpreter, first on the Jupyter path."""
    home = tmp_path_factory.mktemp("export-kernel")
    spec_dir = home / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (nbexplain export tests)",
        "language": "python",
    }))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(home / "jupyter"))
        mp.setenv("IPYTHONDIR", str(home / "ipython"))
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
        yield


@pytest.fixture(scope="module")
def vendored(nbx_bundle: Path) -> dict[str, Path]:
    """The vendored JS; ``npm run build`` once if it is missing (skip when that cannot work)."""
    try:
        return nbx_export.vendored_files()
    except VendoredFilesMissingError as err:
        if shutil.which("npm") is None:
            pytest.skip(str(err))
        proc = subprocess.run(["npm", "run", "build"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
        if proc.returncode != 0:
            pytest.skip(f"{err}; `npm run build` failed: {proc.stderr[-400:]}")
        return nbx_export.vendored_files()


def _write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nbformat.write(nb, path)
    return path


@dataclass(frozen=True)
class Exported:
    html: Path
    state: dict


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the exported pages (and their ``_files/`` folders) are written to and served from."""
    return tmp_path_factory.mktemp("export-site")


@pytest.fixture(scope="module")
def tiny(site: Path, kernel_env: None, vendored: dict[str, Path]) -> Exported:
    """The tiny notebook (one Heatmap of the known map), executed and exported to tiny.html."""
    notebook = _write_notebook(site / "tiny.ipynb", TINY_SOURCE)
    html = export_html(notebook, site / "tiny.html")
    return Exported(html, _saved_state(html))


def _export_demo(site: Path, notebook: Path, runs: NotebookRuns) -> Exported:
    """A notebook of notebooks/, executed once per session (``notebook_runs``, shared with
    test_notebooks_execute.py) and exported without running it again to ``site/<stem>.html``."""
    if not notebook.is_file():
        pytest.skip(f"no {notebook}")
    html = export_html(runs.run(notebook).executed, site / f"{notebook.stem}.html", execute=False)
    return Exported(html, _saved_state(html))


@pytest.fixture(scope="module")
def quickstart(site: Path, notebook_runs: NotebookRuns, vendored: dict[str, Path]) -> Exported:
    """notebooks/quickstart.ipynb, executed (once per session) and exported to quickstart.html."""
    return _export_demo(site, QUICKSTART, notebook_runs)


@pytest.fixture(scope="module")
def dashboard_page(site: Path, notebook_runs: NotebookRuns, vendored: dict[str, Path]) -> Exported:
    """notebooks/dashboard.ipynb, executed (once per session) and exported to dashboard.html."""
    return _export_demo(site, DASHBOARD, notebook_runs)


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` serving the site folder (quietly), for this module."""
    with serve_folder(site) as url:
        yield url


def _nbx_models(state: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in state.values():
        view = model.get("state", {}).get("_view")
        if view in NBX_VIEWS | DASHBOARD_VIEWS:
            counts[view] = counts.get(view, 0) + 1
    return counts


# --------------------------------------------------------------------------- unit (no browser)


def test_export_writes_page_and_vendored_files(tiny: Exported) -> None:
    files_dir = tiny.html.with_name("tiny_files")
    assert {p.name for p in files_dir.iterdir()} == VENDORED
    for name, src in nbx_export.vendored_files().items():
        assert (files_dir / name).read_bytes() == src.read_bytes(), name
    text = tiny.html.read_text(encoding="utf-8")
    srcs = re.findall(r"""<script\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)""", text, re.I)
    assert "tiny_files/require.js" in srcs
    assert not [s for s in srcs if re.match(r"(https?:)?//", s, re.I)], srcs
    # The widget renderer is inserted by a script: its URL is local too; no CDN host anywhere in
    # the page's own scripts (the widget state may hold anything the notebook printed).
    assert "var widgetRendererSrc = 'tiny_files/embed-amd.js'" in text
    head = text.split('<script type="application/vnd.jupyter.widget-state+json">')[0]
    for host in ("unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com"):
        assert host not in head, host
    assert _nbx_models(tiny.state) == {"heatmap": 1}


def test_missing_notebook_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no notebook at"):
        export_html(tmp_path / "nope.ipynb")
    assert nbx_export.main([str(tmp_path / "nope.ipynb")]) == 1


def test_missing_vendored_files_say_how_to_reinstall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = _write_notebook(tmp_path / "a.ipynb", "1 + 1")
    monkeypatch.setattr(nbx_export, "VENDOR_DIR", tmp_path / "empty")
    with pytest.raises(VendoredFilesMissingError, match=r"pip install --force-reinstall nbexplain.*npm run build"):
        export_html(nb, execute=False)
    assert not (tmp_path / "a.html").exists()


def test_cell_error_names_the_cell(tmp_path: Path, kernel_env: None, vendored: dict[str, Path]) -> None:
    nb = _write_notebook(tmp_path / "bad.ipynb", "x = 1", "y = x + 1\nraise ValueError('boom here')", "z = 3")
    with pytest.raises(NotebookExecutionError, match=r"cell 2 of 3 .*'y = x \+ 1'.*ValueError: boom here") as info:
        export_html(nb)
    assert info.value.cell_index == 1
    assert not (tmp_path / "bad.html").exists()


def test_no_execute_without_saved_state_is_a_clear_error(tmp_path: Path, vendored: dict[str, Path]) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("hm")
    cell.outputs = [nbformat.v4.new_output(
        "display_data",
        data={"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0}},
    )]
    nb.cells = [cell]
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(MissingWidgetStateError, match="1 of 1 widget outputs have no saved state"):
        export_html(path, execute=False)


def test_cli_no_execute_reuses_saved_state(tmp_path: Path, tiny: Exported, kernel_env: None) -> None:
    # Execute once into a notebook with state, then export that without a kernel.
    from nbclient import NotebookClient

    nb = nbformat.read(tiny.html.with_name("tiny.ipynb"), as_version=4)
    NotebookClient(nb, timeout=120, store_widget_state=True).execute()
    saved = tmp_path / "saved.ipynb"
    nbformat.write(nb, saved)
    out = tmp_path / "site" / "page.html"
    assert nbx_export.main([str(saved), "-o", str(out), "--no-execute"]) == 0
    assert out.is_file() and {p.name for p in (tmp_path / "site" / "page_files").iterdir()} == VENDORED
    assert _nbx_models(_saved_state(out)) == {"heatmap": 1}


def test_cli_to_notebook_keeps_every_view_with_one_bundle(tmp_path: Path, tiny: Exported, kernel_env: None) -> None:
    """``--to notebook``: the notebook run afresh, written with its widget state (the reliable save)."""
    src = tmp_path / "lab.ipynb"
    shutil.copy2(tiny.html.with_name("tiny.ipynb"), src)
    assert nbx_export.main([str(src), "--to", "notebook"]) == 0
    saved = tmp_path / "lab.saved.ipynb"
    nb = nbformat.read(saved, as_version=4)
    state = nb.metadata["widgets"][STATE_MIME]["state"]
    assert _nbx_models(state) == {"heatmap": 1}
    assert sum(len(m["state"].get("_esm", "")) > 50_000 for m in state.values()) == 1
    # ... and it exports without running again.
    assert nbx_export.main([str(saved), "-o", str(tmp_path / "lab.html"), "--no-execute"]) == 0
    with pytest.raises(SystemExit):
        nbx_export.main([str(src), "--to", "notebook", "--no-execute"])


# --------------------------------------------------------------------------- browser


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["http", "file"])
def test_tiny_heatmap_draws_offline_with_live_pixels(page: Page, tiny: Exported, server: str, scheme: str) -> None:
    seen = go_offline(page)
    errors = collect_console_errors(page)
    page.goto(f"{server}/tiny.html" if scheme == "http" else tiny.html.as_uri())
    wait_all_drawn(page, 1)
    root = page.locator(".nbx-heatmap")
    expect(root).to_have_count(1)
    canvas = root.locator("canvas.nbx-heatmap-canvas")
    values, image = _tiny_map()

    # 1. Saved settings (RdBu_r, opacity 0.5, clip 100): the live view's exact colours.
    actual = canvas_array(canvas)
    assert actual.shape == (8, 8, 4)
    expected = heatmap_rgba(values, image, cmap="RdBu_r", opacity=0.5, clip_percentile=100.0)
    assert max_channel_diff(actual, expected) <= 1, actual[..., :3].astype(int) - expected[..., :3]
    assert tuple(actual[3, 4]) == (0x80, 0x80, 0x80, 255), "NaN cell is opaque #808080"
    screenshot(page, f"export-heatmap-{scheme}", root)

    # 2. A browser-side control with no kernel: opacity to 1 -> pure colours, RdBu_r's ends.
    before = int(root.get_attribute("data-draws") or 0)
    set_range(root.locator("input.nbx-opacity"), "max")
    wait_for_draws(root, before)
    opaque = canvas_array(canvas)
    assert not np.array_equal(opaque, actual), "the opacity slider changed no pixel"
    expected = heatmap_rgba(values, image, cmap="RdBu_r", opacity=1.0, clip_percentile=100.0)
    assert max_channel_diff(opaque, expected) <= 1
    ends = lut("RdBu_r")[[0, 255]]
    assert tuple(ends[0]) == (5, 48, 97) and tuple(ends[1]) == (103, 0, 31)
    assert tuple(opaque[0, 0, :3]) == tuple(ends[0]), "value -1 -> RdBu_r's blue end"
    assert tuple(opaque[7, 7, :3]) == tuple(ends[1]), "value +1 -> RdBu_r's red end"
    screenshot(page, f"export-heatmap-opacity-{scheme}", root)

    assert seen.external == [], f"requests left the machine: {seen.external}"
    assert seen.local_failures == [], seen.local_failures
    errors.assert_none()


@pytest.mark.browser
def test_quickstart_draws_every_widget_offline(page: Page, quickstart: Exported, server: str) -> None:
    seen = go_offline(page)
    errors = collect_console_errors(page)
    page.goto(f"{server}/quickstart.html")
    models = _nbx_models(quickstart.state)
    assert models.get("heatmap", 0) >= 4 and models.get("feature_bars", 0) >= 3, models
    assert models.get("sample_panel", 0) >= 2, models
    n = sum(models.values())
    wait_all_drawn(page, n)
    roots = page.locator(".nbx-root")
    expect(roots).to_have_count(n)
    drawn = roots.evaluate_all("(els) => els.map((e) => [e.dataset.view, Number(e.dataset.draws)])")
    assert all(d > 0 for _, d in drawn), drawn
    assert {v for v, _ in drawn} == NBX_VIEWS

    # Saved data reached the views: the waterfall's bars, the what-if sliders, the images.
    expect(page.locator(".nbx-feature-bars .nbx-bar-row").first).to_be_visible()
    expect(page.locator("input.nbx-whatif").first).to_be_attached()
    for canvas in page.locator("canvas.nbx-heatmap-canvas, canvas.nbx-sample-image").all():
        px = canvas_array(canvas)
        assert px[..., 3].any() and len(np.unique(px.reshape(-1, 4), axis=0)) > 1, "a blank canvas"

    # ipywidgets: both SampleExplorers' slider rows render, and without a kernel they are disabled
    # with the reason (moving them would change the number and leave the panel on the old sample).
    sliders = page.locator(".widget-slider.widget-hslider")
    expect(sliders).to_have_count(2)
    explorer = page.locator(".nbx-kernel-scope").filter(has=page.locator(".nbx-sample-panel")).first
    expect(explorer).to_have_class(re.compile(r"\bnbx-no-kernel\b"))
    number = explorer.locator(".widget-text input[type=number]").first
    expect(number).to_be_disabled()
    expect(number).to_have_attribute("title", "needs a running kernel")
    assert explorer.locator(".widget-slider").first.evaluate("(e) => getComputedStyle(e).pointerEvents") == "none"
    expect(explorer.locator(".nbx-kernel-note").first).to_contain_text("sliders, menus and buttons of this view")
    screenshot(page, "export-sample-explorer", explorer)

    # A browser-side control on a real saliency map: opacity to 0 redraws, the pixels change.
    heatmap = page.locator(".nbx-heatmap").filter(has=page.locator(".nbx-title", has_text="saliency")).first
    canvas = heatmap.locator("canvas.nbx-heatmap-canvas")
    before_px = canvas_array(canvas)
    before = int(heatmap.get_attribute("data-draws") or 0)
    set_range(heatmap.locator("input.nbx-opacity"), "min")
    wait_for_draws(heatmap, before)
    assert not np.array_equal(canvas_array(canvas), before_px), "the opacity slider changed no pixel"
    screenshot(page, "export-quickstart-heatmap", heatmap)

    # FeatureBars' top-k slider redraws in the page too: all 30 features, no "other features" row.
    bars = page.locator(".nbx-feature-bars").first
    rows = bars.locator(".nbx-bar-row[data-index]")
    shown = rows.count()
    before = int(bars.get_attribute("data-draws") or 0)
    set_range(bars.locator("input.nbx-topk"), "max")
    wait_for_draws(bars, before)
    expect(rows).to_have_count(30)
    assert shown < 30
    expect(bars.locator(".nbx-bar-rest")).to_be_hidden()

    page.screenshot(path=str(REPO_ROOT / "test-artifacts" / "screenshots" / "export-quickstart.png"), full_page=True)
    assert seen.external == [], f"requests left the machine: {seen.external}"
    assert seen.local_failures == [], seen.local_failures
    assert {Path(urlsplit(u).path).name for u in seen.local} >= VENDORED | {"quickstart.html"}
    errors.assert_none()


@pytest.mark.browser
def test_a_missing_module_is_not_fetched_from_a_cdn(page: Page, tiny: Exported, tmp_path: Path) -> None:
    """Without anywidget.js, embed-amd.js falls back to its "CDN": a local folder, not the web."""
    shutil.copy2(tiny.html, tmp_path / "tiny.html")
    shutil.copytree(tiny.html.with_name("tiny_files"), tmp_path / "tiny_files")
    (tmp_path / "tiny_files" / "anywidget.js").unlink()
    seen = go_offline(page)
    fallbacks: list[str] = []
    page.on("console", lambda m: "Falling back" in m.text and fallbacks.append(m.text))
    page.goto((tmp_path / "tiny.html").as_uri())
    expect(page.locator(".jupyter-widgets")).not_to_have_count(0)
    page.wait_for_function("() => document.querySelectorAll('.widget-error, .jupyter-widgets-error-widget').length > 0",
                           timeout=30_000)
    assert fallbacks and all("tiny_files/no-cdn/" in f for f in fallbacks), fallbacks
    assert any("/tiny_files/no-cdn/anywidget@" in u for u in seen.local), seen.local
    assert seen.external == [], seen.external
    expect(page.locator(".nbx-root")).to_have_count(0)


@pytest.mark.browser
def test_dashboard_notebook_draws_offline_and_its_tabs_switch(page: Page, dashboard_page: Exported, server: str) -> None:
    """The three Dashboards of notebooks/dashboard.ipynb in the saved page: the explorer draws,
    the tabs switch in the page (no kernel) and the global views computed before saving draw."""
    seen = go_offline(page)
    errors = collect_console_errors(page)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{server}/dashboard.html")
    models = _nbx_models(dashboard_page.state)
    assert models.get("sample_table", 0) == 3 and models.get("sample_panel", 0) == 3, models
    # The bundle travels once per page (nbexplain/widgets/_bundle.py), not once per view.
    bundles = [m for m in dashboard_page.state.values() if len(m.get("state", {}).get("_esm", "")) > 50_000]
    assert len(bundles) == 1, f"{len(bundles)} models carry the 120 KB bundle"
    assert dashboard_page.html.stat().st_size < 1_500_000, dashboard_page.html.stat().st_size
    assert models.get("beeswarm", 0) == 1 and models.get("text_tokens", 0) >= 2, models
    dashboards = page.locator(".nbx-dashboard")
    expect(dashboards).to_have_count(3)
    table = dashboards.nth(0)
    rows = table.locator("[data-view=sample_table] tr.nbx-row")
    expect(rows.first).to_be_visible(timeout=60_000)
    expect(table.locator(".nbx-feature-bars .nbx-bar-row").first).to_be_visible()
    # No kernel here: the views know it, and the what-if sliders say why they do not move.
    page.wait_for_function("() => [...document.querySelectorAll('.nbx-root')].every((r) => r.dataset.kernel === 'none')")
    expect(table.locator(".nbx-feature-bars .nbx-kernel-note").first).to_contain_text("needs a running kernel")
    assert table.locator(".nbx-feature-bars input.nbx-whatif").first.is_disabled()
    # Tabs are ipywidgets' own: they switch in the page; the beeswarm computed before saving draws.
    table.locator(".lm-TabBar-tab", has_text="Global").first.click()
    bee = table.locator(".nbx-beeswarm").first
    wait_for_draws(bee, 0)
    assert (canvas_array(bee.locator("canvas.nbx-beeswarm-canvas"))[..., 3] > 0).sum() > 200
    expect(table.locator(".nbx-importance g.bargroup rect.bar").first).to_be_attached()
    table.locator(".lm-TabBar-tab", has_text="Errors & bias").first.click()
    expect(table.locator(".nbx-cm-cell").first).to_be_visible()
    # bqplot lays out a figure rendered in a closed tab again when the tab opens (ResizeObserver).
    page.wait_for_function(
        """(el) => [...el.querySelectorAll('.nbx-bias .bqplot.figure')].every(
               (f) => getComputedStyle(f).visibility === 'visible')""",
        arg=table.element_handle(), timeout=10_000)
    screenshot(page, "export-dashboard-errors", table)
    # The text dashboard's tokens are coloured in the saved page too.
    text = dashboards.nth(2)
    expect(text.locator("span.nbx-token").first).to_be_visible()
    screenshot(page, "export-dashboard-text", text)
    assert seen.external == [], f"requests left the machine: {seen.external}"
    assert seen.local_failures == [], seen.local_failures
    errors.assert_none()
