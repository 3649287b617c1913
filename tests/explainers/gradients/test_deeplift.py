"""DeepLift (Rescale rule) against Captum's DeepLift, on models hook-based tools cannot run.

Captum 0.9's DeepLift differs from the Rescale rule in two places, both shown here and both
removed in the Captum runs that serve as references:

* a nonlinear module whose output feeds another one directly (``ReLU -> MaxPool2d``: small_cnn,
  ResNet's stem) captures the *plain* gradient of the second (two tensor hooks on one tensor;
  the capturing one runs first), so its completeness gap is far from zero. A ``Clone`` module
  between them restores the rule;
* its max-pool rule routes gradients back with ``max_unpool``, which overwrites positions shared
  by overlapping windows (``MaxPool2d(3, 2, 1)``); an accumulating unpool restores completeness.

With both removed, Captum and nbexplain agree to 1e-5 relative (seen: about 2e-7).
"""

from __future__ import annotations

import copy
import types
import warnings

import numpy as np
import pytest
import torch
import torch_models as tm
from torch import nn
from torch.nn import functional as F

from nbexplain.explainers.gradients._engine import (
    GradientError,
    frozen,
    hook_count,
    input_gradients,
)
from nbexplain.explainers.gradients.deeplift import DeepLift

captum_dl = pytest.importorskip("captum.attr._core.deep_lift")


def rel_err(ours: np.ndarray, ref: torch.Tensor) -> float:
    ref_np = ref.detach().numpy()
    return float(np.abs(ours - ref_np).max() / np.abs(ref_np).max())


