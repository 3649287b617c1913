"""Normalise the ``target`` argument every explainer takes.

A target says which model output to explain, per sample:

- ``None``: the model's top output (argmax) for each sample;
- an ``int``: the same output for every sample;
- a sequence or array of ints: one per sample;
- a callable ``target(outputs) -> (n,)``: any scalar per sample (a margin, a sum of classes);
  explainers that support it differentiate or explain that scalar instead of one output.

Example:
    >>> import numpy as np
    >>> resolve_target(None, np.array([[0.1, 0.9], [0.8, 0.2]])).tolist()
    [1, 0]
    >>> resolve_target(1, np.zeros((3, 2))).tolist()
    [1, 1, 1]
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def is_callable_target(target: Any) -> bool:
    """True when ``target`` is a callable objective rather than output indices.

    Example:
        >>> is_callable_target(lambda out: out[:, 0]), is_callable_target(3)
        (True, False)
    """
    return callable(target) and not isinstance(target, (int, np.integer, np.ndarray, list, tuple))


def resolve_target(target: Any, outputs: Any) -> np.ndarray:
    """Return one int64 output index per sample, checked against ``outputs`` of shape (n, k).

    Raises ``ValueError`` naming the valid range ``0..k-1`` for an index outside it, and when a
    per-sample sequence does not have one entry per sample.

    Example:
        >>> import numpy as np
        >>> resolve_target([0, 2], np.zeros((2, 3))).tolist()
        [0, 2]
    """
    out = np.asarray(outputs)
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2:
        raise ValueError(f"model outputs must be (n, k) to pick a target, got shape {out.shape}; "
                         "reshape the model output or pass a callable target")
    n, k = out.shape
    if target is None:
        return np.argmax(out, axis=1).astype(np.int64)
    return target_indices(target, n, k)


def target_indices(target: Any, n: int, k: int | None = None) -> np.ndarray:
    """Explicit targets (an int or one per sample) as int64 indices, checked without outputs.

    ``k`` (the number of outputs) bounds the indices when known; with ``k=None`` only the
    lower bound is checked, and the caller checks the upper one against the outputs it computes.

    Example:
        >>> target_indices(2, 3).tolist()
        [2, 2, 2]
    """
    if is_callable_target(target):
        raise TypeError("a callable target cannot be turned into output indices here; "
                        "this explainer needs an int, a sequence of ints or None")
    if isinstance(target, (bool, np.bool_)):
        raise TypeError(f"target must be an int output index, got the bool {target!r}")
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(target, torch.Tensor):
        target = target.detach().cpu().numpy()  # a target on another device is moved, not refused
    arr = np.asarray(target)
    if arr.dtype.kind == "b":
        raise TypeError(f"target must be int output indices, got booleans {target!r}; pass np.flatnonzero(mask) "
                        "or one int per sample")
    if arr.dtype.kind == "f" and arr.size and np.isfinite(arr).all() and (arr == np.round(arr)).all():
        pass  # whole floats name classes unambiguously
    elif arr.dtype == object or not np.issubdtype(arr.dtype, np.integer):
        frac = " (a fraction names no class; probabilities are not targets)" if arr.dtype.kind == "f" else ""
        raise TypeError(f"target must be an int, a sequence of ints or a callable; got {target!r} "
                        f"(dtype {arr.dtype}){frac}")
    if arr.ndim == 0:
        arr = np.full(n, int(arr))
    elif arr.shape == (n, 1):  # a column of targets: one per sample all the same
        arr = arr[:, 0]
    elif arr.shape != (n,):
        raise ValueError(f"target has shape {arr.shape} but there are {n} samples; pass one index per "
                         "sample, a single int, or None for the predicted output")
    bad = (arr < 0) | (arr >= k) if k is not None else arr < 0
    if bad.any():
        valid = f"valid targets are 0..{k - 1}" if k is not None else "targets are output indices >= 0"
        raise ValueError(f"target {int(arr[bad][0])} is out of range: "
                         + (f"the model has {k} outputs, " if k is not None else "") + valid)
    return arr.astype(np.int64)


def callable_objective(target: Any, outputs: Any, n: int) -> Any:
    """Apply a callable target to ``outputs`` and check it gives one scalar per sample.

    Works on numpy arrays and torch tensors alike (returns what the callable returned, flattened).

    Example:
        >>> import numpy as np
        >>> callable_objective(lambda o: o[:, 0] - o[:, 1], np.ones((2, 2)), 2).tolist()
        [0.0, 0.0]
    """
    value = target(outputs)
    shape = tuple(getattr(value, "shape", np.shape(value)))
    if shape not in ((n,), (n, 1)):
        raise ValueError(f"callable target returned shape {shape}; it must return one scalar per sample, "
                         f"shape ({n},)")
    from nbexplain.validate import check_model_output

    return check_model_output(value.reshape(n), "the callable target")
