"""Saliency, Gradient x Input, Integrated Gradients, SmoothGrad and expected gradients, against Captum.

Captum is a test-only reference, called with the same arguments on the shared models of
``tests/torch_models.py`` (an MLP, a small CNN, and a residual CNN with in-place ReLU and
``out += identity``). Errors are measured relative to the largest reference value (``rel``),
since an elementwise relative error is meaningless where attributions cross zero.

Tolerances, per method, and why (measured maxima over the three models in brackets):
- Saliency, Gradient x Input: the same autograd graph, but the engine measures its auto chunk on
  the first input alone, so batch composition (and with it conv/matmul kernels) differs: checked
  to 1e-5 relative [saliency 3.2e-7, gradient x input 2.7e-7].
- Integrated Gradients: the same points and weights, but we sum the weighted gradients of each
  chunk into a per-sample total as they come (sample-major), Captum sums them step-major after
  all are computed: float32 summation order differs. Checked to 1e-5 relative [<= 2.3e-7 for
  every rule; delta within 4e-8 of Captum's]. Captum's trapezoid weights sum to (n-1)/n, ours to 1
  (the trapezoid rule), so that rule is compared after rescaling Captum's by n/(n-1).
- SmoothGrad: Captum's NoiseTunnel draws its own noise from the global generator, so no call of it
  can reproduce ours. The reference regenerates our noise from our seed (documented in
  ``SmoothGrad.unit_noise``: ``x + noise * range(x) * z``) and averages Captum's method over those
  copies in a loop; checked to 1e-5 relative [mean 8e-8, squared 2.5e-8, variance 3.3e-8].
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn
from torch_models import mlp, resnet, small_cnn

from nbexplain.explainers import (
    ExpectedGradients,
    GradientXInput,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from nbexplain.explainers.gradients._engine import GradientError
from nbexplain.explainers.gradients.integrated_gradients import RULES

captum_attr = pytest.importorskip("captum.attr")

N = 4
MODELS = {
    "mlp": (lambda: mlp(6, 4).eval(), (6,)),
    "small_cnn": (lambda: small_cnn(10).eval(), (1, 8, 8)),
    "resnet_tiny": (lambda: resnet("tiny", num_classes=5).eval(), (3, 32, 32)),
}
TARGET = [0, 3, 1, 2]


def setup(name: str, seed: int = 2) -> tuple[nn.Module, torch.Tensor]:
    make, shape = MODELS[name]
    return make(), torch.randn(N, *shape, generator=torch.Generator().manual_seed(seed))


def leaf(x: torch.Tensor) -> torch.Tensor:
    """A copy that requires grad, as Captum expects its inputs."""
    return x.clone().requires_grad_(True)


def rel(ours: np.ndarray, ref: np.ndarray) -> float:
    """Max abs error over the reference's largest magnitude."""
    return float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-12))


def smooth_mlp(dtype: torch.dtype = torch.float32) -> nn.Module:
    """Tanh everywhere: infinitely differentiable, so quadrature errors fall with the step count."""
    torch.manual_seed(5)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)).to(dtype).eval()


# -- against Captum -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("absolute", [False, True])
def test_saliency_matches_captum(name, absolute):
    model, x = setup(name)
    ours = Saliency(model, absolute=absolute).explain(x, target=TARGET).values
    ref = captum_attr.Saliency(model).attribute(leaf(x), target=TARGET, abs=absolute).detach().numpy()
    assert rel(ours, ref) <= 1e-5


