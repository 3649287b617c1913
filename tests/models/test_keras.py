"""Keras 3 models on the torch backend: gradient methods against Captum and their axioms, the predict path.

A ``keras.Model`` is a ``torch.nn.Module`` here (``KERAS_BACKEND=torch``, set by conftest.py before
anything imports keras). Captum takes any ``nn.Module``, so it runs on the very same Keras model and
is the reference; DeepLIFT is checked against Captum's on a torch copy of the Keras MLP (Captum's
DeepLift hooks ``nn.ReLU`` modules, which a Keras model does not have). The models are trained
once per session (tests/keras_nets.py).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from captum import attr as captum_attr
from keras_nets import cnn, digits, linear, mlp, mlp_logits, table

import nbexplain as nbx
from nbexplain.explainers.gradients._engine import GradientError
from nbexplain.keras_models import is_keras, keras_predict

# Keras converts its seeds with np.array(tensor), which numpy 2 warns about: Keras' own, not ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def rel(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def leaf(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(x).requires_grad_(True)


@pytest.fixture(scope="session")
def rows() -> np.ndarray:
    return table()[0][:6]


@pytest.fixture(scope="session")
def images() -> np.ndarray:
    return digits()[0][:4]


def test_keras_runs_on_torch_and_its_models_are_modules() -> None:
    import keras

    assert os.environ["KERAS_BACKEND"] == "torch" and keras.backend.backend() == "torch"
    for model in (mlp(), cnn()):
        assert isinstance(model, torch.nn.Module) and is_keras(model)
    assert not is_keras(torch.nn.Linear(2, 2))


# -- gradient methods against Captum on the same Keras model --------------------------------------
CASES = {
    "saliency": (lambda m: nbx.Saliency(m), lambda m, x, t: captum_attr.Saliency(m).attribute(x, target=t, abs=False)),
    "gradient_x_input": (lambda m: nbx.GradientXInput(m),
                         lambda m, x, t: captum_attr.InputXGradient(m).attribute(x, target=t)),
    "integrated_gradients": (
        lambda m: nbx.IntegratedGradients(m, steps=16, rule="riemann_middle", baselines=0.1),
        lambda m, x, t: captum_attr.IntegratedGradients(m).attribute(x, baselines=0.1, target=t, n_steps=16,
                                                                     method="riemann_middle")),
}


@pytest.mark.parametrize("method", list(CASES))
@pytest.mark.parametrize("which", ["mlp", "cnn"])
def test_gradient_methods_match_captum_on_keras(method, which, rows, images) -> None:
    model, x = (mlp(), rows) if which == "mlp" else (cnn(), images)
    ours_of, captum_of = CASES[method]
    t = 1 if which == "mlp" else int(digits()[1][0])
    e = ours_of(model).explain(x, target=t)
    ref = captum_of(model, leaf(x), t).detach().numpy()
    assert e.values.shape == x.shape and rel(e.values, ref) <= 1e-5
    with torch.no_grad():
        np.testing.assert_allclose(e.outputs, model(torch.tensor(x))[:, t].numpy(), rtol=1e-5, atol=1e-7)


def test_smoothgrad_matches_captum_over_the_same_noise(images) -> None:
    # the documented noise recipe
    from tests.explainers.gradients.test_gradients_captum import noisy_copies

    model, t = cnn(), 3
    e = nbx.SmoothGrad(nbx.Saliency(model), n_samples=5, noise=0.2, seed=7).explain(images, target=t)
    ref = torch.stack([captum_attr.Saliency(model).attribute(c.requires_grad_(True), target=t, abs=False).detach()
                       for c in noisy_copies(torch.tensor(images), 5, 0.2, 7)]).mean(0)
    assert e.method == "smoothgrad(saliency)" and rel(e.values, ref.numpy()) <= 1e-5


def test_integrated_gradients_completeness_on_keras(rows, images) -> None:
    # ReLU kinks make the integrand piecewise smooth: the gap shrinks slowly (seen: 3e-2, 6e-3, 2e-3
    # at 16, 64, 256 steps), but it shrinks, and delta reports it exactly
    for model, x in ((mlp(), rows), (cnn(), images)):
        gaps = []
        for steps in (16, 256):
            e = nbx.IntegratedGradients(model, steps=steps).explain(x)
            gap = e.values.reshape(len(x), -1).sum(1) - (e.outputs - e.base_values)
            np.testing.assert_allclose(gap, e.diagnostics["delta"], atol=1e-5)
            gaps.append(np.abs(gap).max())
        assert gaps[1] < gaps[0] and gaps[1] <= 1e-2 * np.abs(e.outputs - e.base_values).max()


def test_saliency_of_a_linear_keras_model_is_its_kernel(rows) -> None:
    model = linear()
    kernel = model.get_layer("dense").kernel.value.detach().numpy()  # Keras keeps (in, out)
    for t in (0, 1):
        np.testing.assert_allclose(nbx.Saliency(model).explain(rows, target=t).values,
                                   np.broadcast_to(kernel[:, t], rows.shape), rtol=1e-6)
        np.testing.assert_allclose(nbx.GradientXInput(model).explain(rows, target=t).values, rows * kernel[:, t],
                                   rtol=1e-5, atol=1e-7)


def test_expected_gradients_with_one_background_row_approaches_captum_ig(rows) -> None:
    model, b = mlp_logits(), table()[0][100:101]
    e = nbx.ExpectedGradients(model, b, n_samples=3000, seed=1).explain(rows[:3], target=1)
    ref = captum_attr.IntegratedGradients(model).attribute(leaf(rows[:3]), baselines=torch.tensor(b), target=1,
                                                           n_steps=200).detach().numpy()
    assert rel(e.values, ref) <= 0.05
    with torch.no_grad():
        np.testing.assert_allclose(e.base_values, model(torch.tensor(b))[:, 1].numpy().repeat(3), rtol=1e-5)


# -- DeepLIFT ---------------------------------------------------------------------------------------
def torch_copy_of_mlp() -> torch.nn.Module:
    """The Keras MLP's logits as torch modules (kernels (in, out) transposed into Linear weights)."""
    k = mlp()
    net = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    with torch.no_grad():
        for lin, name in ((net[0], "hidden"), (net[2], "logits")):
            lin.weight.copy_(k.get_layer(name).kernel.value.T)
            lin.bias.copy_(k.get_layer(name).bias.value)
    return net


