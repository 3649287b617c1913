"""Dataset-wide runs on a Dask LocalCluster of two worker processes: bitwise the same as in-process, whatever
the order chunks finish in; a worker killed mid-run; cancel and resume (nbexplain/scale/run.py, chunk.py)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.scale import ExplanationStore, explain_dataset
from nbexplain.scale.chunk import explain_chunk
from tests.scale_support import (
    assert_stores_equal,
    cnn,
    commit_records,
    kernel_shap,
    local_cluster,
    mlp,
    table,
)


@pytest.fixture(scope="module")
def client() -> Any:
    with local_cluster() as c:
        yield c


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return table(240)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(1).random((48, 1, 8, 8)).astype(np.float32)


SLOW_ROWS, SLOW_CHUNK = 360, 20  # 18 chunks of about 0.2 s each: time to cancel or kill a worker in the middle


@pytest.fixture(scope="module")
def slow() -> tuple[Any, np.ndarray]:
    """A sampled KernelShap over 20 features (as the issue's benchmark) and its table."""
    X20 = table(SLOW_ROWS, features=20)
    return kernel_shap(mlp(features=20), X20, n_samples=4000), X20


@pytest.fixture(scope="module")
def slow_reference(slow: tuple[Any, np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The slow run, uninterrupted and in-process."""
    path = tmp_path_factory.mktemp("slow") / "s.zarr"
    run = explain_dataset(*slow, store=str(path), chunk_size=SLOW_CHUNK, sync=True)
    assert run.error is None and run.done
    return path


@pytest.fixture(scope="module")
def reference(X: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ref") / "s.zarr"
    run = explain_dataset(kernel_shap(mlp(), X), X, store=str(path), chunk_size=40, sync=True)
    assert run.error is None and run.done
    return path


def test_kernel_shap_on_two_workers_equals_in_process_bitwise(client: Any, X: np.ndarray, reference: Path,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "d.zarr"
    run = explain_dataset(kernel_shap(mlp(), X), X, store=str(path), chunk_size=40, client=client, in_flight=3)
    assert run.wait(120) and run.error is None, run.error
    assert sorted(run.written) == list(range(6))
    assert_stores_equal(reference, path)
    # both workers took part (the explainer was scattered to each; chunks were spread)
    assert len(client.scheduler_info()["workers"]) == 2


def test_integrated_gradients_on_a_cnn_on_two_workers_equals_in_process_bitwise(client: Any, images: np.ndarray,
                                                                                tmp_path: Path) -> None:
    ig = nbx.IntegratedGradients(cnn(), steps=16)
    a = explain_dataset(ig, images, store=str(tmp_path / "a.zarr"), chunk_size=8, sync=True)
    b = explain_dataset(ig, images, store=str(tmp_path / "b.zarr"), chunk_size=8, client=client)
    assert b.wait(120) and a.error is None and b.error is None, (a.error, b.error)
    assert ExplanationStore.open(tmp_path / "b.zarr").meta["feature_shape"] == [1, 8, 8]
    assert_stores_equal(tmp_path / "a.zarr", tmp_path / "b.zarr")
    assert "data" not in ExplanationStore.open(tmp_path / "a.zarr").arrays()  # images are not copied by default


def test_chunks_finishing_in_another_order_give_the_same_bytes(X: np.ndarray, reference: Path, tmp_path: Path) -> None:
    """Chunks explained and written in a shuffled order (as workers finish them) make the same store."""
    ref = ExplanationStore.open(reference)
    store = ExplanationStore.create(tmp_path / "shuffled.zarr", dict(ref.meta))
    ks = kernel_shap(mlp(), X)
    for k in [4, 1, 5, 3, 0, 2]:
        a, b = store.ranges[k]
        out = explain_chunk(ks, X[a:b], start=a, stop=b, seed=0)
        out["data"] = X[a:b].astype(np.float64)
        from nbexplain.scale.store import chunk_seed

        store.write_chunk(k, out, seed=chunk_seed(0, a, b))
    assert_stores_equal(reference, tmp_path / "shuffled.zarr")


def test_cancel_then_resume_on_the_cluster_equals_an_uninterrupted_run(client: Any, slow: tuple[Any, np.ndarray],
                                                                       slow_reference: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.zarr"
    total = SLOW_ROWS // SLOW_CHUNK
    run = explain_dataset(*slow, store=str(path), chunk_size=SLOW_CHUNK, client=client, in_flight=1)
    deadline = time.monotonic() + 60
    while run.chunks_done < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    run.cancel()
    assert run.wait(60)
    status = run.status()
    assert status["state"] == "cancelled", status
    assert 2 <= status["chunks_done"] < total and "run the same call again to resume" in status["text"]
    kept = ExplanationStore.open(path)
    assert kept.finished() == kept.finished(verify=True) == sorted(run.written)  # every kept chunk is whole
    resumed = explain_dataset(*slow, store=str(path), chunk_size=SLOW_CHUNK, client=client)
    assert resumed.wait(120) and resumed.error is None, resumed.error
    assert not set(resumed.written) & set(run.written)  # nothing computed twice
    assert sorted(resumed.written + run.written) == list(range(total))
    assert_stores_equal(slow_reference, path)


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_no_chunk_and_writes_none_twice(slow: tuple[Any, np.ndarray],
                                                                     slow_reference: Path, tmp_path: Path) -> None:
    path = tmp_path / "k.zarr"
    total = SLOW_ROWS // SLOW_CHUNK
    with local_cluster() as c:
        run = explain_dataset(*slow, store=str(path), chunk_size=SLOW_CHUNK, client=c, in_flight=2)
        deadline = time.monotonic() + 60
        while run.chunks_done < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not run.task.finished, "the run ended before a worker could be killed; make the chunks slower"
        # the victim holds the explainer (Dask's memory manager keeps one copy of a result nobody else waits
        # for): its death must not take the model with it
        holders = [w for key, ws in c.who_has().items() if str(key).startswith("nbexplain-explainer") for w in ws]
        victim = holders[0] if holders else sorted(c.scheduler_info()["workers"])[0]
        pid = c.run(os.getpid, workers=[victim])[victim]
        while not c.processing(workers=[victim])[victim] and time.monotonic() < deadline:
            time.sleep(0.005)  # kill it while it holds a chunk
        assert c.processing(workers=[victim])[victim], "the victim had no chunk in flight"
        os.kill(pid, signal.SIGKILL)  # the worker process dies at once (as an out-of-memory kill), its tasks with it
        assert run.wait(180), "the run did not finish after a worker died"
        assert run.error is None, run.error
        assert victim not in c.scheduler_info()["workers"]  # it really died (the nanny started a new one)
    records = commit_records(path)
    assert [r["chunk"] for r in records] == list(range(total))  # every chunk committed, once
    assert sorted(run.written) == list(range(total))  # each written exactly once
    assert_stores_equal(slow_reference, path)


def test_workers_with_dask_default_malloc_are_named_with_the_fix(client: Any, X: np.ndarray, tmp_path: Path) -> None:
    """Dask's MALLOC_TRIM_THRESHOLD_=65536 slows KernelSHAP 2.5x on a worker: the run says so, with the fix."""
    import warnings

    from nbexplain.scale.run import MALLOC_FIX, slow_malloc_workers

    assert slow_malloc_workers(client) == []  # the test cluster starts under MALLOC_FIX
    client.run(lambda: os.environ.__setitem__("MALLOC_TRIM_THRESHOLD_", "65536"))  # as Dask's nanny sets it
    try:
        assert len(slow_malloc_workers(client)) == 2
        with pytest.warns(UserWarning, match=r"MALLOC_TRIM_THRESHOLD_.*2\.5x slower.*pre-spawn-environ"):
            run = explain_dataset(nbx.Saliency(_linear()), X[:8], store=str(tmp_path / "s.zarr"), client=client,
                                  chunk_size=4, sync=True)
        assert run.done and MALLOC_FIX.startswith("dask.config.set(")
    finally:
        client.run(lambda: os.environ.pop("MALLOC_TRIM_THRESHOLD_", None))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # back to quiet
        assert slow_malloc_workers(client) == []


def _linear() -> Any:
    import torch

    torch.manual_seed(0)
    return torch.nn.Linear(6, 2)  # the columns of table()
