"""Agreement with Quantus 0.6 (a test-only reference) where the definitions match.

- ``PixelFlipping`` ranks the elements of the input and replaces ``features_in_step`` of them per
  step by a baseline; ours with one channel, ``patch_size=1`` and the same number baseline is the
  same experiment, with the unmodified input as an extra first point;
- ``FaithfulnessCorrelation`` draws its subsets from numpy's global generator: the test replays
  those draws and passes them as ``subsets=``;
- ``noisy_linear_imputation`` (ROAD's imputation, from the authors' code) with no noise.

Quantus computes in float32 (the model's softmax) where we convert to float64 first; the
correlation of small output drops magnifies that rounding to about 1e-5.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch_models import small_cnn

from nbexplain.metrics import deletion_curves, faithfulness_correlation, noisy_linear_imputation

quantus = pytest.importorskip("quantus")

RNG = np.random.default_rng(2)


@pytest.fixture(scope="module")
def digits() -> tuple[torch.nn.Module, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x = (load_digits().images[:5, None] / 16.0).astype(np.float32)
    a = RNG.normal(size=x.shape).astype(np.float32)  # distinct values: no ties for np.argsort to settle
    return small_cnn(10).eval(), x, a, np.array([0, 1, 2, 3, 4])


@pytest.mark.parametrize(("step", "softmax"), [(1, True), (4, False), (16, True)])
def test_pixel_flipping_matches_quantus(digits, step: int, softmax: bool) -> None:
    model, x, a, y = digits
    pf = quantus.PixelFlipping(features_in_step=step, perturb_baseline=0.0, disable_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.array(pf(model=model, x_batch=x, y_batch=y, a_batch=a, softmax=softmax, channel_first=True,
                             device="cpu"))
    ours = deletion_curves(model, x, a, target=y, patch_size=1, steps=64 // step, baseline=0.0, n_random=0,
                           output="probabilities" if softmax else "logits")
    assert theirs.shape == (5, 64 // step)
    np.testing.assert_allclose(ours.scores[:, 1:], theirs, rtol=1e-5, atol=1e-6)
    # Quantus's AUC is np.trapz with dx=1 over its points; ours is over the fraction in [0, 1]
    np.testing.assert_allclose(np.trapezoid(ours.scores[:, 1:], dx=1.0, axis=1), np.trapezoid(theirs, dx=1, axis=1),
                               rtol=1e-5)


def test_faithfulness_correlation_matches_quantus_on_its_own_draws(digits) -> None:
    model, x, a, y = digits
    runs, size = 15, 10
    fc = quantus.FaithfulnessCorrelation(nr_runs=runs, subset_size=size, perturb_baseline=0.0, normalise=False,
                                         return_aggregate=False, disable_warnings=True)
    np.random.seed(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.array(fc(model=model, x_batch=x, y_batch=y, a_batch=a, softmax=True, channel_first=True,
                             device="cpu"))
    np.random.seed(7)  # replay: for each run, one draw per sample, as Quantus's loop does
    subsets = np.zeros((5, runs, size), np.int64)
    for r in range(runs):
        for i in range(5):
            subsets[i, r] = np.random.choice(64, size, replace=False)
    ours = faithfulness_correlation(model, x, a, target=y, subsets=subsets, patch_size=1, baseline=0.0)
    np.testing.assert_allclose(ours.correlation, theirs, atol=1e-4)
    assert np.corrcoef(ours.correlation, theirs)[0, 1] > 0.9999


def test_noisy_linear_imputation_matches_quantus() -> None:
    from quantus.functions.perturb_func import noisy_linear_imputation as theirs

    img = RNG.normal(size=(3, 12, 10))
    idx = RNG.choice(120, 70, replace=False)
    mask = np.zeros(120, bool)
    mask[idx] = True
    np.testing.assert_allclose(noisy_linear_imputation(img, mask.reshape(12, 10), noise=0.0),
                               theirs(img, idx, noise=0.0), atol=1e-12)
