"""explain_dataset: one explainer over a whole data set, in-process or on a Dask cluster, into a store.

The data is cut into chunks of ``chunk_size`` rows (:func:`nbexplain.scale.store.chunk_ranges`);
each chunk is explained (:func:`nbexplain.scale.chunk.explain_chunk`) with a seed derived from
the global seed and its row range, and written to the store (:class:`ExplanationStore`) as soon
as it is done, atomically. A re-run with the same store resumes with the missing (or damaged)
chunks only. The result is bitwise the same whatever the number of workers or the order they
finish in (same chunks, same seeds, a fixed torch thread count per chunk).

- ``client=None``: in this process, on nbexplain's background worker (the notebook stays
  usable), chunk after chunk;
- ``client=`` a ``dask.distributed.Client``: the explainer (and its model) travels to each worker
  once (as the result of one task, which a worker that needs it fetches from a peer: unlike
  scattered data, a task's result that dies with its worker is recomputed, so a killed worker
  cannot take the model with it); chunks are submitted a few per worker at a time;
  the results come back to this process, which writes them, so a chunk is written exactly once
  even when a worker dies and Dask recomputes its tasks elsewhere.

Progress (chunks done of total, rows per second, the time left) and cancel work the same way in
both: :class:`DatasetRun` shows them in a widget (``run.progress``); a cancel stops scheduling
new chunks, and every chunk finished by then stays in the store.

Example:
    >>> import numpy as np, tempfile, torch
    >>> from nbexplain.explainers import Saliency
    >>> run = explain_dataset(Saliency(torch.nn.Linear(3, 2)), np.ones((10, 3), np.float32),
    ...                       store=tempfile.mkdtemp() + "/s.zarr", chunk_size=4, sync=True)
    >>> run.done, run.store.finished(), run.explanation().load().values.shape
    (True, [0, 1, 2], (10, 3))
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from nbexplain.scale.chunk import explain_chunk
from nbexplain.scale.identity import describe_explainer
from nbexplain.scale.sources import Source, as_source
from nbexplain.scale.store import ExplanationStore, chunk_seed
from nbexplain.tasks import Cancelled, TaskRunner
from nbexplain.validate import check_int

__all__ = ["MALLOC_FIX", "DatasetRun", "default_chunk_size", "describe_explainer", "explain_dataset", "slow_malloc_workers"]


def default_chunk_size(source: Source) -> int:
    """Rows per chunk when none is given: 1024 rows of a table, 64 images, 64 texts.

    Example:
        >>> default_chunk_size(as_source(np.zeros((5000, 3))))
        1024
    """
    if source.kind in ("images", "dataset") or (source.kind in ("array", "dask_array") and np.ndim(source.data) > 2):
        return 64
    if source.kind == "texts":
        return 64
    return 1024


class DatasetRun:
    """A dataset-wide run: ``store``, ``task`` (on ``runner``), ``progress`` (a widget, made on first use).

    ``wait()``, ``cancel()``, ``done``, ``rows_per_second``, ``status()`` (chunks done of total,
    rows per second, the time left, as numbers and as a line of text), ``explanation()`` (a lazy
    Explanation over the store, :class:`nbexplain.scale.lazy.LazyExplanation`). Shown in a cell,
    a run shows its progress widget (:class:`nbexplain.scale.progress_view.RunProgress`).

    Example:
        >>> import numpy as np, tempfile, torch
        >>> from nbexplain.explainers import Saliency
        >>> run = explain_dataset(Saliency(torch.nn.Linear(3, 2)), np.ones((10, 3), np.float32),
        ...                       store=tempfile.mkdtemp() + "/s.zarr", chunk_size=4, sync=True)
        >>> s = run.status()
        >>> s["state"], s["chunks_done"], s["chunks_total"], s["rows_left"], s["text"].split(",")[0]
        ('done', 3, 3, 0, 'done: 3 of 3 chunks')
    """

    def __init__(self, store: ExplanationStore, runner: TaskRunner) -> None:
        self.store, self.runner = store, runner
        self.task: Any = None
        self.started = time.perf_counter()
        self.rows_done = 0
        self.rows_per_second = 0.0
        self.written: list[int] = []  # chunk ids written by this run, in order
        self.chunks_total = len(store.ranges)
        done = set(store.finished())
        self.chunks_done = len(done)
        self.rows_left = sum(b - a for k, (a, b) in enumerate(store.ranges) if k not in done)
        self._progress: Any = None

    @property
    def progress(self) -> Any:
        """The run's widget: a progress bar with a cancel button while it runs (chunks done of total,
        rows/s, time left), and a line that says how it ended (made on first use)."""
        if self._progress is None:
            from nbexplain.scale.progress_view import RunProgress

            self._progress = RunProgress(self)
        return self._progress

    def _ipython_display_(self) -> None:  # a run shown in a cell shows its progress
        from IPython.display import display

        display(self.progress)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run finished, failed or was cancelled (True when it is over)."""
        return self.task.wait(timeout) if self.task is not None else True

    def cancel(self) -> None:
        """Stop scheduling new chunks; the finished ones stay in the store (resume with the same call)."""
        if self.task is not None:
            self.task.cancel()

    @property
    def done(self) -> bool:
        """Every chunk of the store is finished."""
        return self.store.complete

    @property
    def error(self) -> BaseException | None:
        """The exception the run stopped on, or None."""
        return None if self.task is None else getattr(self.task, "error", None)

    @property
    def state(self) -> str:
        """"queued", "running", "done", "cancelled" or "error"."""
        return "queued" if self.task is None else str(self.task.state)

    def status(self) -> dict[str, Any]:
        """Where the run stands: ``state``, ``chunks_done`` / ``chunks_total`` (in the store, also
        those of earlier runs), ``rows_done`` (by this run), ``rows_left``, ``rows_per_second``,
        ``eta_s`` (None until a chunk finished) and ``text``, the line the widget shows."""
        rows_left, done, total = self.rows_left, self.chunks_done, self.chunks_total
        rate = self.rows_per_second
        eta = rows_left / rate if rate > 0 else None
        state = self.state
        line = f"{done} of {total} chunks, {rate:,.0f} rows/s"
        if state in ("running", "queued"):
            text = line + (f", {eta:,.0f} s left" if eta is not None and rows_left else "")
        elif state == "cancelled":
            text = f"cancelled: {line}; the finished chunks are kept, run the same call again to resume"
        elif state == "error":
            text = f"failed: {line}; {type(self.error).__name__}: {self.error}"
        else:
            text = f"done: {line}"
        return {"state": state, "chunks_done": done, "chunks_total": total, "rows_done": self.rows_done,
                "rows_left": rows_left, "rows_per_second": rate, "eta_s": eta, "text": text}

    def explanation(self) -> Any:
        """The store as a lazy Explanation (loads a chunk when asked for it)."""
        from nbexplain.scale.lazy import LazyExplanation

        return LazyExplanation(self.store)

    def __repr__(self) -> str:
        return f"DatasetRun({self.store!r}, {self.rows_per_second:,.0f} rows/s)"