@pytest.mark.parametrize("name", list(MODELS))
def test_gradient_x_input_matches_captum(name):
    model, x = setup(name)
    e = GradientXInput(model).explain(x, target=TARGET)
    ref = captum_attr.InputXGradient(model).attribute(leaf(x), target=TARGET).detach().numpy()
    assert e.method == "gradient_x_input" and rel(e.values, ref) <= 1e-5


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("baseline", ["zeros", "constant", "per_sample"])
def test_integrated_gradients_matches_captum(name, rule, baseline):
    model, x = setup(name)
    b = {"zeros": None, "constant": 0.3, "per_sample": torch.randn(x.shape, generator=torch.Generator().manual_seed(9))}
    ours = IntegratedGradients(model, steps=12, rule=rule, internal_batch_size=20).explain(
        x, target=TARGET, baselines=b[baseline])
    ref, delta = captum_attr.IntegratedGradients(model).attribute(
        leaf(x), baselines=b[baseline], target=TARGET, n_steps=12, method=rule, internal_batch_size=20,
        return_convergence_delta=True)
    if rule == "riemann_trapezoid":
        # Captum's trapezoid weights are 1/n (ends halved), summing to (n-1)/n; ours are the
        # trapezoid rule's 1/(n-1), summing to 1, at the same points: the values differ by that factor
        ref, delta = ref * 12 / 11, None
    assert rel(ours.values, ref.detach().numpy()) <= 1e-5
    if delta is not None:
        np.testing.assert_allclose(ours.diagnostics["delta"], delta.numpy(), atol=1e-5 * np.abs(ours.outputs).max())
    with torch.no_grad():
        fb = model(torch.zeros_like(x) + (0 if b[baseline] is None else b[baseline]))[range(N), TARGET]
        fx = model(x)[range(N), TARGET]
    np.testing.assert_allclose(ours.base_values, fb.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.outputs, fx.numpy(), rtol=1e-5)


def noisy_copies(x: torch.Tensor, n_samples: int, noise: float, seed: int) -> list[torch.Tensor]:
    """Our SmoothGrad noise, regenerated from its documented recipe (one pattern, scaled per sample)."""
    z = torch.randn((n_samples, *x.shape[1:]), generator=torch.Generator().manual_seed(seed))
    flat = x.flatten(1)
    sigma = noise * (flat.max(1).values - flat.min(1).values)
    return [x + sigma.view(-1, *(1,) * (x.ndim - 1)) * z[j] for j in range(n_samples)]


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("variant", ["mean", "squared", "variance"])
def test_smoothgrad_matches_captum_saliency_over_the_same_noise(name, variant):
    model, x = setup(name)
    e = SmoothGrad(Saliency(model), n_samples=6, noise=0.2, seed=11, variant=variant).explain(x, target=TARGET)
    ref = torch.stack([captum_attr.Saliency(model).attribute(leaf(c), target=TARGET, abs=False).detach()
                       for c in noisy_copies(x, 6, 0.2, 11)])
    expected = {"mean": ref.mean(0), "squared": (ref**2).mean(0), "variance": ref.var(0, unbiased=False)}[variant]
    prefix = {"mean": "smoothgrad", "squared": "smoothgrad_sq", "variance": "vargrad"}[variant]
    assert e.method == f"{prefix}(saliency)" and rel(e.values, expected.numpy()) <= 1e-5
    with torch.no_grad():  # the clean input's outputs, not the noisy copies'
        np.testing.assert_allclose(e.outputs, model(x)[range(N), TARGET].numpy(), rtol=1e-5)


def test_smoothgrad_of_integrated_gradients_matches_captum_over_the_same_noise():
    model, x = setup("small_cnn")
    ig = IntegratedGradients(model, steps=8, rule="riemann_middle", baselines=0.1, internal_batch_size=7)
    e = SmoothGrad(ig, n_samples=3, noise=0.1, seed=4).explain(x, target=TARGET)
    refs, deltas = zip(*(captum_attr.IntegratedGradients(model).attribute(
        leaf(c), baselines=0.1, target=TARGET, n_steps=8, method="riemann_middle", return_convergence_delta=True)
        for c in noisy_copies(x, 3, 0.1, 4)), strict=True)
    assert rel(e.values, torch.stack(refs).detach().mean(0).numpy()) <= 1e-5
    np.testing.assert_allclose(e.diagnostics["delta"], torch.stack(deltas).mean(0).numpy(), atol=1e-5)
    assert e.method == "smoothgrad(integrated_gradients)" and e.params["steps"] == 8


# -- axioms ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule, steps, factor", [
    ("gausslegendre", (2, 4, 8, 16), 20), ("riemann_trapezoid", (4, 16, 64), 10),
    ("riemann_middle", (4, 16, 64), 10), ("riemann_left", (4, 16, 64), 3)])
