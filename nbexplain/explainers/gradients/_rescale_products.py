"""DeepLIFT multipliers for products and normalisations, and the operations DeepLIFT has no rule for.

The Rescale rule (:mod:`~nbexplain.explainers.gradients._rescale`) covers elementwise functions of one
input-dependent tensor. Networks people bring also multiply two input-dependent tensors
(EfficientNet's squeeze-excitation ``scale * x``, timm's ``x * x.sigmoid()``) and normalise
(ConvNeXt's and ViT's ``LayerNorm``). Both get exact summation-to-delta here:

* a product ``z = a * b`` (broadcasting) splits its change exactly along the orders of moving
  the factors, ``dz = da * b + a0 * db`` or ``da * b0 + a * db``, per element weighted towards the
  one with less cancellation (:class:`Product`); a division ``a / b`` is ``a * (1 / b)`` with the reciprocal
  rescaled;
* ``layer_norm`` / ``group_norm`` / ``rms_norm`` are rewritten as what they compute: a centring
  (linear), a mean of squares (a product), ``rsqrt`` (elementwise, rescaled), a product and the
  affine (linear); the chain of exact multipliers is exact.

Everything else that is nonlinear in two input-dependent tensors or not elementwise (attention's
``matmul`` and ``softmax``, fused ``scaled_dot_product_attention``, max / min reductions, adaptive
max pooling, batch statistics) is listed in :data:`UNSUPPORTED`: DeepLift refuses such models
with :class:`~nbexplain.explainers.gradients.deeplift.DeepLiftUnsupportedError` instead of returning
attributions that do not sum to ``f(x) - f(x0)``.

Example:
    >>> import torch
    >>> a = torch.tensor([[2.0], [1.0]], requires_grad=True)   # input row, baseline row
    >>> b = torch.tensor([[3.0], [5.0]], requires_grad=True)
    >>> z = Product.apply(a, b)                       # 6 - 5 = 1 = (2 - 1) * 3.4717 + (3 - 5) * 1.2358
    >>> [[round(v, 4) for v in g.flatten().tolist()] for g in torch.autograd.grad(z.sum(), (a, b))]
    [[3.4717, 3.4717], [1.2358, 1.2358]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.nn import functional as F

Tensor = torch.Tensor


class Product(torch.autograd.Function):
    """``a * b`` on ``[x; x0]`` rows; backward: exact multipliers along the order with less cancellation.

    Per output element, ``dz`` is split along a mix of the two orders of moving the factors,
    ``da * b + a0 * db`` (``b`` first) and ``da * b0 + a * db`` (``a`` first), both exact: each is
    weighted by the other's squared total magnitude ``(|..| + |..|)^2``, so the order whose terms cancel gets
    little weight (equal magnitudes: the two-player Shapley value, their mean; the weights are
    continuous, so float rounding cannot flip them). A normalisation of a nearly constant baseline
    (``rsqrt`` of a tiny variance: a factor of 1000 in ConvNeXt's ``LayerNorm(eps=1e-6)``) otherwise
    yields two huge terms that cancel, and float32 loses the difference.
    """

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:  # type: ignore[override]
        n = a.shape[0] // 2
        a1, a0, b1, b0 = a[:n].detach(), a[n:].detach(), b[:n].detach(), b[n:].detach()
        da, db = a1 - a0, b1 - b0
        b_first = ((b1 * da).abs() + (a0 * db).abs()) ** 2
        a_first = ((b0 * da).abs() + (a1 * db).abs()) ** 2
        total = a_first + b_first
        lam = torch.where(total > 0, a_first / torch.where(total > 0, total, torch.ones_like(total)), 0.5)
        ma = lam * b1 + (1 - lam) * b0
        mb = (1 - lam) * a1 + lam * a0
        ctx.save_for_backward(ma, mb)
        ctx.shapes = (a.shape, b.shape)
        return a * b

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        ma, mb = ctx.saved_tensors
        sa, sb = ctx.shapes
        n = ma.shape[0]
        ga = torch.cat([grad[:n] * ma, grad[n:] * ma])
        gb = torch.cat([grad[:n] * mb, grad[n:] * mb])
        return ga.sum_to_size(sa), gb.sum_to_size(sb)


def quotient(a: Any, b: Tensor, rescale: Callable[[Tensor, Callable[[Tensor], Tensor]], Tensor],
             a_paired: bool) -> Tensor:
    """``a / b`` for an input-dependent ``b``: ``a * rescaled(1 / b)``."""
    r = rescale(b, torch.reciprocal)
    return Product.apply(a, r) if a_paired else a * r


def _normalise(x: Tensor, dims: tuple[int, ...], eps: float, rescale: Callable[..., Tensor], centre: bool) -> Tensor:
    c = x - x.mean(dims, keepdim=True) if centre else x
    var = Product.apply(c, c).mean(dims, keepdim=True)
    return Product.apply(c, rescale(var + eps, torch.rsqrt))


def layer_norm(rescale: Callable[..., Tensor], x: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """``F.layer_norm`` as centring, mean of squares, rescaled ``rsqrt``, product and affine."""
    k = len(tuple(normalized_shape)) if not isinstance(normalized_shape, int) else 1
    y = _normalise(x, tuple(range(x.ndim - k, x.ndim)), float(eps), rescale, centre=True)
    y = y * weight if weight is not None else y
    return y + bias if bias is not None else y


def rms_norm(rescale: Callable[..., Tensor], x: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``F.rms_norm`` as mean of squares, rescaled ``rsqrt``, product and scale."""
    k = len(tuple(normalized_shape)) if not isinstance(normalized_shape, int) else 1
    e = torch.finfo(x.dtype).eps if eps is None else float(eps)
    y = _normalise(x, tuple(range(x.ndim - k, x.ndim)), e, rescale, centre=False)
    return y * weight if weight is not None else y


def group_norm(rescale: Callable[..., Tensor], x: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """``F.group_norm`` as a layer norm over each group's channels and positions, then the per-channel affine."""
    g = x.reshape(x.shape[0], num_groups, -1)
    y = _normalise(g, (2,), float(eps), rescale, centre=True).reshape(x.shape)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = y * weight.reshape(shape) if weight is not None else y
    return y + bias.reshape(shape) if bias is not None else y


_T = torch.Tensor
#: Products of two tensors (out of place, in place).
MULS = {torch.mul, _T.mul, _T.__mul__, _T.__rmul__}
IMULS = {_T.mul_, _T.__imul__}
#: Divisions (out of place, in place) and ``scalar / t``.
DIVS = {torch.div, _T.div, _T.__truediv__, torch.true_divide, _T.true_divide}
IDIVS = {_T.div_, _T.__itruediv__}
RDIVS = {_T.__rdiv__, _T.__rtruediv__}
NORMS: dict[Any, tuple[Callable[..., Tensor], tuple[str, ...]]] = {
    F.layer_norm: (layer_norm, ("input", "normalized_shape", "weight", "bias", "eps")),
    F.group_norm: (group_norm, ("input", "num_groups", "weight", "bias", "eps")),
}
if hasattr(F, "rms_norm"):
    NORMS[F.rms_norm] = (rms_norm, ("input", "normalized_shape", "weight", "eps"))

#: Operations bilinear in two arguments: no rule when two of them depend on the input (refused then).
BILINEAR: set[Any] = {
    torch.matmul, _T.matmul, _T.__matmul__, torch.bmm, _T.bmm, torch.einsum, torch.baddbmm, torch.mm, _T.mm,
    F.scaled_dot_product_attention, F.multi_head_attention_forward, F.bilinear,
}
#: Operations nonlinear in any input-dependent argument, with no DeepLIFT rule here: refused.
UNSUPPORTED: set[Any] = {
    F.normalize, F.instance_norm, F.local_response_norm,
    F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d, torch.max, _T.max, torch.min, _T.min,
    torch.amax, _T.amax, torch.amin, _T.amin, torch.logsumexp, _T.logsumexp, torch.norm, _T.norm,
    torch.var, _T.var, torch.std, _T.std, torch.median, _T.median, torch.sort, _T.sort, torch.topk, _T.topk,
    torch.cumprod, _T.cumprod, torch.prod, _T.prod,
}
#: Batch norm is linear in eval mode with running statistics; with batch statistics it mixes [x; x0].
BATCH_NORM = F.batch_norm


def batch_norm_uses_batch_statistics(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """True when a ``F.batch_norm`` call normalises with the batch's own statistics."""
    names = ("input", "running_mean", "running_var", "weight", "bias", "training")
    p = dict(zip(names, args, strict=False))
    p.update(kwargs)
    return bool(p.get("training", False)) or p.get("running_mean") is None
