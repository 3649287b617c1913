"""DeepLift's rules for what vision networks add to ReLU nets: products, divisions, norms; and its refusals.

Each rule must make the attributions sum to ``f(x) - f(x0)`` (summation-to-delta) on a net that
uses it between two Linear layers; plain gradients would not (checked once per rule, so the check
can fail). Operations with no rule (attention, max reductions, batch statistics) must raise
:class:`DeepLiftUnsupportedError` naming the operation, never return a silent gap.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from nbexplain.explainers.gradients._engine import frozen, input_gradients
from nbexplain.explainers.gradients.deeplift import DeepLift, DeepLiftUnsupportedError

RULES = {
    "swish x * x.sigmoid()": lambda h: h * h.sigmoid(),
    "squeeze-excitation gate": lambda h: h * torch.sigmoid(h.mean(1, keepdim=True)),
    "in-place mul_": lambda h: h.clone().mul_(torch.tanh(h)),
    "division by an activation": lambda h: h / (1 + h.exp()),
    "scalar / tensor": lambda h: 1 / (2 + h.abs()),
    "rsqrt and pow": lambda h: torch.rsqrt(h**2 + 1),
    "exp and clamp": lambda h: torch.exp(h.clamp(-2, 2)),
    "layer_norm": lambda h: F.layer_norm(h, (8,), torch.linspace(0.5, 1.5, 8), torch.linspace(-0.1, 0.1, 8)),
    "layer_norm eps 1e-6": lambda h: F.layer_norm(h, (8,), eps=1e-6),
    "group_norm": lambda h: F.group_norm(h.reshape(len(h), 4, 2), 2).reshape(len(h), 8),
    "rms_norm": lambda h: F.rms_norm(h, (8,), torch.linspace(0.5, 1.5, 8)),
    "nn.LayerNorm + GELU": nn.Sequential(nn.LayerNorm(8), nn.GELU()),
}


def net(act) -> nn.Module:
    torch.manual_seed(3)
    first, last = nn.Linear(5, 8), nn.Linear(8, 3)

    class Net(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return last(act(first(x)))

    model = Net().eval()
    model.first, model.last = first, last
    if isinstance(act, nn.Module):
        model.act = act
    return model


@pytest.mark.parametrize("name", list(RULES))
def test_each_rule_sums_to_delta(name):
    model = net(RULES[name])
    g = torch.Generator().manual_seed(4)
    x, b = 2 * torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)
    e = DeepLift(model).explain(x, target=2, baselines=b)
    with torch.no_grad():
        gap = (model(x) - model(b))[:, 2].double().numpy()
    np.testing.assert_allclose(e.values.sum(1), gap, rtol=1e-5, atol=1e-7)
    with frozen(model):
        grad, _ = input_gradients(model, x, torch.full((4,), 2))
    plain = ((x - b) * grad).sum(1).double().numpy()
    assert np.abs(plain - gap).max() > 1e-3 * np.abs(gap).max()  # the rule is what makes it sum


def test_a_degenerate_baseline_through_a_layer_norm_stays_exact():
    """A zero baseline reaches the LayerNorm as a constant: rsqrt(0 + 1e-6) = 1000 multiplies one factor."""
    model = net(lambda h: F.layer_norm(h, (8,), eps=1e-6))
    model.first.bias.data.zero_()  # f(0) = 0 before the norm
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(5))
    e = DeepLift(model).explain(x, target=0)
    assert np.abs(e.diagnostics["delta"]).max() < 1e-5 * np.abs(e.outputs - e.base_values).max()


class Attention(nn.Module):
    def __init__(self, fused: bool) -> None:
        super().__init__()
        self.qkv, self.fused = nn.Linear(8, 24), fused

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(h.reshape(len(h), 2, 4).repeat(1, 1, 2)).chunk(3, -1)
        if self.fused:
            return F.scaled_dot_product_attention(q, k, v).flatten(1)
        return ((q @ k.transpose(1, 2)).softmax(-1) @ v).flatten(1)


REFUSED = {
    "matmul": (lambda: nn.Sequential(nn.Linear(5, 8), Attention(False), nn.Linear(16, 3)), "matmul"),
    "scaled_dot_product_attention": (lambda: nn.Sequential(nn.Linear(5, 8), Attention(True), nn.Linear(16, 3)),
                                     "scaled_dot_product_attention"),
    "softmax inside": (lambda: net(lambda h: h.softmax(1)), "softmax inside the network"),
    "max reduction": (lambda: net(lambda h: h - h.amax(1, keepdim=True)), "amax"),
    "batch statistics": (lambda: net(lambda h: F.batch_norm(h, None, None, training=True)), "batch_norm"),
    "floor division": (lambda: net(lambda h: torch.div(h, h.exp(), rounding_mode="floor")), "div"),
    "power of an input": (lambda: net(lambda h: torch.pow(h.abs() + 1, h)), "pow with an input-dependent"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_operations_without_a_rule_are_refused_by_name(name):
    make, op = REFUSED[name]
    model = make().eval()
    with pytest.raises(DeepLiftUnsupportedError, match=f"{op}.*IntegratedGradients"):
        DeepLift(model, internal_batch_size=6).explain(torch.randn(3, 5), target=0)  # batch norm needs 2+ rows
    assert torch.overrides._get_current_function_mode_stack() == []
    assert all(p.requires_grad for p in model.parameters())


def test_linear_uses_of_the_refused_operations_are_fine():
    """A matmul with a weight, a softmax at the output of a callable target, a max over a constant: no refusal."""
    w = torch.randn(8, 3)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Linear(5, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.first(x)) @ w + torch.amax(w, 0)

    e = DeepLift(Net().eval()).explain(torch.randn(3, 5), target=lambda out: out.softmax(1)[:, 0])
    assert e.values.shape == (3, 5)
    e = DeepLift(Net().eval()).explain(torch.randn(3, 5), target=1)
    assert np.abs(e.diagnostics["relative_delta"]).max() < 1e-5
