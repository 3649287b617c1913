"""Writes notebooks/scale.ipynb (explanations over a whole data set, in-process and on Dask) from the cells below.

Run ``.venv/bin/python scripts/build_scale_notebook.py`` after editing; the notebook is checked in
unexecuted. It runs offline on a laptop CPU in well under 90 seconds: a 20,000-row table made from
scikit-learn's breast-cancer data, a small MLP trained here in a second, and a two-worker Dask
LocalCluster on this machine.
"""

from __future__ import annotations

import nbformat
from build_demo_notebooks import ROOT, build

CELLS: list[tuple[str, str]] = [
    ("md", """# Explanations over a whole data set

The Dashboard explains a few hundred rows in the notebook's process. For a global view you can
trust, explain **every** row: `nbx.explain_dataset` runs any nbexplain explainer over a data set in
chunks, in this process or on a Dask cluster, and writes each finished chunk to a **Zarr store** on
disk. A run that stops (a cancel, a dead worker, a closed laptop) resumes with the missing chunks
only, and the result is **bitwise the same** whatever the number of workers. The views then read
the store lazily, a chunk at a time.

1. a 20,000-row table, explained with KernelSHAP in this process;
2. the same on a two-worker Dask cluster, cancelled half-way and resumed;
3. the two stores compared bit for bit;
4. the store opened lazily: importance bars and a beeswarm from it."""),
    ("code", """import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

import nbexplain as nbx

cancer = load_breast_cancer()
names, classes = list(cancer.feature_names[:8]), list(cancer.target_names)
X0 = StandardScaler().fit_transform(cancer.data[:, :8]).astype(np.float32)
torch.manual_seed(0)
mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
opt = torch.optim.Adam(mlp.parameters(), lr=1e-2)
for _ in range(200):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(mlp(torch.from_numpy(X0)), torch.from_numpy(cancer.target)).backward()
    opt.step()
mlp.eval()

# a larger table like it: 20,000 rows resampled from the 569, with a little noise
rng = np.random.default_rng(0)
X = (X0[rng.integers(0, len(X0), 20_000)] + rng.normal(0, 0.1, (20_000, 8))).astype(np.float32)
shap = nbx.KernelShap(mlp, X0[:100], background_size=10, feature_names=names, class_names=classes)
folder = Path(tempfile.mkdtemp())
print(X.shape, shap)"""),
    ("md", """## 1. In this process

`explain_dataset` returns at once; the work goes on in the background and the notebook stays
usable. Shown in a cell, the run is its progress: chunks done of total, rows per second, the time
left, and a cancel button."""),
    ("code", """run = nbx.explain_dataset(shap, X, store=folder / "here.zarr", chunk_size=2000)
run"""),
    ("code", """run.wait()
print(run.status()["text"])"""),
    ("md", """## 2. On a Dask cluster, cancelled and resumed

The same call with a `dask.distributed` Client: here a `LocalCluster` of two worker processes on
this machine; on a real cluster only the Client changes. The explainer and its model travel to
each worker once. We cancel after three chunks (the cancel button does the same): the run stops
scheduling new chunks and keeps the finished ones."""),
    ("code", """import dask
from dask.distributed import Client, LocalCluster

# Dask's default MALLOC_TRIM_THRESHOLD_ on the workers makes numpy-heavy explainers up to 2.5x slower
with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
client = Client(cluster)
dist = nbx.explain_dataset(shap, X, store=folder / "cluster.zarr", chunk_size=2000, client=client)
dist"""),
    ("code", """while dist.chunks_done < 3 and not dist.task.finished:
    time.sleep(0.05)
dist.cancel()
dist.wait()
print(dist.status()["text"])"""),
    ("md", """Run the same call again: it checks every finished chunk against its recorded digest and
computes only what is missing (a store written by another method, other parameters, another
seed or other data is refused with an error that says which)."""),
    ("code", """resumed = nbx.explain_dataset(shap, X, store=folder / "cluster.zarr", chunk_size=2000, client=client)
resumed.wait()
print("chunks computed before the cancel:", sorted(dist.written))
print("chunks computed on resuming:      ", sorted(resumed.written))
resumed"""),
    ("md", """## 3. The same bytes

Each chunk's seed comes from the run's seed and the chunk's row range, and every chunk runs with
one torch thread, so the two stores hold the same numbers, bit for bit."""),
    ("code", """here = nbx.Explanation.open(folder / "here.zarr")
there = nbx.Explanation.open(folder / "cluster.zarr")
print("bitwise equal:", here.store.read("values").tobytes() == there.store.read("values").tobytes())
client.close()
cluster.close()"""),
    ("md", """## 4. Read lazily

`nbx.Explanation.open(store)` loads nothing when it opens: `e[i]` and `e[a:b]` read the chunks
holding those rows; the importance bars average |attribution| a chunk at a time; the beeswarm
draws a seeded sample **stratified by chunk** (every part of the data set gives its share of
dots). `nbx.Dashboard(model, X, y, store=e)` reads its explanations and Global tab from it too."""),
    ("code", """e = nbx.Explanation.open(folder / "cluster.zarr")
print(e)
print(e.method, e.feature_names[:3], e[12_345].values.round(3))
nbx.ImportanceBars(e)"""),
    ("code", """nbx.Beeswarm.from_explanation(e, max_points=2000)"""),
    ("md", """### Try it

1. Change `chunk_size` or the number of workers and compare the stores again: still the same
   bytes?
2. Run the in-process cell with `n_samples=64` on the explainer and the same store: the error
   names the parameter that differs.
3. `e.to_dask()` gives the values as a `dask.array` over the same chunks: compute the mean
   attribution per class with it."""),
]

if __name__ == "__main__":
    path = ROOT / "notebooks" / "scale.ipynb"
    nbformat.write(build(CELLS), path)
    print(f"wrote {path.relative_to(ROOT)}")
