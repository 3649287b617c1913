"""Generic checks every gradient method passes: one table of (method, model, input shape, options).

Captum's idea: the table :data:`CASES` is expanded by ``pytest.mark.parametrize`` into checks
that hold for any gradient method, so a new method gets every check by adding a row:

(a) the batch explained at once equals each sample explained alone (same target), to 1e-5;
(b) a rerun (same seed for methods with randomness) is bitwise identical;
(c) hook count, every module's ``training`` flag and every parameter's ``requires_grad`` are as
    before, and no ``.grad`` appears on parameters; also when the model raises mid-explanation;
(d) 100 explanations in a loop leave no hook and no growth in memory (Python heap by tracemalloc,
    live torch tensors by the garbage collector, resident set size from ``/proc/self/statm``);
(e) ``values`` shape and dtype, and the ``Explanation`` fields ``method``, ``target``,
    ``outputs``, ``data`` agree with the inputs and the model;
(f) ``target`` as None, an int, one per sample, or a callable of the output;
(g) named errors for integer inputs, an out-of-range target, a model whose output is argmax or
    detached, inputs with no sample axis, baselines of the wrong shape, and baselines passed to
    a method that takes none.

Models are the shared ones in ``tests/torch_models.py``; inputs are small so the whole module
runs in well under a minute on 2 CPU cores.
"""

from __future__ import annotations

import gc
import importlib
import os
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch_models import functional_cnn, mlp, resnet, small_cnn

from nbexplain.explainers.gradients._engine import GradientError, hook_count

N = 3  # samples per batch
SEED = 7


# -- the table ------------------------------------------------------------------------------------
MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "mlp": (lambda: mlp(6, 4).eval(), (6,)),
    "small_cnn": (lambda: small_cnn(10).eval(), (1, 8, 8)),
    "resnet_tiny": (lambda: resnet("tiny", num_classes=5).eval(), (3, 32, 32)),
    "functional_cnn": (lambda: functional_cnn(10).eval(), (1, 8, 8)),
}

#: The module each method lives in (the class is also exported from ``nbexplain.explainers``).
HOME = {
    "Saliency": "gradients.saliency", "GradientXInput": "gradients.saliency", "SmoothGrad": "gradients.smoothgrad",
    "IntegratedGradients": "gradients.integrated_gradients", "ExpectedGradients": "gradients.integrated_gradients",
    "DeepLift": "gradients.deeplift", "GradCAM": "vision.gradcam", "GradCAMPlusPlus": "vision.gradcam",
    "LayerIntegratedGradients": "gradients.layer_attribution",
    "LayerGradientXActivation": "gradients.layer_attribution",
}

#: A layer to explain, per model, for layer attributions (given as the module).
LAYER: dict[str, Callable[[nn.Module], nn.Module]] = {
    "mlp": lambda m: m[2],
    "small_cnn": lambda m: m[3],
    "resnet_tiny": lambda m: m.layer1,
    "functional_cnn": lambda m: m.conv2,
}


def _background(model_name: str) -> dict[str, Any]:
    shape = MODELS[model_name][1]
    return {"background": torch.randn(6, *shape, generator=torch.Generator().manual_seed(3))}


@dataclass(frozen=True)
class Case:
    """One row: ``method`` (class name), ``model`` (key of MODELS) and constructor options.

    ``options(model_name, model)`` returns the constructor keyword arguments; ``seeded``: the
    method draws random numbers and takes ``seed=``; ``out``: ``"input"`` (values shaped like the
    inputs), ``"map"`` (one (H, W) map per sample) or ``"layer"`` (shaped like the layer output).
    """

    method: str
    model: str
    options: Callable[[str, nn.Module], dict[str, Any]] = field(default=lambda name, m: {})
    seeded: bool = False
    out: str = "input"
    callable_target: bool = True

    @property
    def id(self) -> str:
        return f"{self.method}-{self.model}"


