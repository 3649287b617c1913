"""The Dashboard while it is used: panels never go blank or stale, progress shows in place, labels read
right, replaced widgets are closed, and only tables get a Surrogate tab.

A method is made slow with a gate (an explainer that waits for a ``threading.Event``), so the
state while it computes is looked at deterministically, on the real background worker.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import ipywidgets
import numpy as np
import pytest
import torch
from torch_models import small_cnn

from nbexplain.widgets._format import prediction_phrase
from nbexplain.widgets.dashboard import Dashboard

pytestmark = pytest.mark.usefixtures("nbx_bundle")
NAMES = ["a", "b", "c", "d", "e"]


def _proba(X: np.ndarray) -> np.ndarray:
    z = 1.2 * X[:, 0] - X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
    p = 1 / (1 + np.exp(-z))
    return np.c_[1 - p, p]


class Gated:
    """An explainer that waits for ``gate`` before it explains (a method that takes a while)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.gate, self.calls = inner, threading.Event(), 0

    def explain(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        assert self.gate.wait(30), "the test never opened the gate"
        return self.inner.explain(*args, **kwargs)


def _gate(d: Dashboard, method: str) -> Gated:
    g = Gated(d.session.explainer(method))
    d.session._explainers[method] = g
    return g


@pytest.fixture
def table() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(3).normal(size=(200, 5))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    y[:10] = 1 - y[:10]
    return X, y


def _dash(table: tuple[np.ndarray, np.ndarray], **kw: Any) -> Dashboard:
    X, y = table
    kw.setdefault("methods", ["kernel_shap", "lime_batched"])
    return Dashboard(_proba, X, y, feature_names=NAMES, class_names=["no", "yes"], **kw)


def _snapshot(d: Dashboard) -> dict[str, tuple[Any, np.ndarray]]:
    return {m: (w, np.asarray(w.values).copy()) for m, w in d.compare.views.items()}


def test_adding_a_method_keeps_computed_panels_and_shows_progress_in_place(table: Any) -> None:
    d = _dash(table)
    try:
        assert d.wait(60)
        before = _snapshot(d)
        captions = {m: d.compare.slots[m].caption.value for m in before}
        agreement = d.compare.agreement_labels[0].value
        gated = _gate(d, "lime")
        d.methods = ["kernel_shap", "lime_batched", "lime"]
        time.sleep(0.8)  # longer than the top bar's delay: it would show by now
        for m, (w, values) in before.items():  # computed panels: the same widgets, as they were
            assert d.compare.views[m] is w
            np.testing.assert_array_equal(w.values, values)
            assert w.values.size == 5 and w.prediction is not None and w.base_value is not None
            assert d.compare.slots[m].state == "ready" and d.compare.slots[m].caption.value == captions[m]
        new = d.compare.slots["lime"]
        assert new.state == "pending" and new.view.blank  # no zero bars, no "n/a"
        assert "nbx-method-empty" in new._dom_classes and new.bar.layout.display == ""
        assert new.caption.value == "computing for sample 0..." and new.button.description == "cancel"
        assert not d.progress.visible, "the explanation's progress went to the top bar, not its panel"
        rows = [lab.value for lab in d.compare.agreement_labels]
        assert rows == [agreement, "kernel_shap vs lime: waiting for lime", "lime_batched vs lime: waiting for lime"]
        assert set(d.explanations()) == {"kernel_shap", "lime_batched"} and d.compare.pending == ["lime"]
        gated.gate.set()
        assert d.wait(60)
        assert new.state == "ready" and not new.view.blank and new.view.values.size == 5
        assert all("rank corr" in lab.value for lab in d.compare.agreement_labels)
        assert len(d.compare.agreement_labels) == 3 and gated.calls == 1
    finally:
        d.close()


def test_a_sample_change_dims_the_old_result_and_never_blanks(table: Any) -> None:
    d = _dash(table)
    try:
        assert d.wait(60)
        shown: list[tuple[str, int, float]] = []
        for m, w in d.compare.views.items():
            w.observe(lambda c, m=m: shown.append((m, np.asarray(c["new"]).size, float(np.abs(c["new"]).sum()))),
                      names=["values"])
        gated = _gate(d, "lime_batched")
        before = _snapshot(d)
        d.select(7)
        assert d.panel.index == 7
        ks, lb = d.compare.slots["kernel_shap"], d.compare.slots["lime_batched"]
        assert lb.state == "pending" and "nbx-method-stale" in lb._dom_classes
        assert not lb.view.blank and lb.caption.value.endswith("for sample 7...")
        np.testing.assert_array_equal(lb.view.values, before["lime_batched"][1])  # the old result, dimmed
        row = d.compare.agreement_labels[0].value  # no numbers of the previous sample
        assert row.startswith("kernel_shap vs lime_batched: waiting for ") and row.endswith("lime_batched"), row
        gated.gate.set()
        assert d.wait(60)
        assert lb.state == "ready" and ks.state == "ready" and "rank corr" in d.compare.agreement_labels[0].value
        assert all(size == 5 and total > 0 for _m, size, total in shown), f"a panel was blanked: {shown}"
        assert d.explanations()["lime_batched"].values.shape == (5,)
    finally:
        d.close()


def test_cancel_in_the_panel_then_compute(table: Any) -> None:
    d = _dash(table, methods=["kernel_shap"])
    try:
        assert d.wait(60)
        first, second = _gate(d, "lime_batched"), _gate(d, "lime")
        second.gate.set()
        d.methods = ["kernel_shap", "lime_batched", "lime"]
        deadline = time.monotonic() + 10
        while first.calls == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        slot = d.compare.slots["lime_batched"]
        assert slot.caption.value.startswith("computing") and d.compare.slots["lime"].caption.value.startswith("queued")
        slot.button.click()  # cancel: the running method ends, the queued one is not started
        assert slot.button.disabled and slot.caption.value.startswith("cancelling")
        first.gate.set()
        assert d.wait(60)
        stopped = d.compare.slots["lime"]
        assert stopped.state == "stopped" and stopped.button.description == "compute" and second.calls == 0
        assert "cancelled" in stopped.caption.value and slot.state == "ready"
        stopped.button.click()
        assert d.wait(60)
        assert stopped.state == "ready" and second.calls == 1 and set(d.explanations()) == set(d.methods)
    finally:
        d.close()


def test_labels_read_class_and_probability(table: Any) -> None:
    X, _ = table
    d = _dash(table, sync=True)
    try:
        d.select(4)
        t = d.session.target_of(4)
        p = float(_proba(X[4:5])[0, t])
        want = prediction_phrase(["no", "yes"][t], p)
        for slot in d.compare.slots.values():
            assert slot.caption.value.startswith(want + " · base value "), slot.caption.value
            assert "nbx-has-caption" in slot._dom_classes  # the view's own "P(yes): 1" line is hidden
        bars = d.compare.views["kernel_shap"]  # a what-if edit: the header follows the edited prediction
        row = X[4].copy()
        row[0] += 3.0
        bars.sample = row
        p2 = float(_proba(row[None])[0, t])
        assert d.compare.slots["lime_batched"].caption.value.startswith(prediction_phrase(["no", "yes"][t], p2))
    finally:
        d.close()


def test_text_what_if_panels_show_the_edited_prediction_and_the_baseline() -> None:
    datasets = pytest.importorskip("nbexplain.datasets")
    text = pytest.importorskip("nbexplain.text")
    texts, labels, names = datasets.load_reviews()
    clf = text.train_text_classifier(texts[:300], labels[:300], class_names=names, seed=0)
    d = Dashboard(clf, texts[300:340], labels[300:340], class_names=names, sync=True)
    try:
        d._on_token_toggle({"index": 1})
        t = d.session.target_of(d.index)
        p = float(d.panel.probabilities[t])
        edited = clf.detokenize(d._edit.kept(d._tokens(d.index)))
        assert p == pytest.approx(clf.predict_proba([edited])[0, t], abs=1e-6)
        for m, view in d.compare.views.items():
            assert bool(np.asarray(view.dropped)[1]) and view.values[1] == 0.0
            caption = d.compare.slots[m].caption.value
            assert caption.startswith(prediction_phrase(names[t], p)), caption
            assert "all words dropped" in caption, caption
            if m == "token_shap":  # its prediction and baseline survive the spread onto all tokens
                assert view.prediction == pytest.approx(p, abs=1e-6) and view.base_value is not None
    finally:
        d.close()


def test_surrogate_tab_only_for_tables(table: Any) -> None:
    torch.manual_seed(0)
    images = Dashboard(small_cnn(n_out=3), torch.rand(6, 1, 8, 8).numpy(), methods=["saliency"], sync=True)
    d = _dash(table, sync=True)
    try:
        titles = [images.tabs.get_title(i) for i in range(len(images.tabs.children))]
        assert titles == ["Explore", "Global", "Errors & bias", "Trust"] and images.surrogate_box is None
        images.tabs.selected_index = 2  # the errors tab (no labels here) still opens
        images.compute_global()
        assert [d.tabs.get_title(i) for i in range(len(d.tabs.children))][3] == "Surrogate"
        d.tabs.selected_index = 3
        assert d.surrogate_view is not None
    finally:
        images.close()
        d.close()


def test_live_widget_count_stays_flat_over_50_samples_and_method_changes(table: Any) -> None:
    X, _ = table
    d = _dash(table, sync=True)
    methods = (["kernel_shap", "lime_batched"], ["kernel_shap"], ["lime_batched", "kernel_shap", "lime"],
               ["lime", "kernel_shap"])
    counts: dict[int, int] = {}
    try:
        for step in range(1, 51):
            d.select(step)
            if step % 4 == 0:
                d.methods = methods[(step // 4) % len(methods)]
            if step % 7 == 0:  # a what-if edit and its undo
                d.compare.views[d.methods[0]].sample = X[step] + 1.0
                d.reset_button.click()
            if step % 9 == 0:  # a filter, as from the confusion matrix
                d._on_cell({"true": 1, "pred": 0})
                d._on_cell({"true": 1, "pred": 0})
            if step in (10, 50):
                d.methods = methods[0]
                counts[step] = len(ipywidgets.Widget.widgets)
        assert counts[50] == counts[10], f"{counts[50] - counts[10]} widgets more after 50 steps than after 10"
    finally:
        d.close()
