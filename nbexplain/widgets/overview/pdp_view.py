"""PDPView: partial dependence (the average, bold) with ICE lines and one sample highlighted.

A themed bqplot chart. The y axis names what is plotted: ``P(<class>)`` when the view knows
the class names and the class of the result, else the ``y_label`` given; an integer-valued
feature (a count, a category code) gets integer ticks.

Example:
    >>> import numpy as np
    >>> v = PDPView(None, ["a", "b"], class_names=["no", "yes"])
    >>> v.update([0.0, 1.0, 2.0], [0.1, 0.2, 0.4], np.ones((5, 3)) / 2, "b", target=1)
    >>> v.feature.value, v.y_axis.label, v.x_axis.tick_values.tolist()
    (1, 'P(yes)', [0.0, 1.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets
import numpy as np

from .._base import ClosesTree
from ..charts import (
    HIGHLIGHT_COLOR,
    ICE_COLOR,
    PDP_COLOR,
    nice_domain,
    nice_ticks,
    set_ticks,
    themed_axis,
    themed_figure,
    tick_labels,
)

__all__ = ["PDPView"]

MAX_X_TICKS = 7
MAX_Y_TICKS = 6


def output_label(class_names: Sequence[str] | None, target: int | None, fallback: str = "model output") -> str:
    """What a probability output is called: ``P(benign)``, ``P(class 1)`` without names, else ``fallback``.

    Example:
        >>> output_label(["malignant", "benign"], 1), output_label(None, 1), output_label(None, None)
        ('P(benign)', 'P(class 1)', 'model output')
    """
    if target is None:
        return fallback
    t = int(target)
    if class_names is not None and 0 <= t < len(class_names):
        return f"P({class_names[t]})"
    return f"P(class {t})"


class PDPView(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Partial dependence: the average curve (bold), ICE lines (faint), one sample highlighted.

    ``result_or_none``: a 1-D :class:`~nbexplain.explainers.global_methods.partial_dependence.PartialDependence`
    or None (empty until :meth:`update` or :meth:`show`). ``.feature`` is a Dropdown over
    ``feature_names`` (values are feature indices); changing it calls ``on_feature(index)``,
    which computes and calls :meth:`show`. ``.status`` is a Label for a message (e.g. "computing
    ..."). At most ``max_ice`` ICE lines are drawn. The y axis reads ``y_label`` when given;
    otherwise ``P(<class>)`` of the result's ``target`` (``class_names`` name the classes: pass them
    when the model's outputs are class probabilities), or "model output" when no class is known.
    CSS class ``nbx-pdp``.

    Example:
        >>> import numpy as np
        >>> v = PDPView(None, ["a", "b"])
        >>> v.update([0.0, 1.0, 2.0], [1.0, 2.0, 4.0], np.ones((5, 3)), "b")
        >>> v.feature.value, v.average.y.tolist(), v.y_axis.label
        (1, [1.0, 2.0, 4.0], 'model output')
    """

    def __init__(self, result_or_none: Any, feature_names: Sequence[str], *,
                 on_feature: Callable[[int], Any] | None = None, max_ice: int = 200,
                 y_label: str | None = None, class_names: Sequence[str] | None = None, **kwargs: Any) -> None:
        import bqplot

        names = [str(f) for f in feature_names]
        if not names:
            raise ValueError("feature_names is empty; pass the table's feature names")
        self.feature_names, self.on_feature, self.max_ice = names, on_feature, int(max_ice)
        self.y_label = y_label
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self._quiet = False
        self.feature = ipywidgets.Dropdown(options=list(zip(tick_labels(names), range(len(names)), strict=True)),
                                           value=0, description="feature")
        self.feature.observe(self._feature_changed, names="value")
        self.status = ipywidgets.Label("")
        self.x_scale, self.y_scale = bqplot.LinearScale(), bqplot.LinearScale()
        scales = {"x": self.x_scale, "y": self.y_scale}
        self.ice = bqplot.Lines(x=[], y=[], scales=scales, colors=[ICE_COLOR], stroke_width=1, opacities=[0.3])
        self.average = bqplot.Lines(x=[], y=[], scales=scales, colors=[PDP_COLOR], stroke_width=3.5)
        self.highlighted = bqplot.Lines(x=[], y=[], scales=scales, colors=[HIGHLIGHT_COLOR], stroke_width=2.5,
                                        visible=False)
        self.x_axis = themed_axis(self.x_scale, label=names[0])
        self.y_axis = themed_axis(self.y_scale, side="left", label=y_label or output_label(None, None),
                                  label_offset="48px")
        self.figure = themed_figure([self.ice, self.average, self.highlighted], [self.x_axis, self.y_axis],
                                    fig_margin={"top": 15, "bottom": 50, "left": 70, "right": 24}, height=340)
        self.figure.layout.min_width = "320px"
        self.legend = ipywidgets.Label("bold blue: average (PDP); grey: one line per sample (ICE); "
                                       "orange: this sample")
        self.legend.add_class("nbx-chart-note")
        super().__init__([ipywidgets.HBox([self.feature, self.status]), self.figure, self.legend], **kwargs)
        self.add_class("nbx-pdp")
        self.add_class("nbx-kernel-scope")  # its controls call Python: disabled with the reason without a kernel
        self._ice_values: np.ndarray | None = None
        self._shown: np.ndarray | None = None
        if result_or_none is not None:
            r = result_or_none
            if len(r.grid) != 1:
                raise ValueError(f"PDPView draws a 1-D partial dependence; this result is {len(r.grid)}-D "
                                 "(pass one feature to partial_dependence)")
            self.show(r)

    def _set_dropdown(self, index: int) -> None:
        self._quiet = True
        try:
            self.feature.value = index
        finally:
            self._quiet = False

    def _feature_changed(self, change: dict[str, Any]) -> None:
        if not self._quiet and self.on_feature is not None:
            self.on_feature(int(change["new"]))

    def show(self, result: Any) -> None:
        """Draw a 1-D ``PartialDependence`` (its grid, average, ICE lines, feature and class).

        Example:
            >>> from nbexplain.explainers.global_methods.partial_dependence import partial_dependence
            >>> X = np.random.default_rng(0).normal(size=(20, 3))
            >>> predict_proba = lambda X: np.c_[1 / (1 + np.exp(X[:, 2])), 1 / (1 + np.exp(-X[:, 2]))]
            >>> view = PDPView(None, ["a", "b", "c"], class_names=["no", "yes"])
            >>> view.show(partial_dependence(predict_proba, X, 2, target=1, grid_resolution=3))
            >>> view.feature.value, view.y_axis.label, view.average.y.round(2).tolist()
            (2, 'P(yes)', [0.32, 0.58, 0.82])
        """
        ice = result.ice if result.ice is not None and len(result.ice) else None
        features = getattr(result, "features", None)
        if features and 0 <= int(features[0]) < len(self.feature_names):
            self._set_dropdown(int(features[0]))
        labels = (getattr(result, "grid_labels", None) or [None])[0]
        self.update(result.grid[0], result.average, ice, result.feature_names[0],
                    target=getattr(result, "target", None), categories=labels)

    def update(self, grid: Any, pdp: Any, ice: Any, feature_name: str, *, target: int | None = None,
               categories: Any = None) -> None:
        """Draw ``pdp`` (G,) and ``ice`` (n, G) or None over ``grid`` (G,) for ``feature_name``
        (``target``: the class the output is the probability of, for the y label; ``categories``:
        a categorical feature's label per grid point, shown on the axis instead of the codes)."""
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
        self._shown = np.concatenate([avg[None], shown]) if shown is not None and len(shown) else avg[None]
        finite_g = g[np.isfinite(g)]
        integer = finite_g.size > 0 and bool(np.all(finite_g == np.round(finite_g)))
        with self.figure.hold_sync():
            # the labels before the tick values: bqplot draws new values in a transition with the
            # labels it has when they arrive (labels set afterwards could be drawn over)
            self.x_axis.tick_labels = None if not categories else {
                f"{float(v):g}": str(lab) for v, lab in zip(g, categories, strict=True)}
            self.x_axis.label = str(feature_name)
            if self.y_label is None:
                self.y_axis.label = output_label(self.class_names, target)
            x_lo, x_hi = (float(finite_g.min()), float(finite_g.max())) if finite_g.size else (0.0, 1.0)
            if x_hi <= x_lo:  # one grid value: a unit range around it
                x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
            self.x_scale.min, self.x_scale.max = x_lo, x_hi
            set_ticks(self.x_axis, g if categories else nice_ticks(x_lo, x_hi, MAX_X_TICKS, integer=integer))
            self._fit_y(None)
            with self.ice.hold_sync():
                self.ice.x = g
                self.ice.y = shown if shown is not None and len(shown) else avg
                self.ice.visible = shown is not None and len(shown) > 0
            with self.average.hold_sync():
                self.average.x, self.average.y = g, avg
            with self.highlighted.hold_sync():
                self.highlighted.x, self.highlighted.y = g, avg
                self.highlighted.visible = False

    def _fit_y(self, extra: np.ndarray | None) -> None:
        """Fit the y axis to the drawn lines (and ``extra``), on round ticks."""
        parts = [p.reshape(-1) for p in (self._shown, extra) if p is not None]
        values = np.concatenate(parts) if parts else np.zeros(1)
        values = values[np.isfinite(values)]
        lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        lo, hi, ticks = nice_domain(lo, hi, MAX_Y_TICKS)
        with self.y_scale.hold_sync():
            self.y_scale.min, self.y_scale.max = lo, hi
        set_ticks(self.y_axis, ticks)

    def highlight_line(self, y: Any) -> None:
        """Highlight a line given by its values over the current grid (e.g. an edited sample's ICE line).

        Example:
            >>> view = PDPView(None, ["a", "b"])
            >>> view.update([0.0, 1.0, 2.0], [0.1, 0.2, 0.4], np.ones((5, 3)) / 2, "b")
            >>> view.highlight_line([0.5, 0.6, 0.7])    # e.g. an edited sample's ICE line
            >>> view.highlighted.y.tolist()
            [0.5, 0.6, 0.7]
        """
        line = np.asarray(y, dtype=np.float64).reshape(-1)
        if line.size != len(self.average.x):
            raise ValueError(f"the line has {line.size} values but the grid has {len(self.average.x)} points")
        with self.figure.hold_sync():
            self._fit_y(line)
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
        self.highlight_line(self._ice_values[int(row)])
