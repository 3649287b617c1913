"""activation_curve values and derivatives, and finding a layer's activation module."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch_models import resnet, small_cnn

from nbexplain.anatomy import activation_curve, layer_activation, next_activation
from nbexplain.explainers.gradients.layers import hook_count

SUPPORTED = [nn.ReLU(), nn.LeakyReLU(0.1), nn.ELU(), nn.GELU(), nn.SiLU(), nn.Sigmoid(), nn.Tanh(),
             nn.Softplus(), nn.Hardswish(), nn.Mish()]


@pytest.mark.parametrize("module", SUPPORTED, ids=lambda m: type(m).__name__)
def test_curve_matches_the_module_and_a_finite_difference(module: nn.Module) -> None:
    c = activation_curve(module, lo=-4, hi=4, n=161)  # step 0.05: the kinks at 0, +-3 fall on grid points
    assert c.name == type(module).__name__ and c.x.shape == c.y.shape == c.dy.shape == (161,)
    np.testing.assert_allclose(c.y, module(torch.tensor(c.x)).numpy(), rtol=1e-12)
    fd = (module(torch.tensor(c.x + 1e-6)) - module(torch.tensor(c.x - 1e-6))).numpy() / 2e-6
    smooth = ~np.isclose(np.abs(c.x) % 3, 0) & ~np.isclose(c.x, 0)  # away from the kinks
    np.testing.assert_allclose(c.dy[smooth], fd[smooth], atol=1e-6)


def test_exact_derivatives() -> None:
    s = activation_curve(nn.Sigmoid(), lo=-3, hi=3, n=7)
    np.testing.assert_allclose(s.dy, s.y * (1 - s.y), rtol=1e-12)
    t = activation_curve(torch.tanh, lo=-2, hi=2, n=5)
    assert t.name == "tanh"
    np.testing.assert_allclose(t.dy, 1 - np.tanh(t.x) ** 2, rtol=1e-12)
    leaky = activation_curve(nn.LeakyReLU(0.2), lo=-1, hi=1, n=3)
    assert leaky.y.tolist() == pytest.approx([-0.2, 0.0, 1.0]) and leaky.dy.tolist() == pytest.approx([0.2, 0.2, 1])
    soft = activation_curve("softplus", lo=-1, hi=1, n=3)
    np.testing.assert_allclose(soft.dy, 1 / (1 + np.exp(-soft.x)), rtol=1e-12)


def test_in_place_modules_names_and_plain_callables() -> None:
    relu = activation_curve(nn.ReLU(inplace=True), lo=-2, hi=2, n=5)
    assert relu.y.tolist() == [0, 0, 0, 1, 2] and relu.dy.tolist() == [0, 0, 0, 1, 1]
    assert activation_curve("SiLU").name == "SiLU"
    square = activation_curve(lambda v: v * v, lo=-1, hi=1, n=3)
    assert square.name == "<lambda>" and square.dy.tolist() == [-2.0, 0.0, 2.0]
    numpy_fn = activation_curve(lambda v: np.abs(v.detach().numpy()), lo=-1, hi=1, n=5)
    assert numpy_fn.notes and numpy_fn.dy.tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]


def test_curve_errors() -> None:
    with pytest.raises(ValueError, match="not elementwise"):
        activation_curve(lambda v: v.sum())
    with pytest.raises(ValueError, match="not elementwise"):
        activation_curve(nn.Softmax(dim=0))
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        activation_curve("swishy")
    with pytest.raises(TypeError, match="module, a function or a name"):
        activation_curve(3)
    with pytest.raises(ValueError, match="hi must be >= lo"):
        activation_curve("relu", lo=1, hi=0)


class OutOfOrder(nn.Module):
    """Registration order (lin1, tanh, lin2, relu) differs from call order (lin1, relu, lin2, tanh)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin1, self.tanh, self.lin2, self.relu = nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tanh(self.lin2(self.relu(self.lin1(x))))


def test_layer_activation_and_next_activation() -> None:
    cnn = small_cnn()
    assert layer_activation(cnn, "1") is cnn[1] and layer_activation(cnn, "0") is None
    assert next_activation(cnn, "0") == (cnn[1], "1")
    assert next_activation(cnn, "7") == (cnn[8], "8")
    assert next_activation(cnn, "9") is None
    model = OutOfOrder()
    assert next_activation(model, "lin1") == (model.tanh, "tanh")  # registration order
    assert next_activation(model, "lin1", torch.zeros(1, 2)) == (model.relu, "relu")  # forward order
    net = resnet("tiny")
    assert next_activation(net, "layer1.0.conv2", torch.zeros(1, 3, 16, 16))[1] == "layer1.0.relu"  # 2nd call
    assert next_activation(net, "layer1")[1] == "layer2.0.relu"  # not one inside layer1 itself
    assert hook_count(net) == 0