ALL = tuple(MODELS)
CONV = ("small_cnn", "resnet_tiny", "functional_cnn")
CASES: list[Case] = [
    *(Case("Saliency", m) for m in ALL),
    Case("Saliency", "small_cnn", lambda n, m: {"absolute": True}),
    *(Case("GradientXInput", m) for m in ALL),
    *(Case("SmoothGrad", m, lambda n, m: {"n_samples": 4, "seed": SEED}, seeded=True) for m in ALL),
    *(Case("IntegratedGradients", m, lambda n, m: {"steps": 8}) for m in ALL),
    *(Case("ExpectedGradients", m, lambda n, m: {"n_samples": 8, "seed": SEED, **_background(n)}, seeded=True)
      for m in ALL),
    *(Case("DeepLift", m) for m in ALL),
    *(Case("GradCAM", m, out="map") for m in CONV),
    *(Case("GradCAMPlusPlus", m, out="map") for m in CONV),
    *(Case("LayerIntegratedGradients", m, lambda n, m: {"layer": LAYER[n](m), "steps": 8}, out="layer")
      for m in ALL),
    *(Case("LayerGradientXActivation", m, lambda n, m: {"layer": LAYER[n](m)}, out="layer") for m in ALL),
]
IDS = [c.id for c in CASES]
per_case = pytest.mark.parametrize("case", CASES, ids=IDS)


# -- helpers --------------------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Any:
    """One intra-op thread: these models are tiny, and two spinning OpenMP threads per process on a
    shared 2-core machine slow every test by orders of magnitude when another process runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def method_class(name: str) -> type:
    import nbexplain.explainers as pkg

    cls = getattr(pkg, name, None)
    if cls is None:
        try:
            cls = getattr(importlib.import_module(f"nbexplain.explainers.{HOME[name]}"), name, None)
        except ImportError:
            cls = None
    if cls is None:
        pytest.fail(f"{name} is not exported from nbexplain.explainers (nor found in its module {HOME[name]!r})")
    return cls


def build(case: Case, model: nn.Module | None = None, inner: nn.Module | None = None) -> Any:
    """The explainer of ``case`` on ``model`` (default: a fresh model of the row).

    ``inner``: the model the options (layers) are taken from, when ``model`` wraps it.
    """
    model = model if model is not None else MODELS[case.model][0]()
    return method_class(case.method)(model, **case.options(case.model, inner if inner is not None else model))


def inputs(case: Case, n: int = N, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, *MODELS[case.model][1], generator=torch.Generator().manual_seed(seed))


def n_outputs(model: nn.Module, x: torch.Tensor) -> int:
    with torch.no_grad():
        return int(model(x[:1]).reshape(1, -1).shape[1])


def assert_close(a: np.ndarray, b: np.ndarray, tol: float = 1e-5) -> None:
    """Equal to ``tol`` relative to the larger array's scale (elementwise ``rtol`` is meaningless at 0)."""
    scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)), 1e-12)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale)


def model_state(model: nn.Module) -> tuple[list[bool], list[bool], int]:
    return ([m.training for m in model.modules()], [p.requires_grad for p in model.parameters()],
            hook_count(model))


def mixed_state(model: nn.Module) -> nn.Module:
    """Training mode on, one submodule in eval mode, the first parameter frozen."""
    model.train()
    list(model.modules())[-1].eval()
    next(model.parameters()).requires_grad_(False)
    return model


class Raising(nn.Module):
    """Runs ``inner``, but raises on its ``on_call``-th forward pass."""

    def __init__(self, inner: nn.Module, on_call: int) -> None:
        super().__init__()
        self.inner, self.on_call, self.calls = inner, on_call, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == self.on_call:
            raise RuntimeError(f"model failed on call {self.calls}")
        return self.inner(x)


class Argmax(nn.Module):
    """Outputs the predicted class index: no gradient flows to the input."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x).argmax(1)


class Detached(Argmax):
    """Outputs the logits, detached from the graph."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x).detach()


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def live_tensors() -> int:
    return sum(1 for o in gc.get_objects() if issubclass(type(o), torch.Tensor))


