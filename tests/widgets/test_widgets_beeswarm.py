"""Beeswarm: validation, the wire encoding of its arrays, update, from_explanation, the select event."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from nbexplain.codec import decode_array
from nbexplain.explanation import Explanation
from nbexplain.widgets.views.beeswarm import Beeswarm

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def wire(widget: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON part of the state (must be plain JSON) and each array trait decoded from its buffer."""
    state, paths, buffers = _remove_buffers(widget.get_state())
    json.dumps(state)
    arrays = {p[0]: decode_array(dict(state[p[0]], data=b)) for p, b in zip(paths, buffers, strict=True)}
    return state, arrays


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 5)) * [1, 10, 100, 0.01, 1]
    return X * [3.0, -0.2, 0.01, 50.0, 1.0], X


def test_arrays_travel_as_buffers(data: tuple[np.ndarray, np.ndarray]) -> None:
    attr, X = data
    X[7, 2] = np.nan
    w = Beeswarm(attr, feature_values=X, sample_indices=np.arange(300) * 3)
    state, arrays = wire(w)
    assert state["values"]["dtype"] == "float16"
    assert state["feature_values"]["dtype"] == "float32"
    peak = np.abs(attr).max()
    assert np.abs(arrays["values"] - attr).max() <= peak * 1e-3
    np.testing.assert_array_equal(arrays["feature_values"], X.astype(np.float32))
    np.testing.assert_array_equal(arrays["sample_indices"], np.arange(300) * 3)
    assert w.feature_names == [f"feature {j}" for j in range(5)]
    assert (w.max_features, w.highlight, w.selected) == (20, -1, -1)


def test_indices_of_a_store_beyond_float32_travel_exactly(data: tuple[np.ndarray, np.ndarray]) -> None:
    """Rows of a 10^8-row store: float32 would round 100,000,001 to 100,000,000; pairs keep it."""
    attr, X = data
    rows = 10**8 + np.arange(300) * 7 + 1
    w = Beeswarm(attr, feature_values=X, sample_indices=rows)
    _, arrays = wire(w)
    pairs = arrays["sample_indices"].astype(np.int64)
    assert pairs.shape == (300, 2)
    np.testing.assert_array_equal(pairs[:, 0] * 2**24 + pairs[:, 1], rows)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"feature_names": ["a", "b"]}, "feature_names has 2 names but values has 5 columns"),
        ({"feature_values": np.zeros((300, 4))}, "feature_values has shape [300, 4] but values has [300, 5]"),
        ({"sample_indices": np.arange(299)}, "sample_indices has shape [299]"),
        ({"sample_indices": np.arange(300) - 1}, "non-negative integers"),
        ({"sample_indices": np.arange(300) + 0.5}, "non-negative integers"),
        ({"max_features": 0}, "max_features"),
    ],
)
def test_bad_input_names_the_problem(data: tuple[np.ndarray, np.ndarray], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(traitlets.TraitError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Beeswarm(data[0], **kwargs)


def test_bad_values_shapes() -> None:
    with pytest.raises(traitlets.TraitError, match="must be 2-D; got shape"):
        Beeswarm(np.zeros(4))
    with pytest.raises(traitlets.TraitError, match="at least one sample"):
        Beeswarm(np.zeros((0, 3)))
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*'colour'"):
        Beeswarm(np.zeros((2, 2)), colour="red")


def test_assignments_are_checked_against_each_other(data: tuple[np.ndarray, np.ndarray]) -> None:
    attr, X = data
    w = Beeswarm(attr, feature_values=X)
    with pytest.raises(traitlets.TraitError, match="feature_names has 1 names"):
        w.feature_names = ["x"]
    with pytest.raises(traitlets.TraitError, match="feature_values has shape"):
        w.feature_values = X[:10]
    with pytest.raises(traitlets.TraitError, match="feature_names has 5 names but values has 3 columns"):
        w.values = attr[:, :3]  # shape changes go through update()
    assert w.values.shape == (300, 5)


def test_update_changes_shape_together_and_rolls_back(data: tuple[np.ndarray, np.ndarray]) -> None:
    attr, X = data
    w = Beeswarm(attr, feature_values=X, feature_names=list("abcde"), sample_indices=np.arange(300))
    w.update(attr[:50, :3], feature_values=X[:50, :3], feature_names=["x", "y", "z"], highlight=4)
    assert w.values.shape == (50, 3) and w.feature_values.shape == (50, 3)
    assert w.feature_names == ["x", "y", "z"] and w.sample_indices is None and w.highlight == 4
    w.update(attr[:20, :3])  # same F, fewer rows: names kept, per-sample arrays dropped
    assert w.feature_names == ["x", "y", "z"] and w.feature_values is None
    with pytest.raises(traitlets.TraitError, match="feature_names has 2 names"):
        w.update(attr[:10, :4], feature_names=["p", "q"])
    assert w.values.shape == (20, 3) and w.feature_names == ["x", "y", "z"]


def test_from_explanation_picks_the_target_column() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(6, 3, 2))
    data = rng.normal(size=(6, 3))
    target = np.array([0, 1, 1, 0, 1, 0])
    e = Explanation(values, np.zeros((6, 2)), data=data, feature_names=["a", "b", "c"], target=target)
    w = Beeswarm.from_explanation(e, max_features=2)
    np.testing.assert_array_equal(w.values, values[np.arange(6), :, target])
    np.testing.assert_array_equal(w.feature_values, data)
    assert w.feature_names == ["a", "b", "c"] and w.max_features == 2
    np.testing.assert_array_equal(Beeswarm.from_explanation(e, output=1).values, values[:, :, 1])
    with pytest.raises(ValueError, match="tabular"):
        Beeswarm.from_explanation(Explanation(rng.normal(size=(2, 4, 4))))


def test_select_event_reaches_python(data: tuple[np.ndarray, np.ndarray]) -> None:
    w = Beeswarm(data[0])
    got: list[int] = []
    w.on_event("select", lambda msg: got.append(msg["index"]))
    w._dispatch_event(w, {"event": "select", "index": 17}, [])
    assert got == [17] and w.error == ""
