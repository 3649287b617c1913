"""The coalition lattice: every coalition's value and the Shapley values it gives, against independent references.

References: brute-force enumeration written here (the interventional value function, the Shapley
formula over subsets and, separately, the mean over all orderings), shap's ExactExplainer on the
same background, and our KernelShap in its exact mode. Axioms: efficiency, the weights sum to 1
(1/M per coalition size), symmetry and the dummy player. Groups of features are players of their
own. More than 10 players is refused with an error that names the argument and the ways out.
"""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pytest
import torch
from torch import nn

from nbexplain.explainers.perturbation._coalitions import all_coalitions
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explainers.teaching.shapley_lattice import (
    MAX_LATTICE_PLAYERS,
    LatticeTooLargeError,
    coalition_lattice,
    shapley_weight,
)

RNG = np.random.default_rng(0)
BG = RNG.normal(size=(7, 5))
X = RNG.normal(size=5)


def f(A: np.ndarray) -> np.ndarray:
    """A model with interactions and a non-linearity: (n, 5) -> (n, 1)."""
    return (np.tanh(A[:, 0] * A[:, 1]) + A[:, 2] ** 2 - 0.5 * A[:, 3] + 0.3 * A[:, 0] * A[:, 4])[:, None]


def brute_values(fn, x, bg, groups):
    """v(S) by bit mask: the mean over background rows with the features of S taken from x."""
    m = len(groups)
    out = np.empty(2 ** m)
    for c in range(2 ** m):
        rows = bg.copy()
        for i in range(m):
            if (c >> i) & 1:
                rows[:, groups[i]] = x[groups[i]]
        out[c] = fn(rows)[:, 0].mean()
    return out


def brute_shapley(v, m):
    """The Shapley formula over subsets."""
    phi = np.zeros(m)
    for i in range(m):
        for c in range(2 ** m):
            if (c >> i) & 1:
                continue
            s = bin(c).count("1")
            phi[i] += factorial(s) * factorial(m - s - 1) / factorial(m) * (v[c | 1 << i] - v[c])
    return phi


def by_orderings(v, m):
    """The other definition: the mean marginal contribution over all m! orderings."""
    phi = np.zeros(m)
    for order in itertools.permutations(range(m)):
        c = 0
        for i in order:
            phi[i] += v[c | 1 << i] - v[c]
            c |= 1 << i
    return phi / factorial(m)


