"""Transport benchmark: bytes on the wire and time to decode and draw a heatmap in Chromium.

Run: ``.venv/bin/python benchmarks/bench_transport.py`` (needs the built bundle and Chromium).

1. Bytes: the state message of a ``Heatmap`` as ipywidgets sends it (JSON part + binary buffers),
   for a 224x224 and a 3x224x224 map, at each codec precision, against the same array as a JSON list
   (what ipywidgets would send for ``values.tolist()``).
2. Draw time: the built ``widget.js`` is loaded in headless Chromium with a minimal in-page model
   (the anywidget model interface: get/set/on/off/save_changes); the heatmap view records
   ``performance.now()`` from decode to ``putImageData`` in ``data-draw-ms``. Reported: the first
   draw and the median of 30 redraws (a colour-map change forces decode-free recolouring, a
   ``values`` change forces a full decode + reduce + colour).
Goal (issue 2): at most half the float32 bytes, a 224x224 draw within 16 ms.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import platform
import shutil
import statistics
import sys
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nbexplain.codec import encode_array  # noqa: E402

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def wire_bytes(values: np.ndarray, precision: str) -> tuple[int, int, int]:
    """(JSON bytes of the map's trait, its binary bytes, the rest of the Heatmap's state) on the wire.

    The rest is mostly anywidget's ``_esm``/``_css`` source, sent once per widget model.
    """
    from ipywidgets.widgets.widget import _remove_buffers

    from nbexplain.widgets import Heatmap

    w = Heatmap(values, precision=precision)
    full = w.get_state()
    state, _paths, buffers = _remove_buffers({"values": full["values"]})
    js = len(json.dumps(state, separators=(",", ":")).encode())
    binary = sum(memoryview(b).nbytes for b in buffers)
    rest, _p, rest_buffers = _remove_buffers({k: v for k, v in full.items() if k != "values"})
    other = len(json.dumps(rest, separators=(",", ":")).encode()) + sum(memoryview(b).nbytes for b in rest_buffers)
    w.close()
    return js, binary, other


def json_list_bytes(values: np.ndarray) -> int:
    return len(json.dumps(values.astype(np.float32).tolist(), separators=(",", ":")).encode())


PAGE = """<!doctype html><html><body><div id="host"></div>
<script type="module">
import widget from "./widget.js";
function b64(s) { const bin = atob(s); const u = new Uint8Array(bin.length + 8);
  for (let i = 0; i < bin.length; i++) u[i + 8] = bin.charCodeAt(i);
  return new DataView(u.buffer, 8, bin.length); }   // a view at an offset, as in a real message
window.makeModel = (state) => {
  const handlers = new Map();
  for (const k of Object.keys(state)) if (state[k] && state[k].data64 !== undefined) {
    const e = state[k]; state[k] = {...e, data: b64(e.data64)}; delete state[k].data64; }
  return {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; (handlers.get("change:" + k) || []).forEach((f) => f()); },
    on: (ev, f) => { for (const e of ev.split(" ")) { if (!handlers.has(e)) handlers.set(e, []); handlers.get(e).push(f); } },
    off: (ev, f) => { if (!ev) { handlers.clear(); return; } for (const e of ev.split(" ")) handlers.set(e, (handlers.get(e) || []).filter((g) => f && g !== f)); },
    save_changes: () => {}, send: () => {}, widget_manager: {},
  };
};
window.renderView = async (state) => {
  const host = document.getElementById("host"); host.textContent = "";
  const el = document.createElement("div"); host.appendChild(el);
  window.model = window.makeModel(state);
  const t0 = performance.now();
  window.cleanup = await widget.render({ model: window.model, el });
  return performance.now() - t0;
};
window.ready = true;
</script></body></html>"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def heatmap_state(values: np.ndarray, precision: str) -> dict:
    enc = encode_array(values, precision)
    enc = {**enc, "data64": base64.b64encode(bytes(enc["data"])).decode()}
    del enc["data"]
    return {
        "_view": "heatmap", "error": "", "busy": False, "title": "", "values": enc, "image": None,
        "reduce": "sum", "sign": "both", "cmap": "auto", "opacity": 0.6, "clip_percentile": 99.0,
        "threshold": 0.0, "show_controls": True, "width": 280, "selected": None,
        "value_label": "attribution",
    }


