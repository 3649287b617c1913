"""Every notebook in notebooks/ works as an offline HTML page made by ``python -m nbexplain.export``.

For each notebook (whatever ``notebooks/*.ipynb`` holds when the suite runs) and for
``tests/notebooks/export_hostile.ipynb`` (names that are markup): the notebook executed once per
session by the shared ``notebook_runs`` fixture (the run ``tests/core/test_notebooks_execute.py``
checks) is exported with the command line's entry point, ``nbexplain.export.main([executed,
"-o", page, "--no-execute"])``, so nothing runs twice. The page is opened in headless Chromium from
a loopback ``http.server`` while every request to another host is aborted and recorded, and:

- no request left the machine, no local file is missing, the console shows no error, no dialog
  opened, ipywidgets shows no error widget;
- every nbexplain view the notebook shows is on the page and drew: a size, a painted canvas, SVG
  shapes or text (views in tabs are checked as every tab, nested ones too, is clicked; the tabs
  switch in the page);
- on every view, its client-side controls are tried (the IGPathView alpha slider first, then the
  other sliders, drop-downs, buttons: a heatmap's opacity, FeatureBars' top-k, the Grad-CAM stage
  slider, the Shapley lattice's feature chips) until one changes the drawing (pixels, or markup
  outside the controls); an IGPathView must scrub with its alpha slider;
- controls that need Python (what-if sliders, clicks, IGPathView's baseline and steps) are
  disabled and the view says "needs a running kernel";
- the page is in the light theme (``export`` has no theme option) and so is every view.

Screenshots: ``test-artifacts/screenshots/export-<name>.png`` (the page as first drawn).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from notebook_runs import ROOT, USER_NOTEBOOKS, NotebookRun, NotebookRuns, widget_state
from playwright.sync_api import Page

from nbexplain import export as nbx_export

from ..lab import SCREENSHOT_DIR, collect_console_errors
from ..offline import check_every_root, go_offline, root_problems, serve_folder, wait_roots_settled

HOSTILE = ROOT / "tests" / "notebooks" / "export_hostile.ipynb"
PAGES = [*USER_NOTEBOOKS, HOSTILE]
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(2)</script>"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the exported pages (and their ``_files/`` folders) are written to and served from."""
    return tmp_path_factory.mktemp("notebook-pages")


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` serving the site folder."""
    with serve_folder(site) as url:
        yield url


def export_page(run: NotebookRun, site: Path) -> Path:
    """``python -m nbexplain.export <executed> -o <site>/<stem>.html --no-execute``, in this process."""
    out = site / f"{run.source.stem}.html"
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = nbx_export.main([str(run.executed), "-o", str(out), "--no-execute"])
    assert code == 0, f"python -m nbexplain.export failed on {run.source.name}: {stderr.getvalue()}"
    return out


def shown_views(nb: nbformat.NotebookNode) -> list[str]:
    """The ``_view`` of every nbexplain view the notebook's outputs show, directly or inside boxes and tabs."""
    state = widget_state(nb)
    todo = [
        out["data"][VIEW_MIME].get("model_id")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if VIEW_MIME in out.get("data", {})
    ]
    seen: set[str] = set()
    views: list[str] = []
    while todo:
        model_id = todo.pop()
        if model_id in seen or model_id not in state:
            continue
        seen.add(model_id)
        values = state[model_id].get("state", {})
        if isinstance(values.get("_view"), str) and values["_view"]:
            views.append(values["_view"])
        todo.extend(re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(values)))
    return sorted(views)


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_exported_notebook_works_offline(path: Path, notebook_runs: NotebookRuns, site: Path, server: str,
                                         page: Page) -> None:
    run = notebook_runs.run(path)
    html = export_page(run, site)
    expected = shown_views(run.read())
    assert expected, f"{path.name} shows no nbexplain view"

    seen = go_offline(page)
    errors = collect_console_errors(page)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
    page.goto(f"{server}/{html.name}")
    wait_roots_settled(page)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"export-{path.stem}.png"), full_page=True)

    reports, tabs = check_every_root(page)
    problems = [p for report in reports for p in root_problems(report)]
    # Never on screen, even with every tab opened: only views that hold nothing yet (``nbx-blank``,
    # e.g. a Dashboard's empty compare slots, hidden until a row is picked with a kernel).
    unseen = page.evaluate("""() => [...document.querySelectorAll('.nbx-root:not([data-nbx-checked])')]
                                       .map((r) => [r.dataset.view, r.classList.contains('nbx-blank')])""")
    assert not [v for v, blank in unseen if not blank], f"views never on screen after clicking {tabs} tabs: {unseen}"
    on_page = sorted([r["view"] for r in reports] + [v for v, _ in unseen])
    missing = [v for v in set(expected) if on_page.count(v) < expected.count(v)]
    assert not missing, f"shown by the notebook but not on the page: {missing} (page: {on_page})"
    assert not problems, "\n".join(problems)
    assert page.locator(".jupyter-widgets-error-widget, .widget-error").count() == 0, "an ipywidgets error widget"
    assert page.evaluate("() => document.body.dataset.jpThemeLight") == "true"
    assert not [r["view"] for r in reports if r["dark"]], "a view drew dark on a light page"

    if path == HOSTILE:
        _check_names_stay_text(page, seen.local)
    assert dialogs == [], f"a script ran: {dialogs}"
    assert seen.external == [], f"requests left the machine: {seen.external}"
    assert seen.local_failures == [], seen.local_failures
    errors.assert_none()


def _check_names_stay_text(page: Page, local_requests: list[str]) -> None:
    """The markup in feature and class names, tokens and titles shows as itself and runs nothing."""
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert not [u for u in local_requests if urlsplit(u).path.endswith("/x")], "the injected <img> loaded"
    scripts = page.evaluate(
        """() => [...document.scripts].filter((s) => s.type !== 'application/vnd.jupyter.widget-state+json'
                                                && s.textContent.includes('alert('))
                                      .map((s) => s.textContent.slice(0, 80))""")
    assert scripts == [], f"an injected script element: {scripts}"
    texts = page.evaluate(
        """() => [...document.querySelectorAll('.nbx-root')].map((r) => [r.dataset.view, r.textContent])""")
    for view in ("feature_bars", "text_tokens", "ig_path", "heatmap"):
        shown = " ".join(text for v, text in texts if v == view)
        wanted = (SCRIPT,) if view == "heatmap" else (IMG, SCRIPT)
        for name in wanted:
            assert name in shown, f"{view} does not show {name!r} as text"