def test_every_coalition_value_and_the_shapley_values_match_enumeration() -> None:
    lat = coalition_lattice(f, X, BG, feature_names=list("abcde"))
    v = brute_values(f, X, BG, [[j] for j in range(5)])
    np.testing.assert_allclose(lat.values, v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lat.shapley, brute_shapley(v, 5), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(lat.shapley, by_orderings(v, 5), rtol=1e-9, atol=1e-12)
    # each feature's marginals, weighted, give its value; coalition order is all_coalitions'
    for i in range(5):
        mg = lat.marginals(i)
        assert mg.value == pytest.approx(lat.shapley[i], rel=1e-9, abs=1e-12)
        assert np.all(all_coalitions(5)[mg.without, i] == 0) and np.all(all_coalitions(5)[mg.with_, i] == 1)
    assert lat.names == list("abcde") and lat.output_label == "output 0"


def test_the_lattice_agrees_with_shaps_exact_explainer_and_kernel_shap_exact_mode() -> None:
    shap = pytest.importorskip("shap")
    lat = coalition_lattice(f, X, BG)
    masker = shap.maskers.Independent(BG, max_samples=len(BG))
    theirs = shap.explainers.Exact(lambda A: f(A)[:, 0], masker)(X[None]).values[0]
    np.testing.assert_allclose(lat.shapley, theirs, rtol=1e-7, atol=1e-9)
    ours = KernelShap(f, BG, exact_max_features=16).explain(X[None], target=0)
    np.testing.assert_allclose(lat.shapley, ours.values[0], rtol=1e-10, atol=1e-12)
    assert lat.base_value == pytest.approx(float(f(BG).mean()), rel=1e-12)
    assert lat.prediction == pytest.approx(float(f(X[None])[0, 0]), rel=1e-12)


def test_efficiency_and_the_weights() -> None:
    lat = coalition_lattice(f, X, BG)
    assert abs(lat.efficiency_gap()) < 1e-10
    assert lat.shapley.sum() == pytest.approx(lat.prediction - lat.base_value, abs=1e-10)
    m = lat.n_players
    for i in range(m):
        mg = lat.marginals(i)
        assert len(mg.weights) == 2 ** (m - 1)
        assert mg.weights.sum() == pytest.approx(1.0, abs=1e-12)
        for s in range(m):  # each coalition size together weighs 1/M
            assert mg.weights[mg.sizes == s].sum() == pytest.approx(1 / m, abs=1e-12)
        rows = lat.weight_groups(i)
        assert rows[-1]["running"] == pytest.approx(lat.shapley[i], abs=1e-10)
    assert shapley_weight(0, 1) == 1.0
    with pytest.raises(ValueError, match=r"0\.\.2"):
        shapley_weight(3, 3)


def test_symmetry_and_dummy_players() -> None:
    g = lambda A: (A[:, :1] * A[:, 1:2] + 0 * A[:, 2:3])  # noqa: E731 (x0, x1 symmetric; x2 a dummy)
    bg = np.zeros((3, 3))
    lat = coalition_lattice(g, np.array([2.0, 2.0, 5.0]), bg)
    assert lat.shapley[0] == pytest.approx(lat.shapley[1]) == pytest.approx(2.0)
    assert lat.shapley[2] == 0.0
    assert np.all(lat.marginals(2).contributions == 0)


def test_groups_are_players() -> None:
    groups = [[0, 3], [1], [2, 4]]
    lat = coalition_lattice(f, X, BG, groups=groups, feature_names=list("abcde"))
    assert lat.names == ["a+d", "b", "c+e"] and lat.groups == groups
    v = brute_values(f, X, BG, groups)
    np.testing.assert_allclose(lat.values, v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lat.shapley, brute_shapley(v, 3), rtol=1e-9, atol=1e-12)
    named = coalition_lattice(f, X, BG, groups={"first": ["a", "d"], "rest": ["b", "c", "e"]}, feature_names=list("abcde"))
    assert named.names == ["first", "rest"]
    np.testing.assert_allclose(named.values, brute_values(f, X, BG, [[0, 3], [1, 2, 4]]), rtol=1e-10, atol=1e-12)
    assert named.index(["rest"]) == 2 and named.members(3) == [0, 1]


def test_a_torch_classifier_is_explained_at_its_top_class() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3)).eval()
    bg = RNG.normal(size=(5, 4)).astype(np.float32)
    x = RNG.normal(size=4).astype(np.float32)
    lat = coalition_lattice(model, x, bg, output="logits")
    with torch.no_grad():
        logits = model(torch.as_tensor(x[None]))[0].numpy()
    t = int(np.argmax(logits))
    assert lat.output_label == f"output {t}" and lat.prediction == pytest.approx(float(logits[t]), rel=1e-5)

    def fn(A):
        with torch.no_grad():
            return model(torch.as_tensor(A, dtype=torch.float32)).numpy()[:, t:t + 1].astype(np.float64)

    v = brute_values(fn, x.astype(np.float64), bg.astype(np.float64), [[j] for j in range(4)])
    np.testing.assert_allclose(lat.values, v, rtol=1e-4, atol=1e-5)
    assert abs(lat.efficiency_gap()) < 1e-5


def test_more_than_ten_players_is_refused_with_the_way_out() -> None:
    bg = np.zeros((2, 12))
    with pytest.raises(LatticeTooLargeError, match=r"M = 12") as info:
        coalition_lattice(lambda A: A[:, :1], np.ones(12), bg)
    msg = str(info.value)
    assert f"M = {MAX_LATTICE_PLAYERS}" in msg and "groups=" in msg and "mode='convergence'" in msg
    assert isinstance(info.value, ValueError)
    # grouped down to 10 or fewer, the same features draw
    lat = coalition_lattice(lambda A: A.sum(1, keepdims=True), np.ones(12), bg, groups=[[0, 1, 2], list(range(3, 12))])
    assert lat.shapley.tolist() == [3.0, 9.0]


def test_bad_inputs_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"x must be one sample.*X\[i\]"):
        coalition_lattice(f, np.ones((2, 5)), BG)
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*'n_sample'"):
        coalition_lattice(f, X, BG, n_sample=10)
    with pytest.raises(ValueError, match="at least 2 features"):
        coalition_lattice(lambda A: A, np.ones(1), np.zeros((2, 1)))
    with pytest.raises(TypeError, match="groups must be"):
        coalition_lattice(f, X, BG, groups="abc")
    with pytest.raises(ValueError, match="unknown player"):
        coalition_lattice(f, X, BG).index(["zz"])
    with pytest.raises(Exception, match=r"(?i)non-finite|NaN"):
        coalition_lattice(lambda A: np.full((len(A), 1), np.nan), X, BG)
