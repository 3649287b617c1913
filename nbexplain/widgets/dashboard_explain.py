"""The Dashboard's sample shown and its method panels, updated one method at a time (a part of :class:`Dashboard`).

When a sample, an edit or the methods change, every method whose result is known (cached, or
computed for this very edit) is drawn at once; the others are computed on the worker, one after
the other, and each is drawn as soon as it is done. Meanwhile a method's panel says what it is
doing in its own header, with a cancel button, and keeps its last result dimmed (a method never
drawn shows a placeholder), so no panel goes blank and no "n/a" is shown; the agreement line
says which pairs wait. A generation counter, taken under a lock, drops what a worker delivers
for a sample or edit that is no longer shown.

Example:
    >>> dash.methods = ["kernel_shap", "lime_batched", "shap"]   # the first two stay drawn  # doctest: +SKIP
    >>> dash.compare.pending                                                                  # doctest: +SKIP
    ['shap']
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np

from ..tasks import Cancelled
from ._base import error_line
from ._whatif import category_lists
from .compare_view import PENDING
from .dashboard_edit import spread

__all__ = ["EXPLAIN_LABEL", "ExplainMixin"]

#: The label prefix of the worker tasks that explain the sample shown (shown in place, not in the top bar).
EXPLAIN_LABEL = "explaining "


class ExplainMixin:
    """The sample shown and its method panels; mixed into :class:`Dashboard`."""

    session: Any
    index: int
    kind: str
    runner: Any
    panel: Any
    compare: Any
    timings: Any
    _lock: Any
    _generation: int
    _edit: Any
    _edited_input: Any
    _results: dict[str, Any]

    def _show(self, i: int, keep_edits: bool = False) -> None:
        """Show sample ``i`` (with the current edit when ``keep_edits``): the panel at once, the
        methods whose results are known at once, the others as the worker delivers them."""
        with self._lock:
            self._generation += 1
            gen = self._generation
            s = self.session
            self.index = i
            if not keep_edits:
                self._start_edit(i)  # type: ignore[attr-defined]
            self._highlight_pdp()  # type: ignore[attr-defined]
            edited = self._edited_input
            probs = self._update_panel(i, edited)
            names = list(self.methods)  # type: ignore[attr-defined]
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
        fields: dict[str, Any] = {"index": i, "true_label": self._true_label(i),  # type: ignore[attr-defined]
                                  "class_names": s.class_names, "note": self._note(i)}  # type: ignore[attr-defined]
        if edited is None:
            p = s.probabilities()[i]
            probs = p if np.all(np.isfinite(p)) else None
            fields["probabilities"] = probs
        elif self._edit_probs[0] == i and self._edit_probs[1] is edited:
            probs = self._edit_probs[2]
            fields["probabilities"] = probs
        if s.kind == "image":
            fields["image"] = self._display_image(i)  # type: ignore[attr-defined]
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

    def _prediction_of(self, i: int, probs: np.ndarray | None) -> tuple[float | None, str | None]:
        """The probability of the explained class (the prediction) and its name, for the headers."""
        if probs is None:
            return None, None
        t = self.session.target_of(i)
        return float(np.asarray(probs)[t]), self.session.class_names[t]

    def _inputs(self, i: int) -> dict[str, Any]:
        s = self.session
        if s.kind == "image":
            return {"image": self._display_image(i)}  # type: ignore[attr-defined]
        if s.kind == "table":
            row = self._edited_input if self._edited_input is not None else s.X[i]
            return {"feature_values": np.asarray(row, dtype=np.float64), "feature_names": s.feature_names}
        tokens = self._tokens(i)  # type: ignore[attr-defined]
        mask = np.zeros(len(tokens), dtype=bool) if self._edit is None else np.asarray(self._edit.mask, dtype=bool)
        return {"tokens": tokens, "dropped": mask}

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
        return self.compare.views.get(self.methods[0]) if self.session.kind == "table" else None  # type: ignore[attr-defined]

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
                self._sync_whatif(i)  # type: ignore[attr-defined]
            self._sync_categories()  # type: ignore[attr-defined]

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
            is_first = first is not None and m == self.methods[0]  # type: ignore[attr-defined]
            with self._holding_bars():
                self.compare.update(m, self._for_view(result, self._render_inputs))
                if is_first:
                    self._sync_whatif(self.index)  # type: ignore[attr-defined]
                self._sync_categories()  # type: ignore[attr-defined]

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

    def _on_slot_action(self, _name: str, action: str) -> None:
        """A method header's button: cancel the computation, or compute again after a cancel."""
        if action == "cancel":
            task = getattr(self, "_explain_task", None)
            if task is not None:
                task.cancel()
        elif self.index >= 0:
            self._show(self.index, keep_edits=True)
