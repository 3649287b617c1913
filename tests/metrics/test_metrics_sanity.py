"""The sanity check (model-parameter randomisation, Adebayo et al. 2018) and its similarity measures.

A small CNN trained on scikit-learn's 8x8 digits in about a second: Saliency and Integrated
Gradients must pass (their maps change when the weights are random), an edge detector that
ignores the model must fail. Checked against Quantus's MPRT (same layer order, re-initialisation
and targets: the same numbers), SSIM against scikit-image, Spearman against scipy; the user's
model, its hooks and the global random states untouched; seeded reruns identical; named errors.
"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.datasets import load_digits
from torch import nn
from torch.nn import functional as F

from nbexplain.explainers.gradients._engine import hook_count
from nbexplain.explainers.gradients.integrated_gradients import IntegratedGradients
from nbexplain.explainers.gradients.saliency import Saliency
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explanation import Explanation
from nbexplain.metrics._similarity import as_maps, ssim, ssim_window, top_k_intersection, unit_range
from nbexplain.metrics._similarity import spearman as rank_corr
from nbexplain.metrics.sanity import SanityCheckError, sanity_check
from nbexplain.tasks import Cancelled, TaskControl


class EdgeDetector:
    """An 'explanation' that ignores the model: the Sobel gradient magnitude of the input."""

    method = "edge_detector"

    def explain(self, inputs, target=None):
        x = torch.as_tensor(inputs, dtype=torch.float32)
        kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])[None, None]
        gx, gy = F.conv2d(x, kx, padding=1), F.conv2d(x, kx.transpose(-1, -2), padding=1)
        return Explanation(torch.sqrt(gx ** 2 + gy ** 2).numpy(), data=x.numpy(), method=self.method,
                           target=None if target is None else np.asarray(target))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These models are tiny: one torch thread is faster, and much faster on a shared, busy CPU."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 16, 32), nn.ReLU(), nn.Linear(32, 10))


@pytest.fixture(scope="module")
def digits(one_thread):
    """A CNN trained on digits scaled to [-1, 1] (95% held-out accuracy), and 16 held-out images."""
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X / 8.0 - 1.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(y)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = _cnn()
        opt = torch.optim.Adam(model.parameters(), 2e-2)
        for _ in range(8):
            perm = torch.randperm(1500)
            for i in range(0, 1500, 100):
                idx = perm[i:i + 100]
                opt.zero_grad()
                F.cross_entropy(model(X[idx]), y[idx]).backward()
                opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(X[1500:]).argmax(1) == y[1500:]).float().mean().item()
    assert acc > 0.9
    model.zero_grad(set_to_none=True)
    return model, X[1500:1516]


METHODS = {"saliency": "saliency", "integrated_gradients": lambda m: IntegratedGradients(m, steps=16),
           "edge": lambda m: EdgeDetector()}


def test_gradient_methods_pass_and_an_edge_detector_fails(digits):
    model, x = digits
    r = sanity_check(model, METHODS, x)
    assert r.layers == ["8", "6", "2", "0"] and r.layer_types == ["Linear", "Linear", "Conv2d", "Conv2d"]
    assert r.passed() == {"saliency": True, "integrated_gradients": True, "edge": False}
    sal, ig = (r.similarity[m]["spearman"] for m in ("saliency", "integrated_gradients"))
    assert sal[-1] < 0.25 and ig[-1] < 0.4           # fully randomised: little of the ranking is left
    assert sal[1] < 0.5 and ig[1] < 0.5              # the step the verdict reads (top 2 of 4 layers)
    for measure in ("spearman", "ssim", "top_k"):     # the edge map does not move at all
        np.testing.assert_allclose(r.similarity["edge"][measure], 1.0, atol=1e-12)
        assert r.per_sample["saliency"][measure].shape == (4, 16)
    assert r.similarity["saliency"]["ssim"][-1] < 0.5 and r.similarity["saliency"]["top_k"][-1] < 0.5
    v = r.verdicts["edge"]
    assert v.step == 1 and v.similarity == pytest.approx(1.0) and "barely changes" in v.explanation
    assert "top half of the layers" in v.rule and r.verdicts["saliency"].label == "passed"
    assert r.maps["saliency"].shape == (5, 4, 8, 8) and r.maps["saliency"].dtype == np.float32
    assert r.step_labels == ["trained", "8", "+ 6", "+ 2", "+ 0"]
    # the strip's first map is the trained model's |saliency|
    np.testing.assert_allclose(r.maps["saliency"][0], np.abs(Saliency(model).explain(x[:4]).values[:, 0]), rtol=1e-5)
    np.testing.assert_array_equal(r.target, model(x).argmax(1).numpy())


def test_input_multiplying_methods_stay_similar_on_inputs_with_exact_zeros(digits):
    """The documented caveat: on [0, 1] digits (half the pixels exactly 0) |IG| keeps its zeros."""
    model, x = digits
    unit = nn.Sequential(_Affine(), model)            # the same classifier, fed digits in [0, 1]
    r = sanity_check(unit, METHODS, (x + 1) / 2, measures="spearman", layers=2)
    assert r.similarity["integrated_gradients"]["spearman"][-1] > 0.8
    assert r.similarity["saliency"]["spearman"][-1] < 0.5
    assert not r.verdicts["integrated_gradients"].passed


class _Affine(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * x - 1


def test_cascading_and_independent_randomise_the_layers_they_say(digits):
    model, x = digits
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    seen: list[set[str]] = []

    def spy(m):  # called once per explanation: which layers of the copy differ from the trained model?
        seen.append({k.rsplit(".", 1)[0] for k, v in m.state_dict().items() if not torch.equal(v, trained[k])})
        return Saliency(m)

    sanity_check(model, {"s": spy}, x[:2], measures="spearman")
    assert seen == [set(), {"8"}, {"8", "6"}, {"8", "6", "2"}, {"8", "6", "2", "0"}]
    seen.clear()
    r = sanity_check(model, {"s": spy}, x[:2], measures="spearman", cascading=False)
    assert seen == [set(), {"8"}, {"6"}, {"2"}, {"0"}]
    assert r.verdicts["s"].step == -1 and "one at a time" in r.verdicts["s"].rule
    # a layer gets the same random values in both variants: the first step is the same model
    c = sanity_check(model, {"s": "saliency"}, x[:2], measures="spearman")
    np.testing.assert_array_equal(c.per_sample["s"]["spearman"][0], r.per_sample["s"]["spearman"][0])


def test_users_model_state_and_global_random_states_are_untouched(digits):
    model, x = digits
    m = _cnn()
    m.load_state_dict(model.state_dict())
    m.train()
    m[2].eval()                                       # a submodule frozen in eval mode under a training root
    calls = []
    m[0].register_forward_hook(lambda *a: calls.append(1))
    m[6].weight.grad = torch.ones_like(m[6].weight)
    grad = m[6].weight.grad
    before = {k: v.clone() for k, v in m.state_dict().items()}
    flags = [mod.training for mod in m.modules()]
    hooks, req = hook_count(m), [p.requires_grad for p in m.parameters()]
    torch_rng, np_rng, py_rng = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    sanity_check(m, METHODS, x[:3], measures=("spearman", "ssim"))
    assert all(torch.equal(v, before[k]) for k, v in m.state_dict().items())
    assert [mod.training for mod in m.modules()] == flags and hook_count(m) == hooks
    assert [p.requires_grad for p in m.parameters()] == req
    assert m[6].weight.grad is grad and bool((grad == 1).all())
    assert all(p.grad is None for n, p in m.named_parameters() if not n.startswith("6."))
    assert torch.equal(torch.get_rng_state(), torch_rng) and (np.random.get_state()[1] == np_rng).all()
    assert random.getstate() == py_rng


def test_seeded_reruns_are_identical_and_the_seed_matters(digits):
    model, x = digits
    kw = {"measures": ("spearman", "top_k"), "layers": 2}
    a, b = (sanity_check(model, {"s": "saliency"}, x[:4], seed=3, **kw) for _ in range(2))
    torch.manual_seed(123)                            # the global generator plays no part
    c = sanity_check(model, {"s": "saliency"}, x[:4], seed=3, **kw)
    d = sanity_check(model, {"s": "saliency"}, x[:4], seed=4, **kw)
    for other in (b, c):
        np.testing.assert_array_equal(a.per_sample["s"]["spearman"], other.per_sample["s"]["spearman"])
        np.testing.assert_array_equal(a.maps["s"], other.maps["s"])
    assert not np.array_equal(a.per_sample["s"]["spearman"], d.per_sample["s"]["spearman"])


def test_agrees_with_quantus_mprt_where_the_definitions_match():
    quantus = pytest.importorskip("quantus")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 16), nn.Tanh(),
                          nn.Linear(16, 5)).eval()
        x = torch.randn(6, 1, 8, 8)
    y = m(x).argmax(1).numpy()

    def explain(model, inputs, targets, **kw):
        return Saliency(model).explain(torch.as_tensor(inputs), target=torch.as_tensor(targets)).values

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mprt = quantus.MPRT(similarity_func=quantus.similarity_func.correlation_spearman, layer_order="top_down",
                            seed=42, abs=True, normalise=True, disable_warnings=True)
        q = mprt(model=m, x_batch=x.numpy(), y_batch=y, a_batch=None, explain_func=explain, channel_first=True,
                 device="cpu")

    def quantus_init(module, generator):  # Quantus's re-initialisation (the global generator, seed + 1)
        torch.manual_seed(43)
        module.reset_parameters()

    r = sanity_check(m, {"s": "saliency"}, x, target=y, init=quantus_init, measures="spearman")
    assert r.layers == [k for k in q if k != "original"]
    for step, layer in enumerate(r.layers):
        np.testing.assert_allclose(r.per_sample["s"]["spearman"][step], q[layer], atol=1e-6)


def test_similarity_measures_against_references():
    skimage = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(0)
    for shape in [(8, 8), (28, 28), (5, 9), (3, 3), (64, 40)]:
        a = rng.random(shape)
        b = a + 0.5 * rng.random(shape)
        _, sigma = ssim_window(*shape)
        ref = skimage.structural_similarity(unit_range(a), unit_range(b), gaussian_weights=True, sigma=sigma,
                                            use_sample_covariance=False, data_range=1.0)
        assert ssim(a, b) == pytest.approx(ref, abs=1e-12)
        assert ssim(a, 3 * a + 2) == pytest.approx(1.0)  # rescaled to [0, 1] per map
    ties = rng.integers(0, 4, (2, 60)).astype(float)
    assert rank_corr(*ties) == pytest.approx(spearmanr(*ties).statistic, abs=1e-12)
    assert rank_corr(np.zeros(5), np.zeros(5)) == 1.0 and rank_corr(np.zeros(5), np.arange(5.0)) == 0.0
    # top-k by hand: top 3 of a = {0, 1, 2}, of b = {0, 4, 1}
    assert top_k_intersection([9, 8, 7, 1, 0], [9, 7, 0, 1, 8], 3) == pytest.approx(2 / 3)
    assert top_k_intersection(np.arange(10.0), np.arange(10.0), 0.2) == 1.0
    np.testing.assert_array_equal(as_maps(-np.ones((2, 3, 4, 5))), np.full((2, 4, 5), 3.0))
    assert as_maps(np.ones((2, 7))).shape == (2, 1, 7)


def test_tabular_model_with_a_registry_method_and_kernel_shap():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        mlp = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
        X = torch.randn(12, 6)
    r = sanity_check(mlp, {"shap": lambda m: KernelShap(m, X[:8].numpy()), "grad": "saliency"}, X[8:].numpy())
    assert r.layers == ["2", "0"] and set(r.methods) == {"shap", "grad"}
    assert r.maps["shap"].shape == (3, 4, 1, 6)
    assert np.isnan(r.similarity["shap"]["ssim"]).all() and any("SSIM" in n for n in r.notes)
    assert np.isfinite(r.similarity["shap"]["spearman"]).all() and np.isfinite(r.similarity["grad"]["top_k"]).all()


def test_progress_and_cancel(digits):
    model, x = digits
    seen = []
    sanity_check(model, METHODS, x[:2], measures="spearman", control=TaskControl(lambda d, t, m: seen.append((d, t))))
    assert seen[-1] == (15.0, 15.0) and len(seen) == 15   # (4 layers + trained) x 3 methods
    control = TaskControl(lambda d, t, m: control.cancel() if d == 4 else None)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(Cancelled):
        sanity_check(model, METHODS, x[:2], measures="spearman", control=control)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items()) and hook_count(model) == 0


def test_named_errors(digits):
    model, x = digits
    with pytest.raises(SanityCheckError, match="no parameters"):
        sanity_check(nn.Sequential(nn.ReLU()), "saliency", x)
    with pytest.raises(SanityCheckError, match=r"unknown method 'salency'.*Did you mean 'saliency'"):
        sanity_check(model, "salency", x)
    with pytest.raises(SanityCheckError, match=r"unknown similarity measure.*'pearson'"):
        sanity_check(model, "saliency", x, measures=("spearman", "pearson"))
    with pytest.raises(SanityCheckError, match=r"built explainer.*factory"):
        sanity_check(model, Saliency(model), x)
    with pytest.raises(SanityCheckError, match=r"torch.nn.Module"):
        sanity_check(lambda X: X, "saliency", x)
    with pytest.raises(SanityCheckError, match="not layers with parameters"):
        sanity_check(model, "saliency", x, layers=["fc"])
    with pytest.raises(ValueError, match="top_k"):
        sanity_check(model, "saliency", x, top_k=1.5)
