"""ModelGraphView: a network's modules in data-flow order, containers that expand, skip edges as arcs.

The graph is :func:`nbexplain.anatomy.model_graph`'s ``ModelGraph.to_wire()`` (or the
``ModelGraph`` itself): every module with its type, output shape and parameter count, and the
data-flow edges between leaf modules. The view draws one box per visible module, top to bottom;
a container (a module with child modules) is one box with a toggle showing its total parameters
and the number of layers inside; edges between boxes that are not consecutive (residual
connections) are arcs in a gutter on the left. Clicking a box sets ``selected`` and sends
``{"event": "select", "name": name}``.

Example:
    >>> g = {"nodes": [
    ...     {"name": "", "type": "Net", "parent": None, "depth": 0, "is_leaf": False,
    ...      "output_shape": [1, 2], "n_params": 0, "n_params_total": 6, "order": 0, "calls": 1},
    ...     {"name": "fc", "type": "Linear", "parent": "", "depth": 1, "is_leaf": True,
    ...      "output_shape": [1, 2], "n_params": 6, "n_params_total": 6, "order": 1, "calls": 1}],
    ...     "edges": [["input", "fc"], ["fc", "output"]], "method": "fx"}
    >>> view = ModelGraphView(g)
    >>> view.expanded, view.selected
    ([''], '')
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable
from typing import Any

import traitlets

from .._base import NbxWidget

__all__ = ["ModelGraphView", "validate_graph"]

_REQUIRED = ("name", "type", "parent", "depth", "is_leaf", "output_shape", "n_params", "n_params_total", "order")
_IO = ("input", "output")
_FIX = "pass nbexplain.anatomy.model_graph(model, x) or its .to_wire() dict (docs/ANATOMY_CONTRACT.md)"


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{where} must be an integer, got {value!r}; {_FIX}")
    return int(value)


def _shape(value: Any, where: str) -> list[int] | list[list[int]] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{where} must be a list of ints (or one list per output) or None, got {value!r}")
    if value and all(isinstance(v, (list, tuple)) for v in value):
        return [[_int(d, where) for d in v] for v in value]
    return [_int(d, where) for d in value]


def validate_graph(graph: Any) -> dict[str, Any]:
    """Check a model graph and return it as a JSON-ready dict (``{"nodes", "edges", "method", "notes"}``).

    ``graph`` is a ``ModelGraph`` (anything with ``.to_wire()``) or the dict it returns. Each
    node needs ``name``, ``type``, ``parent``, ``depth``, ``is_leaf``, ``output_shape``,
    ``n_params``, ``n_params_total`` and ``order`` (``calls`` defaults to 1 for a module that ran,
    else 0). Names are unique, exactly one node (the root) has ``parent=None``, every other parent
    is a node, and edges join node names or ``"input"``/``"output"``. A problem raises
    ``ValueError`` naming the node or edge.

    Example:
        >>> root = {"name": "", "type": "Net", "parent": None, "depth": 0, "is_leaf": True,
        ...         "output_shape": [1, 3], "n_params": 0, "n_params_total": 0, "order": 0}
        >>> validate_graph({"nodes": [root], "edges": [["input", ""]]})["nodes"][0]["calls"]
        1
        >>> validate_graph({"nodes": [root], "edges": [["input", "fc"]]})
        Traceback (most recent call last):
        ...
        ValueError: edge 0 ['input', 'fc'] names 'fc', which is not a module of the graph (nor 'input'/'output'); known modules: ''
    """
    if hasattr(graph, "to_wire") and callable(graph.to_wire):
        graph = graph.to_wire()
    if not isinstance(graph, dict):
        raise ValueError(f"graph must be a ModelGraph or its to_wire() dict, got {type(graph).__name__}; {_FIX}")
    raw_nodes = graph.get("nodes")
    if not isinstance(raw_nodes, (list, tuple)) or not raw_nodes:
        raise ValueError(f"graph['nodes'] must be a non-empty list of node dicts; {_FIX}")
    nodes: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_nodes):
        if not isinstance(raw, dict):
            raise ValueError(f"graph['nodes'][{i}] must be a dict, got {type(raw).__name__}")
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise ValueError(f"graph['nodes'][{i}] lacks {', '.join(missing)}; {_FIX}")
        name = raw["name"]
        where = f"node {name!r}"
        if not isinstance(name, str):
            raise ValueError(f"graph['nodes'][{i}]['name'] must be a str (dotted module path), got {name!r}")
        if name in names:
            raise ValueError(f"{where} appears twice; module names must be unique")
        if name in _IO:
            raise ValueError(f"{where}: 'input' and 'output' are reserved for the edge list's pseudo-nodes")
        names.add(name)
        parent = raw["parent"]
        if parent is not None and not isinstance(parent, str):
            raise ValueError(f"{where}: parent must be a module name or None, got {parent!r}")
        order = _int(raw["order"], f"{where}: order")
        node = {
            "name": name,
            "type": str(raw["type"]),
            "parent": parent,
            "depth": _int(raw["depth"], f"{where}: depth"),
            "is_leaf": bool(raw["is_leaf"]),
            "output_shape": _shape(raw["output_shape"], f"{where}: output_shape"),
            "n_params": _int(raw["n_params"], f"{where}: n_params"),
            "n_params_total": _int(raw["n_params_total"], f"{where}: n_params_total"),
            "order": order,
            "calls": _int(raw.get("calls", 1 if order >= 0 else 0), f"{where}: calls"),
        }
        if node["n_params"] < 0 or node["n_params_total"] < node["n_params"]:
            raise ValueError(f"{where}: need 0 <= n_params <= n_params_total, got {node['n_params']}, {node['n_params_total']}")
        nodes.append(node)
    roots = [n["name"] for n in nodes if n["parent"] is None]
    if len(roots) != 1:
        raise ValueError(f"a graph has exactly one root (parent None); found {len(roots)}: {roots[:5]}")
    for n in nodes:
        if n["parent"] is not None and (n["parent"] not in names or n["parent"] == n["name"]):
            raise ValueError(f"node {n['name']!r} has parent {n['parent']!r}, which is not another module of the graph")
    edges: list[list[str]] = []
    raw_edges = graph.get("edges", [])
    if not isinstance(raw_edges, (list, tuple)):
        raise ValueError(f"graph['edges'] must be a list of [from, to] pairs, got {type(raw_edges).__name__}")
    known = ", ".join(repr(n) for n in sorted(names)[:8])
    for i, e in enumerate(raw_edges):
        if not isinstance(e, (list, tuple)) or len(e) != 2 or not all(isinstance(x, str) for x in e):
            raise ValueError(f"edge {i} must be a pair of module names [from, to], got {e!r}")
        for x in e:
            if x not in names and x not in _IO:
                close = difflib.get_close_matches(x, names, n=3)
                hint = f"did you mean {', '.join(map(repr, close))}?" if close else f"known modules: {known}"
                raise ValueError(
                    f"edge {i} {list(e)!r} names {x!r}, which is not a module of the graph (nor 'input'/'output'); {hint}"
                )
        edges.append([e[0], e[1]])
    method = graph.get("method", "")
    notes = graph.get("notes", [])
    return {
        "nodes": nodes,
        "edges": edges,
        "method": str(method) if method is not None else "",
        "notes": [str(x) for x in notes] if isinstance(notes, (list, tuple)) else [str(notes)],
    }


def _containers(graph: dict[str, Any]) -> list[str]:
    parents = {n["parent"] for n in graph["nodes"] if n["parent"] is not None}
    return [n["name"] for n in graph["nodes"] if n["name"] in parents]


def _default_expanded(graph: dict[str, Any]) -> list[str]:
    """The root and its direct children that have children themselves."""
    containers = set(_containers(graph))
    root = next(n["name"] for n in graph["nodes"] if n["parent"] is None)
    kids = [n["name"] for n in graph["nodes"] if n["parent"] == root and n["name"] in containers]
    return ([root] if root in containers else []) + kids


class ModelGraphView(NbxWidget):
    """The modules of a network as a vertical list of boxes in data-flow order.

    Each box shows the module type (bold), its dotted name, its output shape without the batch
    dimension (``64x56x56``) and its parameter count (``1.2M``); a collapsed container shows
    its total parameters and how many layers it holds. Skip edges are arcs in the left gutter
    (an edge into a collapsed container attaches to the container's box). ``expanded`` (saved
    with the notebook) defaults to the root and its direct children that are containers.

    Parameters:
        graph: a ``ModelGraph`` or its ``to_wire()`` dict, checked by :func:`validate_graph`.
        expanded: module names to show expanded (``None``: the default above).
        selected: a module name, ``""`` for none.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()),
        ...                             torch.nn.Linear(8, 2))
        >>> view = ModelGraphView.from_model(model, torch.randn(1, 4))
        >>> view.on_event("select", lambda m: print(m["name"]))
        >>> view._handle_custom_msg({"event": "select", "name": "0.0"}, [])   # a click on the first Linear
        0.0
        >>> view.expand("0"); view.expanded
        ['', '0']
        >>> view.collapse_all(); view.expanded
        ['', '0']
    """

    _view = traitlets.Unicode("model_graph").tag(sync=True)

    graph = traitlets.Dict(
        help='dict, required: the graph, {"nodes": [...], "edges": [[a, b], ...], "method": str}.'
    ).tag(sync=True)
    expanded = traitlets.List(
        traitlets.Unicode(), help="list of str, default: the root and its direct containers: expanded modules."
    ).tag(sync=True)
    selected = traitlets.Unicode(
        "", help='str, default "": the selected module name ("" = none); set by a click in the browser.'
    ).tag(sync=True)

    def __init__(self, graph: Any, *, expanded: Iterable[str] | None = None, selected: str = "", **kwargs: Any) -> None:
        wire = validate_graph(graph)
        names = list(expanded) if expanded is not None else _default_expanded(wire)
        super().__init__(graph=wire, expanded=names, selected=selected, **kwargs)

    @classmethod
    def from_model(cls, model: Any, example_input: Any, *, method: str = "auto", **kwargs: Any) -> ModelGraphView:
        """Trace ``model`` on ``example_input`` with :func:`nbexplain.anatomy.model_graph` and show it.

        Example:
            >>> import torch
            >>> model = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()),
            ...                             torch.nn.Linear(8, 2))
            >>> view = ModelGraphView.from_model(model, torch.randn(1, 4))
            >>> view.module_names, view.graph["method"]    # traced with torch.fx
            (['', '0', '0.0', '0.1', '1'], 'fx')
        """
        from ...anatomy import model_graph  # lazy: torch is only needed here

        return cls(model_graph(model, example_input, method=method), **kwargs)

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def module_names(self) -> list[str]:
        """Every module name in the graph, in its order.

        Example:
            >>> import torch
            >>> model = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()),
            ...                             torch.nn.Linear(8, 2))
            >>> view = ModelGraphView.from_model(model, torch.randn(1, 4))
            >>> view.module_names[:3]
            ['', '0', '0.0']
        """
        return [n["name"] for n in self.graph["nodes"]]

    def expand(self, *names: str) -> None:
        """Expand these containers (and their ancestors, so they show).

        Example:
            >>> import torch
            >>> model = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()),
            ...                             torch.nn.Linear(8, 2))
            >>> view = ModelGraphView.from_model(model, torch.randn(1, 4))
            >>> view.collapse("0"); view.expanded
            ['']
            >>> view.expand("0"); view.expanded
            ['', '0']
        """
        parents = {n["name"]: n["parent"] for n in self.graph["nodes"]}
        want = set(self.expanded)
        for name in names:
            self._check_name(name, "expand")
            cur: str | None = name
            while cur is not None:
                want.add(cur)
                cur = parents[cur]
        containers = set(_containers(self.graph))
        self.expanded = [n for n in self.module_names if n in want and n in containers]

    def collapse(self, *names: str) -> None:
        """Collapse these containers.

        Example:
            >>> import torch
            >>> model = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()),
            ...                             torch.nn.Linear(8, 2))
            >>> view = ModelGraphView.from_model(model, torch.randn(1, 4))
            >>> view.expanded
            ['', '0']
            >>> view.collapse("0"); view.expanded
            ['']
        """
        for name in names:
            self._check_name(name, "collapse")
        self.expanded = [n for n in self.expanded if n not in names]

    def expand_all(self) -> None:
        """Expand every container (ResNet-50: about 180 boxes; the list scrolls).

        Example:
            >>> import torch
            >>> model = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()),
            ...                             torch.nn.Linear(8, 2))
            >>> view = ModelGraphView.from_model(model, torch.randn(1, 4))
            >>> view.collapse("0"); view.expand_all(); view.expanded    # every container
            ['', '0']
        """
        self.expanded = _containers(self.graph)

    def collapse_all(self) -> None:
        """Show the default view (the root and its direct containers expanded).

        Example:
            >>> import torch
            >>> model = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()),
            ...                             torch.nn.Linear(8, 2))
            >>> view = ModelGraphView.from_model(model, torch.randn(1, 4))
            >>> view.collapse("0"); view.expanded
            ['']
            >>> view.collapse_all(); view.expanded    # the root and its direct containers
            ['', '0']
        """
        self.expanded = _default_expanded(self.graph)

    # -- validation ------------------------------------------------------------------------------
    def _check_name(self, name: str, what: str) -> None:
        names = self.module_names
        if name not in names:
            close = difflib.get_close_matches(name, names, n=3)
            hint = f"did you mean {', '.join(map(repr, close))}?" if close else f"there are {len(names)} modules, e.g. {names[1:4]}"
            raise traitlets.TraitError(f"{what}: {name!r} is not a module of this graph; {hint}")

    @traitlets.validate("graph")
    def _valid_graph(self, proposal: Any) -> dict[str, Any]:
        try:
            return validate_graph(proposal["value"])
        except ValueError as exc:
            raise traitlets.TraitError(str(exc)) from None

    @traitlets.validate("expanded")
    def _valid_expanded(self, proposal: Any) -> list[str]:
        value = list(proposal["value"])
        if self.graph:
            for name in value:
                self._check_name(name, "expanded")
        return value

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: Any) -> str:
        value = proposal["value"]
        if value and self.graph:
            self._check_name(value, "selected")
        return value

    @traitlets.observe("graph")
    def _on_graph(self, change: Any) -> None:
        if not change["old"]:
            return  # the constructor sets expanded and selected next
        names = set(self.module_names)
        with self.hold_sync():
            kept = [n for n in self.expanded if n in names]
            self.expanded = kept if kept else _default_expanded(self.graph)
            if self.selected not in names:
                self.selected = ""
