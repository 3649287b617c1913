"""Model anatomy: the structure, activations, weights and gradients of a torch model.

Pure torch/numpy computation for the inspector widgets (no widget imports):

- :func:`model_graph` (graph.py): every module with its output shape, parameter counts and
  forward order, and the data-flow edges between leaf modules;
- :func:`capture_activations`, :func:`capture_gradients` (capture.py): layer outputs, and
  per-layer gradient norms of a loss;
- :func:`activation_maps`, :func:`channel_map` (activations.py): one layer's channel maps for
  one sample, downsampled to a wire budget;
- :func:`weight_summary`, :func:`filter_maps` (weights.py): weight statistics and conv filters;
- :func:`activation_curve`, :func:`layer_activation` (activation_fn.py): activation functions.

Every function that runs the model removes its hooks in ``finally`` and restores the model's
``training`` and ``requires_grad`` flags.

Example:
    >>> import torch
    >>> from nbexplain.anatomy import model_graph
    >>> model_graph(torch.nn.Sequential(torch.nn.Linear(2, 2)), torch.zeros(1, 2)).n_params
    6
"""

from nbexplain.anatomy._run import ModelInputError
from nbexplain.anatomy.activation_fn import (
    ActivationCurve,
    activation_curve,
    layer_activation,
    next_activation,
)
from nbexplain.anatomy.activations import (
    WIRE_BUDGET,
    ActivationMaps,
    activation_maps,
    auto_max_size,
    channel_map,
)
from nbexplain.anatomy.capture import (
    EXPLODING,
    VANISHING,
    GradientReport,
    capture_activations,
    capture_gradients,
    parameterised_layers,
    parameterised_leaves,
)
from nbexplain.anatomy.graph import LayerNode, ModelGraph, model_graph
from nbexplain.anatomy.weights import (
    FilterMaps,
    NoConvError,
    WeightMap,
    WeightStats,
    filter_maps,
    weight_map,
    weight_summary,
)

__all__ = [
    "EXPLODING",
    "VANISHING",
    "WIRE_BUDGET",
    "ActivationCurve",
    "ActivationMaps",
    "FilterMaps",
    "GradientReport",
    "LayerNode",
    "ModelGraph",
    "ModelInputError",
    "NoConvError",
    "WeightMap",
    "WeightStats",
    "activation_curve",
    "activation_maps",
    "auto_max_size",
    "capture_activations",
    "capture_gradients",
    "channel_map",
    "filter_maps",
    "layer_activation",
    "model_graph",
    "next_activation",
    "parameterised_layers",
    "parameterised_leaves",
    "weight_map",
    "weight_summary",
]
