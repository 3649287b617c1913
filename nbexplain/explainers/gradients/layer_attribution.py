"""Attributions to a layer's output: which units (channels) of a layer mattered.

- :class:`LayerGradientXActivation`: ``A * dF/dA`` at the layer output ``A``;
- :class:`LayerIntegratedGradients`: Integrated Gradients in the layer's activation space. The
  path runs from the layer activation of the baseline ``A'`` to that of the input ``A``; at each
  point ``A' + t (A - A')`` is substituted for the layer's output in a forward pass of the input
  (as Captum's ``LayerIntegratedGradients`` with ``attribute_to_layer_input=False``), and
  ``attribution = (A - A') * sum_k w_k dF/dA(t_k)``. Its completeness error,
  ``sum(attribution) - (F(input) - F(baseline))``, is reported per sample as ``delta``; it goes
  to 0 as steps rise when every path from input to output passes through the layer.

Values are shaped like the layer output, ``(n, C, h, w)`` for a convolution;
``diagnostics["channel_importance"]`` sums them over the spatial axes, ``(n, C)``.

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
    ...                             torch.nn.Linear(4 * 4 * 4, 2))
    >>> e = LayerIntegratedGradients(model, steps=16).explain(torch.randn(2, 1, 6, 6), target=0)
    >>> e.values.shape, e.diagnostics["channel_importance"].shape, e.method
    ((2, 4, 4, 4), (2, 4), 'layer_integrated_gradients')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nbexplain.explainers.gradients._engine import (
    GradientExplainer,
    RunContext,
    baseline_tensor,
    riemann_or_gauss,
)
from nbexplain.explainers.gradients.layers import (
    last_conv_layer,
    layer_activations,
    layer_gradients,
    resolve_layer,
)


def channel_importance(values: Any) -> np.ndarray:
    """Per-channel totals ``(n, C)`` of layer attributions ``(n, C, ...)`` (float64 numpy).

    Example:
        >>> import numpy as np
        >>> channel_importance(np.ones((2, 3, 4, 4))).tolist()[0]
        [16.0, 16.0, 16.0]
    """
    v = np.asarray(values, dtype=np.float64)
    return v.reshape(v.shape[0], v.shape[1], -1).sum(-1) if v.ndim > 2 else v


class _LayerMethod(GradientExplainer):
    """Shared by layer attributions: the ``layer`` option and its resolution per call."""

    layout = "layer"  # values are shaped like the layer's output, not like the input image
    attributes_inputs = False
    integer_inputs = True  # token ids: the gradient starts at the layer (an embedding, say)
    tuple_inputs = True

    def __init__(self, model: Any, layer: Any = None, **engine_kwargs: Any) -> None:
        super().__init__(model, **engine_kwargs)
        if layer is not None:
            resolve_layer(model, layer)  # fail early on a wrong name
        self.layer = layer

    def _layer_label(self) -> Any:
        if self.layer is None or isinstance(self.layer, str):
            return self.layer
        return resolve_layer(self.model, self.layer)[1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.model).__name__}, layer={self._layer_label()!r})"

    def params(self) -> dict[str, Any]:
        return {**super().params(), "layer": self._layer_label()}

    def call_options(self) -> tuple[str, ...]:
        return (*super().call_options(), "layer")

    def _importance(self, values: Any, layer: Any) -> np.ndarray:
        """:func:`channel_importance` with the channel axis first (a channels-last Keras layer's moved)."""
        from nbexplain.keras_models import to_channels_first

        return channel_importance(to_channels_first(self.model, values, layer).float().cpu().numpy())

    def _resolve(self, x: Any) -> tuple[Any, str]:
        if self.layer is None:
            return last_conv_layer(self.model, x[:1])
        return resolve_layer(self.model, self.layer)


class LayerGradientXActivation(_LayerMethod):
    """Layer output times the gradient of the explained output with respect to it.

    ``layer``: a submodule or dotted name; None = the last convolution run by the forward pass.
    Values are shaped like the layer output; ``diagnostics``: ``layer``,
    ``channel_importance`` ``(n, C)``.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
        >>> LayerGradientXActivation(model, layer="1").explain(torch.randn(5, 3)).values.shape
        (5, 4)
    """

    method = "layer_gradient_x_activation"

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        import torch

        layer, name = self._resolve(x)
        parts: list[Any] = []

        def step(a: int, b: int) -> None:
            act, grad, _ = layer_gradients(self.model, layer, x[a:b], ctx._index(targets, slice(a, b)),
                                           autocast=ctx.autocast)
            parts.append(act * grad)

        ctx.chunked(step, x.shape[0])
        values = torch.cat(parts)
        return values, {"layer": name, "channel_importance": self._importance(values, layer)}


class LayerIntegratedGradients(_LayerMethod):
    """Integrated Gradients of a layer's output, from the baseline's activation to the input's.

    ``steps`` and ``rule`` as :func:`~nbexplain.explainers.gradients._engine.riemann_or_gauss`
    (``"gausslegendre"`` by default, as Captum); ``baselines`` are in input space (None =
    zeros, a number, one sample, or one per sample) and can also be given to ``explain``.
    ``internal_batch_size`` counts (sample, step) pairs per pass. ``diagnostics``: ``layer``,
    ``channel_importance`` ``(n, C)``, ``delta`` (completeness error per sample);
    ``Explanation.base_values`` holds the explained output at the baseline.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
        >>> e = LayerIntegratedGradients(model, layer="0", steps=32).explain(torch.randn(2, 3), target=1)
        >>> bool(abs(e.diagnostics["delta"]).max() < 1e-3)
        True
    """

    method = "layer_integrated_gradients"
    uses_baselines = True

    def __init__(self, model: Any, layer: Any = None, steps: int = 50, rule: str = "gausslegendre",
                 baselines: Any = None, multiply_by_inputs: bool = True, **engine_kwargs: Any) -> None:
        super().__init__(model, layer, **engine_kwargs)
        riemann_or_gauss(rule, steps)  # validate
        if not isinstance(multiply_by_inputs, (bool, np.bool_)):
            raise TypeError(f"multiply_by_inputs must be True or False, got {multiply_by_inputs!r}")
        self.steps = steps
        self.rule = rule
        self.baselines = baselines
        self.multiply_by_inputs = bool(multiply_by_inputs)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "steps": self.steps, "rule": self.rule,
                "multiply_by_inputs": self.multiply_by_inputs}

    def call_options(self) -> tuple[str, ...]:
        return (*super().call_options(), "steps", "rule", "multiply_by_inputs")

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        import torch

        layer, name = self._resolve(x)
        base = ctx.baselines(self.baselines if baselines is None else baselines, lambda xk, b: baseline_tensor(b, xk))
        base = base.expand_as(x) if base.shape[0] == 1 else base
        alphas, weights = riemann_or_gauss(self.rule, self.steps)
        rows_no_grad = ctx.no_grad_rows()
        act = layer_activations(self.model, layer, x, rows_no_grad, autocast=ctx.autocast)
        act0 = layer_activations(self.model, layer, base, rows_no_grad, autocast=ctx.autocast)
        diff = act - act0
        n, steps = x.shape[0], self.steps
        shape = [-1, *[1] * (act.ndim - 1)]
        alpha_t = torch.as_tensor(alphas, dtype=act.dtype, device=act.device)
        weight_t = torch.as_tensor(weights, dtype=torch.float64, device=act.device)
        total = torch.zeros_like(act, dtype=torch.float64)

        def step(a: int, b: int) -> None:
            pairs = torch.arange(a, b, device=act.device)
            rows, k = pairs // steps, pairs % steps
            point = (act0[rows] + alpha_t[k].reshape(shape) * diff[rows]).detach()
            _, grad, _ = layer_gradients(self.model, layer, x[rows], ctx._index(targets, rows.cpu().numpy()),
                                         autocast=ctx.autocast, replacement=point.requires_grad_(True))
            total.index_add_(0, rows, grad.double() * weight_t[k].reshape(shape))

        ctx.chunked(step, n * steps)  # with "auto", the first pass measures the chunk
        at_input = ctx.outputs(x, targets)
        at_base = ctx.outputs(base, targets)
        if not self.multiply_by_inputs:  # the path-averaged layer gradients (Captum's "local" variant)
            values = total.to(act.dtype)
            return values, {"layer": name, "channel_importance": self._importance(values, layer),
                            "base_values": at_base, "outputs": at_input}
        values64 = diff.double() * total
        values = values64.to(act.dtype)
        importance = self._importance(values, layer)
        delta = values64.reshape(n, -1).sum(1).cpu().numpy() - (at_input - at_base)
        return values, {"layer": name, "channel_importance": importance, "delta": delta,
                        "base_values": at_base, "outputs": at_input}
