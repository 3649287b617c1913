"""nbx.Explanation.open(store): rows read when asked, summaries a chunk at a time, the views drawn from it
(nbexplain/scale/lazy.py; ImportanceBars, Beeswarm and the Dashboard with store=)."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers

import nbexplain as nbx
from nbexplain.codec import decode_array
from nbexplain.scale import LazyExplanation, explain_dataset
from tests.scale_support import mlp, table

N, CHUNK = 6000, 200  # 30 chunks


@pytest.fixture(scope="module")
def data() -> tuple[Any, np.ndarray, np.ndarray]:
    X = table(N)
    model = mlp()
    y = model(__import__("torch").from_numpy(X)).argmax(1).numpy()
    return model, X, y


@pytest.fixture(scope="module")
def path(data: tuple[Any, np.ndarray, np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> Path:
    model, X, _ = data
    p = tmp_path_factory.mktemp("lazy") / "s.zarr"
    sal = nbx.Saliency(model)
    sal.feature_names = [f"f{j}" for j in range(6)]  # read into the store's metadata
    explain_dataset(sal, X, store=str(p), chunk_size=CHUNK, sync=True)
    return p


class Reads:
    """Every read the store serves, as (array, start, stop): wraps the store's own ``read``."""

    def __init__(self, lazy: LazyExplanation) -> None:
        self.log: list[tuple[str, int, int]] = []
        inner = lazy.store.read

        def read(name: str, start: int = 0, stop: int | None = None) -> np.ndarray:
            out = inner(name, start, stop)
            self.log.append((name, start, start + len(out)))
            return out

        lazy.store.read = read  # type: ignore[method-assign]

    def rows(self, name: str = "values") -> int:
        return sum(b - a for n, a, b in self.log if n == name)


def test_rows_are_read_when_asked_and_only_their_chunks(path: Path, data: tuple[Any, np.ndarray, np.ndarray]) -> None:
    _, X, _ = data
    e = nbx.Explanation.open(path)
    full = e.load()
    assert full.values.shape == (N, 6) and full.feature_names == [f"f{j}" for j in range(6)]
    np.testing.assert_array_equal(full.data, X.astype(np.float64))

    e = nbx.Explanation.open(path)
    reads = Reads(e)
    one = e[4321]
    assert one.values.shape == (6,) and np.array_equal(one.values, full.values[4321])
    assert reads.rows() == 1 and {n for n, _, _ in reads.log} >= {"values", "data", "target"}
    reads.log.clear()
    picked = e.take([5, 5990, 17])
    np.testing.assert_array_equal(picked.values, full.values[[5, 5990, 17]])  # in the order asked
    assert reads.rows() <= 2 * CHUNK  # the chunks of rows 5, 17 and 5990: two chunks, not the store
    reads.log.clear()
    np.testing.assert_array_equal(e[100:110].values, full.values[100:110])
    np.testing.assert_array_equal(e[[3, 1]].values, full.values[[3, 1]])
    mask = np.zeros(N, bool)
    mask[[7, 4000]] = True
    np.testing.assert_array_equal(e[mask].values, full.values[[7, 4000]])
    np.testing.assert_array_equal(e[-1].values, full.values[-1])
    assert e.rows(slice(0, 3)).tolist() == [0, 1, 2]
    with pytest.raises(IndexError, match="out of range"):
        e[N]


