"""The Surrogate tab (tables only): the global linear surrogate of the model and its fidelity.

A linear model fitted to the model's outputs on the table says which features move the
prediction and how faithful such a simple summary is (its R² against the model). Fitted on the
worker the first time the tab is opened (or on ``Dashboard.compute_global()``); a failure is
said in the tab and the next opening tries again. A linear model of pixels or words would only
say "needs a table", so Dashboards on images and texts do not offer the tab (``kinds``).

Example:
    >>> SurrogateTab.title, SurrogateTab.kinds, SurrogateTab.offered_for("image")
    ('Surrogate', ('table',), False)
"""

from __future__ import annotations

from typing import Any

import ipywidgets

from .._base import error_line, replace_children
from .tab import DashboardTab

__all__ = ["SurrogateTab"]


class SurrogateTab(DashboardTab):
    """The global surrogate; ``surrogate_view`` (a :class:`~nbexplain.widgets.overview.SurrogateView`)
    once fitted, else None.

    Example:
        >>> SurrogateTab.key(), SurrogateTab.offered_for("table")
        ('surrogate', True)
    """

    title = "Surrogate"
    name = "surrogate"
    kinds = ("table",)

    def __init__(self, state: Any) -> None:
        super().__init__(state)
        self.surrogate_view: Any = None
        self._started = False

    def build(self) -> Any:
        return ipywidgets.VBox([ipywidgets.Label("Open this tab to fit the surrogate.")])

    def on_open(self) -> None:
        if self._started:
            return
        self._started = True
        s = self.session
        replace_children(self.widget, [ipywidgets.Label("fitting the global surrogate...")])
        self.runner.submit(lambda ctl: s.surrogate(), label="global surrogate", on_done=self._show,
                           on_error=self._failed)

    def _show(self, fit: Any) -> None:
        from ..overview import SurrogateView

        s = self.session
        self.surrogate_view = SurrogateView(fit, s.feature_names, class_names=s.class_names, data=s.X)
        replace_children(self.widget, [self.surrogate_view])

    def _failed(self, exc: BaseException) -> None:
        self._started = False
        replace_children(self.widget, [ipywidgets.Label(f"the surrogate could not be fitted: {error_line(exc)}")])
