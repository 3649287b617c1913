"""The two bqplot charts of :class:`~nbexplain.widgets.LimeNeighbourhoodView`: the samples and the fit.

:class:`ProjectionChart` draws a table's perturbed samples on the first two principal components
of their interpretable rows (the "same bin as the instance" indicators LIME's surrogate sees),
each point sized by its kernel weight and coloured by the model's output, the instance marked.
:class:`FitChart` draws the surrogate's prediction against the model's output for every sample
(sized by weight, the diagonal where they agree) with the weighted R^2 in words. Both show at
most ``MAX_POINTS`` samples (the first ones drawn, which are a random subset: LIME's draws are
independent) and say so. Points are opaque (data colours keep 3:1 against the light and the dark
background), outlined in the background's colour so overlapping ones stay apart. Nothing is computed here beyond presentation: the numbers come from a
:class:`~nbexplain.explainers.teaching.lime_neighbourhood.Neighbourhood`.

Example:
    >>> import numpy as np
    >>> from nbexplain.explainers.teaching.lime_neighbourhood import NeighbourhoodSession, pca_2d
    >>> X = np.random.RandomState(0).randn(40, 3)
    >>> nb = NeighbourhoodSession.for_table(lambda A: np.c_[A[:, 0], -A[:, 0]], X[0], X, num_samples=50, n_seeds=1).run()
    >>> chart = ProjectionChart(); chart.show(nb, pca_2d(nb.interpretable), "output of class 0")
    >>> len(chart.points.x), chart.x_axis.label.startswith("PC 1")
    (49, True)
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from .._base import ClosesTree
from .._format import format_number
from ..charts import (
    BACKGROUND,
    BAR_COLOR,
    FG,
    FG2,
    HIGHLIGHT_COLOR,
    MUTED_COLOR,
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    chart_title,
    nice_domain,
    set_ticks,
    themed_axis,
    themed_figure,
)

__all__ = ["MAX_POINTS", "FitChart", "ProjectionChart", "fit_words"]

#: Samples drawn in a chart at most (SVG points; the fit uses all of them).
MAX_POINTS = 1000
_MAX_SIZE = 90  # px^2 of a point with kernel weight 1
_FLOOR = 0.05  # a weight of 0 still draws a dot of _FLOOR / (1 + _FLOOR) of the largest area (about 4 px^2)
_WIDTH = "430px"


def _note(text: str = "") -> ipywidgets.Label:
    label = ipywidgets.Label(text, layout=ipywidgets.Layout(max_width=_WIDTH))
    label.add_class("nbx-chart-note")
    return label


def _shown(nb: Any) -> np.ndarray:
    """The samples drawn as points: the first ``MAX_POINTS`` after the instance (row 0, marked apart)."""
    return np.arange(1, min(nb.num_samples, MAX_POINTS + 1))


def _tooltip(fields: list[str], labels: list[str]) -> Any:
    import bqplot

    tip = bqplot.Tooltip(fields=fields, labels=labels, formats=[".3g"] * len(fields))
    tip.add_class("nbx-chart-tooltip")
    return tip


def _card_layout() -> ipywidgets.Layout:
    """A chart's column in a ChartRow: grows from 360 px, never under 320 px, at most ``_WIDTH``."""
    return ipywidgets.Layout(flex="1 1 360px", min_width="320px", max_width=_WIDTH)


