"""Every public entry point that runs the user's model leaves the user's state as it found it.

One table of entry points (tables and images) x models built to expose each kind of state:

- ``inplace``: the first operation is in place (``ReLU(inplace=True)``): the caller's array
  must not be written through an alias;
- ``frozen_bn``: a BatchNorm frozen in eval mode under a root in train mode, plus Dropout: the
  flags of every submodule, and the running statistics, must come back;
- ``frozen_params``: some parameters with ``requires_grad=False``;
- ``existing_grad``: ``.grad`` already set on every parameter (the same tensor, same values, after);
- ``user_hook``: a forward hook of the user's own, which must still be there and still fire;
- ``raising`` / ``raising_late``: a forward that raises on the first call, or on the second (after
  the set-up pass, in the middle of the explanation): the state still comes back.

After each call the test compares a full snapshot: every submodule's ``training`` flag,
``requires_grad``, parameter and buffer values, ``.grad`` identity and values, module and global
hook counts, autograd mode, the global random states of Python, numpy and torch, and the
caller's input array.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import nbexplain as nbx
from nbexplain import anatomy
from nbexplain.diagnostics import compare_splits, error_analysis, slice_metrics
from nbexplain.explainers.gradients._engine import hook_count
from nbexplain.guard import ModelStateError, guard

F, K = 4, 3


# -- models that expose each kind of state ----------------------------------------------------------
class Raising(nn.Module):
    """Raises on every forward after ``ok`` calls (so set-up passes and the explanation fails)."""

    def __init__(self, inner: nn.Module, ok: int = 0) -> None:
        super().__init__()
        self.inner, self.ok, self.calls = inner, ok, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > self.ok:
            raise RuntimeError("the user's model failed")
        return self.inner(x)


class ChannelsLast(nn.Module):
    """(n, H, W, 3) -> (n, 1, H, W), for LIME's channels-last RGB images (it repeats grey to RGB)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2).mean(1, keepdim=True)


def table_model(kind: str) -> nn.Module:
    torch.manual_seed(0)
    if kind == "inplace":
        return nn.Sequential(nn.ReLU(inplace=True), nn.Linear(F, 8), nn.ReLU(), nn.Linear(8, K))
    m = nn.Sequential(nn.Linear(F, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, K))
    if kind.startswith("raising"):  # a training root with a frozen BatchNorm: what must come back
        m.train()
        m[1].eval()
    with torch.no_grad():
        m[1].running_mean.uniform_(-0.1, 0.1)
    if kind == "frozen_bn":
        m.train()
        m[1].eval()
    elif kind == "frozen_params":
        m[0].weight.requires_grad_(False)
    elif kind == "existing_grad":
        for p in m.parameters():
            p.grad = torch.randn_like(p)
    elif kind == "user_hook":
        m.calls_seen = []  # type: ignore[assignment]
        m[4].register_forward_hook(lambda mod, i, o: m.calls_seen.append(1))  # type: ignore[attr-defined]
    elif kind.startswith("raising"):
        return Raising(m, ok=0 if kind == "raising" else 1)
    return m


def image_model(kind: str) -> nn.Module:
    torch.manual_seed(1)
    first: list[nn.Module] = [nn.ReLU(inplace=True)] if kind == "inplace" else []
    m = nn.Sequential(*first, nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                      nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                      nn.Dropout(0.3), nn.Linear(16, K))
    if kind == "frozen_bn" or kind.startswith("raising"):
        m.train()
        m[1].eval()
    if kind == "frozen_params":
        m[0].weight.requires_grad_(False)
    elif kind == "existing_grad":
        for p in m.parameters():
            p.grad = torch.randn_like(p)
    elif kind == "user_hook":
        m[0].register_forward_pre_hook(lambda mod, i: None)
    elif kind.startswith("raising"):
        return Raising(m, ok=0 if kind == "raising" else 1)
    return m


KINDS = ("inplace", "frozen_bn", "frozen_params", "existing_grad", "user_hook", "raising", "raising_late")


