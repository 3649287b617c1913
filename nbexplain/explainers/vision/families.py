"""Vision architecture families: which layer Grad-CAM explains by default, and how its output becomes a map.

Grad-CAM needs a layer output laid out ``(n, C, h, w)``. Convolutional networks give that; vision
transformers give tokens ``(n, N, C)`` (timm ``VisionTransformer``, torchvision
``VisionTransformer``, Hugging Face ``ViTForImageClassification``) or channels-last grids
``(n, h, w, C)`` (timm and torchvision Swin, a ``LayerNorm`` over channels inside a ConvNeXt
block). Everything here is read off the model's modules, so it works on torchvision, timm and
Hugging Face models and on networks shaped like them:

- :func:`detect_family`: ``"vit"``, ``"swin"``, ``"resnet"``, ``"convnext"``,
  ``"efficientnet"`` (MBConv / inverted residual blocks, EfficientNet and MobileNet) or
  ``"cnn"``;
- :func:`default_layer`: per family, the layer people explain (pytorch-grad-cam's choices):
  the last block's first norm of a ViT (``blocks[-1].norm1``, ``encoder.layers[-1].ln_1``,
  ``...layers[-1].layernorm_before``), the last Swin block's ``norm1``, ResNet's last stage
  (``layer4``), torchvision's ``features[-1]`` (ConvNeXt's last stage, EfficientNet's head
  convolution), timm's ``stages[-1]`` / ``bn2``; otherwise the last convolution the forward pass runs;
- :func:`grid_reshape` (from :mod:`~nbexplain.explainers.vision._grids`): the rearrangement of a
  layer output into ``(n, C, h, w)``: prefix tokens (class, distillation, register tokens) dropped,
  the token grid found from the patch size and the input (or the square root of the token count),
  channels-last permuted to channels-first.

Example:
    >>> import torch
    >>> from torch import nn
    >>> cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    >>> default_layer(cnn, torch.zeros(1, 1, 8, 8))[1:]
    ('0', 'cnn')
    >>> patchify = nn.Sequential(nn.Conv2d(3, 8, 4, stride=4))  # 4 x 4 patches: a 16 x 16 image is a 4 x 4 grid
    >>> r = grid_reshape(patchify, nn.LayerNorm(8), torch.zeros(2, 17, 8), (16, 16))
    >>> r.describe, tuple(r(torch.zeros(2, 17, 8)).shape)
    ('tokens: 1 prefix token(s) dropped, 4x4 grid', (2, 8, 4, 4))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from nbexplain.explainers.gradients.layers import NoConvLayerError
from nbexplain.explainers.vision._grids import (
    MAX_PREFIX,
    GridError,
    GridReshape,
    grid_reshape,
    has_class_token,
    patch_size,
    prefix_tokens,
    token_grid,
)

__all__ = ["FAMILIES", "MAX_PREFIX", "GridError", "GridReshape", "attention_blocks", "default_layer", "detect_family",
           "grid_reshape", "has_class_token", "patch_size", "prefix_tokens", "token_grid"]

#: The families :func:`detect_family` tells apart.
FAMILIES = ("vit", "swin", "resnet", "convnext", "efficientnet", "cnn")

_NORM_NAMES = ("norm1", "ln_1", "layernorm_before", "norm_1", "ln1", "input_layernorm", "layer_norm1")
_ATTN_NAMES = ("attn", "self_attention", "attention", "self_attn", "attn_layer")
_CONVNEXT_BLOCKS = ("CNBlock", "ConvNeXtBlock", "ConvNextLayer", "ConvNextV2Layer")
_MBCONV_BLOCKS = ("MBConv", "FusedMBConv", "InvertedResidual", "DepthwiseSeparableConv", "SqueezeExcitation",
                  "SqueezeExcite", "EdgeResidual")
# -- blocks -----------------------------------------------------------------------------------------
def _first_norm(block: Any) -> str | None:
    from torch import nn

    children = dict(block.named_children())
    for name in _NORM_NAMES:
        if isinstance(children.get(name), nn.Module):
            return name
    for name, child in children.items():
        if isinstance(child, nn.LayerNorm):
            return name
    return None


def _attention_child(block: Any) -> Any:
    from torch import nn

    children = dict(block.named_children())
    for name in _ATTN_NAMES:
        if isinstance(children.get(name), nn.Module):
            return children[name]
    for child in children.values():
        if isinstance(child, nn.MultiheadAttention) or type(child).__name__.endswith("Attention"):
            return child
    return None


def _is_window_block(block: Any, attn: Any) -> bool:
    """Swin's shifted-window blocks (timm, torchvision, Hugging Face): a ``shift_size``, or Swin / Window in a name."""
    if any(getattr(m, "shift_size", None) is not None for m in (block, attn)):
        return True
    return "Swin" in type(block).__name__ or "Window" in type(attn).__name__


