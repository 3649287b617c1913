"""The Gradients and Activation function tabs of the layer inspector.

Example:
    >>> import torch
    >>> from nbexplain.widgets.anatomy.view import LayerInspector
    >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(256, 3))
    >>> inspector = LayerInspector(cnn, torch.rand(4, 1, 8, 8))    # inspects the convolution, "0"
    >>> inspector.tab(3).built, inspector.tab(4).built    # nothing computed before a tab is shown
    (False, False)
    >>> inspector.tabs.selected_index = 3   # builds and draws the Gradients tab
    >>> inspector.tab(3).built, inspector.computed[-2:]
    (True, [('gradients',), ('grad_hist', '0')])
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from ..charts import show_in
from .charts import HIGHLIGHT, BarChart, CurveChart
from .tab_base import _Tab, note_label, set_note

__all__ = ["EXPLODING", "VANISHING", "ActivationFnTab", "GradientsTab"]

#: Gradient norms below this are flagged as vanishing, above ``EXPLODING`` as exploding.
VANISHING = 1e-7
EXPLODING = 1e3
VANISHING_COLOR = "#9467bd"
EXPLODING_COLOR = "#d62728"
NORMAL_COLOR = "#4c78a8"


class GradientsTab(_Tab):
    """Per-layer gradient norms (log scale option, vanishing/exploding coloured) and a histogram."""

    css = "nbx-anatomy-gradients"

    def key_now(self) -> Any:
        return (self.insp.layer, self.log.value if self.built else False)

    def build(self) -> None:
        self.log = ipywidgets.Checkbox(value=True, description="log scale", indent=False,
                                       layout=ipywidgets.Layout(width="110px"))
        self.log.observe(lambda _c: self.insp._guard(self.show), names="value")
        self.summary = ipywidgets.Label("")
        self.summary.add_class("nbx-anatomy-grad-summary")
        self.flags = ipywidgets.Label("")
        self.flags.add_class("nbx-anatomy-grad-flags")
        self.norms = self._norms_chart(True)
        self.note = note_label()
        self.hist = BarChart("gradient value", "count", title="gradients of the layer", height=200, y_format=",d")
        self.box.children = [ipywidgets.HBox([self.log, self.summary], layout=ipywidgets.Layout(grid_gap="10px")),
                             self.flags, self.norms.figure, self.note, self.hist.figure]

    @staticmethod
    def _norms_chart(log: bool) -> BarChart:
        return BarChart("layer", "gradient norm", title="weight-gradient norm per layer", ordinal=True, height=280,
                        log=log)

    def report(self) -> Any:
        """The gradient report of the batch (computed once, cached)."""
        from ...anatomy import capture_gradients

        insp = self.insp
        return insp.cached(("gradients",), lambda: capture_gradients(insp.model, insp.x, insp.y, loss=insp.loss))

    def draw(self) -> None:
        insp = self.insp
        rep = self.report()
        layers = list(rep.layers)
        norms = np.asarray(rep.norms, dtype=np.float64).reshape(-1)
        colors = [EXPLODING_COLOR if v > EXPLODING else VANISHING_COLOR if v < VANISHING else NORMAL_COLOR
                  for v in norms]
        if insp.layer in layers:
            colors[layers.index(insp.layer)] = HIGHLIGHT
        self.norms.set_log(self.log.value)
        self.norms.set(layers, norms, colors)
        vanishing = [n for n, v in zip(layers, norms, strict=True) if v < VANISHING]
        exploding = [n for n, v in zip(layers, norms, strict=True) if v > EXPLODING]
        labels = "the labels given" if insp.y is not None else "the predicted labels"
        loss = insp.loss if isinstance(insp.loss, str) else getattr(insp.loss, "__name__", "custom")
        self.summary.value = f"{loss} loss {rep.loss:.4g} on {insp.n_samples} sample(s), {labels}"
        self.flags.value = (f"purple: vanishing (< {VANISHING:g}): {len(vanishing)}; red: exploding "
                            f"(> {EXPLODING:g}): {len(exploding)}; orange: this layer")
        if insp.layer in layers:
            counts, edges = insp.cached(("grad_hist", insp.layer), lambda: rep.histogram(insp.layer, bins=40))
            show_in(self.box, self.hist.figure, True)
            self.hist.set_histogram(counts, edges)
            set_note(self.note, "")
        else:
            show_in(self.box, self.hist.figure, False)
            set_note(self.note, f"{insp.layer} has no parameters: no gradient histogram")


class ActivationFnTab(_Tab):
    """The layer's activation function (or the next one after it) and its derivative."""

    css = "nbx-anatomy-activation-fn"

    def key_now(self) -> Any:
        return self.insp.layer

    def build(self) -> None:
        self.note = note_label()
        self.chart = CurveChart()
        self.box.children = [self.note, self.chart.figure]

    def draw(self) -> None:
        from ...anatomy import activation_curve, layer_activation

        insp = self.insp
        name, module = insp.layer, layer_activation(insp.model, insp.layer)
        note = ""
        if module is None:
            name, module = insp.next_activation(insp.layer)
            if module is None:
                set_note(self.note, f"no activation function at or after {insp.layer}")
                show_in(self.box, self.chart.figure, False)
                return
            note = f"{insp.layer} is not an activation; showing the next one after it, {name} ({type(module).__name__})"
        curve = insp.cached(("curve", name), lambda: activation_curve(module))
        set_note(self.note, note or f"{name}: {curve.name}")
        show_in(self.box, self.chart.figure, True)
        self.chart.set(curve.x, curve.y, curve.dy, curve.name)
