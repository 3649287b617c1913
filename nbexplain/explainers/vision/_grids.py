"""How a vision transformer's layer output becomes a ``(n, C, h, w)`` grid: prefix tokens, patch grid, channels.

Tokens ``(n, N, C)`` (ViT) start with prefix tokens (class, distillation, register tokens) that sit
on no patch; the rest lie on the patch grid row by row. Swin's and ConvNeXt-internal layers are
channels-last ``(n, h, w, C)``. Read off the model (:mod:`~nbexplain.explainers.vision.families`
re-exports these):

- :func:`prefix_tokens`, :func:`has_class_token`, :func:`patch_size`: what the model declares;
- :func:`token_grid`: ``(prefix, (h, w))`` for ``N`` tokens and an input size;
- :func:`grid_reshape` / :class:`GridReshape`: the rearrangement, applied to an activation and to
  its gradient alike (it only slices, reshapes and permutes).

Example:
    >>> import torch
    >>> from torch import nn
    >>> patchify = nn.Sequential(nn.Conv2d(3, 8, 4, stride=4))  # 4 x 4 patches: a 16 x 16 image is a 4 x 4 grid
    >>> r = grid_reshape(patchify, nn.LayerNorm(8), torch.zeros(2, 17, 8), (16, 16), family="vit")
    >>> r.describe, tuple(r(torch.zeros(2, 17, 8)).shape)
    ('tokens: 1 prefix token(s) dropped, 4x4 grid', (2, 8, 4, 4))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nbexplain.explainers.gradients._engine import GradientError
from nbexplain.explainers.gradients.layers import conv_types, resolve_layer

__all__ = ["MAX_PREFIX", "GridError", "GridReshape", "grid_reshape", "has_class_token", "patch_size",
           "prefix_tokens", "token_grid"]

_TOKEN_PARAMS = {"cls_token": 1, "class_token": 1, "dist_token": 1, "distillation_token": 1}
_REGISTER_PARAMS = ("reg_token", "register_tokens", "registers")
#: At most this many tokens are taken for prefix (class / register) tokens when no count is declared.
MAX_PREFIX = 16


class GridError(GradientError):
    """A layer output that cannot be read as a grid (non-square tokens, windows); pass ``reshape=``."""


def prefix_tokens(model: Any) -> int | None:
    """Tokens before the patch tokens (class, distillation, register tokens); None when the model does not say.

    timm's ``num_prefix_tokens`` when set; otherwise the token parameters found by name
    (``cls_token`` / ``class_token``, ``dist_token`` / ``distillation_token``: one each;
    ``reg_token`` / ``register_tokens``: their count).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> m = nn.Module(); m.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
        >>> m.reg_token = nn.Parameter(torch.zeros(1, 4, 8)); prefix_tokens(m)
        5
    """
    for m in model.modules():
        declared = getattr(m, "num_prefix_tokens", None)
        if isinstance(declared, int) and not isinstance(declared, bool):
            return declared
    count, found = 0, False
    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in _TOKEN_PARAMS:
            count, found = count + _TOKEN_PARAMS[leaf], True
        elif leaf in _REGISTER_PARAMS:
            count, found = count + (int(p.shape[-2]) if p.ndim >= 2 else 1), True
    return count if found else None


def has_class_token(model: Any) -> bool:
    """True when the model has a class token (``cls_token`` / ``class_token``), which comes first.

    Example:
        >>> import torch
        >>> m = torch.nn.Module(); m.class_token = torch.nn.Parameter(torch.zeros(1, 1, 4)); has_class_token(m)
        True
    """
    return any(name.rsplit(".", 1)[-1] in ("cls_token", "class_token") for name, _ in model.named_parameters())


def _pair(v: Any) -> tuple[int, int] | None:
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return (v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, int) and i > 0 for i in v):
        return (int(v[0]), int(v[1]))
    return None


def patch_size(model: Any) -> tuple[int, int] | None:
    """The patch size of a ViT / Swin: declared (``patch_embed.patch_size``, ``patch_size``,
    ``config.patch_size``), else the first ``Conv2d`` whose kernel equals its stride (> 1).

    Example:
        >>> from torch import nn
        >>> patch_size(nn.Sequential(nn.Conv2d(3, 8, 4, stride=4)))
        (4, 4)
    """
    from torch import nn

    for m in model.modules():
        for owner in (getattr(m, "patch_embed", None), m, getattr(m, "config", None)):
            size = _pair(getattr(owner, "patch_size", None)) if owner is not None else None
            if size is not None:
                return size
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and m.kernel_size == m.stride and m.stride[0] > 1:
            return (int(m.stride[0]), int(m.stride[1]))
    return None


def token_grid(model: Any, n_tokens: int, input_hw: tuple[int, ...] | None) -> tuple[int, tuple[int, int]]:
    """``(prefix, (h, w))``: how ``n_tokens`` tokens split into prefix tokens and an ``h x w`` grid.

    The grid is the patch grid of the input (``H // patch, W // patch``, or rounded up; halved
    per Swin patch merging) when that fits the token count and the declared prefix, else the
    square root of the tokens after the declared prefix (none when the model declares none). Raises :class:`GridError` when nothing fits (a non-square
    grid of unknown size): pass ``reshape=`` then.

    Example:
        >>> from torch import nn
        >>> token_grid(nn.Conv2d(3, 8, 8, stride=8), 9, (16, 32))
        (1, (2, 4))
    """
    prefix = prefix_tokens(model)
    grids: list[tuple[int, int]] = []
    p = patch_size(model)
    if p is not None and input_hw is not None and len(input_hw) == 2:
        h, w = input_hw
        for k in range(6):
            s0, s1 = p[0] * 2**k, p[1] * 2**k
            grids += [(h // s0, w // s1), (-(-h // s0), -(-w // s1))]
    for m in model.modules():
        g = _pair(getattr(getattr(m, "patch_embed", None), "grid_size", None))
        if g is not None:
            grids.append(g)
    fits = []
    for g in dict.fromkeys(grids):
        rest = n_tokens - g[0] * g[1]
        if g[0] > 0 and g[1] > 0 and ((rest == prefix) if prefix is not None else 0 <= rest <= MAX_PREFIX):
            fits.append((rest, g))
    if fits:
        return min(fits, key=lambda f: f[0])  # the fewest prefix tokens: the largest grid that fits
    start = prefix or 0
    side = math.isqrt(max(n_tokens - start, 0))
    if side > 0 and side * side == n_tokens - start:
        return start, (side, side)
    declared = f"{prefix} prefix token(s) (declared by the model)" if prefix is not None else "no prefix token declared"
    raise GridError(f"the layer outputs {n_tokens} tokens; with {declared} the other {n_tokens - start} do not form "
                    "a square grid, and no patch grid of the input {tuple(input_hw or ())} fits; pass reshape= a "
                    "function (n, N, C) -> (n, C, h, w), e.g. lambda t: t[:, 1:].reshape(len(t), h, w, -1)"
                    ".permute(0, 3, 1, 2)")


def _channels_last(model: Any, module: Any, act_shape: tuple[int, ...], family: str) -> bool:
    from torch import nn

    from nbexplain.keras_models import channels_last, is_keras

    if is_keras(model):  # Keras image layers are channels-last unless their data_format says otherwise
        return channels_last(model, module)
    c = act_shape[-1]
    if isinstance(module, nn.LayerNorm):
        return not type(module).__name__.endswith("2d") and tuple(module.normalized_shape)[-1:] == (c,)
    if isinstance(module, nn.Linear):
        return module.out_features == c
    if isinstance(module, (*conv_types(), nn.BatchNorm2d, nn.GroupNorm, nn.MaxPool2d, nn.AvgPool2d)):
        return False
    return family == "swin"  # Swin's blocks and stages run channels-last


@dataclass(frozen=True)
class GridReshape:
    """A rearrangement of a layer output into ``(n, C, h, w)`` (call it on the activation and on its gradient).

    ``kind``: ``"none"``, ``"tokens"``, ``"channels_last"`` or ``"callable"``; ``prefix``:
    tokens dropped; ``grid``: the token grid; ``fn``: the user's callable for ``"callable"``.
    """

    kind: str
    prefix: int = 0
    grid: tuple[int, int] | None = None
    fn: Callable[[Any], Any] | None = None

    def __call__(self, t: Any) -> Any:
        if self.kind == "tokens":
            assert self.grid is not None
            return t[:, self.prefix:].reshape(t.shape[0], *self.grid, t.shape[-1]).permute(0, 3, 1, 2)
        if self.kind == "channels_last":
            return t.permute(0, t.ndim - 1, *range(1, t.ndim - 1))
        if self.kind == "callable":
            assert self.fn is not None
            return self.fn(t)
        return t

    @property
    def describe(self) -> str:
        """A short description for ``diagnostics["reshape"]``."""
        if self.kind == "tokens":
            assert self.grid is not None
            return f"tokens: {self.prefix} prefix token(s) dropped, {self.grid[0]}x{self.grid[1]} grid"
        return {"channels_last": "channels-last (n, h, w, C) permuted to (n, C, h, w)",
                "callable": "reshape= callable"}.get(self.kind, "none")


def grid_reshape(model: Any, layer: Any, act: Any, input_hw: tuple[int, ...], *, family: str | None = None,
                 reshape: Callable[[Any], Any] | None = None) -> GridReshape:
    """How to read ``act``, the output of ``layer`` (a module or name), as ``(n, C, *spatial)``.

    ``reshape``: the user's callable (used as given). Otherwise a 3-D output of an image model is
    tokens (:func:`token_grid`), a 4-D output of a channels-last module (``LayerNorm`` or
    ``Linear`` over the last axis, a Swin stage) is permuted, anything else is taken as it is.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> grid_reshape(nn.Sequential(nn.LayerNorm(8)), "0", torch.zeros(1, 3, 3, 8), (12, 12)).kind
        'channels_last'
    """
    if reshape is not None:
        return GridReshape("callable", fn=reshape)
    module = resolve_layer(model, layer)[0] if not hasattr(layer, "forward") else layer
    if family is None:
        from nbexplain.explainers.vision.families import detect_family

        family = detect_family(model)
    shape = tuple(act.shape)
    if len(shape) == 3 and len(input_hw) == 2:
        prefix, grid = token_grid(model, shape[1], input_hw)
        return GridReshape("tokens", prefix=prefix, grid=grid)
    if len(shape) == 4 and len(input_hw) == 2 and _channels_last(model, module, shape, family):
        return GridReshape("channels_last")
    return GridReshape("none")
