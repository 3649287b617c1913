"""The structure of a model: every module, its output shape, parameters, and the data flow.

:func:`model_graph` runs the model once (``torch.no_grad()``, eval mode, the ``training`` flags
restored after) with a pre-forward and a forward hook on every module, which give each module's
first-call order, number of calls and output shape; the hooks are removed in ``finally``. The
edges (data flow between leaf modules) come from torch.fx when the model traces
(``method="fx"``): fx records every functional op between modules, so ``out += identity`` in a
residual block gives an edge from both branches to the next module. A model fx cannot trace
(Python control flow on tensor values, ``if x.sum() > 0:``) falls back to ``method="hooks"``:
edges then come from tensor identity (the output object of one module is the input object of
the next), so a functional op between modules is skipped over (its input's producer is taken to
be the leaf module that ran just before) and in-place ops merge edges; ``notes`` says so.
When fx can trace the model only with torch.nn's own composite modules (``TransformerEncoder``)
kept whole, the edges to and from them come from fx and the edges inside them from hooks.
A node of the data flow is a leaf module, or a module in which no other module ran
(``MultiheadAttention`` uses its ``out_proj`` weight without calling it).
A Keras 3 model (torch backend) is drawn by its Keras layers and their Keras names
(:func:`nbexplain.keras_models.named_layers`); fx does not trace Keras, so its edges come from
hooks (Keras runs every step of a ``Sequential`` or functional model as a layer, so tensor
identity finds them; a ``keras.ops`` call between layers is skipped over).

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    >>> g = model_graph(model, torch.zeros(1, 4))
    >>> g.method, [n.name for n in g.nodes], g.node("2").output_shape
    ('fx', ['', '0', '1', '2'], [1, 2])
    >>> g.edges
    [('input', '0'), ('0', '1'), ('1', '2'), ('2', 'output')]
    >>> g.n_params, g.to_wire()["nodes"][1]["type"]
    (23, 'Linear')
"""

from __future__ import annotations

import dataclasses
import difflib
import weakref
from dataclasses import dataclass, field
from typing import Any

from nbexplain.anatomy._run import (
    as_model_input,
    call_model,
    input_shape,
    remove_all,
    tensors_in,
)
from nbexplain.explainers.gradients.layers import UnknownLayerError
from nbexplain.keras_models import all_parameters, is_keras, is_leaf, named_layers, own_parameters
from nbexplain.models import eval_mode

__all__ = ["LayerNode", "ModelGraph", "model_graph"]

METHODS = ("auto", "fx", "hooks")


@dataclass
class LayerNode:
    """One module of the model.

    ``name`` is its dotted path (``""`` for the model itself), ``type`` its class name,
    ``parent`` the dotted path of the module holding it (None for the root), ``depth`` 0 for the
    root, ``is_leaf`` True when it has no child modules. ``output_shape`` is the shape of the
    (first) tensor it returned on its first call, batch axis included (``output_shapes``: every
    tensor it returned then), None when it never ran. ``n_params`` counts its own parameters,
    ``n_params_total`` those of its children too. ``order`` is its position in the forward pass
    (first-call order, 0 = the root; -1 if it never ran), ``calls`` how many times it ran.

    Example:
        >>> import torch
        >>> relu = torch.nn.ReLU()
        >>> g = model_graph(torch.nn.Sequential(relu, relu), torch.zeros(1, 2))
        >>> n = g.node("0")
        >>> n.type, n.parent, n.depth, n.is_leaf, n.calls, n.output_shape
        ('ReLU', '', 1, True, 2, [1, 2])
    """

    name: str
    type: str
    parent: str | None
    depth: int
    is_leaf: bool
    output_shape: list[int] | None
    n_params: int
    n_params_total: int
    order: int
    calls: int
    output_shapes: list[list[int]] = field(default_factory=list)


