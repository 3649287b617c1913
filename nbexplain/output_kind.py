"""The one detection of what a model returns: class probabilities, logits, or a score.

Every entry point that wants class probabilities from a model (the predict wrapper, KernelSHAP's
torch path, LIME, the sample views, the what-if bars, the Dashboard) asks :func:`detect` once per
model wrapper, on the first output it sees, and converts with :func:`to_probabilities`; nothing
pushes probabilities through a softmax a second time. The user overrides the guess with
:func:`declare` (``nbx.declare_output(model, "logits")``), which every entry point honours, or
``returns=`` on :func:`nbexplain.models.as_predict_fn` and :class:`nbexplain.ExplainSession`.

The rule:

- two or more columns, every value in [0, 1], every row summing to 1: ``"probabilities"``;
- one column with every value in [0, 1]: ``"probabilities"`` of the positive class (a sigmoid
  output), which becomes ``[1 - p, p]``;
- otherwise ``"logits"`` (softmax, or a sigmoid ``[1 - s(z), s(z)]`` for one column).

Example:
    >>> import numpy as np
    >>> detect(np.array([[0.2, 0.8], [0.5, 0.5]])), detect(np.array([[2.0, -1.0]]))
    ('probabilities', 'logits')
    >>> to_probabilities(np.array([[0.9]]), "probabilities").tolist()
    [[0.09999999999999998, 0.9]]
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any

import numpy as np

__all__ = [
    "RETURNS", "OutputKindError", "check_returns", "declare", "declare_output", "detect", "looks_like_probabilities", "remembered_kind",
    "to_probabilities", "to_probabilities_torch",
]

#: What a model may be declared to return (``returns=``); ``"auto"`` detects it.
RETURNS = ("auto", "probabilities", "logits")
#: Tolerance on a row sum of 1 (float32 softmax outputs sum to 1 within about 1e-6).
SUM_TOLERANCE = 1e-4


class OutputKindError(ValueError):
    """A model's outputs contradict what it was declared (or detected) to return."""


def check_returns(returns: Any) -> str:
    """Validate a ``returns=`` argument.

    Example:
        >>> check_returns("logits")
        'logits'
    """
    if returns not in RETURNS:
        raise ValueError(f"returns must be one of {RETURNS} (what the model outputs; 'auto' detects it), "
                         f"got {returns!r}")
    return str(returns)


def looks_like_probabilities(out: Any) -> bool:
    """Rows of values in [0, 1] that sum to 1 (two or more columns), or one column in [0, 1].

    Rows with a non-finite value are ignored (they are reported elsewhere, with their index).

    Example:
        >>> looks_like_probabilities(np.array([[0.2, 0.8]])), looks_like_probabilities(np.array([[2.0, -1.0]]))
        (True, False)
    """
    a = np.asarray(out, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.size == 0:
        return False
    finite = a[np.all(np.isfinite(a), axis=1)]
    if finite.size == 0 or finite.min() < 0 or finite.max() > 1:
        return False
    if a.shape[1] == 1:
        return True
    return bool(np.all(np.abs(finite.sum(axis=1) - 1.0) <= SUM_TOLERANCE))


def detect(out: Any) -> str:
    """``"probabilities"`` or ``"logits"`` for a model output ``(n, k)`` (see the module rule).

    Example:
        >>> detect(np.array([[0.3], [0.9]])), detect(np.array([[3.0], [-1.0]]))
        ('probabilities', 'logits')
    """
    return "probabilities" if looks_like_probabilities(out) else "logits"


_REMEMBERED: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def remembered_kind(model: Any, out: Any) -> str:
    """:func:`detect` on the first output seen of ``model``, remembered for the model's lifetime.

    Every wrapper of the same model (a widget calls ``predict_proba(model, one_row)`` on each
    edit) then agrees, and a single row whose logits happen to lie in [0, 1] cannot flip the
    guess made on the first batch. Bound methods are remembered per owner and method name.

    Example:
        >>> f = lambda X: np.c_[1 - X[:, 0], X[:, 0]]
        >>> remembered_kind(f, np.array([[0.5, 0.5]])), remembered_kind(f, np.array([[3.0, 1.0]]))
        ('probabilities', 'probabilities')
    """
    owner, name = _key(model)
    try:
        per = _REMEMBERED.setdefault(owner, {})
    except TypeError:  # not weak-referenceable: detect every time
        return detect(out)
    if name not in per:
        per[name] = detect(out)
    return per[name]


def declare(model: Any, returns: str) -> None:
    """Say what ``model`` returns, for every entry point that later runs it (overrides :func:`detect`).

    ``returns``: ``"probabilities"``, ``"logits"``, or ``"auto"`` to forget a declaration.

    Example:
        >>> g = lambda X: X
        >>> declare(g, "logits"); remembered_kind(g, np.array([[0.5, 0.5]]))
        'logits'
    """
    check_returns(returns)
    owner, name = _key(model)
    try:
        per = _REMEMBERED.setdefault(owner, {})
    except TypeError:
        raise TypeError(f"cannot remember what a {type(model).__name__} returns (it cannot be weakly "
                        "referenced); pass returns= to the call instead") from None
    if returns == "auto":
        per.pop(name, None)
    else:
        per[name] = returns


#: The public name of :func:`declare` (``nbx.declare_output``).
declare_output = declare


def _key(model: Any) -> tuple[Any, str]:
    if inspect.ismethod(model):
        return model.__self__, model.__func__.__name__
    return model, ""


def to_probabilities(out: np.ndarray, kind: str, *, what: str = "the model") -> np.ndarray:
    """Class probabilities ``(n, max(k, 2))`` from an output of the given ``kind``.

    ``kind="probabilities"``: used as is (one column ``p`` becomes ``[1 - p, p]``); an output that
    is no longer probabilities raises :class:`OutputKindError` (declared or detected wrongly).
    ``kind="logits"``: softmax (one column: sigmoid).

    Example:
        >>> to_probabilities(np.array([[0.0, 0.0]]), "logits").tolist()
        [[0.5, 0.5]]
    """
    z = np.asarray(out, dtype=np.float64)
    if kind == "probabilities":
        if not looks_like_probabilities(z):
            raise OutputKindError(
                f"{what} was taken to return class probabilities (detected on its first output, or "
                "returns='probabilities'), but this output is not: values outside [0, 1] or rows not "
                "summing to 1. Pass returns='logits' if the model returns scores before softmax")
        return np.concatenate([1.0 - z, z], axis=1) if z.shape[1] == 1 else z
    if z.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-z))
        return np.concatenate([1.0 - p, p], axis=1)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def to_probabilities_torch(out: Any, kind: str) -> Any:
    """:func:`to_probabilities` for a torch tensor ``(n, k)`` (stays on its device).

    Example:
        >>> import torch
        >>> to_probabilities_torch(torch.tensor([[0.25]]), "probabilities").tolist()
        [[0.75, 0.25]]
    """
    import torch

    if kind == "probabilities":
        return torch.cat([1 - out, out], 1) if out.shape[1] == 1 else out
    if out.shape[1] == 1:
        s = torch.sigmoid(out)
        return torch.cat([1 - s, s], 1)
    return torch.softmax(out, 1)
