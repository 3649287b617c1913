"""ROAD (noisy linear imputation, MoRF / LeRF) and faithfulness correlation: known answers, seeds, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nbexplain.metrics import faithfulness_correlation, noisy_linear_imputation, road_curves
from nbexplain.validate import InputError, ParameterError
from tests.core.test_state_guard import assert_same, image_model, snapshot

RNG = np.random.default_rng(1)


# -- noisy linear imputation --------------------------------------------------------------------------
def test_imputation_reproduces_planes_and_constants_and_solves_the_stencil() -> None:
    r, c = np.mgrid[0:9, 0:11]
    plane = np.stack([2.0 * r - 0.5 * c + 1.0, np.full((9, 11), 3.0)])  # linear in, linear out; constant too
    hole = RNG.random((9, 11)) < 0.6
    hole[:, [0, -1]] = hole[[0, -1], :] = False  # a known border: inside, the symmetric stencil holds for a plane
    np.testing.assert_allclose(noisy_linear_imputation(plane, hole, noise=0.0), plane, atol=1e-9)
    img = RNG.normal(size=(2, 7, 6))
    hole = RNG.random((7, 6)) < 0.5
    out = noisy_linear_imputation(img, hole, noise=0.0)
    assert np.array_equal(out[:, ~hole], img[:, ~hole])  # known pixels untouched
    weights = {(1, 1): 1 / 12, (0, 1): 1 / 6, (-1, 1): 1 / 12, (1, -1): 1 / 12, (0, -1): 1 / 6, (-1, -1): 1 / 12,
               (1, 0): 1 / 6, (-1, 0): 1 / 6}
    for i, j in zip(*np.nonzero(hole), strict=True):  # each imputed pixel is the weighted mean of its neighbours
        num = den = 0.0
        for (di, dj), w in weights.items():
            if 0 <= i + di < 7 and 0 <= j + dj < 6:
                num, den = num + w * out[:, i + di, j + dj], den + w
        np.testing.assert_allclose(out[:, i, j], num / den, atol=1e-9)


def test_imputation_noise_is_seeded_and_sized() -> None:
    img = np.zeros((1, 20, 20))
    hole = np.zeros((20, 20), bool)
    hole[5:15, 5:15] = True
    a = noisy_linear_imputation(img, hole, noise=0.5, rng=np.random.default_rng(3))
    b = noisy_linear_imputation(img, hole, noise=0.5, rng=np.random.default_rng(3))
    assert np.array_equal(a, b) and abs(a[0][hole].std() - 0.5) < 0.1 and (a[0][~hole] == 0).all()
    with pytest.raises(ParameterError, match="rng="):
        noisy_linear_imputation(img, hole, noise=0.5)
    with pytest.raises(InputError, match="every pixel"):
        noisy_linear_imputation(img, np.ones((20, 20), bool), noise=0.0)


# -- ROAD curves --------------------------------------------------------------------------------------
class CornerReader(torch.nn.Module):
    """Reads only the top-left 2 x 2 corner; the other pixels do nothing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x[:, :, :2, :2].sum((1, 2, 3))
        return torch.stack([s, -s], 1)


def test_road_morf_moves_the_output_and_lerf_does_not_when_the_map_is_right() -> None:
    x = RNG.normal(size=(3, 1, 8, 8)).astype(np.float32)
    x[:, :, :2, :2] += 5.0  # a bright corner: imputed from its darker neighbours, the score falls
    truth = np.zeros((3, 8, 8))
    truth[:, :2, :2] = 1.0  # the right map: the corner
    rc = road_curves(CornerReader(), x, truth, target=0, output="logits", percentages=[5, 25, 50], noise=0.0)
    corner = x[:, 0, :2, :2].sum((1, 2))
    np.testing.assert_allclose(rc.lerf, np.repeat(corner[:, None], 3, 1), rtol=1e-5)  # the corner is never removed
    assert (rc.morf < corner[:, None] - 1).all()
    assert rc.removed_pixels(0, 5)[:2, :2].sum() == 3 and rc.removed_pixels(0, 50, "lerf")[:2, :2].sum() == 0
    wrong = road_curves(CornerReader(), x, -truth, target=0, output="logits", percentages=[5, 25, 50], noise=0.0)
    np.testing.assert_allclose(wrong.morf, np.repeat(corner[:, None], 3, 1), rtol=1e-5)
    assert (rc.score > 0.5).all() and (wrong.score < -0.5).all()
    img = rc.imputed_input(0, 25)
    assert img.shape == (1, 8, 8) and (img[0][~rc.removed_pixels(0, 25)] == x[0, 0][~rc.removed_pixels(0, 25)]).all()
    assert "MoRF" in rc.describe() and rc.morf_auc.shape == (3,)