def attention_blocks(model: Any) -> list[tuple[str, str, bool]]:
    """Transformer blocks of ``model`` in registration order: ``(block name, first-norm name, windowed)``.

    A block is a module with an attention child (``attn``, ``self_attention``, ``attention``, a
    ``MultiheadAttention`` or a ``*Attention`` module) and a norm before it (``norm1``, ``ln_1``,
    ``layernorm_before``, ...). ``windowed`` is True for Swin's shifted-window blocks.

    Example:
        >>> from torch import nn
        >>> block = nn.Module(); block.norm1 = nn.LayerNorm(4); block.attn = nn.MultiheadAttention(4, 2)
        >>> attention_blocks(nn.Sequential(block))
        [('0', 'norm1', False)]
    """
    found = []
    for name, module in model.named_modules():
        attn = _attention_child(module)
        norm = _first_norm(module) if attn is not None else None
        if attn is not None and norm is not None:
            found.append((name, norm, _is_window_block(module, attn)))
    return found


def _class_names(model: Any) -> set[str]:
    return {type(m).__name__ for m in model.modules()}


def detect_family(model: Any) -> str:
    """The architecture family of ``model``, one of :data:`FAMILIES`.

    Example:
        >>> from torch import nn
        >>> detect_family(nn.Sequential(nn.Conv2d(1, 2, 3))), detect_family(nn.Linear(2, 2))
        ('cnn', 'cnn')
    """
    blocks = attention_blocks(model)
    if blocks:
        return "swin" if blocks[-1][2] else "vit"
    names = _class_names(model)
    if names & set(_CONVNEXT_BLOCKS) or _has_convnext_shape(model):
        return "convnext"
    if names & set(_MBCONV_BLOCKS):
        return "efficientnet"
    children = dict(model.named_children())
    if "layer1" in children and ("fc" in children or "layer4" in children):
        return "resnet"
    return "cnn"


def _has_convnext_shape(model: Any) -> bool:
    """A block with a 7x7 depthwise convolution, a LayerNorm and a layer scale (``layer_scale`` / ``gamma``)."""
    from torch import nn

    for m in model.modules():
        scale = getattr(m, "layer_scale", None)
        if scale is None:
            scale = getattr(m, "gamma", None)
        if not isinstance(scale, nn.Parameter):
            continue
        subs = list(m.modules())
        dw = any(isinstance(s, nn.Conv2d) and s.groups == s.in_channels > 1 and s.kernel_size == (7, 7) for s in subs)
        if dw and any(isinstance(s, nn.LayerNorm) for s in subs):
            return True
    return False


# -- default layers ---------------------------------------------------------------------------------
def _last_child(model: Any, name: str) -> str | None:
    from torch import nn

    container = dict(model.named_children()).get(name)
    if not isinstance(container, (nn.Sequential, nn.ModuleList)) or len(container) == 0:
        return None
    return f"{name}.{list(dict(container.named_children()))[-1]}"