# -- (a) batched equals per sample ----------------------------------------------------------------
@per_case
def test_batched_equals_per_sample(case: Case) -> None:
    explainer = build(case)
    x = inputs(case)
    targets = [1, 3, 0]
    batch = explainer.explain(x, target=targets)
    for i in range(N):
        alone = explainer.explain(x[i:i + 1], target=[targets[i]])
        assert_close(batch.values[i], alone.values[0])
        assert_close(batch.outputs[i:i + 1], alone.outputs)


# -- (b) determinism ------------------------------------------------------------------------------
@per_case
def test_rerun_is_bitwise_identical(case: Case) -> None:
    x = inputs(case)
    first = build(case).explain(x, target=1).values
    torch.manual_seed(12345)  # the global generator must not matter, only the method's seed
    np.random.seed(12345)
    again = build(case).explain(x, target=1).values
    np.testing.assert_array_equal(first, again)


# -- (c) model state, hooks and gradients ---------------------------------------------------------
@per_case
def test_model_state_restored_and_no_parameter_grad(case: Case) -> None:
    model = mixed_state(MODELS[case.model][0]())
    before = model_state(model)
    build(case, model).explain(inputs(case), target=1)
    assert model_state(model) == before
    assert all(p.grad is None for p in model.parameters())


@per_case
@pytest.mark.parametrize("which", ["first", "second", "last"])
def test_model_state_restored_when_the_model_raises(case: Case, which: str) -> None:
    inner = mixed_state(MODELS[case.model][0]())
    model = Raising(inner, -1)
    before = model_state(model)
    explainer = build(case, model, inner)
    model.calls = 0  # construction may run the model
    explainer.explain(inputs(case), target=1)  # count the forward passes one call makes
    total = model.calls
    on_call = {"first": 1, "second": min(2, total), "last": total}[which]
    explainer = build(case, model, inner)  # fresh: no cached state from the counting call
    model.calls, model.on_call = 0, on_call
    with pytest.raises(RuntimeError, match=f"model failed on call {on_call}"):
        explainer.explain(inputs(case), target=1)
    assert model_state(model) == before
    assert all(p.grad is None for p in model.parameters())
    model.on_call = -1  # the explainer still works afterwards
    assert np.isfinite(explainer.explain(inputs(case), target=1).values).all()


# -- (d) no leaks over many calls -----------------------------------------------------------------
#: Allowed growth over 100 explanations after a warm-up: Python heap (tracemalloc) and RSS.
HEAP_TOLERANCE = 256 * 1024
RSS_TOLERANCE = 8 * 1024**2


@per_case
def test_hundred_explanations_leave_no_hooks_and_no_memory_growth(case: Case) -> None:
    model = MODELS[case.model][0]()
    explainer = build(case, model)
    x = inputs(case, n=1)
    for _ in range(5):  # warm-up: allocator pools, lazily built caches
        explainer.explain(x, target=1)
    gc.collect()
    tensors, rss = live_tensors(), rss_bytes()
    tracemalloc.start()
    try:
        heap0 = tracemalloc.get_traced_memory()[0]
        for _ in range(100):
            explainer.explain(x, target=1)
        gc.collect()
        heap = tracemalloc.get_traced_memory()[0] - heap0
    finally:
        tracemalloc.stop()
    assert hook_count(model) == 0
    assert live_tensors() <= tensors, "torch tensors outlive the explanations"
    assert heap < HEAP_TOLERANCE, f"Python heap grew by {heap} bytes over 100 explanations"
    grown = rss_bytes() - rss
    assert grown < RSS_TOLERANCE, f"resident memory grew by {grown / 2**20:.1f} MiB over 100 explanations"


