"""CompareView: one view per method, per-method errors, agreement labels, widget reuse."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from nbexplain.diagnostics.agreement import agreement
from nbexplain.explainers import get_explainer
from nbexplain.explanation import Explanation
from nbexplain.widgets import FeatureBars, Heatmap
from nbexplain.widgets._format import format_probability
from nbexplain.widgets.explore.compare_view import PENDING, CompareView

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def test_images_heatmap_per_method_error_in_its_own_view() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(3, 8, 8))
    image = rng.random((8, 8))
    cv = CompareView(k=5)
    cv.show({"a": a, "b": b, "broken": RuntimeError("no conv layer\nfound")}, image=image)
    assert cv.methods == ["a", "b", "broken"]
    assert all(isinstance(w, Heatmap) for w in cv.views.values())
    assert cv.row.children == tuple(cv.slots.values())
    assert [slot.view for slot in cv.slots.values()] == list(cv.views.values())
    assert [slot.name_label.value for slot in cv.slots.values()] == ["a", "b", "broken"]  # the header names it
    assert [slot.state for slot in cv.slots.values()] == ["ready"] * 3
    np.testing.assert_array_equal(cv.views["a"].values, a)
    assert cv.views["b"].values.shape == (3, 8, 8)
    assert cv.views["a"].image is not None and cv.views["a"].image.dtype == np.uint8
    np.testing.assert_array_equal(cv.views["a"].image, cv.views["b"].image)  # the same picture
    assert cv.views["a"].error == "" and cv.views["b"].error == ""
    assert cv.views["broken"].error == "RuntimeError: no conv layer found"
    assert not cv.views["broken"].values.any()  # zeros, not a stale map
    expected = agreement({"a": a, "b": b}, k=5, reduce_channels=True)
    rho, overlap = expected.correlation[0, 1], expected.overlap[0, 1]
    assert [lab.value for lab in cv.agreement_labels] == [
        f"a vs b: rank corr {rho:.2f}, top-5 overlap {overlap}/5",
        "a vs broken: n/a (broken failed)",
        "b vs broken: n/a (broken failed)",
    ]


def test_a_method_keeps_its_view_new_ones_reuse_removed_views_hidden_until_drawn(recorded: None) -> None:
    rng = np.random.default_rng(1)
    created: list[str] = []
    cv = CompareView(kind="image")
    cv.on_new_view(lambda name, w: created.append(name))
    cv.show({"x": rng.normal(size=(4, 4)), "y": rng.normal(size=(4, 4))})
    before = dict(cv.views)
    assert created == ["x", "y"]
    cv.show({"p": rng.normal(size=(6, 6)), "q": rng.normal(size=(6, 6))})
    assert list(cv.views.values()) == list(before.values())  # same widget objects: no flicker
    assert cv.methods == ["p", "q"] and [s.name_label.value for s in cv.slots.values()] == ["p", "q"]
    assert cv.name_of(before["y"]) == "q" and created == ["x", "y"]
    x_map = cv.views["p"].values.copy()
    # Adding a method: the ones shown keep their widget and what they draw; only the new one is made.
    cv.set_methods(["p", "q", "r"])
    assert created == ["x", "y", "r"] and cv.views["p"] is before["x"]
    np.testing.assert_array_equal(cv.views["p"].values, x_map)
    assert cv.slots["p"].state == "ready" and cv.slots["r"].state == "empty"
    # A removed method's view goes to the new one, but never shows the old method's map under the new name.
    cv.show({"p": x_map, "s": PENDING})
    slot = cv.slots["s"]
    assert slot.view is before["y"] and slot.state == "pending" and slot.view.blank
    assert [lab.value for lab in cv.agreement_labels] == ["p vs s: waiting for s"] and cv.pending == ["s"]
    slot.view.comm.messages.clear()
    cv.update("s", rng.normal(size=(6, 6)))
    sent = [m["data"] for m in slot.view.comm.messages if m["data"].get("method") == "update"]
    assert slot.state == "ready" and not slot.view.blank and cv.pending == []
    # The view is shown in the same message as its new map: the browser never draws the old one.
    assert [sorted(m["state"]) for m in sent if "blank" in m["state"]] == [["blank", "values"]]
    assert cv.agreement_labels[0].value.startswith("p vs s: rank corr ")
    with pytest.raises(KeyError, match="'nope' is not shown"):
        cv.update("nope", x_map)
    with pytest.raises(ValueError, match="1 to 4 methods"):
        cv.set_methods(["a", "b", "c", "d", "e"])
    with pytest.raises(ValueError, match="unique"):
        cv.set_methods(["a", "a"])


def test_image_explanations_from_a_cnn() -> None:
    torch.manual_seed(0)
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 8 * 8, 3))
    x = torch.rand(2, 1, 8, 8)
    results = {m: get_explainer(m, cnn).explain(x)[0] for m in ("saliency", "gradient_x_input")}
    cv = CompareView()
    cv.show(results)
    assert cv.kind is None and all(isinstance(w, Heatmap) for w in cv.views.values())
    assert cv.views["saliency"].image is not None  # taken from the explanation's data
    assert cv.views["saliency"].value_label == "saliency"
    assert cv.report is not None and cv.report.methods == ["saliency", "gradient_x_input"]


def test_tables_feature_bars_same_top_k() -> None:
    names = ["age", "dose", "bmi", "sex"]
    data = np.array([[50.0, 2.0, 21.0, 1.0]])
    e1 = Explanation(np.array([[0.4, -0.3, 0.1, 0.0]]), base_values=[0.2], data=data,
                     feature_names=names, outputs=[0.7])
    e2 = Explanation(np.array([[0.1, -0.5, 0.2, 0.05]]), base_values=[0.2], data=data, feature_names=names)
    cv = CompareView(top_k=2, k=2)
    cv.show({"shap": e1[0], "lime": e2, "lime_pkg": ImportError("lime is not installed")})
    bars = cv.views
    assert all(isinstance(w, FeatureBars) for w in bars.values())
    assert [w.top_k for w in bars.values()] == [2, 2, 2]
    assert bars["shap"].feature_names == names
    np.testing.assert_array_equal(bars["shap"].feature_values, data[0])
    assert bars["shap"].prediction == pytest.approx(0.7) and bars["shap"].base_value == pytest.approx(0.2)
    assert bars["lime_pkg"].error == "ImportError: lime is not installed"
    assert bars["lime_pkg"].feature_names == names and not bars["lime_pkg"].values.any()
    # ranks: shap [4, 1, 3, 2], lime [3, 1, 4, 2] -> d^2 = 1 + 0 + 1 + 0 = 2, rho = 1 - 12/60 = 0.8
    # top-2 |v|: shap {0, 1}, lime {1, 2} -> 1
    assert cv.agreement_labels[0].value == "shap vs lime: rank corr 0.80, top-2 overlap 1/2"


def test_single_method_has_no_agreement_rows_and_bad_input() -> None:
    cv = CompareView()
    cv.show({"only": np.arange(4.0)})
    assert cv.agreement_labels == [] and cv.report is None
    with pytest.raises(ValueError, match="non-empty dict"):
        cv.show({})
    with pytest.raises(ValueError, match="kind must be"):
        CompareView(kind="audio")


@pytest.mark.skipif(
    importlib.util.find_spec("nbexplain.widgets.views.text_tokens") is None,
    reason="nbexplain.widgets.views.text_tokens (TextTokens, written in parallel by the text part) does not exist yet",
)
def test_text_tokens_per_method() -> None:
    tokens = ["not", "a", "bad", "film"]
    cv = CompareView(k=2)
    cv.show({"shap": np.array([0.5, 0.0, -0.2, 0.1]), "occl": np.array([0.4, 0.1, -0.3, 0.0]),
             "broken": ValueError("too many tokens")}, tokens=tokens, dropped=[0, 0, 1, 0])
    w = cv.views["shap"]
    assert type(w).__name__ == "TextTokens" and cv.slots["shap"].name_label.value == "shap"
    assert list(w.tokens) == tokens
    np.testing.assert_array_equal(w.values, [0.5, 0.0, -0.2, 0.1])
    np.testing.assert_array_equal(np.asarray(w.dropped, float), [0, 0, 1, 0])
    assert cv.views["broken"].error == "ValueError: too many tokens"
    assert list(cv.views["broken"].tokens) == tokens and not cv.views["broken"].values.any()
    # ranks shap [4, 2, 1, 3], occl [4, 3, 1, 2]: d^2 = 2, rho = 0.8; top-2 |v|: {0, 2} both
    assert cv.agreement_labels[0].value == "shap vs occl: rank corr 0.80, top-2 overlap 2/2"


def test_pending_results_keep_the_old_view_dimmed_and_the_header_says_what_is_shown() -> None:
    names = ["age", "dose", "bmi"]
    e1 = Explanation(np.array([[0.4, -0.3, 0.1]]), base_values=[0.2], data=[[50.0, 2.0, 21.0]],
                     feature_names=names, outputs=[0.9712], target=[1])
    e2 = Explanation(np.array([[0.1, -0.5, 0.2]]), base_values=[1.5], feature_names=names, outputs=[2.1], target=[1])
    cv = CompareView(kind="table", k=2)
    cv.show({"shap": e1[0], "grad": e2[0]}, probability=0.9712, target_name="malignant")
    shap, grad = cv.slots["shap"], cv.slots["grad"]
    assert shap.caption.value == f"malignant, P = {format_probability(0.9712)} · base value 0.2"
    assert grad.caption.value == "malignant, P = 0.97 · explains output 2.1 · base value 1.5"  # a logit, named
    assert "nbx-has-caption" in shap._dom_classes
    values = shap.view.values.copy()
    cv.show({"shap": PENDING, "grad": e2[0]}, pending_text="computing for sample 4...", probability=0.5)
    assert shap.state == "pending" and "nbx-method-stale" in shap._dom_classes and not shap.view.blank
    np.testing.assert_array_equal(shap.view.values, values)  # the old bars stay (dimmed), never zeros
    assert shap.caption.value == "computing for sample 4..." and shap.button.description == "cancel"
    actions: list[tuple[str, str]] = []
    cv.on_action(lambda name, action: actions.append((name, action)))
    shap.button.click()
    assert actions == [("shap", "cancel")] and shap.button.disabled
    cv.stop_pending("not computed: cancelled")
    assert shap.state == "stopped" and shap.button.description == "compute" and not shap.button.disabled
    assert cv.agreement_labels[0].value == "shap vs grad: waiting for shap"
    shap.button.click()
    assert actions[-1] == ("shap", "compute")
    cv.set_prediction(0.03, "benign")
    assert grad.caption.value.startswith("benign, P = 0.03 · ")


def test_replaced_slots_and_labels_are_closed() -> None:
    cv = CompareView(kind="table")
    cv.show({"a": np.arange(3.0), "b": np.ones(3), "c": -np.arange(3.0)})
    old = cv.slots["c"]
    labels = list(cv.agreement_labels)
    cv.show({"a": np.arange(3.0), "b": np.ones(3)})
    assert old.comm is None and old.view.comm is None and old.header.comm is None
    assert cv.agreement_labels == labels[:1] and all(lab.comm is None for lab in labels[1:])
    cv.close()
    assert all(s.comm is None for s in (cv, cv.row, cv.slots["a"], cv.views["a"]))
