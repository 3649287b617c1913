"""Dataset-wide runs (issue 15): in-process against a 2-worker Dask LocalCluster, into a Zarr store.

Run: ``.venv/bin/python benchmarks/bench_scale.py`` (the issue's sizes: KernelShap over 100,000
rows, Integrated Gradients over 20,000 images); ``--rows N --images M`` for other sizes, e.g.
``--rows 2048 --images 4096`` for a run of a few minutes on a 2-core laptop.

Method:

- **KernelShap, 20 features**: a table of standard normal rows, a torch MLP ``20 -> 32 -> 2``
  (softmax probabilities), ``KernelShap(model, X[:100])`` with its defaults (adaptive budget,
  ``tol=0.01``, background summarised by k-means); chunks of 256 rows;
- **Integrated Gradients, small CNN**: 28 x 28 one-channel images, ``Conv(1, 8) -> ReLU ->
  Conv(8, 16) -> ReLU -> pool -> Linear(16, 10)``, ``IntegratedGradients(cnn)`` with its defaults
  (50 steps, Gauss-Legendre); chunks of 512 images;
- **in-process**: ``explain_dataset(..., client=None, sync=True)``, one torch thread per chunk
  (the setting that makes results bitwise the same everywhere); **cluster**: the same call with a
  ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` started before the clock;
  both into a fresh store in a temporary folder; the two stores are compared bitwise;
- **rows/s**: rows over the wall clock of the whole call (scheduling, transfer, store writes
  included); **scaling efficiency**: cluster rows/s / (workers x in-process rows/s);
- **memory per worker**: each worker's resident set size after its run (``psutil``), and the
  in-process run's growth of this process's RSS;
- **store overhead**: the time ``ExplanationStore.write_chunk`` takes (atomic write and digest)
  over the whole run's time, measured on the in-process run by re-writing its chunks into a
  second store;
- **scheduler overhead per chunk**: 400 chunks of an explainer that does nothing (returns zeros)
  on the cluster: the wall clock per chunk is what each chunk costs beyond its computation;
- the extrapolation to 10^8 rows on 64 GPU workers printed at the end uses these figures;
- **workers' malloc**: Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``; with it
  glibc stops adapting its mmap threshold and every large temporary array is a fresh mmap, which
  made KernelSHAP's chunks 2.5x slower on a worker than in the notebook's process (measured:
  3.3 s against 8.4 s for 64 rows). ``--malloc python`` (the default here) starts the cluster
  without it; ``--malloc dask`` keeps Dask's default.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import torch

import nbexplain as nbx
from nbexplain.explainers import IntegratedGradients, KernelShap
from nbexplain.explanation import Explanation
from nbexplain.scale.store import ExplanationStore


class NoOp:
    """An explainer that computes nothing: what a chunk costs the scheduler and the store alone."""

    method = "noop"

    def __init__(self, n_features: int) -> None:
        self.n_features, self.seed = n_features, 0

    def params(self) -> dict[str, Any]:
        return {"n_features": self.n_features}

    def explain(self, X: Any, target: Any = None) -> Explanation:
        n = len(X)
        return Explanation(np.zeros((n, self.n_features), np.float32), base_values=np.zeros(n), outputs=np.zeros(n),
                           target=np.zeros(n, dtype=int))


def mlp() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2),
                               torch.nn.Softmax(-1)).eval()


def cnn() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 3, padding=1),
                               torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(16, 10)).eval()


def timed_run(explainer: Any, data: Any, store: Path, chunk: int, client: Any = None) -> tuple[float, Any]:
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows at KernelShap's cap are reported in diagnostics
        run = nbx.explain_dataset(explainer, data, store=str(store), client=client, chunk_size=chunk, sync=True)
        run.wait()
    if run.error is not None:
        raise run.error
    return time.perf_counter() - t, run


def store_write_seconds(src: Path, dst: Path) -> float:
    """Re-write every chunk of the store at ``src`` into a new store: the time of the writes alone."""
    st = ExplanationStore.open(src)
    out = ExplanationStore.create(dst, dict(st.meta))
    spent = 0.0
    for k, (a, b) in enumerate(st.ranges):
        arrays = {name: st.read(name, a, b) for name in st.arrays()}
        t = time.perf_counter()
        out.write_chunk(k, arrays, seed=int(st.meta["seed"]))
        spent += time.perf_counter() - t
    return spent


def same_store(a: Path, b: Path) -> bool:
    sa, sb = ExplanationStore.open(a), ExplanationStore.open(b)
    return sa.arrays() == sb.arrays() and all(
        np.array_equal(sa.read(n), sb.read(n), equal_nan=True) for n in sa.arrays())


def bench(name: str, explainer: Any, data: Any, chunk: int, client: Any, root: Path) -> dict[str, float]:
    n = len(data)
    print(f"\n== {name}: {n:,} rows, chunks of {chunk}")
    rss0 = psutil.Process().memory_info().rss
    t_in, _ = timed_run(explainer, data, root / f"{name}-in.zarr", chunk)
    rss_in = (psutil.Process().memory_info().rss - rss0) / 2**20
    t_writes = store_write_seconds(root / f"{name}-in.zarr", root / f"{name}-rewrite.zarr")
    t_cl, _ = timed_run(explainer, data, root / f"{name}-cluster.zarr", chunk, client)
    workers = len(client.scheduler_info()["workers"])
    rss_w = client.run(lambda: psutil.Process().memory_info().rss / 2**20)
    equal = same_store(root / f"{name}-in.zarr", root / f"{name}-cluster.zarr")
    r_in, r_cl = n / t_in, n / t_cl
    eff = r_cl / (workers * r_in)
    print(f"in-process (1 thread): {t_in:8.1f} s  {r_in:10,.1f} rows/s  (this process grew {rss_in:,.0f} MiB)")
    print(f"LocalCluster x{workers}:      {t_cl:8.1f} s  {r_cl:10,.1f} rows/s  ({r_cl / r_in:.2f}x, scaling efficiency "
          f"{eff:.0%})")
    print("memory per worker:     " + ", ".join(f"{v:,.0f} MiB" for v in rss_w.values()))
    print(f"store writes:          {t_writes:8.2f} s = {t_writes / t_in:.1%} of the in-process run")
    print(f"stores bitwise equal:  {equal}")
    return {"rate_in": r_in, "rate_cluster": r_cl, "chunk": chunk, "writes": t_writes / t_in}


def scheduler_overhead(client: Any, root: Path, chunks: int = 400) -> float:
    data = np.zeros((chunks * 16, 20), np.float32)
    t, _ = timed_run(NoOp(20), data, root / "noop.zarr", 16, client)
    per = t / chunks
    print(f"\n== scheduler and store per chunk (no-op explainer, {chunks} chunks of 16 rows): {per * 1e3:.1f} ms a chunk")
    return per


def extrapolate(ks: dict[str, float], overhead: float) -> None:
    rows, workers = 10**8, 64
    print(f"\n== 10^8 rows on {workers} workers (extrapolated from the figures above; no GPU measured here)")
    for chunk in (4096, 65536):
        chunks = rows / chunk
        compute = rows / ks["rate_in"] / workers
        sched = chunks * overhead  # the client commits chunks one after another: serial
        print(f"KernelShap at this CPU's per-worker rate, chunks of {chunk:,}: compute {compute / 3600:,.1f} h per "
              f"worker, {chunks:,.0f} chunks x {overhead * 1e3:.1f} ms = {sched / 3600:,.2f} h of client-side commits")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="KernelShap rows (default 100,000)")
    parser.add_argument("--images", type=int, default=20_000, help="IG images (default 20,000)")
    parser.add_argument("--malloc", choices=("dask", "python"), default="python",
                        help="dask: Dask's default MALLOC_TRIM_THRESHOLD_=65536 on the workers; python: unset")
    args = parser.parse_args()
    import dask
    from distributed import Client, LocalCluster

    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, nbexplain {nbx.__version__}")
    rng = np.random.default_rng(0)
    root = Path(tempfile.mkdtemp(prefix="nbx-bench-scale-"))
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if args.malloc == "python":  # glibc's own malloc thresholds, as in the notebook's process
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    print(f"workers' environment: {environ}")
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    try:
        X = rng.normal(size=(args.rows, 20)).astype(np.float32)
        ks = bench("kernel_shap", KernelShap(mlp(), X[:100], seed=0), X, 256, client, root)
        images = rng.normal(size=(args.images, 1, 28, 28)).astype(np.float32)
        bench("integrated_gradients", IntegratedGradients(cnn()), images, 512, client, root)
        overhead = scheduler_overhead(client, root)
        extrapolate(ks, overhead)
    finally:
        client.close()
        cluster.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
