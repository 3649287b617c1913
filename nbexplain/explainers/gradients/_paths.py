"""Baselines and straight-line paths for Integrated Gradients and expected gradients.

Pure torch helpers, shared by :mod:`nbexplain.explainers.gradients.integrated_gradients`:

- :func:`resolve_baselines` turns every accepted ``baselines`` argument into one tensor
  ``(1 or n, m, *feature_shape)``: ``m`` baselines per sample, shared (first axis 1) or per sample;
- :func:`path_gradients` walks the flat list of (sample, baseline, step) points in chunks of
  ``ctx.chunk`` (chunks may straddle samples), OOM-safe, handing each chunk's gradients to a
  ``consume`` callback that accumulates them, so no more than one chunk of gradients is alive;
- :func:`endpoint_outputs` gives ``f(x)`` and ``f(baseline)`` for the completeness check.

Example:
    >>> import torch
    >>> resolve_baselines(torch.ones(2, 3), [0.0, "zeros"]).shape
    torch.Size([1, 2, 3])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from nbexplain.explainers.gradients._engine import (
    _BASELINE_FIX,
    RunContext,
    input_gradients,
    model_outputs,
    objective,
)
from nbexplain.validate import check_finite

#: Named baselines ``resolve_baselines`` understands.
NAMED_BASELINES = ("zeros", "blur", "uniform", "gaussian")
#: The noise of the ``"gaussian"`` baseline: this fraction of each sample's value range.
GAUSSIAN_SCALE = 0.25


def gaussian_blur(x: Any, sigma: float | None = None) -> Any:
    """``x`` (n, c, h, w) or (n, c, L) blurred over its spatial axes by a Gaussian of ``sigma`` pixels.

    ``sigma=None``: a tenth of the largest spatial size. Edges are padded by replication.

    Example:
        >>> import torch
        >>> img = torch.zeros(1, 1, 9, 9); img[0, 0, 4, 4] = 1.0
        >>> b = gaussian_blur(img, 1.0)
        >>> round(float(b.sum()), 4), bool(b[0, 0, 4, 4] < 1)
        (1.0, True)
    """
    import torch
    from torch.nn import functional as F

    if x.ndim not in (3, 4):
        raise ValueError(f"the 'blur' baseline needs images (n, c, h, w) or sequences (n, c, L), got inputs of "
                         f"shape {tuple(x.shape)}; use 'zeros', a number, 'uniform' or a tensor instead")
    sigma = max(x.shape[2:]) / 10 if sigma is None else float(sigma)
    if not sigma > 0:
        raise ValueError(f"blur sigma must be positive, got {sigma}")
    radius = max(1, math.ceil(3 * sigma))
    grid = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (grid / sigma) ** 2)
    kernel = (kernel / kernel.sum()).to(device=x.device, dtype=x.dtype).view(1, 1, -1)

    def along_last(t: Any) -> Any:
        flat = F.pad(t.reshape(-1, 1, t.shape[-1]), (radius, radius), mode="replicate")
        return F.conv1d(flat, kernel).reshape(t.shape)

    out = along_last(x)
    if x.ndim == 4:
        out = along_last(out.transpose(-1, -2).contiguous()).transpose(-1, -2).contiguous()
    return out


def uniform_baseline(x: Any, seed: int = 0) -> Any:
    """One uniform-noise baseline per sample, within that sample's range ``[min, max]``.

    The unit noise (one pattern, shaped like a sample) is drawn on the CPU from
    ``torch.Generator().manual_seed(seed)``: the same seed gives the same baselines on any device,
    and a sample's baseline does not depend on the other samples in the batch.

    Example:
        >>> import torch
        >>> b = uniform_baseline(torch.tensor([[0.0, 2.0, 4.0]]), seed=1)
        >>> bool(((b >= 0) & (b <= 4)).all())
        True
    """
    import torch

    u = torch.rand(tuple(x.shape[1:]), generator=torch.Generator().manual_seed(int(seed)))
    u = u.to(device=x.device, dtype=x.dtype)
    flat = x.flatten(1)
    lo, hi = flat.min(1).values, flat.max(1).values
    shape = (-1,) + (1,) * (x.ndim - 1)
    return lo.view(shape) + u * (hi - lo).view(shape)


def gaussian_baseline(x: Any, seed: int = 0, scale: float = GAUSSIAN_SCALE) -> Any:
    """One Gaussian-noise baseline per sample: the sample plus noise, clipped to its range ``[min, max]``.

    The noise has standard deviation ``scale * (max - min)`` of each sample (as the Gaussian
    baseline of Sturmfels et al., Distill 2020); the unit noise is drawn like
    :func:`uniform_baseline`'s (CPU generator seeded with ``seed``: the same on any device,
    independent of the other samples).

    Example:
        >>> import torch
        >>> x = torch.tensor([[0.0, 2.0, 4.0]])
        >>> b = gaussian_baseline(x, seed=1)
        >>> bool(((b >= 0) & (b <= 4)).all()), bool((b != x).any())
        (True, True)
    """
    import torch

    z = torch.randn(tuple(x.shape[1:]), generator=torch.Generator().manual_seed(int(seed)))
    z = z.to(device=x.device, dtype=x.dtype)
    flat = x.flatten(1)
    lo, hi = flat.min(1).values, flat.max(1).values
    shape = (-1,) + (1,) * (x.ndim - 1)
    lo, hi = lo.view(shape), hi.view(shape)
    return torch.minimum(torch.maximum(x + float(scale) * (hi - lo) * z, lo), hi)


def _one_baseline(x: Any, b: Any, sigma: float | None, seed: int) -> Any:
    """One baseline per sample or shared: a tensor (1 or n, *feature_shape)."""
    import torch

    n, feat = x.shape[0], tuple(x.shape[1:])
    if b is None or (isinstance(b, str) and b == "zeros"):
        return torch.zeros((1, *feat), device=x.device, dtype=x.dtype)
    if isinstance(b, str):
        if b == "blur":
            return gaussian_blur(x, sigma)
        if b == "uniform":
            return uniform_baseline(x, seed)
        if b == "gaussian":
            return gaussian_baseline(x, seed)
        raise ValueError(f"unknown baseline {b!r}; use one of {list(NAMED_BASELINES)}, a number or a tensor")
    if isinstance(b, (bool, np.bool_)):
        raise TypeError(f"baselines must be a number, a name or a tensor, got the bool {b!r}")
    if isinstance(b, (int, float, np.integer, np.floating)):
        return torch.full((1, *feat), float(b), device=x.device, dtype=x.dtype)
    t = b.detach() if isinstance(b, torch.Tensor) else torch.as_tensor(np.asarray(b))
    t = t.to(device=x.device, dtype=x.dtype)
    if tuple(t.shape) == feat:
        t = t.unsqueeze(0)
    if tuple(t.shape[1:]) != feat or t.shape[0] not in (1, n):
        raise ValueError(f"baselines have shape {tuple(t.shape)} but inputs have shape {tuple(x.shape)}; pass one "
                         f"baseline of shape {feat}, one per sample {tuple(x.shape)}, several per sample "
                         f"({n}, m, *{feat}) or as a list, or a number")
    return t


def resolve_baselines(x: Any, baselines: Any, *, sigma: float | None = None, seed: int = 0) -> Any:
    """Every accepted ``baselines`` form as one tensor ``(1 or n, m, *feature_shape)``.

    One baseline (``m = 1``): ``None`` or ``"zeros"``, a number, ``"blur"`` (the input blurred,
    ``sigma`` pixels), ``"uniform"`` (noise in each sample's range, ``seed``), ``"gaussian"`` (the
    input plus Gaussian noise, clipped to its range, ``seed``), a tensor shaped like
    one sample, ``(1, ...)`` or one per sample ``(n, ...)``. Several baselines, whose attributions
    are averaged: a tensor ``(1 or n, m, *feature_shape)``, or a list of any of the single forms
    (a list of plain numbers is one array, as numpy reads it).

    Example:
        >>> import torch
        >>> x = torch.ones(2, 3)
        >>> resolve_baselines(x, None).shape, resolve_baselines(x, torch.zeros(2, 4, 3)).shape
        (torch.Size([1, 1, 3]), torch.Size([2, 4, 3]))
    """
    import torch

    n, feat = x.shape[0], tuple(x.shape[1:])
    several = isinstance(baselines, (list, tuple)) and any(
        isinstance(b, (str, torch.Tensor, np.ndarray)) or b is None for b in baselines)
    if several:
        if not baselines:
            raise ValueError("baselines is an empty list; pass at least one baseline")
        parts = [_one_baseline(x, b, sigma, seed) for b in baselines]
        rows = max(p.shape[0] for p in parts)
        return check_finite(torch.stack([p.expand(rows, *feat) for p in parts], 1), "baselines", fix=_BASELINE_FIX)
    if isinstance(baselines, torch.Tensor) and baselines.ndim == x.ndim + 1:
        b = baselines.detach().to(device=x.device, dtype=x.dtype)
        if tuple(b.shape[2:]) != feat or b.shape[0] not in (1, n) or b.shape[1] < 1:
            raise ValueError(f"baselines have shape {tuple(b.shape)} but inputs have shape {tuple(x.shape)}; "
                             f"several baselines per sample must be (1 or {n}, m, *{feat})")
        return check_finite(b, "baselines", fix=_BASELINE_FIX)
    return check_finite(_one_baseline(x, baselines, sigma, seed).unsqueeze(1), "baselines", fix=_BASELINE_FIX)


def path_gradients(ctx: RunContext, x: Any, bases: Any, alphas: Any, targets: Any,
                   consume: Callable[..., None], *, outputs: bool = False) -> None:
    """Gradients at ``base + alpha * (x - base)`` for every (sample i, baseline j, step t), in chunks.

    ``bases``: (1 or n, m, *feature_shape); ``alphas``: (m, s), the points of baseline j. The
    flat index runs sample-major (``p = (i * m + j) * s + t``) and is cut into chunks of
    ``ctx.chunk`` points, which may straddle samples; a CUDA out-of-memory error halves the chunk.
    ``consume(i, j, t, grads, x_i - base)`` receives each chunk (index tensors on ``x``'s device);
    with ``outputs=True`` also the explained outputs at the points, ``consume(..., diff, selected)``.

    Example:
        >>> import torch
        >>> from nbexplain.explainers.gradients._engine import GradientExplainer, frozen
        >>> m = torch.nn.Linear(2, 1); seen = []
        >>> ex = GradientExplainer(m, internal_batch_size=3)
        >>> with frozen(m):
        ...     ctx = RunContext(ex, torch.ones(2, 2), np.zeros(2, dtype=np.int64))
        ...     path_gradients(ctx, ctx.x, torch.zeros(1, 1, 2), torch.tensor([[0.25, 0.75]]),
        ...                    ctx.targets, lambda i, j, t, g, d: seen.append(i.tolist()))
        >>> seen
        [[0, 0, 1], [1]]
    """
    import torch

    n, m, s = x.shape[0], bases.shape[1], alphas.shape[1]
    shape = (-1,) + (1,) * (x.ndim - 1)

    def step(a: int, b: int) -> None:
        p = torch.arange(a, b, device=x.device)
        i, j, t = p // (m * s), (p // s) % m, p % s
        base = bases[i if bases.shape[0] > 1 else torch.zeros_like(i), j]
        diff = x[i] - base
        points = base + alphas[j, t].view(shape) * diff
        grads, selected = input_gradients(ctx.model, points, ctx._index(targets, i.cpu().numpy()),
                                          autocast=ctx.autocast)
        if outputs:
            consume(i, j, t, grads, diff, selected)
        else:
            consume(i, j, t, grads, diff)

    ctx.chunked(step, n * m * s)


def endpoint_outputs(ctx: RunContext, x: Any, bases: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    """``f(x)`` (n,) and ``f(baseline)`` (n, m) as float64, in the model's own dtype (no autocast).

    Shared baselines (first axis 1) run once each, whatever the number of samples.

    Example:
        >>> import torch
        >>> from nbexplain.explainers.gradients._engine import GradientExplainer
        >>> m = torch.nn.Linear(2, 1)
        >>> ctx = RunContext(GradientExplainer(m, internal_batch_size=4), torch.ones(3, 2), np.zeros(3, dtype=np.int64))
        >>> fx, fb = endpoint_outputs(ctx, ctx.x, torch.zeros(1, 2, 2), ctx.targets)
        >>> fx.shape, fb.shape
        ((3,), (3, 2))
    """
    import torch

    n, m = x.shape[0], bases.shape[1]
    step = max(1, min(ctx.chunk, 256))
    index = ctx._index

    def run(batch: Any, tgt: Any) -> Any:
        return objective(model_outputs(ctx.model, batch), tgt).double()

    with torch.no_grad():
        fx = torch.cat([run(x[a:a + step], index(targets, slice(a, a + step))) for a in range(0, n, step)])
        if bases.shape[0] == 1:
            flat = bases[0]
            if callable(targets) and not isinstance(targets, np.ndarray):
                fb = torch.cat([run(flat[a:a + step], targets) for a in range(0, m, step)]).expand(n, m)
            else:
                outs = torch.cat([model_outputs(ctx.model, flat[a:a + step]) for a in range(0, m, step)])
                fb = outs[:, torch.as_tensor(np.asarray(targets), device=outs.device)].T.double()
        else:
            flat = bases.reshape(n * m, *x.shape[1:])
            rows = np.repeat(np.arange(n), m)
            fb = torch.cat([run(flat[a:a + step], index(targets, rows[a:a + step]))
                            for a in range(0, n * m, step)]).view(n, m)
    return fx.cpu().numpy(), fb.cpu().numpy()
