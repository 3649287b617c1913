"""Saliency and Gradient x Input: the plainest gradient methods, on the shared gradient engine.

Both take the gradient of one model output (a logit, not a softmax) with respect to the input,
through :class:`~nbexplain.explainers.gradients._engine.GradientExplainer`: inputs on any device, targets
resolved once, the model frozen (eval mode, no parameter ``.grad``) and restored afterwards,
the work cut into chunks (``internal_batch_size="auto"``) that halve on a CUDA out-of-memory
error. Only the input's gradient is taken, so parameters never collect ``.grad``.

Example:
    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> e = Saliency(torch.nn.Linear(3, 2)).explain(torch.ones(4, 3), target=1)
    >>> e.values.shape, e.method
    ((4, 3), 'saliency')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nbexplain.explainers.gradients._engine import GradientExplainer, RunContext


class Saliency(GradientExplainer):
    """Input-gradient attributions for a ``torch.nn.Module``.

    ``absolute=True`` returns ``|gradient|`` (Captum's ``Saliency(abs=True)``); the default keeps
    the sign. ``explain(inputs, target=None)`` takes a tensor or array ``(n, ...)`` on any device
    and returns an :class:`~nbexplain.Explanation` whose ``values`` are float32 shaped like the
    inputs. ``engine_kwargs``: ``internal_batch_size`` (``"auto"`` or an int), ``dtype``
    (``torch.bfloat16`` for an autocast forward pass), ``cpu_memory_budget``.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3))
        >>> e = Saliency(model, absolute=True).explain(torch.randn(2, 4))
        >>> bool((e.values >= 0).all()), e.target.shape
        (True, (2,))
    """

    tuple_inputs = True

    def __init__(self, model: Any, absolute: bool = False, **engine_kwargs: Any) -> None:
        super().__init__(model, **engine_kwargs)
        self.absolute = bool(absolute)

    @property
    def method(self) -> str:  # type: ignore[override]
        """``"saliency_abs"`` when ``absolute`` else ``"saliency"``."""
        return "saliency_abs" if self.absolute else "saliency"

    def __repr__(self) -> str:
        return f"Saliency({type(self.model).__name__}, absolute={self.absolute})"

    def params(self) -> dict[str, Any]:
        """Engine parameters plus ``absolute``.

        Example:
            >>> import torch
            >>> Saliency(torch.nn.Linear(2, 2), absolute=True).params()["absolute"]
            True
        """
        return {**super().params(), "absolute": self.absolute}

    def call_options(self) -> Sequence[str]:
        """``explain`` also takes ``absolute=`` for one call."""
        return (*super().call_options(), "absolute")

    def explain(self, inputs: Any, target: Any = None, baselines: Any = None, *,
                additional_forward_args: Any = None, **options: Any) -> Any:
        """Gradients of the target output for every sample, as an :class:`~nbexplain.Explanation`
        (one per input for tuple inputs).

        ``target``: None (predicted output), an int, one int per sample, or a callable
        ``target(outputs) -> (n,)`` tensor that is differentiated instead.

        Example:
            >>> import torch
            >>> e = Saliency(torch.nn.Linear(2, 2)).explain(torch.zeros(1, 2), target=0)
            >>> e.outputs.shape
            (1,)
        """
        return super().explain(inputs, target, baselines, additional_forward_args=additional_forward_args,
                               **options)

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        grad, outputs = ctx.gradients(x, targets)
        return (grad.abs() if self.absolute else grad), {"outputs": outputs.cpu().numpy()}


class GradientXInput(GradientExplainer):
    """Gradient times input (Captum's ``InputXGradient``): ``x * d output / d x``.

    For a linear model it is each feature's exact contribution relative to a zero input; for
    others a first-order one. Same call and engine options as :class:`Saliency`.

    Example:
        >>> import torch
        >>> model = torch.nn.Linear(3, 1, bias=False)
        >>> e = GradientXInput(model).explain(torch.ones(2, 3), target=0)
        >>> bool(abs(e.values.sum(1) - e.outputs).max() < 1e-6), e.method
        (True, 'gradient_x_input')
    """

    method = "gradient_x_input"
    tuple_inputs = True

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        grad, outputs = ctx.gradients(x, targets)
        return grad * x, {"outputs": outputs.cpu().numpy()}
