"""Building blocks of nbexplain's bqplot charts: themed figures and axes, round ticks, bar charts.

Every figure made here carries the CSS class ``nbx-chart`` (``js/src/css/charts.css`` maps
bqplot's own variables, fonts and tooltips to JupyterLab's theme there), and its axes, labels
and grid take their colours inline from Lab's theme variables (``var(--jp-ui-font-color1, ...)``),
so a chart reads in the light and the dark theme even on a page without nbexplain's CSS. Data
colours are fixed and keep a contrast of at least 3:1 against white and against Lab's dark
background (#111111). Ticks are round numbers computed here (bqplot's ``num_ticks`` spaces them
evenly from the minimum, which gives 9.30 and 0.250), integers for integer data.

Example:
    >>> nice_ticks(0.0, 1.0, 5).tolist(), tick_format(nice_ticks(0.0, 1.0, 5))
    ([0.0, 0.25, 0.5, 0.75, 1.0], '.2f')
    >>> nice_ticks(0, 3, 8, integer=True).tolist()
    [0.0, 1.0, 2.0, 3.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ipywidgets
import numpy as np

__all__ = [
    "BAR_COLOR",
    "FG",
    "FG2",
    "GRID",
    "HIGHLIGHT_COLOR",
    "HBarChart",
    "chart_title",
    "feature_labels",
    "nice_domain",
    "nice_ticks",
    "set_ticks",
    "themed_axis",
    "themed_figure",
    "tick_format",
    "tick_labels",
]

# Theme colours, read from JupyterLab's variables where the page has them (light fallbacks).
FG = "var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87))"
FG2 = "var(--jp-ui-font-color2, rgba(0, 0, 0, 0.54))"
GRID = "var(--jp-border-color2, #e0e0e0)"
BACKGROUND = "var(--jp-layout-color0, #ffffff)"

# Data colours: each at least 3:1 against #ffffff and #111111 (WCAG contrast ratio).
BAR_COLOR = "#4c78a8"
MUTED_COLOR = "#8a9099"
POSITIVE_COLOR = "#d6604d"  # RdBu ends, as the heatmaps' signed colour map
NEGATIVE_COLOR = "#4393c3"
ICE_COLOR = "#8d99a6"  # drawn at 30 % opacity: faint on purpose
PDP_COLOR = "#1f77b4"
HIGHLIGHT_COLOR = "#e4572e"

MAX_LABEL_CHARS = 40
ROW_PX = 22
#: Narrowest plot area (pixels between the margins) a bar chart is given: room for 5 tick labels.
MIN_PLOT_PX = 260


def feature_labels(feature_names: Sequence[str] | None, n: int, what: str = "feature_names") -> list[str]:
    """``n`` names as strings (``"feature i"`` when None); a wrong count raises naming ``what``.

    Example:
        >>> feature_labels(None, 2)
        ['feature 0', 'feature 1']
    """
    if feature_names is None:
        return [f"feature {i}" for i in range(n)]
    names = [str(f) for f in feature_names]
    if len(names) != n:
        raise ValueError(f"got {len(names)} {what} for {n} features; pass one name per feature or None")
    return names


def tick_labels(names: Sequence[str]) -> list[str]:
    """Names shortened to ``MAX_LABEL_CHARS`` and made unique (an ordinal axis merges repeats).

    Example:
        >>> tick_labels(["a", "a"])
        ['a', 'a (2)']
    """
    out: list[str] = []
    seen: dict[str, int] = {}
    for name in names:
        short = name if len(name) <= MAX_LABEL_CHARS else name[: MAX_LABEL_CHARS - 1] + "\u2026"
        count = seen.get(short, 0)
        seen[short] = count + 1
        out.append(short if count == 0 else f"{short} ({count + 1})")
    return out


def _step(span: float, max_ticks: int, integer: bool) -> float:
    raw = span / max(1, max_ticks - 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    steps = (1.0, 2.0, 5.0, 10.0) if integer and mag <= 1 else (1.0, 2.0, 2.5, 5.0, 10.0)
    step = next(m * mag for m in steps if m * mag >= raw * (1 - 1e-9))
    return max(1.0, round(step)) if integer else step


def _clean(values: np.ndarray, step: float) -> np.ndarray:
    digits = max(0, -math.floor(math.log10(step)) + 2)
    out = np.round(values, digits)
    out[np.abs(out) < step * 1e-9] = 0.0  # no "-0"
    return out


def nice_ticks(lo: float, hi: float, max_ticks: int = 6, *, integer: bool = False) -> np.ndarray:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) inside ``[lo, hi]``.

    At most ``max_ticks``; ``integer=True`` gives whole-number steps (counts, integer features).
    Empty for a non-finite range; one tick when ``lo == hi``.

    Example:
        >>> nice_ticks(-18.6, 18.6, 5).tolist()
        [-10.0, 0.0, 10.0]
    """
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return np.zeros(0)
    lo, hi = min(lo, hi), max(lo, hi)
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return np.array([round(lo) if integer else lo], dtype=np.float64)
    step = _step(hi - lo, max_ticks, integer)
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return _clean(np.arange(first, last + 1, dtype=np.float64) * step, step)


