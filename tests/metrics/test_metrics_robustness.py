"""Infidelity and max-sensitivity: the numbers of ``captum.metrics`` with the same perturbations, and known answers.

Captum 0.9 is the reference: the same perturbations are fed to both (a callable that replays
recorded rows, in Captum's ``repeat_interleave`` order, or our seeded draws regenerated), for
Saliency and Integrated Gradients on a CNN and KernelSHAP on a tabular MLP; they agree to 1e-5.
Known answers: the exact attribution of a linear model has infidelity 0, a linear model's
gradient has max-sensitivity 0. Seeded, chunk-independent, the global random states untouched.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine
from torch import nn

from nbexplain.explainers.gradients._engine import hook_count
from nbexplain.explainers.gradients.integrated_gradients import IntegratedGradients
from nbexplain.explainers.gradients.saliency import Saliency
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.metrics._robustness_parts import draw_perturbed, make_generator
from nbexplain.metrics.robustness import (
    RobustnessError,
    RobustnessScores,
    infidelity,
    max_sensitivity,
)
from nbexplain.validate import ParameterError

captum_metrics = pytest.importorskip("captum.metrics")
S = 6  # perturbations per sample


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one torch thread is faster, and much faster on a shared, busy CPU."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def cnn():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 16), nn.Tanh(),
                          nn.Linear(16, 5)).eval()
        x = torch.randn(5, 1, 8, 8)
    return m, x, m(x).argmax(1)


@pytest.fixture(scope="module")
def wine():
    """A small MLP on the wine table (13 features: KernelSHAP is exact) and its KernelShap explainer."""
    X, y = load_wine(return_X_y=True)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        mlp = nn.Sequential(nn.Linear(13, 16), nn.Tanh(), nn.Linear(16, 3))
        opt = torch.optim.Adam(mlp.parameters(), 1e-2)
        for _ in range(100):
            opt.zero_grad()
            nn.functional.cross_entropy(mlp(torch.from_numpy(X)), torch.from_numpy(y)).backward()
            opt.step()
    mlp.eval().zero_grad(set_to_none=True)
    return mlp, X, KernelShap(mlp, X[:10], background_summary="sample")


class Replay:
    """A Captum-style perturb_func that hands out recorded rows in order: the same draws for both."""

    def __init__(self, noise: torch.Tensor, infidelity: bool = True) -> None:
        self.noise, self.i, self.infidelity = noise, 0, infidelity

    def __call__(self, inputs):
        tup = isinstance(inputs, tuple)
        x = inputs[0] if tup else inputs
        r = self.noise[self.i:self.i + len(x)].to(x.dtype)
        self.i += len(x)
        if self.infidelity:
            return r, x - r
        return (x + r,) if tup else x + r


def _captum_explainer(explainer):
    """Our explainer as Captum's explanation_func (tuple in, tuple out)."""
    def explain(inputs, target=None):
        tup = isinstance(inputs, tuple)
        x = inputs[0] if tup else inputs
        arr = x.numpy() if isinstance(explainer, KernelShap) else x
        out = torch.as_tensor(explainer.explain(arr, target=target).values)
        return (out,) if tup else out
    return explain


