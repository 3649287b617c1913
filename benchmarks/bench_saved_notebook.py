"""Saved-notebook size: the demo Dashboard notebook run and saved with its widget state.

Run: ``.venv/bin/python benchmarks/bench_saved_notebook.py`` (about 15 s on 2 cores).

``notebooks/dashboard.ipynb`` (three Dashboards: a table, images, texts) is run with nbclient and
written with every widget's state (``python -m nbexplain.export --to notebook``). Printed: the
file size, the bytes of array data in it, the models, how many carry the bundle, and the orphans
(saved models no output refers to, directly or through other models). The peer is the previous
design, one copy of the bundle and the CSS per view: its size is this file plus, for every
nbexplain view, the bundle and CSS minus the stub (computed from the same run, not re-run).
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STATE_MIME = "application/vnd.jupyter.widget-state+json"


def measure(saved: Path) -> dict[str, float]:
    """Sizes and counts of a saved notebook's widget state."""
    nb = json.loads(saved.read_text(encoding="utf-8"))
    state = nb["metadata"]["widgets"][STATE_MIME]["state"]
    data = sum(len(b.get("data", "")) for m in state.values() for b in m.get("buffers", []))
    views = [m for m in state.values() if m["state"].get("_view")]
    bundles = [m for m in state.values() if len(m["state"].get("_esm", "")) > 50_000]
    stack = re.findall(r'"model_id": "([0-9a-f]+)"', json.dumps(nb["cells"]))
    seen: set[str] = set()
    while stack:
        mid = stack.pop()
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        stack.extend(re.findall(r"(?:IPY_MODEL_|anywidget:)([0-9a-f]+)", json.dumps(state[mid]["state"])))
    bundle = len(bundles[0]["state"]["_esm"]) + len(bundles[0]["state"].get("_css", "")) if bundles else 0
    stub = len(views[0]["state"].get("_esm", "")) if views else 0
    size = saved.stat().st_size
    return {"size": size, "data": data, "models": len(state), "views": len(views), "bundles": len(bundles),
            "orphans": len(state) - len(seen), "per_view_size": size + len(views) * (bundle - stub)}


def main() -> None:
    from nbexplain.export import save_notebook

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "dashboard.ipynb"
        shutil.copy2(ROOT / "notebooks" / "dashboard.ipynb", src)
        t0 = time.perf_counter()
        saved = save_notebook(src, timeout=300)
        seconds = time.perf_counter() - t0
        m = measure(saved)
    print(f"machine: {platform.machine()} {platform.system()}, Python {platform.python_version()}")
    print(f"notebooks/dashboard.ipynb run and saved in {seconds:.1f} s")
    print(f"  saved file        {m['size'] / 1e6:.2f} MB ({m['data'] / 1e6:.2f} MB of it array data)")
    print(f"  models            {m['models']:.0f}, {m['views']:.0f} nbexplain views, "
          f"{m['bundles']:.0f} carrying the bundle, {m['orphans']:.0f} orphans")
    print(f"  one bundle per view (the previous design), same run: {m['per_view_size'] / 1e6:.2f} MB "
          f"-> ratio {m['per_view_size'] / m['size']:.1f}x smaller now")


if __name__ == "__main__":
    main()