def _candidates(model: Any, family: str) -> list[str]:
    """Layer names to try, best first; the first one that runs once with a map wins."""
    from torch import nn

    if family in ("vit", "swin"):
        return [f"{b}.{norm}" for b, norm, _ in reversed(attention_blocks(model))][:4]
    out: list[str] = []
    children = dict(model.named_children())
    if family == "resnet":
        out += [f"layer{i}" for i in (4, 3, 2, 1) if not isinstance(children.get(f"layer{i}"), (nn.Identity, type(None)))]
    if family == "convnext":
        blocks = [n for n, m in model.named_modules() if type(m).__name__ in _CONVNEXT_BLOCKS]
        if blocks and "." in blocks[-1]:
            stage = blocks[-1].rsplit(".", 1)[0]
            out.append(stage.rsplit(".", 1)[0] if stage.endswith(".blocks") else stage)
    if "conv_head" in children and "bn2" in children:  # timm EfficientNet: head conv + BN with activation
        out.append("bn2")
    out += [c for c in (_last_child(model, "features"), _last_child(model, "stages"), _last_child(model, "blocks"))
            if c is not None]
    return list(dict.fromkeys(out))


def default_layer(model: Any, example: Any) -> tuple[Any, str, str]:
    """``(module, name, family)``: the layer Grad-CAM explains by default for ``model``.

    ``example`` is one input batch (one sample is enough): a dry forward pass without gradients
    (hooks removed in ``finally``) checks that the family's layer runs once and returns a map
    (tokens for a ViT, a spatial map of more than one cell for a CNN); otherwise the next
    candidate, and at last the last convolution run (:func:`~nbexplain.explainers.gradients.layers.last_conv_layer`).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> m = nn.Sequential(nn.Conv1d(1, 2, 3), nn.Conv1d(2, 2, 1))
        >>> default_layer(m, torch.zeros(1, 1, 5))[1:]
        ('1', 'cnn')
    """
    import torch

    from nbexplain.keras_models import is_conv, named_layers

    family = detect_family(model)
    named = named_layers(model)  # a Keras model's layers by their Keras names; else named_modules()
    modules = dict(named)
    candidates = [c for c in _candidates(model, family) if c in modules]
    convs = [n for n, m in named if is_conv(m)]
    seen: dict[str, list[Any]] = {}
    order: list[str] = []
    handles = []

    def record(name: str) -> Callable[..., None]:
        def hook(_m: Any, _i: Any, out: Any) -> None:
            seen.setdefault(name, []).append(tuple(out.shape) if isinstance(out, torch.Tensor) else None)
            order.append(name)
        return hook

    try:
        for name in dict.fromkeys([*candidates, *convs]):
            handles.append(modules[name].register_forward_hook(record(name)))
        with torch.no_grad():
            model(example.clone())  # a copy: an in-place first layer must not rewrite the caller's batch
    finally:
        for h in handles:
            h.remove()
    for name in candidates:
        shapes = seen.get(name, [])
        if len(shapes) == 1 and shapes[0] is not None and _is_map(shapes[0], family, example.ndim):
            return modules[name], name, family
    ran = [n for n in order if n in convs]
    if ran:
        return modules[ran[-1]], ran[-1], family
    if not convs:
        raise NoConvLayerError(
            f"{type(model).__name__} has no Conv1d/Conv2d/Conv3d layer and no transformer block, so there is no "
            "default layer; pass layer= a module or its name (one whose output keeps spatial axes (n, C, ...)), "
            f"e.g. one of {[n for n in modules if n][-5:]}")
    raise NoConvLayerError(f"none of the {len(convs)} convolution layers of {type(model).__name__} ran in the "
                           "forward pass; pass layer= the layer to explain")


def _is_map(shape: tuple[int, ...], family: str, input_ndim: int) -> bool:
    if family in ("vit", "swin"):
        return len(shape) in (3, 4)
    return len(shape) == input_ndim and math.prod(shape[2:]) > 1
