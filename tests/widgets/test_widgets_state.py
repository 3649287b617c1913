"""Widget state on the wire: arrays travel as binary buffers that decode back to the data."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers

from nbexplain.codec import decode_array
from nbexplain.widgets import FeatureBars, Heatmap, SamplePanel

pytestmark = pytest.mark.usefixtures("nbx_bundle")

#: Keys whose value is legitimately a short list of numbers (array shapes, a clicked cell).
NUMBER_LIST_KEYS = {"shape", "selected"}


def assert_no_number_lists(obj: Any, path: str = "") -> None:
    """Fail if any list of numbers appears in the JSON part outside ``shape`` / ``selected``."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key not in NUMBER_LIST_KEYS:
                assert_no_number_lists(value, f"{path}.{key}")
    elif isinstance(obj, (list, tuple)):
        numbers = [v for v in obj if isinstance(v, (int, float)) and not isinstance(v, bool)]
        assert not numbers, f"a list of numbers travels as JSON at {path or '<root>'}: {list(obj)[:5]}..."
        for i, value in enumerate(obj):
            assert_no_number_lists(value, f"{path}[{i}]")


def split(widget: Any) -> tuple[dict[str, Any], dict[str, np.ndarray], list[Any]]:
    """(JSON part, {trait: decoded array}, buffers) of a widget's state, as ipywidgets sends it."""
    state, paths, buffers = _remove_buffers(widget.get_state())
    json.dumps(state)  # the JSON part must be plain JSON
    assert_no_number_lists(state)
    assert all(p[-1] == "data" and len(p) == 2 for p in paths), paths
    decoded = {}
    for path, buf in zip(paths, buffers, strict=True):
        enc = dict(state[path[0]], data=buf)
        decoded[path[0]] = decode_array(enc)
    return state, decoded, buffers


def test_heatmap_arrays_are_buffers_that_decode() -> None:
    rng = np.random.default_rng(0)
    values, image = rng.normal(size=(3, 16, 20)), rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    state, decoded, _ = split(Heatmap(values, image=image, precision="float32"))
    assert set(decoded) == {"values", "image"}
    np.testing.assert_array_equal(decoded["values"], values.astype(np.float32))
    np.testing.assert_array_equal(decoded["image"], image)
    assert state["values"]["shape"] == [3, 16, 20] and state["_view"] == "heatmap"


def test_precision_sets_bytes_per_value() -> None:
    values = np.random.default_rng(1).normal(size=(64, 64)) * 1e6  # beyond float16's range
    sizes = {}
    for precision in ("float32", "float16", "uint8"):
        _, decoded, buffers = split(Heatmap(values, precision=precision))
        sizes[precision] = sum(len(memoryview(b).cast("B")) for b in buffers)
        peak = np.abs(values).max()
        tol = {"float32": 1e-6, "float16": 1e-3, "uint8": 1 / 252}[precision]
        assert np.abs(decoded["values"] - values).max() <= tol * peak * 1.01
    assert sizes == {"float32": 64 * 64 * 4, "float16": 64 * 64 * 2, "uint8": 64 * 64}


def test_nan_and_all_nan_maps_survive() -> None:
    values = np.full((4, 4), np.nan)
    _, decoded, _ = split(Heatmap(values))
    assert np.isnan(decoded["values"]).all()
    values[1, 2] = -np.inf
    _, decoded, _ = split(Heatmap(values, precision="uint8"))
    assert decoded["values"][1, 2] == -np.inf and np.isnan(decoded["values"][0, 0])


def test_large_map_state_json_stays_small() -> None:
    state, _, buffers = split(Heatmap(np.zeros((3, 224, 224)), image=np.zeros((224, 224, 3), np.uint8)))
    data_part = {k: v for k, v in state.items() if k not in ("_esm", "_css")}  # the bundle is text
    assert len(json.dumps(data_part)) < 3000
    assert sum(len(memoryview(b).cast("B")) for b in buffers) == 3 * 224 * 224 * 2 + 224 * 224 * 3


def test_feature_bars_per_feature_arrays_are_buffers() -> None:
    w = FeatureBars(
        [0.5, -0.25, 0.125], ["a", "b", "c"], feature_values=[1, 2, 3], base_value=0.1, prediction=0.6,
        whatif=True, slider_min=[0, 0, 0], slider_max=[2, 4, 6], slider_step=[0.02, 0.04, 0.06], sample=[1, 2, 3],
    )
    state, decoded, _ = split(w)
    assert set(decoded) == {"values", "feature_values", "slider_min", "slider_max", "slider_step", "sample"}
    assert decoded["values"].tolist() == [0.5, -0.25, 0.125]
    assert decoded["slider_max"].tolist() == [2, 4, 6]
    assert state["feature_names"] == ["a", "b", "c"] and state["base_value"] == 0.1


def test_sample_panel_arrays_are_buffers() -> None:
    p = SamplePanel(kind="image", image=np.eye(8), class_names=["a", "b"], probabilities=[0.25, 0.75], index=2, n_samples=5)
    state, decoded, _ = split(p)
    assert decoded["image"].dtype == np.uint8 and decoded["image"][0, 0] == 255
    assert decoded["probabilities"].tolist() == [0.25, 0.75]
    assert state["row_values"] is None and state["index"] == 2


def test_changing_precision_resends_values(recorded: None) -> None:
    w = Heatmap(np.arange(12.0).reshape(3, 4))
    w.comm.messages.clear()
    w.precision = "float32"
    (msg,) = w.comm.messages
    assert msg["data"]["state"]["values"]["dtype"] == "float32"
    assert [len(memoryview(b).cast("B")) for b in msg["buffers"]] == [48]


def test_update_sends_one_message(recorded: None) -> None:
    w = Heatmap(np.zeros((4, 4)))
    w.comm.messages.clear()
    w.update(values=np.ones((6, 6)), image=np.zeros((6, 6)), opacity=0.2, title="t")
    (msg,) = w.comm.messages
    assert {"values", "image", "opacity", "title"} <= set(msg["data"]["state"])
