"""Global views drawn with bqplot: feature importance, partial dependence, surrogate, bias.

Each view is an ``ipywidgets.VBox`` holding bqplot figures and plain ipywidgets; bqplot is
imported when a view is built. Feature names and slice labels are user strings: bqplot draws
them as SVG text, and every other text goes through ``Label`` / ``Dropdown`` (never ``HTML``).

Example:
    >>> import numpy as np
    >>> bars = ImportanceBars(np.array([[1.0, -3.0], [1.0, 1.0]]), ["a", "b"])
    >>> bars.shown_names, bars.importance.tolist()
    (['b', 'a'], [1.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets
import numpy as np

from ._base import ClosesTree, replace_children

__all__ = ["BiasView", "ImportanceBars", "PDPView", "SurrogateView"]

BAR_COLOR = "#4c78a8"
MUTED_COLOR = "#b3bac2"
POSITIVE_COLOR = "#d6604d"  # RdBu ends, as the heatmaps' signed colour map
NEGATIVE_COLOR = "#4393c3"
ICE_COLOR = "#8d99a6"
PDP_COLOR = "#1f3b57"
HIGHLIGHT_COLOR = "#e4572e"
MAX_LABEL_CHARS = 40
ROW_PX = 22


def _names(feature_names: Sequence[str] | None, n: int, what: str = "feature_names") -> list[str]:
    if feature_names is None:
        return [f"feature {i}" for i in range(n)]
    names = [str(f) for f in feature_names]
    if len(names) != n:
        raise ValueError(f"got {len(names)} {what} for {n} features; pass one name per feature or None")
    return names


def _tick_labels(names: Sequence[str]) -> list[str]:
    """Names shortened to ``MAX_LABEL_CHARS`` and made unique (an ordinal axis merges repeats)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for name in names:
        short = name if len(name) <= MAX_LABEL_CHARS else name[: MAX_LABEL_CHARS - 1] + "\u2026"
        count = seen.get(short, 0)
        seen[short] = count + 1
        out.append(short if count == 0 else f"{short} ({count + 1})")
    return out


class _HBarChart:
    """A horizontal bar chart (names on the left, first name at the top) in a bqplot Figure."""

    def __init__(self, value_label: str, title: str = "", *, zero_based: bool = True) -> None:
        import bqplot

        self.names_scale = bqplot.OrdinalScale(reverse=True)
        self.value_scale = bqplot.LinearScale(min=0.0) if zero_based else bqplot.LinearScale()
        self.zero_based = zero_based
        tooltip = bqplot.Tooltip(fields=["x", "y"], labels=["", value_label], formats=["", ".4g"])
        self.bars = bqplot.Bars(x=[], y=[], orientation="horizontal",
                                colors=[BAR_COLOR], padding=0.25, stroke="white", tooltip=tooltip,
                                scales={"x": self.names_scale, "y": self.value_scale})
        self.names_axis = bqplot.Axis(scale=self.names_scale, side="left",
                                      tick_style={"font-size": "12px"})
        self.value_axis = bqplot.Axis(scale=self.value_scale, side="bottom", label=value_label,
                                      grid_lines="dashed", num_ticks=5, tick_format=".3g")
        self.figure = bqplot.Figure(marks=[self.bars], axes=[self.names_axis, self.value_axis], title=title,
                                    padding_y=0.0, animation_duration=0, display_toolbar=False,
                                    layout=ipywidgets.Layout(width="100%", max_width="720px"))

    def set(self, names: Sequence[str], values: np.ndarray, colors: Sequence[str] | None = None) -> None:
        labels = _tick_labels(names)
        longest = max((len(s) for s in labels), default=4)
        height = 70 + ROW_PX * max(1, len(labels))
        finite = values[np.isfinite(values)]
        with self.figure.hold_sync(), self.bars.hold_sync():
            self.figure.fig_margin = {"top": 45 if self.figure.title else 10, "bottom": 45,
                                      "left": min(300, 16 + 7 * longest), "right": 20}
            self.figure.layout.height = f"{height}px"
            self.figure.layout.min_height = f"{height}px"
            if not self.zero_based and finite.size:
                span = float(np.max(np.abs(finite))) or 1.0
                self.value_scale.min, self.value_scale.max = -span, span
            self.bars.x = labels
            self.bars.y = np.where(np.isfinite(values), values, 0.0)
            self.bars.colors = list(colors) if colors is not None else [BAR_COLOR]


