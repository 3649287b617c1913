"""The bqplot charts of the layer inspector: vertical bars (histograms, norms) and curves.

bqplot is imported when a chart is built, and the inspector builds a tab's charts when the tab
is first opened (bqplot 0.13 lays out a figure inside a closed tab at a negative size). Layer
names are user strings: bqplot draws them as SVG text; nothing here goes through ``HTML``.

Example:
    >>> import numpy as np
    >>> chart = BarChart("value", "count")
    >>> chart.set_histogram(np.array([1, 3, 2]), np.array([0.0, 1.0, 2.0, 3.0]))
    >>> chart.bars.x.tolist(), chart.bars.y.tolist()
    ([0.5, 1.5, 2.5], [1.0, 3.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets
import numpy as np

from ..overview import BAR_COLOR, HIGHLIGHT_COLOR, _tick_labels

__all__ = ["BarChart", "CurveChart", "figure_layout"]

# Mark colours are data colours (bqplot draws them as given): mid-tones that read on Lab's light
# and dark backgrounds alike (contrast >= 3:1 on white and on #111).
CURVE_COLOR = "#1f77b4"
DERIVATIVE_COLOR = "#e4572e"
MAX_TICKS = 16
#: Pixels per character of an 11 px tick label (a generous average, so labels are not cut).
CHAR_PX = 6.4
TITLE_STYLE = {"font-size": "13px"}


def figure_layout(height: int, max_width: str = "560px") -> ipywidgets.Layout:
    """The layout every inspector chart uses: full width up to ``max_width``, fixed height.

    Example:
        >>> figure_layout(200).height
        '200px'
    """
    return ipywidgets.Layout(width="100%", max_width=max_width, height=f"{height}px", min_height=f"{height}px")


class BarChart:
    """Vertical bars in a bqplot Figure: numeric x (a histogram) or names (``ordinal=True``).

    ``set_histogram(counts, edges)`` draws one bar per bin at the bin centre; ``set(x, y)``
    draws bars at ``x``; ``set_log(True)`` shows log10 of the values (values <= 0 are drawn
    at the base). ``.bars``, ``.figure``, ``.x_axis``, ``.y_axis`` are the
    bqplot objects.

    Example:
        >>> c = BarChart("layer", "norm", ordinal=True)
        >>> c.set(["a", "b"], np.array([1.0, 0.0]), colors=["red", "blue"])
        >>> c.bars.colors
        ['red', 'blue']
    """

    def __init__(self, x_label: str, y_label: str, *, title: str = "", ordinal: bool = False,
                 height: int = 220, color: str = BAR_COLOR, log: bool = False, y_format: str = ".3g") -> None:
        import bqplot

        self._bqplot = bqplot
        self.ordinal, self.color, self.log = ordinal, color, bool(log)
        self.x_scale = bqplot.OrdinalScale() if ordinal else bqplot.LinearScale()
        self.y_scale = bqplot.LinearScale(min=0.0)
        self._y_label = y_label
        tooltip = bqplot.Tooltip(fields=["x", "y"], labels=[x_label, y_label],
                                 formats=["" if ordinal else ".4g", ".4g"])
        self.bars = bqplot.Bars(x=[], y=[], scales={"x": self.x_scale, "y": self.y_scale}, colors=[color],
                                padding=0.2 if ordinal else 0.05, stroke="white" if ordinal else None,
                                tooltip=tooltip)
        self.x_axis = bqplot.Axis(scale=self.x_scale, label=x_label, num_ticks=6,
                                  tick_format=None if ordinal else ".3g", tick_style={"font-size": "11px"})
        self.y_axis = bqplot.Axis(scale=self.y_scale, side="left", label=y_label + (" (log10)" if log else ""),
                                  grid_lines="dashed", num_ticks=5, tick_format=y_format, label_offset="45px")
        # The right margin holds half of the last tick label (numeric axes put one at the edge).
        margin = {"top": 30 if title else 12, "bottom": 45, "left": 62, "right": 16 if ordinal else 30}
        self.figure = bqplot.Figure(marks=[self.bars], axes=[self.x_axis, self.y_axis], title=title,
                                    title_style=TITLE_STYLE, fig_margin=margin, animation_duration=0,
                                    display_toolbar=False, padding_x=0.02, padding_y=0.0,
                                    layout=figure_layout(height))

    def set(self, x: Sequence[Any] | np.ndarray, y: np.ndarray, colors: Sequence[str] | None = None) -> None:
        """Draw bars of heights ``y`` at ``x`` (names when ordinal), one colour or one per bar."""
        values = np.asarray(y, dtype=np.float64).reshape(-1)
        values = np.where(np.isfinite(values), values, 0.0)
        self._values = values
        xs: Any = np.asarray(x, dtype=np.float64) if not self.ordinal else _tick_labels([str(v) for v in x])
        if self.ordinal and len(set(xs)) == len(list(x)):
            xs = [str(v) for v in x]
        with self.figure.hold_sync(), self.bars.hold_sync():
            if self.ordinal:
                step = max(1, int(np.ceil(len(xs) / MAX_TICKS)))
                self.x_axis.tick_values = list(xs[::step])
                self._fit_names(list(xs), step)
            self.bars.x = xs
            self.bars.y = self._shown(values)
            self.bars.colors = list(colors) if colors is not None else [self.color]

    def _fit_names(self, names: list[str], step: int) -> None:
        """Rotate long tick names and give them the margins they need (nothing is cut).

        Rotated names end at their tick (``text-anchor: end``) and hang down to the left at 40
        degrees: the bottom margin holds the longest one, the left margin the first one.
        """
        shown = names[::step]
        longest = max((len(n) for n in shown), default=0)
        if longest <= 4:
            self.x_axis.tick_rotate = 0
            self.x_axis.tick_style = {"font-size": "11px"}
            self.x_axis.label_offset = None
            self.figure.fig_margin = {**self.figure.fig_margin, "bottom": 45, "left": 62}
            return
        sin, cos = 0.643, 0.766  # of 40 degrees
        drop = int(CHAR_PX * longest * sin) + 22
        bottom = min(190, drop + 26)
        first = int(CHAR_PX * len(shown[0]) * cos) if shown else 0
        self.x_axis.tick_rotate = -40
        self.x_axis.tick_style = {"font-size": "11px", "text-anchor": "end"}
        self.x_axis.label_offset = f"{min(drop, bottom - 18)}px"
        self.figure.fig_margin = {**self.figure.fig_margin, "bottom": bottom, "left": max(62, min(200, first))}

    def set_histogram(self, counts: np.ndarray, edges: np.ndarray) -> None:
        """Draw a histogram: ``counts`` (bins,) over ``edges`` (bins + 1,)."""
        counts = np.asarray(counts, dtype=np.float64).reshape(-1)
        edges = np.asarray(edges, dtype=np.float64).reshape(-1)
        if len(edges) != len(counts) + 1:
            raise ValueError(f"a histogram needs one more edge than counts; got {len(counts)} counts and "
                             f"{len(edges)} edges")
        self.set((edges[:-1] + edges[1:]) / 2, counts)

    def set_log(self, log: bool) -> None:
        """Show ``log10`` of the values (bars from the decade below the smallest) or the values.

        A log scale is drawn as log10 values on a linear axis labelled "(log10)": bqplot's
        ``LogScale`` fails on bars (their base 0) and while a chart is still empty.
        """
        log = bool(log)
        if log == self.log:
            return
        self.log = log
        with self.figure.hold_sync():
            self.y_axis.label = self._y_label + (" (log10)" if log else "")
            if hasattr(self, "_values"):
                self.set(self.bars.x, self._values, self.bars.colors)

    def _shown(self, values: np.ndarray) -> np.ndarray:
        if not self.log:
            self.bars.base = 0.0
            self.y_scale.min = min(0.0, float(values.min())) if values.size else 0.0
            self.y_scale.max = None
            return values
        positive = values[values > 0]
        logs = np.log10(positive) if positive.size else np.zeros(1)
        floor = float(np.floor(logs.min() - 0.5))
        self.bars.base = floor
        self.y_scale.min = floor
        self.y_scale.max = float(np.ceil(logs.max() + 0.1))
        return np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), floor)


class CurveChart:
    """Two lines over the same x in a bqplot Figure: a function (dark) and its derivative (orange).

    Example:
        >>> c = CurveChart()
        >>> c.set(np.array([-1.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.5, 1.0]), "ReLU")
        >>> c.lines.y.shape, c.lines.labels
        ((2, 3), ['ReLU(x)', "ReLU'(x)"])
    """

    def __init__(self, height: int = 260) -> None:
        import bqplot

        sx, sy = bqplot.LinearScale(), bqplot.LinearScale()
        self.lines = bqplot.Lines(x=[], y=[], scales={"x": sx, "y": sy}, colors=[CURVE_COLOR, DERIVATIVE_COLOR],
                                  stroke_width=2.5, display_legend=True, labels=["f(x)", "f'(x)"])
        self.zero = bqplot.Lines(x=[], y=[], scales={"x": sx, "y": sy}, colors=["#b3bac2"], stroke_width=1,
                                 line_style="dashed")
        self.x_axis = bqplot.Axis(scale=sx, label="x (input of the activation)", grid_lines="dashed",
                                  num_ticks=6, tick_format=".3g")
        self.y_axis = bqplot.Axis(scale=sy, side="left", grid_lines="dashed",
                                  tick_format=".3g", num_ticks=6)
        self.figure = bqplot.Figure(marks=[self.zero, self.lines], axes=[self.x_axis, self.y_axis],
                                    fig_margin={"top": 15, "bottom": 45, "left": 55, "right": 30},
                                    legend_location="top-left", animation_duration=0, display_toolbar=False,
                                    layout=figure_layout(height))

    def set(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray, name: str) -> None:
        """Draw ``y = f(x)`` and ``dy = f'(x)``; ``name`` labels the legend."""
        x = np.asarray(x, dtype=np.float64)
        with self.figure.hold_sync():
            with self.lines.hold_sync():
                self.lines.x = x
                self.lines.y = np.vstack([np.asarray(y, dtype=np.float64), np.asarray(dy, dtype=np.float64)])
                self.lines.labels = [f"{name}(x)", f"{name}'(x)"]
            with self.zero.hold_sync():
                self.zero.x = np.array([x.min(), x.max()]) if x.size else np.zeros(0)
                self.zero.y = np.zeros(2) if x.size else np.zeros(0)


HIGHLIGHT = HIGHLIGHT_COLOR
