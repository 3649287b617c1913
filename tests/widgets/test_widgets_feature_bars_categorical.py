"""FeatureBars categorical what-if: validation of `categories`, and the chosen value re-predicting."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets

from nbexplain.codec import encode_array
from nbexplain.models import predict_proba
from nbexplain.widgets import FeatureBars

pytestmark = pytest.mark.usefixtures("nbx_bundle")

COLOUR = [{"value": 0.0, "label": "red"}, {"value": 1.0, "label": "green"}, {"value": 2.5, "label": "<b>blue</b>"}]


def send_sample_like_js(w: FeatureBars, x: np.ndarray) -> None:
    """Deliver a what-if sample as the front end does: an update message with a binary buffer."""
    enc = encode_array(np.asarray(x, np.float32))
    buf = enc.pop("data")
    msg = {"content": {"data": {"method": "update", "state": {"sample": enc}, "buffer_paths": [["sample", "data"]]}},
           "buffers": [memoryview(bytes(buf))]}
    w._handle_msg(msg)


def test_categories_are_normalised() -> None:
    w = FeatureBars([0.1, 0.2], ["size", "colour"], categories=[None, [{"value": 1, "label": "x"}]])
    assert w.categories == [None, [{"value": 1.0, "label": "x"}]]
    assert isinstance(w.categories[1][0]["value"], float)
    assert FeatureBars([0.1]).categories is None
    w.categories = None
    assert w.categories is None


@pytest.mark.parametrize(
    ("categories", "message"),
    [
        ([None], r"categories has 1 entries but values has 2"),
        ("abc", r"categories must be None or a list"),
        ([None, []], r"categories\[1\] must be None \(a slider\) or a non-empty list"),
        ([None, [1.0, 2.0]], r"categories\[1\]\[0\] must be a dict with exactly the keys"),
        ([None, [{"value": 1.0}]], r"exactly the keys \"value\" and \"label\""),
        ([None, [{"value": "one", "label": "a"}]], r"\['value'\] must be a number"),
        ([None, [{"value": float("nan"), "label": "a"}]], r"must be finite"),
        ([None, [{"value": 1.0, "label": 3}]], r"\['label'\] must be a str"),
    ],
)
def test_bad_categories_name_the_problem(categories: object, message: str) -> None:
    with pytest.raises(traitlets.TraitError, match=message):
        FeatureBars([0.1, 0.2], categories=categories)


def test_changing_values_length_checks_categories() -> None:
    w = FeatureBars([0.1, 0.2], categories=[None, COLOUR])
    with pytest.raises(traitlets.TraitError, match="categories has 2 entries but values has 3"):
        w.update(values=[1.0, 2.0, 3.0], feature_names=["a", "b", "c"])
    w.update(values=[1.0, 2.0, 3.0], feature_names=["a", "b", "c"], categories=[None, None, COLOUR])
    assert w.categories[2][2]["label"] == "<b>blue</b>"


def test_chosen_category_repredicts_and_unknown_value_is_rejected() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    x0 = np.array([0.3, -0.2, 0.0], np.float32)
    w = FeatureBars.what_if(model, x0, explainer="saliency", feature_names=["a", "b", "colour"],
                            categories=[None, None, COLOUR])
    assert w.whatif and w.categories[2] == COLOUR
    p0 = w.prediction
    edited = x0.copy()
    edited[2] = 2.5  # "blue"
    send_sample_like_js(w, edited)
    assert w.error == ""
    np.testing.assert_array_equal(w.sample, edited)
    np.testing.assert_array_equal(w.feature_values, edited)
    expected = float(predict_proba(model, edited[None])[0, w._session.target])
    assert w.prediction == pytest.approx(expected, rel=1e-6)
    assert w.prediction != pytest.approx(p0)
    # A value that is not one of the feature's categories is refused; the state stays.
    bad = edited.copy()
    bad[2] = 1.5
    send_sample_like_js(w, bad)
    assert w.error == "what-if sample rejected: feature 2 is categorical and 1.5 is not one of its values"
    np.testing.assert_array_equal(w.sample, edited)
    assert w.prediction == pytest.approx(expected, rel=1e-6)
