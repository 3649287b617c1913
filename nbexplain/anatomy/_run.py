"""Running a model once for inspection: input conversion, model state, readable errors.

- :func:`as_model_input` turns a tensor, a numpy array, or a tuple/list/dict of them into what
  the model is called with (floating arrays in the model's dtype, everything on its device);
- :func:`call_model` calls the model and turns its exception into :class:`ModelInputError`,
  which quotes the model's own message and the input shape given;
- eval mode around a run is :func:`nbexplain.models.eval_mode` (every submodule's flag restored).

Example:
    >>> import torch
    >>> model = torch.nn.Linear(3, 2)
    >>> call_model(model, as_model_input(model, torch.zeros(1, 3))).shape
    torch.Size([1, 2])
    >>> try:
    ...     call_model(model, torch.zeros(1, 4))
    ... except ModelInputError as e:
    ...     print(str(e)[:58])
    the Linear raised RuntimeError on an input of shape (1, 4)
"""

from __future__ import annotations

from typing import Any

from nbexplain.explainers.gradients._engine import as_model_tensor


class ModelInputError(ValueError):
    """The model raised on the example input (usually a wrong shape); the message quotes it."""


def as_model_input(model: Any, x: Any) -> Any:
    """``x`` as a tensor on the model's device (floating data in the model's dtype).

    Tuples, lists and dicts are converted element-wise (the model is then called with
    ``model(*x)`` / ``model(**x)``, see :func:`call_model`).

    Example:
        >>> import torch, numpy as np
        >>> as_model_input(torch.nn.Linear(2, 1).double(), np.zeros((1, 2), np.float32)).dtype
        torch.float64
    """
    if isinstance(x, dict):
        return {k: as_model_input(model, v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(as_model_input(model, v) for v in x)
    return as_model_tensor(x, model, "the example input")


def input_shape(x: Any) -> Any:
    """The shape of ``x`` as a tuple (a tuple/dict of shapes for several inputs).

    Example:
        >>> import torch
        >>> input_shape((torch.zeros(1, 2), torch.zeros(3)))
        ((1, 2), (3,))
    """
    if isinstance(x, dict):
        return {k: input_shape(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return tuple(input_shape(v) for v in x)
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else type(x).__name__


def first_tensor(out: Any) -> Any:
    """The first tensor in a module output (a tensor, or nested tuples/lists/dicts), or None.

    Example:
        >>> import torch
        >>> first_tensor((None, [torch.ones(2)])).shape
        torch.Size([2])
    """
    import torch

    if isinstance(out, torch.Tensor):
        return out
    items = out.values() if isinstance(out, dict) else out if isinstance(out, (tuple, list)) else ()
    for item in items:
        t = first_tensor(item)
        if t is not None:
            return t
    return None


def tensors_in(out: Any) -> list[Any]:
    """Every tensor in a module output or input, in order (nested tuples/lists/dicts).

    Example:
        >>> import torch
        >>> len(tensors_in((torch.ones(1), {"a": torch.ones(2)}, 3)))
        2
    """
    import torch

    if isinstance(out, torch.Tensor):
        return [out]
    items = out.values() if isinstance(out, dict) else out if isinstance(out, (tuple, list)) else ()
    return [t for item in items for t in tensors_in(item)]


def call_model(model: Any, x: Any) -> Any:
    """``model(x)`` (``model(*x)`` for a tuple/list, ``model(**x)`` for a dict).

    An exception of the model becomes :class:`ModelInputError` quoting the model's message (its
    first line) and the shape given; the original exception is chained as ``__cause__``.
    """
    x = _copied(x)  # the model sees copies: an in-place first layer must not rewrite the caller's tensors
    try:
        if isinstance(x, dict):
            return model(**x)
        if isinstance(x, (tuple, list)):
            return model(*x)
        return model(x)
    except Exception as err:  # the model's own error: quote it
        msg = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ModelInputError(
            f"the {type(model).__name__} raised {type(err).__name__} on an input of shape "
            f"{input_shape(x)}: {msg!r}; pass an example input of the shape the model takes, "
            "batch axis first (one sample: x[None] or x.unsqueeze(0))") from err


def remove_all(handles: list[Any]) -> None:
    """Remove every hook handle in ``handles`` (used in ``finally`` blocks)."""
    for h in handles:
        h.remove()
    handles.clear()


def _copied(x: Any) -> Any:
    """``x`` with every tensor in it cloned (dicts, tuples and lists kept as they are)."""
    import torch

    if isinstance(x, torch.Tensor):
        return x.clone()
    if isinstance(x, dict):
        return {k: _copied(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_copied(v) for v in x)
    return x