@dataclass
class ModelGraph:
    """Every module of a model (root first, then in first-call order, never-called ones last) and
    the data flow between leaf modules and the pseudo-nodes ``"input"`` / ``"output"``.

    ``method`` is ``"fx"`` or ``"hooks"`` (how the edges were found), ``notes`` why fx fell back
    and other caveats, ``n_params`` the model's parameter count, ``input_shape`` the shape of the
    example input.

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(2, 2)), torch.nn.Tanh())
        >>> g = model_graph(m, torch.zeros(1, 2))
        >>> [n.name for n in g.children("")], [n.name for n in g.leaves()], g.node("0").n_params_total
        (['0', '1'], ['0.0', '1'], 6)
    """

    nodes: list[LayerNode]
    edges: list[tuple[str, str]]
    method: str
    notes: list[str] = field(default_factory=list)
    n_params: int = 0
    input_shape: Any = None

    def node(self, name: str) -> LayerNode:
        """The node named ``name``; :class:`UnknownLayerError` lists close names otherwise."""
        for n in self.nodes:
            if n.name == name:
                return n
        names = [n.name for n in self.nodes if n.name]
        close = difflib.get_close_matches(str(name), names, n=6, cutoff=0.5)
        raise UnknownLayerError(f"the model has no layer named {name!r}; closest names: {close or names[:12]}")

    def leaves(self) -> list[LayerNode]:
        """The leaf modules (no child modules), in data-flow order."""
        return [n for n in self.nodes if n.is_leaf and n.name]

    def children(self, name: str) -> list[LayerNode]:
        """The direct children of module ``name`` (``""`` = the root), in data-flow order."""
        self.node(name)
        return [n for n in self.nodes if n.parent == name]

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict: ``{"nodes": [dict, ...], "edges": [[a, b], ...], "method": str,
        "notes": [str], "n_params": int}``."""
        return {"nodes": [dataclasses.asdict(n) for n in self.nodes],
                "edges": [[a, b] for a, b in self.edges], "method": self.method,
                "notes": list(self.notes), "n_params": int(self.n_params)}


def model_graph(model: Any, example_input: Any, *, method: str = "auto") -> ModelGraph:
    """The :class:`ModelGraph` of ``model`` for one forward pass on ``example_input``.

    ``method="auto"`` takes the edges from torch.fx and falls back to hooks when tracing fails
    (the reason goes into ``notes``); ``"fx"`` raises when tracing fails; ``"hooks"`` skips fx.
    Either way the model runs once, under ``torch.no_grad()`` in eval mode. An input the model
    rejects raises :class:`~nbexplain.anatomy._run.ModelInputError` (a ``ValueError``) quoting
    the model's error and the shape given.

    Example:
        >>> import torch
        >>> g = model_graph(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)), torch.zeros(1, 3, 8, 8))
        >>> g.leaves()[0].output_shape, g.leaves()[0].n_params
        ([1, 4, 6, 6], 112)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    x = as_model_input(model, example_input)
    notes: list[str] = []
    edges: list[tuple[str, str]] | None = None
    coarse: list[str] = []
    if is_keras(model):
        if method == "fx":
            raise ValueError(f"torch.fx cannot trace the Keras model {type(model).__name__}; use method='hooks' "
                             "(or 'auto')")
        method = "hooks"
        notes.append("a Keras model: its layers are the nodes, and the edges come from forward hooks")
    if method in ("auto", "fx"):
        try:
            edges, coarse, fx_notes = _fx_edges(model)  # symbolic: no run on data here
            notes += fx_notes
        except Exception as err:
            if method == "fx":
                raise ValueError(f"torch.fx cannot trace {type(model).__name__}: {type(err).__name__}: "
                                 f"{str(err).strip()[:300]}; use method='hooks' (or 'auto')") from err
            notes.append(f"torch.fx could not trace the model ({type(err).__name__}: "
                         f"{str(err).strip().splitlines()[0][:200] if str(err).strip() else ''}); "
                         "edges come from forward hooks")
    used = "hooks" if edges is None else "fx"
    run = _hook_pass(model, x, want_edges=edges is None or bool(coarse))
    if edges is not None and coarse:  # inside modules fx kept whole: the hook edges
        edges += [e for e in run.edges
                  if any(e[0].startswith(c + ".") and e[1].startswith(c + ".") for c in coarse)]
    if edges is None:
        edges = run.edges
        notes.append("hook edges follow tensor identity: a functional op between modules is skipped "
                     "over and in-place ops may merge edges")
    nodes = _nodes(model, run)
    return ModelGraph(nodes=nodes, edges=edges, method=used, notes=notes,
                      n_params=nodes[0].n_params_total, input_shape=input_shape(x))


# -- the hook pass --------------------------------------------------------------------------------
@dataclass
class _HookRun:
    order: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    shapes: dict[str, list[list[int]]] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)


