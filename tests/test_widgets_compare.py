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
from nbexplain.widgets.compare_view import CompareView

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def test_images_heatmap_per_method_error_in_its_own_view() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(3, 8, 8))
    image = rng.random((8, 8))
    cv = CompareView(k=5)
    cv.show({"a": a, "b": b, "broken": RuntimeError("no conv layer\nfound")}, image=image)
    assert cv.methods == ["a", "b", "broken"]
    assert all(isinstance(w, Heatmap) for w in cv.views.values())
    assert cv.row.children == tuple(cv.views.values())
    assert [w.title for w in cv.views.values()] == ["a", "b", "broken"]
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


def test_widgets_are_reused_when_the_count_stays() -> None:
    rng = np.random.default_rng(1)
    created: list[str] = []
    cv = CompareView(kind="image")
    cv.on_new_view(lambda name, w: created.append(name))
    cv.show({"x": rng.normal(size=(4, 4)), "y": rng.normal(size=(4, 4))})
    before = list(cv.views.values())
    assert created == ["x", "y"]
    cv.show({"p": rng.normal(size=(6, 6)), "q": rng.normal(size=(6, 6))})
    assert list(cv.views.values()) == before  # same widget objects: no flicker
    assert cv.methods == ["p", "q"] and [w.title for w in before] == ["p", "q"]
    assert cv.name_of(before[1]) == "q"
    assert created == ["x", "y"]
    cv.set_methods(["p", "q", "r"])
    assert len(created) == 5 and created[2:] == ["p", "q", "r"]
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
    importlib.util.find_spec("nbexplain.widgets.text_tokens") is None,
    reason="nbexplain.widgets.text_tokens (TextTokens, written in parallel by the text part) does not exist yet",
)
def test_text_tokens_per_method() -> None:
    tokens = ["not", "a", "bad", "film"]
    cv = CompareView(k=2)
    cv.show({"shap": np.array([0.5, 0.0, -0.2, 0.1]), "occl": np.array([0.4, 0.1, -0.3, 0.0]),
             "broken": ValueError("too many tokens")}, tokens=tokens, dropped=[0, 0, 1, 0])
    w = cv.views["shap"]
    assert type(w).__name__ == "TextTokens" and w.title == "shap"
    assert list(w.tokens) == tokens
    np.testing.assert_array_equal(w.values, [0.5, 0.0, -0.2, 0.1])
    np.testing.assert_array_equal(np.asarray(w.dropped, float), [0, 0, 1, 0])
    assert cv.views["broken"].error == "ValueError: too many tokens"
    assert list(cv.views["broken"].tokens) == tokens and not cv.views["broken"].values.any()
    # ranks shap [4, 2, 1, 3], occl [4, 3, 1, 2]: d^2 = 2, rho = 0.8; top-2 |v|: {0, 2} both
    assert cv.agreement_labels[0].value == "shap vs occl: rank corr 0.80, top-2 overlap 2/2"
