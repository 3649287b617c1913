"""The Errors & bias tab: the confusion matrix, train-vs-test and per-slice metrics.

The confusion matrix is drawn with the Dashboard (it needs no computation): a click on a cell
sets the state's filter to that cell's samples (true class, predicted class) and brings the
Explore tab forward; a second click on the same cell clears the filter. The bias view (the
train-vs-test comparison and, for tables, the metrics per slice of a feature) is computed on
the worker the first time the tab is opened (or on ``Dashboard.compute_global()``). Without
labels ``y`` the tab says so.

Example:
    >>> ErrorsTab.title, ErrorsTab.key()
    ('Errors & bias', 'errors')
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from ...diagnostics.browse import SampleFilter
from .._base import error_line, replace_children
from .state import EXPLORE
from .tab import DashboardTab

__all__ = ["ErrorsTab"]


class ErrorsTab(DashboardTab):
    """Where the model is wrong: ``confusion`` (a :class:`~nbexplain.widgets.views.confusion_matrix.ConfusionMatrix`,
    None without labels) and, once computed, ``bias`` (a :class:`~nbexplain.widgets.overview.BiasView`).

    Example:
        >>> ErrorsTab.offered_for("text")
        True
    """

    title = "Errors & bias"
    name = "errors"

    def __init__(self, state: Any) -> None:
        super().__init__(state)
        self.confusion: Any = None
        self.bias: Any = None
        self._started = False

    def build(self) -> Any:
        s = self.session
        if s.y is None:
            return ipywidgets.VBox([ipywidgets.Label("Pass y (true labels) to see errors and bias.")])
        from ..views.confusion_matrix import ConfusionMatrix

        pred = s.predicted
        ok = pred >= 0
        k = s.n_classes
        matrix = np.zeros((k, k), dtype=np.int64)
        np.add.at(matrix, (s.y[ok].astype(np.int64), pred[ok]), 1)
        self.confusion = ConfusionMatrix(matrix, class_names=s.class_names, title="confusion matrix")
        self.confusion.on_event("select", self.on_cell)
        return ipywidgets.VBox([self.confusion])

    def on_open(self) -> None:
        if self._started or self.session.y is None:
            return
        self._started = True
        s = self.session

        def compute(_ctl: Any) -> tuple[Any, Any]:
            split = s.split_comparison()
            slices = s.slices(0) if s.kind == "table" else None
            return split, slices

        self.runner.submit(compute, label="bias analysis", on_done=self._show_bias, on_error=self._bias_failed)

    def on_cell(self, msg: dict[str, Any]) -> None:
        """A confusion-matrix cell was clicked (``{"true": t, "pred": p, "selected": ...}``): filter the
        samples to it (or clear the filter on a second click) and show the Explore tab."""
        t, p = int(msg["true"]), int(msg["pred"])
        f = self.state.filter
        if msg.get("selected") is False or (f.true_class == t and f.predicted_class == p):
            self.state.filter = SampleFilter()
            if self.confusion is not None:
                self.confusion.selected = None
        else:
            self.state.filter = f.replace(true_class=t, predicted_class=p)
        self.state.tab = EXPLORE

    def _show_bias(self, result: tuple[Any, Any]) -> None:
        from ..overview import BiasView

        split, slices = result
        s = self.session
        self.bias = BiasView(split, slices, feature_names=s.feature_names or None, on_feature=self._start_slices)
        replace_children(self.widget, [c for c in (self.confusion, self.bias) if c is not None])

    def _bias_failed(self, exc: BaseException) -> None:
        self._started = False
        replace_children(self.widget, [c for c in (self.confusion,) if c is not None] + [
            ipywidgets.Label(f"bias analysis failed: {error_line(exc)}")])

    def _start_slices(self, feature: int) -> None:
        s = self.session
        self.runner.submit(lambda ctl: s.slices(int(feature)), label="slice metrics",
                           on_done=lambda r: self.bias.update_slices(r), replace="slices")
