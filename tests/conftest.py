"""Shared fixtures: the built front-end bundle, and a comm that records what widgets send."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from comm.base_comm import BaseComm
from notebook_runs import NotebookRuns

# Keras 3 runs on torch here (the only backend installed): set before anything imports keras, so
# that notebook kernels started by the tests inherit it too.
os.environ.setdefault("KERAS_BACKEND", "torch")

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "nbexplain" / "static" / "widget.js"


@pytest.fixture(scope="session")
def nbx_bundle() -> Path:
    """The built bundle; built once with ``npm run build`` if missing, else the test is skipped."""
    if not BUNDLE.is_file() and shutil.which("npm") and (ROOT / "js" / "src" / "index.ts").is_file():
        proc = subprocess.run(["npm", "run", "build"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            pytest.skip(f"nbexplain/static/widget.js is missing and `npm run build` failed: {proc.stderr[-400:]}")
    if not BUNDLE.is_file():
        pytest.skip("nbexplain/static/widget.js is missing: run `npm install && npm run build`")
    return BUNDLE


class RecordingComm(BaseComm):  # type: ignore[misc]
    """A real comm (the ``comm`` package's ``BaseComm``) that keeps every message it would send."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.messages: list[dict[str, Any]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any) -> None:
        self.messages.append({"msg_type": msg_type, "data": data, "buffers": list(buffers or [])})


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widgets created in this test get a comm whose ``.messages`` list what was sent."""
    import comm

    monkeypatch.setattr(comm, "create_comm", RecordingComm)


@pytest.fixture
def venv_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ``python3`` kernelspec for this interpreter, first on the Jupyter path; nbexplain importable."""
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (nbexplain tests)",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return "python3"


@pytest.fixture(scope="session")
def notebook_runs(tmp_path_factory: pytest.TempPathFactory, nbx_bundle: Path) -> NotebookRuns:
    """Notebooks executed once per session and shared: ``notebook_runs.run(path)`` (tests/notebook_runs.py)."""
    return NotebookRuns(tmp_path_factory.mktemp("notebook-runs"))