def test_completeness_error_falls_as_steps_rise(rule, steps, factor):
    # float64, so rounding does not floor the error. Seen, for each step count: Gauss-Legendre
    # 1.8e-2, 7.9e-4, 3.6e-7, 6.5e-13 (spectral); trapezoid 1.3e-2, 4.8e-4, 2.7e-5 and middle
    # 3.9e-3, 2.1e-4, 1.3e-5 (second order: x16 per x4 steps); left 5.4e-2, 1.5e-2, 3.8e-3 (first order).
    model = smooth_mlp(torch.float64)
    x = torch.randn(N, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2
    errors = [np.abs(IntegratedGradients(model, steps=s, rule=rule).explain(x, target=0).diagnostics["delta"]).max()
              for s in steps]
    assert all(a > factor * b for a, b in itertools.pairwise(errors)), errors


@pytest.mark.parametrize("make", [
    lambda m: IntegratedGradients(m, steps=9, baselines="blur", sigma=1.0),
    lambda m: IntegratedGradients(m, steps=5, baselines=["uniform", 0.5]),
    lambda m: SmoothGrad(GradientXInput(m), n_samples=5),
    lambda m: ExpectedGradients(m, torch.rand(7, 1, 8, 8, generator=torch.Generator().manual_seed(0)), n_samples=9),
], ids=["ig_blur", "ig_uniform_and_constant", "smoothgrad", "expected_gradients"])
def test_batched_equals_per_sample(make):
    model, x = setup("small_cnn")
    batch = make(model).explain(x, target=TARGET)
    for i in range(N):
        one = make(model).explain(x[i:i + 1], target=TARGET[i])
        assert rel(one.values[0], batch.values[i]) <= 1e-5
        np.testing.assert_allclose(one.diagnostics.get("delta", 0), batch.diagnostics.get("delta", np.zeros(N))[i],
                                   atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda m, s: SmoothGrad(Saliency(m), n_samples=4, seed=s),
    lambda m, s: IntegratedGradients(m, steps=4, baselines="uniform", seed=s),
    lambda m, s: ExpectedGradients(m, torch.randn(5, 6, generator=torch.Generator().manual_seed(0)), n_samples=6, seed=s),
], ids=["smoothgrad", "ig_uniform", "expected_gradients"])
def test_seeded_rerun_is_identical_and_another_seed_differs(make):
    model, x = setup("mlp")
    torch.manual_seed(123)  # the global generator must play no part
    a = make(model, 3).explain(x, target=TARGET).values
    torch.manual_seed(456)
    b = make(model, 3).explain(x, target=TARGET).values
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, make(model, 4).explain(x, target=TARGET).values)