def captum(model: nn.Module, x: torch.Tensor, baselines: torch.Tensor, target: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attr, delta = captum_dl.DeepLift(model).attribute(x, baselines=baselines, target=target,
                                                          return_convergence_delta=True)
    return attr.detach(), delta.detach()


class Clone(nn.Module):
    """A new tensor between two nonlinear modules, so Captum's two tensor hooks do not share one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()


def _captum_block_forward(self: tm.BasicBlock, x: torch.Tensor) -> torch.Tensor:
    identity = x if self.downsample is None else self.downsample(x)
    out = self.relu(self.bn1(self.conv1(x)))
    out = self.bn2(self.conv2(out))
    return self.relu_out(out + identity)


def captum_resnet(model: nn.Module) -> nn.Module:
    """What Captum needs: no in-place ReLU, one ReLU module per call, a clone between ReLU and MaxPool."""
    m = copy.deepcopy(model)
    m.relu = nn.Sequential(nn.ReLU(), Clone())
    for block in m.modules():
        if isinstance(block, tm.BasicBlock):
            block.relu, block.relu_out = nn.ReLU(), nn.ReLU()
            block.forward = types.MethodType(_captum_block_forward, block)
    return m.eval()


def _accumulating_maxpool2d(module: nn.Module, inputs: torch.Tensor, outputs: torch.Tensor, grad_input: torch.Tensor,
                            grad_output: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    def unpool(values: torch.Tensor, indices: torch.Tensor, *_args: object) -> torch.Tensor:
        shape = module.input.shape
        res = values.new_zeros(shape[0], shape[1], shape[2] * shape[3])
        return res.scatter_add_(2, indices.flatten(2), values.flatten(2)).reshape(shape)

    return captum_dl.maxpool(module, F.max_pool2d, unpool, inputs, outputs, grad_input, grad_output, eps=eps)


def data(shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g), 0.3 * torch.randn(*shape, generator=g)


# -- (1) equal to Captum: module activations, max pooling ----------------------------------------------
@pytest.mark.parametrize("kind", ["zeros", "one", "per_sample"])
def test_mlp_matches_captum(kind: str) -> None:
    model = tm.mlp()
    x, b = data((5, 6), 0)
    base = {"zeros": torch.zeros(1, 6), "one": b[:1], "per_sample": b}[kind]
    target = [0, 1, 2, 3, 1]
    ref, _ = captum(model, x, base.expand_as(x), target)
    e = DeepLift(model).explain(x, target=target, baselines=None if kind == "zeros" else base)
    assert rel_err(e.values, ref) < 1e-5
    assert np.abs(e.diagnostics["relative_delta"]).max() < 1e-5


def test_small_cnn_matches_captum() -> None:
    model = tm.small_cnn()
    x, b = data((5, 1, 8, 8), 1)
    target = [0, 1, 2, 3, 1]
    e = DeepLift(model).explain(x, target=target, baselines=b)
    layers = list(copy.deepcopy(model))
    ref, ref_delta = captum(nn.Sequential(*layers[:5], Clone(), *layers[5:]).eval(), x, b, target)
    assert rel_err(e.values, ref) < 1e-5
    assert float(ref_delta.abs().max()) < 1e-5
    # The same bound as Captum's on the absolute gap (ours is ~7e-8). Relative to |f(x) - f(x0)|,
    # which is only ~0.007 for sample 2, float32 rounding reaches ~1.1e-5 on some CPUs.
    assert np.abs(e.diagnostics["delta"]).max() < 1e-5
    assert np.abs(e.diagnostics["relative_delta"]).max() < 5e-5
    _, raw_delta = captum(model, x, b, target)  # ReLU feeding MaxPool directly: Captum's gap
    assert float(raw_delta.abs().max()) > 1e-3


def test_average_baselines_matches_captum_deepliftshap() -> None:
    model = tm.mlp()
    x, _ = data((3, 6), 2)
    background = torch.randn(4, 6, generator=torch.Generator().manual_seed(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = captum_dl.DeepLiftShap(model).attribute(x, baselines=background, target=1)
    e = DeepLift(model, baselines=background, average_baselines=True).explain(x, target=1)
    assert rel_err(e.values, ref) < 1e-5
    singles = [DeepLift(model).explain(x, target=1, baselines=background[j]).values for j in range(4)]
    np.testing.assert_allclose(e.values, np.mean(singles, axis=0), rtol=1e-5, atol=1e-7)
    with torch.no_grad():
        np.testing.assert_allclose(e.base_values, model(background)[:, 1].mean().item(), rtol=1e-5)
    np.testing.assert_allclose(e.values.sum(1) + e.base_values, e.outputs, rtol=1e-5, atol=1e-6)


# -- (2) ResNet with in-place ReLU and out += identity ----------------------------------------------
def test_resnet_inplace_matches_captum(monkeypatch: pytest.MonkeyPatch) -> None:
    model = tm.resnet("tiny", num_classes=5)
    x, b = data((3, 3, 32, 32), 4)
    x_before = x.clone()
    target = [0, 1, 2]
    e = DeepLift(model).explain(x, target=target, baselines=b)
    assert torch.equal(x, x_before)
    reference = captum_resnet(model)
    _, raw_delta = captum(reference, x, b, target)  # overlapping 3x3/2 windows: max_unpool overwrites
    assert float(raw_delta.abs().max()) > 1e-3
    monkeypatch.setitem(captum_dl.SUPPORTED_NON_LINEAR, nn.MaxPool2d, _accumulating_maxpool2d)
    ref, ref_delta = captum(reference, x, b, target)
    assert rel_err(e.values, ref) < 1e-5
    assert float(ref_delta.abs().max()) < 1e-5


# -- (3) summation-to-delta where Captum sees no activations ----------------------------------------
@pytest.mark.parametrize("name", ["resnet_tiny", "functional_cnn"])
def test_summation_to_delta(name: str) -> None:
    model, shape = {"resnet_tiny": (tm.resnet("tiny", num_classes=5), (3, 3, 32, 32)),
                    "functional_cnn": (tm.functional_cnn(), (3, 1, 8, 8))}[name]
    x, b = data(shape, 5)
    target = torch.tensor([0, 1, 2])
    e = DeepLift(model).explain(x, target=target, baselines=b)
    # float32 sums of thousands of terms against |f(x) - f(x0)| down to ~6e-4: seen up to 1e-5
    assert np.abs(e.diagnostics["relative_delta"]).max() < 1e-4
    with torch.no_grad():
        gap = (model(x) - model(b))[torch.arange(3), target].numpy()
    np.testing.assert_allclose(e.values.reshape(3, -1).sum(1), gap, rtol=1e-4, atol=1e-6)
    with frozen(model):
        grad, _ = input_gradients(model, x, target)
    gxi_gap = np.abs(((x - b) * grad).flatten(1).sum(1).numpy() - gap) / np.abs(gap)
    assert gxi_gap.max() > 1e-2  # gradient x (input - baseline) is far from complete


def test_captum_silently_uses_gradients_on_functional_activations() -> None:
    model = tm.functional_cnn()
    x, b = data((3, 1, 8, 8), 6)
    ref, ref_delta = captum(model, x, b, [0, 1, 2])  # no nn.ReLU modules: plain gradients at [x; b]
    with frozen(model):
        grad, _ = input_gradients(model, x, torch.tensor([0, 1, 2]))
    assert rel_err(((x - b) * grad).numpy(), ref) < 1e-5
    e = DeepLift(model).explain(x, target=[0, 1, 2], baselines=b)
    assert float(ref_delta.abs().max()) > 100 * np.abs(e.diagnostics["delta"]).max()


# -- (4) shap's DeepExplainer on in-place ReLU ------------------------------------------------------
def test_shap_deepexplainer_fails_where_deeplift_runs() -> None:
    shap = pytest.importorskip("shap")
    model = tm.resnet("tiny", num_classes=5)
    x, b = data((2, 3, 32, 32), 7)
    e = DeepLift(model).explain(x, baselines=b)
    assert np.abs(e.diagnostics["relative_delta"]).max() < 1e-5
    assert hook_count(model) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.DeepExplainer(model, b)
        with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
            explainer.shap_values(x, check_additivity=False)
    assert hook_count(model) > 0  # and shap leaves its hooks on the model after the error


# -- (5) batching, state, exceptions ----------------------------------------------------------------
def test_batched_equals_per_sample() -> None:
    model = tm.resnet("tiny", num_classes=5)
    x, b = data((4, 3, 32, 32), 8)
    batched = DeepLift(model).explain(x, target=1, baselines=b)
    one_pair = DeepLift(model, internal_batch_size=2).explain(x, target=1, baselines=b)
    assert one_pair.params["internal_batch_size_used"] == 2
    np.testing.assert_allclose(one_pair.values, batched.values, rtol=1e-5, atol=1e-7)
    for i in range(4):
        single = DeepLift(model).explain(x[i:i + 1], target=1, baselines=b[i:i + 1])
        np.testing.assert_allclose(single.values[0], batched.values[i], rtol=1e-5, atol=1e-7)


class Exploding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.act = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(0.5)
        self.explode = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.lin(x))
        if self.explode and torch.is_grad_enabled():
            raise RuntimeError("boom")
        return self.drop(h)


def test_state_restored_when_model_raises() -> None:
    model = Exploding().train()
    model.lin.bias.requires_grad_(False)
    model.explode = True
    with pytest.raises(RuntimeError, match="boom"):
        DeepLift(model, internal_batch_size=4).explain(torch.randn(3, 4), target=0)  # raises under the mode
    assert model.training and model.drop.training
    assert model.lin.weight.requires_grad and not model.lin.bias.requires_grad
    assert hook_count(model) == 0
    assert torch.overrides._get_current_function_mode_stack() == []
    model.explode = False
    model.eval()
    x = torch.randn(3, 4, requires_grad=True)
    y = model(x)
    (g,) = torch.autograd.grad(y[:, 0].sum(), x)  # plain autograd again, not Rescale
    expected = (model.lin(x)[:, :1] > 0).float() * model.lin.weight[0]
    torch.testing.assert_close(g, expected.detach())


def test_forward_values_unchanged_under_the_mode() -> None:
    from nbexplain.explainers.gradients._rescale import RescaleMode

    model = tm.functional_cnn().eval()
    x, b = data((2, 1, 8, 8), 9)
    batch = torch.cat([x, b]).requires_grad_(True)
    with torch.no_grad():
        plain = model(batch)
    with RescaleMode(rows=4) as mode:
        ours = model(batch.clone())
    torch.testing.assert_close(ours, plain)
    assert mode.unpaired == []


# every intercepted call style: Linear -> activation -> Linear sums to delta only if Rescale ran
ACTIVATIONS = {
    "nn.ReLU(inplace)": nn.ReLU(inplace=True),
    "F.relu(inplace)": lambda h: F.relu(h, inplace=True),
    "torch.relu_": lambda h: (torch.relu_(h), h)[1],
    "Tensor.relu_": lambda h: (h.relu_(), h)[1],
    "Tensor.sigmoid_": lambda h: (h.sigmoid_(), h)[1],
    "torch.tanh_": lambda h: (torch.tanh_(h), h)[1],
    "nn.ELU(inplace)": nn.ELU(alpha=0.7, inplace=True),
    "F.leaky_relu_": lambda h: F.leaky_relu_(h, 0.2),
    "nn.GELU(tanh)": nn.GELU(approximate="tanh"),
    "nn.SiLU": nn.SiLU(),
    "nn.Softplus": nn.Softplus(beta=2.0),
    "F.mish": F.mish,
    "nn.Hardtanh": nn.Hardtanh(-0.5, 0.5),
    "max_pool1d": lambda h: F.max_pool1d(h.view(h.shape[0], 2, 4), 2, 1, ceil_mode=True).flatten(1)[:, :4]
    .repeat(1, 2),
    "max_pool3d+indices": lambda h: F.max_pool3d(h.view(h.shape[0], 1, 2, 2, 2), 2, return_indices=True)[0]
    .flatten(1).repeat(1, 8),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_call_style_sums_to_delta(name: str) -> None:
    act = ACTIVATIONS[name]
    torch.manual_seed(10)
    first, last = nn.Linear(5, 8), nn.Linear(8, 3)

    class Net(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return last(act(first(x)))

    model = Net().eval()
    model.first, model.last = first, last
    x, b = data((4, 5), 11)
    e = DeepLift(model).explain(x, target=2, baselines=3 * b)
    assert np.abs(e.diagnostics["relative_delta"]).max() < 1e-4
    with torch.no_grad():
        np.testing.assert_allclose(e.base_values, model(3 * b)[:, 2].numpy(), rtol=1e-5, atol=1e-6)


# -- (6) bad input ------------------------------------------------------------------------------------
def test_bad_input() -> None:
    model = tm.mlp()
    x = torch.randn(3, 6)
    with pytest.raises(ValueError, match=r"baselines have shape \(2, 5\).*average_baselines=True"):
        DeepLift(model).explain(x, baselines=torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"with average_baselines=True pass a set"):
        DeepLift(model, average_baselines=True).explain(x, baselines=torch.zeros(2, 5))
    with pytest.raises(TypeError, match="integers, which have no gradient"):
        DeepLift(model).explain(torch.ones(3, 6, dtype=torch.int64))
    with pytest.raises(ValueError, match="eps must be a positive"):
        DeepLift(model, eps=0).explain(x)
    with pytest.raises(GradientError, match="softmax"):
        DeepLift(nn.Sequential(model, nn.Softmax(dim=1))).explain(x)
    e = DeepLift(model).explain(x, target=lambda out: out.softmax(1)[:, 0])  # softmax in the target: allowed
    assert e.values.shape == (3, 6)


def test_unpaired_activation_warns() -> None:
    class Transposed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(torch.tanh(x.t()).t())

    with pytest.warns(UserWarning, match="tanh"):
        DeepLift(Transposed()).explain(torch.randn(2, 3), target=0)


# -- (7) it scales ------------------------------------------------------------------------------------
def test_resnet18_delta_small() -> None:
    model = tm.resnet("18")  # about 0.5 s warm on 2 cores; first oneDNN calls cost more
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(12))
    e = DeepLift(model, internal_batch_size=4).explain(x)
    assert np.abs(e.diagnostics["relative_delta"]).max() < 1e-4  # seen: 2e-6
    assert hook_count(model) == 0
