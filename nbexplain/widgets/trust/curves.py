"""The deletion or insertion curves of several methods on one themed bqplot chart, for :class:`TrustView`.

One line per method (fixed colours, :data:`METHOD_COLORS`), the random order's curve dashed
grey (the floor an explanation must beat), a marker where the scrubber is, and a legend of
Labels under the chart with each curve's AUC (user strings stay widget values). The x axis is
the fraction of units removed (or inserted), the y axis names the output and its class
(``"P(benign)"``). Nothing is computed here: the curves come from a
:class:`~nbexplain.metrics.TrustReport`.

Example:
    >>> import numpy as np
    >>> from nbexplain.metrics import deletion_curves
    >>> c = deletion_curves(lambda X: X, np.ones((1, 2)), [[1.0, 0.0]], baseline=0.0, output="raw", n_random=1)
    >>> chart = CurveChart("deletion")
    >>> chart.show({"m": c}, sample=None, y_label="model output")
    >>> [line.y.tolist() for line in chart.lines], chart.legend_texts()
    ([[1.0, 0.0, 0.0]], ['m: AUC 0.25', 'random order: AUC 0.25'])
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from .._base import ClosesTree, close_tree
from .._format import format_number
from ..charts import (
    BACKGROUND,
    MUTED_COLOR,
    chart_title,
    nice_domain,
    set_ticks,
    themed_axis,
    themed_figure,
)

__all__ = ["METHOD_COLORS", "CurveChart", "method_color", "output_name"]

#: One colour per method, in order; each keeps a contrast of at least 3:1 against white and #111111.
METHOD_COLORS = ("#4c78a8", "#e4572e", "#3b8a3e", "#9467bd", "#c47900", "#d45087", "#8c564b", "#1f77b4")
#: Units removed, by data kind (the x axis and the scrubber say it).
UNITS = {"image": "patches", "table": "features", "text": "tokens"}
_MAX_Y_TICKS = 6


def method_color(i: int) -> str:
    """The colour of the ``i``-th method (the palette repeats after eight).

    Example:
        >>> method_color(0), method_color(8)
        ('#4c78a8', '#4c78a8')
    """
    return METHOD_COLORS[i % len(METHOD_COLORS)]


def output_name(output: str, target: Any, class_names: Any = None) -> str:
    """What the curves' y axis shows: ``P(benign)``, ``logit of benign``, ``model output``; one class or "the
    explained class" when the samples explain different ones.

    Example:
        >>> output_name("probabilities", np.array([1, 1]), ["malignant", "benign"])
        'P(benign)'
        >>> output_name("logits", np.array([0, 1]), None)
        'logit of the explained class'
    """
    t = None if target is None else np.unique(np.asarray(target).reshape(-1))
    if t is not None and t.size == 1:
        k = int(t[0])
        name = str(class_names[k]) if class_names is not None and 0 <= k < len(class_names) else f"class {k}"
    else:
        name = "explained class"
    if output == "probabilities":
        return f"P({name})"
    if output == "logits":
        return f"logit of {'the ' if name == 'explained class' else ''}{name}"
    return "model output"


def _legend_entry(color: str, text: str, dashed: bool = False) -> ipywidgets.HBox:
    swatch = ipywidgets.Label("╌╌" if dashed else "━━", style={"text_color": color, "font_weight": "bold"})
    swatch.add_class("nbx-trust-swatch")
    label = ipywidgets.Label(text)
    label.add_class("nbx-trust-legend-text")
    entry = ipywidgets.HBox([swatch, label])
    entry.add_class("nbx-trust-legend-entry")
    return entry


class CurveChart(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Deletion (``kind="deletion"``) or insertion curves of the methods, on one chart, with the random floor.

    Parts: ``.title`` (Label), ``.figure`` (bqplot Figure, CSS class ``nbx-chart``), ``.lines``
    (one bqplot ``Lines`` per method), ``.floor`` (the random order's curve, dashed), ``.marker``
    and ``.rule`` (the scrubber's point and its vertical line), ``.legend`` (Labels). CSS class
    ``nbx-trust-curves``.

    Example:
        >>> CurveChart("insertion", units="patches").x_axis.label
        'fraction of patches inserted'
    """

    def __init__(self, kind: str, *, units: str = "features") -> None:
        import bqplot

        if kind not in ("deletion", "insertion"):
            raise ValueError(f"kind must be 'deletion' or 'insertion', got {kind!r}")
        self.kind = kind
        self.colors: dict[str, str] = {}
        self.lines: list[Any] = []
        self._shown: dict[str, np.ndarray] = {}
        self._fractions = np.linspace(0.0, 1.0, 2)
        self.x_scale = bqplot.LinearScale(min=0.0, max=1.0)
        self.y_scale = bqplot.LinearScale(min=0.0, max=1.0)
        self._scales = {"x": self.x_scale, "y": self.y_scale}
        self.floor = bqplot.Lines(x=self._fractions, y=np.zeros(2), scales=self._scales, colors=[MUTED_COLOR],
                                  line_style="dashed", stroke_width=2, visible=False)
        self.rule = bqplot.Lines(x=np.zeros(2), y=np.array([0.0, 1.0]), scales=self._scales, colors=[MUTED_COLOR],
                                 line_style="dotted", stroke_width=1, visible=False)
        self.marker = bqplot.Scatter(x=np.zeros(1), y=np.zeros(1), scales=self._scales, colors=[MUTED_COLOR],
                                     default_size=80, stroke=BACKGROUND, stroke_width=2, visible=False)
        self.x_axis = themed_axis(self.x_scale, label=self._x_label(units))
        self.y_axis = themed_axis(self.y_scale, side="left", label="model output", label_offset="46px")
        self.figure = themed_figure([self.floor, self.rule, self.marker], [self.x_axis, self.y_axis],
                                    fig_margin={"top": 12, "bottom": 50, "left": 64, "right": 20}, height=280,
                                    max_width="560px")
        self.figure.layout.min_width = "320px"
        self.figure.layout.width = "auto"  # the column's width less the widget margins (100% would overflow them)
        ticks = np.linspace(0.0, 1.0, 5)
        self.x_axis.num_ticks = None
        self.x_axis.tick_format = ".0%"
        self.x_axis.tick_values = ticks
        self.title = chart_title(kind)
        self.legend = ipywidgets.Box(layout=ipywidgets.Layout(flex_flow="row wrap", max_width="560px"))
        self.legend.add_class("nbx-trust-legend")
        super().__init__([self.title, self.figure, self.legend],
                         layout=ipywidgets.Layout(flex="1 1 360px", min_width="320px", max_width="560px"))
        self.add_class("nbx-trust-curves")
        self.add_class(f"nbx-trust-{kind}")

    def _x_label(self, units: str) -> str:
        return f"fraction of {units} {'removed' if self.kind == 'deletion' else 'inserted'}" if units else (
            f"fraction {'removed' if self.kind == 'deletion' else 'inserted'}")

    def show(self, curves: dict[str, Any], *, sample: int | None, y_label: str, units: str = "",
             title: str | None = None, colors: dict[str, str] | None = None) -> None:
        """Draw ``{method: FaithfulnessCurves}``: sample ``sample``'s curves, or (None) the mean over the samples.

        ``colors``: ``{method: colour}`` (default :func:`method_color` in order), so every chart of a view
        gives a method the same colour.
        """
        import bqplot

        colors = colors or {}
        self.colors = {m: colors.get(m, method_color(i)) for i, m in enumerate(curves)}
        self._shown, floors, aucs = {}, [], {}
        fractions = self._fractions
        for m, c in curves.items():
            fractions = c.fractions
            y = c.mean_scores if sample is None else c.scores[sample]
            self._shown[m] = np.asarray(y, dtype=np.float64)
            aucs[m] = float(np.trapezoid(self._shown[m], fractions))
            r = c.random_scores
            if r is not None:
                floors.append(r.mean(axis=0) if sample is None else r[sample])
        self._fractions = np.asarray(fractions, dtype=np.float64)
        old = list(self.lines)
        self.lines = [bqplot.Lines(x=self._fractions, y=y, scales=self._scales, colors=[self.colors[m]],
                                   stroke_width=2.5, labels=[m]) for m, y in self._shown.items()]
        floor = np.mean(floors, axis=0) if floors else None
        values = np.concatenate([*self._shown.values(), *([] if floor is None else [floor])]) if self._shown else (
            np.zeros(1))
        finite = values[np.isfinite(values)]
        if y_label.startswith("P("):
            lo, hi, ticks = nice_domain(min(0.0, float(finite.min(initial=0.0))), max(1.0, float(finite.max(initial=1.0))),
                                        _MAX_Y_TICKS)
        else:
            lo, hi, ticks = nice_domain(float(finite.min(initial=0.0)), float(finite.max(initial=1.0)), _MAX_Y_TICKS)
        with self.figure.hold_sync():
            if units:
                self.x_axis.label = self._x_label(units)
            self.y_axis.label = y_label
            with self.y_scale.hold_sync():
                self.y_scale.min, self.y_scale.max = lo, hi
            set_ticks(self.y_axis, ticks)
            with self.floor.hold_sync():
                self.floor.x = self._fractions
                self.floor.y = np.zeros_like(self._fractions) if floor is None else floor
                self.floor.visible = floor is not None
            with self.rule.hold_sync():
                self.rule.y = np.array([lo, hi])
            self.figure.marks = [self.floor, *self.lines, self.rule, self.marker]
        close_tree(*old)
        n = len(next(iter(curves.values()))) if curves else 0
        what = (f"mean over {n} samples" if n != 1 else "1 sample") if sample is None else "one sample"
        self.title.value = title if title is not None else f"{self.kind.capitalize()} curves, {what}"
        entries = [_legend_entry(self.colors[m], f"{m}: AUC {format_number(aucs[m])}") for m in self._shown]
        if floor is not None:
            entries.append(_legend_entry(MUTED_COLOR, f"random order: AUC {format_number(np.trapezoid(floor, self._fractions))}",
                                         dashed=True))
        old_entries = tuple(self.legend.children)
        self.legend.children = entries
        close_tree(*old_entries)

    def legend_texts(self) -> list[str]:
        """The legend's texts, in order (for tests and read-outs)."""
        return [entry.children[1].value for entry in self.legend.children]

    def value_at(self, method: str, fraction: float) -> float:
        """The drawn curve of ``method`` at the point nearest ``fraction``."""
        y = self._shown[method]
        return float(y[int(np.argmin(np.abs(self._fractions - fraction)))])

    def mark(self, method: str | None, fraction: float = 0.0) -> None:
        """Put the marker on ``method``'s curve at ``fraction`` (None hides it)."""
        with self.figure.hold_sync():
            if method is None or method not in self._shown:
                self.marker.visible = self.rule.visible = False
                return
            f = float(self._fractions[int(np.argmin(np.abs(self._fractions - fraction)))])
            with self.marker.hold_sync():
                self.marker.x = np.array([f])
                self.marker.y = np.array([self.value_at(method, f)])
                self.marker.colors = [self.colors[method]]
                self.marker.visible = True
            with self.rule.hold_sync():
                self.rule.x = np.array([f, f])
                self.rule.visible = True
