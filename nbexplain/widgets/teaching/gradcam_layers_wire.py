"""What :class:`~nbexplain.widgets.GradCAMLayersView` sends: every stage's map, once, within a budget.

The stage slider scrubs in the browser, so all stages travel with the first draw. Per stage: the
map upsampled to the input and the map at the layer's own resolution, both divided by the stage's
peak (the largest ``|value|`` of its layer-resolution map; sent as ``peaks``) so each stage keeps
float16's precision however small its raw values, and the view colours each stage on its own
max-normalised scale, as Grad-CAM maps are usually shown. Maps larger than ``max_map`` cells a
side are block-averaged (the rule of :func:`nbexplain.metrics._similarity.downsample`), the
picture with them; when everything still does not fit ``max_bytes``, ``max_map`` is lowered until
it does. ``note`` says what was cut. The numbers per stage are computed at full resolution.

Example:
    >>> stage_bytes((224, 224), [(56, 56), (28, 28), (14, 14), (7, 7)], 3, 64)
    51018
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...frame_inputs import _bytes
from ...metrics._similarity import downsample
from .ig_path_wire import display_frames

__all__ = ["MAX_BYTES", "MAX_MAP", "pack_layers", "stage_bytes"]

#: Default wire budget of one view, in bytes.
MAX_BYTES = 1_000_000
#: Default largest side of a sent map, in cells.
MAX_MAP = 64
#: Bytes of everything else (names, notes, numbers, shapes).
_FIXED = 8_192


def _cells(shape: tuple[int, ...], max_map: int) -> int:
    h, w = shape
    k = math.ceil(max(h, w) / max_map)
    return math.ceil(h / k) * math.ceil(w / k)


def stage_bytes(input_hw: tuple[int, int], resolutions: list[tuple[int, int]], channels: int, max_map: int) -> int:
    """Bytes the view's arrays take on the wire at ``max_map``: the picture (1 or 3 bytes a cell) and
    two float16 maps per stage (upsampled, and at the layer's resolution), plus a fixed part.

    Example:
        >>> stage_bytes((8, 8), [(8, 8), (4, 4)], 1, 64)
        8672
    """
    cells = _cells(input_hw, max_map)
    return cells * (3 if channels == 3 else 1) + 2 * cells * len(resolutions) + \
        sum(2 * _cells(r, max_map) for r in resolutions) + _FIXED


def _fit(input_hw: tuple[int, int], resolutions: list[tuple[int, int]], channels: int, max_bytes: int,
         max_map: int) -> int:
    m = max_map
    while stage_bytes(input_hw, resolutions, channels, m) > max_bytes:
        if m <= 4:
            need = stage_bytes(input_hw, resolutions, channels, 4)
            raise ValueError(f"max_bytes={max_bytes} cannot hold the {len(resolutions)} stages' maps even at 4 x 4 "
                             f"cells ({need} bytes); raise max_bytes or show fewer stages (max_stages=, layers=)")
        m = max(4, m * 3 // 4)
    return m


def pack_layers(result: Any, *, max_bytes: int = MAX_BYTES, max_map: int = MAX_MAP,
                layout: str = "CHW") -> dict[str, Any]:
    """The view's data traits for ``result`` (a :class:`~nbexplain.explainers.teaching.gradcam_layers.GradCAMLayers`).

    ``layout``: the image's (``"CHW"``, or ``"HWC"`` for a channels-last Keras model).

    Example:
        >>> import torch
        >>> from nbexplain.explainers.teaching.gradcam_layers import gradcam_layers
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
        ...                           torch.nn.Linear(2 * 8 * 8, 2))
        >>> p = pack_layers(gradcam_layers(net, torch.rand(3, 8, 8), deletion=False))
        >>> p["image"].shape, p["maps"].shape, p["cams"].shape, p["cam_shapes"], p["note"]
        ((8, 8, 3), (1, 8, 8), (64,), [[8, 8]], '')
    """
    x = result.x
    c, h, w = (x.shape[2], x.shape[0], x.shape[1]) if layout == "HWC" else x.shape
    m = _fit((h, w), result.resolutions, c, max_bytes, max_map)
    peaks = np.array([float(np.abs(cam).max()) for cam in result.cams], dtype=np.float64)
    peaks = np.where(peaks > 0, peaks, 1.0)
    maps = downsample(result.maps, m) / peaks[:, None, None]
    cams = [downsample(cam, m) / p for cam, p in zip(result.cams, peaks, strict=True)]
    image = display_frames(x[None], layout, m, (float(x.min()), float(x.max())))[0]
    notes = []
    sh, sw = maps.shape[1:]
    if (sh, sw) != (h, w):
        k = math.ceil(max(h, w) / m)
        notes.append(f"the picture and the upsampled maps block-averaged {k} x {k} ({h} x {w} -> {sh} x {sw} cells)")
    cut = [f"{n} ({r[0]} x {r[1]} -> {a.shape[0]} x {a.shape[1]})" for n, r, a in
           zip(result.names, result.resolutions, cams, strict=True) if a.shape != tuple(r)]
    if cut:
        notes.append(f"the layer-resolution maps of {', '.join(cut)} block-averaged")
    if c not in (1, 3):
        notes.append(f"the picture shown is the mean of its {c} channels")
    note = ""
    if notes:
        note = "; ".join(notes) + (f", to stay within the {_bytes(max_bytes)} this view sends; the numbers per "
                                   "stage use the full-resolution maps")
    return {"image": image, "maps": maps.astype(np.float32),
            "cams": np.concatenate([a.ravel() for a in cams]).astype(np.float32),
            "cam_shapes": [[int(a.shape[0]), int(a.shape[1])] for a in cams], "peaks": peaks.astype(np.float32),
            "note": note, "max_map_used": m}
