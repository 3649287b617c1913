"""ExplanationStore: a dataset-wide explanation on disk, one Zarr chunk per explained chunk of rows.

Why Zarr (not Parquet): the values of one explanation are an n-dimensional array (rows x
features for a table, rows x C x H x W for images, rows x features x outputs), and Zarr stores
exactly that, chunked along the rows, readable a chunk at a time (and by ``dask.array.from_zarr``)
without loading the rest; Parquet is row-and-column tabular and would flatten images into
thousands of columns.

Layout of the store (a directory)::

    arrays/   one Zarr group: values, base_values, outputs, target, data, diag_<name>; chunked
              (chunk_size, ...) along the rows
    commits/  <chunk>.json, one per finished chunk

The group's ``nbexplain`` attribute holds the metadata: the method, its parameters, the global
seed, the chunk size, the number of rows, the feature shape and names, the output names, the
layout, a fingerprint of the data (its shape, dtype and first chunk) and the package version.

**A chunk is finished when its commit file exists and its arrays hash to the digest the commit
records.** The arrays are written first, then the commit file atomically (written to a temporary
name, then renamed), so a run killed in between leaves a chunk without a commit, which is redone;
a chunk whose bytes were damaged since fails its digest and is redone too. A re-run with the same
store and settings resumes with the chunks that are not finished; a store written by another
method, other parameters, another seed or chunk size, or for other data is refused with an error
that says which.

Example:
    >>> import numpy as np, tempfile
    >>> meta = {"method": "demo", "params": {}, "seed": 0, "chunk_size": 2, "n": 3, "feature_shape": [2]}
    >>> s = ExplanationStore.create(tempfile.mkdtemp() + "/e.zarr", meta)
    >>> s.write_chunk(0, {"values": np.ones((2, 2), np.float32)}, seed=7)
    >>> s.finished(), s.pending()
    ([0], [1])
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT", "ExplanationStore", "StoreMismatchError", "chunk_ranges", "chunk_seed"]

#: The store format version (in the metadata; a store of another format is refused).
FORMAT = 1
#: Metadata keys that must match for a run to resume a store (the rest is informational).
IDENTITY = ("method", "params", "seed", "chunk_size", "n", "feature_shape", "fingerprint")
#: Arrays every store has; diagnostics arrays are ``diag_<name>``.
CORE = ("values", "base_values", "outputs", "target")


class StoreMismatchError(ValueError):
    """A store written by another method, other parameters or for other data; the message says which."""


def chunk_ranges(n: int, chunk_size: int) -> list[tuple[int, int]]:
    """The row ranges ``[start, stop)`` of the chunks of ``n`` rows.

    Example:
        >>> chunk_ranges(5, 2)
        [(0, 2), (2, 4), (4, 5)]
    """
    return [(a, min(n, a + chunk_size)) for a in range(0, n, chunk_size)]


def chunk_seed(seed: int, start: int, stop: int) -> int:
    """The seed of the chunk of rows ``[start, stop)``: derived from the global seed and the row
    range only, so a chunk's result does not depend on which worker runs it, or when.

    Example:
        >>> chunk_seed(0, 0, 100) == chunk_seed(0, 0, 100) != chunk_seed(0, 100, 200)
        True
    """
    digest = hashlib.sha256(f"nbexplain:{int(seed)}:{int(start)}:{int(stop)}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


class ExplanationStore:
    """A dataset-wide explanation on disk (see the module docstring).

    Create one with :meth:`create` (or :meth:`open_or_create`, which resumes a matching store);
    open a finished or partial one with :meth:`open`. ``meta``: the metadata dict; ``path``.
    """

    def __init__(self, path: str | os.PathLike[str], group: Any, meta: dict[str, Any]) -> None:
        self.path = Path(path)
        self.group = group
        self.meta = meta
        self.ranges = chunk_ranges(int(meta["n"]), int(meta["chunk_size"]))

    # -- creating and opening -------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike[str], meta: dict[str, Any]) -> ExplanationStore:
        """A new, empty store at ``path`` (refused if something is there)."""
        import zarr

        p = Path(path)
        if p.exists() and any(p.iterdir()):
            raise FileExistsError(f"{p} exists and is not empty; pass another store path, or open it with "
                                  "ExplanationStore.open / resume it with the same settings")
        for key in ("method", "params", "seed", "chunk_size", "n", "feature_shape"):
            if key not in meta:
                raise ValueError(f"store metadata needs {key!r}")
        meta = _jsonable({"format": FORMAT, **meta})
        meta.setdefault("created", time.strftime("%Y-%m-%d %H:%M:%S"))
        group = zarr.open_group(str(p / "arrays"), mode="w")
        group.attrs["nbexplain"] = meta
        (p / "commits").mkdir(exist_ok=True)
        return cls(p, group, meta)

    @classmethod
    def open(cls, path: str | os.PathLike[str], mode: str = "r") -> ExplanationStore:
        """An existing store (``mode="r"`` to read, ``"a"`` to add chunks)."""
        import zarr

        p = Path(path)
        if not (p / "arrays" / "zarr.json").is_file():
            raise FileNotFoundError(f"no explanation store at {p} (no arrays/zarr.json); write one with "
                                    "nbx.explain_dataset(explainer, data, store=...)")
        group = zarr.open_group(str(p / "arrays"), mode=mode)
        meta = dict(group.attrs.get("nbexplain") or {})
        if meta.get("format") != FORMAT:
            raise StoreMismatchError(f"{p} is not an nbexplain explanation store of format {FORMAT} "
                                     f"(found {meta.get('format')!r})")
        return cls(p, group, meta)

    @classmethod
    def open_or_create(cls, path: str | os.PathLike[str], meta: dict[str, Any]) -> ExplanationStore:
        """Resume the store at ``path`` when it was written with the same settings, else create it.

        Raises :class:`StoreMismatchError` naming the settings that differ.
        """
        p = Path(path)
        if not (p / "arrays" / "zarr.json").is_file():
            return cls.create(p, meta)
        store = cls.open(p, mode="a")
        wanted = _jsonable(meta)
        differ = [k for k in IDENTITY if k in wanted and store.meta.get(k) != wanted.get(k)]
        if differ:
            said = "; ".join(f"{k}: store has {store.meta.get(k)!r}, this run {wanted.get(k)!r}" for k in differ)
            raise StoreMismatchError(f"the store {p} was written by another run ({said}); pass a new store path, or "
                                     "the same explainer, parameters, seed, chunk_size and data to resume it")
        return store

    # -- arrays ---------------------------------------------------------------------------------
    def _array(self, name: str, sample: np.ndarray) -> Any:
        if name in self.group:
            return self.group[name]
        n, chunk = int(self.meta["n"]), int(self.meta["chunk_size"])
        shape = (n, *sample.shape[1:])
        fill = -1 if sample.dtype.kind in "iu" else np.nan
        return self.group.create_array(name, shape=shape, chunks=(chunk, *sample.shape[1:]), dtype=sample.dtype,
                                       fill_value=fill)

    def write_chunk(self, k: int, arrays: dict[str, np.ndarray], *, seed: int, extra: dict[str, Any] | None = None) -> None:
        """Write chunk ``k``'s arrays (each ``(rows of the chunk, ...)``), then commit it atomically."""
        start, stop = self.ranges[k]
        for name, a in arrays.items():
            a = np.asarray(a)
            if a.shape[0] != stop - start:
                raise ValueError(f"chunk {k} array {name!r} has {a.shape[0]} rows for rows {start}..{stop}")
            self._array(name, a)[start:stop] = a
        record = {"chunk": k, "start": start, "stop": stop, "seed": int(seed), "digest": _digest(arrays),
                  "arrays": sorted(arrays), "time": time.time(), **(extra or {})}
        final = self.path / "commits" / f"{k:08d}.json"
        tmp = final.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, final)  # the chunk exists from here on, and only whole

    def read(self, name: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows ``[start, stop)`` of array ``name`` (NaN / -1 where no chunk was written)."""
        if name not in self.group:
            raise KeyError(f"the store has no array {name!r}; it has {self.arrays()}")
        return np.asarray(self.group[name][start:stop])

    def arrays(self) -> list[str]:
        """The names of the arrays written."""
        return sorted(self.group.array_keys())

    # -- chunks ---------------------------------------------------------------------------------
    def commit(self, k: int) -> dict[str, Any] | None:
        """Chunk ``k``'s commit record, or None."""
        f = self.path / "commits" / f"{k:08d}.json"
        try:
            return dict(json.loads(f.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def verify(self, k: int) -> bool:
        """Whether chunk ``k`` is finished: committed, and its arrays hash to the recorded digest."""
        record = self.commit(k)
        if record is None:
            return False
        start, stop = self.ranges[k]
        try:
            arrays = {name: self.read(name, start, stop) for name in record.get("arrays", [])}
        except Exception:  # an unreadable (damaged) chunk file
            return False
        return _digest(arrays) == record.get("digest")

    def finished(self, verify: bool = False) -> list[int]:
        """The chunks committed (and, with ``verify``, whose bytes check out)."""
        done = [k for k in range(len(self.ranges)) if (self.path / "commits" / f"{k:08d}.json").is_file()]
        return [k for k in done if self.verify(k)] if verify else done

    def pending(self, verify: bool = False) -> list[int]:
        """The chunks still to compute (not committed, or damaged when ``verify``)."""
        done = set(self.finished(verify=verify))
        return [k for k in range(len(self.ranges)) if k not in done]

    def drop(self, ks: Sequence[int]) -> None:
        """Forget chunks ``ks`` (their commits are removed; they are recomputed by the next run)."""
        for k in ks:
            (self.path / "commits" / f"{int(k):08d}.json").unlink(missing_ok=True)

    @property
    def complete(self) -> bool:
        """Every chunk committed."""
        return not self.pending()

    def __repr__(self) -> str:
        return (f"ExplanationStore({str(self.path)!r}, method={self.meta.get('method')!r}, "
                f"{len(self.finished())}/{len(self.ranges)} chunks)")
