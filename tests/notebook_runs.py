"""Each notebook executed once per test session, and shared by every test that needs its outputs.

Executing a teaching notebook takes 10-60 s on this 2-core machine; the execution test
(``tests/core/test_notebooks_execute.py``) and the offline-export browser test
(``tests/browser/apps/test_notebooks_export_browser.py``) both need the executed notebook, so
:class:`NotebookRuns` (the session fixture ``notebook_runs`` in ``tests/conftest.py``) runs each
one the first time a test asks for it and hands out the same result afterwards. A failure is
remembered too: the next test that asks gets the same error at once instead of a second run.

A notebook runs the way ``python -m nbexplain.export`` runs it (``nbexplain._notebook_run.execute``:
nbclient, widget state stored and compacted, a failing cell named in the error), in a private copy
of its folder (notebooks may write files beside them), on a ``python3`` kernelspec that starts
this interpreter with this checkout on ``PYTHONPATH``. The executed notebook is written to
``<session tmp>/<folder>-<stem>/executed/<name>``, ready for ``python -m nbexplain.export
--no-execute``.

In a test::

    def test_something(notebook_runs):
        run = notebook_runs.run(ROOT / "notebooks" / "quickstart.ipynb")   # executed once per session
        nb = run.read()                                                    # a fresh copy to inspect
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The user-facing notebooks; every one is executed and exported by the test suite.
USER_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Seconds one cell may run (a whole teaching notebook should take under 90 s).
CELL_TIMEOUT_S = 120
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"


@dataclass(frozen=True)
class NotebookRun:
    """One executed notebook: ``source`` (as checked in), ``executed`` (written with outputs and
    widget state), and the seconds its run took."""

    source: Path
    executed: Path
    seconds: float

    def read(self) -> nbformat.NotebookNode:
        """A fresh copy of the executed notebook (callers may change it)."""
        return nbformat.read(self.executed, as_version=4)


class NotebookRunFailed(RuntimeError):
    """The notebook failed when it was executed earlier in this session (the cause is chained)."""


class NotebookRuns:
    """Executes each notebook at most once; ``run(path)`` returns the shared :class:`NotebookRun`."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._done: dict[Path, NotebookRun | BaseException] = {}
        self._jupyter = workdir / "jupyter"
        spec_dir = self._jupyter / "kernels" / "python3"
        spec_dir.mkdir(parents=True, exist_ok=True)
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (nbexplain notebook runs)",
            "language": "python",
        }))

    def run(self, source: Path, *, timeout: int = CELL_TIMEOUT_S) -> NotebookRun:
        """The executed ``source``; runs it now if no test has asked for it yet in this session.

        Raises :class:`NotebookRunFailed` (chained to ``NotebookExecutionError``, which names the
        failing cell) when it failed, now or earlier.
        """
        source = source.resolve()
        done = self._done.get(source)
        if done is None:
            try:
                done = self._execute(source, timeout)
            except Exception as err:  # remembered: later callers fail at once with the same cause
                done = err
            self._done[source] = done
        if isinstance(done, BaseException):
            raise NotebookRunFailed(f"{source.name} failed when it was executed: {done}") from done
        return done

    def _execute(self, source: Path, timeout: int) -> NotebookRun:
        from nbexplain._notebook_run import execute

        work = self._workdir / f"{source.parent.name}-{source.stem}"
        shutil.copytree(source.parent, work, ignore=shutil.ignore_patterns("*.html", "*_files", ".ipynb_checkpoints"))
        path = work / source.name
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("JUPYTER_PATH", str(self._jupyter))
            mp.setenv("IPYTHONDIR", str(self._workdir / "ipython"))
            mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
            execute(nb, path, timeout=timeout, kernel_name="python3")
        seconds = time.perf_counter() - start
        executed = work / "executed" / source.name
        executed.parent.mkdir()
        nbformat.write(nb, executed)
        return NotebookRun(source, executed, seconds)


def widget_state(nb: nbformat.NotebookNode) -> dict:
    """The notebook's saved widget state: model id -> ``{"model_name", "state", ...}``."""
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})


def nbexplain_views(state: dict) -> list[str]:
    """The ``_view`` of every nbexplain view model in a saved widget state (any view, new ones too)."""
    return [
        str(model["state"]["_view"])
        for model in state.values()
        if isinstance(model.get("state", {}).get("_view"), str) and model["state"]["_view"]
    ]

