"""The Explore tab: the sample browser, the sample shown, its methods side by side, what-if edits.

It shows what the state says (``index``, ``edited``, ``methods``,
:class:`~nbexplain.widgets.dashboard.state.DashboardState`) and sets the state from its controls:
a row picked in the table selects a sample, the method picker sets ``methods``, the filters are
the state's ``filter``, an edit (:mod:`~nbexplain.widgets.dashboard.explore_edit`) sets ``edited``.

When a sample, an edit or the methods change, every method whose result is known (cached, or
computed for this very edit) is drawn at once; the others are computed on the worker, one after
the other, and each is drawn as soon as it is done. Meanwhile a method's panel says what it is
doing in its own header, with a cancel button, and keeps its last result dimmed (a method never
drawn shows a placeholder), so no panel goes blank and no "n/a" is shown; the agreement line
says which pairs wait. A generation counter, taken under a lock, drops what a worker delivers
for a sample or edit that is no longer shown.

Example:
    >>> sorted(METHOD_MENU), METHOD_MENU["text"]
    (['image', 'table', 'text'], ('token_shap', 'token_occlusion'))
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from typing import Any

import ipywidgets
import numpy as np
import traitlets

from ...models import is_torch_module
from ...tasks import Cancelled
from ...text.hf import is_text_explainer
from .._base import error_line
from .._whatif import category_lists
from ..explore.compare_view import PENDING, CompareView
from ..explore.method_picker import MethodPicker
from ..explore.sample_browser import SampleBrowser
from ..views.sample_panel import SamplePanel
from .explore_edit import EDIT_HINT, WhatIf, spread
from .state import EXPLORE
from .tab import DashboardTab

__all__ = ["EXPLAIN_LABEL", "METHOD_MENU", "ExploreTab"]

#: The label prefix of the worker tasks that explain the sample shown (shown in place, not in the top bar).
EXPLAIN_LABEL = "explaining "

#: Methods the picker offers besides the ones passed, per kind (fast enough to run per sample).
METHOD_MENU = {
    "table": ("kernel_shap", "lime_batched", "shap", "lime"),
    "image": ("saliency", "gradient_x_input", "smoothgrad", "integrated_gradients", "deeplift", "grad_cam"),
    "text": ("token_shap", "token_occlusion"),
}
#: Methods offered for texts when the model is a transformers classifier with its tokenizer.
TRANSFORMER_TEXT_METHODS = ("integrated_gradients", "gradient_x_input", "token_shap", "token_occlusion", "lime_text")
#: Gradient methods offered for tables when the model is a torch module.
TORCH_TABLE_METHODS = ("integrated_gradients", "gradient_x_input", "deeplift", "saliency")


class ExploreTab(DashboardTab):
    """The first tab: browse the samples, see one with its explanations, edit it (what-if).

    Its widgets: ``browser`` (:class:`SampleBrowser`), ``panel`` (:class:`SamplePanel`),
    ``compare`` (:class:`CompareView`), ``method_picker``, ``reset_button`` and ``whatif``
    (:class:`~nbexplain.widgets.dashboard.explore_edit.WhatIf`); ``timings`` holds
    ``(what, milliseconds)`` of recent kernel-side work ("select": a sample shown, "explain": a
    worker explanation), for benchmarks; the last 200 are kept.

    Example:
        >>> ExploreTab.title, ExploreTab.key(), [ExploreTab.offered_for(k) for k in ("table", "image", "text")]
        ('Explore', 'explore', [True, True, True])
    """

    title = EXPLORE
    name = "explore"

    def __init__(self, state: Any) -> None:
        super().__init__(state)
        self._lock = threading.RLock()  # the worker's deliveries and the sample shown change together
        self._generation = 0
        self._shown: tuple[int, Any] = (-1, None)  # the sample and the edit drawn now
        self._edit_probs: tuple[int, Any, Any] = (-1, None, None)
        self._shown_probs: Any = None
        self._render_inputs: dict[str, Any] = {}
        self._results: dict[str, Any] = {}
        self._results_for: tuple[int, Any] = (-1, None)
        self._explain_task: Any = None
        self._links: list[Any] = []
        self.timings: deque[tuple[str, float]] = deque(maxlen=200)

    # -- the page ---------------------------------------------------------------------------------
    def build(self) -> Any:
        from ...explainers.registry import available_explainers

        s, state = self.session, self.state
        self.browser = SampleBrowser(
            s.probabilities(), s.y, X=s.X if s.kind == "table" else None, texts=s.texts,
            feature_names=s.feature_names or None, class_names=s.class_names, page_size=state.page_size,
            stepper=False,  # one navigation: the table's pager and its go-to box
            categories=category_lists(s.categorical, len(s.feature_names)) if s.kind == "table" else None,
        )
        self.panel = SamplePanel(kind=s.kind, n_samples=s.n_samples)
        self.compare = CompareView(s.kind)
        self.whatif = WhatIf(state, self.compare, self._redraw)
        self.compare.on_new_view(self.whatif.hook_view)
        self.compare.on_action(self._on_slot_action)
        self.compare.set_methods(list(state.methods))
        torch_table = s.kind == "table" and is_torch_module(s.model)
        menu = METHOD_MENU[s.kind] + (TORCH_TABLE_METHODS if torch_table else ())
        if s.kind == "text" and is_text_explainer(s.model):
            menu = TRANSFORMER_TEXT_METHODS
        offered = [m for m in menu if m in available_explainers(s.kind)]
        if s.encoding is not None and s.encoding.categorical_indices:
            offered = [m for m in offered if m != "lime"]  # the lime package perturbs categories as numbers
        self.method_picker = MethodPicker([*state.methods, *offered], state.methods)
        self.reset_button = ipywidgets.Button(description="undo edits", disabled=True,  # no icon: its font is not offline
                                              tooltip="restore the sample as it is in the data set")
        self.reset_button.add_class("nbx-reset-edits")
        self.reset_button.on_click(lambda _b: self.whatif.reset())
        self.edit_hint = ipywidgets.Label(EDIT_HINT[s.kind])
        self.edit_hint.add_class("nbx-edit-hint")
        edits = ipywidgets.HBox([self.reset_button, self.edit_hint], layout={"align_items": "center"})
        controls = ipywidgets.VBox([self.method_picker, edits])
        controls.add_class("nbx-explore-controls")
        right = ipywidgets.VBox([self.panel, controls, self.compare], layout={"flex": "1 1 auto"})
        # the controls are the state's: the picker's methods and the browser's filter follow it both ways
        self._links = [traitlets.link((self.method_picker, "value"), (state, "methods")),
                       traitlets.link((self.browser, "filter"), (state, "filter"))]
        self.browser.observe(self._on_selected, names=["selected"])
        self.watch(self._follow, names=["index", "edited"])
        self.watch(self._on_methods, names=["methods"])
        self.watch(self._badges, names=["badges", "index", "edited", "methods"])
        return ipywidgets.HBox([self.browser, right], layout={"flex_flow": "row wrap"})

    def close(self) -> None:
        for link in self._links:
            link.unlink()
        self._links = []
        super().close()

    def explanations(self) -> dict[str, Any]:
        """The explanations shown now, by method (see ``Dashboard.explanations``)."""
        with self._lock:
            return dict(self._results)

    # -- the state and the controls ---------------------------------------------------------------
    def _on_selected(self, change: Any) -> None:
        i = int(change["new"])
        if i >= 0 and i != self.state.index:
            start = time.perf_counter()
            self.state.select(i)
            self.timings.append(("select", 1000 * (time.perf_counter() - start)))

    def _follow(self, _change: Any) -> None:
        """Show what the state says: a new sample afresh, a new edit of the sample shown."""
        i, edited = self.state.index, self.state.edited
        if i < 0:
            return
        if self.browser.selected != i:
            self.browser.select(i)  # clears a filter that hides it
        if i != self._shown[0]:
            self._show(i)
        elif edited is not self._shown[1]:
            self._show(i, keep_edits=True)

    def _on_methods(self, change: Any) -> None:
        with self._lock:
            self.compare.set_methods(list(change["new"]))  # the methods that stay keep their panels as drawn
            if self.state.index >= 0:
                self._show(self.state.index, keep_edits=True)

    def _badges(self, _change: Any) -> None:
        """The Trust tab's badges in the method headers, while their sample is shown as it is."""
        b = self.state.badges
        current = bool(b) and b.get("index") == self.state.index and self.state.edited is None
        texts = b.get("texts", {}) if current else {}
        self.compare.set_badges({m: texts.get(m) for m in self.compare.methods})

    def _redraw(self) -> None:
        if self.state.index >= 0:
            self._show(self.state.index, keep_edits=True)

    def _on_slot_action(self, _name: str, action: str) -> None:
        """A method header's button: cancel the computation, or compute again after a cancel."""
        if action == "cancel":
            if self._explain_task is not None:
                self._explain_task.cancel()
        else:
            self._redraw()

    # -- showing a sample -------------------------------------------------------------------------
    def _show(self, i: int, keep_edits: bool = False) -> None:
        """Show sample ``i`` (with the state's edit when ``keep_edits``, else a fresh one): the panel
        at once, the methods whose results are known at once, the others as the worker delivers them."""
        with self._lock:
            self._generation += 1
            gen = self._generation
            s = self.session
            if not keep_edits:
                self.whatif.start(i)
            edited = self.state.edited
            self._shown = (i, edited)
            self.reset_button.disabled = edited is None
            probs = self._update_panel(i, edited)
            names = list(self.state.methods)
            if i in s.errors:
                err = RuntimeError(f"the model failed on this sample: {s.errors[i]}")
                self._results = {m: err for m in names}
                self._results_for = (i, edited)
                self._render(i, dict(self._results), None)
                return
            same = self._results_for[0] == i and self._results_for[1] is edited
            known = dict(self._results) if same else {}
            results: dict[str, Any] = {}
            for m in names:
                r = known.get(m)
                if r is None and edited is None:
                    r = s.cached(i, m)
                results[m] = PENDING if r is None else r
            self._results = {m: r for m, r in results.items() if r is not PENDING}
            self._results_for = (i, edited)
            missing = [m for m in names if results[m] is PENDING]
            need_probs = edited is not None and probs is None
            what = f"sample {i}" if edited is None else f"the edited sample {i}"
            waiting = self.runner.busy and not self.runner.sync
            self._render(i, results, f"{'queued' if waiting else 'computing'} for {what}...")
            if not missing and not need_probs:
                return
            self._explain_task = self.runner.submit(
                lambda ctl: self._explain_missing(gen, i, edited, missing, need_probs, ctl),
                label=f"{EXPLAIN_LABEL}{what}", replace="explain",
            )

    def _update_panel(self, i: int, edited: Any) -> np.ndarray | None:
        """The sample panel for ``i`` (or its edit); returns the probabilities shown, None while an
        edit's prediction is pending (the panel then keeps the last one and says it is computing)."""
        s = self.session
        probs: np.ndarray | None = None
        fields: dict[str, Any] = {"index": i, "true_label": self._true_label(i), "class_names": s.class_names,
                                  "note": self.whatif.note(i, edited)}
        if edited is None:
            p = s.probabilities()[i]
            probs = p if np.all(np.isfinite(p)) else None
            fields["probabilities"] = probs
        elif self._edit_probs[0] == i and self._edit_probs[1] is edited:
            probs = self._edit_probs[2]
            fields["probabilities"] = probs
        if s.kind == "image":
            fields["image"] = self.whatif.display_image(i)
        elif s.kind == "table":
            row = s.X[i] if edited is None else edited
            fields.update(row_values=np.asarray(row, dtype=np.float64), row_names=s.feature_names,
                          categories=category_lists(s.categorical, len(s.feature_names)))
        else:
            fields["text"] = s.texts[i] if edited is None else str(edited)
        with self.panel.hold_sync():
            self.panel.error = s.errors.get(i, "")
            self.panel.busy = edited is not None and probs is None
            self.panel.update(**fields)
        self._shown_probs = probs
        return probs

    def _true_label(self, i: int) -> str:
        s = self.session
        if s.y is None:
            return ""
        t = int(s.y[i])
        return s.class_names[t] if 0 <= t < len(s.class_names) else str(t)

    def _prediction_of(self, i: int, probs: np.ndarray | None) -> tuple[float | None, str | None]:
        """The probability of the explained class (the prediction) and its name, for the headers."""
        if probs is None:
            return None, None
        t = self.session.target_of(i)
        return float(np.asarray(probs)[t]), self.session.class_names[t]

    def _inputs(self, i: int) -> dict[str, Any]:
        s = self.session
        if s.kind == "image":
            return {"image": self.whatif.display_image(i)}
        edited = self._shown[1]
        if s.kind == "table":
            row = edited if edited is not None else s.X[i]
            return {"feature_values": np.asarray(row, dtype=np.float64), "feature_names": s.feature_names}
        tokens = self.whatif.tokens(i)
        mask = self.whatif.mask
        return {"tokens": tokens, "dropped": np.zeros(len(tokens), dtype=bool) if mask is None
                else np.asarray(mask.mask, dtype=bool)}

    def _for_view(self, result: Any, inputs: dict[str, Any]) -> Any:
        """A result as its view draws it: an edited text's explanation spread on the full token list."""
        mask = inputs.get("dropped")
        if mask is None or not mask.any() or isinstance(result, BaseException) or result is PENDING:
            return result
        try:
            return spread(result, mask, inputs["tokens"])
        except ValueError as exc:
            return exc

    def _first_bars(self) -> Any:
        return self.compare.views.get(self.state.methods[0]) if self.session.kind == "table" else None

    def _render(self, i: int, results: dict[str, Any], pending_text: str | None) -> None:
        inputs = self._inputs(i)
        self._render_inputs = inputs
        shown = {m: self._for_view(r, inputs) for m, r in results.items()}
        p, name = self._prediction_of(i, self._shown_probs)
        first = self._first_bars()
        with self._holding_bars():
            # the bars, their category labels and what-if sliders reach the browser in one message
            self.compare.show(shown, **inputs, probability=p, target_name=name, pending_text=pending_text)
            if first is not None:
                self.whatif.sync_whatif(i, self._shown[1])
            self.whatif.sync_categories()

    def _holding_bars(self) -> contextlib.ExitStack:
        """``hold_sync`` of every table method view (one message per view for a redraw)."""
        stack = contextlib.ExitStack()
        if self.session.kind == "table":
            for view in list(self.compare.views.values()):
                stack.enter_context(view.hold_sync())
        return stack

    # -- the worker ---------------------------------------------------------------------------------
    def _explain_missing(self, gen: int, i: int, edited: Any, missing: list[str], need_probs: bool,
                         control: Any) -> None:
        s = self.session
        start = time.perf_counter()
        try:
            if need_probs:
                control.check()
                try:
                    probs = s.predict([edited] if s.kind == "text" else np.asarray(edited)[None])[0]
                    self._deliver_probs(gen, i, edited, probs, "")
                except Exception as exc:  # the panel says so; the methods still try
                    self._deliver_probs(gen, i, edited, None, f"the model failed on the edited sample: {error_line(exc)}")
            what = f"sample {i}" if edited is None else f"the edited sample {i}"
            for n, m in enumerate(missing):
                control.check()
                self._set_statuses(gen, missing, n, what)
                control.progress(n, len(missing), m)
                try:
                    r = s.explain(i, m) if edited is None else s.explain_input(edited, m, s.target_of(i))
                except Exception as exc:  # one method failing leaves the others shown
                    r = exc
                self._deliver(gen, m, r)
            control.progress(len(missing), len(missing), "")
        except Cancelled:
            self._explain_cancelled(gen)
            raise
        finally:
            self.timings.append(("explain", 1000 * (time.perf_counter() - start)))

    def _set_statuses(self, gen: int, missing: list[str], n: int, what: str) -> None:
        with self._lock:
            if gen != self._generation:
                return
            for k, m in enumerate(missing[n:], start=n):
                text = f"computing for {what}..." if k == n else f"queued after {missing[n]}..."
                self.compare.set_status(m, text)

    def _deliver(self, gen: int, m: str, result: Any) -> None:
        """Draw one method's result, if it belongs to what is shown now."""
        with self._lock:
            if gen != self._generation or m not in self.compare.slots:
                return
            self._results[m] = result
            first = self._first_bars()
            is_first = first is not None and m == self.state.methods[0]
            with self._holding_bars():
                self.compare.update(m, self._for_view(result, self._render_inputs))
                if is_first:
                    self.whatif.sync_whatif(*self._shown)
                self.whatif.sync_categories()

    def _deliver_probs(self, gen: int, i: int, edited: Any, probs: Any, error: str) -> None:
        with self._lock:
            if gen != self._generation:
                return
            self._edit_probs = (i, edited, probs)
            self._shown_probs = probs
            with self.panel.hold_sync():
                if probs is not None:
                    self.panel.probabilities = probs
                self.panel.error = error
                self.panel.busy = False
            self.compare.set_prediction(*self._prediction_of(i, probs))

    def _explain_cancelled(self, gen: int) -> None:
        with self._lock:
            if gen != self._generation:
                return  # replaced by a newer sample or edit, not cancelled by the user
            self.panel.busy = False
            self.compare.stop_pending("not computed: cancelled")
