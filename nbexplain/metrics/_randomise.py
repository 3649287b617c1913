"""Randomising a model copy layer by layer, for the sanity check (:mod:`nbexplain.metrics.sanity`).

- :func:`layers_top_down`: the layers (modules holding parameters of their own,
  :func:`nbexplain.anatomy.parameterised_layers`) in reverse forward-execution order, the output
  layer first. The order is the first-call order of one forward pass of the copy, from
  :func:`nbexplain.anatomy.model_graph` (``method="hooks"``: its hooks are removed in
  ``finally``); layers that never ran on the example are returned apart (randomising them changes
  nothing).
- :func:`default_init`: new values for a layer's own parameters from a ``torch.Generator`` of
  ours, never the global one. A parameter with two or more axes is drawn uniformly from
  ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` (torch's default for ``Linear`` and ``Conv``:
  Kaiming-uniform with ``a = sqrt(5)``, ``fan_in = size(1) * prod(size(2:))``), and so is every
  1-D parameter of a layer that has such a weight (torch's default bias). A layer with 1-D
  parameters only (``BatchNorm``'s and ``LayerNorm``'s scale and shift) gets them uniform on
  ``[-1, 1]``: their defaults (1 and 0) would not randomise anything. Buffers (running
  statistics) are kept.
- :func:`layer_generator`: the generator of layer ``i``, from ``(seed, i)``, so a layer gets the
  same random values in the cascading and the independent variant.

Example:
    >>> import torch
    >>> m = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    >>> [name for name, _ in layers_top_down(m, torch.zeros(1, 4))[0]]
    ['2', '0']
    >>> default_init(m[0], layer_generator(0, 0))
    >>> bool(m[0].weight.abs().max() <= 0.5)
    True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def layers_top_down(model: Any, example: Any) -> tuple[list[tuple[str, Any]], list[str]]:
    """``([(name, module), ...] output layer first, [names of layers that did not run])``.

    Example:
        >>> import torch
        >>> class Skip(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__(); self.b = torch.nn.Linear(2, 2); self.a = torch.nn.Linear(2, 2)
        ...         self.unused = torch.nn.Linear(2, 2)
        ...     def forward(self, x):
        ...         return self.b(self.a(x))       # registered b, a, but a runs first
        >>> order, unused = layers_top_down(Skip(), torch.zeros(1, 2))
        >>> [n for n, _ in order], unused
        (['b', 'a'], ['unused'])
    """
    from nbexplain.anatomy.capture import parameterised_layers
    from nbexplain.anatomy.graph import model_graph

    names = parameterised_layers(model)
    graph = model_graph(model, example, method="hooks")
    order = {node.name: node.order for node in graph.nodes}
    ran = sorted((n for n in names if order.get(n, -1) >= 0), key=lambda n: order[n], reverse=True)
    modules = dict(model.named_modules())
    return [(n, modules[n]) for n in ran], [n for n in names if order.get(n, -1) < 0]


def layer_generator(seed: int, index: int) -> Any:
    """A CPU ``torch.Generator`` seeded from ``(seed, index)`` (numpy's ``SeedSequence``).

    Example:
        >>> import torch
        >>> a = torch.rand(2, generator=layer_generator(0, 3)); b = torch.rand(2, generator=layer_generator(0, 3))
        >>> bool((a == b).all())
        True
    """
    import torch

    state = np.random.SeedSequence([int(seed), int(index)]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _fan_in(p: Any) -> int:
    return int(p.shape[1]) * int(np.prod(p.shape[2:])) if p.ndim >= 2 else int(p.numel())


def default_init(module: Any, generator: Any) -> None:
    """Re-draw ``module``'s own parameters in place (see the module docstring for the rule).

    Example:
        >>> import torch
        >>> bn = torch.nn.BatchNorm1d(3)
        >>> default_init(bn, layer_generator(1, 0))
        >>> bool((bn.weight != 1).all()), bool(bn.running_var.eq(1).all())
        (True, True)
    """
    import torch

    params = [p for p in module.parameters(recurse=False) if torch.is_floating_point(p)]
    weights = [p for p in params if p.ndim >= 2]
    shared_bound = 1.0 / math.sqrt(max(1, _fan_in(weights[0]))) if weights else 1.0
    with torch.no_grad():
        for p in params:
            bound = 1.0 / math.sqrt(max(1, _fan_in(p))) if p.ndim >= 2 else shared_bound
            u = torch.rand(p.shape, generator=generator, dtype=torch.float64)
            p.copy_(((2 * u - 1) * bound).to(device=p.device, dtype=p.dtype))


def snapshot(module: Any) -> list[tuple[Any, Any]]:
    """``(tensor, a copy of its values)`` for a layer's own parameters and buffers (to put back later)."""
    own = [*module.parameters(recurse=False), *(b for b in module.buffers(recurse=False) if b is not None)]
    return [(t, t.detach().clone()) for t in own]


def restore(saved: list[tuple[Any, Any]]) -> None:
    """Put the values of :func:`snapshot` back."""
    import torch

    with torch.no_grad():
        for p, values in saved:
            p.copy_(values)
