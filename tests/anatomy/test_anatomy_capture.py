"""capture_activations, capture_gradients and activation_maps against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch_models import resnet

from nbexplain.anatomy import (
    WIRE_BUDGET,
    ModelInputError,
    activation_maps,
    capture_activations,
    capture_gradients,
    channel_map,
)
from nbexplain.explainers.gradients.layers import UnknownLayerError, hook_count

K = np.array([[[1.0, -1.0], [0.0, 2.0]], [[-1.0, 0.0], [1.0, 1.0]]])  # two fixed 2x2 kernels
KB = np.array([0.5, -0.5])
W = (np.arange(24.0).reshape(3, 8) - 11.0) / 10.0
B = np.array([0.1, -0.2, 0.3])
X = np.stack([(np.arange(9.0) / 4.0 - 1.0).reshape(1, 3, 3),
              ((np.arange(9.0)[::-1] - 4.0) / 3.0 + np.eye(3).ravel() * 0.25).reshape(1, 3, 3)])
Y = np.array([2, 0])


def hand_model() -> nn.Module:
    """Conv2d(1, 2, 2) with the kernels K, in-place ReLU, Flatten, Linear(8, 3)."""
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(8, 3))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(K[:, None], dtype=torch.float32))
        model[0].bias.copy_(torch.tensor(KB, dtype=torch.float32))
        model[3].weight.copy_(torch.tensor(W, dtype=torch.float32))
        model[3].bias.copy_(torch.tensor(B, dtype=torch.float32))
    return model


def hand_forward() -> dict[str, np.ndarray]:
    """Everything by hand: conv as explicit sums, softmax cross-entropy and its backward pass."""
    n = len(X)
    pre = np.zeros((n, 2, 2, 2))
    for s in range(n):
        for c in range(2):
            for i in range(2):
                for j in range(2):
                    pre[s, c, i, j] = np.sum(K[c] * X[s, 0, i:i + 2, j:j + 2]) + KB[c]
    h = np.maximum(pre, 0).reshape(n, 8)
    z = h @ W.T + B
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = (p - np.eye(3)[Y]) / n
    dpre = (dz @ W).reshape(n, 2, 2, 2) * (pre > 0)
    dk = np.zeros_like(K)
    for c in range(2):
        for a in range(2):
            for b in range(2):
                dk[c, a, b] = np.sum(dpre[:, c] * X[:, 0, a:a + 2, b:b + 2])
    return {"pre": pre, "h": h, "z": z, "loss": -np.mean(np.log(p[np.arange(n), Y])), "dz": dz,
            "dW": dz.T @ h, "db": dz.sum(0), "dpre": dpre, "dK": dk, "dKb": dpre.sum((0, 2, 3))}


def test_capture_activations_matches_hand_values_and_ignores_in_place_ops() -> None:
    ref = hand_forward()
    assert np.all(ref["pre"] != 0)  # no ReLU kink
    model = hand_model().train()
    acts = capture_activations(model, torch.tensor(X, dtype=torch.float32), ["[0]", model[1], "3"])
    assert list(acts) == ["0", "1", "3"]
    np.testing.assert_allclose(acts["0"].numpy(), ref["pre"], atol=1e-6)  # negatives kept
    np.testing.assert_allclose(acts["1"].numpy(), np.maximum(ref["pre"], 0), atol=1e-6)
    np.testing.assert_allclose(acts["3"].numpy(), ref["z"], atol=1e-5)
    assert all(not t.requires_grad and t.device.type == "cpu" for t in acts.values())
    assert hook_count(model) == 0 and model.training


def test_capture_activations_errors() -> None:
    model = hand_model()
    with pytest.raises(UnknownLayerError, match=r"no layer named '30'; closest names: \['3'"):
        capture_activations(model, torch.zeros(1, 1, 3, 3), "30")
    with pytest.raises(ModelInputError, match=r"\(1, 1, 4, 4\)"):
        capture_activations(model, torch.zeros(1, 1, 4, 4), "0")
    assert hook_count(model) == 0


def test_gradient_report_equals_hand_computed_norms() -> None:
    ref = hand_forward()
    model = hand_model().train()
    model[3].weight.requires_grad_(False)  # a frozen layer is reported too, and stays frozen
    model[0].bias.grad = torch.full((2,), 7.0)  # an existing .grad is left as it was
    report = capture_gradients(model, torch.tensor(X, dtype=torch.float32), Y)
    assert report.layers == ["0", "3"] and report.types == ["Conv2d", "Linear"]
    np.testing.assert_allclose(report.norms, [np.linalg.norm(ref["dK"]), np.linalg.norm(ref["dW"])], rtol=1e-5)
    np.testing.assert_allclose(report.grad_norms, [np.sqrt(np.sum(ref["dK"] ** 2) + np.sum(ref["dKb"] ** 2)),
                                                   np.sqrt(np.sum(ref["dW"] ** 2) + np.sum(ref["db"] ** 2))],
                               rtol=1e-5)
    np.testing.assert_allclose(report.activation_grad_norms,
                               [np.linalg.norm(ref["dpre"]), np.linalg.norm(ref["dz"])], rtol=1e-5)
    np.testing.assert_allclose(report.param_grads["0"], np.concatenate([ref["dK"].ravel(), ref["dKb"]]),
                               rtol=1e-5, atol=1e-7)
    assert report.loss == pytest.approx(ref["loss"], rel=1e-6)
    row = report.stats("3")
    assert row["activation_grad_norm"] == pytest.approx(np.linalg.norm(ref["dz"]), rel=1e-5)
    assert (row["type"], row["n_values"]) == ("Linear", 27)
    counts, edges = report.histogram("3", bins=5)
    assert counts.sum() == 27 and report.n_values == {"0": 10, "3": 27}
    assert edges[0] == pytest.approx(min(ref["dW"].min(), ref["db"].min()), rel=1e-5)
    # the model is as it was
    assert model.training and hook_count(model) == 0
    assert not model[3].weight.requires_grad and model[0].weight.requires_grad
    assert model[0].weight.grad is None and model[0].bias.grad.tolist() == [7.0, 7.0]


def test_predicted_class_callable_loss_and_bad_loss() -> None:
    model = hand_model()
    x = torch.tensor(X, dtype=torch.float32)
    report = capture_gradients(model, x)
    assert report.targets.tolist() == hand_forward()["z"].argmax(1).tolist()
    summed = capture_gradients(model, x, loss=lambda out, _y: out[:, 0].sum(), layers=["3"])
    assert summed.layers == ["3"]
    np.testing.assert_allclose(summed.param_grads["3"][:8], hand_forward()["h"].sum(0), rtol=1e-5)
    assert summed.param_grads["3"][8:24].tolist() == [0.0] * 16
    with pytest.raises(ValueError, match="loss must be one of"):
        capture_gradients(model, x, loss="hinge")
    with pytest.raises(ValueError, match="scalar tensor"):
        capture_gradients(model, x, loss=lambda out, _y: out)
    with pytest.raises(ModelInputError):
        capture_gradients(model, torch.zeros(1, 1, 2, 2))
    assert hook_count(model) == 0 and all(p.grad is None for p in model.parameters())


def test_vanishing_gradients_shrink_toward_the_input() -> None:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(10):
        layers += [nn.Linear(16, 16), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 3))
    report = capture_gradients(model, torch.randn(8, 16), torch.arange(8) % 3)
    assert report.layers == [str(i) for i in range(0, 21, 2)]
    assert np.all(np.diff(report.norms) > 0), report.norms  # every layer nearer the input is smaller
    assert report.norms[0] < report.norms[-1] * 1e-4
    assert report.flags(vanishing=report.norms[1])[:2] == ["vanishing", ""]


def test_activation_maps_of_the_hand_model() -> None:
    ref = hand_forward()
    model = hand_model()
    x = torch.tensor(X, dtype=torch.float32)
    a = activation_maps(model, x, "0", sample=1)
    assert (a.kind, a.full_shape, a.factor, a.maps.shape, a.maps.dtype) == ("conv", (2, 2, 2), 1, (2, 2, 2),
                                                                             np.float32)
    np.testing.assert_allclose(a.maps, ref["pre"][1], atol=1e-6)
    np.testing.assert_allclose(a.mean, ref["pre"][1].mean((1, 2)), atol=1e-6)
    np.testing.assert_allclose(a.max, ref["pre"][1].max((1, 2)), atol=1e-6)
    assert a.order.tolist() == np.argsort(-ref["pre"][1].mean((1, 2))).tolist()
    assert activation_maps(model, x, "0", sample=1, sort="max").order.tolist() == \
        np.argsort(-ref["pre"][1].max((1, 2))).tolist()
    assert activation_maps(model, x, "0", sort="none").order.tolist() == [0, 1]
    pooled = activation_maps(model, x, "0", max_size=1)
    np.testing.assert_allclose(pooled.maps[:, 0, 0], ref["pre"][0].mean((1, 2)), atol=1e-6)
    counts, edges = a.histogram(bins=4)
    assert counts.sum() == 8 and edges[0] == pytest.approx(ref["pre"][1].min(), abs=1e-6)
    np.testing.assert_allclose(a.channel(1), ref["pre"][1, 1], atol=1e-6)
    np.testing.assert_allclose(channel_map(model, x, "0", 1, sample=1), ref["pre"][1, 1], atol=1e-6)
    assert channel_map(model, x, "0", 0, size=(6, 4)).shape == (6, 4)
    dense = activation_maps(model, x, "3", sample=1)
    assert dense.kind == "dense" and dense.maps is None
    np.testing.assert_allclose(dense.values, ref["z"][1], atol=1e-5)
    assert dense.order.tolist() == np.argsort(-ref["z"][1]).tolist() and dense.nbytes == 3 * 2 * 3 + 3 * 4


def test_activation_maps_errors_and_other_ranks() -> None:
    model = hand_model()
    x = torch.tensor(X, dtype=torch.float32)
    with pytest.raises(ValueError, match="out of range for layer '0', which has 2 channels"):
        channel_map(model, x, "0", 2)
    with pytest.raises(ValueError, match="not \\(C, H, W\\)"):
        channel_map(model, x, "3", 0)
    with pytest.raises(ValueError, match="sort must be one of"):
        activation_maps(model, x, "0", sort="median")
    with pytest.raises(ValueError, match="sample 5 is out of range"):
        activation_maps(model, x, "0", sample=5)
    seq = nn.Sequential(nn.Conv1d(1, 2, 3))
    flat = activation_maps(seq, torch.zeros(1, 1, 5), "0")
    assert flat.kind == "dense" and flat.values.shape == (6,) and "flattened" in flat.notes[0]


def test_resnet50_largest_layers_fit_the_wire_budget() -> None:
    model = resnet("50")
    x = torch.randn(1, 3, 224, 224)
    conv1 = activation_maps(model, x, "conv1", max_size=64)
    assert conv1.full_shape == (64, 112, 112) and conv1.maps.shape == (64, 56, 56) and conv1.factor == 2
    assert conv1.nbytes == 64 * 56 * 56 * 2 + 64 * 8 == 401_920
    block = conv1.full[5, :2, :2].mean()
    assert conv1.maps[5, 0, 0] == pytest.approx(block, rel=1e-5, abs=1e-6)  # 2x2 average pooling
    wide = activation_maps(model, x, "layer1.0.conv3", max_size="auto")  # 256 x 56 x 56
    assert wide.maps.shape == (256, 28, 28) and wide.nbytes <= WIRE_BUDGET
    assert activation_maps(model, x, "conv1", max_size="auto").nbytes <= WIRE_BUDGET
    assert hook_count(model) == 0


def test_soft_targets_and_sampled_gradients_of_a_large_layer() -> None:
    model = hand_model()
    x = torch.tensor(X, dtype=torch.float32)
    hard = capture_gradients(model, x, Y)
    soft = capture_gradients(model, x, torch.eye(3)[Y])
    np.testing.assert_allclose(soft.norms, hard.norms, rtol=1e-6)
    torch.manual_seed(0)
    big = nn.Sequential(nn.Linear(400, 300), nn.Tanh(), nn.Linear(300, 2))
    xb = torch.randn(3, 400)
    r1, r2 = capture_gradients(big, xb), capture_gradients(big, xb)
    assert r1.param_grads["0"].shape == (100_000,) and r1.n_values["0"] == 400 * 300 + 300
    assert r1.param_grads["0"].dtype == np.float32
    np.testing.assert_array_equal(r1.param_grads["0"], r2.param_grads["0"])  # seeded sample
    assert r1.histogram("0")[0].sum() == 100_000
    assert capture_gradients(big, xb, max_values=10).param_grads["2"].shape == (10,)
