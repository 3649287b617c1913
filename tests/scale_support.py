"""Shared parts of the dataset-wide run tests (tests/scale/test_scale_*.py): small models, data, a LocalCluster.

The models are built from torch layers only (``nn.Sequential``), so a Dask worker process
unpickles them without importing the tests; each is made in well under a second.
"""

from __future__ import annotations

import contextlib
import copy
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

import nbexplain as nbx
from nbexplain.scale.store import ExplanationStore


def mlp(features: int = 6, classes: int = 3, seed: int = 0) -> torch.nn.Module:
    """A small random-weight MLP for tables."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(features, 16), torch.nn.Tanh(), torch.nn.Linear(16, classes)).eval()


def cnn(seed: int = 0) -> torch.nn.Module:
    """A small random-weight CNN for (n, 1, 8, 8) images."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 4, 3),
                               torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(),
                               torch.nn.Linear(16, 3)).eval()


def table(n: int = 240, features: int = 6, seed: int = 0) -> np.ndarray:
    """A float32 table of ``n`` rows."""
    return np.random.default_rng(seed).normal(size=(n, features)).astype(np.float32)


def kernel_shap(model: Any, X: np.ndarray, **kwargs: Any) -> Any:
    """A sampled (not exact) KernelShap, so the chunk seeds matter."""
    options = {"n_samples": 60, "exact_max_features": 0, **kwargs}
    return nbx.KernelShap(model, X[:10], **options)


@contextlib.contextmanager
def local_cluster() -> Iterator[Any]:
    """A ``dask.distributed`` Client on a LocalCluster of two worker processes, closed afterwards."""
    import dask
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():  # the scheduler's HTTP server moves off 8787 when another cluster holds it
        warnings.filterwarnings("ignore", message="Port 8787 is already in use")
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):  # see MALLOC_FIX
            cluster = LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def store_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of a store, read whole (for bitwise comparisons in the tests)."""
    s = ExplanationStore.open(path)
    return {name: s.read(name) for name in s.arrays()}


def assert_stores_equal(a: str | Path, b: str | Path) -> None:
    """The two stores hold the same arrays, bit for bit, and the same commit digests and seeds."""
    x, y = store_arrays(a), store_arrays(b)
    assert sorted(x) == sorted(y)
    for name in x:
        assert x[name].dtype == y[name].dtype and x[name].shape == y[name].shape, name
        assert x[name].tobytes() == y[name].tobytes(), f"array {name!r} differs"
    sa, sb = ExplanationStore.open(a), ExplanationStore.open(b)
    assert sa.finished() == sb.finished() == list(range(len(sa.ranges)))
    for k in sa.finished():
        ca, cb = sa.commit(k), sb.commit(k)
        assert ca is not None and cb is not None
        assert (ca["digest"], ca["seed"], ca["start"], ca["stop"]) == (cb["digest"], cb["seed"], cb["start"], cb["stop"])


def commit_records(path: str | Path) -> list[dict[str, Any]]:
    """The commit records of a store, in chunk order."""
    return [json.loads(f.read_text()) for f in sorted((Path(path) / "commits").glob("*.json"))]


class CountingExplainer:
    """An explainer around another that counts the rows it explains (``explain(rows)`` is the whole
    contract explain_dataset asks of an explainer). ``calls`` is shared by the per-chunk copies."""

    method = "counting"

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seed = 0
        self._calls: list[int] = []  # private: not a setting of the explainer (a resume matches without it)

    def __repr__(self) -> str:
        return f"CountingExplainer({self.inner!r})"

    @property
    def calls(self) -> list[int]:
        """The row count of every explain call, in order."""
        return self._calls

    def explain(self, rows: Any) -> Any:
        self._calls.append(len(rows))
        inner = copy.copy(self.inner)
        inner.seed = self.seed
        return inner.explain(rows)
