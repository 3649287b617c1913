"""The Trust tab: can I trust the methods shown? Faithfulness curves, a ranking and the sanity check.

Nothing is measured until the tab is opened or its button pressed: opening it measures the methods
shown (``state.methods``) on the sample shown (``state.index``), or, with the scope "a subsample",
on a seeded subsample of the data set (their explanations come from the session's cache or are
computed). The work runs on the Dashboard's worker (progress and cancel in its bar) and is drawn
in a :class:`~nbexplain.widgets.trust.view.TrustView`. A report on the sample shown also sets
``state.badges``, which the Explore tab shows in each method's header ("deletion AUC 0.21 vs
random 0.45 · sanity passed") until another sample or an edit is shown.

Example:
    >>> TrustTab.title, TrustTab.key(), TrustTab.offered_for("text")
    ('Trust', 'trust', True)
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from ...tasks import Cancelled
from .._base import error_line
from .tab import DashboardTab

__all__ = ["SUBSAMPLE", "TrustTab"]

#: Samples measured with the scope "a subsample".
SUBSAMPLE = 8
_SAMPLE, _SUBSAMPLE = "the sample shown", f"{SUBSAMPLE} samples"


class TrustTab(DashboardTab):
    """How far to trust each method shown: ``view`` (a TrustView), ``scope`` (sample or subsample).

    Example:
        >>> TrustTab.kinds
        ('table', 'image', 'text')
    """

    title = "Trust"
    name = "trust"

    def __init__(self, state: Any) -> None:
        super().__init__(state)
        self.view: Any = None
        self._measured: tuple[Any, ...] | None = None  # (scope, index, methods) of the report drawn or coming

    def build(self) -> Any:
        self.scope = ipywidgets.ToggleButtons(options=[_SAMPLE, _SUBSAMPLE], value=_SAMPLE,
                                              tooltips=["the sample shown in Explore",
                                                        f"a seeded subsample of {SUBSAMPLE} samples, averaged"])
        self.scope.add_class("nbx-trust-scope")
        self.button = ipywidgets.Button(description="measure", tooltip="measure the methods shown in Explore")
        self.button.add_class("nbx-trust-measure")
        self.button.on_click(lambda _b: self.measure(force=True))
        self.status = ipywidgets.Label("Open this tab to measure the methods shown.")
        self.status.add_class("nbx-trust-tab-status")
        self.watch(self._outdated, names=["index", "edited", "methods"])
        controls = ipywidgets.HBox([ipywidgets.Label("measure on"), self.scope, self.button],
                                   layout={"flex_flow": "row wrap", "align_items": "center"})
        self._page_box = ipywidgets.VBox([controls, self.status])
        return self._page_box

    def _view(self) -> Any:
        """The TrustView, made when first needed (its charts would weigh on every saved Dashboard)."""
        if self.view is None:
            from ..trust.view import TrustView

            s = self.session
            self.view = TrustView(class_names=s.class_names, feature_names=s.feature_names or None,
                                  title="Can I trust the methods shown?", runner=self.runner)
            self._page_box.children = (*self._page_box.children, self.view)
        return self.view

    def on_open(self) -> None:
        self.measure(force=False)

    def compute(self) -> None:
        """``Dashboard.compute_global()`` leaves this tab alone: it measures only when asked."""

    # -- measuring ------------------------------------------------------------------------------
    def measure(self, force: bool = True) -> None:
        """Measure the methods shown on the scope chosen (on the worker); again only when ``force``
        or when the sample, the edit or the methods changed since."""
        _ = self.widget
        s, i = self.session, self.state.index
        key = (self.scope.value, i if self.scope.value == _SAMPLE else None, tuple(self.state.methods))
        if not force and key == self._measured:
            return
        if self.scope.value == _SAMPLE and (i < 0 or self.state.edited is not None):
            self.status.value = ("Pick a sample in Explore first." if i < 0 else
                                 "The sample shown is edited: measure the sample as it is in the data set "
                                 "(undo the edits) or a subsample.")
            return
        self._measured = key
        methods = list(self.state.methods)
        idx = np.array([i]) if self.scope.value == _SAMPLE else s.subsample(SUBSAMPLE)
        self.status.value = f"measuring {', '.join(methods)} on {len(idx)} sample{'s' if len(idx) > 1 else ''}..."

        def run(control: Any) -> Any:
            from ...metrics.report import trust_report

            explanations = {}
            for k, m in enumerate(methods):
                control.check()
                control.progress(k, len(methods) + 1, f"explaining with {m}")
                explanations[m] = [s.explain(int(j), m) for j in idx]
            inputs = [s.texts[int(j)] for j in idx] if s.kind == "text" else np.asarray(s.X)[idx]
            values = {m: _stack(parts, s.kind) for m, parts in explanations.items()}
            options: dict[str, Any] = {"kind": s.kind, "seed": s.seed}
            if s.kind == "table":
                options["background"] = s.background
            if s.kind == "text":
                options["tokenizer"] = getattr(s.model, "tokenize", None)
                options["detokenizer"] = getattr(s.model, "detokenize", None)
            report = trust_report(s.model_input, inputs, values, control=control, **options)
            # named by the data set's indices, of the data set's size (the report saw only these samples)
            report.samples = np.asarray(idx)
            report.settings["n_inputs"] = s.n_samples
            return idx, report

        self.runner.submit(run, label="trust report", on_done=self._show, on_error=self._failed,
                           replace="trust report")

    def _show(self, result: tuple[np.ndarray, Any]) -> None:
        idx, report = result
        self._view().show_report(report)
        self.status.value = ""
        if len(idx) == 1:
            from ..trust.badges import trust_badges

            self.state.badges = {"index": int(idx[0]), "texts": trust_badges(report)}

    def _failed(self, exc: BaseException) -> None:
        self._measured = None
        if isinstance(exc, Cancelled):
            self.status.value = "cancelled: press measure to start again"
        else:
            self.status.value = f"the report failed: {error_line(exc)}"

    def _outdated(self, _change: Any) -> None:
        if self._measured is not None and self.state.tab == self.title:
            self.measure(force=False)  # the tab is in view: follow the sample and the methods


def _stack(parts: list[Any], kind: str) -> Any:
    """One method's single-sample explanations of the samples measured, as the report takes them."""
    if kind == "text":
        return parts  # one Explanation per text (their lengths differ)
    values = [np.asarray(p.values, dtype=np.float64) for p in parts]
    return np.stack(values)
