"""Weights of a model: per-layer statistics and histograms, and convolution filters as images.

- :func:`weight_summary` gives, per parameterised layer, the statistics of its weight
  (:class:`WeightStats`): shape, count, mean, std, min, max, mean absolute value, fraction of
  exact zeros and a 40-bin histogram;
- :func:`filter_maps` turns a ``Conv2d``'s weights into tiles (:class:`FilterMaps`): RGB tiles
  for a first layer on 3 input channels, otherwise one grey tile per output filter (the mean
  over its input channels, or one chosen input channel).

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
    ...                             torch.nn.Linear(4, 2))
    >>> [(s.name, s.type, s.shape, s.n_params) for s in weight_summary(model)]
    [('0', 'Conv2d', (4, 3, 3, 3), 112), ('3', 'Linear', (2, 4), 10)]
    >>> f = filter_maps(model)
    >>> f.layer, f.rgb, f.tiles.shape
    ('0', True, (4, 3, 3, 3))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.anatomy.capture import parameterised_layers
from nbexplain.explainers.gradients.layers import resolve_layer
from nbexplain.keras_models import WEIGHT_NAMES, is_conv, named_layers, own_parameters, torch_layout

__all__ = ["FilterMaps", "NoConvError", "WeightMap", "WeightStats", "filter_maps", "weight_map", "weight_summary"]

HIST_BINS = 40


class NoConvError(ValueError):
    """The model (or the layer named) has no ``nn.Conv2d`` weights to draw as filters."""


@dataclass
class WeightStats:
    """Statistics of one layer's weight (see :func:`weight_summary`).

    ``param`` names the parameter described (``"weight"``, or the largest own parameter of a
    layer without one); ``shape`` is its shape; ``n_params`` counts all the layer's own
    parameters (bias included); ``zeros`` is the fraction of exact zeros; ``counts`` / ``edges``
    a 40-bin histogram of the values; ``std`` is the population standard deviation.

    Example:
        >>> import torch
        >>> s = weight_summary(torch.nn.Sequential(torch.nn.Linear(4, 2, bias=False)))[0]
        >>> s.n_params, s.to_dict()["shape"], len(s.to_dict()["counts"])
        (8, [2, 4], 40)
    """

    name: str
    type: str
    param: str
    shape: tuple[int, ...]
    n_params: int
    mean: float
    std: float
    min: float
    max: float
    abs_mean: float
    zeros: float
    counts: np.ndarray = field(repr=False)
    edges: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (histogram as lists)."""
        return {"name": self.name, "type": self.type, "param": self.param, "shape": list(self.shape),
                "n_params": self.n_params, "mean": self.mean, "std": self.std, "min": self.min, "max": self.max,
                "abs_mean": self.abs_mean, "zeros": self.zeros, "counts": self.counts.tolist(),
                "edges": self.edges.tolist()}


def weight_summary(model: Any) -> list[WeightStats]:
    """One :class:`WeightStats` per module with parameters of its own (the parameterised leaf
    layers, plus containers such as ``MultiheadAttention`` holding parameters directly; see
    :func:`~nbexplain.anatomy.capture.parameterised_layers`), in registration order.

    Example:
        >>> import torch
        >>> lin = torch.nn.Linear(2, 2)
        >>> with torch.no_grad():
        ...     _ = lin.weight.copy_(torch.tensor([[0.0, 1.0], [2.0, 3.0]]))
        >>> s = weight_summary(torch.nn.Sequential(lin))[0]
        >>> s.mean, s.min, s.max, s.zeros, int(s.counts.sum())
        (1.5, 0.0, 3.0, 0.25, 4)
    """
    out = []
    modules = dict(named_layers(model))
    for name in parameterised_layers(model):
        module = modules[name]
        params = dict(own_parameters(module))
        pname = _main_weight(params)
        w = params[pname].detach().double().cpu().numpy()
        flat = w.ravel()
        counts, edges = np.histogram(flat, bins=HIST_BINS) if flat.size else (np.zeros(HIST_BINS, int),
                                                                              np.zeros(HIST_BINS + 1))
        out.append(WeightStats(
            name=name, type=type(module).__name__, param=pname, shape=tuple(w.shape),
            n_params=int(sum(p.numel() for p in params.values())),
            mean=float(flat.mean()) if flat.size else 0.0, std=float(flat.std()) if flat.size else 0.0,
            min=float(flat.min()) if flat.size else 0.0, max=float(flat.max()) if flat.size else 0.0,
            abs_mean=float(np.abs(flat).mean()) if flat.size else 0.0,
            zeros=float((flat == 0).mean()) if flat.size else 0.0, counts=counts, edges=edges))
    return out


