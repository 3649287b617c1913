"""Capturing what happens inside a model: layer activations, and gradients of a loss.

- :func:`capture_activations` runs one forward pass (no gradients, eval mode) and returns the
  output of several layers at once, detached and on the CPU;
- :func:`capture_gradients` runs one forward and one backward pass of a loss and reports, for
  every parameterised layer, the norm of its weight gradient, of all its parameter
  gradients, and of the gradient with respect to its output (:class:`GradientReport`).

Both remove their hooks in ``finally`` (also when the model raises) and leave the model as it
was: ``training`` flags, ``requires_grad`` flags and ``.grad`` fields (gradients are taken with
``torch.autograd.grad``, which never writes ``.grad``).

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    >>> acts = capture_activations(model, torch.ones(1, 2), ["0", "2"])
    >>> {k: tuple(v.shape) for k, v in acts.items()}
    {'0': (1, 3), '2': (1, 2)}
    >>> report = capture_gradients(model, torch.ones(4, 2), [0, 1, 0, 1])
    >>> report.layers, report.norms.shape
    (['0', '2'], (2,))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.anatomy._run import (
    as_model_input,
    call_model,
    first_tensor,
    remove_all,
)
from nbexplain.explainers.gradients.layers import resolve_layer
from nbexplain.keras_models import WEIGHT_NAMES, is_leaf, named_layers, own_parameters
from nbexplain.models import eval_mode

__all__ = ["EXPLODING", "VANISHING", "GradientReport", "capture_activations", "capture_gradients",
           "parameterised_layers", "parameterised_leaves"]

#: A gradient norm below this is flagged as vanishing (:meth:`GradientReport.flags`).
VANISHING = 1e-7
#: A gradient norm above this is flagged as exploding.
EXPLODING = 1e3
#: Gradient values kept per layer in :attr:`GradientReport.param_grads` (a seeded sample beyond).
MAX_VALUES = 100_000
LOSSES = ("cross_entropy", "mse")


def parameterised_layers(model: Any) -> list[str]:
    """Names of the modules holding parameters of their own, in registration order.

    These are the parameterised leaf modules plus the few containers that hold parameters
    directly (``nn.MultiheadAttention``'s ``in_proj_weight``), so together they cover every
    parameter of the model. The model itself is included (as ``""``) only when it holds
    parameters directly.

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.MultiheadAttention(4, 2), torch.nn.Linear(4, 4))
        >>> parameterised_layers(m), parameterised_leaves(m)
        (['0', '0.out_proj', '1'], ['0.out_proj', '1'])
    """
    return [n for n, m in named_layers(model) if own_parameters(m)]


def parameterised_leaves(model: Any) -> list[str]:
    """Names of the leaf modules (no children) with parameters of their own, in registration order.

    Example:
        >>> import torch
        >>> parameterised_leaves(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()))
        ['0']
    """
    return [n for n, m in named_layers(model) if n and is_leaf(m) and own_parameters(m)]


def _layer_list(model: Any, layers: Any) -> list[tuple[str, Any]]:
    if isinstance(layers, (str,)) or not isinstance(layers, (list, tuple)):
        layers = [layers]
    out: dict[str, Any] = {}
    for layer in layers:
        module, name = resolve_layer(model, layer)
        out.setdefault(name, module)
    return list(out.items())


def capture_activations(model: Any, x: Any, layers: Any) -> dict[str, Any]:
    """The outputs of ``layers`` (names or modules; one or a list) for input ``x``, in one pass.

    Returns ``{name: tensor}`` in the order given; each tensor is detached, on the CPU, and a copy
    (in-place ops later in the model do not change it). A layer that runs several times gives the
    output of its first call; a layer returning a tuple gives its first tensor. Runs under
    ``torch.no_grad()`` in eval mode. Unknown names raise
    :class:`~nbexplain.explainers.gradients.layers.UnknownLayerError` listing close names; a layer that does
    not run raises ``ValueError``.

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(inplace=True))
        >>> with torch.no_grad():
        ...     _ = m[0].weight.fill_(-1.0)
        >>> capture_activations(m, torch.ones(1, 2), "0")["0"].min().item() < 0
        True
    """
    import torch

    chosen = _layer_list(model, layers)
    xt = as_model_input(model, x)
    got: dict[str, Any] = {}

    def hook(name: str) -> Any:
        def fn(_m: Any, _args: Any, out: Any) -> None:
            t = first_tensor(out)
            if name not in got and t is not None:
                got[name] = t.detach().to("cpu", copy=True)
        return fn

    handles = []
    try:
        for name, module in chosen:
            handles.append(module.register_forward_hook(hook(name)))
        with torch.no_grad(), eval_mode(model):
            call_model(model, xt)
    finally:
        remove_all(handles)
    missing = [n for n, _ in chosen if n not in got]
    if missing:
        raise ValueError(f"layer(s) {missing} did not return a tensor in the forward pass (never called, or "
                         "no tensor output); pick layers that run, e.g. from model_graph(model, x).leaves()")
    return {n: got[n] for n, _ in chosen}


@dataclass
class GradientReport:
    """Gradients of one loss, per layer (in forward order), from :func:`capture_gradients`.

    ``norms`` is the L2 norm of each layer's weight gradient (``weight_grad_norms``; a layer
    without a ``weight`` uses all its parameters); ``grad_norms`` covers all the layer's own
    parameters; ``activation_grad_norms`` is the norm of d loss / d layer output (NaN where no
    hook caught it); ``param_grads`` maps each layer to its parameter gradients flattened
    (weight first), a seeded sample of at most ``MAX_VALUES`` when larger (``n_values`` holds the
    full count). ``loss`` is the loss value, ``targets`` the labels used.

    Example:
        >>> import torch
        >>> _ = torch.manual_seed(0)
        >>> r = capture_gradients(torch.nn.Linear(3, 2), torch.ones(2, 3), [0, 1])
        >>> r.histogram("", bins=4)[0].sum(), r.flags(), r.n_values
        (np.int64(8), [''], {'': 8})
        >>> r.stats("")["type"], r.stats("")["weight_grad_norm"] == float(r.norms[0])
        ('Linear', True)
    """

    layers: list[str]
    types: list[str]
    norms: np.ndarray
    grad_norms: np.ndarray
    activation_grad_norms: np.ndarray
    param_grads: dict[str, np.ndarray]
    n_values: dict[str, int] = field(default_factory=dict)
    loss: float = float("nan")
    targets: np.ndarray | None = None

    @property
    def weight_grad_norms(self) -> np.ndarray:
        """Same as ``norms``."""
        return self.norms

    def histogram(self, layer: str, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` of the layer's parameter gradient values (``np.histogram``)."""
        if layer not in self.param_grads:
            raise ValueError(f"no gradients for layer {layer!r}; layers with gradients: {self.layers}")
        return np.histogram(self.param_grads[layer], bins=bins)

    def stats(self, layer: str) -> dict[str, Any]:
        """One layer's row: ``{"layer", "type", "weight_grad_norm", "grad_norm",
        "activation_grad_norm", "n_values"}`` (plain Python numbers)."""
        if layer not in self.layers:
            raise ValueError(f"no gradients for layer {layer!r}; layers with gradients: {self.layers}")
        i = self.layers.index(layer)
        return {"layer": layer, "type": self.types[i], "weight_grad_norm": float(self.norms[i]),
                "grad_norm": float(self.grad_norms[i]), "activation_grad_norm": float(self.activation_grad_norms[i]),
                "n_values": self.n_values.get(layer, 0)}

    def flags(self, vanishing: float = VANISHING, exploding: float = EXPLODING) -> list[str]:
        """Per layer ``"vanishing"`` (norm < ``vanishing``), ``"exploding"`` (> ``exploding``) or ``""``."""
        return ["vanishing" if v < vanishing else "exploding" if v > exploding else "" for v in self.norms]


