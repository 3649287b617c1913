"""TextTokens: traits and validation, the wire state, from_explanation, and the what-if driven by toggle events."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from nbexplain.codec import decode_array
from nbexplain.datasets import reviews_split
from nbexplain.explainers.perturbation.token_shap import TokenOcclusion, TokenShap
from nbexplain.text import TextClassifier, train_text_classifier
from nbexplain.widgets.views.text_tokens import TextTokens

pytestmark = pytest.mark.usefixtures("nbx_bundle")


@pytest.fixture(scope="module")
def clf() -> TextClassifier:
    tr, ytr, _, _ = reviews_split()
    return train_text_classifier(tr, ytr, class_names=["negative", "positive"], seed=0)


def click(w: TextTokens, index: Any) -> None:
    """Deliver a token click as the browser does: a custom message {"event": "toggle", "index": i}."""
    w._dispatch_event(w, {"event": "toggle", "index": index}, [])


def test_defaults_and_lengths_are_checked_together() -> None:
    w = TextTokens(["good", "film", "<img src=x onerror=alert(1)>"], [0.5, 0.0, -0.25])
    assert w._view == "text_tokens" and w.cmap == "RdBu_r"
    assert w.dropped.tolist() == [0.0, 0.0, 0.0] and w.prediction is None
    assert TextTokens(["a", "b"]).values.tolist() == [0.0, 0.0]
    with pytest.raises(traitlets.TraitError, match=r"has \d entries but '\w+' has \d: tokens, values and dropped need one entry per token"):
        TextTokens(["a", "b"], [1.0])
    with pytest.raises(traitlets.TraitError, match="one entry per token"):
        w.values = [1.0]
    assert w.values.tolist() == [0.5, 0.0, -0.25]  # unchanged after the rejected assignment
    w.update(tokens=["x"], values=[2.0])  # dropped follows the new length
    assert (w.tokens, w.values.tolist(), w.dropped.tolist()) == (["x"], [2.0], [0.0])
    with pytest.raises(traitlets.TraitError):
        w.update(tokens=["x", "y"], values=[1.0])
    assert w.tokens == ["x"]
    with pytest.raises(traitlets.TraitError):
        TextTokens(["a"], cmap="viridis")
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        TextTokens(["a"], colour="red")


def test_arrays_travel_as_buffers() -> None:
    w = TextTokens(["a", "b", "c"], [0.5, np.nan, -1.0], dropped=[0, 1, 0], prediction=0.75,
                   prediction_label="P(positive)")
    state, paths, buffers = _remove_buffers(w.get_state())
    json.dumps(state)
    assert sorted(p[0] for p in paths) == ["dropped", "values"]
    decoded = {p[0]: decode_array(dict(state[p[0]], data=b)) for p, b in zip(paths, buffers, strict=True)}
    np.testing.assert_array_equal(decoded["values"], np.array([0.5, np.nan, -1.0], np.float32))
    assert decoded["dropped"].tolist() == [0.0, 1.0, 0.0]
    assert state["tokens"] == ["a", "b", "c"] and state["prediction"] == 0.75


def test_from_explanation(clf: TextClassifier) -> None:
    e = TokenShap(clf).explain("What a wonderful film!")
    w = TextTokens.from_explanation(e)
    assert w.tokens == ["what", "a", "wonderful", "film", "!"]
    np.testing.assert_allclose(w.values, e.values)
    assert w.prediction == pytest.approx(float(e.outputs)) and w.base_value == pytest.approx(float(e.base_values))
    assert w.prediction_label == "f(positive)" and w.explanation is e


def test_what_if_toggles_repredicts_and_reexplains(clf: TextClassifier) -> None:
    text = "What a wonderful film!"
    w = TextTokens.what_if(clf, text, title="review")
    assert w.prediction_label == "P(positive)" and w.title == "review"
    assert w.prediction == pytest.approx(clf.predict_proba([text])[0, 1])
    np.testing.assert_allclose(w.values, TokenShap(clf).explain(text, target=1).values)
    click(w, 2)  # drop "wonderful"
    assert w.error == "" and w.dropped.tolist() == [0, 0, 1, 0, 0]
    assert w.prediction == pytest.approx(clf.predict_proba(["What a film!"])[0, 1])
    assert w.prediction < 0.9
    want = TokenShap(clf).explain_tokens(["what", "a", "film", "!"], target=1).values
    np.testing.assert_allclose(w.values[[0, 1, 3, 4]], want)
    assert w.values[2] == 0.0
    click(w, 2)  # the second click on the same token restores it
    assert w.dropped.tolist() == [0, 0, 0, 0, 0]
    assert w.prediction == pytest.approx(clf.predict_proba([text])[0, 1])
    for i in range(5):  # every token dropped: the prediction for the empty text
        w.toggle(i)
    assert w.prediction == pytest.approx(clf.predict_proba([""])[0, 1]) and w.values.tolist() == [0.0] * 5
    w.reset()
    assert w.dropped.sum() == 0


def test_what_if_with_occlusion_and_a_fixed_target(clf: TextClassifier) -> None:
    w = TextTokens.what_if(clf, "The plot was awful.", explainer="token_occlusion", target=1)
    assert w.prediction_label == "P(positive)"
    np.testing.assert_allclose(w.values, TokenOcclusion(clf).explain("The plot was awful.", target=1).values)
    w2 = TextTokens.what_if(clf, "The plot was awful.", explainer=TokenShap(clf, max_exact=3, n_samples=16),
                            class_names=["neg", "pos"])
    assert w2.prediction_label == "P(neg)"


def test_bad_clicks_become_errors_and_bad_setup_raises(clf: TextClassifier) -> None:
    w = TextTokens.what_if(clf, "Not bad at all.")
    before = w.values.copy()
    click(w, 99)
    assert w.error.startswith("ValueError: token index must be an int in 0..4")
    click(w, "1")
    assert "token index" in w.error
    np.testing.assert_array_equal(w.values, before)
    click(w, 1)
    assert w.error == "" and w.dropped[1] == 1
    plain = TextTokens(["a"])
    click(plain, 0)  # a plain widget ignores clicks: Python decides
    assert plain.dropped.tolist() == [0.0] and plain.error == ""
    with pytest.raises(RuntimeError, match="what_if"):
        plain.toggle(0)
    with pytest.raises(ValueError, match="does not explain text"):
        TextTokens.what_if(clf, "good", explainer="saliency")
    with pytest.raises(ValueError, match="class_names has 3 names"):
        TextTokens.what_if(clf, "good", class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="has no tokens"):
        TextTokens.what_if(clf, " ")
