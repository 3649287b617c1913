"""Activation functions: their curve and derivative, and which layers are activations.

- :func:`activation_curve` samples an elementwise function (a module such as ``nn.GELU()``, a
  function such as ``torch.tanh``, or a name such as ``"silu"``) on a grid and differentiates it
  with autograd;
- :func:`layer_activation` says whether a layer *is* an activation module;
- :func:`next_activation` finds the activation module that follows a layer (for a conv or linear
  layer, the non-linearity applied to its output).

Example:
    >>> import torch
    >>> c = activation_curve(torch.nn.ReLU(), lo=-1, hi=1, n=5)
    >>> c.name, c.x.tolist(), c.y.tolist(), c.dy.tolist()
    ('ReLU', [-1.0, -0.5, 0.0, 0.5, 1.0], [0.0, 0.0, 0.0, 0.5, 1.0], [0.0, 0.0, 0.0, 1.0, 1.0])
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.anatomy._run import as_model_input, call_model, remove_all
from nbexplain.explainers.gradients.layers import resolve_layer
from nbexplain.keras_models import is_keras, named_layers
from nbexplain.models import eval_mode

__all__ = ["ACTIVATION_TYPES", "ActivationCurve", "activation_curve", "layer_activation", "next_activation"]

#: Class names of the elementwise activation modules of ``torch.nn`` that are recognised.
ACTIVATION_TYPES = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU",
                    "Sigmoid", "Tanh", "Softplus", "Softsign", "Hardswish", "Hardsigmoid", "Hardtanh",
                    "Mish", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink", "Threshold")
#: Names :func:`activation_curve` accepts as strings (lower case).
NAMED = {n.lower(): n for n in ACTIVATION_TYPES if n not in ("PReLU", "RReLU", "Threshold")}


@dataclass
class ActivationCurve:
    """``y = f(x)`` and ``dy = f'(x)`` on an even grid ``x`` (float64 arrays), and ``name``.

    Example:
        >>> c = activation_curve("tanh", lo=0, hi=0, n=1)
        >>> c.name, c.y.tolist(), c.dy.tolist(), c.notes
        ('Tanh', [0.0], [1.0], [])
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray
    notes: list[str] = field(default_factory=list)


def _resolve_fn(fn_or_module: Any) -> tuple[Any, str]:
    import torch

    if isinstance(fn_or_module, str):
        key = fn_or_module.strip().lower().replace("_", "")
        if key not in NAMED:
            raise ValueError(f"unknown activation {fn_or_module!r}; names: {sorted(NAMED)} (or pass a module or "
                             "an elementwise function)")
        return getattr(torch.nn, NAMED[key])(), NAMED[key]
    if isinstance(fn_or_module, torch.nn.Module):
        return fn_or_module, type(fn_or_module).__name__
    if callable(fn_or_module):
        return fn_or_module, getattr(fn_or_module, "__name__", type(fn_or_module).__name__)
    raise TypeError(f"activation_curve takes a module, a function or a name, got {type(fn_or_module).__name__}")


def activation_curve(fn_or_module: Any, *, lo: float = -5, hi: float = 5, n: int = 201) -> ActivationCurve:
    """Sample ``fn_or_module`` on ``n`` even points in ``[lo, hi]``, with its derivative.

    The function must be elementwise (same output shape as input); the derivative comes from
    autograd (a function that returns a non-differentiable result gets a central finite
    difference instead, with a note). In-place modules (``ReLU(inplace=True)``) work. Module
    parameters (``PReLU``'s slope) are used as they are, not changed.

    Example:
        >>> import torch
        >>> c = activation_curve("sigmoid", lo=0, hi=0, n=1)
        >>> c.y.tolist(), c.dy.tolist()
        ([0.5], [0.25])
    """
    import torch

    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not hi >= lo:
        raise ValueError(f"hi must be >= lo, got lo={lo}, hi={hi}")
    fn, name = _resolve_fn(fn_or_module)
    params = list(fn.parameters()) if isinstance(fn, torch.nn.Module) else []
    dtype = params[0].dtype if params and torch.is_floating_point(params[0]) else torch.float64
    x = torch.linspace(float(lo), float(hi), n, dtype=torch.float64)
    xin = x.to(dtype).clone().requires_grad_(True)
    notes: list[str] = []
    with torch.enable_grad(), _eval(fn):
        y = _as_tensor(fn(xin * 1.0))  # a non-leaf copy: in-place activations may modify it
        _check_elementwise(fn, name, xin, y)
        if y.requires_grad:
            (dy,) = torch.autograd.grad(y.sum(), xin, allow_unused=True)
            dy = torch.zeros_like(xin) if dy is None else dy
        else:
            notes.append(f"{name} is not differentiable by autograd; dy is a finite difference")
            dy = None
    yv = y.detach().double().numpy()
    dyv = dy.detach().double().numpy() if dy is not None else (np.gradient(yv, x.numpy()) if n > 1
                                                                  else np.zeros(1))
    return ActivationCurve(name=name, x=x.numpy(), y=yv, dy=dyv, notes=notes)