def test_deeplift_on_keras_matches_captum_on_a_torch_copy(rows) -> None:
    base = table()[0][200:201]
    e = nbx.DeepLift(mlp_logits()).explain(rows, target=1, baselines=base)
    ref = captum_attr.DeepLift(torch_copy_of_mlp()).attribute(leaf(rows), baselines=torch.tensor(base), target=1)
    assert rel(e.values, ref.detach().numpy()) <= 1e-5
    assert np.abs(e.diagnostics["delta"]).max() <= 1e-5


def test_deeplift_on_the_keras_cnn_sums_to_the_output_difference(images, recwarn) -> None:
    e = nbx.DeepLift(cnn()).explain(images, target=2)
    assert e.values.shape == images.shape
    assert e.diagnostics["relative_delta"].max() <= 1e-4  # the Rescale rule saw every relu and the max pool
    assert not [w for w in recwarn if "DeepLift" in str(w.message)]


def test_deeplift_on_a_keras_softmax_output_is_a_named_error(rows) -> None:
    with pytest.raises(GradientError, match="softmax"):
        nbx.DeepLift(mlp()).explain(rows, target=1)


# -- the model is left as it was --------------------------------------------------------------------
def _state(model) -> dict:
    return {v.path: v.value.detach().clone() for v in model.variables}


