"""BiasView: train-vs-test metrics as a table of Labels and per-slice metric bars of one feature.

Slice labels are user strings (category names): bqplot draws them as SVG text and every other
text is a ``Label`` or a ``Dropdown`` (never ``HTML``).

Example:
    >>> import numpy as np
    >>> from nbexplain.diagnostics.bias import compare_splits
    >>> model = lambda X: np.c_[1 - X[:, 0], X[:, 0]]
    >>> X = np.array([[0.9], [0.1]])
    >>> v = BiasView(compare_splits(model, {"train": (X, [1, 0]), "test": (X, [0, 1])}), None)
    >>> v.verdict.value
    'overfit: accuracy on test is more than 0.05 below train'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets
import numpy as np

from .._base import ClosesTree, replace_children
from ..charts import BAR_COLOR, MUTED_COLOR, HBarChart, show_in, tick_labels

__all__ = ["BiasView"]


class BiasView(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Train-vs-test metrics as a table of Labels and per-slice metric bars of one feature.

    ``split_report``: a :class:`~nbexplain.diagnostics.bias.SplitComparison` or None;
    ``slice_report``: a :class:`~nbexplain.diagnostics.bias.SliceReport` or None. ``.feature``
    is a Dropdown over ``feature_names`` (values are indices); changing it calls
    ``on_feature(index)``, which computes and calls :meth:`update_slices`. Slices smaller than
    the report's ``min_size`` are grey. ``.table`` is the ``GridBox``. CSS class ``nbx-bias``.

    Example:
        >>> import numpy as np
        >>> from nbexplain.diagnostics.bias import compare_splits
        >>> model = lambda X: np.c_[1 - X[:, 0], X[:, 0]]
        >>> X = np.array([[0.9], [0.1]])
        >>> v = BiasView(compare_splits(model, {"train": (X, [1, 0]), "test": (X, [0, 1])}), None)
        >>> [c.value for c in v.table.children[:4]]
        ['metric', 'train', 'test', 'test - train']
    """

    def __init__(self, split_report: Any, slice_report: Any, *, feature_names: Sequence[str] | None = None,
                 on_feature: Callable[[int], Any] | None = None, **kwargs: Any) -> None:
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]
        self.on_feature = on_feature
        self._quiet = False
        self.table = ipywidgets.GridBox([], layout=ipywidgets.Layout(grid_gap="2px 18px", width="fit-content"))
        self.table.add_class("nbx-bias-table")
        self.verdict = ipywidgets.Label("")
        options = [] if self.feature_names is None else list(zip(tick_labels(self.feature_names),
                                                                 range(len(self.feature_names)), strict=True))
        self.feature = ipywidgets.Dropdown(options=options, description="slice by")
        self.feature.observe(self._feature_changed, names="value")
        self.slice_note = ipywidgets.Label("")
        self.slice_note.add_class("nbx-chart-note")
        self.verdict.add_class("nbx-chart-note")
        self.chart = HBarChart("accuracy")
        self.splits_box = ipywidgets.VBox([self.table, self.verdict])
        controls = ipywidgets.HBox([self.feature, self.slice_note], layout=ipywidgets.Layout(flex_flow="row wrap"))
        self.slices_box = ipywidgets.VBox([controls, self.chart.figure])
        super().__init__([self.splits_box, self.slices_box], **kwargs)
        self.add_class("nbx-bias")
        self.add_class("nbx-kernel-scope")  # its controls call Python: disabled with the reason without a kernel
        self.update_splits(split_report)
        self.update_slices(slice_report)

    def _feature_changed(self, change: dict[str, Any]) -> None:
        if not self._quiet and self.on_feature is not None and change["new"] is not None:
            self.on_feature(int(change["new"]))

    def update_splits(self, split_report: Any) -> None:
        """Show another split comparison (None hides the table)."""
        self.split_report = split_report
        self.splits_box.layout.display = "none" if split_report is None else "flex"
        if split_report is None:
            return
        r = split_report
        names = list(r.metrics)
        others = [n for n in names if n != r.reference]
        ref = r.metrics[r.reference]
        metrics = [k for k, v in ref.items() if isinstance(v, float)]
        header = ["metric", *names, *[f"{n} - {r.reference}" for n in others]]
        cells = list(header)
        for m in metrics:
            cells.append(m)
            cells += [f"{r.metrics[n].get(m, float('nan')):.3f}" for n in names]
            cells += [f"{r.gaps[n].get(m, float('nan')):+.3f}" for n in others]
        labels = [ipywidgets.Label(text) for text in cells]
        for label in labels[: len(header)]:
            label.add_class("nbx-bias-header")
            label.style.font_weight = "bold"
        self.table.layout.grid_template_columns = f"repeat({len(header)}, auto)"
        replace_children(self.table, labels)  # the old cells are closed
        flagged = [n for n, f in r.overfit.items() if f]
        if flagged:
            self.verdict.value = (f"overfit: {r.flag_metric} on {', '.join(flagged)} is more than "
                                  f"{r.threshold:g} below {r.reference}")
        else:
            self.verdict.value = f"no overfit flag ({r.flag_metric} gap within {r.threshold:g})"

    def update_slices(self, slice_report: Any) -> None:
        """Show per-slice metrics of another feature (None hides the chart)."""
        self.slice_report = slice_report
        self.slices_box.layout.display = "none" if slice_report is None else "flex"
        show_in(self.slices_box, self.chart.figure, slice_report is not None)  # not a hidden figure: see show_in
        if slice_report is None:
            return
        r = slice_report
        if self.feature_names is not None and 0 <= r.feature_index < len(self.feature_names):
            self._quiet = True
            try:
                self.feature.value = r.feature_index
            finally:
                self._quiet = False
        else:
            self.feature.options = [(str(r.feature), r.feature_index)]
        vals = np.array([np.nan if s.metrics is None else float(s.metrics[r.metric]) for s in r.slices])
        colors = [BAR_COLOR if s.reliable else MUTED_COLOR for s in r.slices]
        labels = [f"{s.label} (n={s.size})" for s in r.slices]
        self.chart.value_axis.label = r.metric
        self.chart.tooltip.labels = ["", r.metric]
        self.chart.set(labels, vals, colors)
        overall = float(r.overall[r.metric])
        self.slice_note.value = (f"overall {r.metric} {overall:.3f}; grey: slices with fewer than "
                                 f"{r.min_size} samples")
