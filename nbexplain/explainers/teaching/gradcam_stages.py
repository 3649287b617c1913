"""The stages of a vision network: the layers whose Grad-CAM maps show how localisation changes with depth.

:func:`find_stages` lists, in the order the forward pass runs them, the outputs a "Grad-CAM through
the layers" slider walks:

- ResNet (torchvision, timm): ``layer1`` .. ``layer4`` (stages that are ``nn.Identity`` left out);
- a network with a stage container (torchvision's ``features``, timm's ``stages`` or ``blocks``,
  Hugging Face's ``encoder.stages``): its children, and of each run of children with the same
  spatial resolution only the last one, so every stage is an output where the resolution changes
  next (a VGG's pools, a ConvNeXt's stages, an EfficientNet's stages and head);
- vision transformers (ViT, Swin): every block's first norm (the layer Grad-CAM explains in a ViT);
- otherwise every convolution the forward pass runs.

The family's usual Grad-CAM layer (:func:`~nbexplain.explainers.vision.families.default_layer`) is
always among them, and at most ``max_stages`` are kept, evenly spread through the network (the
first, the last and the usual one always). One dry forward pass without gradients records what
runs; its hooks are removed in ``finally``.

Example:
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1),
    ...                     nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    >>> s = find_stages(net, torch.zeros(1, 1, 8, 8))
    >>> s.names, s.shapes, s.default
    (['0', '3'], [(8, 8), (4, 4)], '3')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nbexplain.explainers.gradients._engine import GradientError
from nbexplain.explainers.gradients.layers import NoConvLayerError, resolve_layer
from nbexplain.explainers.vision.families import attention_blocks, default_layer, detect_family
from nbexplain.validate import check_int

__all__ = ["MAX_STAGES", "STAGE_CONTAINERS", "Stages", "find_stages", "thin"]

#: At most this many stages by default.
MAX_STAGES = 12
#: Names of the containers whose children are a network's stages, most telling first.
STAGE_CONTAINERS = ("stages", "features", "blocks")


@dataclass(frozen=True)
class Stages:
    """What :func:`find_stages` found: ``names`` in execution order, ``shapes`` (each output's spatial
    size, or the token count for tokens), ``default`` (the family's usual Grad-CAM layer, or None),
    ``family``, and ``how`` (how they were chosen, in words)."""

    names: list[str]
    shapes: list[tuple[int, ...]]
    default: str | None
    family: str
    how: str


def thin(n: int, k: int, keep: tuple[int, ...] = ()) -> list[int]:
    """At most ``k`` of ``range(n)``, evenly spread, with the first, the last and ``keep`` always in.

    Example:
        >>> thin(10, 4), thin(10, 4, keep=(5,)), thin(3, 12)
        ([0, 3, 6, 9], [0, 3, 5, 9], [0, 1, 2])
    """
    if n <= k:
        return list(range(n))
    picked = sorted({int(i) for i in np.round(np.linspace(0, n - 1, k))})
    for i in keep:
        if i in picked:
            continue
        inner = [p for p in picked if p not in (0, n - 1) and p not in keep]
        if inner:
            picked.remove(min(inner, key=lambda p: abs(p - i)))
        picked = sorted({*picked, i})
    return picked


def _container(model: Any) -> str | None:
    """The shallowest ``stages`` / ``features`` / ``blocks`` container (Sequential or ModuleList, >= 2 children)."""
    from torch import nn

    found: list[tuple[int, int, str]] = []
    for name, module in model.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in STAGE_CONTAINERS and isinstance(module, (nn.Sequential, nn.ModuleList)) and len(module) >= 2:
            found.append((name.count("."), STAGE_CONTAINERS.index(leaf), name))
    return min(found)[2] if found else None


def _candidates(model: Any, family: str) -> tuple[list[str], str]:
    """The family's stage modules (names) and how they were found; empty when the family has none."""
    from torch import nn

    if family in ("vit", "swin"):
        return [f"{b}.{norm}" for b, norm, _ in attention_blocks(model)], "every transformer block's first norm"
    children = dict(model.named_children())
    if family == "resnet":
        names = [f"layer{i}" for i in range(1, 5) if isinstance(children.get(f"layer{i}"), nn.Module)
                 and not isinstance(children[f"layer{i}"], nn.Identity)]
        return names, "ResNet's stages layer1..layer4"
    container = _container(model)
    if container is None:
        return [], ""
    parent = dict(model.named_modules())[container]
    names = [f"{container}.{c}" for c, m in parent.named_children() if not isinstance(m, nn.Identity)]
    return names, f"the last output of {container}[i] at each resolution"


def _dry_run(model: Any, example: Any, names: list[str]) -> tuple[list[str], dict[str, list[Any]]]:
    """Run ``model`` once without gradients with hooks on ``names``: (order of their outputs, shapes per call)."""
    import torch

    from nbexplain.keras_models import named_layers

    modules = dict(named_layers(model))
    seen: dict[str, list[Any]] = {}
    order: list[str] = []

    def record(name: str) -> Callable[..., None]:
        def hook(_m: Any, _i: Any, out: Any) -> None:
            seen.setdefault(name, []).append(tuple(out.shape) if isinstance(out, torch.Tensor) else None)
            if name not in order:
                order.append(name)
        return hook

    handles = []
    try:
        for name in dict.fromkeys(names):
            handles.append(modules[name].register_forward_hook(record(name)))
        with torch.no_grad():
            model(example.clone())  # a copy: an in-place first layer must not rewrite the caller's batch
    finally:
        for h in handles:
            h.remove()
    return order, seen


def _spatial(shape: tuple[int, ...], family: str, input_ndim: int) -> tuple[int, ...] | None:
    """The map size an output of ``shape`` gives (tokens: their count), or None when it is no map."""
    if family in ("vit", "swin") and len(shape) == 3:
        return (shape[1],)
    if family == "swin" and len(shape) == 4:
        return tuple(shape[1:3])  # channels-last (n, h, w, C)
    if len(shape) == input_ndim and int(np.prod(shape[2:])) >= 1:
        return tuple(shape[2:])
    return None


def find_stages(model: Any, example: Any, *, layers: Any = None, max_stages: int = MAX_STAGES,
                family: str | None = None) -> Stages:
    """The stages of ``model`` for one input batch ``example`` (one image is enough); see the module doc.

    ``layers``: the user's own list (modules or dotted names) instead, put in execution order;
    each must run exactly once. ``max_stages``: at most this many (evenly spread, see :func:`thin`).
    Raises :class:`~nbexplain.explainers.gradients.layers.UnknownLayerError` for a wrong name,
    :class:`~nbexplain.explainers.gradients._engine.GradientError` for a layer that does not run once, and
    :class:`~nbexplain.explainers.gradients.layers.NoConvLayerError` when the model has no stage at all.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3), nn.Flatten(), nn.Linear(8, 2))
        >>> find_stages(net, torch.zeros(1, 1, 6, 6), layers=["2", "0"]).names
        ['0', '2']
    """
    from nbexplain.keras_models import is_conv, named_layers

    k = check_int(max_stages, "max_stages", min=1, max=64)
    family = family or detect_family(model)
    try:
        default: str | None = default_layer(model, example)[1]
    except NoConvLayerError:
        default = None
    if layers is not None:
        listed = [layers] if isinstance(layers, str) or hasattr(layers, "forward") else list(layers)
        if not listed:
            raise ValueError("layers is an empty list; pass None (the network's stages) or the layers to show")
        names = list(dict.fromkeys(resolve_layer(model, layer)[1] for layer in listed))
        order, seen = _dry_run(model, example, names)
        bad = [n for n in names if len(seen.get(n, [])) != 1]
        if bad:
            runs = {n: len(seen.get(n, [])) for n in bad}
            raise GradientError(f"layers {bad} ran {runs} times in the forward pass; every layer shown must run exactly "
                                "once (pick a block's submodule that does)")
        return Stages(order, [_spatial(seen[n][0], family, example.ndim) or () for n in order], default, family,
                      "the layers given")
    convs = [n for n, m in named_layers(model) if is_conv(m)]
    candidates, how = _candidates(model, family)
    order, seen = _dry_run(model, example, [*candidates, *convs, *([default] if default else [])])

    def maps(names: list[str]) -> list[tuple[str, tuple[int, ...]]]:
        out = []
        for n in order:
            shapes = seen.get(n, [])
            size = _spatial(shapes[0], family, example.ndim) if len(shapes) == 1 and shapes[0] is not None else None
            if n in names and size is not None:
                out.append((n, size))
        return out

    found = maps(candidates)
    if family not in ("vit", "swin"):  # of each run at one resolution, the last output
        found = [s for i, s in enumerate(found) if i + 1 == len(found) or found[i + 1][1] != s[1]]
    if len(found) < 2:
        found, how = maps(convs), "every convolution the forward pass runs"
    if default is not None and default not in [n for n, _ in found]:
        found = [s for s in maps([*[n for n, _ in found], default])]
    if not found:
        raise NoConvLayerError(f"{type(model).__name__} has no convolution and no transformer block that gives a map, "
                               "so it has no stages to show; pass layers= the modules (or names) whose outputs are "
                               "(n, C, h, w) maps")
    names = [n for n, _ in found]
    keep = (names.index(default),) if default in names else ()
    picked = thin(len(found), k, keep)
    if len(picked) < len(found):
        how += f", {len(picked)} of {len(found)} evenly spread (max_stages={k})"
    return Stages([found[i][0] for i in picked], [found[i][1] for i in picked], default if default in names else None,
                  family, how)