def test_explaining_keeps_dropout_off_and_every_keras_state(images) -> None:
    import keras

    model = cnn()
    keras.random.normal((1,))  # now Keras' global seed generator exists: it must not advance either
    from keras.src.backend.common import global_state

    seed_gen = global_state.get_global_attribute("global_seed_generator")
    before, seed0, rng0 = _state(model), seed_gen.state.value.clone(), torch.get_rng_state()
    x = torch.tensor(images)
    with torch.no_grad():
        out0 = model(x)
    first = nbx.Saliency(model).explain(images, target=4).values
    nbx.SmoothGrad(nbx.Saliency(model), n_samples=3).explain(images, target=4)
    nbx.IntegratedGradients(model, steps=8).explain(images)
    np.testing.assert_array_equal(nbx.Saliency(model).explain(images, target=4).values, first)  # no dropout noise
    after = _state(model)
    assert after.keys() == before.keys()
    for path in before:  # kernels, BatchNorm moving statistics, the Dropout seed generator's state
        assert torch.equal(before[path], after[path]), path
    assert torch.equal(seed_gen.state.value, seed0) and torch.equal(torch.get_rng_state(), rng0)
    with torch.no_grad():
        torch.testing.assert_close(model(x), out0, rtol=0, atol=0)
    assert all(p.requires_grad == v.trainable for v in model.variables for p in [v.value])


def test_guard_restores_keras_layers_hooks_statistics_and_seeds(images) -> None:
    from nbexplain.guard import ModelStateError, guard

    model = cnn()
    conv, bn, drop = (model.get_layer(n) for n in ("conv2", "bn", "drop"))
    before = _state(model)
    with guard(model):
        conv.register_forward_hook(lambda *a: None)  # Keras layers are not in model.modules()
        model(torch.tensor(images), training=True)  # moves BatchNorm statistics, draws dropout seeds
    assert not conv._forward_hooks
    assert torch.equal(bn.moving_mean.value, before[bn.moving_mean.path])
    assert torch.equal(drop.seed_generator.state.value, before[drop.seed_generator.state.path])
    assert any(not torch.equal(v, before[k]) for k, v in _moved(model, images).items())  # it did move them
    kernel = conv.kernel
    with pytest.raises(ModelStateError, match="conv2/kernel"), guard(model):
        kernel.assign(kernel.value + 1.0)  # a trainable weight changed in place cannot be put back
    kernel.assign(before[kernel.path])


def _moved(model, images) -> dict:
    """The variables after a training-mode call outside the guard (then put back by hand)."""
    before = _state(model)
    model(torch.tensor(images), training=True)
    moved = _state(model)
    for v in model.variables:
        v.assign(before[v.path])
    return moved


# -- predict path ---------------------------------------------------------------------------------
def test_as_predict_fn_runs_keras_as_a_torch_module_quietly_in_batches(rows, capsys) -> None:
    model = mlp()
    calls: list[int] = []
    handle = model.register_forward_pre_hook(lambda _m, args: calls.append(len(args[0])))
    try:
        X = table()[0][:20]
        p = nbx.as_predict_fn(model, output="probabilities", batch_size=7)(X)
    finally:
        handle.remove()
    assert calls == [7, 7, 6]
    with torch.no_grad():  # a softmax output is taken as probabilities: no second softmax
        np.testing.assert_allclose(p, model(torch.tensor(X)).numpy(), rtol=1e-5, atol=1e-7)
    logits = nbx.as_predict_fn(cnn(), output="probabilities")(digits()[0][:5])
    with torch.no_grad():
        np.testing.assert_allclose(logits, torch.softmax(cnn()(torch.tensor(digits()[0][:5])), 1).numpy(), rtol=1e-5)
    assert capsys.readouterr().out == ""


def test_keras_predict_is_quiet_and_matches_the_model(rows, capsys) -> None:
    rng = torch.get_rng_state()
    out = keras_predict(mlp(), 4)(rows)
    assert capsys.readouterr().out == ""  # model.predict prints a progress bar unless verbose=0
    assert torch.equal(torch.get_rng_state(), rng)  # Keras' data iterator draws from torch's generator
    mlp().predict(rows, verbose=0)
    assert not torch.equal(torch.get_rng_state(), rng)  # (it does: the check above is not vacuous)
    with torch.no_grad():
        np.testing.assert_allclose(out, mlp()(torch.tensor(rows)).numpy(), rtol=1e-6)
