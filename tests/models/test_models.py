"""as_predict_fn / predict_proba / model_device over torch, scikit-learn and callables."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression

from nbexplain.models import as_predict_fn, model_device, predict_proba


class Recorder(torch.nn.Module):
    """Linear model that records batch sizes, training flags and grad mode seen in forward."""

    def __init__(self, k: int = 3, fail: bool = False) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, k)
        self.seen: list[tuple[int, bool, bool, torch.dtype]] = []
        self.fail = fail

    def forward(self, x):
        self.seen.append((x.shape[0], self.training, torch.is_grad_enabled(), x.dtype))
        if self.fail:
            raise RuntimeError("boom")
        return self.lin(x)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def test_torch_module_batches_eval_no_grad_and_restores_training():
    torch.manual_seed(0)
    m = Recorder()
    m.train()
    X = np.random.default_rng(0).normal(size=(10, 4))  # float64 in, float32 to the model
    out = as_predict_fn(m, batch_size=4)(X)
    assert out.shape == (10, 3) and out.dtype == np.float64
    assert [s[0] for s in m.seen] == [4, 4, 2]
    assert all(not training and not grad and dtype == torch.float32 for _, training, grad, dtype in m.seen)
    assert m.training is True
    with torch.no_grad():
        expected = m.lin(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_training_flag_restored_when_forward_raises():
    m = Recorder(fail=True)
    m.train()
    with pytest.raises(RuntimeError, match="boom"):
        as_predict_fn(m)(np.zeros((2, 4)))
    assert m.training is True


def test_probabilities_softmax_and_sigmoid():
    torch.manual_seed(0)
    m = torch.nn.Linear(4, 3)
    X = np.random.default_rng(1).normal(size=(6, 4))
    p = predict_proba(m, X)
    logits = as_predict_fn(m, output="logits")(X)
    np.testing.assert_allclose(p, torch.softmax(torch.as_tensor(logits), 1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(p.sum(1), 1.0)
    one = torch.nn.Linear(4, 1)
    p1 = predict_proba(one, X)
    z = as_predict_fn(one)(X)[:, 0]
    np.testing.assert_allclose(p1[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-6)
    np.testing.assert_allclose(p1.sum(1), 1.0)


def test_sklearn_classifier_and_regressor(iris):
    X, y = iris
    clf = LogisticRegression(max_iter=300).fit(X, y)
    np.testing.assert_array_equal(as_predict_fn(clf)(X[:5]), clf.predict_proba(X[:5]))
    np.testing.assert_array_equal(predict_proba(clf, X[:5]), clf.predict_proba(X[:5]))
    np.testing.assert_array_equal(as_predict_fn(clf, output="logits")(X[:5]), clf.decision_function(X[:5]))
    reg = LinearRegression().fit(X, y)
    out = as_predict_fn(reg)(X[:5])
    assert out.shape == (5, 1)
    np.testing.assert_allclose(out[:, 0], reg.predict(X[:5]))
    with pytest.raises(TypeError, match="predict_proba"):
        predict_proba(reg, X[:5])


def test_plain_callable_and_torch_tensor_input():
    f = as_predict_fn(lambda X: X.sum(axis=1))
    np.testing.assert_array_equal(f(torch.ones(2, 3)), [[3.0], [3.0]])


def test_wrong_row_count_and_nan_are_named():
    with pytest.raises(ValueError, match=r"shape \(2, 1\) for 3 input rows"):
        as_predict_fn(lambda X: np.zeros((2, 1)))(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"NaN for 1 of 3 rows.*row 1"):
        as_predict_fn(lambda X: np.array([[0.0], [np.nan], [1.0]]))(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="dtype"):
        as_predict_fn(lambda X: np.array(["a"] * len(X)))(np.zeros((1, 2)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="output must be one of"):
        as_predict_fn(len, output="softmax")
    with pytest.raises(ValueError, match="batch_size"):
        as_predict_fn(len, batch_size=0)
    with pytest.raises(TypeError, match="cannot call"):
        as_predict_fn(object())


def test_model_device():
    assert model_device(torch.nn.Linear(2, 2)) == torch.device("cpu")
    assert model_device(torch.nn.ReLU()) == torch.device("cpu")
    assert model_device(lambda x: x) is None
