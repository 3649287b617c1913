"""Saliency: the gradient of one model output (a logit, not a softmax) with respect to the input.

All samples go through one forward and one backward pass: the selected outputs are summed and
``torch.autograd.grad`` takes the gradient with respect to the input only, so parameters never
collect ``.grad``. The model's training flag and every parameter's ``requires_grad`` are restored
afterwards, also when the model raises.

Example:
    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> e = Saliency(torch.nn.Linear(3, 2)).explain(torch.ones(4, 3), target=1)
    >>> e.values.shape, e.method
    ((4, 3), 'saliency')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nbexplain.explainers._targets import callable_objective, is_callable_target, resolve_target
from nbexplain.explanation import Explanation
from nbexplain.models import is_torch_module, model_device


class Saliency:
    """Input-gradient attributions for a ``torch.nn.Module``.

    ``absolute=True`` returns ``|gradient|`` (Captum's ``Saliency(abs=True)``); the default keeps
    the sign. ``explain(inputs, target=None)`` takes a tensor or array ``(n, ...)`` on any device
    and returns an :class:`Explanation` whose ``values`` are float32 shaped like the inputs.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3))
        >>> e = Saliency(model, absolute=True).explain(torch.randn(2, 4))
        >>> bool((e.values >= 0).all()), e.target.shape
        (True, (2,))
    """

    def __init__(self, model: Any, absolute: bool = False) -> None:
        if not is_torch_module(model):
            raise TypeError(f"Saliency needs a torch.nn.Module, got {type(model).__name__}; "
                            "use ShapTabular or LimeTabular for other models")
        self.model = model
        self.absolute = bool(absolute)

    @property
    def method(self) -> str:
        """``"saliency_abs"`` when ``absolute`` else ``"saliency"``."""
        return "saliency_abs" if self.absolute else "saliency"

    def __repr__(self) -> str:
        return f"Saliency({type(self.model).__name__}, absolute={self.absolute})"

    def explain(self, inputs: Any, target: Any = None) -> Explanation:
        """Gradients of the target output for every sample, as an :class:`Explanation`.

        ``target``: None (predicted output), an int, one int per sample, or a callable
        ``target(outputs) -> (n,)`` tensor that is differentiated instead.

        Example:
            >>> import torch
            >>> e = Saliency(torch.nn.Linear(2, 2)).explain(torch.zeros(1, 2), target=0)
            >>> e.outputs.shape
            (1,)
        """
        import torch

        x = _as_float_tensor(inputs)
        if x.ndim < 2:
            raise ValueError(f"inputs must be a batch (n, ...), got shape {tuple(x.shape)}; "
                             "add the sample axis with x[None]")
        n = x.shape[0]
        model = self.model
        leaf = x.detach().to(model_device(model), dtype=_param_dtype(model, x.dtype)).requires_grad_(True)
        was_training = model.training
        params = list(model.parameters())
        flags = [p.requires_grad for p in params]
        try:
            model.eval()
            for p in params:
                p.requires_grad_(False)
            with torch.enable_grad():
                out = model(leaf.clone())  # clone: in-place first layers must not touch the leaf
                if not isinstance(out, torch.Tensor):
                    raise TypeError(f"the model returned {type(out).__name__}; Saliency needs a tensor "
                                    "(n, k) of outputs (wrap the model to return the logits)")
                out2 = out.reshape(n, -1) if out.ndim != 2 else out
                if is_callable_target(target):
                    selected = callable_objective(target, out2, n)
                    targets = None
                else:
                    targets = resolve_target(target, out2.detach().float().cpu().numpy())
                    index = torch.as_tensor(targets, device=out2.device)[:, None]
                    selected = out2.gather(1, index).reshape(n)
                if not selected.requires_grad or not torch.is_floating_point(selected):
                    raise ValueError(
                        "the model output does not depend differentiably on the input (dtype "
                        f"{selected.dtype}, requires_grad={selected.requires_grad}): the forward pass "
                        "detaches it, runs under no_grad, or ends in argmax/round; return the logits")
                (grad,) = torch.autograd.grad(selected.sum(), leaf, allow_unused=True)
            if grad is None:
                raise ValueError("the selected output does not depend on the input (gradient is None); "
                                 "check that forward uses its argument and does not detach it")
        finally:
            model.train(was_training)
            for p, flag in zip(params, flags, strict=True):
                p.requires_grad_(flag)
        values = grad.abs() if self.absolute else grad
        return Explanation(
            values.detach().float().cpu().numpy(),
            data=x.detach().cpu().numpy(),
            target=targets,
            outputs=selected.detach().double().cpu().numpy(),
            method=self.method,
            params={"absolute": self.absolute, "target": "callable" if targets is None else "index"},
        )


def _param_dtype(model: Any, fallback: Any) -> Any:
    """The floating dtype of the model's parameters (float64 numpy data meets a float32 model)."""
    import torch

    for p in model.parameters():
        if torch.is_floating_point(p):
            return p.dtype
    return fallback


def _as_float_tensor(inputs: Any) -> Any:
    import torch

    if isinstance(inputs, torch.Tensor):
        t = inputs
    else:
        arr = np.asarray(inputs)
        if arr.dtype == object:
            raise TypeError("inputs must be a numeric tensor or array, got dtype object")
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if not torch.is_floating_point(t):
        raise TypeError(f"inputs have dtype {t.dtype}; gradients need floating point: "
                        "cast to float first (x.float() or x.astype(np.float32))")
    return t
