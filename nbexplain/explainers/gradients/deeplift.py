"""DeepLIFT (Rescale rule) for any PyTorch model: residual nets with in-place ReLU, functional activations.

Each sample ``x`` and its baseline ``x0`` go through the model together, as one batch
``[x; x0]``, under :class:`~nbexplain.explainers.gradients._rescale.RescaleMode`, which swaps every
elementwise nonlinearity and max pooling, however it is called, for a function whose backward pass
carries DeepLIFT's multipliers. The attribution is ``(x - x0) * multiplier`` and sums to
``f(x) - f(x0)`` (summation-to-delta); the gap is reported per sample as ``diagnostics["delta"]``.

No module hooks are used, so unlike Captum's ``DeepLift`` it sees ``F.relu`` / ``torch.tanh`` /
``h.relu_()`` calls and a ``ReLU`` module used twice, and unlike shap's ``DeepExplainer`` it runs
on in-place ReLU after ``out += identity`` (torchvision's ResNets).

Products of two input-dependent tensors (squeeze-excitation gates), divisions and layer / group /
RMS norms (ConvNeXt, ViT blocks) get exact multipliers too, so EfficientNet- and ConvNeXt-style
networks sum to delta. A model that runs an operation with no DeepLIFT rule on input-dependent
tensors (attention's ``matmul`` / ``softmax``, fused attention, max reductions, batch
statistics) raises :class:`DeepLiftUnsupportedError` naming the operation: its attributions would
not sum to ``f(x) - f(x0)``; use Integrated Gradients there.

Targets are logits: a model whose output is a softmax / log-softmax raises
:class:`~nbexplain.explainers.gradients._engine.GradientError` (the Rescale rule has no sound multiplier for
softmax; Captum's special case for it does not sum to delta); explain the model without its last
softmax, or pass a callable ``target`` that applies it (it is then differentiated normally).

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> e = DeepLift(model).explain(torch.randn(5, 3), target=1)
    >>> e.values.shape, bool(abs(e.diagnostics["delta"]).max() < 1e-5)
    ((5, 3), True)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from nbexplain.explainers.gradients._engine import (
    GradientError,
    GradientExplainer,
    RunContext,
    _autocast,
    baseline_tensor,
    check_differentiable,
    model_outputs,
    objective,
    run_chunked,
)
from nbexplain.validate import NonFiniteError, check_number

__all__ = ["DeepLift", "DeepLiftUnsupportedError", "rescale_gradients"]


class DeepLiftUnsupportedError(GradientError):
    """The model runs an operation DeepLIFT has no exact multiplier for; the message names it and the fix."""


def rescale_gradients(model: Any, x: Any, x0: Any, targets: Any, *, eps: float = 1e-10,
                      autocast: Any = None) -> tuple[Any, Any, Any, list[str]]:
    """DeepLIFT multipliers of the explained output at ``x`` against ``x0`` (both ``(n, ...)``).

    One forward pass on ``[x; x0]`` under :class:`RescaleMode` and one backward pass of the target
    outputs of both halves (as Captum does; max pooling mixes the halves). Returns the multipliers
    ``(n, ...)``, ``f(x)`` and ``f(x0)`` (float64, ``(n,)``) and the names of nonlinearities that
    kept their plain gradient. Call inside :func:`~nbexplain.explainers.gradients._engine.frozen`.
    """
    import torch

    from nbexplain.explainers.gradients._rescale import (
        RescaleMode,  # torch at import: loaded on first use
    )

    n = x.shape[0]
    leaf = torch.cat([x, x0]).detach().requires_grad_(True)
    raw: list[Any] = []

    def forward(t: Any) -> Any:
        raw.append(model(t))
        return raw[-1]

    with torch.enable_grad(), _autocast(leaf.device, autocast):
        batch = leaf.clone()  # an in-place first layer must not write into the leaf
        with RescaleMode(2 * n, eps) as mode:
            out = model_outputs(forward, batch)
        if mode.is_softmax_output(raw[0]):
            raise GradientError("the model ends in softmax / log_softmax; DeepLIFT explains logits: pass the "
                                "model without its last softmax (e.g. torch.nn.Sequential(*list(model)[:-1])), "
                                "or a callable target that applies softmax to the logits")
        problem = mode.model_error(raw[0])
        if problem is not None:
            raise DeepLiftUnsupportedError(problem)
        selected, selected0 = objective(out[:n], targets), objective(out[n:], targets)
        check_differentiable(selected)
        (grad,) = torch.autograd.grad(selected.sum() + selected0.sum(), leaf, allow_unused=True)
    if grad is None:
        raise GradientError("the explained output does not depend on the input (its gradient is None); check "
                            "that forward uses its argument and does not detach it")
    return grad[:n].to(x.dtype), selected.detach().double(), selected0.detach().double(), mode.unpaired


class DeepLift(GradientExplainer):
    """DeepLIFT with the Rescale rule; attributions sum to ``f(x) - f(baseline)``.

    ``baselines``: the default reference (None = zeros, a number, one sample, one per sample);
    ``explain(baselines=...)`` overrides it. ``average_baselines=True`` reads baselines as a set
    ``(b, *feature_shape)`` (or one set per sample, ``(n, b, *feature_shape)``): each sample is
    explained against every baseline and the attributions are averaged (Captum's
    ``DeepLiftShap``, shap's ``DeepExplainer`` with a background). ``multiply_by_inputs=False``
    returns the multipliers instead of ``(x - x0) * multipliers``. ``eps``: below this
    ``|x - x0|`` an activation uses its ordinary derivative. Engine options
    (``internal_batch_size``, ``dtype``, ``cpu_memory_budget``) as in
    :class:`~nbexplain.explainers.gradients._engine.GradientExplainer`; ``internal_batch_size`` counts rows,
    so one pass takes ``internal_batch_size // 2`` (input, baseline) pairs (at least one).

    ``diagnostics``: ``"delta"`` = ``sum(attributions) - (f(x) - mean f(x0))`` per sample,
    ``"relative_delta"`` = ``|delta| / max(|f(x) - mean f(x0)|, 1e-12)``; ``Explanation.base_values``
    is the mean ``f(x0)``, so ``values.sum() + base_values`` is the explained output (up to delta).

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
        >>> e = DeepLift(model, baselines=torch.randn(6, 4), average_baselines=True).explain(torch.randn(2, 4))
        >>> e.method, e.values.shape, e.base_values.shape
        ('deeplift', (2, 4), (2,))
    """

    method = "deeplift"
    uses_baselines = True

    def __init__(self, model: Any, baselines: Any = None, multiply_by_inputs: bool = True, eps: float = 1e-10,
                 average_baselines: bool = False, **engine_kwargs: Any) -> None:
        super().__init__(model, **engine_kwargs)
        self.baselines = baselines
        self.multiply_by_inputs = multiply_by_inputs
        self.eps = check_number(eps, "eps", min=0.0, min_open=True)
        self.average_baselines = average_baselines

    def call_options(self) -> tuple[str, ...]:
        """Engine options plus ``multiply_by_inputs``, ``eps`` and ``average_baselines``."""
        return (*super().call_options(), "multiply_by_inputs", "eps", "average_baselines")

    def params(self) -> dict[str, Any]:
        """Recorded in ``Explanation.params``."""
        b = self.baselines
        kind = "zeros" if b is None else ("constant" if isinstance(b, (int, float)) else "tensor")
        return {**super().params(), "multiply_by_inputs": bool(self.multiply_by_inputs), "eps": float(self.eps),
                "average_baselines": bool(self.average_baselines), "default_baselines": kind}

    def _baseline_sets(self, baselines: Any, x: Any) -> Any:
        """Baselines as ``(1 or n, b, *feature_shape)``."""
        import torch

        if not self.average_baselines:
            try:
                return baseline_tensor(baselines, x).unsqueeze(1)
            except NonFiniteError:
                raise
            except ValueError as exc:
                raise ValueError(f"{exc}; to average over a set of baselines pass average_baselines=True") from None
        if baselines is None or isinstance(baselines, (int, float)):
            return baseline_tensor(baselines, x).unsqueeze(1)
        b = baselines.detach() if isinstance(baselines, torch.Tensor) else torch.as_tensor(np.asarray(baselines))
        b = b.to(device=x.device, dtype=x.dtype)
        fs = tuple(x.shape[1:])
        if b.ndim == len(fs) + 1 and tuple(b.shape[1:]) == fs and b.shape[0] > 0:
            return b.unsqueeze(0)
        if b.ndim == len(fs) + 2 and b.shape[0] == x.shape[0] and tuple(b.shape[2:]) == fs and b.shape[1] > 0:
            return b
        raise ValueError(f"baselines have shape {tuple(b.shape)} but inputs have shape {tuple(x.shape)}; with "
                         f"average_baselines=True pass a set (b, {', '.join(map(str, fs))}) or one set per sample "
                         f"({x.shape[0]}, b, {', '.join(map(str, fs))})")

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        import torch

        if not isinstance(self.eps, (int, float)) or not self.eps > 0:
            raise ValueError(f"eps must be a positive number, got {self.eps!r}")
        sets = self._baseline_sets(self.baselines if baselines is None else baselines, x)
        n, nb = x.shape[0], sets.shape[1]
        values = torch.zeros_like(x)
        delta = torch.zeros(n, dtype=torch.float64, device=x.device)
        base_out = torch.zeros(n, dtype=torch.float64, device=x.device)
        out = torch.zeros(n, dtype=torch.float64, device=x.device)
        unpaired: set[str] = set()

        def step(a: int, b: int) -> None:
            pair = torch.arange(a, b, device=x.device)
            sample, j = pair // nb, pair % nb
            xi, x0 = x[sample], sets[sample if sets.shape[0] > 1 else 0, j]
            grad, fx, fx0, names = rescale_gradients(self.model, xi, x0, ctx._index(targets, sample.cpu().numpy()),
                                                     eps=float(self.eps), autocast=ctx.autocast)
            contrib = (xi - x0) * grad
            values.index_add_(0, sample, contrib if self.multiply_by_inputs else grad)
            delta.index_add_(0, sample, contrib.flatten(1).double().sum(1) - (fx - fx0))
            base_out.index_add_(0, sample, fx0)
            out.index_add_(0, sample, fx)
            unpaired.update(names)

        pairs = max(1, ctx.chunk // 2)
        used = run_chunked(step, n * nb, pairs, on_shrink=lambda c: ctx.shrink(2 * c))
        ctx.chunk_used = 2 * used
        if unpaired:
            warnings.warn(f"DeepLift: {sorted(unpaired)} ran on tensors without the (input; baseline) batch axis "
                          "first and kept their plain gradient; the summation-to-delta gap (diagnostics['delta']) "
                          "shows the effect", stacklevel=3)
        values /= nb
        gap, base, fx_mean = (t.div(nb).cpu().numpy() for t in (delta, base_out, out))
        diff = np.abs(fx_mean - base)
        return values, {"delta": gap, "relative_delta": np.abs(gap) / np.maximum(diff, 1e-12),
                        "base_values": base}
