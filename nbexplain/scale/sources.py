"""The data a dataset-wide run explains, cut into row ranges: arrays, DataFrames, Dask collections,
texts, image folders and torch Datasets.

:func:`as_source` wraps ``data`` in a :class:`Source`: ``n`` rows, ``kind``, and ``part(start,
stop)``, the rows ``[start, stop)`` as the explainer takes them. In memory (a numpy array, a
pandas DataFrame, a list of texts) the part is the rows themselves, cut on the caller's side and
shipped to the worker that explains them. A Dask array or DataFrame, an image folder or a torch
Dataset gives a :class:`LazyPart` the worker loads itself (``load()``), so the data never passes
through the notebook. :meth:`Source.fingerprint` identifies the data for a store (its size, type
and a digest of its first rows), so a store is not resumed on other data.

Example:
    >>> import numpy as np
    >>> s = as_source(np.arange(10.0).reshape(5, 2))
    >>> s.kind, s.n, s.part(1, 3).tolist()
    ('array', 5, [[2.0, 3.0], [4.0, 5.0]])
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["IMAGE_SUFFIXES", "LazyPart", "Source", "as_source", "load_part"]

#: Files an image folder source reads.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class LazyPart:
    """Rows ``[start, stop)`` of a source that the worker loads itself (``load()``).

    Example:
        >>> LazyPart(as_source([1.0, 2.0, 3.0]), 0, 2).load().tolist()
        [1.0, 2.0]
    """

    def __init__(self, source: Source, start: int, stop: int) -> None:
        self.source, self.start, self.stop = source, int(start), int(stop)

    def load(self) -> Any:
        return self.source.load(self.start, self.stop)


def load_part(part: Any) -> Any:
    """A part as data: a :class:`LazyPart` loaded, anything else as it is."""
    return part.load() if isinstance(part, LazyPart) else part


class Source:
    """``data`` as row ranges (see the module docstring); build with :func:`as_source`."""

    def __init__(self, kind: str, n: int, data: Any, loader: Callable[[Any, int, int], Any], lazy: bool,
                 describe: str) -> None:
        self.kind, self.n, self.data, self._loader, self.lazy, self.describe = kind, int(n), data, loader, lazy, describe

    def load(self, start: int, stop: int) -> Any:
        """Rows ``[start, stop)`` as the explainer takes them (computed here)."""
        return self._loader(self.data, int(start), int(stop))

    def part(self, start: int, stop: int) -> Any:
        """Rows ``[start, stop)`` to send to a worker: the rows, or a :class:`LazyPart` it loads."""
        return LazyPart(self, start, stop) if self.lazy else self.load(start, stop)

    def fingerprint(self, rows: int = 64) -> dict[str, Any]:
        """Size, type and a digest of the data (identifies the data for a store): every row of data in
        memory (an array, a DataFrame, texts: hashing is far quicker than explaining), the first and
        last ``rows`` rows of data the workers load (a Dask collection, image folder, Dataset)."""
        h = hashlib.sha256()
        ranges = [(0, self.n)] if not self.lazy else [(0, min(self.n, rows)), (max(0, self.n - rows), self.n)]
        for a, b in ranges:
            part = self.load(a, b)
            if isinstance(part, list):
                for t in part:
                    h.update(repr(t).encode())
            elif hasattr(part, "to_numpy") and hasattr(part, "columns"):
                h.update(repr(list(part.columns)).encode() + repr(list(part.dtypes.astype(str))).encode())
                for col in part.columns:
                    values = part[col].to_numpy()
                    h.update(values.tobytes() if values.dtype != object else repr(values.tolist()).encode())
            else:
                arr = np.ascontiguousarray(np.asarray(part))
                h.update(str(arr.dtype).encode() + str(arr.shape).encode() + arr.tobytes())
        return {"kind": self.kind, "n": self.n, "rows": h.hexdigest()[:16], "describe": self.describe}


def _slice(data: Any, a: int, b: int) -> Any:
    return data[a:b]


def _frame_rows(data: Any, a: int, b: int) -> Any:
    return data.iloc[a:b]


def _dask_array(data: Any, a: int, b: int) -> Any:
    return np.asarray(data[a:b].compute(scheduler="sync"))  # on the worker: no nested scheduling


def _dask_frame(data: Any, a: int, b: int) -> Any:
    frame, offsets = data
    parts = []
    for i, (lo, hi) in enumerate(itertools.pairwise(offsets)):
        if hi <= a or lo >= b:
            continue
        part = frame.get_partition(i).compute(scheduler="sync")
        parts.append(part.iloc[max(a, lo) - lo: min(b, hi) - lo])
    import pandas as pd

    return pd.concat(parts)


def _images(data: Any, a: int, b: int) -> np.ndarray:
    files, transform = data
    from PIL import Image

    out = []
    for f in files[a:b]:
        with Image.open(f) as im:
            pic = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
        pic = np.moveaxis(pic, -1, 0)  # C x H x W, in [0, 1]
        out.append(np.asarray(transform(pic)) if transform is not None else pic)
    shapes = {p.shape for p in out}
    if len(shapes) > 1:
        raise ValueError(f"the images of rows {a}..{b} have different shapes {sorted(shapes)}; pass transform= "
                         "a function that resizes each (C, H, W) array to one size")
    return np.stack(out)


def _dataset(data: Any, a: int, b: int) -> np.ndarray:
    items = []
    for i in range(a, b):
        item = data[i]
        if isinstance(item, (tuple, list)):  # (input, label) as torch datasets give them
            item = item[0]
        items.append(np.asarray(item.detach().cpu() if hasattr(item, "detach") else item))
    return np.stack(items)


def as_source(data: Any, *, transform: Callable[[np.ndarray], Any] | None = None) -> Source:
    """``data`` as a :class:`Source`: a numpy array or torch tensor (rows first), a pandas DataFrame,
    a ``dask.array`` / ``dask.dataframe``, a list of texts, a folder of images (a path; sorted file
    names; ``transform`` applied to each ``(C, H, W)`` float array in [0, 1]) or a torch
    ``Dataset`` (``ds[i]`` or ``ds[i][0]``)."""
    if isinstance(data, (str, Path)):
        folder = Path(data)
        if not folder.is_dir():
            raise FileNotFoundError(f"data {str(data)!r} is a path but not a folder; pass a folder of images, an "
                                    "array, a DataFrame, a Dask collection, a list of texts or a torch Dataset")
        files = sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"the folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        return Source("images", len(files), (files, transform), _images, True, f"image folder {folder}")
    mod = type(data).__module__
    if mod.startswith("dask.") or mod.startswith("dask_expr"):
        if hasattr(data, "npartitions") and hasattr(data, "columns"):  # a dask DataFrame
            lengths = data.map_partitions(len).compute()
            offsets = np.concatenate([[0], np.cumsum(np.asarray(lengths))]).astype(int).tolist()
            return Source("dask_frame", offsets[-1], (data, offsets), _dask_frame, True,
                          f"dask DataFrame of {data.npartitions} partitions")
        if hasattr(data, "chunks") and hasattr(data, "compute"):
            if any(np.isnan(c) for c in data.chunks[0]):
                raise ValueError("the dask array's row chunk sizes are unknown; call data.compute_chunk_sizes() first")
            return Source("dask_array", int(data.shape[0]), data, _dask_array, True,
                          f"dask array {tuple(data.shape)} {data.dtype}")
    if hasattr(data, "iloc") and hasattr(data, "columns"):
        return Source("frame", len(data), data, _frame_rows, False, f"DataFrame {data.shape}")
    if isinstance(data, Sequence) and not isinstance(data, (bytes, np.ndarray)) and data and \
            all(isinstance(t, str) for t in data[: min(len(data), 100)]):
        from nbexplain.validate import check_texts

        texts = check_texts(list(data), "data")
        return Source("texts", len(texts), texts, _slice, False, f"{len(texts)} texts")
    if hasattr(data, "__getitem__") and hasattr(data, "__len__") and not hasattr(data, "shape") and \
            not isinstance(data, (list, tuple)):
        return Source("dataset", len(data), data, _dataset, True, f"{type(data).__name__} of {len(data)} items")
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    arr = np.asarray(data)
    if arr.ndim < 1 or arr.shape[0] == 0:
        raise ValueError(f"data has no rows (shape {arr.shape}); pass at least one sample")
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"data has dtype {arr.dtype} (not numbers); pass numbers, a DataFrame (string and "
                        "categorical columns), a list of texts (every item a str) or a torch Dataset")
    return Source("array", arr.shape[0], arr, _slice, False, f"array {arr.shape} {arr.dtype}")
