"""Keras 3 layers (torch backend): Grad-CAM, layer attributions and the anatomy on Keras models.

A Keras ``Sequential`` keeps its layers in a list, not as torch submodules, and a Keras CNN is
channels-last: ``(n, H, W, C)`` inputs and layer outputs. Layers are named by their Keras names
(:func:`nbexplain.keras_models.named_layers`), given as objects or names. References: Captum's
layer methods on the same Keras model, and Grad-CAM computed by hand from Captum's layer activation
and layer gradient with the channel axis last.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum import attr as captum_attr
from keras_nets import cnn, digits, mlp, table

import nbexplain as nbx
from nbexplain.anatomy import (
    activation_maps,
    capture_gradients,
    filter_maps,
    model_graph,
    next_activation,
    weight_map,
    weight_summary,
)
from nbexplain.keras_models import named_layers

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")



@pytest.fixture(scope="session")
def images() -> np.ndarray:
    return digits()[0][:3]


def _variables(model) -> dict:
    return {v.path: (v.value.detach().clone(), v.value.requires_grad) for v in model.variables}


def _unchanged(model, before: dict) -> None:
    for v in model.variables:
        value, flag = before[v.path]
        assert torch.equal(v.value, value) and v.value.requires_grad == flag, v.path


def test_named_layers_are_keras_names() -> None:
    assert [n for n, _ in named_layers(cnn())] == ["", "conv1", "bn", "conv2", "pool", "flat", "drop", "logits"]
    assert [n for n, _ in cnn().named_modules()] == ["", "_functional", "_functional._torch_params", "_torch_params"]


# -- Grad-CAM and layer attributions ----------------------------------------------------------------
def _cam_by_hand(model, layer, x, t, plus_plus=False) -> np.ndarray:
    """Grad-CAM at the layer's resolution, channels last, from Captum's layer activation and gradient."""
    xt = torch.tensor(x)
    act = captum_attr.LayerActivation(model, layer).attribute(xt).detach().double()
    grad = captum_attr.LayerGradientXActivation(model, layer, multiply_by_inputs=False).attribute(
        xt, target=t).detach().double()
    if plus_plus:
        g2, g3 = grad**2, grad**3
        denom = 2 * g2 + act.sum((1, 2), keepdim=True) * g3
        alpha = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, 1.0), 0.0)
        w = (alpha * torch.relu(grad)).sum((1, 2))
    else:
        w = grad.mean((1, 2))
    return torch.relu((w[:, None, None, :] * act).sum(-1)).numpy()


@pytest.mark.parametrize("method", [nbx.GradCAM, nbx.GradCAMPlusPlus])
def test_grad_cam_on_a_channels_last_keras_cnn(method, images) -> None:
    model = cnn()
    e = method(model).explain(images, target=5)  # default layer: the last Conv2D, found in Keras' layers
    assert e.diagnostics["layer"] == "conv2" and e.values.shape == (3, 8, 8) and e.layout == "HW"
    np.testing.assert_allclose(e.diagnostics["cam"], _cam_by_hand(model, model.get_layer("conv2"), images, 5,
                                                                  method is nbx.GradCAMPlusPlus), rtol=1e-4, atol=1e-6)
    first = method(model, layer=model.get_layer("conv1")).explain(images, target=5)  # a layer object
    assert first.diagnostics["layer"] == "conv1" and first.values.shape == (3, 8, 8)


def test_layer_methods_take_keras_layers_and_match_captum(images) -> None:
    model = cnn()
    e = nbx.LayerIntegratedGradients(model, layer="conv2", steps=32).explain(images, target=1)
    ref = captum_attr.LayerIntegratedGradients(model, model.get_layer("conv2")).attribute(
        torch.tensor(images), target=1, n_steps=32, method="gausslegendre").detach().numpy()
    assert e.values.shape == (3, 8, 8, 16)
    np.testing.assert_allclose(e.values, ref, rtol=1e-4, atol=1e-6 * np.abs(ref).max())
    np.testing.assert_allclose(e.diagnostics["channel_importance"], ref.sum((1, 2)), rtol=1e-4, atol=1e-6)
    hidden = mlp().get_layer("hidden")
    x = table()[0][:4]
    g = nbx.LayerGradientXActivation(mlp(), layer=hidden).explain(x, target=1)
    ref = captum_attr.LayerGradientXActivation(mlp(), hidden).attribute(torch.tensor(x), target=1)
    np.testing.assert_allclose(g.values, ref.detach().numpy(), rtol=1e-5, atol=1e-8)


def test_input_shaped_attributions_of_keras_images_are_channels_last(images) -> None:
    e = nbx.Saliency(cnn()).explain(images)
    assert e.layout == "HWC" and e.image_values(e.values[0]).shape == (1, 8, 8)
    assert nbx.Saliency(mlp()).explain(table()[0][:2]).layout == "features"


# -- anatomy --------------------------------------------------------------------------------------
def test_model_graph_of_a_keras_cnn(images) -> None:
    model = cnn()
    g = model_graph(model, images[:1])
    assert g.method == "hooks" and any("Keras" in n for n in g.notes)
    assert [n.name for n in g.leaves()] == ["conv1", "bn", "conv2", "pool", "flat", "drop", "logits"]
    assert g.edges == [("input", "conv1"), ("conv1", "bn"), ("bn", "conv2"), ("conv2", "pool"), ("pool", "flat"),
                       ("flat", "drop"), ("drop", "logits"), ("logits", "output")]
    assert g.node("conv2").output_shape == [1, 8, 8, 16] and g.node("conv2").type == "Conv2D"
    assert g.n_params == model.count_params() and g.node("conv1").n_params == 3 * 3 * 8 + 8


def test_model_graph_of_a_functional_keras_model_with_a_residual_add() -> None:
    import keras

    inp = keras.Input((6,))
    h = keras.layers.Dense(6, activation="relu", name="a")(inp)
    out = keras.layers.Dense(2, name="head")(keras.layers.Add(name="skip")([inp, h]))
    g = model_graph(keras.Model(inp, out), np.zeros((1, 6), np.float32))
    assert set(g.edges) == {("input", "a"), ("input", "skip"), ("a", "skip"), ("skip", "head"), ("head", "output")}


def test_weight_summary_and_gradients_of_a_keras_model(images) -> None:
    model = cnn()
    before = _variables(model)
    stats = {s.name: s for s in weight_summary(model)}
    assert list(stats) == ["conv1", "bn", "conv2", "logits"]
    kernel = model.get_layer("conv2").kernel.value.detach().double().numpy()
    s = stats["conv2"]
    assert s.param == "kernel" and s.shape == (3, 3, 8, 16) and s.n_params == kernel.size + 16
    assert s.mean == pytest.approx(kernel.mean()) and s.std == pytest.approx(kernel.std())
    y = digits()[1][:3]
    r = capture_gradients(model, images, y)
    assert r.layers == ["conv1", "bn", "conv2", "logits"]
    k = model.get_layer("conv2").kernel.value
    with torch.enable_grad():
        loss = torch.nn.functional.cross_entropy(model(torch.tensor(images)), torch.tensor(y))
        (want,) = torch.autograd.grad(loss, k)
    assert r.norms[2] == pytest.approx(float(want.norm()), rel=1e-5)
    assert int(r.n_values["bn"]) == 16  # gamma and beta; the moving statistics are no parameters to train
    _unchanged(model, before)


def test_gradients_of_a_softmax_keras_model_use_its_probabilities() -> None:
    model, (x, y) = mlp(), (table()[0][:8], table()[1][:8])
    r = capture_gradients(model, x, y)
    k = model.get_layer("hidden").kernel.value
    with torch.enable_grad():  # the model returns probabilities: the loss is -log p, not a second softmax
        p = model(torch.tensor(x))
        loss = torch.nn.functional.nll_loss(torch.log(p), torch.tensor(y))
        (want,) = torch.autograd.grad(loss, k)
    assert r.layers[0] == "hidden" and r.norms[0] == pytest.approx(float(want.norm()), rel=1e-4)


def test_activation_weight_and_filter_maps_of_keras_layers(images) -> None:
    model = cnn()
    a = activation_maps(model, images, "conv2", max_size=8, sort="none")
    out = captum_attr.LayerActivation(model, model.get_layer("conv2")).attribute(torch.tensor(images[:1]))
    assert a.kind == "conv" and a.full_shape == (16, 8, 8)  # channels first, whatever Keras' layout
    np.testing.assert_allclose(a.maps, out[0].permute(2, 0, 1).numpy(), rtol=1e-5, atol=1e-6)
    hidden = mlp().get_layer("hidden").kernel.value.detach().numpy()  # (30 in, 16 out)
    wm = weight_map(mlp(), "hidden")
    assert wm.shape == (30, 16) and (wm.rows_are, wm.cols_are) == ("outputs", "inputs")
    np.testing.assert_allclose(wm.values, hidden.T, rtol=1e-6)
    f = filter_maps(model)
    conv1 = model.get_layer("conv1").kernel.value.detach().numpy()  # (3, 3, 1 in, 8 out)
    assert f.layer == "conv1" and f.tiles.shape == (8, 3, 3)
    np.testing.assert_allclose(f.tiles, np.moveaxis(conv1[:, :, 0, :], -1, 0), rtol=1e-6)
    fn, name = next_activation(mlp(), "hidden")  # Dense(activation="relu") applies its own
    assert name == "hidden" and fn.__name__ == "relu"


def test_model_anatomy_widget_on_a_keras_cnn(images) -> None:
    from nbexplain.widgets.anatomy.view import ModelAnatomy

    model = cnn()
    before = _variables(model)
    anatomy = ModelAnatomy(model, images, y=digits()[1][:3])
    try:
        insp = anatomy.inspector
        assert insp.layer == "conv2" and insp.image(0).shape == (8, 8)  # the digit, from (8, 8, 1)
        for i in range(5):
            insp.tabs.selected_index = i
            assert insp.error == "", (i, insp.error)
        insp.layer = "logits"
        assert insp.error == ""
    finally:
        anatomy.close()
    _unchanged(model, before)
