"""SamplePanel validation, and the busy/error protocol every view shares."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from nbexplain.widgets import SamplePanel

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def test_defaults_follow_the_protocol() -> None:
    p = SamplePanel()
    assert (p._view, p.kind, p.image, p.row_values, p.probabilities) == ("sample_panel", "table", None, None, None)
    assert (p.row_names, p.class_names, p.true_label, p.top_k, p.index, p.n_samples) == ([], [], "", 3, 0, 1)


def test_names_default_from_array_lengths() -> None:
    p = SamplePanel(kind="table", row_values=[1.0, 2.0, 3.0], probabilities=[0.1, 0.9])
    assert p.row_names == ["feature 0", "feature 1", "feature 2"] and p.class_names == ["class 0", "class 1"]


def test_validation_messages() -> None:
    with pytest.raises(traitlets.TraitError, match=r"'kind'.*\['image', 'table', 'text'\]"):
        SamplePanel(kind="audio")
    with pytest.raises(traitlets.TraitError, match="class_names has 3 names but probabilities has 2 entries"):
        SamplePanel(class_names=["a", "b", "c"], probabilities=[0.5, 0.5])
    with pytest.raises(traitlets.TraitError, match="row_names has 1 names but row_values has 2 entries"):
        SamplePanel(row_names=["a"], row_values=[1.0, 2.0])
    with pytest.raises(traitlets.TraitError, match="index 5 is out of range for 5 samples"):
        SamplePanel(index=5, n_samples=5)
    with pytest.raises(traitlets.TraitError, match=r"got shape \[2, 3, 4, 5\]"):
        SamplePanel(kind="image", image=np.zeros((2, 3, 4, 5)))
    with pytest.raises(TypeError, match=r"'label'; valid ones are: .*true_label"):
        SamplePanel(label="x")


def test_update_changes_class_count_together() -> None:
    p = SamplePanel(probabilities=[0.5, 0.5])
    p.update(class_names=["a", "b", "c"], probabilities=[0.2, 0.3, 0.5], index=0, true_label="c")
    assert p.class_names == ["a", "b", "c"] and p.probabilities.tolist() == [0.2, 0.3, 0.5]


def test_computing_sets_busy_then_a_one_line_error_cleared_on_success(recorded: None) -> None:
    p = SamplePanel(true_label="old")
    p.comm.messages.clear()
    with p._computing("check the input"):
        p.true_label = "new"
        raise RuntimeError("no such\n  sample")
    states = [m["data"]["state"] for m in p.comm.messages]
    assert states[0] == {"busy": True} and states[-1] == {"busy": False}
    assert p.error == "RuntimeError: no such sample (check the input)" and not p.busy
    with p._computing():
        pass
    assert p.error == ""
