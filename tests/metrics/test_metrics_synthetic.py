"""The synthetic ground-truth set: methods find the known answer, a random map does not, the curves agree."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from nbexplain.explainers import IntegratedGradients, KernelShap, Saliency
from nbexplain.metrics import (
    deletion_curves,
    faithfulness_correlation,
    ground_truth_score,
    insertion_curves,
    synthetic_images,
    synthetic_table,
)
from nbexplain.validate import InputError

HELD_OUT = slice(448, 512)  # the last quarter: rows the models were not trained on


@pytest.fixture(scope="module")
def table():
    return synthetic_table(n=512, seed=0)


@pytest.fixture(scope="module")
def images():
    return synthetic_images(n=512, size=16, patch=4, seed=0, epochs=80)


def test_the_sets_are_what_they_say(table, images) -> None:
    assert table.accuracy > 0.93 and images.accuracy > 0.97
    assert [table.feature_names[j] for j in np.flatnonzero(table.truth)] == table.signal
    names = np.array(table.feature_names)
    # the label is the signal rule, and no noise feature changes it
    X = table.X.astype(np.float64)
    rule = (X[:, table.truth] @ np.array([1.5, 1.0, -1.0]) > 0).astype(int)
    assert np.array_equal(rule, table.y) and all(n.startswith("noise_") for n in names[~table.truth])
    m = images.mask
    assert m.sum((1, 2)).tolist() == [16] * 512 and len({tuple(np.argwhere(k)[0]) for k in m}) > 10  # it moves
    patch = images.X[:, 0][m].reshape(512, 16)
    assert np.array_equal(patch.mean(1) > 0, images.y == 1) and (np.abs(patch) == 1).all()


def test_sets_are_seeded_and_leave_the_global_random_states(table) -> None:
    states = random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    again = synthetic_table(n=512, seed=0)
    assert random.getstate() == states[0] and np.array_equal(np.random.get_state()[1], states[1])
    assert torch.equal(torch.get_rng_state(), states[2])
    assert np.array_equal(again.X, table.X)
    for p, q in zip(again.model.parameters(), table.model.parameters(), strict=True):
        assert torch.equal(p, q)
    assert not np.array_equal(synthetic_table(n=64, seed=1, epochs=5).X, synthetic_table(n=64, seed=2, epochs=5).X)


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "kernel_shap"])
def test_methods_rank_the_signal_features_first(table, method: str) -> None:
    X = table.X[HELD_OUT]
    ex = {"integrated_gradients": IntegratedGradients(table.model),
          "saliency": Saliency(table.model, absolute=True),
          "kernel_shap": KernelShap(table.model, table.background[:30])}[method]
    s = ground_truth_score(ex.explain(X), table.truth)
    assert s.mean_precision >= 0.9 and s.hit_rate >= 0.95, (s.mean_precision, s.hit_rate)
    rand = ground_truth_score(np.random.default_rng(0).normal(size=X.shape), table.truth)
    assert rand.mean_precision < 0.5 and abs(rand.mean_precision - s.chance) < 0.12


def _cells(a: np.ndarray, p: int = 4) -> np.ndarray:
    a = a.sum(1) if a.ndim == 4 else a
    n, h, w = a.shape
    return a.reshape(n, h // p, p, w // p, p).sum((2, 4))


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "kernel_shap"])
def test_methods_find_the_planted_patch(images, method: str) -> None:
    X, mask = images.X[HELD_OUT][:32], images.mask[HELD_OUT][:32]
    if method == "kernel_shap":  # players: the 16 cells of the 4 x 4 patch grid (the patch is one of them)
        S = 16
        groups = [[r * S + c for r in range(gr, gr + 4) for c in range(gc, gc + 4)]
                  for gr in range(0, S, 4) for gc in range(0, S, 4)]
        model = images.model

        def f(A: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return model(torch.as_tensor(A, dtype=torch.float32).reshape(-1, 1, S, S)).numpy()

        e = KernelShap(f, np.zeros((1, S * S), np.float32), groups=groups, exact_max_features=0, n_samples=256)
        values = e.explain(X.reshape(len(X), -1), target=images.y[HELD_OUT][:32]).values  # (n, 16 cells)
        s = ground_truth_score(values.reshape(-1, 4, 4), _cells(mask.astype(float)) > 0)
        assert s.hit_rate == 1.0 and s.mean_precision == 1.0
        return
    ex = IntegratedGradients(images.model) if method == "integrated_gradients" else Saliency(images.model,
                                                                                         absolute=True)
    values = ex.explain(X).values
    s = ground_truth_score(values, mask)
    floor = {"integrated_gradients": 0.9, "saliency": 0.7}[method]
    assert s.mean_precision >= floor and s.hit_rate >= 0.9, (s.mean_precision, s.hit_rate)
    assert ground_truth_score(_cells(values), _cells(mask.astype(float)) > 0).hit_rate >= 0.95
    rand = ground_truth_score(np.random.default_rng(0).normal(size=values.shape), mask)
    assert rand.mean_precision < 0.15 and rand.hit_rate < 0.25 and s.chance == 16 / 256


def test_faithfulness_metrics_prefer_the_right_map_on_the_synthetic_images(images) -> None:
    X, y = images.X[HELD_OUT][:12], images.y[HELD_OUT][:12]
    ig = IntegratedGradients(images.model).explain(X, target=y)
    noise = np.random.default_rng(1).normal(size=X.shape)
    kw = {"patch_size": 4, "n_random": 2}
    d_ig, d_rand = deletion_curves(images.model, X, ig, **kw), deletion_curves(images.model, X, noise, target=y, **kw)
    assert d_ig.mean_auc < d_ig.mean_random_auc - 0.2 and d_ig.mean_auc < d_rand.mean_auc - 0.2
    assert d_ig.scores[:, 1].mean() < 0.5 < d_ig.scores[:, 0].mean()  # one cell out: the class is gone
    i_ig = insertion_curves(images.model, X, ig, baseline=0.0, **kw)
    assert i_ig.mean_auc > i_ig.mean_random_auc + 0.2 and (i_ig.gain > 0).mean() >= 0.9
    fc = faithfulness_correlation(images.model, X, ig, patch_size=4, subset_size=3, n_runs=20)
    fc_rand = faithfulness_correlation(images.model, X, noise, target=y, patch_size=4, subset_size=3, n_runs=20)
    assert fc.mean > 0.6 and fc.mean > fc_rand.mean + 0.4


def test_scorer_errors_and_options() -> None:
    truth = np.array([True, False, False])
    assert ground_truth_score(np.array([[0.0, 0.5, -0.9]]), truth, k=2).precision.tolist() == [0.0]
    assert ground_truth_score(np.array([[0.0, 0.5, -0.9]]), truth, k=2, order="value").precision.tolist() == [0.5]
    with pytest.raises(InputError, match="bool mask"):
        ground_truth_score(np.ones((1, 3)), np.ones(3))
    with pytest.raises(InputError, match="truth has shape"):
        ground_truth_score(np.ones((1, 3)), np.ones(4, bool))
    with pytest.raises(InputError, match="marks nothing"):
        ground_truth_score(np.ones((1, 3)), np.zeros(3, bool))
