"""A Dashboard notebook saved by JupyterLab keeps its views, stays small, and says what needs a kernel.

The bundle travels once (``nbexplain/widgets/_bundle.py``): the saved file holds one model with
the 120 KB bundle and its CSS, and every view a 1 KB stub. The test turns on Lab's "Save Widget
State Automatically" (off by default: then the first view says so), runs a table Dashboard,
clicks through samples, saves with Ctrl+S and reads the file the server wrote. Then it reopens the
notebook without re-running it (its views now come from the saved state, not from a kernel) in
JupyterLab (the exported page is checked in test_html_export_browser): every view draws, the controls that need Python are disabled with
"needs a running kernel", a row click does not half-update the view, and the client-side
controls (tabs, top-k) still work. Screenshots: ``test-artifacts/screenshots/saved-*.png``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Page, expect

from ..lab import (
    _xsrf_headers,
    collect_console_errors,
    open_notebook,
    run_all,
    screenshot,
    wait_for_draws,
)

pytestmark = pytest.mark.browser

NAME = "saved_dashboard.ipynb"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
PLUGIN = "@jupyter-widgets/jupyterlab-manager:plugin"
BUNDLE_MIN_CHARS = 50_000  # the full bundle is ~120 KB; the stub ~1.2 KB

SOURCE = [
    """\
import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_breast_cancer
import nbexplain as nbx

torch.manual_seed(0)
cancer = load_breast_cancer()
X = cancer.data[:, :8].astype(np.float32)
mean, std = X.mean(0), X.std(0) + 1e-6
net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
xt, yt = torch.as_tensor((X - mean) / std), torch.as_tensor(cancer.target)
for _ in range(100):
    opt.zero_grad(); nn.functional.cross_entropy(net(xt), yt).backward(); opt.step()
net.eval()
model = lambda A: torch.softmax(net(torch.as_tensor((np.asarray(A, np.float32) - mean) / std)), 1).detach().numpy()
""",
    """\
dash = nbx.Dashboard(model, X[:120], cancer.target[:120], feature_names=list(cancer.feature_names[:8]),
                     class_names=list(cancer.target_names), methods=["kernel_shap", "lime"],
                     global_samples=60, page_size=8, title="saved dashboard")
dash.compute_global()
dash.wait()
dash
""",
]


def _set_save_state(page: Page, server: Any, on: bool) -> None:
    headers = {**_xsrf_headers(page, server), "Content-Type": "application/json"}
    r = page.request.put(f"{server.url}/lab/api/settings/{PLUGIN}",
                         data=json.dumps({"raw": json.dumps({"saveState": on})}), headers=headers)
    assert r.ok, (r.status, r.text())


def _write(root: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in SOURCE]
    path = root / NAME
    nbformat.write(nb, path)
    return path


def _state(path: Path) -> dict[str, Any]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return nb.get("metadata", {}).get("widgets", {}).get(STATE_MIME, {}).get("state", {})


def _buffer_bytes(state: dict[str, Any]) -> int:
    return sum(len(b.get("data", "")) for m in state.values() for b in m.get("buffers", []))


def _reachable(path: Path, state: dict[str, Any]) -> set[str]:
    """The models the notebook's outputs show, and every model they refer to."""
    cells = json.dumps(json.loads(path.read_text(encoding="utf-8"))["cells"])
    stack = re.findall(r'"model_id": "([0-9a-f]+)"', cells)
    seen: set[str] = set()
    while stack:
        mid = stack.pop()
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        refs = re.findall(r"(?:IPY_MODEL_|anywidget:)([0-9a-f]+)", json.dumps(state[mid]["state"]))
        stack.extend(refs)
    return seen