# -- (e) the Explanation ---------------------------------------------------------------------------
def expected_shape(case: Case, model: nn.Module, explainer: Any, x: torch.Tensor) -> tuple[int, ...]:
    if case.out == "input":
        return tuple(x.shape)
    if case.out == "map":
        return (x.shape[0], *x.shape[2:])
    layer = explainer.layer if isinstance(getattr(explainer, "layer", None), nn.Module) else LAYER[case.model](model)
    seen: list[tuple[int, ...]] = []
    handle = layer.register_forward_hook(lambda _m, _i, o: seen.append(tuple(o.shape)))
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
    return seen[0]


@per_case
def test_explanation_fields(case: Case) -> None:
    model = MODELS[case.model][0]()
    explainer = build(case, model)
    x = inputs(case)
    e = explainer.explain(x, target=[2, 0, 1])
    assert e.values.shape == expected_shape(case, model, explainer, x)
    assert e.values.dtype == np.float32 and np.isfinite(e.values).all()
    assert isinstance(e.method, str) and e.method and e.method == explainer.method
    np.testing.assert_array_equal(e.target, [2, 0, 1])
    with torch.no_grad():
        logits = model(x).double().numpy()
    assert_close(e.outputs, logits[np.arange(N), [2, 0, 1]])
    np.testing.assert_array_equal(e.data, x.numpy())
    assert len(e) == N and e[1].values.shape == e.values.shape[1:]


# -- (f) the uniform call: target forms ------------------------------------------------------------
@per_case
def test_every_target_form(case: Case) -> None:
    model = MODELS[case.model][0]()
    explainer = build(case, model)
    x = inputs(case)
    with torch.no_grad():
        predicted = model(x).argmax(1).numpy()
    e_none = explainer.explain(x)
    np.testing.assert_array_equal(e_none.target, predicted)
    e_int = explainer.explain(x, target=2)
    np.testing.assert_array_equal(e_int.target, [2] * N)
    e_list = explainer.explain(x, target=[2, 2, 2])
    np.testing.assert_array_equal(e_list.values, e_int.values)
    e_pred = explainer.explain(x, target=predicted.tolist())
    assert_close(e_pred.values, e_none.values)
    if case.callable_target:
        e_call = explainer.explain(x, target=lambda out: out[:, 2])
        assert e_call.target is None
        assert_close(e_call.values, e_int.values)
        assert_close(e_call.outputs, e_int.outputs)


# -- (g) named errors ------------------------------------------------------------------------------
@per_case
def test_integer_inputs_are_refused(case: Case) -> None:
    explainer = build(case)
    ids = (inputs(case) * 10).long()
    if explainer.integer_inputs:  # layer methods take token ids; a float first layer says so itself
        with pytest.raises((TypeError, RuntimeError, ValueError), match=r"(?i)dtype|long|float"):
            explainer.explain(ids, target=0)
        return
    with pytest.raises(TypeError, match=r"dtype torch.int64: integers.*get_input_embeddings.* cast it to float first"):
        explainer.explain(ids, target=0)


@per_case
def test_target_out_of_range_names_the_valid_range(case: Case) -> None:
    model = MODELS[case.model][0]()
    k = n_outputs(model, inputs(case))
    with pytest.raises(ValueError, match=rf"valid targets are 0\.\.{k - 1}"):
        build(case, model).explain(inputs(case), target=k)
    with pytest.raises(ValueError, match=rf"valid targets are 0\.\.{k - 1}"):
        build(case, model).explain(inputs(case), target=[0, -1, 0])


@per_case
@pytest.mark.parametrize("wrapper", [Argmax, Detached], ids=["argmax", "detached"])
def test_non_differentiable_model_output_is_named(case: Case, wrapper: type) -> None:
    inner = MODELS[case.model][0]()
    model = wrapper(inner)
    with pytest.raises(GradientError, match="does not depend differentiably"):
        build(case, model, inner).explain(inputs(case), target=0)
    assert hook_count(model) == 0


@per_case
def test_inputs_without_sample_axis_are_refused(case: Case) -> None:
    x = inputs(case, n=1).reshape(-1)
    with pytest.raises(ValueError, match="sample axis"):
        build(case).explain(x, target=0)