def _message(run: DatasetRun) -> str:
    return run.status()["text"]


def explain_dataset(explainer: Any, data: Any, *, store: str, client: Any = None, chunk_size: int | None = None,
                    seed: int = 0, target: Any = None, threads: int | None = 1, max_tokens: int = 64,
                    transform: Callable[[np.ndarray], Any] | None = None, keep_data: bool | None = None,
                    in_flight: int | None = None, runner: TaskRunner | None = None, sync: bool = False) -> DatasetRun:
    """Explain every row of ``data`` with ``explainer`` into the store at ``store`` (see the module docstring).

    ``data``: a numpy array or tensor, a DataFrame, a ``dask.array`` / ``dask.dataframe``, a list
    of texts, an image folder (``transform`` each ``(C, H, W)`` image) or a torch ``Dataset``.
    ``explainer``: anything with ``explain(rows)`` returning an :class:`~nbexplain.Explanation`
    (every nbexplain method); its ``seed`` is set per chunk. ``target``: None (each row's
    predicted class) or one class per row. ``threads``: torch threads per chunk (1: bitwise the
    same in every process; None: leave torch's setting). ``keep_data``: also store the rows
    (default: for tables, so the views can colour by feature value). ``in_flight``: chunks
    submitted per Dask worker at a time (default 2). Returns a :class:`DatasetRun` at once; the
    work goes on in the background (``sync=True``: runs here first, for scripts and tests, and raises
    what the run stopped on; in the background, ``run.error`` holds it and the widget shows it).
    """
    check_int(seed, "seed", min=0)
    check_int(max_tokens, "max_tokens", min=1)
    source = as_source(data, transform=transform)
    size = check_int(chunk_size, "chunk_size", min=1) if chunk_size is not None else default_chunk_size(source)
    if target is not None:
        target = np.asarray(target).reshape(-1)
        if target.shape[0] != source.n:
            raise ValueError(f"target has {target.shape[0]} entries for {source.n} rows; pass one class per row")
    first = source.load(0, min(source.n, 2))
    identity = describe_explainer(explainer)
    meta = {**identity, "seed": seed, "chunk_size": size, "n": source.n, "fingerprint": source.fingerprint(),
            "feature_shape": _feature_shape(first, source.kind, max_tokens), "data_kind": source.kind,
            "feature_names": _names(explainer, first), "output_names": _output_names(explainer),
            "threads": threads, "target": "given" if target is not None else "predicted",
            "version": _version()}
    st = ExplanationStore.open_or_create(store, meta)
    keep = source.kind in ("array", "frame", "dask_array", "dask_frame") and np.ndim(first) == 2 \
        if keep_data is None else bool(keep_data)
    todo = st.pending(verify=True)
    st.drop(todo)  # a damaged chunk's commit goes: it is recomputed below
    if client is not None and slow_malloc_workers(client):
        warnings.warn(f"the Dask workers run with MALLOC_TRIM_THRESHOLD_ below 1 MiB (Dask's default, 65536): numpy-heavy "
                      f"explainers such as KernelSHAP run up to 2.5x slower there; start the cluster under {MALLOC_FIX}",
                      UserWarning, stacklevel=2)
    run = DatasetRun(st, runner if runner is not None else TaskRunner(sync=sync))
    options = {"seed": seed, "target": target, "threads": threads, "max_tokens": max_tokens}

    def work(control: Any) -> DatasetRun:
        if client is None:
            _in_process(run, explainer, source, todo, options, keep, control)
        else:
            _on_dask(run, client, explainer, source, todo, options, keep, control, in_flight or 2)
        return run

    run.task = run.runner.submit(work, label="explaining the data set")
    if run.runner.sync and run.error is not None:  # a run in this call: its error is raised here, not only logged
        raise run.error
    return run


