"""ImportanceBars: mean |attribution| per feature as sorted horizontal bars (a bqplot chart).

Feature names are user strings: bqplot draws them as SVG text and the title is a ``Label``
(text only, never ``HTML``).

Example:
    >>> import numpy as np
    >>> bars = ImportanceBars(np.array([[1.0, -3.0], [1.0, 1.0]]), ["a", "b"])
    >>> bars.shown_names, bars.importance.tolist()
    (['b', 'a'], [1.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets
import numpy as np

from .._base import ClosesTree
from ..charts import HBarChart, chart_title, feature_labels

__all__ = ["ImportanceBars"]


class ImportanceBars(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Mean |attribution| per feature as sorted horizontal bars (largest on top).

    ``values``: attributions ``(n, F)`` (or an ``Explanation`` of a table; its names are used
    when ``feature_names`` is None; or a lazy store explanation, ``nbx.Explanation.open(store)``,
    averaged a chunk at a time without loading it). Shows the ``top_k`` largest. ``.importance`` holds the mean
    |attr| of every feature, ``.order`` the shown feature indices, ``.shown_names`` their names;
    ``.title`` is the heading Label. In a :class:`~nbexplain.widgets.chart_layout.ChartRow` it
    takes the width left beside its neighbours, or a line of its own when that is too narrow.
    CSS class ``nbx-importance``.

    Example:
        >>> import numpy as np
        >>> w = ImportanceBars(np.array([[0.1, 2.0, -0.5]]), ["x", "y", "z"], top_k=2)
        >>> w.order.tolist(), w.shown_names
        ([1, 2], ['y', 'z'])
    """

    def __init__(self, values: Any, feature_names: Sequence[str] | None = None, *, top_k: int = 20,
                 title: str = "", **kwargs: Any) -> None:
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
            raise ValueError(f"top_k must be a positive int, got {top_k!r}")
        if feature_names is None:
            feature_names = getattr(values, "feature_names", None)
        self.top_k, self.feature_names = int(top_k), feature_names
        self.chart = HBarChart("mean |attribution|")
        self.figure, self.bars = self.chart.figure, self.chart.bars
        self.title = chart_title(title)
        kwargs.setdefault("layout", ipywidgets.Layout(flex="1 1 360px", max_width="100%"))
        super().__init__([self.title, self.figure], **kwargs)
        self.add_class("nbx-importance")
        self.update(values)

    def update(self, values: Any) -> None:
        """Redraw with new attributions ``(n, F)`` (same features), or a store's lazy explanation
        (``nbx.Explanation.open(store)``: its mean |attribution| is read a chunk at a time)."""
        if hasattr(values, "mean_abs") and hasattr(values, "store"):  # a dataset-wide store: streamed
            values = values.mean_abs()[None]
        arr = np.asarray(getattr(values, "values", values), dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise ValueError(f"values must be attributions (n, features) of a table, got shape {arr.shape}; "
                             "for images or text, pass per-feature values")
        names = feature_labels(self.feature_names, arr.shape[1])
        with np.errstate(all="ignore"):
            imp = np.nanmean(np.abs(arr), axis=0) if np.isfinite(arr).any() else np.zeros(arr.shape[1])
        imp = np.where(np.isfinite(imp), imp, 0.0)
        self.importance = imp
        self.order = np.argsort(-imp, kind="stable")[: self.top_k]
        self.shown_names = [names[i] for i in self.order]
        self.chart.set(self.shown_names, imp[self.order])