def _loss_value(loss: Any, out: Any, y: Any, model: Any = None) -> Any:
    import torch
    from torch.nn import functional as F

    from nbexplain.output_kind import remembered_kind, to_probabilities_torch

    if callable(loss):
        value = loss(out, y)
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            raise ValueError("a loss callable must return a scalar tensor (e.g. F.cross_entropy(out, y)), got "
                             f"{type(value).__name__} {tuple(getattr(value, 'shape', ()))}")
        return value.reshape(())
    if loss == "cross_entropy":
        logits = out.reshape(out.shape[0], -1)
        soft = torch.is_floating_point(y) and tuple(y.shape) == tuple(logits.shape)  # class probabilities
        if model is not None and remembered_kind(model, logits.detach().float().cpu().numpy()) == "probabilities":
            # the model ends in softmax (as Keras classifiers do): the loss is -log of its output
            logp = torch.log(to_probabilities_torch(logits, "probabilities").clamp_min(1e-12))
            return -(y.to(logp.dtype) * logp).sum(1).mean() if soft else F.nll_loss(logp, y.long())
        return F.cross_entropy(logits, y.to(logits.dtype) if soft else y.long())
    if loss == "mse":
        return F.mse_loss(out, y.to(out.dtype).reshape(out.shape))
    raise ValueError(f"loss must be one of {LOSSES} or a callable (output, y) -> scalar, got {loss!r}")


def _targets(out: Any, y: Any, n: int) -> Any:
    import torch

    if y is None:
        if out.ndim < 2:
            raise ValueError("y=None takes the predicted class, which needs an (n, classes) output; pass y")
        return out.detach().reshape(n, -1).argmax(1)
    t = y.detach() if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    if t.ndim == 0:
        t = t.expand(n)
    return t.to(out.device)


def _sample(values: np.ndarray, max_values: int, seed: int) -> np.ndarray:
    if values.size <= max_values:
        return values
    idx = np.sort(np.random.default_rng(seed).choice(values.size, max_values, replace=False))
    return values[idx]