class ProjectionChart(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """A table's perturbed samples in 2-D (PCA of the interpretable rows): size = kernel weight, colour =
    the model's output, the instance a large diamond. Parts: ``.figure``, ``.points``, ``.instance``,
    ``.color_axis``, ``.note``. CSS class ``nbx-lime-projection``."""

    def __init__(self) -> None:
        import bqplot

        self.x_scale, self.y_scale = bqplot.LinearScale(), bqplot.LinearScale()
        self.size_scale = bqplot.LinearScale(min=-_FLOOR, max=1.0)
        self.color_scale = bqplot.ColorScale(colors=[NEGATIVE_COLOR, MUTED_COLOR, POSITIVE_COLOR], min=0.0, max=1.0)
        scales = {"x": self.x_scale, "y": self.y_scale}
        self.points = bqplot.Scatter(x=np.zeros(0), y=np.zeros(0), size=np.zeros(0), color=np.zeros(0),
                                     scales={**scales, "size": self.size_scale, "color": self.color_scale},
                                     default_size=_MAX_SIZE, stroke=BACKGROUND, stroke_width=0.6,
                                     tooltip=_tooltip(["color", "size"], ["model output", "kernel weight"]))
        self.instance = bqplot.Scatter(x=np.zeros(1), y=np.zeros(1), scales=scales, marker="diamond",
                                       colors=[HIGHLIGHT_COLOR], default_size=160, stroke=BACKGROUND, stroke_width=2)
        self.x_axis = themed_axis(self.x_scale, label="PC 1")
        self.y_axis = themed_axis(self.y_scale, side="left", label="PC 2", label_offset="40px")
        self.color_axis = bqplot.ColorAxis(scale=self.color_scale, side="right",
                                           label="model output", label_color=FG, color=FG2, label_offset="44px",
                                           tick_style={"font-size": "12px"})
        self.figure = themed_figure([self.points, self.instance], [self.x_axis, self.y_axis, self.color_axis],
                                    fig_margin={"top": 12, "bottom": 50, "left": 56, "right": 84}, height=320,
                                    max_width=_WIDTH)
        self.figure.layout.min_width = "320px"
        self.figure.layout.width = "auto"
        self.title = chart_title("The samples LIME drew around the instance")
        self.note = _note()
        super().__init__([self.title, self.figure, self.note], layout=_card_layout())
        self.add_class("nbx-lime-projection")

    def show(self, nb: Any, projection: Any, output_name: str) -> None:
        """Draw ``nb``'s samples at ``projection.points`` (recomputed only when the samples change)."""
        idx = _shown(nb)
        pts = projection.points
        lo_x, hi_x, tx = nice_domain(float(pts[:, 0].min()), float(pts[:, 0].max()), 6)
        lo_y, hi_y, ty = nice_domain(float(pts[:, 1].min()), float(pts[:, 1].max()), 6)
        out = nb.y[np.r_[0, idx]]
        lo_c, hi_c, tc = nice_domain(float(out.min()), float(out.max()), 5)
        if output_name.startswith("P("):
            lo_c, hi_c, tc = 0.0, 1.0, np.linspace(0.0, 1.0, 5)
        share = projection.explained
        with self.figure.hold_sync():
            with self.x_scale.hold_sync(), self.y_scale.hold_sync(), self.color_scale.hold_sync():
                self.x_scale.min, self.x_scale.max = lo_x, hi_x
                self.y_scale.min, self.y_scale.max = lo_y, hi_y
                self.color_scale.min, self.color_scale.max, self.color_scale.mid = lo_c, hi_c, (lo_c + hi_c) / 2
            set_ticks(self.x_axis, tx)
            set_ticks(self.y_axis, ty)
            set_ticks(self.color_axis, tc)
            self.x_axis.label = f"PC 1 ({share[0]:.0%} of the variance)"
            self.y_axis.label = f"PC 2 ({share[1]:.0%})"
            self.color_axis.label = output_name
            self.points.tooltip.labels = [output_name, "kernel weight"]
            with self.points.hold_sync():
                self.points.x, self.points.y = pts[idx, 0], pts[idx, 1]
                self.points.color = nb.y[idx]
                self.points.size = nb.weights[idx]
            with self.instance.hold_sync():
                self.instance.x, self.instance.y = pts[:1, 0], pts[:1, 1]
        self._say(nb, projection)

    def reweight(self, nb: Any, projection: Any) -> None:
        """Only the kernel weights changed (another kernel width): resize the points."""
        self.points.size = nb.weights[_shown(nb)]
        self._say(nb, projection)

    def _say(self, nb: Any, projection: Any) -> None:
        shown = len(_shown(nb))
        subset = f"the first {shown:,} of {nb.num_samples - 1:,} samples" if shown < nb.num_samples - 1 else (
            f"all {shown:,} samples")
        self.note.value = (f"{projection.method}: {subset} (diamond: the instance). Point area = kernel weight "
                           f"(kernel width {format_number(nb.kernel_width)}; the smallest dots: weight about 0; the "
                           f"fit rests on about {nb.effective_samples:,.0f} effective samples); colour = the model's "
                           "output.")


def fit_words(nb: Any, output_name: str) -> str:
    """The fit in words: the weighted R^2 and what it means.

    Example:
        >>> from types import SimpleNamespace
        >>> fit_words(SimpleNamespace(score=0.8312, num_samples=500), "P(yes)")
        'weighted R² = 0.831: the surrogate reproduces 83% of the kernel-weighted variation of P(yes) over the 500 samples.'
        >>> "reproduces 99.5%" in fit_words(SimpleNamespace(score=0.9951, num_samples=500), "P(yes)")
        True
    """
    r2 = float(nb.score)
    share = f"{max(r2, 0.0):.0%}" if r2 < 0.99 else f"{r2:.1%}"  # 0.995 reads 99.5%, not 100%
    return (f"weighted R² = {r2:.3f}: the surrogate reproduces {share} of the kernel-weighted variation of "
            f"{output_name} over the {nb.num_samples:,} samples.")


class FitChart(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """The surrogate's prediction against the model's output per sample (size = kernel weight), the
    diagonal where they agree, the instance marked, the weighted R^2 in words (``.words``). Parts:
    ``.figure``, ``.points``, ``.instance``, ``.diagonal``. CSS class ``nbx-lime-fit``.

    Example:
        >>> import numpy as np
        >>> from nbexplain.explainers.teaching.lime_neighbourhood import NeighbourhoodSession
        >>> X = np.random.RandomState(0).randn(40, 2)
        >>> nb = NeighbourhoodSession.for_table(lambda A: np.c_[A[:, 0], -A[:, 0]], X[0], X, num_samples=30,
        ...                                     n_seeds=1).run()
        >>> chart = FitChart(); chart.show(nb, "output of class 0")
        >>> len(chart.points.x), chart.r2_text.startswith("weighted R² = ")
        (29, True)
        >>> chart.close()
    """

    def __init__(self) -> None:
        import bqplot

        self.x_scale, self.y_scale = bqplot.LinearScale(), bqplot.LinearScale()
        self.size_scale = bqplot.LinearScale(min=-_FLOOR, max=1.0)
        scales = {"x": self.x_scale, "y": self.y_scale}
        self.diagonal = bqplot.Lines(x=np.zeros(2), y=np.zeros(2), scales=scales, colors=[MUTED_COLOR],
                                     line_style="dashed", stroke_width=1.5)
        self.points = bqplot.Scatter(x=np.zeros(0), y=np.zeros(0), size=np.zeros(0), colors=[BAR_COLOR],
                                     scales={**scales, "size": self.size_scale}, default_size=_MAX_SIZE,
                                     stroke=BACKGROUND, stroke_width=0.6,
                                     tooltip=_tooltip(["x", "y", "size"], ["model", "surrogate", "kernel weight"]))
        self.instance = bqplot.Scatter(x=np.zeros(1), y=np.zeros(1), scales=scales, marker="diamond",
                                       colors=[HIGHLIGHT_COLOR], default_size=160, stroke=BACKGROUND, stroke_width=2)
        self.x_axis = themed_axis(self.x_scale, label="model output")
        self.y_axis = themed_axis(self.y_scale, side="left", label="surrogate's prediction", label_offset="40px")
        self.figure = themed_figure([self.diagonal, self.points, self.instance], [self.x_axis, self.y_axis],
                                    fig_margin={"top": 12, "bottom": 50, "left": 56, "right": 20}, height=320,
                                    max_width=_WIDTH)
        self.figure.layout.min_width = "320px"
        self.figure.layout.width = "auto"
        self.title = chart_title("The surrogate against the model")
        self.words = _note()
        self.words.add_class("nbx-lime-r2")
        super().__init__([self.title, self.figure, self.words], layout=_card_layout())
        self.add_class("nbx-lime-fit")

    def show(self, nb: Any, output_name: str) -> None:
        """Draw ``nb``'s fit (every call: the surrogate's predictions move with each refit)."""
        idx = _shown(nb)
        both = np.concatenate([nb.y, nb.surrogate])
        both = both[np.isfinite(both)]
        lo, hi, ticks = nice_domain(float(both.min(initial=0.0)), float(both.max(initial=1.0)), 6)
        with self.figure.hold_sync():
            with self.x_scale.hold_sync(), self.y_scale.hold_sync():
                self.x_scale.min, self.x_scale.max = lo, hi
                self.y_scale.min, self.y_scale.max = lo, hi
            set_ticks(self.x_axis, ticks)
            set_ticks(self.y_axis, ticks)
            self.x_axis.label = f"model: {output_name}"
            self.y_axis.label = "surrogate's prediction"
            self.points.tooltip.labels = [output_name, "surrogate", "kernel weight"]
            with self.diagonal.hold_sync():
                self.diagonal.x = np.array([lo, hi])
                self.diagonal.y = np.array([lo, hi])
            with self.points.hold_sync():
                self.points.x, self.points.y = nb.y[idx], nb.surrogate[idx]
                self.points.size = nb.weights[idx]
            with self.instance.hold_sync():
                self.instance.x, self.instance.y = nb.y[:1], nb.surrogate[:1]
        self.words.value = (fit_words(nb, output_name) + f" At the instance (diamond): model "
                            f"{format_number(nb.y[0])}, surrogate {format_number(nb.surrogate[0])}. On the dashed "
                            "line they agree.")

    @property
    def r2_text(self) -> str:
        """The R^2 sentence shown under the chart."""
        return str(self.words.value)

