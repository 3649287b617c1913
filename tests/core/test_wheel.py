"""The Python build produces a wheel that carries the front-end bundle.

Builds a wheel from a clean copy of the tracked sources (no prebuilt ``nbexplain/static``), so the
build itself must run npm and esbuild (hatch-jupyter-builder), exactly as ``pip install .`` does.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_the_bundle(tmp_path: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    src = tmp_path / "src"
    for name in files:
        if not (ROOT / name).is_file():
            continue
        dest = src / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest)
    assert not (src / "nbexplain" / "static").exists()
    # Reuse the installed node_modules to keep the test fast and offline-friendly.
    (src / "node_modules").symlink_to(ROOT / "node_modules")
    out = tmp_path / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(src)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = out.glob("nbexplain-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        js = zf.read("nbexplain/static/widget.js").decode()
    assert "nbexplain/static/widget.css" in names
    assert "nbexplain/static/loader.js" in names  # the per-view stub (the bundle travels once)
    assert "nbexplain/codec.py" in names
    # The review corpus the text classifier and the demo notebook use ships as package data.
    assert "nbexplain/datasets/reviews.tsv" in names
    # Every view the Python widgets name is in the bundle's dispatch table.
    for view in ("sample_table", "text_tokens", "beeswarm", "confusion_matrix", "model_graph", "channel_grid"):
        assert f"{view}:" in js or f'"{view}"' in js, view
    # One self-contained ES module: a default export, nothing fetched from elsewhere.
    assert "export" in js and "default" in js
    assert "http://" not in js.replace("http://www.w3.org", "") and "https://" not in js
    assert "<script" not in js
