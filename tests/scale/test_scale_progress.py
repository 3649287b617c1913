"""Progress and cancel of a dataset-wide run, in-process and on Dask, and the run's widget
(DatasetRun.status, DatasetRun.progress: nbexplain/scale/run.py, progress_view.py)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets
import numpy as np
import pytest

from nbexplain.scale import DatasetRun, ExplanationStore, explain_dataset
from nbexplain.scale.progress_view import RunProgress
from tests.scale_support import assert_stores_equal, kernel_shap, local_cluster, mlp, table

ROWS, CHUNK = 240, 20  # 12 chunks of about 0.2 s
LINE = re.compile(r"(\d+) of 12 chunks, [\d,]+ rows/s(, [\d,]+ s left)?")


@pytest.fixture(scope="module")
def slow() -> tuple[Any, np.ndarray]:
    X = table(ROWS, features=20)
    return kernel_shap(mlp(features=20), X, n_samples=4000), X


class Watch:
    """Every state the run's runner reports, and every text its widget showed."""

    def __init__(self, run: DatasetRun) -> None:
        self.states: list[dict[str, Any]] = []
        self.texts: list[str] = []
        self.widget = run.progress
        self.lock = threading.Lock()
        run.runner.on_state(self._state)
        self.widget.bar.text.observe(lambda ch: self.texts.append(ch["new"]), names=["value"])

    def _state(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.states.append(state)


def wait_for(run: DatasetRun, chunks: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while run.chunks_done < chunks and time.monotonic() < deadline:
        time.sleep(0.01)


def check_progress(watch: Watch, run: DatasetRun) -> None:
    running = [s for s in watch.states if s["running"] and s["total"]]
    assert running, "no progress was reported"
    assert all(s["total"] == 12 for s in running)
    done = [s["done"] for s in running]
    assert done == sorted(done) and done[-1] == 12
    for s in running:
        m = LINE.fullmatch(s["message"])
        assert m, s["message"]
        assert int(m.group(1)) == s["done"]
    assert any(", s left" in s["message"] or " s left" in s["message"] for s in running[:-1])  # an ETA while it runs
    shown = [t for t in watch.texts if t]
    assert shown and all(t.startswith("explaining the data set: ") for t in shown)  # the widget showed them
    assert any(LINE.search(t) for t in shown)
    status = run.status()
    assert status["state"] == "done" and status["chunks_done"] == 12 and status["rows_left"] == 0
    assert status["rows_per_second"] > 0 and status["eta_s"] == 0
    assert watch.widget.summary.value.startswith("done: 12 of 12 chunks, ")


@pytest.mark.usefixtures("nbx_bundle")
def test_in_process_run_reports_progress_in_its_widget(slow: tuple[Any, np.ndarray], tmp_path: Path) -> None:
    run = explain_dataset(*slow, store=str(tmp_path / "s.zarr"), chunk_size=CHUNK)
    watch = Watch(run)
    assert isinstance(run.progress, ipywidgets.Widget) and isinstance(run.progress, RunProgress)
    assert callable(getattr(run, "_ipython_display_", None))  # shown in a cell, a run shows this widget
    assert run.wait(60) and run.error is None
    check_progress(watch, run)
    run.progress.close()


@pytest.mark.usefixtures("nbx_bundle")
def test_the_cancel_button_stops_the_run_and_keeps_finished_chunks(slow: tuple[Any, np.ndarray], tmp_path: Path) -> None:
    ref = tmp_path / "ref.zarr"
    explain_dataset(*slow, store=str(ref), chunk_size=CHUNK, sync=True)
    path = tmp_path / "s.zarr"
    run = explain_dataset(*slow, store=str(path), chunk_size=CHUNK)
    widget = run.progress
    wait_for(run, 2)
    widget.bar.cancel_button.click()  # what the user clicks
    assert run.wait(30)
    status = run.status()
    assert status["state"] == "cancelled" and 2 <= status["chunks_done"] < 12
    assert "run the same call again to resume" in widget.summary.value
    kept = ExplanationStore.open(path)
    assert kept.finished() == kept.finished(verify=True) == list(range(status["chunks_done"]))
    resumed = explain_dataset(*slow, store=str(path), chunk_size=CHUNK, sync=True)
    assert resumed.written == list(range(status["chunks_done"], 12))
    assert_stores_equal(ref, path)
    widget.close()


@pytest.mark.slow
@pytest.mark.usefixtures("nbx_bundle")
def test_a_dask_run_reports_progress_in_its_widget(slow: tuple[Any, np.ndarray], tmp_path: Path) -> None:
    with local_cluster() as client:
        run = explain_dataset(*slow, store=str(tmp_path / "d.zarr"), chunk_size=CHUNK, client=client)
        watch = Watch(run)
        assert run.wait(120) and run.error is None, run.error
    check_progress(watch, run)
    run.progress.close()


def test_a_failed_run_says_why(tmp_path: Path) -> None:
    X = table(40)

    class Broken:
        method = "broken"
        seed = 0

        def explain(self, rows: Any) -> Any:
            raise RuntimeError("the model is on fire")

    with pytest.raises(RuntimeError, match="on fire"):
        explain_dataset(Broken(), X, store=str(tmp_path / "b.zarr"), chunk_size=20, sync=True)
    run = explain_dataset(Broken(), X, store=str(tmp_path / "b.zarr"), chunk_size=20)
    assert run.wait(30)
    status = run.status()
    assert status["state"] == "error" and "RuntimeError: the model is on fire" in status["text"]