@per_case
def test_baselines_are_checked(case: Case) -> None:
    explainer = build(case)
    x = inputs(case)
    if not explainer.uses_baselines:
        with pytest.raises(TypeError, match="takes no baselines"):
            explainer.explain(x, target=0, baselines=torch.zeros_like(x))
        return
    wrong = torch.zeros(N, *(s + 1 for s in x.shape[1:]))
    with pytest.raises(ValueError, match=r"shape"):
        explainer.explain(x, target=0, baselines=wrong)
    with pytest.raises(ValueError, match=r"shape"):
        explainer.explain(x, target=0, baselines=torch.zeros(N + 1, *x.shape[1:]))


def test_the_table_covers_every_exported_gradient_method() -> None:
    import nbexplain.explainers as pkg
    from nbexplain.explainers.gradients._engine import GradientExplainer

    exported = {name for name in dir(pkg) if isinstance(getattr(pkg, name), type)
                and issubclass(getattr(pkg, name), GradientExplainer)}
    assert exported <= {c.method for c in CASES}, f"add rows for {sorted(exported - {c.method for c in CASES})}"


# -- the registry names every method ---------------------------------------------------------------
REGISTRY_ROWS = {
    "saliency": ("Saliency", {}), "saliency_abs": ("Saliency", {}), "gradient_x_input": ("GradientXInput", {}),
    "smoothgrad": ("SmoothGrad", {"n_samples": 2}), "integrated_gradients": ("IntegratedGradients", {"steps": 4}),
    "expected_gradients": ("ExpectedGradients", {"n_samples": 4}), "deeplift": ("DeepLift", {}),
    "grad_cam": ("GradCAM", {}), "grad_cam++": ("GradCAMPlusPlus", {}),
    "layer_integrated_gradients": ("LayerIntegratedGradients", {"layer": "3", "steps": 4}),
    "layer_gradient_x_activation": ("LayerGradientXActivation", {"layer": "conv2d_2"}),
}


@pytest.mark.parametrize("name", sorted(REGISTRY_ROWS))
def test_registry_builds_every_gradient_method(name: str) -> None:
    from nbexplain.explainers import available_explainers, get_explainer

    cls_name, kwargs = REGISTRY_ROWS[name]
    cls = method_class(cls_name)
    model = small_cnn(10).eval()
    kwargs = dict(kwargs)
    if kwargs.get("layer") == "conv2d_2":
        kwargs["layer"] = model[2]  # a module works as well as a dotted name
    data = torch.randn(4, 1, 8, 8) if name == "expected_gradients" else None
    explainer = get_explainer(name, model, data=data, **kwargs)
    assert isinstance(explainer, cls)
    assert getattr(explainer, "absolute", name == "saliency_abs") == (name == "saliency_abs")
    e = explainer.explain(torch.randn(2, 1, 8, 8), target=1)
    assert e.values.shape[0] == 2 and np.isfinite(e.values).all()
    assert name in available_explainers() and name in available_explainers("image")
    assert (name in available_explainers("table")) == (name not in ("grad_cam", "grad_cam++"))


def test_registry_names_what_is_missing() -> None:
    from nbexplain.explainers import available_explainers, get_explainer

    model = small_cnn(10)
    assert {"shap", "lime"} <= set(available_explainers("table")) and "shap" not in available_explainers("image")
    with pytest.raises(ValueError, match=r"needs data=.*expected_gradients"):
        get_explainer("expected_gradients", model)
    with pytest.raises(ValueError, match=r"needs layer="):
        get_explainer("layer_integrated_gradients", model)
    with pytest.raises(TypeError, match="takes no data="):
        get_explainer("saliency", model, data=np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"unknown explainer 'grad_cma'.*Did you mean 'grad_cam'"):
        get_explainer("grad_cma", model)
    with pytest.raises(ValueError, match="kind must be"):
        available_explainers("audio")
    with pytest.raises(TypeError):
        get_explainer("integrated_gradients", model, stpes=8)
