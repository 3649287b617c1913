"""The inputs of :func:`nbexplain.metrics.sanity.sanity_check`, checked: methods, layers, inputs, targets, maps.

- :func:`named_methods`: registry names, factories ``model -> explainer``, a list or a dict of
  them, as ``(name, factory)`` pairs (a built explainer is refused: it explains the user's model);
- :func:`select_layers`: the layers to randomise (all, the top ``N``, or names);
- :func:`inputs_for`, :func:`resolve_targets`: fresh copies of the inputs for every call, and the
  trained model's targets, kept for every step;
- :func:`maps_of`: an explanation's magnitude maps (:func:`nbexplain.metrics._similarity.as_maps`).

Example:
    >>> [name for name, _ in named_methods(["saliency", "integrated_gradients"], None)]
    ['saliency', 'integrated_gradients']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nbexplain.metrics._similarity import as_maps
from nbexplain.validate import check_int


class SanityCheckError(ValueError):
    """A model, method, measure or option the sanity check cannot use; the message says what to do."""


def named_methods(methods: Any, data: Any) -> list[tuple[str | None, Callable[[Any], Any]]]:
    """``[(name or None, factory(model) -> explainer)]`` from names, factories, a dict or a list of them."""
    from nbexplain.explainers.registry import available_explainers, get_explainer, uses_data

    if isinstance(methods, dict):
        items: list[tuple[str | None, Any]] = [(str(k), v) for k, v in methods.items()]
    elif isinstance(methods, (str,)) or callable(methods) or hasattr(methods, "explain"):
        items = [(None, methods)]
    elif isinstance(methods, Sequence):
        items = [(None, m) for m in methods]
    else:
        raise SanityCheckError(f"methods must be a registry name, a factory model -> explainer, or a list or dict of "
                               f"them; got {type(methods).__name__}")
    if not items:
        raise SanityCheckError("methods is empty; pass at least one, e.g. ['saliency', 'integrated_gradients']")
    out: list[tuple[str | None, Callable[[Any], Any]]] = []
    for name, spec in items:
        if isinstance(spec, str):
            if spec not in available_explainers():
                import difflib

                close = difflib.get_close_matches(spec, available_explainers(), n=2)
                hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                raise SanityCheckError(f"unknown method {spec!r}; known names: {', '.join(available_explainers())}."
                                       f"{hint} Or pass a factory, e.g. lambda model: Saliency(model)")
            reg = spec
            out.append((name or spec, lambda m, reg=reg: get_explainer(reg, m, data=data if uses_data(reg) else None)))
        elif hasattr(spec, "explain"):
            raise SanityCheckError(
                f"got a built explainer ({type(spec).__name__}); it explains the model it was built on, not the "
                f"randomised copies. Pass a factory instead, e.g. lambda model: {type(spec).__name__}(model), or a "
                "registry name such as 'saliency'")
        elif callable(spec):
            out.append((name, spec))
        else:
            raise SanityCheckError(f"a method must be a registry name or a factory model -> explainer, got "
                                   f"{type(spec).__name__}")
    return out


def select_layers(order: list[tuple[str, Any]], layers: Any) -> list[tuple[str, Any]]:
    """The layers of ``order`` (output first) to randomise: all (None), the top ``N`` (an int), or names.

    Example:
        >>> [n for n, _ in select_layers([("fc", None), ("conv", None)], 1)]
        ['fc']
    """
    if layers is None:
        return order
    if isinstance(layers, (int, np.integer)) and not isinstance(layers, bool):
        check_int(layers, "layers", min=1)
        return order[: int(layers)]
    names = [layers] if isinstance(layers, str) else list(layers)
    known = [n for n, _ in order]
    bad = [n for n in names if n not in known]
    if bad:
        raise SanityCheckError(f"layer(s) {bad} are not layers with parameters that run on these inputs; choose from "
                               f"{known[:20]}{' ...' if len(known) > 20 else ''} (output layer first)")
    return [(n, m) for n, m in order if n in set(names)]


def inputs_for(inputs: Any) -> tuple[Any, Callable[[], Any]]:
    """The example for the layer order (a tensor) and a maker of fresh copies of the inputs for each explain."""
    import torch

    if isinstance(inputs, torch.Tensor):
        x = inputs.detach().clone()
        return x[:1], x.clone
    arr = np.array(inputs, copy=True)
    if arr.dtype == object or arr.ndim < 2 or len(arr) == 0:
        raise SanityCheckError(f"inputs must be a batch (n, ...) of numbers, got {type(inputs).__name__} of shape "
                               f"{arr.shape}")
    return torch.from_numpy(arr[:1].copy()), arr.copy


def resolve_targets(work: Any, x: Any, target: Any) -> np.ndarray:
    """One output index per sample: ``target``, or the trained copy's prediction (kept for every step)."""
    from nbexplain.explainers.gradients._engine import as_model_tensor, frozen
    from nbexplain.explainers.gradients._engine import resolve_targets as predicted

    if callable(target) and not isinstance(target, np.ndarray):
        raise SanityCheckError("a callable target is not supported by the sanity check; pass output indices or None")
    n = len(x)
    if isinstance(target, np.ndarray):
        return target
    with frozen(work):
        t = predicted(work, as_model_tensor(x, work), target)
    return np.asarray(t, dtype=np.int64) if np.ndim(t) else np.full(n, int(t), dtype=np.int64)


def maps_of(e: Any, label: str, n: int) -> np.ndarray:
    """The magnitude maps ``(n, H, W)`` of an explanation (see :func:`nbexplain.metrics._similarity.as_maps`)."""
    from nbexplain.explanation import Explanation

    if isinstance(e, tuple):
        raise SanityCheckError(f"{label} returned one explanation per input; the sanity check takes one input tensor")
    if not isinstance(e, Explanation):
        raise SanityCheckError(f"{label}: explain returned {type(e).__name__}; an explainer must return an Explanation")
    if e.has_output_axis:
        raise SanityCheckError(f"{label} gave one map per output; pass target= so that each sample has one map")
    values = np.asarray(e._values, dtype=np.float64)
    if len(values) != n or not np.isfinite(values).all():
        raise SanityCheckError(f"{label} returned {len(values)} maps for {n} inputs, or non-finite values")
    return as_maps(values, e.layout)
