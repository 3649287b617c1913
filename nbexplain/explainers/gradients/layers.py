"""Layers of a model: find one by module or dotted name, and capture its output and gradient.

- :func:`resolve_layer` turns a module or a name (``"layer4.1.conv2"``, ``"features[3]"``) into
  ``(module, name)``; an unknown name raises :class:`UnknownLayerError` listing the closest names;
- :func:`last_conv_layer` finds the last ``Conv1d/2d/3d`` the forward pass runs (Grad-CAM's
  default layer);
- :func:`capture` is a context manager that hooks one layer for the passes run inside it,
  keeps the tensor the layer returned (or substitutes one, for layer Integrated Gradients) and
  removes its hook on exit, also when the model raises, so re-running a notebook cell never
  piles hooks up on the model;
- :func:`layer_gradients` is one forward + backward pass giving a layer's activation and the
  gradient of the explained output with respect to it.

The hook hands a *clone* of the layer output to the rest of the network, so in-place
operations that follow the layer (``ReLU(inplace=True)``, ``x.relu_()``, ``out += identity``)
change the clone, never the captured activation; the gradient through the clone is the gradient
with respect to the layer output (Captum does the same).

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(inplace=True),
    ...                             torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3))
    >>> resolve_layer(model, "[0]")[1], last_conv_layer(model, torch.zeros(1, 1, 6, 6))[1]
    ('0', '0')
    >>> with capture(model, model[0]) as cap:
    ...     _ = model(torch.randn(2, 1, 6, 6))
    >>> cap.activation.shape, hook_count(model)
    (torch.Size([2, 2, 4, 4]), 0)
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterator
from typing import Any

from nbexplain.explainers.gradients._engine import (
    GradientError,
    _autocast,
    check_differentiable,
    hook_count,
    model_outputs,
    objective,
)
from nbexplain.keras_models import is_conv, named_layers

__all__ = ["LayerCapture", "NoConvLayerError", "UnknownLayerError", "capture", "hook_count",
           "last_conv_layer", "layer_gradients", "layer_name", "resolve_layer"]


class UnknownLayerError(ValueError):
    """A layer name that is not in ``model.named_modules()``; the message lists the closest ones."""


class NoConvLayerError(GradientError):
    """A model without convolutional layers asked for the default (last conv) layer."""


# -- finding a layer ------------------------------------------------------------------------------
def _normalise_name(name: str) -> str:
    """``"features[3].conv"`` -> ``"features.3.conv"``; ``"[0]"`` -> ``"0"``."""
    name = re.sub(r"\[\s*(-?\d+)\s*\]", r".\1", name.strip())
    return name.strip(".").replace("..", ".")


def layer_name(model: Any, layer: Any) -> str | None:
    """The dotted name of submodule ``layer`` in ``model`` (``""`` for the model itself), or None."""
    for name, module in named_layers(model):
        if module is layer:
            return name
    return None


def resolve_layer(model: Any, layer: Any) -> tuple[Any, str]:
    """``(module, dotted name)`` for ``layer``: a submodule of ``model`` or its name.

    Names are those of ``model.named_modules()``; ``"features[3]"`` is read as
    ``"features.3"``. Raises :class:`UnknownLayerError` (a ``ValueError``) listing the closest
    names for an unknown name, ``ValueError`` for a module that is not part of ``model`` and
    ``TypeError`` for anything else.

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
        >>> resolve_layer(m, m[1])[1], resolve_layer(m, "1")[0]
        ('1', ReLU())
    """
    import torch

    if isinstance(layer, torch.nn.Module):
        name = layer_name(model, layer)
        if name is None:
            raise ValueError(f"the layer {type(layer).__name__} is not a submodule of this "
                             f"{type(model).__name__}; pass one of model.named_modules() or its name")
        return layer, name
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a torch.nn.Module of the model or its dotted name, got "
                        f"{type(layer).__name__}")
    modules = dict(named_layers(model))
    name = _normalise_name(layer)
    if name and name in modules:
        return modules[name], name
    names = [n for n in modules if n]
    close = difflib.get_close_matches(name, names, n=6, cutoff=0.5)
    hint = (f"closest names: {close}" if close
            else f"top-level names: {[n for n in names if '.' not in n][:12]}")
    raise UnknownLayerError(f"the model has no layer named {layer!r}; {hint} "
                            "(all names: dict(model.named_modules()))")


def conv_types() -> tuple[type, ...]:
    """The layer types Grad-CAM picks by default: ``Conv1d``, ``Conv2d``, ``Conv3d``."""
    import torch

    return (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)


def last_conv_layer(model: Any, example: Any = None) -> tuple[Any, str]:
    """The last convolution the forward pass runs, as ``(module, name)``.

    With ``example`` (one input batch, usually one sample) the order is the execution order,
    recorded by temporary forward hooks during a dry forward pass without gradients (hooks
    removed in ``finally``); without it, the registration order of ``model.named_modules()``.
    Raises :class:`NoConvLayerError` when there is none (pass ``layer=`` then).

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3), torch.nn.Conv1d(2, 2, 1))
        >>> last_conv_layer(m, torch.zeros(1, 1, 5))[1]
        '1'
    """
    import torch

    convs: list[tuple[str, Any]] = [(n, m) for n, m in named_layers(model) if is_conv(m)]
    if not convs:
        raise NoConvLayerError(
            f"{type(model).__name__} has no Conv1d/Conv2d/Conv3d layer, so there is no default layer; "
            "pass layer= a module or its name (one whose output keeps spatial axes (n, C, ...)), "
            f"e.g. one of {[n for n, _ in named_layers(model) if n][-5:]}")
    if example is None:
        return convs[-1][1], convs[-1][0]
    order: list[str] = []
    handles = []
    try:
        for name, module in convs:
            handles.append(module.register_forward_hook(lambda _m, _i, _o, name=name: order.append(name)))
        with torch.no_grad():
            model(example.clone())  # a copy: an in-place first layer must not rewrite the caller's batch
    finally:
        for h in handles:
            h.remove()
    if not order:
        raise NoConvLayerError(f"none of the {len(convs)} convolution layers of {type(model).__name__} ran in "
                               "the forward pass; pass layer= the layer to explain")
    modules = dict(convs)
    return modules[order[-1]], order[-1]


# -- capturing a layer ----------------------------------------------------------------------------
class LayerCapture:
    """What :func:`capture` saw: the layer's output tensors, one per call of the layer.

    ``activation`` is the (single) captured output; ``replacement``, when set, is substituted
    for the layer's output in every pass (its shape must match).
    """

    def __init__(self, layer: Any, name: str, replacement: Any = None) -> None:
        self.layer = layer
        self.name = name
        self.replacement = replacement
        self.outputs: list[Any] = []

    @property
    def activation(self) -> Any:
        """The layer output of the last pass; raises when the layer did not run exactly once."""
        if len(self.outputs) != 1:
            what = "did not run" if not self.outputs else f"ran {len(self.outputs)} times"
            raise GradientError(f"layer {self.name!r} {what} in the forward pass; a layer attribution needs a "
                                "layer that runs once per forward pass (pick another layer)")
        return self.outputs[0]

    def hook(self, module: Any, inputs: Any, output: Any) -> Any:
        import torch

        if not isinstance(output, torch.Tensor):
            raise GradientError(f"layer {self.name!r} returned a {type(output).__name__}; layer attributions need "
                                "a layer that returns one tensor (pick its submodule that does)")
        if self.replacement is not None:
            if tuple(self.replacement.shape) != tuple(output.shape):
                raise GradientError(f"layer {self.name!r} output has shape {tuple(output.shape)}, the substituted "
                                    f"activation {tuple(self.replacement.shape)}")
            act = self.replacement
        elif torch.is_grad_enabled() and torch.is_floating_point(output) and not output.requires_grad:
            # nothing upstream needs a gradient (frozen parameters, plain input): start the
            # graph here, so the backward pass stops at the layer
            act = output.detach().requires_grad_(True)
        else:
            act = output
        self.outputs.append(act)
        # the network continues on a clone: later in-place ops must not touch ``act``
        return act.clone()


@contextlib.contextmanager
def capture(model: Any, layer: Any, *, replacement: Any = None) -> Iterator[LayerCapture]:
    """Hook ``layer`` (module or name) of ``model`` for the passes run inside the block.

    Yields a :class:`LayerCapture`. The hook is removed on exit, also when the body raises;
    ``hook_count(model)`` is the same before and after.

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(inplace=True))
        >>> _ = torch.nn.init.ones_(m[0].weight)
        >>> with capture(m, "0") as cap:
        ...     _ = m(-torch.ones(1, 2) * 100)
        >>> bool((cap.activation < 0).any())  # the pre-ReLU output, untouched by the in-place ReLU
        True
    """
    module, name = resolve_layer(model, layer)
    cap = LayerCapture(module, name, replacement)
    handle = module.register_forward_hook(cap.hook)
    try:
        yield cap
    finally:
        handle.remove()


def layer_gradients(model: Any, layer: Any, x: Any, targets: Any, *, autocast: Any = None,
                    replacement: Any = None) -> tuple[Any, Any, Any]:
    """One forward + backward pass: ``(activation, gradient, selected outputs)`` at ``layer``.

    ``gradient`` is d(explained output)/d(layer output) per sample. ``replacement`` substitutes
    the layer output (then the gradient is taken with respect to it). Call inside ``frozen``.
    Raises :class:`GradientError` when the explained output does not depend on the layer.
    """
    import torch

    with torch.enable_grad(), _autocast(x.device, autocast), capture(model, layer,
                                                                     replacement=replacement) as cap:
        selected = objective(model_outputs(model, x), targets)
        act = cap.activation
        check_differentiable(selected)
        if not act.requires_grad:
            raise GradientError(f"layer {cap.name!r} output carries no gradient (dtype {act.dtype}); pick a "
                                "layer with a floating-point output")
        (grad,) = torch.autograd.grad(selected.sum(), act, allow_unused=True)
    if grad is None:
        raise GradientError(f"the explained output does not depend on layer {cap.name!r} (its gradient is None); "
                            "pick a layer on the path from input to output")
    dtype = x.dtype if x.is_floating_point() else act.dtype  # token ids in: the layer's float dtype out
    return act.detach().to(dtype), grad.to(dtype), selected.detach()


def layer_activations(model: Any, layer: Any, x: Any, chunk: int, *, autocast: Any = None) -> Any:
    """The output of ``layer`` for every input in ``x``, without gradients, ``chunk`` at a time."""
    import torch

    parts = []
    with torch.no_grad(), _autocast(x.device, autocast):
        for a in range(0, x.shape[0], max(1, chunk)):
            with capture(model, layer) as cap:
                model(x[a:a + chunk].clone())  # a copy: an in-place first layer must not rewrite x
            parts.append(cap.activation.to(x.dtype if x.is_floating_point() else cap.activation.dtype))
    return torch.cat(parts)
