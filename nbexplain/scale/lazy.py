"""LazyExplanation: a store's explanation, read a chunk at a time (``nbx.Explanation.open(store)``).

Nothing is loaded when it is opened. ``e[i]``, ``e[a:b]`` and ``e[[i, j]]`` read the rows asked
for and return an ordinary :class:`~nbexplain.Explanation`; :meth:`LazyExplanation.mean_abs`
streams mean |attribution| per feature over the finished chunks (the importance bars);
:meth:`LazyExplanation.sample` draws a seeded subsample **stratified by chunk** (each finished
chunk gives rows in proportion to its size, so a million rows become a few thousand dots spread
over the whole data set, the same every time) for the beeswarm; :meth:`to_dask` gives the
values as a ``dask.array`` over the same Zarr chunks. A partial store (a run still going, or
cancelled) reads what is finished: ``finished_rows`` says which rows.

Example:
    >>> import numpy as np, tempfile, torch
    >>> from nbexplain.explainers import Saliency
    >>> from nbexplain.scale.run import explain_dataset
    >>> path = tempfile.mkdtemp() + "/s.zarr"
    >>> _ = explain_dataset(Saliency(torch.nn.Linear(3, 2)), np.ones((10, 3), np.float32), store=path,
    ...                     chunk_size=4, sync=True)
    >>> e = LazyExplanation(path)
    >>> len(e), e.method, e[2:5].values.shape, e.mean_abs().shape
    (10, 'saliency', (3, 3), (3,))
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from nbexplain.scale.store import ExplanationStore

__all__ = ["LazyExplanation"]


class LazyExplanation:
    """A store's explanation, read when asked (see the module docstring).

    ``store``: a path or an :class:`~nbexplain.scale.store.ExplanationStore`. Attributes from the
    store's metadata: ``method``, ``params``, ``seed``, ``feature_names``, ``output_names``,
    ``feature_shape``, ``n_samples``.
    """

    def __init__(self, store: str | os.PathLike[str] | ExplanationStore) -> None:
        self.store = store if isinstance(store, ExplanationStore) else ExplanationStore.open(store)
        meta = self.store.meta
        self.method = str(meta.get("method", ""))
        self.params = dict(meta.get("params", {}))
        self.seed = meta.get("seed")
        self.feature_names = meta.get("feature_names")
        self.output_names = meta.get("output_names")
        self.feature_shape = tuple(meta.get("feature_shape", ()))
        self.n_samples = int(meta["n"])
        self.layout = "tokens" if meta.get("data_kind") == "texts" else None

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        done = int(self.finished_rows.sum())
        return (f"LazyExplanation(method={self.method!r}, n={self.n_samples}, feature_shape={self.feature_shape}, "
                f"finished={done}/{self.n_samples})")

    # -- what is there --------------------------------------------------------------------------
    @property
    def finished_rows(self) -> np.ndarray:
        """Bool ``(n,)``: rows of the chunks finished so far."""
        mask = np.zeros(self.n_samples, dtype=bool)
        for k in self.store.finished():
            a, b = self.store.ranges[k]
            mask[a:b] = True
        return mask

    @property
    def complete(self) -> bool:
        """Every chunk is finished."""
        return self.store.complete

    def _tokens(self, rows: np.ndarray) -> list[list[str]] | None:
        if self.layout != "tokens":
            return None
        out = []
        for i in rows:
            k = int(i) // int(self.store.meta["chunk_size"])
            record = self.store.commit(k) or {}
            tokens = record.get("tokens") or []
            start = self.store.ranges[k][0]
            out.append(list(tokens[int(i) - start]) if int(i) - start < len(tokens) else [])
        return out

    # -- reading --------------------------------------------------------------------------------
    def rows(self, index: Any) -> np.ndarray:
        """The row numbers ``index`` selects (an int, a slice, a list or a bool mask)."""
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            i = int(index)
            if not -self.n_samples <= i < self.n_samples:
                raise IndexError(f"row {i} is out of range for {self.n_samples} rows")
            return np.array([i % self.n_samples])
        return np.arange(self.n_samples)[index]

    def take(self, rows: Any) -> Any:
        """An ordinary :class:`~nbexplain.Explanation` of ``rows`` (read from the store, chunk by chunk)."""
        from nbexplain.explanation import Explanation

        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        done = self.finished_rows
        if rows.size and not done[rows].all():
            missing = rows[~done[rows]]
            raise KeyError(f"rows {missing[:5].tolist()} are not explained yet (their chunks are not finished); "
                           "wait for the run, or resume it with the same explain_dataset call")
        arrays = {name: self._gather(name, rows) for name in self.store.arrays() if name in
                  ("values", "base_values", "outputs", "target", "data") or name.startswith("diag_")}
        base = arrays.get("base_values")
        target = arrays.get("target")
        diagnostics = {name[5:]: a for name, a in arrays.items() if name.startswith("diag_")}
        data = arrays.get("data")
        tokens = self._tokens(rows)
        if tokens is not None:
            diagnostics["tokens"] = tokens
        return Explanation(arrays["values"], base_values=None if base is None or np.isnan(base).all() else base,
                           data=data, feature_names=self.feature_names, output_names=self.output_names,
                           target=None if target is None or (target < 0).all() else target,
                           outputs=arrays.get("outputs"), method=self.method,
                           params={**self.params, "seed": self.seed, "store": str(self.store.path)},
                           diagnostics=diagnostics, layout=self.layout)

    def _gather(self, name: str, rows: np.ndarray) -> np.ndarray:
        if rows.size == 0:
            return self.store.read(name, 0, 0)
        lo, hi = int(rows.min()), int(rows.max()) + 1
        if hi - lo <= 4 * rows.size + int(self.store.meta["chunk_size"]):  # close together: one read
            return self.store.read(name, lo, hi)[rows - lo]
        size = int(self.store.meta["chunk_size"])
        out: np.ndarray | None = None
        for k in np.unique(rows // size):  # one chunk in memory at a time: the rows it holds are copied out
            a, b = self.store.ranges[int(k)]
            chunk = self.store.read(name, a, b)
            if out is None:
                out = np.empty((rows.size, *chunk.shape[1:]), dtype=chunk.dtype)
            here = np.flatnonzero(rows // size == k)
            out[here] = chunk[rows[here] - a]
        assert out is not None
        return out

    def load(self) -> Any:
        """Every row as an ordinary :class:`~nbexplain.Explanation` (the whole store in memory)."""
        return self.take(np.arange(self.n_samples))

    def __getitem__(self, index: Any) -> Any:
        e = self.take(self.rows(index))
        return e[0] if isinstance(index, (int, np.integer)) and not isinstance(index, bool) else e

    # -- summaries for the views ----------------------------------------------------------------
    def mean_abs(self) -> np.ndarray:
        """Mean |attribution| per feature over the finished rows, read one chunk at a time."""
        total: np.ndarray | None = None
        count = 0
        for k in self.store.finished():
            a, b = self.store.ranges[k]
            v = np.abs(self.store.read("values", a, b).astype(np.float64))
            s = np.nansum(v, axis=0)
            total = s if total is None else total + s
            count += b - a
        if total is None:
            raise ValueError("no chunk of the store is finished yet; there is nothing to average")
        return total / max(count, 1)

    def sample(self, n: int = 2000, seed: int = 0) -> Any:
        """A seeded subsample of about ``n`` finished rows, stratified by chunk, as an Explanation
        (``params["rows"]`` holds the row numbers).

        Example:
            >>> import tempfile, torch
            >>> from nbexplain.explainers import Saliency
            >>> from nbexplain.scale.run import explain_dataset
            >>> run = explain_dataset(Saliency(torch.nn.Linear(3, 2)), np.ones((40, 3), np.float32),
            ...                       store=tempfile.mkdtemp() + "/s.zarr", chunk_size=10, sync=True)
            >>> s = LazyExplanation(run.store).sample(8)
            >>> s.values.shape, s.params["rows"].tolist()[:2]
            ((8, 3), [6, 7])
        """
        done = np.flatnonzero(self.finished_rows)
        if done.size <= n:
            rows = done
        else:
            rng = np.random.default_rng(seed)
            picked = []
            for k in self.store.finished():
                a, b = self.store.ranges[k]
                share = round(n * (b - a) / done.size)
                if share:
                    picked.append(np.sort(rng.choice(np.arange(a, b), size=min(share, b - a), replace=False)))
            rows = np.concatenate(picked) if picked else done[:n]
        e = self.take(rows)
        e.params["rows"] = rows
        return e

    def to_dask(self) -> Any:
        """The values as a ``dask.array`` over the store's Zarr chunks (unfinished rows are NaN)."""
        import dask.array as da

        return da.from_zarr(str(self.store.path / "arrays"), component="values")