#: The Dask setting that keeps glibc's own malloc thresholds on the workers (see :func:`slow_malloc_workers`).
MALLOC_FIX = "dask.config.set({'distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_': None})"


def _malloc_trim() -> str | None:
    """This process's ``MALLOC_TRIM_THRESHOLD_`` (run on each worker: a bound ``os.environ.get`` would
    travel with the client's environment)."""
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def slow_malloc_workers(client: Any) -> list[str]:
    """The workers started with a small ``MALLOC_TRIM_THRESHOLD_`` (Dask's nanny sets 65536 by default).

    With it glibc stops adapting its mmap threshold, so every large temporary array is a fresh
    ``mmap``: KernelSHAP's chunks ran 2.5x slower on such a worker than in the notebook's process
    (benchmarks/bench_scale.py). Start the cluster under :data:`MALLOC_FIX` to keep glibc's default.
    """
    try:
        values = client.run(_malloc_trim)
    except Exception:  # a client that cannot run on its workers: nothing to say
        return []
    out = []
    for worker, value in values.items():
        try:
            if value is not None and int(value) < 2**20:
                out.append(worker)
        except ValueError:
            continue
    return out


def _commit(run: DatasetRun, k: int, out: dict[str, Any], source: Source, keep: bool) -> None:
    if k in run.store.finished():  # a result that came twice (a worker died after sending it): written once
        return
    start, stop = run.store.ranges[k]
    tokens = out.pop("tokens", None)
    if keep:
        rows = _numbers(source.load(start, stop))
        if rows is not None:  # a table's rows, for the views to colour by feature value
            out["data"] = rows
    seed = chunk_seed(int(run.store.meta["seed"]), start, stop)  # the seed this chunk was explained with
    run.store.write_chunk(k, out, seed=seed, extra={"tokens": tokens} if tokens else None)
    run.written.append(k)
    run.chunks_done += 1
    run.rows_left -= stop - start
    run.rows_done += stop - start
    run.rows_per_second = run.rows_done / max(time.perf_counter() - run.started, 1e-9)


