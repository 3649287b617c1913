"""One chunk of a dataset-wide run: explain rows ``[start, stop)`` and return them as arrays.

:func:`explain_chunk` is what runs on a worker (or in the notebook's process). It loads the part
(:func:`nbexplain.scale.sources.load_part`), gives a shallow copy of the explainer the chunk's own
seed (:func:`nbexplain.scale.store.chunk_seed`: from the global seed and the row range, so the
result is the same whichever worker runs it, and when), runs it with a fixed number of torch
and BLAS threads (float sums depend on the thread count; a fixed count makes the result bitwise the same
in every process), one chunk at a time per process (a model is not run by two threads at once),
and returns the arrays the store keeps (:func:`arrays_of`).

On a worker with a GPU the explainer's torch model is moved there once, when the worker first
meets that explainer (it stays there for the worker's later chunks).

Example:
    >>> import numpy as np, torch
    >>> from nbexplain.explainers import Saliency
    >>> out = explain_chunk(Saliency(torch.nn.Linear(3, 2)), np.ones((4, 3), np.float32), start=0, stop=4, seed=0)
    >>> sorted(out), out["values"].shape
    (['base_values', 'outputs', 'target', 'values'], (4, 3))
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from nbexplain.scale.sources import load_part
from nbexplain.scale.store import chunk_seed

__all__ = ["arrays_of", "explain_chunk"]

_LOCK = threading.Lock()  # one chunk at a time per process: a model must not run in two threads at once
_ON_DEVICE: dict[int, Any] = {}  # id(explainer) -> the device its model was moved to on this worker


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        # numpy's BLAS too (KernelSHAP's weighted least squares): its sums depend on its thread count,
        # and a Dask worker runs with one BLAS thread while the notebook's process has several
        with threadpool_limits(limits=int(n)):
            yield
    finally:
        torch.set_num_threads(before)


def _place(explainer: Any) -> None:
    """Move the explainer's torch model to this worker's GPU, once per explainer object."""
    key = id(explainer)
    if key in _ON_DEVICE:
        return
    model = getattr(explainer, "model", None)
    device = None
    try:
        import torch

        if torch.cuda.is_available() and isinstance(model, torch.nn.Module):
            device = torch.device("cuda")
            model.to(device)  # this worker's own copy of the model, not the user's
    except ImportError:
        pass
    _ON_DEVICE[key] = device


def arrays_of(e: Any, rows: int) -> dict[str, np.ndarray]:
    """The arrays a store keeps of an Explanation of ``rows`` samples: values (float32), base
    values and outputs (float64, NaN when absent), target (int64, -1 when absent) and every
    per-sample diagnostic (``diag_<name>``, numeric arrays whose first axis is the samples).

    Example:
        >>> from nbexplain.explanation import Explanation
        >>> sorted(arrays_of(Explanation(np.ones((2, 3)), base_values=[0.0, 1.0]), 2))
        ['base_values', 'outputs', 'target', 'values']
    """
    values = np.asarray(e.values, dtype=np.float32)
    if values.shape[0] != rows:
        raise ValueError(f"the explainer returned {values.shape[0]} explanations for {rows} rows")

    def per_row(a: Any, dtype: Any, fill: Any) -> np.ndarray:
        if a is None:
            return np.full(rows, fill, dtype=dtype)
        arr = np.asarray(a, dtype=dtype)
        return arr.reshape(rows, *arr.shape[1:]) if arr.ndim else np.full(rows, arr, dtype=dtype)

    out = {"values": values, "base_values": per_row(e.base_values, np.float64, np.nan),
           "outputs": per_row(e.outputs, np.float64, np.nan), "target": per_row(e.target, np.int64, -1)}
    for name, a in (getattr(e, "diagnostics", None) or {}).items():
        arr = np.asarray(a) if not isinstance(a, (str, bytes)) else None
        if arr is not None and arr.ndim >= 1 and arr.shape[0] == rows and arr.dtype.kind in "biuf":
            out[f"diag_{name}"] = arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64)
    return out


def _pad_texts(results: list[Any], max_tokens: int) -> tuple[Any, list[list[str]]]:
    """One Explanation per text (their lengths differ) as one batch padded with NaN to ``max_tokens``."""
    from nbexplain.explanation import Explanation

    tokens = [list(getattr(e, "feature_names", None) or []) for e in results]
    longest = max((len(t) for t in tokens), default=0)
    if longest > max_tokens:
        raise ValueError(f"a text has {longest} tokens, more than max_tokens={max_tokens}; pass a larger "
                         "max_tokens= to explain_dataset")
    values = np.full((len(results), max_tokens), np.nan, dtype=np.float32)
    for i, e in enumerate(results):
        v = np.asarray(e.values, dtype=np.float32).reshape(-1)
        values[i, : v.size] = v

    def scalar(e: Any, name: str) -> float:
        a = getattr(e, name, None)
        return float(np.asarray(a).reshape(-1)[0]) if a is not None else np.nan

    batch = Explanation(values, base_values=[scalar(e, "base_values") for e in results],
                        outputs=[scalar(e, "outputs") for e in results],
                        target=[int(np.asarray(e.target).reshape(-1)[0]) if e.target is not None else -1
                                for e in results])
    return batch, tokens


def explain_chunk(explainer: Any, part: Any, *, start: int, stop: int, seed: int, target: Any = None,
                  threads: int | None = 1, max_tokens: int = 64) -> dict[str, Any]:
    """Explain rows ``[start, stop)`` (``part``: the rows, or a LazyPart loaded here); see the module docstring.

    Texts (an explainer returning one Explanation per text) come back padded to ``max_tokens``
    with their tokens under ``"tokens"`` (a list of lists, kept in the chunk's commit record).
    """
    data = load_part(part)
    s = chunk_seed(seed, start, stop)
    with _LOCK, _threads(threads):
        _place(explainer)
        ex = copy.copy(explainer)  # the chunk's seed on a copy: the worker's explainer is shared by its chunks
        if hasattr(ex, "seed"):
            ex.seed = s
        if hasattr(ex, "base") and hasattr(ex.base, "seed"):  # SmoothGrad around another sampled method
            ex.base = copy.copy(ex.base)
            ex.base.seed = s
        e = ex.explain(data) if target is None else ex.explain(data, target=target[start:stop])
    tokens = None
    if isinstance(e, list):
        e, tokens = _pad_texts(e, max_tokens)
    out: dict[str, Any] = arrays_of(e, stop - start)
    if tokens is not None:
        out["tokens"] = tokens
    return out
