"""How Integrated Gradients reaches its answer: the straight path from a baseline to one sample, in one pass.

:func:`ig_path` walks the path ``b + alpha (x - b)`` of one sample for a grid of alphas and the
points of an integration rule, in ONE batched pass of the gradient engine (the points of
:func:`~nbexplain.explainers.gradients._paths.path_gradients`, chunked, OOM-safe, inside the state guard),
and returns an :class:`IGPath`: at each grid alpha the interpolated input, the gradient there,
the attribution accumulated up to alpha (``(x - b) * sum of w_t grad(a_t) over the rule's points
a_t <= alpha``) and the model output; the rule's points, weights and the outputs there. At
``alpha = 1`` the accumulated attribution is :class:`IntegratedGradients`' attribution at the same
rule and steps. Several baselines are averaged as expected gradients averages them: every
array is the mean over the baselines.

:func:`completeness_curve` gives the completeness error ``|sum(attr) - (f(x) - f(b))|`` of every
rule at 2, 4, ..., 256 steps from one pass over the union of their points (a point shared by
several rules and step counts is computed once): ``sum(attr)`` only needs the derivative of the
output along the path, ``<grad f(b + a (x - b)), x - b>``, at each point.

Baselines (:func:`path_baselines`): ``"black"`` (zeros), ``"blur"``, ``"uniform"`` and
``"gaussian"`` noise, ``"mean"`` (the mean of ``data``), ``"data"`` (``n_data`` rows of ``data``,
averaged: expected gradients with the rule's points), a tensor, or a list of these (averaged).

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> p = ig_path(model, torch.ones(3), "black", steps=16, alphas=9, target=0)
    >>> p.inputs.shape, p.gradients.shape, p.accumulated.shape, p.outputs.shape, p.points.shape
    ((9, 3), (9, 3), (9, 3), (9,), (16,))
    >>> c = completeness_curve(model, torch.ones(3), "black", target=0, steps=(2, 4))
    >>> c.errors.shape
    (5, 2)
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.explainers.gradients._engine import RunContext, riemann_or_gauss, to_input_tensor
from nbexplain.explainers.gradients._paths import endpoint_outputs, path_gradients
from nbexplain.explainers.gradients.integrated_gradients import (
    RULES,
    IntegratedGradients,
    completeness,
)
from nbexplain.validate import check_int

__all__ = ["BASELINES", "CONVERGENCE_STEPS", "IGConvergence", "IGPath", "completeness_curve", "convergence_points",
           "ig_path", "path_baselines"]

#: Named baselines of the path views, with what each is in words.
BASELINES: dict[str, str] = {
    "black": "black (zeros)",
    "blur": "blurred input",
    "uniform": "uniform noise",
    "gaussian": "Gaussian noise",
    "mean": "training mean",
    "data": "data rows (expected gradients)",
}
#: Step counts of the completeness-error chart.
CONVERGENCE_STEPS: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256)
_ALIASES = {"zeros": "black", "blurred": "blur", "noise": "uniform"}


def path_baselines(x: Any, baseline: Any, *, data: Any = None, n_data: int = 16, seed: int = 0) -> tuple[Any, str]:
    """``baseline`` in a form :func:`~nbexplain.explainers.gradients._paths.resolve_baselines` takes, and its name.

    ``x``: the batch ``(1, *feature_shape)`` (for shapes); ``data``: a tensor ``(N, *feature_shape)``
    on ``x``'s device (needed by ``"mean"`` and ``"data"``). Names: see :data:`BASELINES`
    (``"zeros"`` and ``"blurred"`` are accepted too); a tensor or array is ``"given"``; a list of
    names and tensors is averaged, named by its parts joined with ``"+"``; so is a tensor
    ``(m, *feature_shape)`` of ``m`` baselines.

    Example:
        >>> import torch
        >>> path_baselines(torch.ones(1, 3), "black")
        ('zeros', 'black')
        >>> b, name = path_baselines(torch.ones(1, 3), "data", data=torch.eye(3), n_data=2)
        >>> b.shape, name
        (torch.Size([1, 2, 3]), 'data')
    """
    import torch

    if isinstance(baseline, (list, tuple)) and not all(isinstance(b, (int, float)) for b in baseline):
        if not baseline:
            raise ValueError("baseline is an empty list; pass a name such as 'black', or several to average")
        parts = [path_baselines(x, b, data=data, n_data=n_data, seed=seed) for b in baseline]
        if any(name == "data" for _, name in parts):
            raise ValueError("'data' is already several baselines (rows of data); pass it alone, not in a list")
        return [p for p, _ in parts], "+".join(name for _, name in parts)
    if baseline is None or isinstance(baseline, str):
        name = _ALIASES.get(baseline or "black", baseline or "black")
        if name not in BASELINES:
            raise ValueError(f"unknown baseline {baseline!r}; use one of {list(BASELINES)}, a tensor shaped like x, "
                             "or a list of them (averaged)")
        if name in ("mean", "data") and data is None:
            raise ValueError(f"baseline {name!r} needs data=: the training inputs (N, *x.shape), e.g. X_train")
        if name == "mean":
            return data.mean(0), name
        if name == "data":
            k = check_int(n_data, "n_data", min=1)
            rows = np.random.default_rng(seed).choice(len(data), size=min(k, len(data)), replace=False)
            return data[torch.as_tensor(np.sort(rows), device=data.device)].unsqueeze(0), name
        return {"black": "zeros"}.get(name, name), name
    if hasattr(baseline, "shape") and len(baseline.shape) == x.ndim:  # several, (m, *feature_shape): averaged
        t = baseline.detach() if isinstance(baseline, torch.Tensor) else torch.as_tensor(np.asarray(baseline))
        return t.to(device=x.device, dtype=x.dtype).unsqueeze(0), "given"
    return baseline, "given"


@dataclass(frozen=True)
class IGPath:
    """The path of one sample (see :func:`ig_path`); arrays are numpy, the mean over the baselines.

    ``alphas`` (G,) the grid; ``inputs``, ``gradients``, ``accumulated`` (G, *feature_shape): the
    interpolated input, the gradient of the explained output there, the attribution accumulated
    up to each alpha; ``outputs`` (G,): the explained output there; ``accumulated_sum`` (G,):
    the sum of the accumulated attribution (float64); ``points``, ``weights``, ``point_outputs``
    (S,): the rule's points, their weights and the outputs there. ``explanation``: the
    :class:`~nbexplain.Explanation` of the pass (``values`` = the attribution at alpha = 1,
    ``diagnostics["delta"]`` the completeness error). ``baselines`` (m, *feature_shape);
    ``x`` (*feature_shape); ``fx``, ``fb``: the output at ``x`` and at the baseline (mean);
    ``seconds``: how long the gradient pass took.
    """

    alphas: np.ndarray
    inputs: np.ndarray
    gradients: np.ndarray
    accumulated: np.ndarray
    accumulated_sum: np.ndarray
    outputs: np.ndarray
    points: np.ndarray
    weights: np.ndarray
    point_outputs: np.ndarray
    x: np.ndarray
    baselines: np.ndarray
    fx: float
    fb: float
    target: int | None
    rule: str
    steps: int
    baseline: str
    explanation: Any = field(repr=False)
    #: Seconds the gradient pass over the path's points took (what a pass over other points costs, per point).
    seconds: float = 0.0

    @property
    def attribution(self) -> np.ndarray:
        """The attribution at alpha = 1 (Integrated Gradients' at this rule and steps)."""
        return self.accumulated[-1]

    @property
    def delta(self) -> float:
        """``sum(attribution) - (f(x) - f(b))``: what the rule misses of completeness."""
        return float(self.explanation.diagnostics["delta"][0])


@dataclass(frozen=True)
class IGConvergence:
    """Completeness errors of every rule against the number of steps (see :func:`completeness_curve`).

    ``errors`` (rules, steps): ``|delta|``; ``deltas``: signed; ``relative``: ``|delta| / |f(x) - f(b)|``.
    """

    rules: tuple[str, ...]
    steps: tuple[int, ...]
    errors: np.ndarray
    deltas: np.ndarray
    relative: np.ndarray
    fx: float
    fb: float


class _PathPass(IntegratedGradients):
    """IG whose one pass also visits a grid of alphas and keeps what the path view shows."""

    method = "integrated_gradients_path"

    def __init__(self, model: Any, grid: np.ndarray, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.grid = np.asarray(grid, dtype=np.float64)

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        import torch

        bases = self.baselines_for(ctx, baselines)
        m, feat = bases.shape[1], tuple(x.shape[1:])
        points, weights = riemann_or_gauss(self.rule, self.steps)
        g = len(self.grid)
        # a grid alpha that is also a rule point (Riemann rules) is walked once: the union, and where each lies in it
        unique, where = np.unique(np.concatenate([self.grid, points]), return_inverse=True)
        on_grid = np.full(len(unique), -1)
        on_grid[where[:g]] = np.arange(g)
        as_point = np.full(len(unique), -1)
        as_point[where[g:]] = np.arange(len(points))
        alphas = torch.as_tensor(unique, dtype=x.dtype, device=x.device).expand(m, -1)
        w = torch.as_tensor(weights, dtype=torch.float64, device=x.device)
        # each rule point counts from the first grid alpha at or after it on ("accumulated up to alpha")
        bucket = torch.as_tensor(np.searchsorted(self.grid, points, side="left"), device=x.device)
        grid_of = torch.as_tensor(on_grid, device=x.device)
        point_of = torch.as_tensor(as_point, device=x.device)
        shape = (-1,) + (1,) * len(feat)
        grads = torch.zeros((g, *feat), dtype=torch.float64, device=x.device)
        acc = torch.zeros((g, *feat), dtype=torch.float64, device=x.device)
        outs = torch.zeros(len(unique), dtype=torch.float64, device=x.device)

        def consume(i: Any, j: Any, t: Any, grad: Any, diff: Any, selected: Any) -> None:
            outs.index_add_(0, t, selected.double())
            r, q = grid_of[t], point_of[t]
            grads.index_add_(0, r[r >= 0], grad[r >= 0].double())
            k = q[q >= 0]
            acc.index_add_(0, bucket[k], grad[q >= 0].double() * diff[q >= 0].double() * w[k].view(shape))

        start = time.perf_counter()
        path_gradients(ctx, x, bases, alphas, targets, consume, outputs=True)
        self.seconds = time.perf_counter() - start
        acc = acc.cumsum(0) / m
        values = acc[-1:].to(x.dtype)
        fx, fb = endpoint_outputs(ctx, x, bases, targets)
        diag = completeness(values, fx, fb.mean(1))
        diag.update(path_gradients=(grads / m).float().cpu().numpy()[None],
                    path_accumulated=acc.float().cpu().numpy()[None],
                    path_accumulated_sum=acc.flatten(1).sum(1).cpu().numpy()[None],
                    path_outputs=(outs / m).cpu().numpy()[where][None],
                    path_baselines=bases[0].float().cpu().numpy()[None])
        return values, diag


class _DerivativePass(IntegratedGradients):
    """One pass over given alphas keeping ``<grad f(b + a (x - b)), x - b>`` per (baseline, alpha)."""

    method = "integrated_gradients_derivative"

    def __init__(self, model: Any, alphas: np.ndarray, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.alphas = np.asarray(alphas, dtype=np.float64)

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        import torch

        bases = self.baselines_for(ctx, baselines)
        m, u = bases.shape[1], len(self.alphas)
        alphas = torch.as_tensor(self.alphas, dtype=x.dtype, device=x.device).expand(m, -1)
        slope = torch.zeros(m * u, dtype=torch.float64, device=x.device)

        def consume(i: Any, j: Any, t: Any, grad: Any, diff: Any) -> None:
            slope.index_add_(0, j * u + t, (grad.double() * diff.double()).flatten(1).sum(1))

        path_gradients(ctx, x, bases, alphas, targets, consume)
        fx, fb = endpoint_outputs(ctx, x, bases, targets)
        return torch.zeros_like(x), {"slope": slope.view(m, u).cpu().numpy()[None], "outputs": fx,
                                     "base_values": fb.mean(1)}


def _one_sample(model: Any, x: Any, data: Any) -> tuple[Any, Any]:
    """``x`` (one sample, no batch axis) as a batch of one; ``data`` as a tensor shaped like samples."""
    xb = to_input_tensor(np.asarray(x)[None] if not hasattr(x, "detach") else x.detach()[None], model, name="x")
    if xb.ndim < 2 or xb.shape[1:].numel() == 0:
        raise ValueError(f"x must be one sample without the batch axis, e.g. (C, H, W) or (F,); got shape "
                         f"{tuple(xb.shape[1:])}")
    if data is None:
        return xb, None
    d = to_input_tensor(data, model, name="data")
    if tuple(d.shape[1:]) != tuple(xb.shape[1:]):
        raise ValueError(f"data has shape {tuple(d.shape)} but x has shape {tuple(xb.shape[1:])}; data must be "
                         f"(N, *x.shape): samples shaped like x")
    return xb, d


def _grid(alphas: Any) -> np.ndarray:
    if isinstance(alphas, (int, np.integer)) and not isinstance(alphas, bool):
        return np.linspace(0.0, 1.0, check_int(alphas, "alphas", min=2))
    grid = np.asarray(alphas, dtype=np.float64).ravel()
    if grid.size < 2 or not np.isfinite(grid).all() or (np.diff(grid) <= 0).any() or grid[0] < 0 or grid[-1] != 1.0:
        raise ValueError("alphas must be a count >= 2 or an increasing sequence in [0, 1] ending at 1.0, got "
                         f"{alphas!r}")
    return grid


def ig_path(model: Any, x: Any, baseline: Any = "black", *, rule: str = "gausslegendre", steps: int = 32,
            alphas: Any = 33, target: Any = None, data: Any = None, n_data: int = 16, seed: int = 0,
            sigma: float | None = None, **engine_kwargs: Any) -> IGPath:
    """The straight path of Integrated Gradients for one sample ``x`` (no batch axis), in one pass.

    ``baseline``: see :func:`path_baselines`; ``rule``, ``steps``: the integration rule (one of
    ``IntegratedGradients``' rules) and its number of points; ``alphas``: the grid shown (a count,
    evenly spaced from 0 to 1, or an increasing sequence ending at 1); ``target``: the explained
    output (None: the predicted one); ``data``: training inputs for ``"mean"`` and ``"data"``;
    ``sigma``: the blur's width; ``seed``: the noise baselines' and the data rows' draw;
    ``engine_kwargs``: the gradient engine's (``internal_batch_size``, ``dtype``, ``preprocess``).

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())
        >>> p = ig_path(model, torch.tensor([1.0, -2.0]), steps=8, alphas=5)
        >>> p.alphas.tolist(), round(float(p.outputs[-1]), 6) == round(p.fx, 6)
        ([0.0, 0.25, 0.5, 0.75, 1.0], True)
    """
    xb, d = _one_sample(model, x, data)
    spec, name = path_baselines(xb, baseline, data=d, n_data=n_data, seed=seed)
    grid = _grid(alphas)
    pass_ = _PathPass(model, grid, steps=steps, rule=rule, sigma=sigma, seed=seed, **engine_kwargs)
    e = pass_.explain(xb, target=target, baselines=spec)
    points, weights = riemann_or_gauss(rule, steps)
    diag = e.diagnostics
    bases = diag.pop("path_baselines")[0]
    x0 = xb[0].float().cpu().numpy()
    b_mean = bases.mean(0)
    inputs = b_mean[None] + grid.astype(np.float32).reshape((-1,) + (1,) * x0.ndim) * (x0 - b_mean)[None]
    outs = diag.pop("path_outputs")[0]
    return IGPath(alphas=grid, inputs=inputs, gradients=diag.pop("path_gradients")[0],
                  accumulated=diag.pop("path_accumulated")[0], accumulated_sum=diag.pop("path_accumulated_sum")[0],
                  outputs=outs[:len(grid)], points=points, weights=weights, point_outputs=outs[len(grid):],
                  x=x0, baselines=bases, fx=float(e.outputs[0]), fb=float(e.base_values[0]),
                  target=None if e.target is None else int(e.target[0]), rule=rule, steps=steps, baseline=name,
                  explanation=e, seconds=pass_.seconds)


def convergence_points(rules: Sequence[str], steps: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct points of every rule at every step count, and where each rule's points are among them.

    Returns ``(unique, inverse)``: the rules' points concatenated rule by rule, step count by step
    count, are ``unique[inverse]`` (points equal to 12 decimals are one).

    Example:
        >>> unique, inverse = convergence_points(("riemann_left", "riemann_right"), (2, 4))
        >>> unique.tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    rules = tuple(rules)
    steps = tuple(check_int(n, "steps", min=1) for n in steps)
    if not rules or not steps:
        raise ValueError("rules and steps must each name at least one rule / step count")
    unique, inverse = _union(rules, steps)
    return unique.copy(), inverse.copy()


@functools.lru_cache(maxsize=64)
def _weights(rule: str, steps: int) -> np.ndarray:
    """The weights of ``rule`` at ``steps`` points (cached, read-only)."""
    w = riemann_or_gauss(rule, steps)[1]
    w.flags.writeable = False
    return w


@functools.lru_cache(maxsize=16)
def _union(rules: tuple[str, ...], steps: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`convergence_points`, cached: Gauss-Legendre's nodes at 256 points cost 0.1 s each time."""
    keys = np.round(np.concatenate([riemann_or_gauss(r, n)[0] for r in rules for n in steps]), 12)
    return np.unique(keys, return_inverse=True)


def completeness_curve(model: Any, x: Any, baseline: Any = "black", *, rules: Sequence[str] = RULES,
                       steps: Sequence[int] = CONVERGENCE_STEPS, target: Any = None, data: Any = None,
                       n_data: int = 16, seed: int = 0, sigma: float | None = None,
                       **engine_kwargs: Any) -> IGConvergence:
    """Completeness error ``|sum(attr) - (f(x) - f(b))|`` of each rule in ``rules`` at each of ``steps``.

    The same numbers as ``IntegratedGradients(model, steps=n, rule=r).explain(x[None], baselines=b)
    .diagnostics["delta"]`` for every ``(r, n)``, from one batched pass over the union of their
    points. Arguments as for :func:`ig_path`.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
        >>> c = completeness_curve(model, torch.tensor([1.0, 2.0]), rules=("gausslegendre",), steps=(2, 8))
        >>> bool(c.errors[0, 1] <= c.errors[0, 0])
        True
    """
    rules, steps = tuple(rules), tuple(steps)
    unique, inverse = convergence_points(rules, steps)
    xb, d = _one_sample(model, x, data)
    spec, _name = path_baselines(xb, baseline, data=d, n_data=n_data, seed=seed)
    e = _DerivativePass(model, unique, sigma=sigma, seed=seed, **engine_kwargs).explain(xb, target=target,
                                                                                         baselines=spec)
    slope = e.diagnostics["slope"][0].mean(0)  # mean over the baselines
    fx, fb = float(e.outputs[0]), float(e.base_values[0])
    deltas = np.empty((len(rules), len(steps)))
    start = 0
    for a, r in enumerate(rules):
        for k, n in enumerate(steps):
            weights = _weights(r, n)
            deltas[a, k] = float(weights @ slope[inverse[start:start + n]]) - (fx - fb)
            start += n
    errors = np.abs(deltas)
    return IGConvergence(rules=rules, steps=steps, errors=errors, deltas=deltas,
                         relative=errors / (abs(fx - fb) + 1e-8), fx=fx, fb=fb)
