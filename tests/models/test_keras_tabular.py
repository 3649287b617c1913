"""A Keras 3 MLP (torch backend) through the model-agnostic methods and the Dashboard.

Each method gets the Keras model itself and, as the reference, a plain numpy function computing the
same probabilities (``model.predict``): the routing (torch path, output kind, batching) must not change
the numbers. The Keras model must stay quiet (no progress bars) and unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from keras_nets import mlp, table

import nbexplain as nbx

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def reference(X: np.ndarray) -> np.ndarray:
    """The Keras MLP's probabilities, computed without nbexplain's routing."""
    return np.asarray(mlp().predict(np.asarray(X, np.float32), batch_size=4096, verbose=0), np.float64)


@pytest.fixture(scope="session")
def data() -> tuple[np.ndarray, np.ndarray, list[str]]:
    return table()


def test_kernel_shap_on_keras_equals_the_reference_and_adds_up(data) -> None:
    X, _, names = data
    e = nbx.KernelShap(mlp(), X[:20], feature_names=names, n_samples=300, seed=3).explain(X[50:52])
    ref = nbx.KernelShap(reference, X[:20], feature_names=names, n_samples=300, seed=3).explain(X[50:52])
    np.testing.assert_allclose(e.values, ref.values, atol=1e-5)
    np.testing.assert_allclose(e.values.sum(1), e.outputs - e.base_values, atol=1e-5)  # efficiency
    np.testing.assert_allclose(e.outputs, reference(X[50:52])[np.arange(2), e.target], rtol=1e-5)
    assert e.feature_names == names


def test_lime_permutation_pdp_and_surrogate_on_keras(data) -> None:
    X, y, _ = data
    lime = nbx.LimeTabularBatched(mlp(), X[:200], num_samples=400, seed=1).explain(X[:3])
    lime_ref = nbx.LimeTabularBatched(reference, X[:200], num_samples=400, seed=1).explain(X[:3])
    np.testing.assert_allclose(lime.values, lime_ref.values, atol=1e-4)
    pi = nbx.permutation_importance(mlp(), X[:150], y[:150], n_repeats=2, seed=0)
    pi_ref = nbx.permutation_importance(reference, X[:150], y[:150], n_repeats=2, seed=0)
    np.testing.assert_allclose(pi.values, pi_ref.values, atol=1e-9)
    pd = nbx.partial_dependence(mlp(), X[:80], 0, grid_resolution=5, target=1)
    grid = pd.grid[0]
    by_hand = []
    for v in grid:  # the mean prediction with feature 0 set to the grid value
        Xv = X[:80].copy()
        Xv[:, 0] = v
        by_hand.append(reference(Xv)[:, 1].mean())
    np.testing.assert_allclose(pd.average, by_hand, atol=1e-5)
    sur = nbx.GlobalSurrogate(mlp(), kind="tree", max_depth=3).fit(X[:300])
    assert sur.fidelity > 0.8


def test_dashboard_on_a_keras_model_is_quiet_and_leaves_it_unchanged(data, capsys) -> None:
    X, y, names = data
    model = mlp()
    want = reference(X[3:4])[0]  # before the snapshot: Keras' predict itself advances torch's generator
    before = {v.path: v.value.detach().clone() for v in model.variables}
    rng = torch.get_rng_state()
    d = nbx.Dashboard(model, X[:40], y[:40], methods=["kernel_shap", "lime_batched"], X_train=X[:100],
                      y_train=y[:100], feature_names=names, class_names=["malignant", "benign"], sync=True,
                      global_samples=30)
    try:
        d.select(3)
        res = d.explanations()
        assert set(res) == {"kernel_shap", "lime_batched"}
        np.testing.assert_allclose(d.panel.probabilities, want, atol=1e-6)
        ks = res["kernel_shap"]
        np.testing.assert_allclose(np.sum(ks.values), np.sum(ks.outputs) - np.sum(ks.base_values), atol=1e-5)
    finally:
        d.close()
    assert capsys.readouterr().out == ""
    for v in model.variables:
        assert torch.equal(v.value, before[v.path]), v.path
    assert torch.equal(torch.get_rng_state(), rng)