def nice_domain(lo: float, hi: float, max_ticks: int = 6, *, integer: bool = False) -> tuple[float, float, np.ndarray]:
    """``(lo', hi', ticks)``: the range widened to whole steps, so the axis starts and ends on a tick.

    Example:
        >>> nice_domain(0.0, 0.93, 5)
        (0.0, 1.0, array([0.  , 0.25, 0.5 , 0.75, 1.  ]))
    """
    lo, hi = min(float(lo), float(hi)), max(float(lo), float(hi))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    elif hi - lo <= 1e-12 * max(1.0, abs(hi)):  # one value: a range around it
        lo, hi = (lo - abs(lo) / 2, hi + abs(hi) / 2) if lo != 0 else (0.0, 1.0)
    step = _step(hi - lo, max_ticks, integer)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    ticks = _clean(np.arange(first, last + 1, dtype=np.float64) * step, step)
    return float(ticks[0]), float(ticks[-1]), ticks


def tick_format(ticks: np.ndarray) -> str:
    """A d3 format that prints every tick exactly with the fewest decimals (``.3~g`` for huge or tiny).

    Example:
        >>> tick_format(np.array([0.0, 2.5, 5.0])), tick_format(np.array([0.0, 2e6]))
        ('.1f', '.3~g')
    """
    t = np.asarray(ticks, dtype=np.float64)
    t = t[np.isfinite(t)]
    big = float(np.max(np.abs(t))) if t.size else 0.0
    if big >= 1e6 or 0 < big < 1e-3:
        return ".3~g"
    for d in range(7):
        if np.all(np.abs(np.round(t, d) - t) <= 1e-9 * max(1.0, big)):
            return f".{d}f"
    return ".3~g"


def set_ticks(axis: Any, ticks: np.ndarray) -> None:
    """Put ``ticks`` on a bqplot axis with the format that prints them (no bqplot ``num_ticks``).

    Example:
        >>> import bqplot
        >>> ax = themed_axis(bqplot.LinearScale())
        >>> set_ticks(ax, nice_ticks(0, 10, 3)); ax.tick_values.tolist(), ax.tick_format
        ([0.0, 5.0, 10.0], '.0f')
    """
    # One message each, the format first: bqplot redraws new tick values in a d3 transition with
    # the format it has when the values arrive; a format arriving with them would be overwritten.
    axis.num_ticks = None
    axis.tick_format = tick_format(ticks)
    axis.tick_values = np.asarray(ticks, dtype=np.float64)


def themed_axis(scale: Any, *, label: str = "", side: str = "bottom", grid: bool = True,
                primary_ticks: bool = False, **kwargs: Any) -> Any:
    """A bqplot Axis in the theme's colours: secondary text for ticks (``primary_ticks``: the main
    text colour, for names), the main colour for the label, the theme's border colour for the grid.

    Example:
        >>> import bqplot
        >>> themed_axis(bqplot.LinearScale(), label="x").label_color
        'var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87))'
    """
    import bqplot

    style = {"font-size": "12px", **kwargs.pop("tick_style", {})}
    return bqplot.Axis(scale=scale, side=side, label=label, label_color=FG, color=FG if primary_ticks else FG2,
                       grid_color=GRID, grid_lines="solid" if grid else "none", tick_style=style, **kwargs)


def themed_figure(marks: list[Any], axes: list[Any], *, fig_margin: dict[str, int], height: int,
                  max_width: str = "720px", **kwargs: Any) -> Any:
    """A bqplot Figure with the ``nbx-chart`` class, no toolbar, no animation, full width up to ``max_width``.

    Example:
        >>> import bqplot
        >>> f = themed_figure([], [], fig_margin={"top": 10, "bottom": 40, "left": 50, "right": 20}, height=200)
        >>> "nbx-chart" in f._dom_classes, f.layout.height
        (True, '200px')
    """
    import bqplot

    layout = ipywidgets.Layout(width="100%", max_width=max_width, height=f"{height}px", min_height=f"{height}px")
    figure = bqplot.Figure(marks=marks, axes=axes, fig_margin=dict(fig_margin), animation_duration=0,
                           display_toolbar=False, layout=layout, **kwargs)
    figure.add_class("nbx-chart")
    return figure


