"""The Integrated Gradients path (nbexplain.explainers.teaching.ig_path) and its view (IGPathView).

Checked against independent computations: IntegratedGradients at the same rule and steps (the
accumulated attribution at alpha = 1, and every completeness error of the convergence chart),
the model itself at the interpolated inputs (outputs), autograd at the grid alphas (gradients),
the accumulated attribution rebuilt point by point, expected gradients at the same points for
several baselines, and a smooth model whose Gauss-Legendre error must fall with the steps. The
view: what it sends (the one codec, within the wire budget, with the note), the picker
recomputes and goes back on failure, hostile names stay strings, and the state guard holds.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import traitlets
from torch import nn

import nbexplain as nbx
from nbexplain.explainers.gradients._engine import riemann_or_gauss
from nbexplain.explainers.gradients._paths import gaussian_baseline
from nbexplain.explainers.gradients.integrated_gradients import (
    RULES,
    ExpectedGradients,
    IntegratedGradients,
)
from nbexplain.explainers.teaching.ig_path import completeness_curve, ig_path
from nbexplain.validate import NonFiniteError
from nbexplain.widgets.teaching.ig_path_view import IGPathView
from tests.core.test_state_guard import KINDS, assert_same, image_model, snapshot, table_model

HOSTILE = ['<img src=x onerror="window.__nbx_pwned=1">', "<script>window.__nbx_pwned=1</script>", "a&b"]


def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.Tanh(), nn.Conv2d(6, 4, 3, stride=2, padding=1),
                         nn.Softplus(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)).eval()


def mlp(features: int = 5) -> nn.Module:
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(features, 8), nn.Tanh(), nn.Linear(8, 3)).eval()


def image() -> torch.Tensor:
    return torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(2))


def _target_output(model: nn.Module, batch: torch.Tensor, target: int) -> np.ndarray:
    with torch.no_grad():
        return model(batch)[:, target].double().numpy()


# -- the path ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("baseline", ["black", "blur", "uniform", "gaussian", "given", "several"])
def test_accumulated_attribution_at_alpha_one_is_integrated_gradients(rule: str, baseline: str) -> None:
    model, x = cnn(), image()
    given = {"given": torch.full((3, 8, 8), 0.3), "several": ["black", torch.full((3, 8, 8), 0.5), "blur"]}
    spec = given.get(baseline, baseline)
    ig_spec = {"black": None, "several": ["zeros", *spec[1:]]}.get(baseline, spec)
    p = ig_path(model, x, spec, rule=rule, steps=12, alphas=9, target=1)
    e = IntegratedGradients(model, steps=12, rule=rule).explain(x[None], target=1, baselines=ig_spec)
    np.testing.assert_allclose(p.attribution, e.values[0], rtol=0, atol=1e-5 * max(1.0, np.abs(e.values).max()))
    assert p.attribution.dtype == np.float32 and p.accumulated.shape == (9, 3, 8, 8)
    assert p.delta == pytest.approx(float(e.diagnostics["delta"][0]), abs=1e-5)
    assert p.fx == pytest.approx(float(e.outputs[0]), abs=1e-6) and p.fb == pytest.approx(float(e.base_values[0]))
    np.testing.assert_allclose(p.accumulated_sum[-1], float(e.values.sum()), rtol=1e-5, atol=1e-6)


def test_path_outputs_and_gradients_are_the_models_at_the_interpolated_inputs() -> None:
    model, x = cnn(), image()
    p = ig_path(model, x, "uniform", rule="riemann_trapezoid", steps=7, alphas=5, target=2)
    b = p.baselines[0]
    expected_inputs = b[None] + p.alphas[:, None, None, None] * (x.numpy() - b)[None]
    np.testing.assert_allclose(p.inputs, expected_inputs, atol=1e-6)
    np.testing.assert_allclose(p.outputs, _target_output(model, torch.as_tensor(expected_inputs, dtype=torch.float32), 2),
                               atol=1e-5)
    at_points = b[None] + p.points[:, None, None, None] * (x.numpy() - b)[None]
    np.testing.assert_allclose(p.point_outputs, _target_output(model, torch.as_tensor(at_points, dtype=torch.float32),
                                                               2), atol=1e-5)
    leaf = torch.as_tensor(expected_inputs).float().requires_grad_(True)
    (grads,) = torch.autograd.grad(model(leaf)[:, 2].sum(), leaf)
    np.testing.assert_allclose(p.gradients, grads.numpy(), atol=1e-6)
    assert p.outputs[0] == pytest.approx(p.fb, abs=1e-5) and p.outputs[-1] == pytest.approx(p.fx, abs=1e-5)


def test_accumulated_up_to_alpha_sums_the_rules_points_up_to_alpha() -> None:
    model, x = mlp(), torch.linspace(-1, 1, 5)
    p = ig_path(model, x, "black", rule="riemann_middle", steps=10, alphas=[0.0, 0.3, 0.55, 1.0], target=0)
    points, weights = riemann_or_gauss("riemann_middle", 10)
    leaf = (torch.as_tensor(points, dtype=torch.float32)[:, None] * x[None]).requires_grad_(True)
    (grads,) = torch.autograd.grad(model(leaf)[:, 0].sum(), leaf)
    for g, alpha in enumerate(p.alphas):
        keep = points <= alpha
        want = (weights[keep, None] * grads.numpy()[keep]).sum(0) * x.numpy()
        np.testing.assert_allclose(p.accumulated[g], want, atol=1e-6)
    assert np.abs(p.accumulated[0]).max() == 0.0  # no point of the middle rule lies at 0


def test_the_pass_walks_each_point_once_and_matches_the_separate_computations() -> None:
    class Counting(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner, self.rows = mlp(), 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.rows += len(x) if x.requires_grad else 0  # rows that get a gradient
            return self.inner(x)

    model = Counting()
    p = ig_path(model, torch.ones(5), rule="riemann_right", steps=8, alphas=9, target=0, internal_batch_size=64)
    assert model.rows == 9  # 9 grid alphas, 8 rule points k/8: one union of 9 points, one pass
    e = IntegratedGradients(model.inner, steps=8, rule="riemann_right").explain(torch.ones(1, 5), target=0)
    np.testing.assert_allclose(p.attribution, e.values[0], atol=1e-6)
    np.testing.assert_allclose(p.point_outputs, p.outputs[1:], atol=0)  # the shared points: one output each


def test_several_baselines_average_as_expected_gradients_at_the_same_points() -> None:
    model, x = mlp(), torch.tensor([0.5, -1.0, 2.0, 0.1, -0.3])
    bases = torch.randn(4, 5, generator=torch.Generator().manual_seed(3))
    steps = 6
    p = ig_path(model, x, bases, rule="riemann_middle", steps=steps, alphas=3, target=1)
    points, _ = riemann_or_gauss("riemann_middle", steps)

    class AtThePoints(ExpectedGradients):
        def draws(self):  # every (baseline, point) pair once: the Monte Carlo average made exact
            rows = torch.arange(4).repeat_interleave(steps)
            return rows, torch.as_tensor(np.tile(points, 4), dtype=torch.float64)

    eg = AtThePoints(model, bases, n_samples=4 * steps).explain(x[None], target=1)
    np.testing.assert_allclose(p.attribution, eg.values[0], atol=1e-6)
    each = [IntegratedGradients(model, steps=steps, rule="riemann_middle").explain(x[None], target=1, baselines=b[None])
            for b in bases]
    np.testing.assert_allclose(p.attribution, np.mean([e.values[0] for e in each], 0), atol=1e-6)
    assert p.baselines.shape == (4, 5) and p.fb == pytest.approx(np.mean([e.base_values[0] for e in each]))


def test_mean_and_data_baselines_come_from_the_data() -> None:
    model = mlp()
    data = torch.randn(40, 5, generator=torch.Generator().manual_seed(4))
    x = data[0] + 1
    p = ig_path(model, x, "mean", steps=4, alphas=3, data=data, target=0)
    np.testing.assert_allclose(p.baselines[0], data.mean(0).numpy(), atol=1e-6)
    d1 = ig_path(model, x, "data", steps=4, alphas=3, data=data, n_data=7, seed=5, target=0)
    d2 = ig_path(model, x, "data", steps=4, alphas=3, data=data, n_data=7, seed=5, target=0)
    assert d1.baselines.shape == (7, 5) and np.array_equal(d1.baselines, d2.baselines)
    rows = [int(np.flatnonzero((data.numpy() == b).all(1))[0]) for b in d1.baselines]
    assert len(set(rows)) == 7  # distinct rows of the data, drawn without replacement
    with pytest.raises(ValueError, match="baseline 'mean' needs data="):
        ig_path(model, x, "mean")
    with pytest.raises(ValueError, match=r"data has shape \(3, 4\) but x has shape \(5,\)"):
        ig_path(model, x, "mean", data=np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="unknown baseline 'grey'"):
        ig_path(model, x, "grey")


def test_gaussian_baseline_is_seeded_noise_within_the_samples_range() -> None:
    x = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(6))
    before = torch.get_rng_state()
    b1, b2, b3 = gaussian_baseline(x, seed=1), gaussian_baseline(x, seed=1), gaussian_baseline(x, seed=2)
    assert torch.equal(before, torch.get_rng_state()), "the global torch generator was used"
    assert torch.equal(b1, b2) and not torch.equal(b1, b3) and not torch.equal(b1, x)
    lo, hi = x.flatten(1).min(1).values, x.flatten(1).max(1).values
    assert bool((b1.flatten(1) >= lo[:, None]).all() and (b1.flatten(1) <= hi[:, None]).all())
    spread = (b1 - x).std() / (hi - lo).mean()
    assert 0.1 < float(spread) < 0.3  # about a quarter of the range, less where clipped


def test_bad_inputs_get_named_errors() -> None:
    model, x = cnn(), image()
    bad = x.clone()
    bad[0, 1, 2] = float("nan")
    with pytest.raises(NonFiniteError, match=r"^x holds NaN"):
        ig_path(model, bad)
    with pytest.raises(ValueError, match="unknown integration rule 'simpson'"):
        ig_path(model, x, rule="simpson")
    with pytest.raises(ValueError, match="alphas must be a count >= 2 or an increasing sequence"):
        ig_path(model, x, alphas=[0.0, 0.5])
    with pytest.raises(ValueError, match="'data' is already several baselines"):
        ig_path(mlp(), torch.ones(5), ["black", "data"], data=torch.zeros(4, 5))


# -- the completeness chart -------------------------------------------------------------------------
def test_completeness_errors_are_integrated_gradients_deltas_at_every_rule_and_step() -> None:
    model, x = cnn(), image()
    c = completeness_curve(model, x, "blur", steps=(2, 4, 8, 32), target=0)
    assert c.errors.shape == (5, 4) and c.rules == RULES
    for a, rule in enumerate(c.rules):
        for k, n in enumerate(c.steps):
            d = IntegratedGradients(model, steps=n, rule=rule).explain(x[None], target=0, baselines="blur")
            ref = float(d.diagnostics["delta"][0])
            assert c.deltas[a, k] == pytest.approx(ref, abs=2e-6, rel=1e-4), (rule, n)
    np.testing.assert_allclose(c.errors, np.abs(c.deltas))


def test_gauss_legendre_error_falls_with_the_steps_on_a_smooth_model() -> None:
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1)).double()  # smooth; float64 floor
    torch.manual_seed(7)
    x = torch.tensor([2.0, -1.5, 1.0, 3.0], dtype=torch.float64)
    c = completeness_curve(model, x, "black", rules=("gausslegendre", "riemann_left"), steps=(2, 4, 8, 16, 32))
    gl, left = c.errors
    assert gl[0] > 1e-4, "the model is curved enough for 2 points to miss"
    assert all(a > b for a, b in itertools.pairwise(gl[:4])), gl
    assert gl[4] < 1e-10 and gl[3] < gl[0] * 1e-4
    assert all(a > b for a, b in itertools.pairwise(left)), left  # first order: halves
    assert left[-1] > gl[-1] * 1e3


# -- the view ---------------------------------------------------------------------------------------
def _wire(view: IGPathView) -> tuple[dict, int]:
    from ipywidgets.widgets.widget import _remove_buffers

    state, _paths, buffers = _remove_buffers(view.get_state())
    return state, sum(memoryview(b).nbytes for b in buffers)


def test_view_sends_everything_through_the_codec_and_snaps_alpha(recorded: None) -> None:
    model, x = cnn(), image()
    view = IGPathView(model, x, baseline="blur", rule="riemann_trapezoid", steps=16, convergence=True, n_alphas=9)
    state = view.get_state()
    for name in ("alphas", "frames", "gradients", "accumulated", "outputs", "points", "weights", "convergence"):
        assert set(state[name]) >= {"dtype", "shape", "data"}, name
        assert isinstance(state[name]["data"], (bytes, memoryview)), name  # binary, never a JSON list
    assert state["frames"]["dtype"] == "uint8" and state["frames"]["shape"] == [9, 8, 8, 3]
    assert state["gradients"]["dtype"] == "float16" and state["alphas"]["dtype"] == "float32"
    msg = next(m for m in view.comm.messages if m["msg_type"] == "comm_open")
    assert msg["buffers"], "arrays travel as binary buffers"
    # what the student sees at alpha: the frames are the interpolated inputs as 8-bit pictures
    p = view.path
    np.testing.assert_array_equal(view.frames, np.clip(np.rint(np.moveaxis(p.inputs, 1, -1) * 255), 0, 255))
    np.testing.assert_allclose(view.gradients, p.gradients.sum(1), atol=1e-12)
    np.testing.assert_allclose(view.alphas, np.linspace(0, 1, 9))
    assert view.convergence.shape == (5, 8) and view.convergence_steps == [2, 4, 8, 16, 32, 64, 128, 256]
    view.alpha = 0.3
    assert view.alpha == 0.25 and view.at_alpha()["alpha"] == 0.25
    np.testing.assert_allclose(view.at_alpha()["accumulated"], p.accumulated[2])
    with pytest.raises(traitlets.TraitError, match=r"alpha must lie in \[0, 1\], got 1.5"):
        view.alpha = 1.5
    assert view.note == "" and view.output_label == f"output {p.target}"
    view.close()


def test_wire_budget_downsamples_and_says_so() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 8, stride=8), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 28 * 28, 2)).eval()
    x = torch.rand(3, 224, 224, generator=torch.Generator().manual_seed(8))
    view = IGPathView(model, x, steps=8, n_alphas=65, convergence=False)
    _state, nbytes = _wire(view)
    assert nbytes <= 2_000_000 and view.gradients.shape == (65, 56, 56) and view.frames.shape == (65, 56, 56, 3)
    assert view.note.startswith("maps block-averaged 4 x 4 (224 x 224 -> 56 x 56 cells)") and "2.0 MB" in view.note
    # the block-averaged map is the mean of the full-resolution map over 4 x 4 blocks
    full = view.path.accumulated[-1].sum(0)
    np.testing.assert_allclose(view.accumulated[-1], full.reshape(56, 4, 56, 4).mean((1, 3)),
                               atol=1e-3 * np.abs(full).max())
    small = IGPathView(model, x, steps=8, n_alphas=65, max_bytes=400_000, convergence=False)
    _state, nbytes = _wire(small)
    n = len(small.alphas)
    assert nbytes <= 400_000 and 2 < n < 65 and small.alphas[0] == 0 and small.alphas[-1] == 1
    assert f"the slider walks {n} of the path's 65 alphas" in small.note
    np.testing.assert_allclose(small.accumulated[-1], view.accumulated[-1], atol=1e-3 * np.abs(full).max())
    with pytest.raises(ValueError, match="max_bytes=20000 cannot hold even two alphas"):
        IGPathView(model, x, steps=8, max_bytes=20_000, convergence=False)
    view.close()
    small.close()


def test_table_view_bars_data_and_hostile_names_stay_text() -> None:
    model = mlp(3)
    x = np.array([0.5, -1.0, 2.0], np.float32)
    data = np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32)
    view = IGPathView(model, x, "mean", data=data, feature_names=HOSTILE, class_names=["no", HOSTILE[1], "x"],
                      target=1, steps=8, convergence=False)
    assert view.kind == "table" and view.frames is None and view.inputs.shape == (33, 3)
    assert view.feature_names == HOSTILE and view.output_label == f"output '{HOSTILE[1]}'"
    assert view.baseline_options == ["black", "uniform", "gaussian", "mean", "data"]  # no blur for a table row
    state, _ = _wire(view)
    assert state["feature_names"] == HOSTILE  # strings, drawn with textContent in the browser
    np.testing.assert_allclose(view.inputs[-1], x, atol=1e-3 * np.abs(x).max())
    with pytest.raises(ValueError, match="got 2 feature_names for 3 features"):
        IGPathView(model, x, feature_names=["a", "b"])
    view.close()


def test_picking_a_baseline_rule_or_steps_recomputes_and_a_failure_goes_back(recorded: None) -> None:
    class ZeroShy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = mlp(4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if bool((x.abs().sum(1) == 0).any()):
                raise ValueError("this model refuses the all-zero input")
            return self.inner(x)

    x = torch.tensor([1.0, 2.0, -1.0, 0.5])
    view = IGPathView(ZeroShy(), x, "uniform", data=torch.randn(10, 4), steps=8, convergence="auto")
    assert view.convergence is not None  # a tiny model: the chart is computed at once
    fb = view.fb
    view.baseline = "mean"
    assert view.error == "" and view.baseline == "mean" and view.fb != fb
    np.testing.assert_allclose(view.path.baselines[0], view._data.mean(0).numpy(), atol=1e-6)
    view.rule, view.steps = "riemann_left", 64
    assert len(view.points) == 64 and view.points[0] == 0 and view.path.rule == "riemann_left"
    view.baseline = "black"  # the model raises on the baseline: the error shows, the choice goes back
    assert view.error.startswith("ValueError: this model refuses the all-zero input")
    assert view.baseline == "mean" and view.path.baseline == "mean" and not view.busy
    view.baseline = "gaussian"
    assert view.error == "" and view.path.baseline == "gaussian"
    with pytest.raises(traitlets.TraitError, match="baseline must be one of"):
        view.baseline = "zeros!"
    view.close()


def test_given_and_averaged_baselines_are_their_own_choice() -> None:
    model, x = cnn(), image()
    view = IGPathView(model, x, baseline=["black", "blur"], steps=4, convergence=False)
    assert view.baseline == "black+blur" and view.baseline_options[0] == "black+blur"
    assert view.baseline_labels[0] == "average of black + blur" and view.path.baselines.shape == (2, 3, 8, 8)
    given = IGPathView(model, x, baseline=torch.zeros(3, 8, 8), steps=4, convergence=False)
    assert given.baseline == "given" and given.baseline_labels[0] == "given baseline"
    with pytest.raises(ValueError, match=r"unknown baseline 'mean'.*need data="):
        IGPathView(model, x, baseline="mean")
    view.close()
    given.close()


@pytest.mark.parametrize("kind", KINDS)
def test_the_view_leaves_the_models_state(kind: str) -> None:
    for model, x in ((table_model(kind), np.linspace(-1, 1, 4).astype(np.float32)),
                     (image_model(kind), np.random.default_rng(0).normal(size=(1, 8, 8)).astype(np.float32))):
        before = snapshot(model, [x])
        try:
            view = IGPathView(model, x, "uniform", steps=4, n_alphas=3, convergence=True,
                              convergence_steps=(2, 4))
            view.baseline = "gaussian"
            view.compute_convergence()
            view.close()
        except Exception:
            if not kind.startswith("raising"):
                raise
        assert_same(before, snapshot(model, [x]))


def test_exports() -> None:
    assert nbx.IGPathView is IGPathView and "IGPathView" in nbx.__all__
    assert "IGPathView" in nbx.widgets.__all__
