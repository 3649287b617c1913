"""The Global tab: what the model relies on over many samples.

Tables: mean |attribution| bars, a beeswarm (a click on a dot shows that sample in the Explore
tab) and PDP/ICE curves with the ICE line of the sample shown, its what-if edit included (it
follows ``state.index`` and ``state.edited``). Images: the mean |attribution| map. Texts: the
tokens with the largest mean |attribution|. Computed on the worker, with the first method
chosen, the first time the tab is opened (or on ``Dashboard.compute_global()``); a cancel or a
failure leaves a "compute again" button.

Example:
    >>> GlobalTab.title, GlobalTab.kinds
    ('Global', ('table', 'image', 'text'))
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from ...tasks import Cancelled
from .._base import error_line, replace_children
from ..chart_layout import ChartRow
from .state import EXPLORE
from .tab import DashboardTab

__all__ = ["GlobalTab"]


class GlobalTab(DashboardTab):
    """Global attributions on ``state.global_samples`` samples, and (tables) partial dependence.

    Its views once computed: ``importance`` (:class:`~nbexplain.widgets.overview.ImportanceBars`),
    and for tables ``beeswarm`` and ``pdp`` (:class:`~nbexplain.widgets.overview.PDPView`), for
    images ``global_map``; ``pdp_result`` is the partial dependence drawn.

    Example:
        >>> GlobalTab.key(), GlobalTab.offered_for("image")
        ('global', True)
    """

    title = "Global"
    name = "global"

    def __init__(self, state: Any) -> None:
        super().__init__(state)
        self.importance: Any = None
        self.beeswarm: Any = None
        self.pdp: Any = None
        self.global_map: Any = None
        self.pdp_result: Any = None
        self._started = False
        self._highlighted: tuple[int, Any] = (-1, None)

    def build(self) -> Any:
        self.watch(self._on_sample, names=["index", "edited"])
        return ipywidgets.VBox([ipywidgets.Label("Open this tab to compute the global views.")])

    def on_open(self) -> None:
        self._start()

    # -- the global views ---------------------------------------------------------------------------
    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        s, n = self.session, self.state.global_samples
        method = self.state.methods[0]
        replace_children(self.widget, [ipywidgets.Label(f"computing {method} on up to {n} samples...")])

        def compute(ctl: Any) -> Any:
            try:
                if s.kind == "text":
                    return s.token_importance(method, n, ctl)
                return s.global_attributions(method, n, ctl)
            except Cancelled:
                self._cancelled()
                raise

        done = self._show_tokens if s.kind == "text" else self._show
        self.runner.submit(compute, label=f"global {method}", on_done=lambda r: done(r, method),
                           on_error=self._failed)

    def _cancelled(self) -> None:
        self._started = False
        again = ipywidgets.Button(description="compute again")
        again.add_class("nbx-compute-again")
        again.on_click(lambda _b: self._start())
        replace_children(self.widget, [ipywidgets.Label("cancelled; the global views were not computed."), again])

    def _failed(self, exc: BaseException) -> None:
        self._started = False
        retry = ipywidgets.Button(description="compute again")
        retry.on_click(lambda _b: self._start())
        replace_children(self.widget, [ipywidgets.Label(f"the global views failed: {error_line(exc)}"), retry])

    def _show(self, result: tuple[np.ndarray, np.ndarray], method: str) -> None:
        idx, values = result
        s = self.session
        parts: list[Any] = []
        if s.kind == "table":
            from ..overview import ImportanceBars, PDPView
            from ..views.beeswarm import Beeswarm

            stored = s.from_store(method)  # a dataset-wide store: the mean over every stored row, a chunk at a time
            self.importance = ImportanceBars(s.store if stored else values, s.feature_names, title=f"mean |{method}|")
            self.beeswarm = Beeswarm(values, feature_values=np.asarray(s.X[idx], dtype=np.float64),
                                     feature_names=s.feature_names, sample_indices=idx)
            self.beeswarm.on_event("select", lambda msg: self._jump(int(msg["index"])))
            self.pdp = PDPView(None, s.feature_names, on_feature=self._start_pdp, class_names=s.class_names)
            parts = [ChartRow([self.importance, self.beeswarm]), self.pdp]
            self._start_pdp(0)
        else:
            from ..views.heatmap import Heatmap

            mean_abs = np.mean(np.abs(values), axis=0)
            self.global_map = Heatmap(mean_abs, title=f"mean |{method}| over {idx.size} images",
                                      value_label=f"mean |{method}|")
            parts = [self.global_map]
        replace_children(self.widget, parts)

    def _show_tokens(self, result: tuple[list[str], np.ndarray], method: str) -> None:
        from ..overview import ImportanceBars

        tokens, means = result
        self.importance = ImportanceBars(means[None, :], tokens, title=f"tokens with the largest mean |{method}|")
        replace_children(self.widget, [self.importance])

    def _jump(self, i: int) -> None:
        """A beeswarm dot was clicked: show that sample in the Explore tab."""
        self.state.select(i)
        self.state.tab = EXPLORE

    # -- partial dependence and the sample's ICE line -----------------------------------------------
    def _start_pdp(self, feature: int) -> None:
        s = self.session
        self.runner.submit(lambda ctl: s.partial_dependence(int(feature)), label="partial dependence",
                           on_done=self._show_pdp, on_error=self._pdp_failed, replace="pdp")

    def _pdp_failed(self, exc: BaseException) -> None:
        if hasattr(self.pdp, "error"):
            self.pdp.error = error_line(exc)

    def _show_pdp(self, r: Any) -> None:
        self.pdp.show(r)
        self.pdp_result = r
        self._highlight()

    def _on_sample(self, _change: Any) -> None:
        i, edited = self.state.index, self.state.edited
        if i != self._highlighted[0] or edited is not self._highlighted[1]:  # not drawn yet
            self._highlight()

    def _highlight(self) -> None:
        """Draw the ICE line of the sample shown (with its what-if edit) over the PDP."""
        r = self.pdp_result
        i, edited = self.state.index, self.state.edited
        if r is None or i < 0 or not r.features:
            return
        self._highlighted = (i, edited)
        row = edited if edited is not None else self.session.X[i]
        try:
            line = self.session.ice_line(row, r.features[0], r.grid[0], r.target)
            self.pdp.highlight_line(line)
        except Exception:  # e.g. the model fails on this sample: no line, the panel says why
            self.pdp.highlight(None)
