"""Dashboard in Python (no browser): composition, sample switching, what-if, filters, global tabs.

The browser side is tests/browser/dashboard/test_dashboard_browser.py. Here the Dashboard runs with
``sync=True`` (no worker thread) except where the worker itself is under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_models import small_cnn

from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.widgets.dashboard import Dashboard


def _proba(X: np.ndarray) -> np.ndarray:
    z = 1.2 * X[:, 0] - X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
    p = 1 / (1 + np.exp(-z))
    return np.c_[1 - p, p]


@pytest.fixture
def table() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(3).normal(size=(200, 5))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    y[:10] = 1 - y[:10]  # some errors for the filters
    return X, y


@pytest.fixture
def dash(table: tuple[np.ndarray, np.ndarray]) -> Dashboard:
    X, y = table
    d = Dashboard(_proba, X, y, methods=["kernel_shap", "lime_batched"], X_train=X[:50], y_train=y[:50],
                  feature_names=["a", "b", "<b>c</b>", "d", "e"], class_names=["no", "yes"], sync=True,
                  global_samples=40)
    yield d
    d.close()


def test_dashboard_shows_first_sample_with_both_methods(dash: Dashboard, table: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = table
    assert dash.index == 0
    res = dash.explanations()
    assert set(res) == {"kernel_shap", "lime_batched"}
    t = int(_proba(X[:1]).argmax())
    want = KernelShap(_proba, dash.session.background).explain(X[:1], target=np.array([t]))[0]
    np.testing.assert_allclose(res["kernel_shap"].values, want.values, atol=1e-10)
    bars = dash.compare.views["kernel_shap"]
    np.testing.assert_allclose(bars.values, want.values, atol=1e-6)
    np.testing.assert_allclose(dash.panel.probabilities, _proba(X[:1])[0], atol=1e-6)
    assert dash.panel.row_names[2] == "<b>c</b>"


def test_select_switches_and_uses_the_cache(dash: Dashboard) -> None:
    dash.select(5)
    assert dash.index == 5 and dash.panel.index == 5 and dash.browser.selected == 5
    first = dash.explanations()["kernel_shap"]
    dash.select(6)
    misses = dash.session.misses
    dash.select(5)
    assert dash.session.misses == misses, "sample 5 was recomputed instead of taken from the cache"
    assert dash.explanations()["kernel_shap"] is first
    with pytest.raises(IndexError, match="out of range"):
        dash.select(10_000)


def test_table_what_if_re_predicts_and_re_explains(dash: Dashboard, table: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = table
    dash.select(4)
    bars = dash.compare.views["kernel_shap"]
    assert bars.whatif and bars.slider_min is not None
    row = X[4].copy()
    row[0] += 3.0
    bars.sample = row  # what the browser does when a slider moves
    p = _proba(row[None])[0]
    np.testing.assert_allclose(dash.panel.probabilities, p, atol=1e-6)
    t = int(_proba(X[4:5]).argmax())  # the explained class stays the original prediction
    want = KernelShap(_proba, dash.session.background).explain(row[None], target=np.array([t]))[0]
    np.testing.assert_allclose(dash.explanations()["kernel_shap"].values, want.values, atol=1e-10)
    assert "edited: a" in dash.panel.note
    assert not dash.reset_button.disabled
    dash.reset_button.click()
    np.testing.assert_allclose(dash.panel.probabilities, _proba(X[4:5])[0], atol=1e-6)
    assert dash.panel.note == ""


def test_confusion_click_filters_the_browser(dash: Dashboard) -> None:
    assert dash.confusion is not None
    s = dash.session
    t, p = 1, 0
    want = np.flatnonzero((s.y == t) & (s.predicted == p))
    assert want.size > 0
    dash._on_cell({"true": t, "pred": p})
    np.testing.assert_array_equal(dash.browser.indices, want)
    assert dash.index in set(want.tolist())
    assert dash.tabs.selected_index == 0
    dash._on_cell({"true": t, "pred": p})  # the same cell again clears the filter
    assert dash.browser.indices.size == s.n_samples


def test_method_switch_changes_the_explanation(dash: Dashboard) -> None:
    dash.select(2)
    dash.methods = ["lime_batched"]
    assert list(dash.explanations()) == ["lime_batched"]
    assert list(dash.compare.views) == ["lime_batched"]
    dash.methods = ["kernel_shap", "lime_batched"]
    assert set(dash.explanations()) == {"kernel_shap", "lime_batched"}
    with pytest.raises(ValueError, match="one to 4 methods"):
        dash.methods = ["kernel_shap", "lime_batched", "shap", "lime", "kernel_shap"][:0]
    with pytest.raises(ValueError, match="not offered"):
        dash.methods = ["grad_cam"]
    assert dash.methods == ["kernel_shap", "lime_batched"]  # nothing changed


def test_global_tabs_compute(dash: Dashboard) -> None:
    dash.compute_global()
    from nbexplain.widgets.views.beeswarm import Beeswarm

    assert any(isinstance(c, Beeswarm) for c in _walk(dash.global_box))
    assert dash.beeswarm.values.shape == (40, 5)
    assert dash.surrogate_view is not None
    assert dash.bias is not None


def test_failing_sample_and_nan_row(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    X = X.copy()
    X[3, 0] = 999.0
    X[6, 1] = np.nan

    def flaky(A: np.ndarray) -> np.ndarray:
        if np.any(A[:, 0] == 999.0):
            raise ValueError("sensor fault")
        return _proba(A)

    d = Dashboard(flaky, X, y, methods=["kernel_shap"], background=X[20:40], sync=True)
    try:
        d.select(3)
        assert "sensor fault" in d.panel.error
        assert "sensor fault" in str(d.explanations()["kernel_shap"])
        d.select(6)  # the NaN row is flagged; this model gives NaN for it, which is said too
        assert "NaN" in d.panel.note and "feature 1" in d.panel.note
        assert "NaN" in d.panel.error
        d.select(8)
        assert d.panel.error == "" and d.panel.note == ""
        assert d.explanations()["kernel_shap"].values.shape == (5,)
    finally:
        d.close()


def test_image_patch_click_occludes_and_restores() -> None:
    torch.manual_seed(0)
    model = small_cnn(n_out=3)
    X = torch.rand(12, 1, 8, 8).numpy()
    d = Dashboard(model, X, methods=["saliency"], patch=2, sync=True)
    try:
        p0 = d.panel.probabilities.copy()
        heat = d.compare.views["saliency"]
        d._on_patch_click({"row": 1, "col": 1})  # what a click on the map sends
        edited = X[0].copy()
        edited[:, 0:2, 0:2] = X[0].mean()
        with torch.no_grad():
            want = torch.softmax(model.eval()(torch.as_tensor(edited[None])), 1).numpy()[0]
        np.testing.assert_allclose(d.panel.probabilities, want, atol=1e-5)
        assert not np.allclose(d.panel.probabilities, p0)
        assert (d.panel.image[0:2, 0:2] == 128).all()
        assert heat.values is not None
        d._on_patch_click({"row": 0, "col": 0})  # the same patch: restored
        np.testing.assert_allclose(d.panel.probabilities, p0, atol=1e-6)
    finally:
        d.close()


def test_background_worker_and_wait(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    d = Dashboard(_proba, X, y, methods=["kernel_shap"])
    try:
        d.select(9)
        assert d.wait(60)
        assert d.index == 9 and "kernel_shap" in d.explanations()
    finally:
        d.close()


def test_bad_arguments(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    with pytest.raises(ValueError, match="global_samples"):
        Dashboard(_proba, X, y, global_samples=0, sync=True)
    with pytest.raises(ValueError, match="patch"):
        Dashboard(_proba, X, y, patch=0, sync=True)
    with pytest.raises(ValueError, match="one label per sample"):
        Dashboard(_proba, X, y[:5], sync=True)


def _walk(w: object):  # type: ignore[no-untyped-def]
    for c in getattr(w, "children", ()):
        yield c
        yield from _walk(c)


def test_text_dashboard_token_toggle() -> None:
    datasets = pytest.importorskip("nbexplain.datasets")
    text = pytest.importorskip("nbexplain.text")
    texts, labels, names = datasets.load_reviews()
    clf = text.train_text_classifier(texts[:300], labels[:300], class_names=names, seed=0)
    d = Dashboard(clf, texts[300:340], labels[300:340], class_names=names, sync=True)
    try:
        p0 = d.panel.probabilities.copy()
        view = next(iter(d.compare.views.values()))
        d._on_token_toggle({"index": 0})
        tokens = d._tokens(d.index)
        edited = clf.detokenize(d._edit.kept(tokens))
        np.testing.assert_allclose(d.panel.probabilities, clf.predict_proba([edited])[0], atol=1e-6)
        assert d.panel.text == edited
        assert view.dropped is not None and bool(np.asarray(view.dropped)[0])
        d._on_token_toggle({"index": 0})
        np.testing.assert_allclose(d.panel.probabilities, p0, atol=1e-6)
    finally:
        d.close()


def test_one_navigation_the_pager_with_a_goto_box(dash: Dashboard) -> None:
    """The pager (with its go-to box) is the only way to move: no position slider, no stepper."""
    assert not hasattr(dash, "position") and not hasattr(dash, "index_box")
    assert dash.browser.stepper is None and dash.browser.prev_button is None
    dash.browser.set_filter(misclassified=True)
    idx = dash.browser.indices
    table = dash.browser.table
    table._dispatch_event(table, {"event": "goto", "index": int(idx[3])}, [])  # the go-to box
    assert dash.index == int(idx[3]) and dash.browser.filter.misclassified  # inside the filter: it stays
    outside = int(np.setdiff1d(np.arange(dash.session.n_samples), idx)[0])
    table._dispatch_event(table, {"event": "goto", "index": outside}, [])  # hidden by the filter: cleared
    assert dash.index == outside and dash.browser.indices.size == dash.session.n_samples
    assert table.page == outside // table.page_size and table.error == ""
    table._dispatch_event(table, {"event": "goto", "index": 10_000}, [])
    assert "out of range" in table.error and dash.index == outside  # said in the table, nothing moved


def test_pdp_line_follows_the_sample_and_its_edit(dash: Dashboard, table: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = table
    dash.compute_global()
    r = dash._pdp_result
    t = r.target
    grid = r.grid[0]

    def line(row: np.ndarray) -> np.ndarray:
        rows = np.repeat(row[None], grid.size, axis=0)
        rows[:, r.features[0]] = grid
        return _proba(rows)[:, t]

    dash.select(11)
    assert dash.pdp.highlighted.visible
    np.testing.assert_allclose(dash.pdp.highlighted.y, line(X[11]), atol=1e-9)
    bars = dash.compare.views["kernel_shap"]
    row = X[11].copy()
    row[1] -= 2.0
    bars.sample = row
    np.testing.assert_allclose(dash.pdp.highlighted.y, line(row), atol=1e-9)


def test_categorical_feature_gets_a_dropdown(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    X = X.copy()
    X[:, 4] = np.random.default_rng(0).integers(0, 3, size=X.shape[0])
    d = Dashboard(_proba, X, y, methods=["kernel_shap"], sync=True,
                  feature_names=["a", "b", "c", "d", "region"],
                  categorical={"region": {0: "north", 1: "<b>east</b>", 2: "south"}})
    try:
        bars = d.compare.views["kernel_shap"]
        cats = bars.categories
        assert cats[:4] == [None] * 4
        assert [c["label"] for c in cats[4]] == ["north", "<b>east</b>", "south"]
        assert [c["value"] for c in cats[4]] == [0.0, 1.0, 2.0]
    finally:
        d.close()
    with pytest.raises(KeyError):
        Dashboard(_proba, X, y, methods=["kernel_shap"], sync=True, categorical={"nope": [0, 1]})
