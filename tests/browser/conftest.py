"""Fixtures for the real-browser tests: one Jupyter server per app and session, Debian's chromium.

A server runs in a private temporary Jupyter home (config, data, runtime, settings, workspaces,
IPython), serves a temporary copy of ``tests/notebooks/``, and starts kernels with this very
Python (a kernelspec written into the private data dir points at ``sys.executable``). The venv's
``share/jupyter`` stays on the data path, so the anywidget and ipywidgets lab extensions load.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO_ROOT / "tests" / "notebooks"

# Checked on this machine kind (see RECIPE.md): Playwright's own browsers cannot be downloaded.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SERVER_START_TIMEOUT_S = 60.0


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's chromium (``/usr/bin/chromium``) instead of a Playwright download."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not on PATH: apt-get install -y chromium (see RECIPE.md)")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A viewport wide enough that the notebook and its widgets are not squeezed."""
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@dataclass(frozen=True)
class JupyterServer:
    """A running Jupyter server: ``url`` ends without a slash; ``root_dir`` holds the notebooks."""

    app: str  # "lab" or "notebook"
    url: str
    root_dir: Path
    home: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, n_chars: int = 4000) -> str:
        """The last characters of the server's log, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_kernelspec(data_dir: Path) -> None:
    """A ``python3`` kernelspec that starts this interpreter (the venv's), shadowing any other."""
    spec_dir = data_dir / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f",
                 "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"jupyter exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"jupyter did not answer /api/status in {SERVER_START_TIMEOUT_S} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # the server shuts its kernels down on SIGTERM (2-5 s)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _start_server(app: str, tmp: Path) -> Iterator[JupyterServer]:
    home = tmp / "home"
    root_dir = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, root_dir)
    env = dict(os.environ)
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True)
        env[name] = str(path)
    _write_kernelspec(dirs["JUPYTER_DATA_DIR"])
    # The kernel imports nbexplain from this checkout whether or not it is pip-installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("JUPYTER_PATH", None)
    env["PYTHONUNBUFFERED"] = "1"
    # Lab's "news" and update checks would try the network; keep the page quiet and offline.
    settings = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # Every cell stays in the DOM (no virtual scrolling), so off-screen widgets render too.
    tracker = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / f"jupyter-{app}.log"
    cmd = [
        sys.executable, "-m", "jupyter", app,
        "--no-browser", "--allow-root", f"--port={port}",
        "--ServerApp.token=", "--ServerApp.password=",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.disable_check_xsrf=False",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=root_dir, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(url, proc, log_path)
        yield JupyterServer(app, url, root_dir, home, proc, log_path)
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """JupyterLab 4 serving a temp copy of tests/notebooks/ (one per test session)."""
    yield from _start_server("lab", tmp_path_factory.mktemp("jupyterlab"))


@pytest.fixture(scope="session")
def notebook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """Jupyter Notebook 7 serving a temp copy of tests/notebooks/ (one per test session)."""
    yield from _start_server("notebook", tmp_path_factory.mktemp("notebook7"))


@pytest.fixture
def nb(request: pytest.FixtureRequest, page: Any, jupyter_server: JupyterServer, nbx_bundle: Any) -> Iterator[Any]:
    """The test notebook named by ``@pytest.mark.notebook("<name>.ipynb")``, open in Lab with a
    ready kernel (the front-end bundle built first); its kernel client is closed afterwards."""
    from .lab import open_notebook

    marker = request.node.get_closest_marker("notebook")
    if marker is None or not marker.args:
        raise pytest.UsageError("the nb fixture needs @pytest.mark.notebook('<name>.ipynb') on the test or module")
    notebook = open_notebook(page, jupyter_server, marker.args[0])
    yield notebook
    notebook.close()
