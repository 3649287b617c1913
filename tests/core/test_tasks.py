"""TaskRunner (order, replace, cancel, errors, sync, wait, states), batched explain/predict."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
import torch

from nbexplain.explainers.gradients.saliency import Saliency
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.models import predict_proba
from nbexplain.tasks import (
    Cancelled,
    TaskControl,
    TaskRunner,
    explain_dataset,
    predict_dataset,
)
from tests.torch_models import mlp


@pytest.fixture
def runner() -> Any:
    r = TaskRunner(progress_interval=0.0)
    yield r
    r.close()


def blocker() -> tuple[threading.Event, threading.Event, Any]:
    """A task that signals it started and then loops on check() until released."""
    started, release = threading.Event(), threading.Event()

    def fn(control: TaskControl) -> str:
        started.set()
        while not release.is_set():
            control.check()
            time.sleep(0.002)
        return "released"

    return started, release, fn


def test_tasks_run_serially_in_submission_order(runner: TaskRunner) -> None:
    log: list[tuple[str, int]] = []
    threads: set[str] = set()

    def make(i: int) -> Any:
        def fn(control: TaskControl) -> int:
            threads.add(threading.current_thread().name)
            log.append(("start", i))
            time.sleep(0.005)
            log.append(("end", i))
            return i * i
        return fn

    results: list[int] = []
    tasks = [runner.submit(make(i), on_done=results.append) for i in range(5)]
    assert runner.wait(10)
    assert log == [(e, i) for i in range(5) for e in ("start", "end")]
    assert results == [0, 1, 4, 9, 16]
    assert [t.state for t in tasks] == ["done"] * 5
    assert threads == {"nbexplain-tasks"} and not runner.busy


def test_replace_drops_queued_and_cancels_running(runner: TaskRunner) -> None:
    started, release, fn = blocker()
    done: list[Any] = []
    first = runner.submit(fn, replace="slider", on_done=done.append)
    assert started.wait(5)
    other = runner.submit(lambda c: "other", replace="x", on_done=done.append)
    second = runner.submit(lambda c: "second", replace="slider", on_done=done.append)
    third = runner.submit(lambda c: "third", replace="slider", on_done=done.append)
    assert second.state == "cancelled" and second.finished  # dropped from the queue at once
    assert runner.wait(5)
    assert first.state == "cancelled" and first.result is None
    assert (other.state, third.state) == ("done", "done")
    assert done == ["other", "third"]  # the running one stopped at its next check, no on_done
    release.set()


def test_a_task_that_ignores_check_but_was_cancelled_delivers_nothing(runner: TaskRunner) -> None:
    gate = threading.Event()
    got: list[Any] = []
    t = runner.submit(lambda c: gate.wait(5) and "stale", on_done=got.append)
    time.sleep(0.02)
    runner.cancel()
    gate.set()
    assert runner.wait(5)
    assert t.state == "cancelled" and got == []


def test_cancel_then_new_tasks_still_run(runner: TaskRunner) -> None:
    started, _release, fn = blocker()
    running = runner.submit(fn)
    queued = runner.submit(lambda c: "never")
    assert started.wait(5)
    runner.cancel()
    assert runner.wait(5)
    assert (running.state, queued.state) == ("cancelled", "cancelled")
    after = runner.submit(lambda c: "after")
    assert after.wait(5) and after.result == "after" and runner.state["last"] == "done"


def test_errors_go_to_on_error_and_the_worker_lives_on(runner: TaskRunner) -> None:
    errors: list[BaseException] = []

    def bad(control: TaskControl) -> None:
        raise ValueError("boom")

    t = runner.submit(bad, label="bad", on_error=errors.append, on_done=lambda r: errors.append(AssertionError()))
    assert runner.wait(5)
    assert t.state == "error" and isinstance(t.error, ValueError) and [str(e) for e in errors] == ["boom"]
    assert runner.state["last"] == "error" and runner.state["message"] == "ValueError: boom"
    # A failing on_done is an error too; a failing on_error handler is logged, not fatal.
    t2 = runner.submit(lambda c: 1, on_done=lambda r: 1 / 0, on_error=errors.append)
    t3 = runner.submit(bad, on_error=lambda e: 1 / 0)
    t4 = runner.submit(lambda c: "alive")
    assert runner.wait(5)
    assert isinstance(errors[-1], ZeroDivisionError) and t2.state == "error"
    assert t3.state == "error" and t4.result == "alive"


def test_sync_mode_runs_inline_with_states() -> None:
    r = TaskRunner(sync=True, progress_interval=0.0)
    states: list[dict[str, Any]] = []
    r.on_state(states.append)
    caller = threading.current_thread()
    seen: list[Any] = []

    def fn(control: TaskControl) -> str:
        seen.append(threading.current_thread())
        control.progress(1, 2, "half")
        control.progress(2, 2)
        return "ok"

    t = r.submit(fn, label="inline")
    assert t.state == "done" and t.result == "ok" and seen == [caller]
    assert [(s["running"], s["done"], s["total"], s["message"], s["last"]) for s in states] == [
        (True, 0.0, None, "", ""),
        (True, 1.0, 2.0, "half", ""),
        (True, 2.0, 2.0, "", ""),
        (False, 2.0, 2.0, "", "done"),
    ]
    assert all(s["label"] == "inline" for s in states) and r.wait(0) and not r.busy
    cancelled = r.submit(lambda c: (c.cancel(), c.check()))
    assert cancelled.state == "cancelled" and states[-1]["last"] == "cancelled"


def test_wait_times_out_while_busy_and_state_sequence(runner: TaskRunner) -> None:
    states: list[dict[str, Any]] = []
    unsubscribe = runner.on_state(states.append)
    started, release, fn = blocker()

    def task(control: TaskControl) -> None:
        control.progress(0, None, "warming up")
        fn(control)

    runner.submit(task, label="slow")
    assert started.wait(5)
    t0 = time.monotonic()
    assert runner.wait(0.1) is False and time.monotonic() - t0 >= 0.09
    assert runner.busy and runner.state["running"] and runner.state["label"] == "slow"
    release.set()
    assert runner.wait(5) is True
    assert [(s["running"], s["message"], s["last"]) for s in states] == [
        (True, "", ""), (True, "warming up", ""), (False, "", "done")]
    assert states[-1]["elapsed"] >= 0.09
    unsubscribe()
    runner.submit(lambda c: None)
    runner.wait(5)
    assert len(states) == 3


def test_progress_is_throttled_but_the_final_state_is_sent() -> None:
    r = TaskRunner(progress_interval=10.0)
    states: list[dict[str, Any]] = []
    r.on_state(states.append)

    def fn(control: TaskControl) -> None:
        for i in range(1, 101):
            control.progress(i, 100)

    r.submit(fn)
    assert r.wait(5)
    r.close()
    assert [s["done"] for s in states] == [0.0, 100.0, 100.0]


def test_close_stops_the_worker_and_refuses_new_tasks() -> None:
    r = TaskRunner()
    started, _release, fn = blocker()
    t = r.submit(fn)
    assert started.wait(5)
    thread = r._thread
    r.close()
    assert t.state == "cancelled" and thread is not None and not thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        r.submit(lambda c: None)


def test_bad_arguments_name_the_problem() -> None:
    r = TaskRunner(sync=True)
    with pytest.raises(TypeError, match="callable fn"):
        r.submit("not a function")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="replace must be"):
        r.submit(lambda c: None, replace=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        explain_dataset(Saliency(mlp()), np.zeros((2, 6)), batch_size=0)
    with pytest.raises(ValueError, match="one target per row"):
        explain_dataset(Saliency(mlp()), np.zeros((4, 6)), target=[0, 1])
    with pytest.raises(ValueError, match="X is empty"):
        predict_dataset(mlp(), np.zeros((0, 6)))


def _progress_log() -> tuple[TaskControl, list[tuple[float, float | None]]]:
    log: list[tuple[float, float | None]] = []
    return TaskControl(lambda d, t, m: log.append((d, t))), log


def test_explain_dataset_batched_equals_whole_saliency() -> None:
    model = mlp(6, 4)
    X = torch.randn(23, 6, generator=torch.Generator().manual_seed(0))
    whole = Saliency(model).explain(X)
    control, log = _progress_log()
    batched = explain_dataset(Saliency(model), X, batch_size=5, control=control)
    np.testing.assert_allclose(batched.values, whole.values, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(batched.target, whole.target)
    np.testing.assert_allclose(batched.outputs, whole.outputs, rtol=1e-6)
    assert log == [(0, 23), (5, 23), (10, 23), (15, 23), (20, 23), (23, 23)]
    per_row = np.arange(23) % 4
    np.testing.assert_allclose(explain_dataset(Saliency(model), X, per_row, batch_size=7).values,
                               Saliency(model).explain(X, per_row).values, rtol=1e-6, atol=1e-7)


def test_explain_dataset_batched_equals_whole_kernel_shap_sklearn() -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    ks = KernelShap(model.predict_proba, X[::10], feature_names=["sl", "sw", "pl", "pw"])
    whole = ks.explain(X[:30], target=2)
    batched = explain_dataset(ks, X[:30], target=2, batch_size=8)
    np.testing.assert_allclose(batched.values, whole.values, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(batched.base_values, whole.base_values)
    assert batched.feature_names == ["sl", "sw", "pl", "pw"] and len(batched) == 30


def test_explain_dataset_cancelled_midway_after_progress() -> None:
    model = mlp(6, 4)
    X = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)
    log: list[float] = []
    control = TaskControl()

    def on_progress(done: float, total: float | None, message: str) -> None:
        log.append(done)
        if done >= 20:
            control.cancel()

    control._on_progress = on_progress
    with pytest.raises(Cancelled):
        explain_dataset(Saliency(model), X, batch_size=10, control=control)
    assert log == [0, 10, 20]


def test_explain_dataset_in_a_runner_reports_cancelled() -> None:
    r = TaskRunner(progress_interval=0.0)
    states: list[dict[str, Any]] = []
    r.on_state(states.append)
    model = mlp(6, 4)
    X = np.zeros((50, 6), dtype=np.float32)

    def fn(control: TaskControl) -> Any:
        def slow_progress(done: float, total: float | None, message: str) -> None:
            if done >= 20:
                r.cancel()
        inner = TaskControl(slow_progress)
        inner._event = control._event  # share the cancel flag
        return explain_dataset(Saliency(model), X, batch_size=10, control=inner)

    t = r.submit(fn, label="explain")
    assert r.wait(10)
    r.close()
    assert t.state == "cancelled" and states[-1]["last"] == "cancelled"


def test_predict_dataset_matches_predict_proba() -> None:
    model = mlp(6, 3)
    X = np.random.default_rng(1).normal(size=(11, 6)).astype(np.float32)
    control, log = _progress_log()
    p = predict_dataset(model, X, batch_size=4, control=control)
    assert p.dtype == np.float32 and p.shape == (11, 3)
    np.testing.assert_allclose(p, predict_proba(model, X), rtol=1e-6)
    assert log == [(0, 11), (4, 11), (8, 11), (11, 11)]