# -- the snapshot -------------------------------------------------------------------------------
def snapshot(model: nn.Module, arrays: list[Any]) -> dict[str, Any]:
    glob = torch.nn.modules.module
    return {
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "params": [p.detach().clone() for p in model.parameters()],
        "grad_ids": [id(p.grad) for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "buffers": [b.clone() for b in model.buffers()],
        "hooks": hook_count(model),
        "global_hooks": sum(len(getattr(glob, a, {}) or {}) for a in dir(glob) if a.startswith("_global_") and
                            isinstance(getattr(glob, a), dict)),
        "grad_enabled": torch.is_grad_enabled(),
        "rng": (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone()),
        "arrays": [a.copy() if isinstance(a, np.ndarray) else a.clone() for a in arrays],
    }


def assert_same(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert before["training"] == after["training"], "training flags changed"
    assert before["requires_grad"] == after["requires_grad"], "requires_grad changed"
    for a, b in zip(before["params"], after["params"], strict=True):
        assert torch.equal(a, b), "a parameter changed"
    assert before["grad_ids"] == after["grad_ids"], ".grad replaced"
    for a, b in zip(before["grads"], after["grads"], strict=True):
        assert (a is None and b is None) or torch.equal(a, b), ".grad changed"
    for a, b in zip(before["buffers"], after["buffers"], strict=True):
        assert torch.equal(a, b), "a buffer (running statistics) changed"
    assert before["hooks"] == after["hooks"], "module hooks left behind or removed"
    assert before["global_hooks"] == after["global_hooks"], "global hooks left behind"
    assert before["grad_enabled"] == after["grad_enabled"], "autograd mode changed"
    assert before["rng"][0] == after["rng"][0], "Python's random state advanced"
    assert np.array_equal(before["rng"][1], after["rng"][1]), "numpy's global random state advanced"
    assert torch.equal(before["rng"][2], after["rng"][2]), "torch's random state advanced"
    for a, b in zip(before["arrays"], after["arrays"], strict=True):
        same = np.array_equal(a, b) if isinstance(a, np.ndarray) else torch.equal(a, b)
        assert same, "the caller's input array was written to"


# -- the entry points ---------------------------------------------------------------------------
rng = np.random.default_rng(0)
X = rng.normal(size=(24, F)).astype(np.float32)
Y = rng.integers(0, K, 24)
IMG = rng.normal(size=(3, 1, 8, 8)).astype(np.float32)

Call = Callable[[nn.Module, Any], Any]

TABLE_CALLS: dict[str, Call] = {
    "saliency": lambda m, x: nbx.Saliency(m).explain(x),
    "gradient_x_input": lambda m, x: nbx.GradientXInput(m).explain(x, target=1),
    "integrated_gradients": lambda m, x: nbx.IntegratedGradients(m, steps=8).explain(x),
    "expected_gradients": lambda m, x: nbx.ExpectedGradients(m, X[:6], n_samples=4).explain(x),
    "smoothgrad": lambda m, x: nbx.SmoothGrad(nbx.Saliency(m), n_samples=3).explain(x),
    "deeplift": lambda m, x: nbx.DeepLift(m).explain(x),
    "layer_ig": lambda m, x: nbx.LayerIntegratedGradients(m, layer=_first_linear(m), steps=4).explain(x),
    "layer_gxa": lambda m, x: nbx.LayerGradientXActivation(m, layer=_first_linear(m)).explain(x),
    "kernel_shap": lambda m, x: nbx.KernelShap(m, X[:5]).explain(x[:2]),
    "kernel_shap_proba": lambda m, x: nbx.KernelShap(m, X[:5], output="probabilities").explain(x[:2]),
    "lime_batched": lambda m, x: nbx.LimeTabularBatched(m, X, num_samples=200).explain(x[:2]),
    "lime": lambda m, x: nbx.LimeTabular(m, X, num_samples=100).explain(x[:1]),
    "shap_tabular": lambda m, x: nbx.ShapTabular(m, X[:8], max_evals=40).explain(x[:1]),
    "permutation": lambda m, x: nbx.permutation_importance(m, x, Y[: len(x)], n_repeats=2),
    "pdp": lambda m, x: nbx.partial_dependence(m, x, 0, grid_resolution=4),
    "global_surrogate": lambda m, x: nbx.GlobalSurrogate(m).fit(np.concatenate([x, X])),
    "local_surrogate": lambda m, x: nbx.LocalSurrogate(m, X, num_samples=200).explain(x[:1]),
    "error_analysis": lambda m, x: error_analysis(m, x, Y[: len(x)]),
    "slice_metrics": lambda m, x: slice_metrics(m, x, Y[: len(x)], 0, bins=2, min_size=1),
    "compare_splits": lambda m, x: compare_splits(m, {"train": (X, Y), "test": (x, Y[: len(x)])}),
    "predict_fn": lambda m, x: nbx.as_predict_fn(m, output="probabilities")(x),
    "session": lambda m, x: nbx.ExplainSession(m, x, Y[: len(x)], methods=["kernel_shap"]).explain(0, "kernel_shap"),
    "anatomy_graph": lambda m, x: anatomy.model_graph(m, torch.as_tensor(x)),
    "anatomy_gradients": lambda m, x: anatomy.capture_gradients(m, torch.as_tensor(x), torch.as_tensor(Y[: len(x)])),
}

IMAGE_CALLS: dict[str, Call] = {
    "saliency": lambda m, x: nbx.Saliency(m).explain(x),
    "integrated_gradients": lambda m, x: nbx.IntegratedGradients(m, steps=4, internal_batch_size="auto").explain(x),
    "smoothgrad": lambda m, x: nbx.SmoothGrad(nbx.Saliency(m), n_samples=2).explain(x),
    "deeplift": lambda m, x: nbx.DeepLift(m).explain(x),
    "grad_cam": lambda m, x: nbx.GradCAM(m).explain(x),
    "grad_cam_pp": lambda m, x: nbx.GradCAMPlusPlus(m).explain(x),
    "lime_image": lambda m, x: nbx.LimeImage(nn.Sequential(ChannelsLast(), m), num_samples=20,
                                             segmentation="slic").explain(x[:1].transpose(0, 2, 3, 1)),
    "anatomy_activations": lambda m, x: anatomy.activation_maps(m, torch.as_tensor(x), _first_conv(m)),
}


def _first_linear(m: nn.Module) -> nn.Module:
    return next(mod for mod in m.modules() if isinstance(mod, nn.Linear))


def _first_conv(m: nn.Module) -> nn.Module:
    return next(mod for mod in m.modules() if isinstance(mod, nn.Conv2d))


def _run(call: Call, model: nn.Module, x: Any) -> None:
    arrays = [x, X, Y]  # the input, and the background / training data / labels the calls take
    before = snapshot(model, arrays)
    try:
        call(model, x)
    except ModelStateError:
        raise
    except Exception:
        if not isinstance(model, Raising):
            raise
    assert_same(before, snapshot(model, arrays))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(TABLE_CALLS))
def test_table_entry_points_leave_state(name: str, kind: str) -> None:
    model = table_model(kind)
    x = X[:6].copy()
    x[:, 0] = -np.abs(x[:, 0])  # negative values: an in-place ReLU first would zero them in the caller's array
    _run(TABLE_CALLS[name], model, x)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(IMAGE_CALLS))