def _hook_pass(model: Any, x: Any, *, want_edges: bool) -> _HookRun:
    """One forward pass with hooks on every module; hooks removed in ``finally``.

    With ``want_edges``, a call of a module in which no other module ran (a leaf, or e.g. a
    ``MultiheadAttention`` that uses its ``out_proj`` weight without calling it) is a node of the
    data flow: an edge comes from the producer of each of its input tensors (by identity).
    """
    import torch

    run = _HookRun()
    producer: dict[int, tuple[Any, str]] = {}  # id(tensor) -> (weakref to it, producing module)
    edge_set: dict[tuple[str, str], None] = {}
    last = ["input"]  # the module whose call ended last: the producer of unknown tensors
    stack: list[list[Any]] = []  # [name, input sources, ran another module inside]

    def source(t: Any) -> str:
        entry = producer.get(id(t))
        if entry is not None and entry[0]() is t:
            return entry[1]
        return last[0]

    def pre(name: str) -> Any:
        def hook(_m: Any, args: Any) -> None:
            if name == "" and not stack:  # the model's own call: its arguments are the copies it runs on
                for t in tensors_in(args):
                    producer[id(t)] = (weakref.ref(t), "input")
            run.order.setdefault(name, len(run.order))
            run.calls[name] = run.calls.get(name, 0) + 1
            if stack:
                stack[-1][2] = True
            stack.append([name, [source(t) for t in tensors_in(args)] if want_edges else [], False])
        return hook

    def post(name: str) -> Any:
        def hook(_m: Any, _args: Any, out: Any) -> None:
            tensors = tensors_in(out)
            if name not in run.shapes:
                run.shapes[name] = [list(t.shape) for t in tensors]
            frame = stack.pop() if stack else [name, [], True]
            if want_edges and name and not frame[2]:
                for src in frame[1]:
                    edge_set.setdefault((src, name), None)
                for t in tensors:
                    producer[id(t)] = (weakref.ref(t), name)
                last[0] = name
        return hook

    handles: list[Any] = []
    for t in tensors_in(x):
        producer[id(t)] = (weakref.ref(t), "input")
    try:
        for name, module in named_layers(model):
            handles.append(module.register_forward_pre_hook(pre(name)))
            handles.append(module.register_forward_hook(post(name)))
        with torch.no_grad(), eval_mode(model):
            out = call_model(model, x)
    finally:
        remove_all(handles)
    if want_edges:
        for t in tensors_in(out):
            edge_set.setdefault((source(t), "output"), None)
        run.edges = [e for e in edge_set if e[0] != e[1]]
    return run


# -- fx edges -------------------------------------------------------------------------------------
def _fx_edges(model: Any) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """``(edges, modules kept whole, notes)``: tracing into every module with children first;
    when that fails, with torch.nn's own modules (``TransformerEncoder``) as single nodes."""
    try:
        return _trace_edges(model, fine=True)[0], [], []
    except Exception as err:
        first = err
    try:
        edges, coarse = _trace_edges(model, fine=False)
    except Exception:
        raise first from None
    why = str(first).strip().splitlines()[0][:160] if str(first).strip() else type(first).__name__
    return edges, coarse, [f"torch.fx traced the torch.nn modules {coarse[:8]} as single nodes (tracing "
                           f"into them failed: {why}); edges inside them come from forward hooks (tensor "
                           "identity: functional ops such as residual additions are skipped over)"]


def _has_children(m: Any) -> bool:
    return next(iter(m.children()), None) is not None


def _trace_edges(model: Any, *, fine: bool) -> tuple[list[tuple[str, str]], list[str]]:
    """Edges between the modules fx calls, through any functional ops between them, and the
    called modules that have children (traced as one node)."""
    from torch import fx

    class _Tracer(fx.Tracer):
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            if not _has_children(m):
                return True
            return not fine and super().is_leaf_module(m, qualname)

    graph = _Tracer().trace(model)
    modules = dict(model.named_modules())
    sources: dict[Any, dict[str, None]] = {}
    edges: dict[tuple[str, str], None] = {}
    for node in graph.nodes:
        srcs: dict[str, None] = {}
        for inp in node.all_input_nodes:
            srcs.update(sources.get(inp, {}))
        if node.op == "placeholder":
            sources[node] = {"input": None}
        elif node.op == "get_attr":
            sources[node] = {}
        elif node.op == "call_module":
            for s in srcs:
                edges.setdefault((s, str(node.target)), None)
            sources[node] = {str(node.target): None}
        elif node.op == "output":
            for s in srcs:
                edges.setdefault((s, "output"), None)
        else:
            sources[node] = srcs
    composite = [str(n.target) for n in graph.nodes if n.op == "call_module"
                 and str(n.target) in modules and _has_children(modules[str(n.target)])]
    return list(edges), list(dict.fromkeys(composite))


# -- nodes ----------------------------------------------------------------------------------------
def _nodes(model: Any, run: _HookRun) -> list[LayerNode]:
    nodes = []
    for name, module in named_layers(model):
        shapes = run.shapes.get(name)
        parent = None if name == "" else (name.rsplit(".", 1)[0] if "." in name else "")
        nodes.append(LayerNode(
            name=name, type=type(module).__name__, parent=parent,
            depth=0 if name == "" else name.count(".") + 1,
            is_leaf=is_leaf(module),
            output_shape=(shapes[0] if shapes else None) if shapes is not None else None,
            n_params=sum(p.numel() for _n, p in own_parameters(module)),
            n_params_total=sum(p.numel() for p in all_parameters(module)),
            order=run.order.get(name, -1), calls=run.calls.get(name, 0),
            output_shapes=shapes or []))
    called = sorted((n for n in nodes if n.order >= 0), key=lambda n: n.order)
    return called + [n for n in nodes if n.order < 0]
