"""Error and bias analysis: known answers computed by hand, cross-checked with scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from nbexplain.diagnostics import _metrics as M
from nbexplain.diagnostics import compare_splits, error_analysis, slice_metrics

# A hand-built 3-class classifier: row i of P is the model's probability for sample i (X = [[i]]).
P = np.array([
    [0.70, 0.20, 0.10],  # y=0, right
    [0.10, 0.60, 0.30],  # y=0, predicted 1 at 0.6
    [0.20, 0.50, 0.30],  # y=1, right
    [0.05, 0.05, 0.90],  # y=1, predicted 2 at 0.9
    [0.30, 0.30, 0.40],  # y=2, right
    [0.80, 0.10, 0.10],  # y=2, predicted 0 at 0.8
])
Y = np.array([0, 0, 1, 1, 2, 2])
XI = np.arange(6.0)[:, None]


def table_model(X: np.ndarray) -> np.ndarray:
    return P[X[:, 0].astype(int)]


@pytest.fixture
def report():
    return error_analysis(table_model, XI, Y, class_names=["cat", "dog", "eel"])


def test_confusion_matrix_by_hand(report):
    assert report.confusion.tolist() == [[1, 1, 0], [0, 1, 1], [1, 0, 1]]
    assert report.confusion.tolist() == skm.confusion_matrix(Y, P.argmax(1)).tolist()


def test_misclassified_most_confident_first(report):
    assert report.misclassified.tolist() == [3, 5, 1]
    assert report.correct.tolist() == [True, False, True, False, True, False]


def test_per_sample_loss_confidence_margin(report):
    want = -np.log([0.7, 0.1, 0.5, 0.05, 0.4, 0.1])
    np.testing.assert_allclose(report.loss, want)
    np.testing.assert_allclose(report.confidence, [0.7, 0.6, 0.5, 0.9, 0.4, 0.8])
    np.testing.assert_allclose(report.margin, [0.5, 0.3, 0.2, 0.85, 0.1, 0.7])
    assert report.pred.tolist() == [0, 1, 1, 2, 2, 0]
    assert report.top_errors(2).tolist() == [3, 1]  # -log 0.05, then the first -log 0.1


def test_summary_accuracy_and_log_loss(report):
    s = report.summary()
    assert s["accuracy"] == 0.5 == skm.accuracy_score(Y, P.argmax(1))
    assert s["log_loss"] == pytest.approx(np.mean(-np.log([0.7, 0.1, 0.5, 0.05, 0.4, 0.1])))
    assert s["log_loss"] == pytest.approx(skm.log_loss(Y, P))
    assert s["n_misclassified"] == 3


def test_confusion_cell_and_filters(report):
    assert report.samples_in_cell(1, 2).tolist() == [3]
    assert report.samples_in_cell("eel", "cat").tolist() == [5]
    assert report.samples_in_cell(0, 2).tolist() == []
    for t in range(3):
        for p in range(3):
            assert len(report.samples_in_cell(t, p)) == report.confusion[t, p]
    assert report.filter(correct=False).tolist() == [1, 3, 5]
    assert report.filter(true=2).tolist() == [4, 5]
    assert report.filter(pred="dog", correct=True).tolist() == [2]
    assert report.filter(confidence=(0.6, 0.8)).tolist() == [0, 1, 5]
    assert report.filter().tolist() == list(range(6))
    with pytest.raises(ValueError, match="unknown class 'emu'"):
        report.samples_in_cell("emu", 0)
    with pytest.raises(ValueError, match=r"out of range 0\.\.2"):
        report.filter(true=3)


def test_to_dict_is_json_and_object_keeps_numpy(report):
    d = json.loads(json.dumps(report.to_dict()))
    assert d["confusion"] == [[1, 1, 0], [0, 1, 1], [1, 0, 1]]
    assert d["misclassified"] == [3, 5, 1]
    assert isinstance(report.loss, np.ndarray)


def test_classification_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(4), size=200)
    proba[:, 3] *= 0.01  # class 3 is (almost) never predicted
    proba /= proba.sum(1, keepdims=True)
    y = rng.integers(0, 4, 200)
    m = M.classification_metrics(y, proba)
    pred = proba.argmax(1)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro", zero_division=0))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    np.testing.assert_allclose(m["precision"], skm.precision_score(y, pred, average=None, zero_division=0))
    np.testing.assert_allclose(m["recall"], skm.recall_score(y, pred, average=None, zero_division=0))


def test_regression_metrics_match_sklearn():
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True)
    model = Ridge(alpha=1.0).fit(X[:300], y[:300])
    r = error_analysis(model, X[300:], y[300:])
    pred = model.predict(X[300:])
    assert r.task == "regression"
    np.testing.assert_allclose(r.loss, (pred - y[300:]) ** 2)
    s = r.summary()
    assert s["mse"] == pytest.approx(skm.mean_squared_error(y[300:], pred))
    assert s["mae"] == pytest.approx(skm.mean_absolute_error(y[300:], pred))
    assert s["r2"] == pytest.approx(skm.r2_score(y[300:], pred))
    json.dumps(r.to_dict())


def test_torch_model_logits_go_through_softmax():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    X = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float32)
    y = np.random.default_rng(2).integers(0, 3, 50)
    r = error_analysis(net, X, y, batch_size=16)
    with torch.no_grad():
        want = torch.softmax(net(torch.as_tensor(X)), dim=1).numpy()
    np.testing.assert_allclose(r.proba, want, atol=1e-6)
    assert r.summary()["log_loss"] == pytest.approx(skm.log_loss(y, want, labels=[0, 1, 2]), rel=1e-5)
    assert net.training  # the training flag is restored


def test_integer_label_predictions_are_classification():
    r = error_analysis(lambda X: (X[:, 0] > 0).astype(int), np.array([[-1.0], [1.0], [2.0]]), [0, 1, 0])
    assert r.task == "classification"
    assert r.confusion.tolist() == [[1, 1], [0, 1]]


def test_slices_right_below_zero_wrong_above():
    X = np.c_[np.linspace(-1, 1, 40), np.zeros(40)]
    y = np.ones(40, dtype=int)
    model = lambda X: np.c_[X[:, 0] >= 0, X[:, 0] < 0].astype(float)  # noqa: E731
    r = slice_metrics(model, X, y, "x0", bins=2, feature_names=["x0", "x1"])
    assert [s.metrics["accuracy"] for s in r.slices] == [1.0, 0.0]
    assert [(s.lo, s.hi, s.closed_right) for s in r.slices] == [(-1.0, pytest.approx(0.0), False),
                                                                 (pytest.approx(0.0), 1.0, True)]
    assert [s.gap for s in r.slices] == [0.5, -0.5]
    assert r.overall["accuracy"] == 0.5 and r.kind == "quantile" and r.feature == "x0"
    assert all(s.reliable for s in r.slices)
    json.dumps(r.to_dict())


def test_quantile_bins_cover_every_sample_once():
    rng = np.random.default_rng(3)
    x = np.r_[rng.integers(0, 50, 300), np.full(60, 7)].astype(float)  # ties, a heavy value
    X = np.c_[x, rng.normal(size=len(x))]
    y = rng.integers(0, 2, len(x))
    r = slice_metrics(lambda X: np.c_[X[:, 1] > 0, X[:, 1] <= 0].astype(float), X, y, 0, bins=7, min_size=50)
    assert sum(s.size for s in r.slices) == len(x)
    assert sorted(np.concatenate([r.indices(i) for i in range(len(r.slices))]).tolist()) == list(range(len(x)))
    for i, s in enumerate(r.slices):
        v = x[r.indices(i)]
        assert (v >= s.lo).all() and ((v <= s.hi) if s.closed_right else (v < s.hi)).all()
        assert s.reliable == (s.size >= 50)
    assert r.slices[-1].closed_right and r.slices[-1].hi == x.max() and r.slices[0].lo == x.min()


def test_categorical_slices_auto_and_explicit():
    x = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    y = np.array([0, 0, 1, 1, 1, 0, 0, 0, 1, 1])
    model = lambda X: np.c_[np.ones(len(X)), np.zeros(len(X))]  # always class 0  # noqa: E731
    r = slice_metrics(model, np.c_[x], y, 0, min_size=3)
    assert r.kind == "categorical"
    assert [s.value for s in r.slices] == [0, 1, 2, 3]
    assert [s.size for s in r.slices] == [3, 2, 4, 1]
    assert [s.metrics["accuracy"] for s in r.slices] == pytest.approx([2 / 3, 0.0, 0.75, 0.0])
    assert [s.reliable for s in r.slices] == [True, False, True, False]
    r2 = slice_metrics(model, np.c_[x], y, 0, categories=[2, 0])
    assert [s.label for s in r2.slices][-1] == "(other)"
    assert [s.size for s in r2.slices] == [4, 3, 3]


def test_overfit_tree_on_breast_cancer_is_flagged():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=0)
    tree = DecisionTreeClassifier(random_state=0).fit(Xtr, ytr)
    c = compare_splits(tree, {"train": (Xtr, ytr), "test": (Xte, yte)})
    assert c.metrics["train"]["accuracy"] == 1.0
    assert c.metrics["test"]["accuracy"] == pytest.approx(tree.score(Xte, yte))
    assert -c.gaps["test"]["accuracy"] > 0.05  # train - test
    assert c.overfit == {"test": True} and c.is_overfit
    shallow = DecisionTreeClassifier(max_depth=1, random_state=0).fit(Xtr, ytr)
    assert not compare_splits(shallow, {"train": (Xtr, ytr), "test": (Xte, yte)}, threshold=0.1).is_overfit


def test_named_errors():
    with pytest.raises(ValueError, match="NaN"):
        error_analysis(lambda X: np.full((len(X), 2), np.nan), XI, Y)
    with pytest.raises(ValueError, match="y has 5 values but X has 6 rows"):
        error_analysis(table_model, XI, Y[:5])
    with pytest.raises(ValueError, match="empty X"):
        error_analysis(table_model, np.zeros((0, 1)), [])
    with pytest.raises(ValueError, match=r"unknown feature name 'agee'; did you mean 'age'"):
        slice_metrics(table_model, XI, Y, "agee", feature_names=["age"])
    with pytest.raises(ValueError, match="no feature_names"):
        slice_metrics(table_model, XI, Y, "age")
    with pytest.raises(ValueError, match="one-class y"):
        M.classification_metrics(np.zeros(3, dtype=int), np.full((3, 2), 0.5), require_two_classes=True)
    with pytest.raises(ValueError, match="class_names has 2 names but the model gives 3"):
        error_analysis(table_model, XI, Y, class_names=["a", "b"])
    with pytest.raises(ValueError, match="label 3 but the model gives 3 classes"):
        error_analysis(table_model, XI, [0, 1, 2, 3, 0, 0])
    with pytest.raises(ValueError, match="reference split 'train' not in"):
        compare_splits(table_model, {"test": (XI, Y)})


def test_one_logit_binary_model_with_task_classification():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    X = np.random.default_rng(4).normal(size=(30, 3)).astype(np.float32)
    y = np.random.default_rng(5).integers(0, 2, 30)
    assert error_analysis(net, X, y).task == "regression"  # one output: regression unless told
    r = error_analysis(net, X, y, task="classification")
    with torch.no_grad():
        p1 = torch.sigmoid(net(torch.as_tensor(X)))[:, 0].numpy()
    np.testing.assert_allclose(r.proba[:, 1], p1, atol=1e-6)
    assert r.summary()["log_loss"] == pytest.approx(skm.log_loss(y, p1), rel=1e-5)


def test_dataframe_feature_names_and_inf_predictions():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"age": [20.0, 30.0, 40.0, 50.0], "income": [1.0, 2.0, 3.0, 4.0]})
    model = lambda X: np.c_[X[:, 0] < 35, X[:, 0] >= 35].astype(float)  # noqa: E731
    r = slice_metrics(model, df, [0, 0, 1, 1], "age", bins=2, categories=None, min_size=1)
    assert r.feature == "age" and [s.metrics["accuracy"] for s in r.slices] == [1.0, 1.0]
    with pytest.raises(ValueError, match="did you mean 'income'"):
        slice_metrics(model, df, [0, 0, 1, 1], "incme")
    with pytest.raises(ValueError, match=r"returned inf for 6 of 6 rows \(first: row 0"):
        error_analysis(lambda X: np.full((len(X), 2), np.inf), XI, Y)


@pytest.mark.parametrize("module", ["_metrics", "errors", "bias", "__init__"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    name = "nbexplain.diagnostics" + ("" if module == "__init__" else f".{module}")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_top_level_exports():
    import nbexplain
    import nbexplain.diagnostics as D

    assert nbexplain.error_analysis is D.error_analysis
    assert nbexplain.compare_splits is D.compare_splits
    assert nbexplain.slice_metrics is D.slice_metrics