def _check_offline_views(page: Page, label: str) -> None:
    """Views from saved state: drawn, Python-needing controls disabled with the reason."""
    dash = page.locator(".nbx-dashboard").first
    expect(dash).to_be_visible(timeout=60_000)
    rows = dash.locator("[data-view=sample_table] tr.nbx-row")
    expect(rows.first).to_be_visible(timeout=60_000)
    wait_for_draws(dash.locator(".nbx-feature-bars").first, 0)
    roots = dash.locator(".nbx-root")
    page.wait_for_function(
        "(el) => [...el.querySelectorAll('.nbx-root')].every((r) => r.dataset.kernel === 'none')",
        arg=dash.element_handle(), timeout=20_000)
    assert roots.count() >= 4
    # A visible reason where the what-if sliders are, and they are disabled.
    note = dash.locator(".nbx-feature-bars .nbx-kernel-note").first
    expect(note).to_be_visible()
    expect(note).to_contain_text("needs a running kernel")
    sliders = dash.locator(".nbx-feature-bars input.nbx-whatif")
    assert sliders.count() > 0
    assert all(sliders.nth(i).is_disabled() for i in range(sliders.count()))
    # A row click neither moves the highlight nor leaves the panel on another sample.
    selected_before = dash.locator("[data-view=sample_table] tr.nbx-row.selected").all_inner_texts()
    rows.nth(3).click()
    page.wait_for_timeout(300)
    assert dash.locator("[data-view=sample_table] tr.nbx-row.selected").all_inner_texts() == selected_before
    expect(dash.locator("[data-view=sample_table] .nbx-kernel-note")).to_contain_text("needs a running kernel")
    # The Dashboard's own ipywidgets controls are greyed too.
    assert page.evaluate("(el) => el.classList.contains('nbx-no-kernel')", dash.element_handle())
    # Client-side controls still work: the top-k slider and the tabs.
    bars = dash.locator(".nbx-feature-bars").first
    topk = bars.locator("input[type=range].nbx-topk")
    if topk.count():
        assert not topk.is_disabled()
    dash.locator(".lm-TabBar-tab", has_text="Global").first.click()
    bee = dash.locator(".nbx-beeswarm").first
    wait_for_draws(bee, 0)
    screenshot(page, f"saved-{label}-global", dash)
    dash.locator(".lm-TabBar-tab", has_text="Explore").first.click()
    screenshot(page, f"saved-{label}-explore", dash)


def test_saved_dashboard_is_small_and_reopens_without_a_kernel(page: Page, jupyter_server: Any, nbx_bundle: Any) -> None:
    errors = collect_console_errors(page)
    page.set_viewport_size({"width": 1400, "height": 1000})
    path = _write(jupyter_server.root_dir)
    # 1. Lab's default: widget state is not saved, and the first view says so.
    nb = open_notebook(page, jupyter_server, NAME)
    try:
        run_all(nb)
        hint = page.locator(".nbx-save-hint")
        expect(hint).to_have_count(1, timeout=30_000)
        expect(hint).to_contain_text("Save Widget State Automatically")
        expect(hint).to_contain_text("nbexplain.export")
    finally:
        nb.close()

    _set_save_state(page, jupyter_server, True)
    try:
        # 2. With the setting on: run, click through samples, save with Ctrl+S.
        nb = open_notebook(page, jupyter_server, NAME)
        try:
            run_all(nb)
            dash = page.locator(".nbx-dashboard").first
            expect(page.locator(".nbx-save-hint")).to_have_count(0)
            rows = dash.locator("[data-view=sample_table] tr.nbx-row")
            expect(rows.first).to_be_visible(timeout=60_000)
            for i in (1, 2, 3, 4):
                rows.nth(i).click()
                page.wait_for_timeout(400)
            mtime = path.stat().st_mtime
            page.locator(".jp-NotebookPanel:visible .jp-Notebook").first.click()
            page.keyboard.press("Control+s")
            deadline = time.monotonic() + 30
            while (path.stat().st_mtime == mtime or not _state(path)) and time.monotonic() < deadline:
                time.sleep(0.25)
        finally:
            nb.close()
    finally:
        _set_save_state(page, jupyter_server, False)

    state = _state(path)
    size = path.stat().st_size
    data = _buffer_bytes(state)
    bundles = [m for m in state.values() if len(m["state"].get("_esm", "")) > BUNDLE_MIN_CHARS]
    css = [m for m in state.values() if m["state"].get("_css")]
    views = [m for m in state.values() if m["state"].get("_view")]
    reachable = _reachable(path, state)
    print(f"\nsaved {NAME}: {size} bytes, {len(state)} models ({len(views)} nbexplain views), "
          f"{data} bytes of base64 array data, {len(state) - len(reachable)} orphans; views: "
          f"{sorted(m['state']['_view'] for m in views)}")
    assert len(bundles) == 1, f"{len(bundles)} models carry the bundle"
    assert len(css) == 1, f"{len(css)} models carry the CSS"
    assert {"sample_table", "sample_panel", "feature_bars", "beeswarm"} <= {m["state"]["_view"] for m in views}
    assert all(len(m["state"].get("_esm", "")) < 4000 for m in views)
    assert size - data < 400_000, f"{size} bytes saved ({data} of them array data)"
    orphans = [m["model_name"] for k, m in state.items() if k not in reachable]
    assert len(orphans) <= 0.05 * len(state), f"{len(orphans)} of {len(state)} saved models are orphans: {orphans[:12]}"

    # 3. Reopened without re-running, in JupyterLab: the saved views, and what needs a kernel.
    nb = open_notebook(page, jupyter_server, NAME)
    try:
        _check_offline_views(page, "lab")
    finally:
        nb.close()

    errors.assert_none()