class ImportanceBars(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Mean |attribution| per feature as sorted horizontal bars (largest on top).

    ``values``: attributions ``(n, F)`` (or an ``Explanation`` of a table; its names are used
    when ``feature_names`` is None). Shows the ``top_k`` largest. ``.importance`` holds the mean
    |attr| of every feature, ``.order`` the shown feature indices, ``.shown_names`` their names.
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
        self.chart = _HBarChart("mean |attribution|", title)
        self.figure, self.bars = self.chart.figure, self.chart.bars
        super().__init__([self.figure], **kwargs)
        self.add_class("nbx-importance")
        self.update(values)

    def update(self, values: Any) -> None:
        """Redraw with new attributions ``(n, F)`` (same features)."""
        arr = np.asarray(getattr(values, "values", values), dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise ValueError(f"values must be attributions (n, features) of a table, got shape {arr.shape}; "
                             "for images or text, pass per-feature values")
        names = _names(self.feature_names, arr.shape[1])
        with np.errstate(all="ignore"):
            imp = np.nanmean(np.abs(arr), axis=0) if np.isfinite(arr).any() else np.zeros(arr.shape[1])
        imp = np.where(np.isfinite(imp), imp, 0.0)
        self.importance = imp
        self.order = np.argsort(-imp, kind="stable")[: self.top_k]
        self.shown_names = [names[i] for i in self.order]
        self.chart.set(self.shown_names, imp[self.order])


class PDPView(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Partial dependence: the average curve (bold), ICE lines (faint), one sample highlighted.

    ``result_or_none``: a 1-D :class:`~nbexplain.explainers.partial_dependence.PartialDependence`
    or None (empty until :meth:`update`). ``.feature`` is a Dropdown over ``feature_names``
    (values are feature indices); changing it calls ``on_feature(index)``, which computes and
    calls :meth:`update`. ``.status`` is a Label for a message (e.g. "computing ...").
    At most ``max_ice`` ICE lines are drawn. CSS class ``nbx-pdp``.

    Example:
        >>> import numpy as np
        >>> v = PDPView(None, ["a", "b"])
        >>> v.update([0.0, 1.0, 2.0], [1.0, 2.0, 4.0], np.ones((5, 3)), "b")
        >>> v.feature.value, v.average.y.tolist()
        (1, [1.0, 2.0, 4.0])
    """

    def __init__(self, result_or_none: Any, feature_names: Sequence[str], *,
                 on_feature: Callable[[int], Any] | None = None, max_ice: int = 200,
                 y_label: str = "model output", **kwargs: Any) -> None:
        import bqplot

        names = [str(f) for f in feature_names]
        if not names:
            raise ValueError("feature_names is empty; pass the table's feature names")
        self.feature_names, self.on_feature, self.max_ice = names, on_feature, int(max_ice)
        self._quiet = False
        self.feature = ipywidgets.Dropdown(options=list(zip(_tick_labels(names), range(len(names)), strict=True)),
                                           value=0, description="feature")
        self.feature.observe(self._feature_changed, names="value")
        self.status = ipywidgets.Label("")
        sx, sy = bqplot.LinearScale(), bqplot.LinearScale()
        scales = {"x": sx, "y": sy}
        self.ice = bqplot.Lines(x=[], y=[], scales=scales, colors=[ICE_COLOR], stroke_width=1, opacities=[0.3])
        self.average = bqplot.Lines(x=[], y=[], scales=scales, colors=[PDP_COLOR], stroke_width=3.5)
        self.highlighted = bqplot.Lines(x=[], y=[], scales=scales, colors=[HIGHLIGHT_COLOR], stroke_width=2.5,
                                        visible=False)
        self.x_axis = bqplot.Axis(scale=sx, label=names[0], grid_lines="dashed", num_ticks=6, tick_format=".3g")
        self.y_axis = bqplot.Axis(scale=sy, side="left", label=y_label, grid_lines="dashed",
                                  tick_format=".3g", label_offset="45px")
        self.figure = bqplot.Figure(marks=[self.ice, self.average, self.highlighted], axes=[self.x_axis, self.y_axis],
                                    fig_margin={"top": 15, "bottom": 50, "left": 65, "right": 20},
                                    animation_duration=0, display_toolbar=False,
                                    layout=ipywidgets.Layout(width="100%", max_width="720px", height="340px"))
        self.legend = ipywidgets.Label("bold: average (PDP); grey: one line per sample (ICE); orange: this sample")
        super().__init__([ipywidgets.HBox([self.feature, self.status]), self.figure, self.legend], **kwargs)
        self.add_class("nbx-pdp")
        self._ice_values: np.ndarray | None = None
        if result_or_none is not None:
            r = result_or_none
            if len(r.grid) != 1:
                raise ValueError(f"PDPView draws a 1-D partial dependence; this result is {len(r.grid)}-D "
                                 "(pass one feature to partial_dependence)")
            name = r.feature_names[0]
            if r.features and r.features[0] < len(names):
                self._set_dropdown(int(r.features[0]))
            self.update(r.grid[0], r.average, r.ice, name)

    def _set_dropdown(self, index: int) -> None:
        self._quiet = True
        try:
            self.feature.value = index
        finally:
            self._quiet = False

    def _feature_changed(self, change: dict[str, Any]) -> None:
        if not self._quiet and self.on_feature is not None:
            self.on_feature(int(change["new"]))

    def update(self, grid: Any, pdp: Any, ice: Any, feature_name: str) -> None:
        """Draw ``pdp`` (G,) and ``ice`` (n, G) or None over ``grid`` (G,) for ``feature_name``."""
        g = np.asarray(grid, dtype=np.float64).reshape(-1)
        avg = np.asarray(pdp, dtype=np.float64).reshape(-1)
        if len(g) != len(avg) or len(g) < 2:
            raise ValueError(f"grid has {len(g)} points and pdp {len(avg)}: pass one average per grid point (>= 2)")
        lines = None if ice is None else np.asarray(ice, dtype=np.float64)
        if lines is not None and (lines.ndim != 2 or lines.shape[1] != len(g)):
            raise ValueError(f"ice must be (n, {len(g)}) (one line per sample over the grid), got {lines.shape}")
        self._ice_values = lines
        if str(feature_name) in self.feature_names:
            self._set_dropdown(self.feature_names.index(str(feature_name)))
        shown = lines
        if lines is not None and len(lines) > self.max_ice:
            shown = lines[np.linspace(0, len(lines) - 1, self.max_ice).round().astype(int)]
        with self.figure.hold_sync():
            self.x_axis.label = str(feature_name)
            with self.ice.hold_sync():
                self.ice.x = g
                self.ice.y = shown if shown is not None and len(shown) else avg
                self.ice.visible = shown is not None and len(shown) > 0
            with self.average.hold_sync():
                self.average.x, self.average.y = g, avg
            with self.highlighted.hold_sync():
                self.highlighted.x, self.highlighted.y = g, avg
                self.highlighted.visible = False

    def highlight_line(self, y: Any) -> None:
        """Highlight a line given by its values over the current grid (e.g. an edited sample's ICE line).

        Example:
            >>> view.highlight_line(model_output_over_grid)   # doctest: +SKIP
        """
        line = np.asarray(y, dtype=np.float64).reshape(-1)
        if line.size != len(self.average.x):
            raise ValueError(f"the line has {line.size} values but the grid has {len(self.average.x)} points")
        with self.highlighted.hold_sync():
            self.highlighted.y = line
            self.highlighted.visible = True

    def highlight(self, row: int | None) -> None:
        """Highlight ICE line ``row`` (a row of the ``ice`` array), or none with None."""
        if row is None or self._ice_values is None:
            self.highlighted.visible = False
            return
        if not 0 <= int(row) < len(self._ice_values):
            raise IndexError(f"ICE row {row} is out of range: there are {len(self._ice_values)} ICE lines")
        with self.highlighted.hold_sync():
            self.highlighted.y = self._ice_values[int(row)]
            self.highlighted.visible = True


class SurrogateView(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """A global surrogate: signed coefficient bars (trees: feature importances and the rules),
    with its fidelity to the model as text. CSS class ``nbx-surrogate``.

    ``surrogate_result``: a :class:`~nbexplain.explainers.surrogates.SurrogateFit`. A
    multi-class logistic fit gets an ``.output`` Dropdown over its classes (``class_names``).
    ``.fidelity`` is the Label ("fidelity: R² = 0.93 on 25 held-out rows").

    Example:
        >>> import numpy as np
        >>> from nbexplain.explainers.surrogates import GlobalSurrogate
        >>> X = np.random.default_rng(0).normal(size=(80, 2))
        >>> v = SurrogateView(GlobalSurrogate(lambda A: 2 * A[:, 0] - A[:, 1]).fit(X), ["a", "b"])
        >>> v.fidelity.value, v.chart.bars.x.tolist()
        ('fidelity: R² = 1.000 on 20 held-out rows (linear surrogate)', ['a', 'b'])
    """

    def __init__(self, surrogate_result: Any, feature_names: Sequence[str] | None = None, *,
                 top_k: int = 20, class_names: Sequence[str] | None = None, **kwargs: Any) -> None:
        self.top_k, self.class_names = int(top_k), class_names
        self.feature_names = feature_names
        self.fidelity = ipywidgets.Label("")
        self.output = ipywidgets.Dropdown(options=[("class 0", 0)], value=0, description="class",
                                          layout=ipywidgets.Layout(display="none"))
        self.output.observe(lambda _c: self._draw(), names="value")
        self.chart = _HBarChart("coefficient", zero_based=False)
        self.rules = ipywidgets.Textarea("", disabled=True,
                                         layout=ipywidgets.Layout(width="100%", max_width="720px", height="160px",
                                                                  display="none"))
        super().__init__([self.fidelity, self.output, self.chart.figure, self.rules], **kwargs)
        self.add_class("nbx-surrogate")
        self.update(surrogate_result)

    def update(self, surrogate_result: Any) -> None:
        """Show another fitted surrogate."""
        r = surrogate_result
        if not hasattr(r, "fidelity") or not hasattr(r, "coef"):
            raise TypeError(f"surrogate_result must be a SurrogateFit (GlobalSurrogate(...).fit(X)), "
                            f"got {type(r).__name__}")
        self.result = r
        metric = "R²" if r.fidelity_metric == "r2" else r.fidelity_metric
        where = f"on {r.n_holdout} held-out rows" if r.n_holdout else "on the training rows (no holdout)"
        self.fidelity.value = f"fidelity: {metric} = {r.fidelity:.3f} {where} ({r.kind} surrogate)"
        coef = None if r.coef is None else np.asarray(r.coef, dtype=np.float64)
        if coef is not None and coef.ndim == 2:
            labels = _names(self.class_names, coef.shape[0], "class_names")
            self.output.options = list(zip(labels, range(coef.shape[0]), strict=True))
            self.output.layout.display = "flex"
        else:
            self.output.layout.display = "none"
        self.rules.value = r.tree_text or ""
        self.rules.layout.display = "flex" if r.tree_text else "none"
        self._draw()

    def _draw(self) -> None:
        r = self.result
        if r.coef is not None:
            coef = np.asarray(r.coef, dtype=np.float64)
            vals = coef[int(self.output.value or 0)] if coef.ndim == 2 else coef
            label, signed = "coefficient", True
        else:
            vals, label, signed = np.asarray(r.feature_importances, dtype=np.float64), "feature importance", False
        names = _names(self.feature_names if self.feature_names is not None else r.feature_names, len(vals))
        order = np.argsort(-np.abs(vals), kind="stable")[: self.top_k]
        colors = [POSITIVE_COLOR if v >= 0 else NEGATIVE_COLOR for v in vals[order]] if signed else None
        self.chart.value_axis.label = label
        self.chart.set([names[i] for i in order], vals[order], colors)


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
        options = [] if self.feature_names is None else list(zip(_tick_labels(self.feature_names),
                                                                 range(len(self.feature_names)), strict=True))
        self.feature = ipywidgets.Dropdown(options=options, description="slice by")
        self.feature.observe(self._feature_changed, names="value")
        self.slice_note = ipywidgets.Label("")
        self.chart = _HBarChart("accuracy")
        self.splits_box = ipywidgets.VBox([self.table, self.verdict])
        self.slices_box = ipywidgets.VBox([ipywidgets.HBox([self.feature, self.slice_note]), self.chart.figure])
        super().__init__([self.splits_box, self.slices_box], **kwargs)
        self.add_class("nbx-bias")
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
        self.chart.bars.tooltip.labels = ["", r.metric]
        self.chart.set(labels, vals, colors)
        overall = float(r.overall[r.metric])
        self.slice_note.value = (f"overall {r.metric} {overall:.3f}; grey: slices with fewer than "
                                 f"{r.min_size} samples")
