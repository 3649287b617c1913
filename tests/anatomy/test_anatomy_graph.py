"""model_graph: nodes, shapes, parameter counts, data-flow edges, fallbacks and errors."""

from __future__ import annotations

import json
import time

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch_models import functional_cnn, resnet

from nbexplain.anatomy import ModelInputError, model_graph
from nbexplain.explainers.gradients.layers import UnknownLayerError, hook_count


def _hook_shapes(model: nn.Module, x: torch.Tensor) -> dict[str, list[int]]:
    """Independent reference: the first-call output shape of every module, by plain hooks."""
    shapes: dict[str, list[int]] = {}

    def hook(name: str) -> object:
        def fn(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
            shapes.setdefault(name, list(out.shape))
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return shapes


class Branchy(nn.Module):
    """Data-dependent control flow: fx cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 2)
        self.unused = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x)
        if h.sum() > 0:
            h = h * 2
        return self.b(h)


def test_sequential_nodes_edges_and_wire() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 2), nn.Tanh())).train()
    g = model_graph(model, torch.zeros(2, 4))
    assert g.method == "fx" and g.notes == []
    assert [n.name for n in g.nodes] == ["", "0", "1", "2", "2.0", "2.1"]
    assert [n.order for n in g.nodes] == [0, 1, 2, 3, 4, 5]
    root, lin, sub = g.node(""), g.node("0"), g.node("2")
    assert (root.parent, root.depth, root.is_leaf, root.output_shape) == (None, 0, False, [2, 2])
    assert (lin.parent, lin.depth, lin.is_leaf, lin.type, lin.n_params) == ("", 1, True, "Linear", 15)
    assert (g.node("2.0").parent, g.node("2.0").depth, sub.n_params, sub.n_params_total) == ("2", 2, 0, 8)
    assert g.n_params == root.n_params_total == 23
    assert g.edges == [("input", "0"), ("0", "1"), ("1", "2.0"), ("2.0", "2.1"), ("2.1", "output")]
    assert [n.name for n in g.leaves()] == ["0", "1", "2.0", "2.1"]
    assert [n.name for n in g.children("2")] == ["2.0", "2.1"]
    assert model.training and all(m.training for m in model.modules())
    wire = json.loads(json.dumps(g.to_wire()))
    assert wire["method"] == "fx" and wire["edges"][0] == ["input", "0"]
    assert wire["nodes"][1]["output_shape"] == [2, 3] and wire["nodes"][1]["calls"] == 1
    assert hook_count(model) == 0 and all(p.grad is None for p in model.parameters())


def test_hooks_method_matches_fx_on_a_chain() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    x = torch.zeros(1, 1, 4, 4)
    fx_graph, hook_graph = model_graph(model, x, method="fx"), model_graph(model, x, method="hooks")
    assert hook_graph.method == "hooks" and fx_graph.edges == hook_graph.edges
    assert [n.output_shape for n in fx_graph.nodes] == [n.output_shape for n in hook_graph.nodes]


def test_resnet18_graph_shapes_params_and_residual_edges() -> None:
    model = resnet("18")
    x = torch.randn(1, 3, 64, 64)
    g = model_graph(model, x)
    named = dict(model.named_modules())
    assert g.method == "fx" and len(g.nodes) == len(named)
    ref = _hook_shapes(model, x)
    assert {n.name: n.output_shape for n in g.nodes} == ref
    assert sum(n.n_params for n in g.nodes) == sum(p.numel() for p in model.parameters()) == g.n_params
    # BasicBlock: out = bn2(...) ; out += identity ; relu(out): both branches feed the relu
    assert ("layer1.0.bn2", "layer1.0.relu") in g.edges
    assert ("maxpool", "layer1.0.relu") in g.edges  # identity shortcut (skips the block's convs)
    assert ("layer2.0.downsample.1", "layer2.0.relu") in g.edges  # projection shortcut
    assert ("fc", "output") in g.edges and ("input", "conv1") in g.edges
    assert g.node("layer1.0.relu").calls == 2 and g.node("fc").output_shape == [1, 1000]
    stages = [n.name for n in g.children("")]
    assert stages == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]


def test_resnet50_graph_is_fast_and_complete() -> None:
    model = resnet("50")
    x = torch.randn(1, 3, 224, 224)
    t0 = time.perf_counter()
    g = model_graph(model, x)
    elapsed = time.perf_counter() - t0
    assert elapsed < 3.0, f"model_graph took {elapsed:.2f} s"  # about 0.1 s on one core
    assert len(g.nodes) == len(dict(model.named_modules())) == 151
    assert g.node("conv1").output_shape == [1, 64, 112, 112]
    assert g.node("layer4").output_shape == [1, 2048, 7, 7]
    assert g.node("layer3.5.relu").calls == 3
    assert g.n_params == sum(p.numel() for p in model.parameters()) == 25557032
    assert ("layer1.0.downsample.1", "layer1.0.relu") in g.edges and ("layer1.0.bn3", "layer1.0.relu") in g.edges
    assert ("layer1.0.relu", "layer1.1.relu") in g.edges  # identity shortcut of the second block
    assert hook_count(model) == 0


def test_functional_ops_between_modules_are_traced_through() -> None:
    g = model_graph(functional_cnn(), torch.zeros(1, 1, 8, 8))
    assert g.method == "fx"
    assert g.edges == [("input", "conv1"), ("conv1", "conv2"), ("conv2", "fc"), ("fc", "output")]


def test_untraceable_model_falls_back_to_hooks_with_a_note() -> None:
    model = Branchy()
    runs: list[int] = []
    handle = model.register_forward_hook(lambda *_: runs.append(1))
    try:
        g = model_graph(model, torch.ones(1, 4))
    finally:
        handle.remove()
    assert len(runs) == 1  # the model ran once, also with the fallback
    assert g.method == "hooks"
    assert any("torch.fx could not trace" in n for n in g.notes)
    assert ("input", "a") in g.edges and ("b", "output") in g.edges
    # the functional `h * 2` between a and b is skipped over: b's input comes from a
    assert ("a", "b") in g.edges
    unused = g.node("unused")
    assert (unused.order, unused.calls, unused.output_shape) == (-1, 0, None)
    assert g.nodes[-1].name == "unused"
    with pytest.raises(ValueError, match=r"torch\.fx cannot trace Branchy"):
        model_graph(model, torch.ones(1, 4), method="fx")
    assert hook_count(model) == 0


def test_wrong_input_shape_quotes_the_model_error() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).train()
    with pytest.raises(ModelInputError) as err:
        model_graph(model, torch.zeros(1, 5))
    msg = str(err.value)
    assert "(1, 5)" in msg and "mat1 and mat2 shapes cannot be multiplied" in msg
    assert isinstance(err.value, ValueError)
    assert hook_count(model) == 0 and model.training and model[0].training


class Exploding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.first(x)).view(7, 7)  # always raises


def test_hooks_removed_after_the_model_raises() -> None:
    model = Exploding().train()
    for method in ("auto", "hooks"):
        with pytest.raises(ModelInputError, match="shape '\\[7, 7\\]' is invalid"):
            model_graph(model, torch.zeros(1, 2), method=method)
        assert hook_count(model) == 0 and model.training


def test_unknown_node_lists_close_names_and_bad_method() -> None:
    g = model_graph(resnet("tiny"), torch.zeros(1, 3, 16, 16))
    with pytest.raises(UnknownLayerError, match=r"layer1\.0\.conv1"):
        g.node("layer1.0.conv")
    with pytest.raises(ValueError, match="method must be one of"):
        model_graph(resnet("tiny"), torch.zeros(1, 3, 16, 16), method="trace")


class TinyTransformer(nn.Module):
    """torch.nn's TransformerEncoder has control flow fx cannot trace into."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(20, 8)
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1)
        self.head = nn.Linear(8, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.enc(self.emb(ids)).mean(1))


def test_torch_nn_composites_are_traced_whole_with_hook_edges_inside() -> None:
    model = TinyTransformer()
    ids = torch.randint(0, 20, (2, 5))
    g = model_graph(model, ids)
    assert g.method == "fx" and "['enc'] as single nodes" in g.notes[0]
    assert g.edges[:4] == [("input", "emb"), ("emb", "enc"), ("enc", "head"), ("head", "output")]
    assert ("enc.layers.0.linear1", "enc.layers.0.dropout") in g.edges
    # MultiheadAttention computes with out_proj's weight without calling it: it is a data-flow node
    assert ("enc.layers.0.self_attn", "enc.layers.0.dropout1") in g.edges
    assert g.node("enc.layers.0.self_attn.out_proj").calls == 0
    hooks = model_graph(model, ids, method="hooks")
    assert ("emb", "enc.layers.0.self_attn") in hooks.edges and hooks.node("emb").output_shape == [2, 5, 8]
    assert g.n_params == sum(p.numel() for p in model.parameters()) and hook_count(model) == 0