def _in_process(run: DatasetRun, explainer: Any, source: Source, todo: list[int], options: dict[str, Any],
                keep: bool, control: Any) -> None:
    total, ranges = len(run.store.ranges), run.store.ranges
    for k in todo:
        control.check()
        start, stop = ranges[k]
        out = explain_chunk(explainer, source.load(start, stop), start=start, stop=stop, **options)
        _commit(run, k, out, source, keep)
        control.progress(run.chunks_done, total, _message(run))


def _on_dask(run: DatasetRun, client: Any, explainer: Any, source: Source, todo: list[int],
             options: dict[str, Any], keep: bool, control: Any, per_worker: int) -> None:
    from distributed import as_completed

    total, ranges = len(run.store.ranges), run.store.ranges
    # The explainer (and its model) as a task's result: each worker fetches it once, from a peer, and
    # when every copy dies with its workers the scheduler recomputes it. (Scattered data is not
    # recomputed, and Dask's memory manager drops the extra copies of a broadcast: a killed worker
    # holding the last one would cancel every chunk.)
    shared = client.submit(_the_explainer, explainer, pure=False, key=f"nbexplain-explainer-{time.monotonic_ns()}")
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    queue = list(todo)
    futures: dict[Any, int] = {}

    def submit() -> Any:
        k = queue.pop(0)
        start, stop = ranges[k]
        f = client.submit(explain_chunk, shared, source.part(start, stop), start=start, stop=stop, pure=False,
                          retries=3, key=f"nbexplain-chunk-{k}-{time.monotonic_ns()}", **options)
        futures[f] = k
        return f

    while queue and len(futures) < per_worker * workers:
        submit()
    pending = as_completed(list(futures))
    try:
        for future in pending:
            k = futures.pop(future)
            out = future.result()
            _commit(run, k, out, source, keep)
            control.progress(run.chunks_done, total, _message(run))
            control.check()  # a cancel: no new chunk is scheduled; the finished ones stay
            if queue:
                pending.add(submit())
    except Cancelled:
        client.cancel(list(futures))
        raise
    finally:
        client.cancel(shared)


def _the_explainer(explainer: Any) -> Any:
    """The task whose result is the explainer on the workers (see ``_on_dask``)."""
    return explainer


def _numbers(rows: Any) -> np.ndarray | None:
    """A table's rows as float64, or None when they are not all numbers (a DataFrame's strings)."""
    try:
        if hasattr(rows, "to_numpy") and hasattr(rows, "columns"):
            return rows.to_numpy(dtype=np.float64, na_value=np.nan)
        a = np.asarray(rows)
        return a.astype(np.float64) if a.dtype.kind in "biuf" else None
    except (TypeError, ValueError):
        return None


def _feature_shape(first: Any, kind: str, max_tokens: int) -> list[int]:
    if kind == "texts":
        return [int(max_tokens)]
    return [int(d) for d in np.shape(first)[1:]]


def _names(explainer: Any, first: Any) -> list[str] | None:
    cols = getattr(first, "columns", None)
    if cols is not None:
        return [str(c) for c in cols]
    names = getattr(explainer, "feature_names", None)
    return [str(f) for f in names] if names is not None else None


def _output_names(explainer: Any) -> list[str] | None:
    names = getattr(explainer, "class_names", None) or getattr(getattr(explainer, "model", None), "class_names", None)
    return [str(c) for c in names] if names is not None else None


def _version() -> str:
    from nbexplain import __version__

    return str(__version__)
