"""TrustView: what it draws from a TrustReport (curves, legend, ranking, sanity strip), the scrubber, computing on
the worker with progress and cancel, and arrays on the wire as binary buffers."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from ipywidgets.widgets.widget import _remove_buffers

import nbexplain as nbx
from nbexplain.explainers.perturbation.token_shap import TokenShap
from nbexplain.metrics import synthetic_images, synthetic_table, trust_report
from nbexplain.widgets._format import format_number
from nbexplain.widgets.trust.scrubber import display_image, display_range
from nbexplain.widgets.trust.view import TrustView
from nbexplain.widgets.views.text_tokens import TextTokens

pytestmark = pytest.mark.usefixtures("nbx_bundle")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def images():
    s = synthetic_images(n=128, size=8, patch=4, seed=0, epochs=60)
    X = s.X[-5:]
    explanations = {"truth": s.mask[-5:, None].astype(np.float32), "saliency": nbx.Saliency(s.model).explain(X),
                    "random": np.random.default_rng(0).standard_normal(X.shape).astype(np.float32)}
    report = trust_report(s.model, X, explanations, baseline=0.0, patch_size=2)
    return s, X, explanations, report


def word_model(texts: list[str]) -> np.ndarray:
    s = np.array([t.split().count("good") - t.split().count("bad") for t in texts], dtype=float)
    p = 1 / (1 + np.exp(-s))
    return np.c_[1 - p, p]


def buffers_of(widget) -> tuple[set, list]:
    _state, paths, buffers = _remove_buffers(widget.get_state())
    return {p[0] for p in paths}, buffers


def test_from_report_draws_the_curves_the_ranking_and_the_sanity_strip(images) -> None:
    report = images[3]
    view = TrustView.from_report(report, class_names=["dark", "bright"])
    assert view.compute_button.layout.display == "none" and view.report is report
    d = view.deletion_chart
    assert [line.labels[0] for line in d.lines] == ["truth", "saliency", "random"]
    for line, m in zip(d.lines, report.methods, strict=True):
        np.testing.assert_allclose(line.y, report.deletion[m].mean_scores)
    np.testing.assert_allclose(d.floor.y, report.deletion["truth"].random_scores.mean(axis=0))
    assert d.legend_texts() == [f"{m}: AUC {format_number(report.deletion[m].mean_auc)}" for m in report.methods] + [
        f"random order: AUC {format_number(report.deletion['truth'].mean_random_auc)}"]
    assert d.x_axis.label == "fraction of patches removed" and view.insertion_chart.x_axis.label.endswith("inserted")
    targets = set(report.target.tolist())
    assert d.y_axis.label == ("P(bright)" if targets == {1} else "P(dark)" if targets == {0} else "P(explained class)")
    assert d.title.value == "Deletion curves, mean over 5 samples"
    # Every method keeps one colour in every chart.
    assert d.colors == view.insertion_chart.colors and d.colors["saliency"] == view.sanity_strip.lines[0].colors[0]
    # The ranking: a row per method, best by deletion first; the sentences under it.
    cells = [c.value for c in view.table.grid.children]
    order = report.ranking("deletion").order
    assert cells[:5] == ["method", "deletion AUC (lower is better; random "
                         f"{format_number(report.ranking('deletion').mean_floor())})",
                         cells[2], cells[3], cells[4]]
    assert [cells[5 * (k + 1)] for k in range(3)] == order
    assert cells[6].startswith("#1  ")
    notes = [c.value for c in view.table.notes.children]
    assert notes[0] == report.better("deletion")
    assert "sanity similarity, random: n/a, not a gradient method the check can re-run by name" in " ".join(notes)
    # The sanity strip: saliency re-run by its name; its maps per step, its verdict in words.
    strip = view.sanity_strip
    assert list(strip.verdict_labels) == ["saliency"]
    v = report.verdict("saliency")
    assert strip.verdict_labels["saliency"].value == f"saliency: {v.label}"
    assert ("nbx-trust-pass" if v.passed else "nbx-trust-fail") in strip.verdict_labels["saliency"]._dom_classes
    maps = report.sanity["saliency"].maps["saliency"]
    assert len(strip.maps["saliency"]) == min(6, maps.shape[0])
    np.testing.assert_allclose(strip.maps["saliency"][0].values, maps[0, 0], rtol=1e-2, atol=1e-2 * maps[0, 0].max())
    assert strip.lines[0].y[0] == 1.0 and np.allclose(strip.lines[0].y[1:], report.sanity["saliency"].similarity[
        "saliency"]["spearman"])
    assert view.body.children[0] is view._sections["curves"] and view.body.children[-1] is strip
    view.close()


def test_a_sample_picked_draws_its_own_curves(images) -> None:
    _, _, _, report = images
    view = TrustView.from_report(report)
    assert [o[1] for o in view.sample_picker.options] == [-1, 0, 1, 2, 3, 4]
    view.sample_picker.value = 2
    for line, m in zip(view.deletion_chart.lines, report.methods, strict=True):
        np.testing.assert_allclose(line.y, report.deletion[m].scores[2])
    assert view.scrubber.sample == 2 and view.deletion_chart.title.value == "Deletion curves, one sample"
    assert view.deletion_chart.y_axis.label == f"P(class {int(report.target[2])})"
    view.close()


def test_the_scrubber_shows_the_masked_picture_and_marks_the_curve(images, recorded: None) -> None:
    _, X, _, report = images
    view = TrustView.from_report(report)
    sc = view.scrubber
    panel = sc.view
    lo, hi = display_range(X[0].astype(np.float64))
    np.testing.assert_array_equal(panel.image, display_image(X[0], lo, hi))  # nothing removed at 0
    panel.comm.messages.clear()
    sc.method.value = "truth"
    sc.slider.value = 0.5
    c = report.deletion["truth"]
    np.testing.assert_array_equal(panel.image, display_image(c.masked_input(0, 0.5), lo, hi))
    assert not np.array_equal(panel.image, display_image(X[0], lo, hi))
    assert view.deletion_chart.marker.visible and not view.insertion_chart.marker.visible
    assert float(view.deletion_chart.marker.x[0]) == 0.5
    assert float(view.deletion_chart.marker.y[0]) == pytest.approx(c.mean_scores[c.step_index(0.5)])
    assert sc.readout.value.startswith("8 of 16 patches removed in the order of truth: P(")
    assert "the chart shows the mean" in sc.readout.value
    # The picture went as a binary buffer, not a JSON list.
    sent = [m for m in panel.comm.messages if "image" in m["data"].get("state", {})]
    assert sent and all(m["buffers"] for m in sent)
    assert "image" in buffers_of(panel)[0]
    assert {"x", "y"} <= buffers_of(view.deletion_chart.lines[0])[0]
    # Insertion: the marker moves to the other chart; the readout says inserted.
    sc.curve.value = "insertion"
    assert view.insertion_chart.marker.visible and not view.deletion_chart.marker.visible
    assert sc.slider.description == "inserted" and " patches inserted " in sc.readout.value
    view.close()


def test_a_tables_scrubber_marks_the_replaced_features() -> None:
    t = synthetic_table(n=128, seed=0)
    rows = t.X[100:104]
    report = trust_report(t.model, rows, {"ig": nbx.IntegratedGradients(t.model).explain(rows)},
                          background=t.background, metrics=("deletion", "insertion"))
    view = TrustView.from_report(report, feature_names=t.feature_names)
    view.sample_picker.value = 1
    sc = view.scrubber
    sc.slider.value = 0.5
    c = report.deletion["ig"]
    removed = c.removed(1, 0.5)
    names = sc.view.row_names
    assert [n.endswith(" (replaced)") for n in names] == removed.tolist() and removed.sum() == 4
    assert names[0].removesuffix(" (replaced)") == t.feature_names[0]
    np.testing.assert_allclose(sc.view.row_values, c.masked_input(1, 0.5), rtol=1e-6)
    assert "sanity" not in report.rankings and view.sanity_strip not in view.body.children
    view.close()


def test_a_texts_scrubber_strikes_the_dropped_tokens() -> None:
    texts = ["good film , not bad", "bad bad plot but good cast"]
    es = TokenShap(word_model, tokenizer=str.split).explain(texts)
    report = trust_report(word_model, texts, {"token_shap": es}, tokenizer=str.split)
    view = TrustView.from_report(report, class_names=["neg", "pos"])
    view.sample_picker.value = 1
    sc = view.scrubber
    sc.slider.value = 0.5
    assert isinstance(sc.view, TextTokens) and sc.view.tokens == texts[1].split()
    np.testing.assert_array_equal(sc.view.dropped, report.deletion["token_shap"].removed(1, 0.5))
    np.testing.assert_allclose(sc.view.values, es[1].values.reshape(-1))
    assert sc.view.prediction == pytest.approx(report.deletion["token_shap"].output_at(1, 0.5))
    assert view.deletion_chart.x_axis.label == "fraction of tokens removed"
    view.close()


def test_compute_runs_on_the_worker_and_a_cancel_says_so(images) -> None:
    s, X, explanations, _ = images
    view = TrustView(s.model, X, explanations, metrics="deletion", baseline=0.0, sync=True)
    assert view.report is None and view.body.children == () and "Press compute" in view.status.value
    view.compute_button.click()
    assert view.report.ranking("deletion").order[0] == "truth"
    assert view.status.value == "3 methods measured on 5 samples." and view.compute_button.description == "compute again"

    started = threading.Event()

    class Slow(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = s.model

        def forward(self, x):
            started.set()
            time.sleep(0.01 * len(x))
            return self.inner(x)

    slow = TrustView(Slow(), X, explanations, metrics=("deletion", "insertion"), baseline=0.0, batch_size=4)
    task = slow.compute()
    assert slow.compute_button.disabled and started.wait(10)
    slow.progress.cancel_button.click()
    assert task.wait(30) and task.state == "cancelled"
    assert slow.status.value.startswith("cancelled") and not slow.compute_button.disabled and slow.report is None
    slow.close()
    assert slow.runner._closed
    view.close()


def test_a_failed_report_is_said_in_the_view_and_bad_options_raise() -> None:
    view = TrustView(lambda X: np.c_[X[:, :1], X[:, 1:2]], np.ones((3, 2)), {"m": np.ones((2, 2))}, baseline=0.0,
                     compute=True, sync=True)
    assert view.status.value.startswith("the report failed: InputError: explanations['m'] holds 2 samples")
    assert not view.compute_button.disabled and view.report is None
    view.close()
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*'stepz'.*valid ones are"):
        TrustView(None, stepz=3)
    with pytest.raises(ValueError, match="no model, inputs and explanations"):
        TrustView().compute()


def test_close_closes_every_widget_it_made(images) -> None:
    _, _, _, report = images
    view = TrustView.from_report(report)
    parts = [view.deletion_chart.figure, view.deletion_chart.lines[0], view.scrubber.view, view.table.grid,
             view.sanity_strip.maps["saliency"][0], view.progress]
    view.close()
    assert all(w.comm is None for w in parts) and view.runner._closed
