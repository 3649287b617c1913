"""The sanity-check strip of :class:`TrustView`: each method's maps as the layers are randomised, and the verdict.

One themed bqplot chart: per method, the mean Spearman similarity of its map to the trained
model's after each cascading step (1 for the trained model itself), with the threshold a method
must fall below (dashed). Per method, a row of small :class:`~nbexplain.widgets.Heatmap` views
(at most ``max_maps`` steps, evenly chosen: the trained model first, every layer randomised
last; each map scaled to its own maximum) and the verdict in words (passed or failed, why).

Example:
    >>> steps_shown(3, 6), steps_shown(21, 6)
    ([0, 1, 2], [0, 4, 8, 12, 16, 20])
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from .._base import ClosesTree, close_tree, replace_children
from .._format import format_number
from ..charts import (
    MUTED_COLOR,
    chart_title,
    nice_domain,
    set_ticks,
    themed_axis,
    themed_figure,
    tick_labels,
)
from .curves import _legend_entry, method_color

__all__ = ["SanityStrip", "step_names", "steps_shown"]

MAX_MAPS = 6
MAP_PX = 84
_LABEL_CHARS = 14


def steps_shown(n_steps: int, most: int = MAX_MAPS) -> list[int]:
    """Up to ``most`` step indices out of ``n_steps`` (the first and the last always), evenly spaced."""
    if n_steps <= most:
        return list(range(n_steps))
    return sorted({round(float(v)) for v in np.linspace(0, n_steps - 1, most)})


def _short(name: str) -> str:
    return name if len(name) <= _LABEL_CHARS else name[: _LABEL_CHARS - 1] + "…"


def step_names(result: Any) -> list[str]:
    """A label per step of a SanityResult: its ``step_labels``, with the layer's type where the name is only a
    number (``nn.Sequential``'s ``"2"`` reads ``"Linear 2"``).

    Example:
        >>> from nbexplain.metrics.sanity import SanityResult
        >>> step_names(SanityResult(["2", "conv"], ["Linear", "Conv2d"], ["m"], ("spearman",), cascading=True))
        ['trained', 'Linear 2', '+ conv']
    """
    names = ["trained"]
    for i, (name, kind) in enumerate(zip(result.layers, result.layer_types, strict=True)):
        label = f"{kind} {name}" if name.replace(".", "").isdigit() else name
        names.append(label if i == 0 or not result.cascading else f"+ {label}")
    return names


class SanityStrip(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Similarity over the randomised layers (``.figure``), per method its maps and verdict (``.rows``).

    ``.verdict_labels``: ``{method: Label}``; ``.maps``: ``{method: [Heatmap, ...]}``. CSS class
    ``nbx-trust-sanity``; a verdict label has ``nbx-trust-pass`` or ``nbx-trust-fail``.
    """

    def __init__(self, *, max_maps: int = MAX_MAPS) -> None:
        import bqplot

        self.max_maps = int(max_maps)
        self.lines: list[Any] = []
        self.verdict_labels: dict[str, ipywidgets.Label] = {}
        self.maps: dict[str, list[Any]] = {}
        self.x_scale = bqplot.LinearScale(min=0.0, max=1.0)
        self.y_scale = bqplot.LinearScale(min=0.0, max=1.0)
        self._scales = {"x": self.x_scale, "y": self.y_scale}
        self.threshold = bqplot.Lines(x=np.array([0.0, 1.0]), y=np.array([0.5, 0.5]), scales=self._scales,
                                      colors=[MUTED_COLOR], line_style="dashed", stroke_width=1.5)
        self.x_axis = themed_axis(self.x_scale, label="layers randomised, from the output down", label_offset="40px")
        self.y_axis = themed_axis(self.y_scale, side="left", label="similarity to the trained map", label_offset="46px")
        self.figure = themed_figure([self.threshold], [self.x_axis, self.y_axis], height=300, max_width="640px",
                                    fig_margin={"top": 12, "bottom": 84, "left": 64, "right": 40})
        self.figure.layout.min_width = "340px"
        self.figure.layout.width = "auto"
        self.title = chart_title("Does the map change when the model's weights are random?")
        self.legend = ipywidgets.Box(layout=ipywidgets.Layout(flex_flow="row wrap", max_width="640px"))
        self.legend.add_class("nbx-trust-legend")
        self.rows = ipywidgets.VBox([])
        self.rows.add_class("nbx-trust-sanity-rows")
        self.skipped = ipywidgets.VBox([])
        super().__init__([self.title, self.figure, self.legend, self.rows, self.skipped])
        self.add_class("nbx-trust-sanity")

    def show(self, sanity: dict[str, Any], *, sample: int = 0, sample_name: str = "", skipped: dict[str, str] | None = None,
             colors: dict[str, str] | None = None) -> None:
        """Draw ``{method: SanityResult}``; the maps of sample ``sample`` (position in the report) where kept."""
        import bqplot


        skipped = skipped or {}
        colors = colors or {m: method_color(i) for i, m in enumerate(sanity)}
        parts = [self.title, self.figure, self.legend] if sanity else []  # a hidden figure would draw at size 0
        if list(self.children) != [*parts, self.rows, self.skipped]:
            self.children = [*parts, self.rows, self.skipped]
        first = next(iter(sanity.values()), None)
        labels = step_names(first) if first is not None else ["trained"]
        steps = np.arange(len(labels), dtype=np.float64)
        curves = {m: np.concatenate([[1.0], r.similarity[m]["spearman"]]) for m, r in sanity.items()}
        threshold = float(first.threshold) if first is not None else 0.5
        values = np.concatenate([*curves.values(), [threshold, 1.0]])
        lo, hi, ticks = nice_domain(min(0.0, float(np.nanmin(values))), 1.0, 6)
        old = list(self.lines)
        self.lines = [bqplot.Lines(x=steps[: len(y)], y=y, scales=self._scales, colors=[colors.get(m, MUTED_COLOR)],
                                   stroke_width=2.5, marker="circle", marker_size=24, labels=[m])
                      for m, y in curves.items()]
        shown = steps_shown(len(labels), 8)
        with self.figure.hold_sync():
            self.x_scale.min, self.x_scale.max = 0.0, float(max(1, len(labels) - 1))
            with self.y_scale.hold_sync():
                self.y_scale.min, self.y_scale.max = lo, hi
            set_ticks(self.y_axis, ticks)
            self.x_axis.num_ticks = None
            self.x_axis.tick_format = ".0f"
            self.x_axis.tick_values = np.asarray(shown, dtype=np.float64)
            names = tick_labels([_short(labels[k]) for k in shown])
            rotate = len(shown) > 4  # many names: slanted, so neighbours do not collide
            self.x_axis.tick_rotate = -30 if rotate else 0
            self.x_axis.tick_style = {"font-size": "12px", "text-anchor": "end" if rotate else "middle"}
            self.x_axis.label_offset = "62px" if rotate else "38px"
            self.figure.fig_margin = {"top": 12, "bottom": 84 if rotate else 56, "left": 64, "right": 40}
            self.x_axis.tick_labels = {f"{float(k):g}": name for k, name in zip(shown, names, strict=True)}
            with self.threshold.hold_sync():
                self.threshold.x = np.array([0.0, float(max(1, len(labels) - 1))])
                self.threshold.y = np.array([threshold, threshold])
            self.figure.marks = [self.threshold, *self.lines]
        close_tree(*old)
        entries = [_legend_entry(colors.get(m, MUTED_COLOR), m) for m in curves]
        entries.append(_legend_entry(MUTED_COLOR, f"fails at {format_number(threshold)} or above after half the "
                                                  "layers", dashed=True))
        replace_children(self.legend, entries)
        self._rows(sanity, sample, sample_name, colors)
        replace_children(self.skipped, [ipywidgets.Label(f"{m}: not checked, {why}") for m, why in skipped.items()])
        for w in self.skipped.children:
            w.add_class("nbx-trust-skipped")

    def _rows(self, sanity: dict[str, Any], sample: int, sample_name: str, colors: dict[str, str]) -> None:
        from ..views.heatmap import Heatmap

        rows: list[Any] = []
        self.verdict_labels, self.maps = {}, {}
        for m, r in sanity.items():
            v = r.verdicts[m]
            head = ipywidgets.Label(f"{m}: {v.label}")
            head.add_class("nbx-trust-verdict")
            head.add_class("nbx-trust-pass" if v.passed else "nbx-trust-fail")
            head.style.font_weight = "bold"
            why = ipywidgets.Label(v.explanation)
            why.add_class("nbx-trust-why")
            maps = r.maps[m]
            j = sample if sample < maps.shape[1] else 0
            steps = step_names(r)
            heatmaps = [Heatmap(maps[k, j], width=MAP_PX, show_controls=False, title=_short(steps[k]),
                                value_label=f"|{m}|", precision="uint8", opacity=1.0)
                        for k in steps_shown(maps.shape[0], self.max_maps)]
            strip = ipywidgets.HBox(heatmaps, layout=ipywidgets.Layout(flex_flow="row wrap"))
            strip.add_class("nbx-trust-maps")
            which = f"maps of sample {sample_name}" if j == sample else f"maps of the first sample ({sample_name} not kept)"
            note = ipywidgets.Label(f"{which}, each scaled to its own maximum; {len(r.layers)} layers in all")
            note.add_class("nbx-trust-skipped")
            self.verdict_labels[m], self.maps[m] = head, heatmaps
            row = ipywidgets.VBox([head, why, strip, note])
            row.add_class("nbx-trust-sanity-row")
            rows.append(row)
        replace_children(self.rows, rows)