def draw_times(values: np.ndarray, precision: str, tmp: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    (tmp / "index.html").write_text(PAGE)
    shutil.copy(ROOT / "nbexplain" / "static" / "widget.js", tmp / "widget.js")
    handler = functools.partial(_QuietHandler, directory=str(tmp))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
            page.wait_for_function("window.ready === true")
            state = heatmap_state(values, precision)
            render_ms = page.evaluate("(s) => window.renderView(s)", state)
            first = float(page.get_attribute(".nbx-heatmap", "data-draw-ms") or "nan")
            recolour, full = [], []
            cmaps = ["viridis", "RdBu_r"]
            other = heatmap_state(values * 0.5, precision)["values"]
            for i in range(30):
                page.evaluate("(c) => window.model.set('cmap', c)", cmaps[i % 2])
                recolour.append(float(page.get_attribute(".nbx-heatmap", "data-draw-ms")))
                v = other if i % 2 == 0 else state["values"]
                page.evaluate(
                    "(v) => { const e = {...v}; const bin = atob(e.data64); const u = new Uint8Array(bin.length);"
                    " for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i); delete e.data64;"
                    " e.data = new DataView(u.buffer); window.model.set('values', e); }",
                    v,
                )
                full.append(float(page.get_attribute(".nbx-heatmap", "data-draw-ms")))
            browser.close()
    finally:
        server.shutdown()
    return {
        "render_ms": render_ms, "first_draw_ms": first,
        "recolour_median_ms": statistics.median(recolour), "full_redraw_median_ms": statistics.median(full),
    }


def main() -> None:
    import tempfile

    rng = np.random.default_rng(0)
    maps = {"224x224": rng.standard_normal((224, 224)), "3x224x224": rng.standard_normal((3, 224, 224))}
    print(f"machine: {platform.machine()} {platform.processor() or ''} {platform.system()} python {platform.python_version()}")
    print("\n## Bytes on the wire for the map (the `values` trait: JSON header + binary buffer)")
    print(f"{'map':<10} {'encoding':<9} {'json B':>8} {'binary B':>10} {'total B':>10} {'vs f32':>7} {'vs JSON list':>13}")
    for name, v in maps.items():
        jl = json_list_bytes(v)
        f32 = sum(wire_bytes(v, "float32")[:2])
        for precision in ("float32", "float16", "uint8"):
            js, binary, other = wire_bytes(v, precision)
            total = js + binary
            print(f"{name:<10} {precision:<9} {js:>8} {binary:>10} {total:>10} {total / f32:>7.2f} {total / jl:>13.3f}")
        print(f"{name:<10} {'JSON list':<9} {jl:>8} {0:>10} {jl:>10} {jl / f32:>7.2f} {1:>13.3f}")
    print(f"(the rest of a Heatmap's state, sent once per widget: {other} B, mostly the bundle source)")
    print("\n## Chromium: decode + reduce + colour + putImageData (ms, performance.now in the page)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, v in maps.items():
            for precision in ("float32", "float16"):
                runs = [draw_times(v, precision, Path(tmp)) for _ in range(3)]  # a fresh page each
                t = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                print(f"{name:<10} {precision:<8} first draw {t['first_draw_ms']:6.2f}  recolour median {t['recolour_median_ms']:6.2f}"
                      f"  full redraw median {t['full_redraw_median_ms']:6.2f}  (whole render() incl. DOM {t['render_ms']:.1f})")
        print("(each figure: median over 3 fresh pages; redraws: median of 30 within a page)")


if __name__ == "__main__":
    main()
