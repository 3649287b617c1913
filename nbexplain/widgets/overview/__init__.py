"""Global views drawn with bqplot: feature importance, partial dependence, surrogate, bias.

Each view is an ``ipywidgets.VBox`` holding themed bqplot figures (:mod:`nbexplain.widgets.charts`)
and plain ipywidgets, one module per view; this package gathers them. bqplot is imported when a view is
built. Feature names and slice labels are user strings: bqplot draws them as SVG text, and
every other text goes through ``Label`` / ``Dropdown`` (never ``HTML``). To lay them out,
:class:`~nbexplain.widgets.chart_layout.ChartRow` (side by side, stacked when narrow) and
:class:`~nbexplain.widgets.chart_layout.LazyTab` (a page is drawn only while its tab is open).

Example:
    >>> import numpy as np
    >>> bars = ImportanceBars(np.array([[1.0, -3.0], [1.0, 1.0]]), ["a", "b"])
    >>> bars.shown_names, bars.importance.tolist()
    (['b', 'a'], [1.0, 2.0])
"""

from __future__ import annotations

from ..chart_layout import ChartRow, LazyTab
from ..charts import BAR_COLOR, HIGHLIGHT_COLOR, MAX_LABEL_CHARS, feature_labels, tick_labels
from .bias_view import BiasView
from .importance_bars import ImportanceBars
from .pdp_view import PDPView
from .surrogate_view import SurrogateView

# The names other modules imported from here before the split (nbexplain.widgets.anatomy.charts).
_names = feature_labels
_tick_labels = tick_labels

__all__ = ["BAR_COLOR", "HIGHLIGHT_COLOR", "MAX_LABEL_CHARS", "BiasView", "ChartRow", "ImportanceBars", "LazyTab",
           "PDPView", "SurrogateView"]