def test_image_entry_points_leave_state(name: str, kind: str) -> None:
    model = image_model(kind)
    _run(IMAGE_CALLS[name], model, IMG.copy())


@pytest.mark.parametrize("as_tensor", [False, True])
def test_inplace_first_op_never_writes_the_callers_tensor(as_tensor: bool) -> None:
    model = table_model("inplace")
    x = -np.abs(X[:4])
    arg = torch.tensor(x) if as_tensor else x.copy()
    nbx.IntegratedGradients(model, steps=4).explain(arg)
    nbx.Saliency(model).explain(arg)  # the target search runs without gradients on the input
    got = arg.numpy() if as_tensor else arg
    assert np.array_equal(got, x)


def test_user_hook_still_fires_after_a_call() -> None:
    model = table_model("user_hook")
    nbx.KernelShap(model, X[:3]).explain(X[:1])
    seen = len(model.calls_seen)  # type: ignore[attr-defined]
    model.eval()(torch.as_tensor(X[:2]))
    assert len(model.calls_seen) == seen + 1  # type: ignore[attr-defined]


def test_guard_restores_everything_a_body_changes() -> None:
    model = table_model("frozen_bn")
    before = snapshot(model, [])
    with pytest.raises(RuntimeError, match="boom"), guard(model):
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
            p.grad = torch.zeros_like(p)
        model[1].running_mean.add_(5.0)
        model[0].register_forward_hook(lambda *a: None)
        torch.nn.modules.module.register_module_forward_hook(lambda *a: None)
        torch.set_grad_enabled(False)
        np.random.rand(3), random.random(), torch.rand(2)
        raise RuntimeError("boom")
    assert_same(before, snapshot(model, []))


def test_guard_refuses_a_model_that_changes_its_weights() -> None:
    class Drifting(nn.Linear):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                self.weight.mul_(1.01)
            return super().forward(x)

    with pytest.raises(ModelStateError, match=r"changed Drifting\.weight in place"):
        nbx.as_predict_fn(Drifting(F, K))(X[:2])


