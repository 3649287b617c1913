"""ConfusionMatrix: counting, validation, recall and accuracy, update, ErrorReport input, events."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from nbexplain.codec import decode_array
from nbexplain.diagnostics.errors import error_analysis
from nbexplain.widgets.views.confusion_matrix import ConfusionMatrix, confusion_counts

pytestmark = pytest.mark.usefixtures("nbx_bundle")

Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2, 2]
Y_PRED = [0, 0, 1, 1, 0, 2, 2, 1, 2]
COUNTS = [[2, 1, 0], [1, 1, 0], [0, 1, 3]]


def test_from_predictions_counts_and_summarises() -> None:
    cm = ConfusionMatrix.from_predictions(Y_TRUE, Y_PRED, ["a", "b", "c"])
    assert cm.matrix.tolist() == COUNTS
    assert cm.class_names == ["a", "b", "c"]
    np.testing.assert_allclose(cm.recall, [2 / 3, 1 / 2, 3 / 4])
    assert cm.accuracy == pytest.approx(6 / 9)
    state, _paths, buffers = _remove_buffers(cm.get_state())
    assert state["matrix"]["dtype"] == "float32"
    assert decode_array(dict(state["matrix"], data=buffers[0])).tolist() == COUNTS
    assert (cm.normalize, cm.selected) == ("none", None)


def test_counts_with_more_classes_and_errors() -> None:
    assert confusion_counts([0, 1], [1, 1], n_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match="2 labels but y_pred has 3"):
        confusion_counts([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="class indices"):
        confusion_counts([0, 1.5], [0, 1])
    with pytest.raises(ValueError, match="labels go up to 3 but n_classes is 2"):
        confusion_counts([0, 3], [0, 1], n_classes=2)
    with pytest.raises(ValueError, match="labels go up to 2 but n_classes is 2"):
        ConfusionMatrix.from_predictions([0, 2], [0, 1], ["a", "b"])


@pytest.mark.parametrize(
    ("matrix", "names", "message"),
    [
        ([[1, 2, 3], [4, 5, 6]], None, "square"),
        ([[1, -1], [0, 2]], None, "non-negative"),
        ([[1, np.nan], [0, 2]], None, "finite"),
        ([[1, 0.5], [0, 2]], None, "whole counts"),
        ([[1, 0], [0, 2]], ["only one"], "class_names has 1 names but the matrix has 2 classes"),
    ],
)
def test_bad_matrix_names_the_problem(matrix: list, names: list | None, message: str) -> None:
    with pytest.raises(traitlets.TraitError, match=message):
        ConfusionMatrix(matrix, class_names=names)


def test_selection_and_update() -> None:
    cm = ConfusionMatrix(COUNTS, class_names=list("abc"))
    cm.selected = [2, 1]
    with pytest.raises(traitlets.TraitError, match="outside the 3 x 3"):
        cm.selected = [0, 3]
    with pytest.raises(traitlets.TraitError, match="class_names has 2 names"):
        cm.class_names = ["x", "y"]
    cm.update([[5, 0], [1, 4]], class_names=["no", "yes"], normalize="true")
    assert cm.selected is None and cm.class_names == ["no", "yes"] and cm.normalize == "true"
    cm.selected = [1, 1]
    cm.update([[1, 1], [1, 1]])  # same K: names and selection kept
    assert cm.class_names == ["no", "yes"] and cm.selected == [1, 1]
    with pytest.raises(traitlets.TraitError, match="non-negative"):
        cm.update([[1, -1], [0, 1]])
    assert cm.matrix.tolist() == [[1, 1], [1, 1]]


def test_from_report() -> None:
    P = np.eye(3)[Y_PRED] * 0.8 + 0.2 / 3
    report = error_analysis(lambda X: P[X[:, 0].astype(int)], np.arange(9)[:, None], Y_TRUE, class_names=["a", "b", "c"])
    cm = ConfusionMatrix.from_report(report, title="errors")
    assert cm.matrix.tolist() == COUNTS and cm.class_names == ["a", "b", "c"] and cm.title == "errors"
    regression = error_analysis(lambda X: X[:, 0] * 0.5, np.arange(4.0)[:, None], [0.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="needs classification"):
        ConfusionMatrix.from_report(regression)


def test_select_event_reaches_python() -> None:
    cm = ConfusionMatrix(COUNTS)
    got: list[tuple[int, int]] = []
    cm.on_event("select", lambda msg: got.append((msg["true"], msg["pred"])))
    cm._dispatch_event(cm, {"event": "select", "true": 2, "pred": 1, "selected": True}, [])
    cm._dispatch_event(cm, {"event": "select", "true": 2, "pred": 1, "selected": False}, [])
    assert got == [(2, 1), (2, 1)] and cm.class_names == ["0", "1", "2"]
