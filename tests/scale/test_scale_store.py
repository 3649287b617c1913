"""The store of a dataset-wide run: atomic commits, resume, damaged chunks, refusal of another run's store,
metadata (nbexplain/scale/store.py, run.py, identity.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr

import nbexplain as nbx
from nbexplain.scale import ExplanationStore, StoreMismatchError, explain_dataset
from nbexplain.scale.store import _digest, chunk_seed
from tests.scale_support import (
    CountingExplainer,
    assert_stores_equal,
    commit_records,
    kernel_shap,
    mlp,
    table,
)

NAMES = [f"f{j}" for j in range(6)]
CLASSES = ["low", "mid", "high"]


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return table(240)


@pytest.fixture(scope="module")
def full(X: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted in-process run: 5 chunks of 50 rows (the last one 40)."""
    path = tmp_path_factory.mktemp("full") / "s.zarr"
    ks = kernel_shap(mlp(), X, feature_names=NAMES, class_names=CLASSES)
    run = explain_dataset(ks, X, store=str(path), chunk_size=50, sync=True, seed=3)
    assert run.error is None and run.done
    return path


def counting(X: np.ndarray) -> CountingExplainer:
    return CountingExplainer(kernel_shap(mlp(), X))


def test_each_chunk_is_committed_with_its_digest_and_seed(full: Path, X: np.ndarray) -> None:
    s = ExplanationStore.open(full)
    records = commit_records(full)
    assert [r["chunk"] for r in records] == [0, 1, 2, 3, 4]
    assert [(r["start"], r["stop"]) for r in records] == [(0, 50), (50, 100), (100, 150), (150, 200), (200, 240)]
    assert not [p.name for p in (full / "commits").iterdir() if not p.name.endswith(".json")]  # no temp file left
    for r in records:
        a, b = r["start"], r["stop"]
        assert r["seed"] == chunk_seed(3, a, b)  # the chunk's own seed, from the run's seed and the row range
        arrays = {name: s.read(name, a, b) for name in r["arrays"]}
        assert r["digest"] == _digest(arrays)
        assert sorted(r["arrays"]) == sorted(s.arrays())
    # each chunk equals the explainer run on those rows with the chunk's seed
    ks = kernel_shap(mlp(), X, feature_names=NAMES, class_names=CLASSES)
    ks.seed = chunk_seed(3, 50, 100)
    direct = ks.explain(X[50:100])
    np.testing.assert_allclose(s.read("values", 50, 100), direct.values, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(s.read("target", 50, 100), direct.target)
    np.testing.assert_array_equal(s.read("data", 50, 100), X[50:100].astype(np.float64))
    # rows that are equal but in other chunks get other samples: the per-chunk seeds are used
    assert not np.array_equal(s.read("values", 0, 50), ks.explain(X[0:50]).values.astype(np.float32))


def test_metadata_is_stored_and_read_back(full: Path, X: np.ndarray) -> None:
    meta = ExplanationStore.open(full).meta
    assert meta["method"] == "kernel_shap"
    assert meta["explainer"] == "nbexplain.explainers.perturbation.kernel_shap.KernelShap"
    assert meta["params"]["n_samples"] == 60 and meta["params"]["link"] == "identity"
    assert meta["params"]["background"].startswith("digest:") and meta["params"]["model"].startswith("digest:")
    assert (meta["seed"], meta["chunk_size"], meta["n"], meta["feature_shape"]) == (3, 50, 240, [6])
    assert meta["feature_names"] == NAMES and meta["output_names"] == CLASSES
    assert meta["version"] == nbx.__version__ and meta["format"] == 1
    assert meta["fingerprint"]["n"] == 240 and meta["fingerprint"]["kind"] == "array"
    lazy = nbx.Explanation.open(full)
    assert (lazy.method, lazy.seed, lazy.feature_names, lazy.output_names) == ("kernel_shap", 3, NAMES, CLASSES)
    e = lazy[7]
    assert e.feature_names == NAMES and e.params["seed"] == 3 and e.params["n_samples"] == 60


def test_resume_computes_only_the_missing_chunks(full: Path, X: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "s.zarr"
    shutil.copytree(full, path)
    ks = kernel_shap(mlp(), X, feature_names=NAMES, class_names=CLASSES)
    ExplanationStore.open(path, mode="a").drop([1, 4])  # as if the run had stopped before chunks 1 and 4
    run = explain_dataset(ks, X, store=str(path), chunk_size=50, sync=True, seed=3)
    assert run.written == [1, 4] and run.rows_done == 90
    assert_stores_equal(full, path)
    again = explain_dataset(ks, X, store=str(path), chunk_size=50, sync=True, seed=3)  # complete: nothing to do
    assert again.written == [] and again.status()["chunks_done"] == 5

    # counted at the explainer: only the missing rows are explained
    c = counting(X)
    explain_dataset(c, X, store=str(tmp_path / "c.zarr"), chunk_size=50, sync=True)
    assert c.calls == [50, 50, 50, 50, 40]
    ExplanationStore.open(tmp_path / "c.zarr", mode="a").drop([0, 2])
    c2 = counting(X)
    explain_dataset(c2, X, store=str(tmp_path / "c.zarr"), chunk_size=50, sync=True)
    assert c2.calls == [50, 50]


def damage(path: Path, k: int, how: str) -> None:
    """Damage chunk ``k`` of a store the way a disk, a crash or a stray writer would."""
    chunk_file = path / "arrays" / "values" / "c" / str(k) / "0"
    if how == "bytes":  # a few bytes in the middle of the compressed chunk changed
        raw = bytearray(chunk_file.read_bytes())
        mid = len(raw) // 2
        raw[mid: mid + 4] = bytes(255 - b for b in raw[mid: mid + 4])
        chunk_file.write_bytes(bytes(raw))
    elif how == "values":  # the chunk rewritten with other numbers that decode fine
        a, b = k * 50, k * 50 + 50
        group = zarr.open_group(str(path / "arrays"), mode="a")
        group["values"][a:b] = group["values"][a:b] + np.float32(1e-3)
    elif how == "file lost":
        chunk_file.unlink()
    elif how == "no commit":  # arrays written, the process died before the commit was renamed into place
        commit = path / "commits" / f"{k:08d}.json"
        commit.rename(commit.with_suffix(".tmp4242"))
    elif how == "truncated commit":
        commit = path / "commits" / f"{k:08d}.json"
        commit.write_text(commit.read_text()[:40])
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["bytes", "values", "file lost", "no commit", "truncated commit"])
def test_damaged_or_half_written_chunk_is_detected_and_recomputed(full: Path, X: np.ndarray, tmp_path: Path,
                                                                  how: str) -> None:
    path = tmp_path / "s.zarr"
    shutil.copytree(full, path)
    damage(path, 2, how)
    s = ExplanationStore.open(path)
    assert not s.verify(2) and s.verify(1)
    assert s.pending(verify=True) == [2]
    ks = kernel_shap(mlp(), X, feature_names=NAMES, class_names=CLASSES)
    run = explain_dataset(ks, X, store=str(path), chunk_size=50, sync=True, seed=3)
    assert run.written == [2]
    assert_stores_equal(full, path)


def test_a_half_written_array_without_commit_is_overwritten(X: np.ndarray, tmp_path: Path) -> None:
    """The arrays of a chunk written (other numbers) but never committed: the chunk is computed again."""
    path = tmp_path / "s.zarr"
    c = counting(X)
    run = explain_dataset(c, X[:100], store=str(path), chunk_size=50, sync=True)
    reference = ExplanationStore.open(path).read("values").copy()
    store = ExplanationStore.open(path, mode="a")
    store.drop([1])
    store.group["values"][50:100] = np.zeros((50, 6), np.float32)  # a writer that died before its commit
    c2 = counting(X)
    run = explain_dataset(c2, X[:100], store=str(path), chunk_size=50, sync=True)
    assert run.written == [1] and c2.calls == [50]
    assert ExplanationStore.open(path).read("values").tobytes() == reference.tobytes()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"explainer": "lime"}, "method"),
        ({"n_samples": 80}, "params"),
        ({"model_seed": 1}, "params"),
        ({"seed": 4}, "seed"),
        ({"chunk_size": 60}, "chunk_size"),
        ({"last_row": True}, "fingerprint"),
        ({"rows": 200}, "n"),
    ],
)
def test_a_store_of_another_run_is_refused(full: Path, X: np.ndarray, tmp_path: Path, change: dict, key: str) -> None:
    path = tmp_path / "s.zarr"
    shutil.copytree(full, path)
    before = sorted(p.read_text() for p in (path / "commits").iterdir())
    data = X.copy()
    if change.get("last_row"):
        data[-1, 0] += 1.0  # beyond the first rows: the whole in-memory table is fingerprinted
    data = data[: change.get("rows", len(data))]
    model = mlp(seed=change.get("model_seed", 0))
    if change.get("explainer") == "lime":
        ex = nbx.LimeTabularBatched(model, X[:10], feature_names=NAMES, class_names=CLASSES, num_samples=100)
    else:
        ex = kernel_shap(model, X, feature_names=NAMES, class_names=CLASSES, n_samples=change.get("n_samples", 60))
    with pytest.raises(StoreMismatchError) as info:
        explain_dataset(ex, data, store=str(path), chunk_size=change.get("chunk_size", 50), seed=change.get("seed", 3),
                        sync=True)
    message = str(info.value)
    assert f"{key}: store has" in message, message
    assert "pass a new store path" in message
    assert sorted(p.read_text() for p in (path / "commits").iterdir()) == before  # the store is left as it was


def test_settings_that_only_change_speed_still_resume(full: Path, X: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "s.zarr"
    shutil.copytree(full, path)
    ks = kernel_shap(mlp(), X, feature_names=NAMES, class_names=CLASSES, batch_size=1000, seed=99)
    run = explain_dataset(ks, X, store=str(path), chunk_size=50, sync=True, seed=3)
    assert run.error is None and run.written == []


def test_store_paths_and_arguments_are_checked(X: np.ndarray, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no explanation store"):
        nbx.Explanation.open(tmp_path / "nowhere.zarr")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        explain_dataset(counting(X), X, store=str(tmp_path / "busy"), sync=True)
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="chunk_size"):
        explain_dataset(counting(X), X, store=str(tmp_path / "a.zarr"), chunk_size=0, sync=True)
    with pytest.raises(ValueError, match="target has 3 entries for 240 rows"):
        explain_dataset(counting(X), X, store=str(tmp_path / "b.zarr"), target=[0, 1, 2], sync=True)
    assert not (tmp_path / "b.zarr").exists()  # nothing was written for a refused call
