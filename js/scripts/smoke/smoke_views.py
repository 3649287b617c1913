"""Render every nbexplain view in headless Chromium with a fake model and check the DOM hooks.

A quick check of the built bundle without Jupyter: ``fixture.html`` renders the three views
(and an unknown one) from ``nbexplain/static/widget.js`` with a small Backbone-like fake model;
this script drives the controls and asserts on the DOM, pixels and saved traits, then checks
that cleanup removed every listener. Needs Debian's ``chromium`` and the venv's playwright.

Run from the repository root after ``npm run build``:
    .venv/bin/python js/scripts/smoke/smoke_views.py [--screenshot out.png]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
STATIC = HERE.parents[2] / "nbexplain" / "static"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def check(page: Page) -> None:
    """Drive the views and assert on the DOM hooks of docs/PROTOCOL.md."""
    q = page.evaluate
    root = "document.querySelector('#a .nbx-root')"
    assert q(f"{root}.dataset.view") == "heatmap"
    assert q(f"{root}.dataset.draws") == "1"
    assert float(q(f"{root}.dataset.drawMs")) >= 0
    w, h, css, first = q("""(() => { const c = document.querySelector('#a canvas.nbx-heatmap-canvas');
        return [c.width, c.height, c.style.width, Array.from(c.getContext('2d').getImageData(0, 0, 1, 1).data)]; })()""")
    # cell (0, 0) is 0: RdBu_r's middle (247, 246, 246) at opacity 0.6 over image value 0
    assert (w, h, css, first) == (10, 8, "280px", [148, 148, 148, 255]), (w, h, css, first)
    assert q("document.querySelector('#a .nbx-title').textContent") == "Saliency <b>x</b>"
    assert q("document.querySelector('#a .nbx-title b')") is None
    assert q("!!document.querySelector('#a .nbx-reduce')") is False
    assert q("!!document.querySelector('#b .nbx-reduce')") is True
    assert q("document.querySelector('#a .nbx-legend-nodata').textContent") == "no data"
    assert q("[...document.querySelectorAll('input[type=range]')].every(i => i.dataset.lmSuppressShortcuts === 'true')")

    page.locator("#a select.nbx-cmap").select_option("magma")
    assert q("[models.heat.state.cmap, models.heat.saves]") == ["magma", 1]
    assert q(f"{root}.dataset.draws") == "2"
    q("models.heat.set('threshold', 0.5)")
    assert q("document.querySelector('#a .nbx-threshold').value") == "0.5"
    assert q(f"{root}.dataset.draws") == "3"

    box = page.locator("#a canvas.nbx-heatmap-canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.1)
    assert q("document.querySelector('#a .nbx-tooltip').textContent") == "row 0, col 5: no data"
    page.mouse.click(box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.95)
    assert q("models.heat.state.selected") == [7, 0]

    q("models.heat.set('error', 'bad <b>thing</b>')")
    assert q("document.querySelector('#a .nbx-error').textContent") == "bad <b>thing</b>"
    q("models.heat.set('error', '')")
    assert q("document.querySelector('#a .nbx-error')") is None

    rows = "[...document.querySelectorAll('#c .nbx-bar-row[data-index]')].map(r => r.dataset.index).join(',')"
    assert q(rows) == "1,0,3"
    assert q("document.querySelectorAll('#c .nbx-bar-rest').length") == 1
    assert q("document.querySelector('#c .nbx-prediction').textContent") == "P(malignant): 0.05"
    assert q("document.querySelector('#c .nbx-base-value').textContent") == "0.4"
    assert q("document.querySelector('#c .nbx-bar-row[data-index=\"1\"] .nbx-bar').className") == "nbx-bar neg"
    page.locator("#c input.nbx-topk").fill("5")
    assert q(rows) == "1,0,3,4,2"
    assert q("document.querySelectorAll('#c .nbx-bar-rest').length") == 0
    page.locator("#c input.nbx-whatif[data-index='2']").fill("120")
    assert q("document.querySelector('#c .nbx-whatif-value[data-index=\"2\"]').textContent") == "120"
    page.wait_for_timeout(250)
    assert q("models.bars.state.sample.data.getFloat32(8, true)") == 120
    q("""models.bars.set('values', {dtype: 'float32', shape: [5],
        data: new DataView(new Float32Array([0.3, -0.8, 0.9, 0.2, -0.1]).buffer)})""")
    page.wait_for_timeout(20)
    assert q(rows) == "2,1,0,3,4"

    assert q("document.querySelector('#d .nbx-sample-index').textContent") == "sample 4 of 100"
    assert q("document.querySelector('#d .nbx-predicted').textContent") == "one"
    assert q("document.querySelector('#d .nbx-true-label').className") == "nbx-true-label correct"
    assert q("[...document.querySelectorAll('#d .nbx-pred-label')].map(e => e.textContent)") == ["one", "two", "zero"]
    assert "unknown view" in q("document.querySelector('#e').textContent")

    q("Object.values(cleanups).forEach(f => f())")
    assert q("Object.values(models).every(m => m.count() === 0)"), "listeners left after cleanup"
    assert q("document.querySelectorAll('.nbx-root').length") == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of the views before checking")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("widget.js", "widget.css"):
            shutil.copy(STATIC / name, Path(tmp) / name)
        shutil.copy(HERE / "fixture.html", Path(tmp) / "index.html")
        handler = functools.partial(_QuietHandler, directory=tmp)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 900, "height": 1100})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.wait_for_function("window.ready === true")
                if args.screenshot:
                    page.screenshot(path=str(args.screenshot), full_page=True)
                check(page)
                assert not errors, errors
                browser.close()
        finally:
            server.shutdown()
    print("smoke_views: all checks passed")


if __name__ == "__main__":
    main()