def _as_tensor(y: Any) -> Any:
    import torch

    return y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y, dtype=np.float64))


@contextlib.contextmanager
def _eval(fn: Any) -> Iterator[None]:
    """Eval mode for a module (``RReLU`` samples its slope in training mode); restored after."""
    import torch

    if not isinstance(fn, torch.nn.Module):
        yield
        return
    with eval_mode(fn):
        yield


def _check_elementwise(fn: Any, name: str, xin: Any, y: Any) -> None:
    """Same shape, and the two halves of the grid evaluated apart give the same values."""
    import torch

    problem = ""
    if tuple(y.shape) != tuple(xin.shape):
        problem = f"an input of shape {tuple(xin.shape)} gave {tuple(y.shape)}"
    elif xin.numel() >= 2:
        k = xin.numel() // 2
        with torch.no_grad():
            halves = torch.cat([_as_tensor(fn(xin[:k].detach() * 1.0)).reshape(-1),
                                _as_tensor(fn(xin[k:].detach() * 1.0)).reshape(-1)])
        if halves.shape != y.reshape(-1).shape or not torch.allclose(
                halves.double(), y.detach().reshape(-1).double(), rtol=1e-5, atol=1e-6):
            problem = "each value's result depends on the other values (like softmax)"
    if problem:
        raise ValueError(f"{name} is not elementwise: {problem}; activation curves need a function applied to "
                         "each value on its own")


def _is_activation(module: Any) -> bool:
    return type(module).__name__ in ACTIVATION_TYPES


def _fused(module: Any) -> Any:
    """A Keras layer's own non-linear ``activation`` (``Dense(..., activation="relu")``), or None."""
    fn = getattr(module, "activation", None) if is_keras(module) else None
    return fn if callable(fn) and getattr(fn, "__name__", "") != "linear" else None


def layer_activation(model: Any, layer: Any) -> Any:
    """The activation module ``layer`` (a name or module of ``model``) is, or None.

    A Keras layer with an activation of its own (``Dense(8, activation="relu")``, an
    ``Activation`` layer) gives that function (``keras.activations.relu``).

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU())
        >>> layer_activation(m, "1"), layer_activation(m, "0")
        (GELU(approximate='none'), None)
    """
    module, _ = resolve_layer(model, layer)
    return module if _is_activation(module) else _fused(module)


def next_activation(model: Any, layer: Any, example_input: Any = None) -> tuple[Any, str] | None:
    """``(module, name)`` of the activation module ``layer`` is, or the first one that runs after
    it; None when there is none.

    With ``example_input`` the order is the forward pass's (one pass without gradients: the
    first activation called after the layer's first call, so a shared ``relu`` called again
    after the layer counts); without it, registration order (which matches
    most ``Sequential`` and ResNet-style models). Functional activations (``F.relu``) are not
    modules and are not found.

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh())
        >>> next_activation(m, "0")
        (Tanh(), '1')
    """
    module, name = resolve_layer(model, layer)
    if _is_activation(module):
        return module, name
    if _fused(module) is not None:  # a Keras layer applies its own activation
        return _fused(module), name
    if example_input is not None:
        names = _call_sequence(model, example_input)
    else:
        names = [n for n, _ in named_layers(model)]
    modules = dict(named_layers(model))
    after = names[names.index(name) + 1:] if name in names else []
    for n in after:
        if n and not n.startswith(name + ".") and (_is_activation(modules[n]) or _fused(modules[n]) is not None):
            return (modules[n] if _is_activation(modules[n]) else _fused(modules[n])), n
    return None


def _call_sequence(model: Any, x: Any) -> list[str]:
    """The names of the modules in the order they are called (every call), one forward pass."""
    import torch

    seq: list[str] = []
    handles: list[Any] = []
    xt = as_model_input(model, x)
    try:
        for name, module in named_layers(model):
            handles.append(module.register_forward_pre_hook(lambda _m, _a, name=name: seq.append(name)))
        with torch.no_grad(), eval_mode(model):
            call_model(model, xt)
    finally:
        remove_all(handles)
    return seq
