"""ShapleyView: its payload (binary arrays through the codec), the selection round trip, bad input, the guard."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets
from ipywidgets.widgets.widget import _remove_buffers
from torch import nn

import nbexplain as nbx
from nbexplain.codec import decode_array
from nbexplain.explainers.teaching.shapley_lattice import LatticeTooLargeError, coalition_lattice
from nbexplain.widgets.teaching.shapley_view import ShapleyView
from tests.core.test_state_guard import KINDS, assert_same, snapshot, table_model
from tests.core.test_state_guard import X as GUARD_X

RNG = np.random.default_rng(0)
BG = RNG.normal(size=(6, 4))
X = RNG.normal(size=4)
HOSTILE = ['<img src=x onerror="window.__nbx_pwned=1">', "<script>window.__nbx_pwned=1</script>", "a&b", "d"]


def f(A: np.ndarray) -> np.ndarray:
    return (A[:, :1] * A[:, 1:2] + np.sin(A[:, 2:3]) - A[:, 3:4]) * np.array([[1.0, -1.0]])


@pytest.fixture
def view():
    v = ShapleyView(f, X, BG, feature_names=HOSTILE, title="toy")
    yield v
    v.close()


def test_the_lattice_payload_travels_as_binary_through_the_codec(view: ShapleyView) -> None:
    lat = coalition_lattice(f, X, BG, feature_names=HOSTILE)
    assert view.mode == "lattice" and view.names == HOSTILE  # names untouched (text in the browser)
    state, paths, _buffers = _remove_buffers(view.get_state())
    assert ["values", "data"] in paths and ["shapley", "data"] in paths
    assert state["values"]["dtype"] == "float32" and state["values"]["shape"] == [16]
    np.testing.assert_allclose(decode_array(view.get_state()["values"]), lat.values - lat.base_value, atol=1e-6)
    np.testing.assert_allclose(decode_array(view.get_state()["shapley"]), lat.shapley, atol=1e-6)
    assert view.base_value == pytest.approx(lat.base_value) and view.prediction == pytest.approx(lat.prediction)
    assert state["estimates"] is None and state["budgets"] is None
    assert view.details == [f"x = {v:.4g}" for v in X]
    assert view.output_label in ("output 0", "output 1") and view.lattice is not None
    assert view.convergence_result is None


def test_the_selection_comes_back_to_python(view: ShapleyView) -> None:
    seen = []
    view.observe(lambda ch: seen.append((ch["name"], ch["new"])), names=["feature", "coalition"])
    view.set_state({"feature": 2, "coalition": [3, 0, 1]})  # what the browser's save_changes sends
    assert view.feature == 2 and view.coalition == [0, 1, 3]
    assert ("feature", 2) in seen and ("coalition", [0, 1, 3]) in seen
    lat = view.lattice
    sel = view.selection()
    assert sel["feature"] == HOSTILE[2] and sel["coalition"] == [HOSTILE[0], HOSTILE[1], HOSTILE[3]]
    assert sel["value"] == pytest.approx(lat.values[0b1011])
    assert sel["contribution"] == pytest.approx(lat.values[0b1111] - lat.values[0b1011])
    assert sel["weight"] == pytest.approx(1 / 4)  # |S| = 3 of M = 4: 3! 0! / 4!
    assert sel["shapley"] == pytest.approx(lat.shapley[2], abs=1e-6)
    view.set_state({"coalition": None, "feature": -1})
    assert view.selection() == {"feature": None, "shapley": None, "coalition": None}
    view.feature = 1  # and out again
    assert view.get_state()["feature"] == 1


def test_a_bad_selection_is_refused(view: ShapleyView) -> None:
    with pytest.raises(traitlets.TraitError, match=r"feature must be -1 \(none\) or a player index 0..3"):
        view.feature = 4
    with pytest.raises(traitlets.TraitError, match=r"player indices 0..3, got \[7\]"):
        view.coalition = [0, 7]
    assert view.feature == -1 and view.coalition is None


def test_more_than_ten_features_show_the_convergence() -> None:
    m = 12
    w = np.arange(1.0, m + 1)
    bg = RNG.normal(size=(4, m))
    v = ShapleyView(lambda A: (A @ w)[:, None] + A[:, :1] * A[:, 1:2], np.ones(m), bg, budgets=[64, 256, 1024])
    try:
        assert v.mode == "convergence" and v.values is None and "too large to draw" in v.note
        c = v.convergence_result
        state, paths, _ = _remove_buffers(v.get_state())
        assert ["estimates", "data"] in paths and state["estimates"]["shape"] == [3, m]
        np.testing.assert_allclose(v.estimates, c.estimates, rtol=1e-6)
        np.testing.assert_allclose(v.exact, c.exact, rtol=1e-6)
        np.testing.assert_allclose(v.shapley, c.exact, rtol=1e-6)  # the waterfall sums the exact values
        assert v.z == pytest.approx(1.96, abs=1e-3) and v.budgets.tolist() == [64, 256, 1024]
        v.set_state({"feature": 5})
        sel = v.selection()
        assert sel["feature"] == "feature 5" and sel["budgets"] == [64, 256, 1024]
        np.testing.assert_array_equal(sel["estimates"], c.estimates[:, 5])
        with pytest.raises(traitlets.TraitError, match="picked on the lattice"):
            v.coalition = [0]
    finally:
        v.close()
    with pytest.raises(LatticeTooLargeError, match="groups="):
        ShapleyView(lambda A: A[:, :1], np.ones(m), bg, mode="lattice")
    grouped = ShapleyView(lambda A: A.sum(1, keepdims=True), np.ones(m), bg, groups=[list(range(6)), list(range(6, m))])
    assert grouped.mode == "lattice" and grouped.names == ["group 0", "group 1"]
    assert grouped.details[0].startswith("6 features: feature 0 = 1")
    grouped.close()


def test_the_lattice_of_few_players_can_be_shown_as_convergence_too() -> None:
    m = 6
    v = ShapleyView(lambda A: A.sum(1, keepdims=True) ** 2, np.ones(m), np.zeros((2, m)), mode="convergence",
                    budgets=[16, 32])
    assert v.mode == "convergence" and v.estimates.shape == (2, m)
    assert "enumerated all 62 coalitions" in v.note  # the adaptive run is exact at this size, and says so
    v.close()


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match=r"mode must be one of .*'convergence'"):
        ShapleyView(f, X, BG, mode="grid")
    with pytest.raises(TypeError, match=r"ShapleyView\(\) got unexpected keyword argument\(s\) 'colour'"):
        ShapleyView(f, X, BG, colour="red")
    with pytest.raises(ValueError, match=r"x must be one sample"):
        ShapleyView(f, BG, BG)
    with pytest.raises(Exception, match=r"(?i)non-finite|NaN"):
        ShapleyView(f, np.array([1.0, np.nan, 0.0, 0.0]), BG)
    with pytest.raises(Exception, match=r"returned inf .*check the inputs"):
        ShapleyView(lambda A: np.full((len(A), 1), np.inf), X, BG)


def test_a_dataframe_and_the_callers_data_are_left_as_they_were() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(BG, columns=["age", "bmi", "bp", "s1"])
    row = frame.iloc[[2]].copy()
    before_frame, before_row = frame.copy(), row.copy()
    v = ShapleyView(lambda d: f(np.asarray(d, dtype=float)), row, frame)
    assert v.names == ["age", "bmi", "bp", "s1"] and v.details[0] == f"x = {BG[2, 0]:.4g}"
    pd.testing.assert_frame_equal(frame, before_frame)
    pd.testing.assert_frame_equal(row, before_row)
    v.close()


@pytest.mark.parametrize("kind", KINDS)
def test_the_view_leaves_the_models_state(kind: str) -> None:
    model = table_model(kind)
    x, bg = GUARD_X[0].copy(), GUARD_X[1:6].copy()
    before = snapshot(model, [x, bg])
    rng = torch.get_rng_state()
    try:
        ShapleyView(model, x, bg).close()
        ShapleyView(model, x, bg, mode="convergence", budgets=[10, 12]).close()
    except Exception:
        if not kind.startswith("raising"):
            raise
    assert_same(before, snapshot(model, [x, bg]))
    assert torch.equal(rng, torch.get_rng_state())


def test_a_torch_model_gives_the_same_numbers_as_the_lattice() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)).eval()
    x, bg = X.astype(np.float32), BG.astype(np.float32)
    v = ShapleyView(model, x, bg, target=1, class_names=["no", "<b>yes</b>"])
    lat = coalition_lattice(model, x, bg, target=1)
    np.testing.assert_allclose(v.shapley, lat.shapley, rtol=1e-5)
    assert v.output_label == "output '<b>yes</b>'"
    v.close()


def test_exports() -> None:
    assert nbx.ShapleyView is ShapleyView and "ShapleyView" in nbx.__all__
    assert "ShapleyView" in nbx.widgets.__all__
