"""ModelGraphView: graph validation, default expansion, expand/collapse helpers, selection, events."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
import traitlets

from nbexplain.anatomy import model_graph
from nbexplain.widgets.anatomy.model_graph import ModelGraphView, validate_graph
from tests import torch_models

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def _node(name: str, type_: str, parent: str | None, leaf: bool, own: int, total: int, order: int) -> dict[str, Any]:
    return {"name": name, "type": type_, "parent": parent, "depth": 0 if parent is None else name.count(".") + 1,
            "is_leaf": leaf, "output_shape": [1, 4, 8, 8], "n_params": own, "n_params_total": total,
            "order": order, "calls": 1}


GRAPH = {
    "nodes": [
        _node("", "Net", None, False, 0, 30, 0),
        _node("stem", "Conv2d", "", True, 10, 10, 1),
        _node("block", "Block", "", False, 0, 20, 2),
        _node("block.conv", "Conv2d", "block", True, 20, 20, 3),
        _node("block.<b>x</b>", "ReLU", "block", True, 0, 0, 4),
    ],
    "edges": [["input", "stem"], ["stem", "block.conv"], ["block.conv", "block.<b>x</b>"],
              ["stem", "block.<b>x</b>"], ["block.<b>x</b>", "output"]],
    "method": "fx",
}


def test_dict_graph_defaults_and_helpers() -> None:
    view = ModelGraphView(GRAPH)
    assert view.expanded == ["", "block"]
    assert view.selected == ""
    assert view.graph["method"] == "fx"
    assert view.module_names == ["", "stem", "block", "block.conv", "block.<b>x</b>"]
    view.collapse("block")
    assert view.expanded == [""]
    view.expand("block")
    assert view.expanded == ["", "block"]
    view.collapse_all()
    assert view.expanded == ["", "block"]
    view.expanded = []
    view.expand("block")  # its ancestors open too
    assert view.expanded == ["", "block"]
    view.selected = "block.<b>x</b>"
    with pytest.raises(traitlets.TraitError, match="'blok' is not a module of this graph; did you mean 'block'"):
        view.selected = "blok"
    with pytest.raises(traitlets.TraitError, match="expand: 'nope' is not a module"):
        view.expand("nope")


def test_new_graph_keeps_valid_state() -> None:
    view = ModelGraphView(GRAPH, expanded=[""], selected="block.conv")
    smaller = copy.deepcopy(GRAPH)
    smaller["nodes"] = smaller["nodes"][:2]
    smaller["edges"] = [["input", "stem"], ["stem", "output"]]
    view.graph = smaller
    assert view.expanded == [""]
    assert view.selected == ""


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda g: g.update(nodes=[]), r"graph\['nodes'\] must be a non-empty list"),
        (lambda g: g["nodes"][1].pop("n_params"), r"graph\['nodes'\]\[1\] lacks n_params"),
        (lambda g: g["nodes"].append(dict(g["nodes"][1])), "node 'stem' appears twice"),
        (lambda g: g["nodes"][1].update(parent=None), "exactly one root .* found 2"),
        (lambda g: g["nodes"][1].update(parent="ghost"), "node 'stem' has parent 'ghost'"),
        (lambda g: g["edges"].append(["stem", "blok"]), "names 'blok', which is not a module .* did you mean 'block'"),
        (lambda g: g["edges"].append(["stem"]), "edge 5 must be a pair"),
        (lambda g: g["nodes"][1].update(n_params=1.5), "node 'stem': n_params must be an integer"),
        (lambda g: g["nodes"][1].update(output_shape="4x8"), "output_shape must be a list of ints"),
    ],
)
def test_bad_graphs_name_the_problem(mutate: Any, message: str) -> None:
    g = copy.deepcopy(GRAPH)
    mutate(g)
    with pytest.raises(ValueError, match=message):
        validate_graph(g)
    with pytest.raises(ValueError, match=message):
        ModelGraphView(g)
    with pytest.raises(ValueError, match="ModelGraph or its to_wire"):
        validate_graph([1, 2])


def test_from_model_and_events() -> None:
    model = torch_models.resnet("tiny")
    g = model_graph(model, torch.zeros(1, 3, 32, 32))
    view = ModelGraphView(g)  # the ModelGraph object itself
    assert view.graph["nodes"][0]["type"] == "ResNet"
    assert view.expanded == ["", "layer1", "layer2"]
    assert ["maxpool", "layer1.0.relu"] in view.graph["edges"]  # the first residual edge
    view2 = ModelGraphView.from_model(model, torch.zeros(1, 3, 32, 32), title="tiny")
    assert view2.graph == view.graph and view2.title == "tiny"
    got: list[str] = []
    view.on_event("select", lambda m: got.append(m["name"]))
    view._dispatch_event(view, {"event": "select", "name": "layer1.0.conv1"}, [])
    assert got == ["layer1.0.conv1"]
    view.expand_all()
    assert view.expanded == ["", "layer1", "layer1.0", "layer2", "layer2.0", "layer2.0.downsample"]