def show_in(box: Any, widget: Any, shown: bool) -> None:
    """Put ``widget`` back into ``box.children`` at its place, or take it out.

    The one way to hide a bqplot figure: with ``display: none`` a figure is still laid out when
    its tab or box opens, at 0 x 0, and its margins make negative sizes (bqplot's console errors).
    The first call remembers the box's children order.

    Example:
        >>> a, b, c = ipywidgets.Label("a"), ipywidgets.Label("b"), ipywidgets.Label("c")
        >>> box = ipywidgets.VBox([a, b, c])
        >>> show_in(box, b, False); [w.value for w in box.children]
        ['a', 'c']
        >>> show_in(box, b, True); [w.value for w in box.children]
        ['a', 'b', 'c']
    """
    order = getattr(box, "_nbx_order", None)
    if order is None or any(w not in order for w in box.children):
        order = tuple(box.children) if widget in box.children else (*box.children, widget)
        box._nbx_order = order
    kids = [w for w in order if (w in box.children and w is not widget) or (w is widget and shown)]
    if tuple(kids) != tuple(box.children):
        box.children = kids


def chart_title(text: str = "") -> ipywidgets.Label:
    """A chart heading as a Label (text only, never clipped by the plot area; hidden when empty).

    Example:
        >>> chart_title("mean |shap|").value
        'mean |shap|'
    """
    label = ipywidgets.Label(text, layout=ipywidgets.Layout(display="flex" if text else "none", max_width="720px"))
    label.add_class("nbx-chart-title")
    label.style.font_weight = "bold"
    return label


class HBarChart:
    """Horizontal bars (names on the left, first name at the top) in a themed bqplot Figure.

    ``zero_based``: the value axis starts at 0 (magnitudes), else it is symmetric around 0
    (signed values). The value axis ends on round ticks; the figure never gets narrower than
    its name margin plus ``MIN_PLOT_PX``.

    Example:
        >>> c = HBarChart("value")
        >>> c.set(["a", "b"], np.array([0.3, 0.93]))
        >>> c.value_scale.max, c.value_axis.tick_values.tolist()
        (1.0, [0.0, 0.25, 0.5, 0.75, 1.0])
    """

    def __init__(self, value_label: str, *, zero_based: bool = True, max_ticks: int = 5) -> None:
        import bqplot

        self.names_scale = bqplot.OrdinalScale(reverse=True)
        self.value_scale = bqplot.LinearScale(min=0.0, max=1.0)
        self.zero_based, self.max_ticks = zero_based, int(max_ticks)
        self.tooltip = bqplot.Tooltip(fields=["x", "y"], labels=["", value_label], formats=["", ".4g"])
        self.tooltip.add_class("nbx-chart-tooltip")
        self.bars = bqplot.Bars(x=[], y=[], orientation="horizontal", colors=[BAR_COLOR], padding=0.25,
                                stroke=BACKGROUND, tooltip=self.tooltip,
                                scales={"x": self.names_scale, "y": self.value_scale})
        self.names_axis = themed_axis(self.names_scale, side="left", grid=False, primary_ticks=True)
        self.value_axis = themed_axis(self.value_scale, label=value_label)
        self.figure = themed_figure([self.bars], [self.names_axis, self.value_axis], padding_y=0.0, height=100,
                                    fig_margin={"top": 10, "bottom": 45, "left": 60, "right": 28})

    def set(self, names: Sequence[str], values: np.ndarray, colors: Sequence[str] | None = None) -> None:
        """Draw one bar per name (non-finite values as 0), coloured ``colors`` (one, or one per bar)."""
        labels = tick_labels(names)
        longest = max((len(s) for s in labels), default=4)
        height = 70 + ROW_PX * max(1, len(labels))
        vals = np.asarray(values, dtype=np.float64)
        finite = vals[np.isfinite(vals)]
        if self.zero_based:
            lo, hi, ticks = nice_domain(0.0, float(finite.max(initial=0.0)) or 1.0, self.max_ticks)
        else:
            span = float(np.max(np.abs(finite))) if finite.size else 1.0
            _lo, hi, ticks = nice_domain(0.0, span or 1.0, (self.max_ticks + 1) // 2)
            lo, ticks = -hi, np.concatenate([-ticks[:0:-1], ticks])
        margin = {"top": 10, "bottom": 45, "left": min(300, 16 + 7 * longest), "right": 28}
        with self.figure.hold_sync(), self.bars.hold_sync():
            self.figure.fig_margin = margin
            self.figure.layout.height = f"{height}px"
            self.figure.layout.min_height = f"{height}px"
            self.figure.layout.min_width = f"{margin['left'] + margin['right'] + MIN_PLOT_PX}px"
            self.value_scale.min, self.value_scale.max = lo, hi
            set_ticks(self.value_axis, ticks)
            self.bars.x = labels
            self.bars.y = np.where(np.isfinite(vals), vals, 0.0)
            self.bars.colors = list(colors) if colors is not None else [BAR_COLOR]