class BatchSizes(nn.Module):
    """Records the batch size of every forward pass of ``inner``."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.sizes = inner, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.sizes.append(x.shape[0])
        return self.inner(x)


@pytest.mark.parametrize("baselines", [None, [0.0, "uniform"]], ids=["one_baseline", "two_baselines"])
def test_chunk_size_changes_nothing_and_bounds_every_pass(baselines):
    model, x = setup("resnet_tiny")
    small = BatchSizes(model)
    a = IntegratedGradients(small, steps=7, internal_batch_size=3).explain(x, target=TARGET, baselines=baselines)
    b = IntegratedGradients(model, steps=7, internal_batch_size=1000).explain(x, target=TARGET, baselines=baselines)
    assert rel(a.values, b.values) <= 1e-5  # 4 samples x 7 steps in chunks of 3 straddle samples
    assert max(small.sizes) <= 3 and a.params["internal_batch_size_used"] == 3


def test_several_baselines_average_their_attributions():
    model, x = setup("small_cnn")
    ig = IntegratedGradients(model, steps=6)
    b2 = torch.rand(x.shape, generator=torch.Generator().manual_seed(8))
    both = ig.explain(x, target=TARGET, baselines=torch.stack([torch.zeros_like(x), b2], 1))
    one, two = ig.explain(x, target=TARGET), ig.explain(x, target=TARGET, baselines=b2)
    assert rel(both.values, (one.values + two.values) / 2) <= 1e-6
    np.testing.assert_allclose(both.base_values, (one.base_values + two.base_values) / 2, rtol=1e-6)
    assert rel(ig.explain(x, target=TARGET, baselines=["zeros", b2]).values, both.values) <= 1e-6


def test_expected_gradients_with_one_background_row_approaches_integrated_gradients():
    # Monte Carlo over alpha only: the error shrinks like 1/sqrt(n_samples); seen 0.5% of the
    # largest attribution at 4000 draws (3.2% at 400); the bound is 2%.
    model = smooth_mlp()
    x = torch.randn(N, 6, generator=torch.Generator().manual_seed(2))
    b = torch.randn(1, 6, generator=torch.Generator().manual_seed(3))
    ig = IntegratedGradients(model, steps=32, baselines=b).explain(x, target=1)
    eg = ExpectedGradients(model, b, n_samples=4000, seed=1).explain(x, target=1)
    assert rel(eg.values, ig.values) <= 0.02
    np.testing.assert_allclose(eg.base_values, ig.base_values, rtol=1e-6)
    assert np.abs(eg.diagnostics["relative_delta"]).max() <= 0.02


def test_bfloat16_autocast_reports_its_completeness_error():
    model = smooth_mlp()
    x = torch.randn(N, 6, generator=torch.Generator().manual_seed(4))
    fp32 = IntegratedGradients(model, steps=16).explain(x, target=0)
    bf16 = IntegratedGradients(model, steps=16, dtype=torch.bfloat16).explain(x, target=0)
    assert bf16.params["dtype"] == "torch.bfloat16" and bf16.values.dtype == np.float32
    assert np.abs(fp32.diagnostics["relative_delta"]).max() < 1e-4
    # bfloat16 keeps 8 bits of mantissa; delta is measured against f(x) - f(b) in float32. Seen:
    # relative delta 3.8e-2 (bf16) vs 7.8e-6 (fp32), attributions 0.15% of the largest apart.
    assert 0 < np.abs(bf16.diagnostics["relative_delta"]).max() < 0.1
    assert rel(bf16.values, fp32.values) < 0.1


def test_blur_baseline_and_noise_free_smoothgrad():
    model, x = setup("small_cnn")
    e = IntegratedGradients(model, steps=4, baselines="blur", sigma=1.5).explain(x, target=TARGET)
    with torch.no_grad():
        blurred = IntegratedGradients(model, sigma=1.5).resolve_baselines(x, "blur")[:, 0]
        fb = model(blurred)[range(N), TARGET].numpy()
    np.testing.assert_allclose(e.base_values, fb, rtol=1e-5)
    assert float(blurred.std()) < float(x.std())
    sg = SmoothGrad(Saliency(model), n_samples=3).explain(x, target=TARGET, noise=0.0)
    assert rel(sg.values, Saliency(model).explain(x, target=TARGET).values) <= 1e-6  # a mean of 3 equal copies
    assert SmoothGrad(model, n_samples=2).method == "smoothgrad(saliency)"  # a bare model means its saliency


# -- bad input ------------------------------------------------------------------------------------
class Argmax(nn.Module):
    def __init__(self, detach: bool) -> None:
        super().__init__()
        self.lin, self.detach = nn.Linear(6, 3), detach

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.lin(x)
        return out.detach() if self.detach else nn.functional.one_hot(out.argmax(1), 3).float()


def test_named_errors():
    model, x = setup("mlp")
    with pytest.raises(ValueError, match=r"baselines have shape \(3, 5\) but inputs have shape \(4, 6\)"):
        IntegratedGradients(model).explain(x, baselines=torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"background has shape \(2, 5\) but inputs have shape \(4, 6\)"):
        ExpectedGradients(model, torch.zeros(2, 5)).explain(x)
    with pytest.raises(TypeError, match=r"integers, which have no gradient.* LayerIntegratedGradients\(model, layer=model.get_input_embeddings"):
        IntegratedGradients(model).explain(x.long())
    with pytest.raises(ValueError, match=r"valid targets are 0\.\.3"):
        IntegratedGradients(model).explain(x, target=4)
    for detach in (False, True):
        with pytest.raises(GradientError, match="does not depend differentiably"):
            IntegratedGradients(Argmax(detach), steps=4).explain(x)
    with pytest.raises(ValueError, match=r"unknown integration rule 'simpson'.*riemann_trapezoid"):
        IntegratedGradients(model, rule="simpson")
    with pytest.raises(ValueError, match="steps must be a positive int"):
        IntegratedGradients(model, steps=0)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        IntegratedGradients(model).explain(x, steps=0)
    with pytest.raises(ValueError, match=r"'blur' baseline needs images"):
        IntegratedGradients(model, baselines="blur").explain(x)
    with pytest.raises(ValueError, match=r"unknown baseline 'black'.*zeros"):
        IntegratedGradients(model).explain(x, baselines="black")
    with pytest.raises(ValueError, match=r"unknown variant 'median'.*variance"):
        SmoothGrad(Saliency(model), variant="median")
    with pytest.raises(TypeError, match="gradient explainer instance"):
        SmoothGrad(lambda z: z)
    with pytest.raises(TypeError, match="takes no baselines"):
        SmoothGrad(Saliency(model)).explain(x, baselines=0.0)
