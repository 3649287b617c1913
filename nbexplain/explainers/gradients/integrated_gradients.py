"""Integrated Gradients and expected gradients, memory-bounded, with their completeness error.

Integrated Gradients (Sundararajan et al., 2017) integrates the input gradient along the straight
line from a baseline ``b`` to the input ``x``::

    attr = (x - b) * sum_t w_t * grad f(b + a_t (x - b))

with the points ``a_t`` and weights ``w_t`` of an integration rule (Gauss-Legendre or a Riemann
sum, the same as Captum's). Completeness says ``sum(attr) = f(x) - f(b)``; what is missing is
reported per sample as ``diagnostics["delta"]``. The (sample, step) points are walked in chunks
of ``internal_batch_size`` and their weighted gradients summed as they come, so memory holds one
chunk of gradients and one sum per sample, never all ``n * steps`` gradients.

Expected gradients (Erion et al., 2021; GradientSHAP without input noise) averages over baselines
drawn from a background set and points drawn uniformly on each path.

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> e = IntegratedGradients(model, steps=32).explain(torch.ones(2, 3), target=0)
    >>> e.values.shape, bool(abs(e.diagnostics["delta"]).max() < 1e-4)
    ((2, 3), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.explainers.gradients._engine import (
    GradientExplainer,
    RunContext,
    riemann_or_gauss,
    to_input_tensor,
)
from nbexplain.explainers.gradients._paths import (
    endpoint_outputs,
    path_gradients,
    resolve_baselines,
)
from nbexplain.validate import check_int, check_number

#: Integration rules; the Riemann ones and their points/weights are Captum's.
RULES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
#: Added to ``|f(x) - f(b)|`` in ``relative_delta`` so a zero output difference does not divide by 0.
EPS = 1e-8


def completeness(values: Any, fx: np.ndarray, fb: np.ndarray) -> dict[str, np.ndarray]:
    """``delta = sum(attr) - (f(x) - f(b))`` per sample and ``relative_delta = |delta| / (|f(x) - f(b)| + EPS)``.

    Also ``base_values`` (``f(b)``) and ``outputs`` (``f(x)``), which the engine moves into the
    :class:`~nbexplain.Explanation` (so its outputs pass is saved).

    Example:
        >>> import torch
        >>> d = completeness(torch.tensor([[1.0, 2.0]]), np.array([4.0]), np.array([1.0]))
        >>> d["delta"].tolist(), d["relative_delta"].round(6).tolist()
        ([0.0], [0.0])
    """
    total = values.detach().double().flatten(1).sum(1).cpu().numpy()
    diff = fx - fb
    delta = total - diff
    return {"delta": delta, "relative_delta": np.abs(delta) / (np.abs(diff) + EPS), "base_values": fb, "outputs": fx}


class IntegratedGradients(GradientExplainer):
    """Integrated Gradients with a choice of integration rule and baselines.

    ``steps``: points per path; ``rule``: one of :data:`RULES`; ``baselines`` (overridden by
    ``explain(baselines=...)``): ``None``/``"zeros"``, a number, ``"blur"`` (the input blurred by a
    Gaussian of ``sigma`` pixels, default a tenth of the image size), ``"uniform"`` (uniform noise
    in each sample's range, drawn with ``seed``: a rerun with the same seed is identical), a tensor
    (one sample, or one per sample), or several baselines per sample (a list of the above, or a
    tensor ``(1 or n, m, *feature_shape)``) whose attributions are averaged.
    ``engine_kwargs``: ``internal_batch_size`` (points per forward + backward pass, ``"auto"``),
    ``dtype`` (``torch.bfloat16``: the gradients run under autocast; the completeness check uses
    the model's own dtype, so the reported delta includes the autocast error), ``cpu_memory_budget``.

    ``multiply_by_inputs=False`` returns the path-averaged gradients without the ``(x - b)``
    factor (Captum's "local" Integrated Gradients); they do not satisfy completeness, so no
    ``delta`` is reported. Tuple inputs (``explain((a, b), baselines=(ba, bb))``) and
    ``additional_forward_args`` as in :meth:`GradientExplainer.explain`. The weighted gradients are
    summed in float64, so 500 or more steps stay accurate for a float32 model.

    ``diagnostics``: ``delta`` and ``relative_delta`` per sample (see :func:`completeness`);
    ``Explanation.base_values`` is ``f(b)`` (the mean over baselines when there are several) and
    ``Explanation.outputs`` is ``f(x)``, both in the model's own dtype.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
        >>> ig = IntegratedGradients(model, steps=16, rule="riemann_trapezoid", baselines=0.5)
        >>> e = ig.explain(torch.ones(2, 3), target=[0, 1])
        >>> e.method, e.diagnostics["delta"].shape
        ('integrated_gradients', (2,))
    """

    method = "integrated_gradients"
    uses_baselines = True
    tuple_inputs = True

    def __init__(self, model: Any, steps: int = 50, rule: str = "gausslegendre", baselines: Any = None, *,
                 sigma: float | None = None, seed: int = 0, multiply_by_inputs: bool = True,
                 **engine_kwargs: Any) -> None:
        super().__init__(model, **engine_kwargs)
        riemann_or_gauss(rule, steps)  # validates both, naming the known rules
        if sigma is not None:
            sigma = check_number(sigma, "sigma", min=0.0, min_open=True)
        if not isinstance(multiply_by_inputs, (bool, np.bool_)):
            raise TypeError(f"multiply_by_inputs must be True or False, got {multiply_by_inputs!r}")
        self.steps, self.rule, self.baselines = steps, rule, baselines
        self.sigma, self.seed = sigma, check_int(seed, "seed", min=0)
        self.multiply_by_inputs = bool(multiply_by_inputs)

    def __repr__(self) -> str:
        return f"IntegratedGradients({type(self.model).__name__}, steps={self.steps}, rule={self.rule!r})"

    def params(self) -> dict[str, Any]:
        """Engine parameters plus ``steps``, ``rule``, ``baselines`` (described), ``sigma``, ``seed``."""
        b = self.baselines
        described = b if b is None or isinstance(b, (str, int, float)) else type(b).__name__
        return {**super().params(), "steps": self.steps, "rule": self.rule, "baselines": described,
                "sigma": self.sigma, "seed": self.seed, "multiply_by_inputs": self.multiply_by_inputs}

    def call_options(self) -> Sequence[str]:
        """``explain`` also takes ``steps``, ``rule``, ``sigma``, ``seed`` and ``multiply_by_inputs`` for one call."""
        return (*super().call_options(), "steps", "rule", "sigma", "seed", "multiply_by_inputs")

    def resolve_baselines(self, x: Any, baselines: Any = None) -> Any:
        """The baselines for ``x`` as one tensor ``(1 or n, m, *feature_shape)`` (see :mod:`._paths`).

        Example:
            >>> import torch
            >>> IntegratedGradients(torch.nn.Linear(3, 1)).resolve_baselines(torch.ones(2, 3), 1.0).shape
            torch.Size([1, 1, 3])
        """
        chosen = self.baselines if baselines is None else baselines
        return resolve_baselines(x, chosen, sigma=self.sigma, seed=self.seed)

    def baselines_for(self, ctx: RunContext, baselines: Any = None) -> Any:
        """The baselines of one call, ``(1 or n, m, *feature_shape)``, per input for tuple inputs."""
        chosen = self.baselines if baselines is None else baselines
        return ctx.baselines(chosen, lambda x, b: resolve_baselines(x, b, sigma=self.sigma, seed=self.seed),
                             several=True)

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        import torch

        bases = self.baselines_for(ctx, baselines)
        n, m = x.shape[0], bases.shape[1]
        points, weights = riemann_or_gauss(self.rule, self.steps)
        alphas = torch.as_tensor(points, dtype=x.dtype, device=x.device).expand(m, -1)
        w = torch.as_tensor(weights, dtype=torch.float64, device=x.device)
        shape = (-1,) + (1,) * (x.ndim - 1)
        # float64 sums: 500 float32 steps would otherwise lose the last digits of the integral
        total = torch.zeros((n * m, *x.shape[1:]), dtype=torch.float64, device=x.device)

        def consume(i: Any, j: Any, t: Any, grads: Any, diff: Any) -> None:
            total.index_add_(0, i * m + j, grads.double() * w[t].view(shape))

        path_gradients(ctx, x, bases, alphas, targets, consume)
        total = total.view(n, m, *x.shape[1:])
        fx, fb = endpoint_outputs(ctx, x, bases, targets)
        if not self.multiply_by_inputs:  # "local" IG (Captum's multiply_by_inputs=False): no completeness
            return total.mean(1).to(x.dtype), {"base_values": fb.mean(1), "outputs": fx}
        values = (total * (x.unsqueeze(1) - bases).double()).mean(1)
        return values.to(x.dtype), completeness(values, fx, fb.mean(1))


class ExpectedGradients(GradientExplainer):
    """Expected gradients: IG averaged over baselines from ``background``, by Monte Carlo.

    For each sample, ``n_samples`` draws of (a background row ``b``, a point ``a ~ U(0, 1)``) give
    ``attr = mean over draws of (x - b) * grad f(b + a (x - b))``; its expectation satisfies
    completeness against the mean background output, so ``diagnostics["delta"] = sum(attr) -
    (f(x) - mean_b f(b))`` (the full background's mean, also ``Explanation.base_values``) shrinks as
    ``n_samples`` grows. The draws come from ``torch.Generator().manual_seed(seed)`` once per call
    and are shared by all samples: a rerun with the same seed is identical and a sample's result
    does not depend on the batch around it. Wrap it in :class:`~nbexplain.explainers.gradients.smoothgrad.SmoothGrad`
    for GradientSHAP with input noise.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
        >>> e = ExpectedGradients(model, torch.zeros(5, 3), n_samples=16).explain(torch.ones(2, 3))
        >>> e.method, e.values.shape, e.base_values.shape
        ('expected_gradients', (2, 3), (2,))
    """

    method = "expected_gradients"

    def __init__(self, model: Any, background: Any, n_samples: int = 64, seed: int = 0, **engine_kwargs: Any) -> None:
        super().__init__(model, **engine_kwargs)
        check_int(n_samples, "n_samples", min=1)
        self.background = to_input_tensor(background, model, name="background")
        self.n_samples, self.seed = n_samples, check_int(seed, "seed", min=0)

    def __repr__(self) -> str:
        return (f"ExpectedGradients({type(self.model).__name__}, background={self.background.shape[0]}, "
                f"n_samples={self.n_samples})")

    def params(self) -> dict[str, Any]:
        """Engine parameters plus ``n_samples``, ``seed`` and the background size."""
        return {**super().params(), "n_samples": self.n_samples, "seed": self.seed,
                "background": int(self.background.shape[0])}

    def call_options(self) -> Sequence[str]:
        """``explain`` also takes ``n_samples`` and ``seed`` for one call."""
        return (*super().call_options(), "n_samples", "seed")

    def draws(self) -> tuple[Any, Any]:
        """The (background row indices, path points) of one call: ``n_samples`` each, seeded.

        Example:
            >>> import torch
            >>> eg = ExpectedGradients(torch.nn.Linear(2, 1), torch.zeros(3, 2), n_samples=4, seed=1)
            >>> [t.shape for t in eg.draws()]
            [torch.Size([4]), torch.Size([4])]
        """
        import torch

        gen = torch.Generator().manual_seed(self.seed)
        rows = torch.randint(self.background.shape[0], (self.n_samples,), generator=gen)
        return rows, torch.rand(self.n_samples, generator=gen, dtype=torch.float64)

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        import torch

        bg = self.background.to(device=x.device, dtype=x.dtype)
        if bg.shape[1:] != x.shape[1:]:
            raise ValueError(f"background has shape {tuple(bg.shape)} but inputs have shape {tuple(x.shape)}; "
                             f"background rows must be shaped like one sample {tuple(x.shape[1:])}")
        rows, points = self.draws()
        bases = bg[rows.to(x.device)].unsqueeze(0)  # (1, n_samples, *feature_shape)
        alphas = points.to(device=x.device, dtype=x.dtype).view(-1, 1)
        values = torch.zeros_like(x, dtype=torch.float64)

        def consume(i: Any, j: Any, t: Any, grads: Any, diff: Any) -> None:
            values.index_add_(0, i, diff.double() * grads.double())

        path_gradients(ctx, x, bases, alphas, targets, consume)
        values /= self.n_samples
        fx, fb = endpoint_outputs(ctx, x, bg.unsqueeze(0), targets)
        return values.to(x.dtype), completeness(values, fx, fb.mean(1))
