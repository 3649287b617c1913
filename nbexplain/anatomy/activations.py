"""Activation maps of one layer for one sample, small enough to send to the browser.

:func:`activation_maps` captures a layer's output (one forward pass, no gradients, eval mode)
and, for a convolutional output ``(n, C, H, W)``, keeps sample ``sample``'s ``C`` channel maps
downsampled by an integer factor ``k = ceil(max(H, W) / max_size)`` (adaptive average pooling
to ``(ceil(H / k), ceil(W / k))``, so each pixel is the mean of a ``k x k`` block), with each
channel's mean and max at full resolution and a display order. ``max_size="auto"`` picks the
largest size whose maps, sent as float16, stay within :data:`WIRE_BUDGET` (1 MB). A dense output
``(n, F)`` gives ``values`` ``(F,)``; other ranks are flattened to dense, with a note.

Example:
    >>> import torch
    >>> conv = torch.nn.Conv2d(1, 2, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = conv.weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> a = activation_maps(torch.nn.Sequential(conv), x, "0", max_size=2)
    >>> a.kind, a.maps.shape, a.full_shape, a.maps[0].tolist()
    ('conv', (2, 2, 2), (2, 4, 4), [[2.5, 4.5], [10.5, 12.5]])
    >>> a.order.tolist(), a.mean.tolist()
    ([0, 1], [7.5, -7.5])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.anatomy.capture import capture_activations
from nbexplain.keras_models import to_channels_first

__all__ = ["WIRE_BUDGET", "ActivationMaps", "activation_maps", "auto_max_size", "channel_map"]

#: ``max_size="auto"`` keeps one layer's maps (float16) plus its per-channel stats under this many bytes.
WIRE_BUDGET = 1_000_000
SORTS = ("mean", "max", "none", "index")


@dataclass
class ActivationMaps:
    """One layer's activations for one sample (see :func:`activation_maps`).

    ``kind`` is ``"conv"`` (``maps`` (C, h, w) float32, downsampled, also for a channels-last Keras
    model's (H, W, C) output; ``mean`` / ``max`` (C,) per channel at full resolution) or ``"dense"`` (``values`` (F,); ``mean`` = ``max`` = ``values``).
    ``order`` is the display order (by ``sort``: descending mean or max, or channel index).
    ``full_shape`` is the layer's output shape for the one sample (no batch axis),
    ``factor`` the downsampling factor (1 = full resolution), ``notes`` caveats; ``full`` (not
    sent) keeps the sample's full-resolution output for :meth:`histogram` and :meth:`channel`.

    Example:
        >>> import torch
        >>> a = activation_maps(torch.nn.Sequential(torch.nn.Conv2d(1, 3, 1)), torch.ones(1, 1, 8, 8), "0",
        ...                     max_size=4)
        >>> a.maps.shape, a.factor, a.nbytes, a.histogram(bins=5)[0].sum(), a.channel(0).shape
        ((3, 4, 4), 2, 120, np.int64(192), (8, 8))
    """

    layer: str
    kind: str
    full_shape: tuple[int, ...]
    order: np.ndarray
    mean: np.ndarray
    max: np.ndarray
    maps: np.ndarray | None = None
    values: np.ndarray | None = None
    factor: int = 1
    sort: str = "mean"
    sample: int = 0
    notes: list[str] = field(default_factory=list)
    full: np.ndarray | None = field(default=None, repr=False)

    @property
    def nbytes(self) -> int:
        """Bytes sent for this layer: ``maps`` (or ``values``), ``mean`` and ``max`` as float16,
        ``order`` as int32."""
        data = self.maps if self.maps is not None else self.values
        size = 0 if data is None else data.size
        return int(2 * size + 2 * self.mean.size + 2 * self.max.size + 4 * self.order.size)

    def histogram(self, bins: int = 50) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` of the full-resolution activation values of the sample."""
        data = self.full if self.full is not None else (self.values if self.values is not None else self.maps)
        return np.histogram(np.asarray(data, dtype=np.float64).ravel(), bins=bins)

    def channel(self, channel: int) -> np.ndarray:
        """Channel ``channel`` at full resolution (H, W) float32 (conv layers; no new forward pass)."""
        if self.kind != "conv" or self.full is None:
            raise ValueError(f"layer {self.layer!r} is {self.kind}, not a convolutional layer; channel maps need an "
                             "output (n, C, H, W)")
        _check_channel(channel, self.full.shape[0], self.layer)
        return self.full[channel]


def auto_max_size(channels: int, height: int, width: int, budget: int = WIRE_BUDGET) -> int:
    """The largest map side (``max(H, W) / k`` rounded up, integer ``k``) whose downsampled maps,
    as float16 with their per-channel stats, fit ``budget`` bytes; 1 when nothing fits.

    Example:
        >>> auto_max_size(64, 112, 112)  # 64 x 56 x 56 x 2 bytes = 401 kB
        56
        >>> auto_max_size(256, 56, 56), auto_max_size(2048, 7, 7)
        (28, 7)
    """
    overhead = 8 * channels  # mean and max (float16), order (int32)
    side = max(height, width, 1)
    for k in range(1, side + 1):
        if 2 * channels * math.ceil(height / k) * math.ceil(width / k) + overhead <= budget:
            return math.ceil(side / k)
    return 1


def _check_channel(channel: int, n: int, layer: str) -> None:
    if not isinstance(channel, (int, np.integer)) or not 0 <= int(channel) < n:
        raise ValueError(f"channel {channel!r} is out of range for layer {layer!r}, which has {n} channels "
                         f"(0 to {n - 1})")


def _sample_output(model: Any, x: Any, layer: Any, sample: int) -> tuple[str, Any]:
    (name, out), = capture_activations(model, x, layer).items()
    out = to_channels_first(model, out)  # a channels-last Keras model's (n, H, W, C) maps
    if out.ndim == 0:
        out = out.reshape(1, 1)
    if not -out.shape[0] <= sample < out.shape[0]:
        raise ValueError(f"sample {sample} is out of range: the input holds {out.shape[0]} samples")
    return name, out[sample].float()


def activation_maps(model: Any, x: Any, layer: Any, *, max_size: int | str = 64, sort: str = "mean",
                    sample: int = 0) -> ActivationMaps:
    """:class:`ActivationMaps` of ``layer`` (a name or module) for sample ``sample`` of ``x``.

    ``max_size`` bounds the sent maps' height and width (integer-factor average pooling), or
    ``"auto"``: at most :data:`WIRE_BUDGET` bytes (1 MB) as float16 for the layer. ``sort`` is
    ``"mean"``, ``"max"`` (descending) or ``"none"`` / ``"index"`` (channel order).

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
        >>> a = activation_maps(m, torch.zeros(2, 2, 2), "1", sample=1)
        >>> a.kind, a.values.shape, a.full_shape
        ('dense', (3,), (3,))
    """
    import torch
    from torch.nn import functional as F

    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, got {sort!r}")
    if not (max_size == "auto" or (isinstance(max_size, int) and max_size >= 1)):
        raise ValueError(f"max_size must be a positive int or 'auto', got {max_size!r}")
    name, out = _sample_output(model, x, layer, sample)
    notes: list[str] = []
    if out.ndim == 3:
        full = out.numpy().astype(np.float32)
        c, h, w = full.shape
        size = auto_max_size(c, h, w) if max_size == "auto" else int(max_size)
        k = max(1, math.ceil(max(h, w) / size))
        small = F.adaptive_avg_pool2d(out[None], (math.ceil(h / k), math.ceil(w / k)))[0] if k > 1 else out
        mean, mx = full.mean(axis=(1, 2)), full.max(axis=(1, 2))
        key = mean if sort == "mean" else mx if sort == "max" else None
        order = np.arange(c) if key is None else np.argsort(-key, kind="stable")
        if 2 * small.numel() + 8 * c > WIRE_BUDGET:
            notes.append(f"{c} channels of {tuple(small.shape[1:])} are {2 * small.numel() + 8 * c} bytes as "
                         f"float16, over the {WIRE_BUDGET}-byte budget")
        return ActivationMaps(layer=name, kind="conv", full_shape=(c, h, w), order=order.astype(np.int64),
                              mean=mean, max=mx, maps=small.numpy().astype(np.float32), factor=k, sort=sort,
                              sample=sample, notes=notes, full=full)
    if out.ndim != 1:
        notes.append(f"the output of {name!r} has shape {tuple(out.shape)} per sample (not (C, H, W) or (F,)); "
                     "shown flattened as dense values")
    values = torch.flatten(out).numpy().astype(np.float32)
    order = np.arange(values.size) if sort in ("none", "index") else np.argsort(-values, kind="stable")
    return ActivationMaps(layer=name, kind="dense", full_shape=tuple(out.shape), order=order.astype(np.int64),
                          mean=values, max=values, values=values, sort=sort, sample=sample, notes=notes)


def channel_map(model: Any, x: Any, layer: Any, channel: int, *, size: Any = None, sample: int = 0) -> np.ndarray:
    """Channel ``channel`` of a conv ``layer``'s output for one sample, at full resolution.

    ``size`` (an int or ``(height, width)``) resizes it bilinearly, e.g. to the input image's
    size for an overlay. Returns float32 (H, W).

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1))
        >>> channel_map(m, torch.zeros(1, 1, 5, 5), "0", 1).shape, channel_map(m, torch.zeros(1, 1, 5, 5), "0", 1, size=10).shape
        ((5, 5), (10, 10))
    """
    from torch.nn import functional as F

    name, out = _sample_output(model, x, layer, sample)
    if out.ndim != 3:
        raise ValueError(f"layer {name!r} outputs shape {tuple(out.shape)} per sample, not (C, H, W); channel maps "
                         "need a convolutional layer")
    _check_channel(channel, out.shape[0], name)
    m = out[int(channel)]
    if size is not None:
        hw = (int(size), int(size)) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
        m = F.interpolate(m[None, None], size=hw, mode="bilinear", align_corners=False)[0, 0]
    return m.numpy().astype(np.float32)