def test_mean_abs_and_the_stratified_sample_read_a_chunk_at_a_time(path: Path) -> None:
    e = nbx.Explanation.open(path)
    full = e.load().values.astype(np.float64)
    reads = Reads(e)
    np.testing.assert_allclose(e.mean_abs(), np.abs(full).mean(0), rtol=1e-12)
    assert max(b - a for _, a, b in reads.log) <= CHUNK and {n for n, _, _ in reads.log} == {"values"}

    s = e.sample(300, seed=1)
    rows = np.asarray(s.params["rows"])
    assert len(rows) == 300 and len(set(rows.tolist())) == 300
    per_chunk = np.bincount(rows // CHUNK, minlength=N // CHUNK)
    assert (per_chunk == 10).all()  # stratified: every chunk gives its share
    np.testing.assert_array_equal(s.values, full[rows].astype(np.float32))
    assert np.array_equal(e.sample(300, seed=1).params["rows"], rows)  # seeded
    assert not np.array_equal(e.sample(300, seed=2).params["rows"], rows)
    assert max(b - a for _, a, b in reads.log) <= CHUNK
    assert "stratified" in type(e).sample.__doc__


def test_a_sample_holds_one_chunk_in_memory_not_the_store(path: Path) -> None:
    e = nbx.Explanation.open(path)
    whole = sum(e.store.read(name).nbytes for name in e.store.arrays())
    tracemalloc.start()
    try:
        e.sample(60, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < whole / 3, (peak, whole)


def test_to_dask_and_a_partial_store(path: Path, data: tuple[Any, np.ndarray, np.ndarray], tmp_path: Path) -> None:
    e = nbx.Explanation.open(path)
    d = e.to_dask()
    assert d.shape == (N, 6) and d.chunks[0][0] == CHUNK
    np.testing.assert_allclose(float(abs(d).mean().compute()), float(np.abs(e.load().values).mean()), rtol=1e-6)

    model, X, _ = data
    run = explain_dataset(nbx.Saliency(model), X[:1000], store=str(tmp_path / "p.zarr"), chunk_size=CHUNK, sync=True)
    run.store.drop([1, 3])  # a run that stopped before these chunks
    part = nbx.Explanation.open(tmp_path / "p.zarr")
    assert not part.complete and part.finished_rows.sum() == 600
    assert "finished=600/1000" in repr(part)
    with pytest.raises(KeyError, match="not explained yet"):
        part[250]
    assert set((part.sample(50).params["rows"] // CHUNK).tolist()) == {0, 2, 4}
    np.testing.assert_allclose(part.mean_abs(), np.abs(part[np.flatnonzero(part.finished_rows)].values).mean(0),
                               rtol=1e-6)


def wire(widget: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    state, paths, buffers = _remove_buffers(widget.get_state())
    json.dumps(state)
    return state, {p[0]: decode_array(dict(state[p[0]], data=b)) for p, b in zip(paths, buffers, strict=True)}


@pytest.mark.usefixtures("nbx_bundle")
def test_importance_bars_and_beeswarm_draw_from_the_store(path: Path) -> None:
    e = nbx.Explanation.open(path)
    full = e.load()
    bars = nbx.ImportanceBars(e)
    np.testing.assert_allclose(bars.importance, np.abs(full.values.astype(np.float64)).mean(0), rtol=1e-12)
    assert bars.shown_names[0] == full.feature_names[int(np.argmax(bars.importance))]
    bars.close()

    bee = nbx.Beeswarm.from_explanation(e, max_points=240)
    state, arrays = wire(bee)
    rows = arrays["sample_indices"].astype(np.int64)
    assert len(rows) == 240 and (np.bincount(rows // CHUNK) == 8).all()
    assert state["values"]["dtype"] == "float16"
    np.testing.assert_allclose(arrays["values"], full.values[rows], atol=np.abs(full.values).max() * 1e-3)
    np.testing.assert_array_equal(arrays["feature_values"], full.data[rows].astype(np.float32))
    assert bee.feature_names == full.feature_names
    bee.close()


@pytest.mark.usefixtures("nbx_bundle")
def test_dashboard_reads_the_store(path: Path, data: tuple[Any, np.ndarray, np.ndarray]) -> None:
    model, X, y = data
    e = nbx.Explanation.open(path)
    dash = nbx.Dashboard(model, X, y, store=e, global_samples=150, sync=True)
    try:
        s = dash.session
        assert s.methods[0] == "saliency" and s.from_store("saliency")
        misses = s.misses
        got = s.explain(4321, "saliency")
        np.testing.assert_array_equal(got.values, e[4321].values)  # read from the store, not computed
        assert got.params.get("store") == str(path) and s.misses == misses + 1
        dash.compute_global()
        bee = dash.beeswarm
        rows = np.asarray(bee.sample_indices, dtype=np.int64)
        assert len(rows) == 150 and len(np.unique(rows // CHUNK)) == N // CHUNK  # spread over the whole store
        np.testing.assert_allclose(dash.importance.importance, e.mean_abs(), rtol=1e-12)  # every stored row
    finally:
        dash.close()
    with pytest.raises(ValueError, match="the store explains 6000 rows but X has 10"):
        nbx.Dashboard(model, X[:10], y[:10], store=e, sync=True)
