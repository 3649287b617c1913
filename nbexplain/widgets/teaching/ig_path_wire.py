"""What :class:`~nbexplain.widgets.IGPathView` sends: an :class:`~nbexplain.explainers.teaching.ig_path.IGPath` cut
to a wire budget.

Everything the alpha slider shows travels once, so the browser scrubs without a kernel. To stay
within ``max_bytes`` (default 2 MB): image maps are summed over the colour channels and
block-averaged so that neither side exceeds ``max_map`` cells (the rule of
:func:`nbexplain.metrics._similarity.downsample`), the input frames are sent as 8-bit pictures on
one brightness scale for the whole path, and when the frames still do not fit, fewer alphas of
the grid are sent (evenly spread, always with 0 and 1). :func:`pack_path` says in ``note`` what
was cut. The attribution, the completeness error and the curves are computed at full resolution.

Example:
    >>> import numpy as np
    >>> per_alpha_bytes((3, 224, 224), "CHW", 64)   # 56 x 56 cells: 3 bytes of picture, 2 x 2 of maps
    21952
    >>> per_alpha_bytes((30,), "features", 64)
    180
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...metrics._similarity import downsample
from .._traits import to_display_image

__all__ = ["MAX_BYTES", "MAX_MAP", "display_frames", "frame_indices", "pack_path", "per_alpha_bytes"]

#: Default wire budget of one view, in bytes.
MAX_BYTES = 2_000_000
#: Default largest side of a sent map, in cells.
MAX_MAP = 64
#: Bytes of everything else (alphas, outputs, the rule's points, the completeness chart, names).
_FIXED = 16_384


def _spatial(shape: tuple[int, ...], layout: str) -> tuple[int, int, int]:
    """(channels, H, W) of one sample laid out as ``layout`` (``"CHW"``, ``"HWC"`` or ``"HW"``)."""
    if layout == "HWC":
        return shape[2], shape[0], shape[1]
    if layout == "HW":
        return 1, shape[0], shape[1]
    return shape[0], shape[1], shape[2]


def per_alpha_bytes(shape: tuple[int, ...], layout: str, max_map: int) -> int:
    """Bytes one alpha costs on the wire: its 8-bit frame and two float16 maps (tables: 3 float16 rows).

    Example:
        >>> per_alpha_bytes((1, 8, 8), "CHW", 64)
        320
    """
    if layout == "features":
        return 3 * 2 * int(np.prod(shape))
    c, h, w = _spatial(shape, layout)
    k = math.ceil(max(h, w) / max_map)
    cells = math.ceil(h / k) * math.ceil(w / k)
    return cells * (3 if c == 3 else 1) + 2 * 2 * cells


def frame_indices(n: int, budget: int, per_alpha: int) -> np.ndarray:
    """Which of ``n`` grid alphas fit ``budget`` bytes at ``per_alpha`` each: all, or evenly spread with both ends.

    Example:
        >>> frame_indices(33, 25_384, 1_000).tolist()
        [0, 4, 8, 12, 16, 20, 24, 28, 32]
    """
    fit = (budget - _FIXED) // max(per_alpha, 1)
    if fit < 2:
        raise ValueError(f"max_bytes={budget} cannot hold even two alphas of the path ({per_alpha} bytes each on the "
                         f"wire); raise max_bytes to at least {2 * per_alpha + _FIXED}, or lower max_map")
    if fit >= n:
        return np.arange(n)
    step = math.ceil((n - 1) / (fit - 1))
    return np.unique(np.r_[np.arange(0, n - 1, step), n - 1])


def display_frames(inputs: np.ndarray, layout: str, max_map: int, value_range: tuple[float, float]) -> np.ndarray:
    """The interpolated inputs ``(G, *sample)`` as 8-bit pictures ``(G, h, w)`` or ``(G, h, w, 3)``.

    One brightness scale for every frame: values in [0, 1] are times 255, values in [0, 255] as
    they are, anything else (standardised inputs) min-max scaled over the whole path. Channels
    other than 1 or 3 are averaged to grey. Block-averaged like the maps.

    Example:
        >>> display_frames(np.linspace(0, 1, 2)[:, None, None, None] * np.ones((2, 1, 2, 2)), "CHW", 64, (0, 1))[:, 0, 0]
        array([  0, 255], dtype=uint8)
    """
    a = np.asarray(inputs, dtype=np.float32)
    if layout == "HWC":
        a = np.moveaxis(a, -1, 1)
    elif layout == "HW":
        a = a[:, None]
    if a.shape[1] not in (1, 3):
        a = a.mean(1, keepdims=True)
    small = downsample(a, max_map)  # (G, C, h, w)
    g, c, h, w = small.shape
    strip = np.moveaxis(small, 1, -1).transpose(1, 0, 2, 3).reshape(h, g * w, c)  # the frames side by side
    lo, hi = value_range
    in_range = lo >= 0.0 and hi <= 255.0
    picture = to_display_image(strip[..., 0] if c == 1 else strip, normalize=not in_range)
    return np.ascontiguousarray(np.moveaxis(picture.reshape(h, g, w, *picture.shape[2:]), 1, 0))


def _maps(a: np.ndarray, layout: str, max_map: int) -> np.ndarray:
    """``(G, *sample)`` attributions or gradients as ``(G, h, w)`` maps: channels summed, block-averaged."""
    if layout == "CHW":
        a = a.sum(1)
    elif layout == "HWC":
        a = a.sum(-1)
    return downsample(a, max_map)


def pack_path(path: Any, *, max_bytes: int = MAX_BYTES, max_map: int = MAX_MAP) -> dict[str, Any]:
    """The view's data traits for ``path`` (an :class:`~nbexplain.explainers.teaching.ig_path.IGPath`), and ``note``.

    Also ``"indices"``: which of the path's grid alphas were sent.

    Example:
        >>> import torch
        >>> from nbexplain.explainers.teaching.ig_path import ig_path
        >>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.Flatten(), torch.nn.Linear(72, 2))
        >>> p = ig_path(model, torch.rand(3, 8, 8), alphas=5)
        >>> packed = pack_path(p)
        >>> packed["kind"], packed["frames"].shape, packed["gradients"].shape, packed["note"]
        ('image', (5, 8, 8, 3), (5, 8, 8), '')
    """
    layout = path.explanation.layout
    kind = "table" if layout in ("features", "tokens") else "image"
    if kind == "image" and layout not in ("CHW", "HWC", "HW"):
        raise ValueError(f"IGPathView draws images (C, H, W), (H, W) or channels-last (H, W, C) and tables (F,); "
                         f"this sample has shape {path.x.shape} (layout {layout!r})")
    shape = tuple(path.x.shape)
    per = per_alpha_bytes(shape, "features" if kind == "table" else layout, max_map)
    keep = frame_indices(len(path.alphas), max_bytes, per)
    notes = []
    out: dict[str, Any] = {"kind": kind, "alphas": path.alphas[keep], "outputs": path.outputs[keep],
                           "accumulated_sum": path.accumulated_sum[keep], "indices": keep}
    if kind == "table":
        out.update(frames=None, inputs=path.inputs[keep].reshape(len(keep), -1),
                   gradients=path.gradients[keep].reshape(len(keep), -1),
                   accumulated=path.accumulated[keep].reshape(len(keep), -1))
    else:
        c, h, w = _spatial(shape, layout)
        values = np.concatenate([path.x.ravel(), path.baselines.ravel()])
        frames = display_frames(path.inputs[keep], layout, max_map, (float(values.min()), float(values.max())))
        out.update(frames=frames, inputs=None, gradients=_maps(path.gradients[keep], layout, max_map),
                   accumulated=_maps(path.accumulated[keep], layout, max_map))
        sh, sw = out["gradients"].shape[1:]
        if (sh, sw) != (h, w):
            notes.append(f"maps block-averaged {math.ceil(max(h, w) / max_map)} x {math.ceil(max(h, w) / max_map)} "
                         f"({h} x {w} -> {sh} x {sw} cells)")
        if c not in (1, 3):
            notes.append(f"the input shown is the mean of its {c} channels")
    if len(keep) < len(path.alphas):
        notes.append(f"the slider walks {len(keep)} of the path's {len(path.alphas)} alphas")
    if notes:
        notes.append(f"to stay within the {max_bytes / 1e6:.1f} MB this view sends; the attribution, the "
                     f"completeness error and the curves use all {path.steps} points of the rule at full resolution")
        out["note"] = "; ".join(notes[:-1]) + ", " + notes[-1]
    else:
        out["note"] = ""
    return out