def test_road_reruns_chunks_and_state() -> None:
    x = RNG.normal(size=(2, 1, 8, 8)).astype(np.float32)
    attr = RNG.normal(size=(2, 1, 8, 8))
    model = image_model("frozen_bn")
    before = snapshot(model, [x, attr])
    a = road_curves(model, x, attr, percentages=[20, 60], seed=5)
    b = road_curves(model, x, attr, percentages=[20, 60], seed=5, batch_size=1)
    assert_same(before, snapshot(model, [x, attr]))
    np.testing.assert_allclose(a.morf, b.morf, rtol=1e-6)
    np.testing.assert_allclose(a.lerf, b.lerf, rtol=1e-6)
    c = road_curves(model, x, attr, percentages=[20, 60], seed=6)
    assert not np.allclose(a.morf, c.morf, rtol=0, atol=1e-9)  # the noise is seeded
    # the image the view shows is the one the model saw
    with torch.no_grad():
        p = torch.softmax(model.eval()(torch.as_tensor(a.imputed_input(1, 60, "lerf"))[None]), 1)[0, a.target[1]]
    model.train()
    model[1].eval()
    assert abs(float(p) - a.lerf[1, 1]) < 1e-5


@pytest.mark.parametrize(("kw", "error", "match"), [
    ({"percentages": [0, 50]}, ParameterError, "percentages"),
    ({"percentages": [100]}, ParameterError, "percentages"),
    ({"noise": -1.0}, ParameterError, "noise"),
    ({"inputs": np.ones((2, 4))}, InputError, "for images"),
])
def test_road_errors(kw, error, match) -> None:
    inputs = kw.pop("inputs", np.ones((2, 1, 4, 4)))
    with pytest.raises(error, match=match):
        road_curves(lambda X: np.asarray(X).reshape(len(X), -1)[:, :2], inputs, np.ones(np.shape(inputs)), **kw)


# -- faithfulness correlation -------------------------------------------------------------------------
def test_correlation_is_one_for_exact_attributions_of_a_linear_model_and_low_for_noise() -> None:
    w = RNG.normal(size=6)
    x = RNG.normal(size=(4, 6))
    f = lambda X: np.asarray(X) @ w[:, None]  # noqa: E731
    exact = faithfulness_correlation(f, x, x * w, baseline=0.0, output="raw", subset_size=3, n_runs=30)
    np.testing.assert_allclose(exact.correlation, 1.0, atol=1e-12)
    np.testing.assert_allclose(exact.output_drops, exact.attribution_sums, atol=1e-12)  # drop = sum, run by run
    noise = faithfulness_correlation(f, x, RNG.normal(size=(4, 6)), baseline=0.0, output="raw", subset_size=3,
                                     n_runs=30)
    assert noise.mean < 0.8 and exact.better == "higher" and "HIGHER is better" in exact.describe()
    # the background mechanism is the deletion curves': a linear model's drop uses the background mean
    bg = RNG.normal(size=(50, 6))
    fc = faithfulness_correlation(f, x, (x - bg.mean(0)) * w, background=bg, n_background=50, output="raw",
                                  subset_size=2, n_runs=10)
    np.testing.assert_allclose(fc.correlation, 1.0, atol=1e-9)


def test_correlation_on_images_subsets_seeds_and_undefined() -> None:
    x = RNG.normal(size=(2, 1, 8, 8)).astype(np.float32)
    model = image_model("frozen_bn")
    attr = RNG.normal(size=(2, 8, 8))
    a = faithfulness_correlation(model, x, attr, patch_size=2, n_runs=12, seed=1)
    b = faithfulness_correlation(model, x, attr, patch_size=2, n_runs=12, seed=1, batch_size=5)
    assert a.subsets.shape == (2, 12, 3) and np.array_equal(a.subsets, b.subsets)  # a fifth of 16 patches
    np.testing.assert_allclose(a.correlation, b.correlation, rtol=1e-6)
    c = faithfulness_correlation(model, x, attr, patch_size=2, n_runs=12, seed=2)
    assert not np.array_equal(a.subsets, c.subsets)
    flat = faithfulness_correlation(model, x, np.ones((2, 8, 8)), patch_size=2, n_runs=12, seed=1)
    assert flat.undefined.all() and np.isnan(flat.mean) and "undefined for 2 of 2" in flat.describe()
    given = faithfulness_correlation(model, x, attr, subsets=a.subsets, patch_size=2)
    np.testing.assert_allclose(given.correlation, a.correlation, rtol=1e-9)


@pytest.mark.parametrize(("kw", "match"), [
    ({"subset_size": 16}, "smaller than the number of units"),
    ({"n_runs": 1}, "n_runs"),
    ({"subsets": np.zeros((2, 3, 2), float)}, "int unit indices"),
    ({"subsets": np.full((2, 3, 2), 99)}, "outside"),
])
def test_correlation_errors(kw, match) -> None:
    with pytest.raises((InputError, ParameterError), match=match):
        faithfulness_correlation(lambda X: np.asarray(X).reshape(len(X), -1)[:, :2], np.ones((2, 1, 8, 8)),
                                 np.ones((2, 8, 8)), patch_size=2, **kw)
    with pytest.raises(InputError, match="not texts"):
        faithfulness_correlation(lambda t: np.ones((len(t), 2)), ["a b"], [np.ones(2)])