@pytest.mark.parametrize("which", ["saliency", "integrated_gradients"])
@pytest.mark.parametrize("normalize", [False, True])
def test_infidelity_matches_captum_on_a_cnn(cnn, which, normalize):
    m, x, t = cnn
    explainer = Saliency(m) if which == "saliency" else IntegratedGradients(m, steps=16)
    e = explainer.explain(x, target=t)
    noise = torch.randn(len(x) * S, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    ours = infidelity(m, e, x, perturb=Replay(noise), n_perturb_samples=S, normalize=normalize, batch_size=4)
    ref = captum_metrics.infidelity(m, Replay(noise), x, torch.as_tensor(e.values), target=t,
                                    n_perturb_samples=S, normalize=normalize).numpy()
    np.testing.assert_allclose(ours.scores, ref, rtol=1e-5, atol=1e-12)
    assert ref.max() > 1e-6 and ours.method == which and ours.params["perturb"] == "Replay"
    # the explainer itself instead of its explanation: the same numbers
    again = infidelity(m, explainer, x, t, perturb=Replay(noise), n_perturb_samples=S, normalize=normalize)
    np.testing.assert_allclose(again.scores, ours.scores, rtol=1e-4)  # float32 sums of another chunking


@pytest.mark.parametrize("multiply", [False, True])
def test_infidelity_builtin_perturbations_match_captums_decorator(wine, multiply):
    """Our seeded "subset" draws, regenerated for Captum: I = x - x' or (x - x') / (x - baseline)."""
    mlp, X, ks = wine
    x, base = torch.from_numpy(X[20:24]), torch.from_numpy(X[:10].mean(0))
    e = ks.explain(X[20:24])
    ours = infidelity(mlp, e, X[20:24], perturb="subset", baselines=base, n_perturb_samples=S,
                      multiply_by_inputs=multiply, seed=7, batch_size=5)
    assert ours.params["multiply_by_inputs"] is multiply and ours.method == "kernel_shap_exact"
    rows = x.repeat_interleave(S, 0)
    drawn = draw_perturbed("subset", rows, base.expand_as(rows), make_generator(7, "cpu"), 0.0)

    @captum_metrics.infidelity_perturb_func_decorator(multiply)
    def perturb(inputs, baselines=None):
        return drawn

    ref = captum_metrics.infidelity(mlp, perturb, x, torch.as_tensor(e.values).float(), baselines=base[None],
                                    target=torch.as_tensor(e.target), n_perturb_samples=S).numpy()
    np.testing.assert_allclose(ours.scores, ref, rtol=1e-5, atol=1e-9)
    # "auto" reads the method: KernelSHAP's values add up to the output change, so they multiply by inputs
    auto = infidelity(mlp, e, X[20:24], perturb="subset", baselines=base, n_perturb_samples=S, seed=7)
    assert auto.params["multiply_by_inputs"] is True


def test_max_sensitivity_matches_captum(cnn, wine):
    m, x, t = cnn
    for explainer, inputs, target in ((Saliency(m), x, t), (IntegratedGradients(m, steps=16), x, t),
                                      (wine[2], wine[1][30:34], None)):
        # our default perturbation (uniform in the L-inf ball), regenerated row by row for Captum
        xt = torch.as_tensor(inputs)
        drawn = draw_perturbed("uniform", xt.repeat_interleave(S, 0), None, make_generator(3, "cpu"), 0.05)
        ours = max_sensitivity(explainer, inputs, target, perturb_radius=0.05, n_perturb_samples=S, seed=3,
                               batch_size=7)
        kw = {} if target is None else {"target": target}
        if target is None:  # Captum re-explains for the target given: the one our explainer resolved
            kw["target"] = torch.as_tensor(ours.target)
        ref = captum_metrics.sensitivity_max(_captum_explainer(explainer), xt,
                                             perturb_func=Replay(drawn - xt.repeat_interleave(S, 0), False),
                                             n_perturb_samples=S, **kw).numpy()
        np.testing.assert_allclose(ours.scores, ref, rtol=1e-5, atol=1e-9)
        assert ref.max() > 1e-4


def test_max_sensitivity_with_a_replayed_callable_and_another_norm(cnn):
    m, x, t = cnn
    noise = 0.1 * torch.randn(len(x) * S, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    ours = max_sensitivity(Saliency(m), x, t, perturb=Replay(noise, False), n_perturb_samples=S, norm_ord=1)
    ref = captum_metrics.sensitivity_max(_captum_explainer(Saliency(m)), x, perturb_func=Replay(noise, False),
                                         n_perturb_samples=S, norm_ord=1, target=t).numpy()
    np.testing.assert_allclose(ours.scores, ref, rtol=1e-5)


def test_known_answers_for_a_linear_model():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        lin = nn.Linear(6, 3).double()
        x = torch.randn(4, 6, dtype=torch.float64)
    # the gradient explains any small perturbation exactly: f(x) - f(x - I) = w . I
    sal = infidelity(lin, Saliency(lin), x, target=2, noise_scale=0.5, n_perturb_samples=20)
    assert sal.params["multiply_by_inputs"] is False and sal.scores.max() < 1e-20
    # IG of a linear model is w * (x - b): exact for removing any subset of features
    ig = infidelity(lin, IntegratedGradients(lin, steps=4), x, target=2, perturb="subset", n_perturb_samples=20)
    assert ig.params["multiply_by_inputs"] is True and ig.scores.max() < 1e-12  # float64 round-off
    # ... while a wrong attribution is not, and normalize makes the score scale-free
    wrong = torch.randn(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    bad = infidelity(lin, wrong, x, target=2, n_perturb_samples=20)
    assert bad.scores.min() > 1e-4
    n1, n2 = (infidelity(lin, k * wrong, x, target=2, n_perturb_samples=20, normalize=True).scores for k in (1, 7))
    np.testing.assert_allclose(n1, n2, rtol=1e-10)
    # a linear model's gradient does not move at all
    assert max_sensitivity(Saliency(lin), x, target=1, perturb_radius=0.5).scores.max() == 0.0


def test_a_predict_function_gives_the_numbers_of_the_module(wine):
    mlp, X, ks = wine
    e = ks.explain(X[40:44])

    def predict(A):
        with torch.no_grad():
            return mlp(torch.as_tensor(A, dtype=torch.float32)).numpy()

    a = infidelity(mlp, e, X[40:44], n_perturb_samples=S)
    b = infidelity(predict, e, X[40:44], n_perturb_samples=S)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-4)
    np.testing.assert_array_equal(a.target, e.target)


def test_explanations_of_another_output_space_are_refused(wine):
    mlp, X, _ = wine
    e = KernelShap(mlp, X[:10], output="probabilities", background_summary="sample").explain(X[50:52])
    with pytest.raises(RobustnessError, match=r"another output space.*output='probabilities'"):
        infidelity(mlp, e, X[50:52])
    assert infidelity(mlp, e, X[50:52], output="probabilities").scores.shape == (2,)


def test_seeded_chunk_independent_and_no_global_rng(cnn):
    m, x, t = cnn
    torch_rng, np_rng, py_rng = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    runs = [infidelity(m, Saliency(m), x, t, n_perturb_samples=S, batch_size=b, seed=5).scores for b in (1, 7, "auto")]
    sens = [max_sensitivity(Saliency(m), x, t, n_perturb_samples=S, batch_size=b, seed=5).scores for b in (3, "auto")]
    assert torch.equal(torch.get_rng_state(), torch_rng) and (np.random.get_state()[1] == np_rng).all()
    assert random.getstate() == py_rng
    torch.manual_seed(99)  # the global generator plays no part: bit for bit the same
    np.testing.assert_array_equal(infidelity(m, Saliency(m), x, t, n_perturb_samples=S, seed=5).scores, runs[2])
    # the same draws whatever the chunk (only the model's float32 sums differ with the batch size)
    for r in runs[1:]:
        np.testing.assert_allclose(r, runs[0], rtol=1e-3)
    np.testing.assert_allclose(sens[0], sens[1], rtol=1e-5)
    other = infidelity(m, Saliency(m), x, t, n_perturb_samples=S, seed=6).scores
    assert not np.allclose(other, runs[0])


def test_the_model_is_left_as_it_was(cnn):
    m, x, t = cnn
    m.train()
    try:
        before = {k: v.clone() for k, v in m.state_dict().items()}
        infidelity(m, Saliency(m), x, t, n_perturb_samples=2)
        max_sensitivity(Saliency(m), x, t, n_perturb_samples=2)
        assert m.training and all(mod.training for mod in m.modules()) and hook_count(m) == 0
        assert all(torch.equal(v, before[k]) for k, v in m.state_dict().items())
        assert all(p.grad is None and p.requires_grad for p in m.parameters())
    finally:
        m.eval()


def test_result_object(cnn):
    m, x, t = cnn
    r = max_sensitivity(Saliency(m), x, t, n_perturb_samples=2)
    assert isinstance(r, RobustnessScores) and len(r) == 5 and r.metric == "max_sensitivity"
    assert r.sem >= 0 and r.better.startswith("lower is better") and "saliency" in r.describe()
    np.testing.assert_array_equal(r.target, t.numpy())


def test_named_errors(cnn):
    m, x, t = cnn
    e = Saliency(m).explain(x, target=t)
    with pytest.raises(RobustnessError, match="perturb must be one of"):
        infidelity(m, e, x, perturb="salt")
    with pytest.raises(ParameterError, match="n_perturb_samples"):
        infidelity(m, e, x, n_perturb_samples=0)
    with pytest.raises(RobustnessError, match="shaped like the inputs"):
        infidelity(m, e.values[:, 0], x)
    with pytest.raises(RobustnessError, match="needs an explainer"):
        max_sensitivity(e, x)
    with pytest.raises(RobustnessError, match="norm_ord"):
        max_sensitivity(Saliency(m), x, norm_ord="nuc")
    with pytest.raises(RobustnessError, match="one input tensor"):
        infidelity(m, e, (x, x))
    with pytest.raises(RobustnessError, match=r"\(perturbation, perturbed_inputs\)"):
        infidelity(m, e, x, perturb=lambda inputs: inputs)
    with pytest.raises(RobustnessError, match="other inputs"):
        infidelity(m, e, x + 1)
    with pytest.raises(ValueError, match="NaN"):
        infidelity(m, e, torch.full_like(x, float("nan")))
