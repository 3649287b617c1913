"""Global bqplot views and the task progress bar, in Python (the browser test draws them)."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from nbexplain.diagnostics.bias import compare_splits, slice_metrics
from nbexplain.explainers.global_methods.partial_dependence import partial_dependence
from nbexplain.explainers.global_methods.surrogates import GlobalSurrogate
from nbexplain.explanation import Explanation
from nbexplain.tasks import TaskControl, TaskRunner
from nbexplain.widgets.charts import BAR_COLOR, MUTED_COLOR
from nbexplain.widgets.overview import BiasView, ImportanceBars, PDPView, SurrogateView
from nbexplain.widgets.progress import TaskProgress

NAMES = ["sepal length", "sepal width", "petal length", "petal width"]


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray, Any]:
    X, y = load_iris(return_X_y=True)
    return X, y, LogisticRegression(max_iter=500).fit(X, y)


def test_importance_bars_sorted_mean_abs_top_k() -> None:
    values = np.array([[1.0, -4.0, 0.5, np.nan], [3.0, 2.0, -0.5, 1.0]])
    w = ImportanceBars(values, ["a", "b", "c", "d"], top_k=3, title="importance")
    np.testing.assert_allclose(w.importance, [2.0, 3.0, 0.5, 1.0])
    assert w.order.tolist() == [1, 0, 3] and w.shown_names == ["b", "a", "d"]
    assert w.bars.x.tolist() == ["b", "a", "d"] and w.bars.y.tolist() == [3.0, 2.0, 1.0]
    assert "nbx-importance" in w._dom_classes and w.title.value == "importance" and not w.figure.title
    w.update(np.array([[0.0, 0.0, 9.0, 1.0]]))
    assert w.shown_names == ["c", "d", "a"]


def test_importance_bars_from_explanation_long_and_repeated_names() -> None:
    long = "x" * 60
    e = Explanation(np.array([[1.0, 2.0, 3.0]]), feature_names=[long, "dup", "dup"])
    w = ImportanceBars(e)
    labels = w.bars.x.tolist()
    assert labels[0] == "dup" and labels[1] == "dup (2)" and labels[2] == "x" * 39 + "\u2026"
    assert w.figure.fig_margin["left"] == 16 + 7 * 40


def test_importance_bars_bad_input() -> None:
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        ImportanceBars(np.ones((2, 2)), ["a", "b"], top_k=0)
    with pytest.raises(ValueError, match="2 feature_names for 3 features"):
        ImportanceBars(np.ones((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match=r"attributions \(n, features\)"):
        ImportanceBars(np.ones((2, 3, 4)), None)


def test_pdp_view_draws_a_result_and_calls_on_feature(iris: Any) -> None:
    X, _, model = iris
    r = partial_dependence(model.predict_proba, X, 2, grid_resolution=8, target=2, sample=30,
                           feature_names=NAMES)
    asked: list[int] = []
    v = PDPView(r, NAMES, on_feature=asked.append, max_ice=10)
    assert v.feature.value == 2 and asked == [] and v.x_axis.label == "petal length"
    np.testing.assert_allclose(v.average.y, r.average)
    assert v.ice.y.shape == (10, len(r.grid[0])) and v.ice.visible  # 30 ICE rows thinned to 10
    v.highlight(4)
    np.testing.assert_allclose(v.highlighted.y, r.ice[4])
    assert v.highlighted.visible
    v.highlight(None)
    assert not v.highlighted.visible
    v.feature.value = 0  # the user picks another feature
    assert asked == [0]
    r0 = partial_dependence(model.predict_proba, X, 0, grid_resolution=5, target=2, kind="average")
    v.update(r0.grid[0], r0.average, r0.ice, "sepal length")
    assert asked == [0] and not v.ice.visible and v.x_axis.label == "sepal length"
    with pytest.raises(IndexError, match="out of range"):
        v.update(r.grid[0], r.average, r.ice, "petal length") or v.highlight(99)
    with pytest.raises(ValueError, match="one line per sample"):
        v.update([0, 1, 2], [1, 2, 3], np.ones((4, 2)), "x")
    with pytest.raises(ValueError, match="1-D partial dependence"):
        PDPView(partial_dependence(model.predict_proba, X, (0, 1), grid_resolution=3), NAMES)


def test_surrogate_view_linear_multiclass_and_tree(iris: Any) -> None:
    X, _, model = iris
    lin = GlobalSurrogate(lambda A: 3 * A[:, 0] - 0.5 * A[:, 2] + 0.1 * A[:, 3]).fit(X)
    v = SurrogateView(lin, NAMES)
    assert v.chart.bars.x.tolist() == ["sepal length", "petal length", "petal width", "sepal width"]
    np.testing.assert_allclose(v.chart.bars.y, [3.0, -0.5, 0.1, 0.0], atol=1e-9)
    assert v.chart.bars.colors[:2] == ["#d6604d", "#4393c3"]
    assert v.fidelity.value.startswith("fidelity: R² = 1.000 on 38 held-out rows")
    log = GlobalSurrogate(model, kind="logistic").fit(X)
    v.update(log)
    assert v.output.layout.display == "flex" and len(v.output.options) == 3
    first = v.chart.bars.y.copy()
    v.output.value = 2
    np.testing.assert_allclose(np.sort(np.abs(v.chart.bars.y)), np.sort(np.abs(log.coef[2])))
    assert not np.allclose(first, v.chart.bars.y) and "accuracy" in v.fidelity.value
    tree = GlobalSurrogate(model, kind="tree", max_depth=2, feature_names=NAMES).fit(X)
    t = SurrogateView(tree)
    assert t.rules.layout.display == "flex" and "petal" in t.rules.value
    assert t.chart.value_axis.label == "feature importance" and t.chart.bars.y.min() >= 0
    with pytest.raises(TypeError, match="SurrogateFit"):
        SurrogateView(object())


def test_bias_view_table_and_slices(iris: Any) -> None:
    X, y, model = iris
    splits = compare_splits(model, {"train": (X[::2], y[::2]), "test": (X[1::2], y[1::2])})
    sl = slice_metrics(model, X, y, 2, bins=3, feature_names=NAMES, categories=None, min_size=60)
    asked: list[int] = []
    v = BiasView(splits, sl, feature_names=NAMES, on_feature=asked.append)
    texts = [c.value for c in v.table.children]
    assert texts[:4] == ["metric", "train", "test", "test - train"]
    row = texts.index("accuracy")
    assert texts[row + 1] == f"{splits.metrics['train']['accuracy']:.3f}"
    assert texts[row + 3] == f"{splits.gaps['test']['accuracy']:+.3f}"
    assert all(type(c).__name__ == "Label" for c in v.table.children)
    assert v.feature.value == 2 and asked == []
    np.testing.assert_allclose(v.chart.bars.y, [s.metrics["accuracy"] for s in sl.slices])
    assert v.chart.bars.colors == [BAR_COLOR if s.reliable else MUTED_COLOR for s in sl.slices]
    v.feature.value = 0
    assert asked == [0]
    v.update_splits(None)
    assert v.splits_box.layout.display == "none"
    assert v.chart.figure in v.slices_box.children


def test_bias_view_without_slices_holds_no_chart(iris: Any) -> None:
    """A hidden bqplot figure would be laid out at 0 x 0 when its tab opens (negative-width errors)."""
    X, y, model = iris
    splits = compare_splits(model, {"train": (X[::2], y[::2]), "test": (X[1::2], y[1::2])})
    v = BiasView(splits, None, feature_names=NAMES)
    assert v.slices_box.layout.display == "none" and v.chart.figure not in v.slices_box.children
    sl = slice_metrics(model, X, y, 2, bins=3, feature_names=NAMES, categories=None, min_size=60)
    v.update_slices(sl)
    assert v.slices_box.layout.display == "flex" and v.chart.figure in v.slices_box.children
    v.update_slices(None)
    assert v.chart.figure not in v.slices_box.children


def _wait_for(cond: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_task_progress_delay_progress_and_cancel() -> None:
    runner = TaskRunner(progress_interval=0.0)
    bar = TaskProgress(runner, delay=0.2, linger=0.3)
    assert not bar.visible and "nbx-progress" in bar._dom_classes
    runner.submit(lambda c: c.progress(1, 2), label="quick")
    assert runner.wait(5)
    time.sleep(0.3)
    assert not bar.visible  # a quick task never shows
    release = threading.Event()

    def slow(control: TaskControl) -> None:
        for i in range(1000):
            control.check()
            control.progress(i, 1000, "")
            time.sleep(0.005)

    runner.submit(slow, label="explain")
    time.sleep(0.05)
    assert not bar.visible
    assert _wait_for(lambda: bar.visible)
    assert bar.text.value.startswith("explain: ") and "/1000" in bar.text.value
    assert 0 < bar.bar.value < 1
    bar.cancel_button.click()
    assert runner.wait(5)
    assert bar.text.value == "explain: cancelled" and bar.visible
    assert _wait_for(lambda: not bar.visible)
    # Unknown total: full "info" bar.
    runner.submit(lambda c: (c.progress(3, None, "loading"), release.wait(5)), label="load")
    assert _wait_for(lambda: bar.visible)
    assert bar.bar.bar_style == "info" and bar.bar.value == 1.0 and "loading" in bar.text.value
    release.set()
    assert runner.wait(5) and _wait_for(lambda: not bar.visible)
    bar.close()
    runner.close()