def capture_gradients(model: Any, x: Any, y: Any = None, *, loss: str | Callable[..., Any] = "cross_entropy",
                      layers: Any = None, max_values: int = MAX_VALUES, seed: int = 0) -> GradientReport:
    """One forward + backward pass of ``loss`` on ``(x, y)``: a :class:`GradientReport`.

    ``y=None`` uses the predicted class; ``loss`` is ``"cross_entropy"`` (mean over the batch;
    ``y`` class indices, or class probabilities shaped like the output; a model that returns
    probabilities, by :mod:`nbexplain.output_kind`'s rule, gets ``-log p`` instead of a second softmax),
    ``"mse"`` or a callable ``(output, y) -> scalar tensor``. ``layers`` defaults to every module
    with parameters of its own (:func:`parameterised_layers`: the parameterised leaf layers, plus
    containers such as ``MultiheadAttention`` that hold parameters directly). The model runs in eval mode (BatchNorm uses its running statistics,
    dropout is off); its parameters get ``requires_grad=True`` for the pass and their flags back
    after; gradients come from ``torch.autograd.grad``, so no ``.grad`` field changes.

    Example:
        >>> import torch
        >>> m = torch.nn.Linear(2, 2)
        >>> r = capture_gradients(m, torch.zeros(3, 2), 0, loss="cross_entropy")
        >>> r.layers, bool(r.norms[0] == 0.0)  # zero input: the weight gradient is zero
        ([''], True)
    """
    import torch

    if layers is None:
        names = parameterised_layers(model)
        if not names:
            raise ValueError(f"{type(model).__name__} has no parameters, so there are no gradients to report")
        modules = dict(named_layers(model))
        chosen = [(n, modules[n]) for n in names]
    else:
        chosen = _layer_list(model, layers)
    if not callable(loss) and loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES} or a callable (output, y) -> scalar, got {loss!r}")
    xt = as_model_input(model, x)
    params = {n: [(pn, p) for pn, p in own_parameters(m, trainable_only=True) if torch.is_floating_point(p)]
              for n, m in chosen}
    flat = [p for ps in params.values() for _, p in ps]
    flags = [p.requires_grad for p in flat]
    acts: dict[str, list[Any]] = {}
    order: list[str] = []

    def hook(name: str) -> Any:
        def fn(_m: Any, _args: Any, out: Any) -> Any:
            if name not in order:
                order.append(name)
            if isinstance(out, torch.Tensor) and out.requires_grad:
                acts.setdefault(name, []).append(out)
                return out.clone()  # later in-place ops must not change the captured output
            return None
        return fn

    handles = []
    try:
        for p in flat:
            p.requires_grad_(True)
        for name, module in chosen:
            handles.append(module.register_forward_hook(hook(name)))
        with torch.enable_grad(), eval_mode(model):
            out = first_tensor(call_model(model, xt))
            if out is None:
                raise ValueError(f"{type(model).__name__} returned no tensor; gradients need a tensor output")
            targets = _targets(out, y, out.shape[0] if out.ndim else 1)
            value = _loss_value(loss, out, targets, model)
            act_list = [a for n in order for a in acts.get(n, [])]
            grads = torch.autograd.grad(value, flat + act_list, allow_unused=True)
    finally:
        remove_all(handles)
        for p, flag in zip(flat, flags, strict=True):
            p.requires_grad_(flag)
    pgrads = dict(zip(map(id, flat), grads[:len(flat)], strict=True))
    agrads = iter(grads[len(flat):])
    act_norm = {n: float(np.sqrt(sum(float(g.double().pow(2).sum()) if g is not None else 0.0
                                      for g in [next(agrads) for _ in acts.get(n, [])])))
                for n in order}
    ordered = order + [n for n, _ in chosen if n not in order]
    modules = dict(chosen)
    wn, gn, an, values, counts = [], [], [], {}, {}
    for n in ordered:
        ps = sorted(params[n], key=lambda item: item[0] not in WEIGHT_NAMES)
        gs = [(pn, pgrads[id(p)] if pgrads[id(p)] is not None else torch.zeros_like(p)) for pn, p in ps]
        flat_g = (np.concatenate([g.detach().double().cpu().numpy().ravel() for _, g in gs])
                  if gs else np.zeros(0))
        weight = [g for pn, g in gs if pn in WEIGHT_NAMES]
        gn.append(float(np.sqrt(np.sum(flat_g**2))))
        wn.append(float(weight[0].double().norm()) if weight else gn[-1])
        an.append(act_norm.get(n, float("nan")) if acts.get(n) else float("nan"))
        counts[n] = int(flat_g.size)
        values[n] = _sample(flat_g, max_values, seed).astype(np.float32)
    return GradientReport(
        layers=ordered, types=[type(modules[n]).__name__ for n in ordered], norms=np.array(wn),
        grad_norms=np.array(gn), activation_grad_norms=np.array(an), param_grads=values, n_values=counts,
        loss=float(value.detach()), targets=targets.detach().cpu().numpy())
