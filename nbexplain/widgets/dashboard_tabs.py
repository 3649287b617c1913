"""The Dashboard's other tabs: global views, errors and bias, the surrogate (a part of :class:`Dashboard`).

Each tab computes on the worker the first time it is opened (or on
:meth:`Dashboard.compute_global`). The Surrogate tab exists only for tables: a linear model of
images or texts would only say "needs a table", so that tab is not offered.

Example:
    >>> dash.compute_global(); dash.wait()                 # doctest: +SKIP
    >>> [dash.tabs.get_title(i) for i in range(len(dash.tabs.children))]   # doctest: +SKIP
    ['Explore', 'Global', 'Errors & bias', 'Surrogate']
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from ..tasks import Cancelled
from ._base import error_line, replace_children
from .chart_layout import ChartRow, LazyTab

__all__ = ["TabsMixin", "tab_names"]


def tab_names(kind: str) -> tuple[str, ...]:
    """The tabs of a Dashboard on ``kind`` data (no Surrogate tab unless it is a table).

    Example:
        >>> tab_names("table"), tab_names("image")
        (('Explore', 'Global', 'Errors & bias', 'Surrogate'), ('Explore', 'Global', 'Errors & bias'))
    """
    base = ("Explore", "Global", "Errors & bias")
    return (*base, "Surrogate") if kind == "table" else base


class TabsMixin:
    """Global, errors/bias and surrogate tabs; mixed into :class:`Dashboard`."""

    session: Any
    runner: Any
    index: int
    global_samples: int
    _global_started: set[str]
    _edited_input: Any

    def _build_tabs(self) -> None:
        s = self.session
        self.global_box = ipywidgets.VBox([ipywidgets.Label("Open this tab to compute the global views.")])
        self.errors_box = ipywidgets.VBox([])
        self.surrogate_box: ipywidgets.VBox | None = None
        self.confusion = None
        if s.y is not None:
            from .confusion_matrix import ConfusionMatrix

            pred = s.predicted
            ok = pred >= 0
            k = s.n_classes
            matrix = np.zeros((k, k), dtype=np.int64)
            np.add.at(matrix, (s.y[ok].astype(np.int64), pred[ok]), 1)
            self.confusion = ConfusionMatrix(matrix, class_names=s.class_names, title="confusion matrix")
            self.confusion.on_event("select", self._on_cell)
            self.errors_box.children = [self.confusion]
        else:
            self.errors_box.children = [ipywidgets.Label("Pass y (true labels) to see errors and bias.")]
        children = [self.explore, self.global_box, self.errors_box]  # type: ignore[attr-defined]
        if s.kind == "table":
            self.surrogate_box = ipywidgets.VBox([ipywidgets.Label("Open this tab to fit the surrogate.")])
            children.append(self.surrogate_box)
        self.tabs = LazyTab(children=children)  # a closed tab's bqplot charts wait for its first open
        for i, name in enumerate(tab_names(s.kind)):
            self.tabs.set_title(i, name)
        self.tabs.observe(self._on_tab, names=["selected_index"])

    def _on_tab(self, change: Any) -> None:
        i = int(change["new"] or 0)
        box = self.tabs.pages[i] if 0 <= i < len(self.tabs.pages) else None
        if box is self.global_box:
            self._start_global()
        elif box is self.errors_box:
            self._start_errors()
        elif box is not None and box is self.surrogate_box:
            self._start_surrogate()

    # -- global ---------------------------------------------------------------------------------
    def _start_global(self) -> None:
        if "global" in self._global_started:
            return
        self._global_started.add("global")
        s = self.session
        method = s.methods[0]
        replace_children(self.global_box, [ipywidgets.Label(f"computing {method} on up to {self.global_samples} samples...")])

        def compute(ctl: Any) -> Any:
            try:
                if s.kind == "text":
                    return s.token_importance(method, self.global_samples, ctl)
                return s.global_attributions(method, self.global_samples, ctl)
            except Cancelled:
                self._global_cancelled()
                raise

        done = self._show_token_importance if s.kind == "text" else self._show_global
        self.runner.submit(compute, label=f"global {method}", on_done=done, on_error=self._global_failed)

    def _global_cancelled(self) -> None:
        self._global_started.discard("global")
        again = ipywidgets.Button(description="compute again")
        again.add_class("nbx-compute-again")
        again.on_click(lambda _b: self._start_global())
        replace_children(self.global_box, [ipywidgets.Label("cancelled; the global views were not computed."), again])

    def _global_failed(self, exc: BaseException) -> None:
        self._global_started.discard("global")
        retry = ipywidgets.Button(description="compute again")
        retry.on_click(lambda _b: self._start_global())
        replace_children(self.global_box, [ipywidgets.Label(f"the global views failed: {error_line(exc)}"), retry])

    def _show_global(self, result: tuple[np.ndarray, np.ndarray]) -> None:
        idx, values = result
        s = self.session
        parts: list[Any] = []
        if s.kind == "table":
            from .beeswarm import Beeswarm
            from .global_views import ImportanceBars, PDPView

            self.importance = ImportanceBars(values, s.feature_names, title=f"mean |{s.methods[0]}|")
            self.beeswarm = Beeswarm(values, feature_values=np.asarray(s.X[idx], dtype=np.float64),
                                     feature_names=s.feature_names, sample_indices=idx)
            self.beeswarm.on_event("select", lambda msg: self._jump(int(msg["index"])))
            self.pdp = PDPView(None, s.feature_names, on_feature=self._start_pdp, class_names=s.class_names)
            parts = [ChartRow([self.importance, self.beeswarm]), self.pdp]
            self._start_pdp(0)
        else:
            from .heatmap import Heatmap

            mean_abs = np.mean(np.abs(values), axis=0)
            self.global_map = Heatmap(mean_abs, title=f"mean |{s.methods[0]}| over {idx.size} images",
                                      value_label=f"mean |{s.methods[0]}|")
            parts = [self.global_map]
        replace_children(self.global_box, parts)

    def _show_token_importance(self, result: tuple[list[str], np.ndarray]) -> None:
        from .global_views import ImportanceBars

        tokens, means = result
        self.importance = ImportanceBars(means[None, :], tokens,
                                         title=f"tokens with the largest mean |{self.session.methods[0]}|")
        replace_children(self.global_box, [self.importance])

    def _start_pdp(self, feature: int) -> None:
        s = self.session
        self.runner.submit(lambda ctl: s.partial_dependence(int(feature)), label="partial dependence",
                           on_done=self._show_pdp, on_error=lambda exc: setattr(self.pdp, "error", error_line(exc))
                           if hasattr(self.pdp, "error") else None, replace="pdp")

    def _show_pdp(self, r: Any) -> None:
        self.pdp.show(r)
        self._pdp_result = r
        self._highlight_pdp()

    def _highlight_pdp(self) -> None:
        """Draw the ICE line of the sample shown (with its what-if edits) over the PDP."""
        r = getattr(self, "_pdp_result", None)
        if r is None or self.index < 0 or not r.features:
            return
        row = self._edited_input if self._edited_input is not None else self.session.X[self.index]
        try:
            line = self.session.ice_line(row, r.features[0], r.grid[0], r.target)
            self.pdp.highlight_line(line)
        except Exception:  # e.g. the model fails on this sample: no line, the panel says why
            self.pdp.highlight(None)

    # -- errors and bias --------------------------------------------------------------------------
    def _start_errors(self) -> None:
        if "errors" in self._global_started or self.session.y is None:
            return
        self._global_started.add("errors")
        s = self.session

        def compute(_ctl: Any) -> tuple[Any, Any]:
            split = s.split_comparison()
            slices = s.slices(0) if s.kind == "table" else None
            return split, slices

        self.runner.submit(compute, label="bias analysis", on_done=self._show_bias, on_error=self._bias_failed)

    def _show_bias(self, result: tuple[Any, Any]) -> None:
        from .global_views import BiasView

        split, slices = result
        s = self.session
        self.bias = BiasView(split, slices, feature_names=s.feature_names or None, on_feature=self._start_slices)
        replace_children(self.errors_box, [c for c in (self.confusion, self.bias) if c is not None])

    def _bias_failed(self, exc: BaseException) -> None:
        self._global_started.discard("errors")
        replace_children(self.errors_box, [c for c in (self.confusion,) if c is not None] + [
            ipywidgets.Label(f"bias analysis failed: {error_line(exc)}")])

    def _start_slices(self, feature: int) -> None:
        s = self.session
        self.runner.submit(lambda ctl: s.slices(int(feature)), label="slice metrics",
                           on_done=lambda r: self.bias.update_slices(r), replace="slices")

    # -- surrogate --------------------------------------------------------------------------------
    def _start_surrogate(self) -> None:
        box = self.surrogate_box
        if box is None or "surrogate" in self._global_started:
            return
        self._global_started.add("surrogate")
        s = self.session

        def done(fit: Any) -> None:
            from .global_views import SurrogateView

            self.surrogate_view = SurrogateView(fit, s.feature_names, class_names=s.class_names, data=s.X)
            replace_children(box, [self.surrogate_view])

        def failed(exc: BaseException) -> None:
            self._global_started.discard("surrogate")
            replace_children(box, [ipywidgets.Label(f"the surrogate could not be fitted: {error_line(exc)}")])

        replace_children(box, [ipywidgets.Label("fitting the global surrogate...")])
        self.runner.submit(lambda ctl: s.surrogate(), label="global surrogate", on_done=done, on_error=failed)

    # -- jumps into the explorer ------------------------------------------------------------------
    def _on_cell(self, msg: dict[str, Any]) -> None:
        t, p = int(msg["true"]), int(msg["pred"])
        browser = self.browser  # type: ignore[attr-defined]
        f = browser.filter
        if msg.get("selected") is False or (f.true_class == t and f.predicted_class == p):
            browser.clear_filter()
            if self.confusion is not None:
                self.confusion.selected = None
        else:
            browser.set_filter(true_class=t, predicted_class=p)
        self.tabs.selected_index = 0

    def _jump(self, i: int) -> None:
        self.select(i)  # type: ignore[attr-defined]
        self.tabs.selected_index = 0