@dataclass
class WeightMap:
    """A layer's weight as a 2-D map: ``values`` (rows, cols), at most ``max_size`` per side.

    ``shape``: the parameter's own shape; ``rows_are`` / ``cols_are``: what the axes hold;
    ``block``: how many weights each cell averages along (rows, cols); 1 = exact.
    """

    layer: str
    param: str
    shape: tuple[int, ...]
    values: np.ndarray
    rows_are: str
    cols_are: str
    block: tuple[int, int] = (1, 1)


def _main_weight(params: dict[str, Any]) -> str:
    """The name of a layer's weight (``weight``, a Keras ``kernel``), else of its largest parameter."""
    for name in WEIGHT_NAMES:
        if name in params:
            return name
    return max(params, key=lambda k: params[k].numel())


def _block_mean(a: np.ndarray, max_size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Average ``a`` (2-D) over blocks so that neither side exceeds ``max_size`` (exact when it fits)."""
    br, bc = -(-a.shape[0] // max_size), -(-a.shape[1] // max_size)
    if br == 1 and bc == 1:
        return a, (1, 1)
    rows, cols = -(-a.shape[0] // br), -(-a.shape[1] // bc)
    padded = np.full((rows * br, cols * bc), np.nan)
    padded[: a.shape[0], : a.shape[1]] = a
    return np.nanmean(padded.reshape(rows, br, cols, bc), axis=(1, 3)), (br, bc)


def weight_map(model: Any, layer: Any, *, max_size: int = 256) -> WeightMap:
    """The weight of ``layer`` as a signed 2-D map for a heatmap, block-averaged to ``max_size``.

    A ``Linear`` weight is (out, in) as it is; a convolution's (out, in, kh, kw) becomes rows =
    output channels, columns = input channel x kernel position; a 1-D parameter is one row.
    Keras kernels (``Dense`` (in, out), ``Conv2D`` (kh, kw, in, out)) are laid out the same way
    (rows = outputs); ``shape`` stays Keras' own.
    At most ``max_size`` x ``max_size`` cells (65,536 floats, 128 kB as float16) are returned.

    Example:
        >>> import torch
        >>> lin = torch.nn.Linear(3, 2)
        >>> weight_map(torch.nn.Sequential(lin), "0").values.shape
        (2, 3)
        >>> weight_map(torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3)), "0").values.shape
        (4, 18)
    """
    if not isinstance(max_size, int) or max_size < 1:
        raise ValueError(f"max_size must be a positive int, got {max_size!r}")
    module, name = resolve_layer(model, layer)
    params = dict(own_parameters(module))
    if not params:
        raise ValueError(f"layer {name!r} ({type(module).__name__}) has no weights of its own; "
                         f"layers with weights: {parameterised_layers(model)[:12]}")
    pname = _main_weight(params)
    own = params[pname].detach().double().cpu().numpy()
    w = torch_layout(module, pname, own)
    if w.ndim == 1:
        flat, rows_are, cols_are = w[None, :], "", "weights"
    elif w.ndim == 2:
        flat, rows_are, cols_are = w, "outputs", "inputs"
    else:
        flat = w.reshape(w.shape[0], -1)
        rows_are, cols_are = "output channels", "input channel x kernel position"
    values, block = _block_mean(flat, max_size)
    return WeightMap(name, pname, tuple(own.shape), values, rows_are, cols_are, block)


@dataclass
class FilterMaps:
    """A conv layer's filters as tiles (see :func:`filter_maps`).

    ``tiles`` is (n, kh, kw, 3) in [0, 1] when ``rgb`` (0.5 = a zero weight), else (n, kh, kw)
    raw weight values (float32; draw them with a diverging colour map). ``n_filters`` is the
    layer's number of output filters (``tiles`` holds the first ``max_filters``);
    ``input_channel`` the input channel shown (None: the mean over input channels, or RGB),
    ``labels`` one per tile (``"filter i"``), ``notes`` caveats (filters left out).

    Example:
        >>> import torch
        >>> f = filter_maps(torch.nn.Sequential(torch.nn.Conv2d(4, 100, 3)), max_filters=10)
        >>> f.tiles.shape, f.rgb, f.n_filters, f.notes
        ((10, 3, 3), False, 100, ['showing the first 10 of 100 filters'])
    """

    layer: str
    tiles: np.ndarray
    rgb: bool
    n_filters: int
    input_channel: int | None = None
    labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _conv_names(model: Any) -> list[str]:
    return [n for n, m in named_layers(model) if is_conv(m, ranks=(2,))]


def filter_maps(model: Any, layer: Any = None, *, max_filters: int = 64,
                input_channel: int | None = None) -> FilterMaps:
    """The filters of a ``Conv2d`` (``layer=None``: the model's first one) as :class:`FilterMaps`.

    Weights are (out, in, kh, kw) (a Keras ``Conv2D`` kernel, (kh, kw, in, out), is read so). With ``in == 3`` and no ``input_channel``, each filter is an
    RGB tile (kh, kw, 3), scaled by its own largest absolute weight and centred so that a zero
    weight is 0.5 grey: ``0.5 + 0.5 * w / max|w|`` (symmetric around 0, in [0, 1]). Otherwise
    each filter is one grey tile (kh, kw): the mean over its input channels, or input channel
    ``input_channel``. A model without ``Conv2d`` raises :class:`NoConvError` listing the layers
    with weights; a layer that is not a ``Conv2d`` raises it listing the conv layers.

    Example:
        >>> import torch
        >>> conv = torch.nn.Conv2d(2, 1, 1, bias=False)
        >>> with torch.no_grad():
        ...     _ = conv.weight.copy_(torch.tensor([1.0, 3.0]).reshape(1, 2, 1, 1))
        >>> m = torch.nn.Sequential(conv)
        >>> filter_maps(m).tiles.tolist(), filter_maps(m, "0", input_channel=1).tiles.tolist()
        ([[[2.0]]], [[[3.0]]])
    """
    convs = _conv_names(model)
    if layer is None:
        if not convs:
            raise NoConvError(f"{type(model).__name__} has no convolutional layer; filter maps need nn.Conv2d "
                              f"(layers with weights: {parameterised_layers(model)[:20]})")
        layer = convs[0]
    module, name = resolve_layer(model, layer)
    if not is_conv(module, ranks=(2,)):
        raise NoConvError(f"layer {name!r} is a {type(module).__name__}, not a Conv2d; filter maps need nn.Conv2d "
                          f"(conv layers: {convs[:20] or 'none'})")
    if not isinstance(max_filters, int) or max_filters < 1:
        raise ValueError(f"max_filters must be a positive int, got {max_filters!r}")
    pname, weight = next((n, p) for n, p in own_parameters(module) if n in WEIGHT_NAMES)
    w = torch_layout(module, pname, weight.detach().float().cpu().numpy())
    n_out, n_in = w.shape[:2]
    shown = w[:max_filters]
    notes = [] if n_out <= max_filters else [f"showing the first {max_filters} of {n_out} filters"]
    if input_channel is not None:
        if not isinstance(input_channel, (int, np.integer)) or not 0 <= input_channel < n_in:
            raise ValueError(f"input_channel {input_channel!r} is out of range: layer {name!r} has {n_in} input "
                             f"channels (0 to {n_in - 1})")
        tiles, rgb = shown[:, int(input_channel)], False
    elif n_in == 3:
        scale = np.abs(shown).reshape(len(shown), -1).max(axis=1)
        scale[scale == 0] = 1.0
        tiles = 0.5 + 0.5 * shown / scale[:, None, None, None]
        tiles, rgb = np.transpose(tiles, (0, 2, 3, 1)), True
    else:
        tiles, rgb = shown.mean(axis=1), False
    return FilterMaps(layer=name, tiles=np.ascontiguousarray(tiles, dtype=np.float32), rgb=rgb, n_filters=n_out,
                      input_channel=None if input_channel is None else int(input_channel),
                      labels=[f"filter {i}" for i in range(len(shown))], notes=notes)