@pytest.mark.parametrize("method", ["saliency", "gradient_x_input", "integrated_gradients", "deeplift"])
def test_inplace_first_op_does_not_rewrite_the_methods_own_copy(method: str) -> None:
    """The passes without gradients (target search, outputs) must not ReLU the input the method uses."""
    inplace = table_model("inplace")
    plain = nn.Sequential(nn.ReLU(), *list(inplace)[1:])  # the same weights, ReLU out of place
    x = X[:5].copy()
    x[:, 0] = -np.abs(x[:, 0])
    a = nbx.get_explainer(method, inplace).explain(x)
    b = nbx.get_explainer(method, plain).explain(x)
    np.testing.assert_array_equal(a.data, x)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(a.outputs, b.outputs, rtol=1e-6)


# -- predict functions and estimators: the global random states and the caller's arrays -------------
def _texts_model(docs: list[str]) -> np.ndarray:
    p = np.array([0.8 if "good" in d else 0.3 for d in docs])
    return np.c_[1 - p, p]


def _tree() -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, Y)


def _proba(A: np.ndarray) -> np.ndarray:
    z = np.asarray(A) @ np.array([[1.0, -1.0, 0.5], [0.2, 0.3, -0.4], [0.0, 0.1, 0.2], [1.0, 0.0, -1.0]])
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


AGNOSTIC_CALLS: dict[str, Callable[[], Any]] = {
    "kernel_shap": lambda: nbx.KernelShap(_proba, X[:5]).explain(X[:2]),
    "kernel_shap_sampled": lambda: nbx.KernelShap(_proba, X[:5], exact_max_features=2, n_samples=64).explain(X[:2]),
    "lime_batched": lambda: nbx.LimeTabularBatched(_proba, X, num_samples=100).explain(X[:1]),
    "lime": lambda: nbx.LimeTabular(_proba, X, num_samples=50).explain(X[:1]),
    "shap_tabular": lambda: nbx.ShapTabular(_proba, X[:8], max_evals=40).explain(X[:1]),
    "shap_tree": lambda: nbx.ShapTree(_tree(), X[:10]).explain(X[:2]),
    "shap_partition_image": lambda: nbx.ShapPartition(lambda B: np.c_[B.mean((1, 2, 3)), 1 - B.mean((1, 2, 3))],
                                                      "image", max_evals=40).explain(IMG.transpose(0, 2, 3, 1)[:1]),
    "shap_partition_text": lambda: nbx.ShapPartition(_texts_model, "text", max_evals=20).explain("a good film"),
    "lime_text": lambda: nbx.LimeText(_texts_model, num_samples=30).explain("a good film"),
    "token_shap": lambda: nbx.explainers.TokenShap(_texts_model).explain("a good film today"),
    "token_occlusion": lambda: nbx.explainers.TokenOcclusion(_texts_model).explain("a good film"),
    "permutation": lambda: nbx.permutation_importance(_proba, X, Y, n_repeats=2),
    "global_surrogate_tree": lambda: nbx.GlobalSurrogate(_proba, kind="tree").fit(X),
    "local_surrogate": lambda: nbx.LocalSurrogate(_proba, X, num_samples=100).explain(X[:1]),
    "pdp_sampled": lambda: nbx.partial_dependence(_proba, X, 0, grid_resolution=3, sample=5),
}


@pytest.mark.parametrize("name", sorted(AGNOSTIC_CALLS))
def test_agnostic_entry_points_leave_random_states_and_arrays(name: str) -> None:
    none = nn.Identity()  # no torch model here: the snapshot's model part is empty
    before = snapshot(none, [X, Y, IMG])
    AGNOSTIC_CALLS[name]()
    assert_same(before, snapshot(none, [X, Y, IMG]))


@pytest.mark.parametrize("name", ["saliency", "integrated_gradients", "deeplift", "kernel_shap", "anatomy_gradients"])
def test_called_under_no_grad_works_and_leaves_no_grad(name: str) -> None:
    """A user who calls nbexplain inside ``torch.no_grad()`` (or inference code) gets the same answer."""
    model = table_model("frozen_params")
    want = TABLE_CALLS[name](model, X[:4])
    with torch.no_grad():
        got = TABLE_CALLS[name](model, X[:4])
        assert not torch.is_grad_enabled()
    if hasattr(want, "values"):
        np.testing.assert_allclose(got.values, want.values, rtol=1e-6)
