"""The scrubber of :class:`TrustView`: a slider along a curve that shows the input at that fraction removed.

Pick the curve (deletion or insertion) and the method whose order removes the units; the slider
moves over the curve's points. The input is shown as the model saw it there: an image with its
removed patches replaced (a :class:`~nbexplain.widgets.SamplePanel`, so the picture travels
through the codec), a table row with the replaced features' values (the panel's row view; those
features are marked "replaced"), or a text whose dropped tokens are struck through (a
:class:`~nbexplain.widgets.views.text_tokens.TextTokens` coloured by the method's attributions); and
the model's output there, which a marker on the curve shows too. The input is recomputed by
the curves (:meth:`~nbexplain.metrics.FaithfulnessCurves.masked_input`), never stored.

Example:
    >>> import numpy as np
    >>> display_range(np.array([[[0.2, 0.9]]])), display_range(np.array([[[-2.0, 3.0]]]))
    ((0.0, 1.0), (-2.0, 3.0))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets
import numpy as np

from ...models import to_numpy
from .._base import ClosesTree, replace_children
from .._format import format_number, format_probability
from .._traits import to_display_image
from .curves import UNITS

__all__ = ["Scrubber", "display_image", "display_range", "token_values"]

REPLACED = " (replaced)"


def display_range(image: np.ndarray) -> tuple[float, float]:
    """The value range a sample's pictures are drawn in: [0, 1] or [0, 255] when the image lies in it, else its own
    min and max (standardised inputs), so every fraction of one sample is drawn on the same scale."""
    finite = image[np.isfinite(image)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    if lo >= 0.0 and hi <= 255.0:
        return 0.0, 255.0
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def display_image(image: Any, lo: float, hi: float) -> np.ndarray:
    """A ``(C, H, W)`` model input as a uint8 picture in the range ``[lo, hi]`` (other channel counts averaged).

    Example:
        >>> display_image(np.array([[[0.0, 0.5, 1.0]]]), 0.0, 1.0).tolist()
        [[0, 128, 255]]
    """
    a = np.asarray(to_numpy(image), dtype=np.float64)
    if a.ndim == 3:  # channels first, as the model takes it: H x W (one channel or their mean) or H x W x 3
        a = np.moveaxis(a, 0, -1) if a.shape[0] == 3 else a.mean(axis=0)
    return to_display_image(np.clip((a - lo) / (hi - lo), 0.0, 1.0))


def token_values(explanation: Any, i: int) -> np.ndarray:
    """Sample ``i``'s attributions, flat: from an Explanation (its explained output), a list of them, or an array.

    Example:
        >>> token_values([np.array([0.5, -1.0])], 0).tolist()
        [0.5, -1.0]
    """
    from ...explanation import Explanation
    from .._explanation import pick_output

    e = explanation
    one = e if isinstance(e, Explanation) and e.is_single else e[i]
    values = pick_output(one) if isinstance(one, Explanation) else to_numpy(one)
    return np.asarray(values, dtype=np.float64).reshape(-1)


class Scrubber(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """The slider, the curve and method pickers, the input at the slider's fraction, and the output there.

    ``.slider`` (``FloatSlider`` over [0, 1], one step per curve point), ``.curve``
    (``ToggleButtons``: deletion, insertion), ``.method`` (``Dropdown``), ``.view`` (the input:
    ``SamplePanel`` or ``TextTokens``), ``.readout`` (``Label``: the output there). ``on_move(curve,
    method, fraction)`` is called after each redraw (the view puts the marker on its chart).
    CSS class ``nbx-trust-scrubber``.
    """

    def __init__(self, on_move: Callable[[str, str, float], None] | None = None) -> None:
        self.report: Any = None
        self.sample = 0
        self.mean = False
        self.y_label = "model output"
        self.feature_names: Any = None
        self.on_move = on_move
        self._quiet = False
        self._range = (0.0, 1.0)
        self.curve = ipywidgets.ToggleButtons(options=["deletion", "insertion"], value="deletion",
                                              style={"button_width": "88px"})
        self.method = ipywidgets.Dropdown(options=[], description="order of", layout=ipywidgets.Layout(width="260px"))
        self.slider = ipywidgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.02, description="removed",
                                             readout_format=".0%", continuous_update=True,
                                             layout=ipywidgets.Layout(width="320px"))
        self.slider.add_class("nbx-trust-slider")
        self.readout = ipywidgets.Label("")
        self.readout.add_class("nbx-trust-readout")
        self.view_box = ipywidgets.Box()
        self.view_box.add_class("nbx-trust-input")
        self.view: Any = None
        controls = ipywidgets.VBox([self.curve, self.method, self.slider, self.readout],
                                   layout=ipywidgets.Layout(flex="0 1 380px", min_width="300px"))
        controls.add_class("nbx-trust-scrub-controls")
        for w in (self.curve, self.method, self.slider):
            w.observe(self._changed, names="value")
        super().__init__([ipywidgets.HBox([controls, self.view_box],
                                          layout=ipywidgets.Layout(flex_flow="row wrap", align_items="flex-start"))])
        self.add_class("nbx-trust-scrubber")

    # -- what it shows ----------------------------------------------------------------------------
    def show(self, report: Any, sample: int, *, mean: bool, y_label: str, feature_names: Any = None) -> None:
        """Scrub ``report``'s curves of sample ``sample`` (position in the report's samples); ``feature_names``
        name a table's rows when the curves know none."""
        self.feature_names = feature_names
        curves = {k: report.curves(k) for k in ("deletion", "insertion") if report.curves(k)}
        self.report, self.sample, self.mean, self.y_label = report, int(sample), bool(mean), y_label
        self.layout.display = "flex" if curves else "none"
        if not curves:
            return
        if report.kind == "image":
            self._range = display_range(np.asarray(to_numpy(report.inputs[self.sample]), dtype=np.float64))
        self._quiet = True
        try:
            self.curve.options = list(curves)
            if self.curve.value not in curves:
                self.curve.value = next(iter(curves))
            methods = list(curves[self.curve.value])
            if list(self.method.options) != methods:
                self.method.options = methods
            if self.method.value not in methods:
                self.method.value = methods[0]
            c = curves[self.curve.value][self.method.value]
            self.slider.step = 1.0 / c.steps
        finally:
            self._quiet = False
        self._draw()

    def _changed(self, change: Any) -> None:
        if self._quiet or self.report is None:
            return
        if change["owner"] is self.curve:
            self.slider.description = "removed" if change["new"] == "deletion" else "inserted"
        self._draw()

    def current(self) -> Any:
        """The curves being scrubbed (a :class:`~nbexplain.metrics.FaithfulnessCurves`), or None."""
        if self.report is None or self.method.value is None:
            return None
        return self.report.curves(self.curve.value).get(self.method.value)

    def _draw(self) -> None:
        c = self.current()
        if c is None:
            return
        f = float(self.slider.value)
        i, kind = self.sample, self.report.kind
        removed = c.removed(i, f)
        value = c.output_at(i, f)
        units = UNITS[kind]
        verb = "removed" if c.kind == "deletion" else "inserted"
        k = int(removed.sum()) if c.kind == "deletion" else int((~removed).sum())
        number = format_probability(value) if self.y_label.startswith("P(") else format_number(value)
        said = f"{number[0]} {number[1:]}" if number[0] in "<>" else f"= {number}"
        text = f"{k} of {removed.size} {units} {verb} in the order of {self.method.value}: {self.y_label} {said}"
        if self.mean:
            text += f" (sample {int(self.report.samples[i])}; the chart shows the mean)"
        if kind == "image":
            self._show_image(display_image(c.masked_input(i, f), *self._range))
        elif kind == "table":
            self._show_row(c, i, f, removed)
        else:
            self._show_text(c, i, removed, value)
        if self.readout.value != text:
            self.readout.value = text
        if self.on_move is not None:
            self.on_move(c.kind, self.method.value, f)

    def _set_view(self, make: Callable[[], Any], kind: str) -> Any:
        if self.view is None or getattr(self.view, "_trust_kind", None) != kind:
            self.view = make()
            self.view._trust_kind = kind
            replace_children(self.view_box, [self.view])
        return self.view

    def _caption(self) -> tuple[int, int]:
        n = int(self.report.settings.get("n_inputs", self.report.n_samples))
        return int(self.report.samples[self.sample]), max(n, 1)

    def _show_image(self, picture: np.ndarray) -> None:
        from ..views.sample_panel import SamplePanel

        index, n = self._caption()
        view = self._set_view(lambda: SamplePanel(kind="image", image=picture, index=index, n_samples=n), "image")
        view.update(image=picture, n_samples=n, index=index)

    def _show_row(self, c: Any, i: int, f: float, removed: np.ndarray) -> None:
        from ..views.sample_panel import SamplePanel

        row = np.asarray(c.masked_input(i, f), dtype=np.float64)
        names = c.unit_labels(i) or self.feature_names
        if names is None or len(names) != row.size:
            names = [f"feature {j}" for j in range(row.size)]
        names = [str(nm) + (REPLACED if gone else "") for nm, gone in zip(names, removed, strict=True)]
        index, n = self._caption()
        view = self._set_view(lambda: SamplePanel(kind="table", row_names=names, row_values=row, index=index,
                                                  n_samples=n), "table")
        view.update(row_values=row, row_names=names, n_samples=n, index=index,
                    note="replaced features show the mean of the background values they take")

    def _show_text(self, c: Any, i: int, removed: np.ndarray, value: float) -> None:
        from ..views.text_tokens import TextTokens

        tokens = c.unit_labels(i) or []
        values = token_values(self.report.explanations[self.method.value], i)
        if values.size != len(tokens):
            values = np.zeros(len(tokens))
        dropped = removed.astype(np.float64)
        view = self._set_view(lambda: TextTokens(tokens, values, dropped=dropped), "text")
        view.update(tokens=tokens, values=values, dropped=dropped, prediction=float(value),
                    prediction_label=self.y_label)
