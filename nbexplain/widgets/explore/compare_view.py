"""CompareView: one to four attribution methods side by side, with how much they agree.

Images get one :class:`~nbexplain.widgets.Heatmap` per method over the same picture, tables one
:class:`~nbexplain.widgets.FeatureBars` per method (each sorted by its own magnitudes, the same
``top_k`` for all), text one ``TextTokens`` per method (``nbexplain.widgets.views.text_tokens``). Each
view sits in a :class:`~nbexplain.widgets.explore.compare_slot.MethodSlot`: a header with the method's
name and what the view shows, or, while it computes, its progress in place. A method that
failed shows its exception in its own view's ``error``; the others draw. Below, one label per
pair of methods: ``"A vs B: rank corr 0.83, top-5 overlap 4/5"``
(:func:`nbexplain.diagnostics.agreement.agreement`), or ``"A vs B: waiting for B"`` while one
of them computes.

Results may arrive one at a time: ``show({"a": e_a, "b": PENDING})`` draws ``a`` and marks ``b``
as computing (its older result dimmed, or a placeholder where it never drew), and
``update("b", e_b)`` draws it when it is done; the agreement follows.

Example:
    >>> from nbexplain.widgets.explore.compare_view import CompareView, PENDING
    >>> import numpy as np
    >>> cv = CompareView(k=5)
    >>> sal = np.random.default_rng(0).random((8, 8))    # a saliency map of an 8x8 picture
    >>> cv.show({"saliency": sal, "grad_cam": RuntimeError("no conv layer")}, image=np.zeros((8, 8)))
    >>> type(cv.views["saliency"]).__name__, cv.slots["grad_cam"].caption.value
    ('Heatmap', 'failed (see the message below)')
    >>> cv.views["saliency"].on_event("click", lambda msg: print(msg["row"], msg["col"]))   # image what-if
    >>> cv.show({"saliency": sal, "shap": PENDING}); cv.pending
    ['shap']
    >>> cv.update("shap", sal.T); cv.pending
    []
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets
import numpy as np

from .._base import ClosesTree, close_tree, error_line, replace_children
from ..trust.badges import BadgesMixin
from ..views.feature_bars import FeatureBars
from ..views.heatmap import Heatmap
from .compare_draw import (
    agreement_rows,
    caption_of,
    draw_empty,
    draw_result,
    text_tokens_class,
    values_of,
)
from .compare_slot import MethodSlot

__all__ = ["MAX_METHODS", "PENDING", "CompareView"]

#: The most methods shown side by side.
MAX_METHODS = 4
KINDS = ("image", "table", "text")


class _Pending:
    """The value of a method in :meth:`CompareView.show` whose result is still being computed."""

    def __repr__(self) -> str:
        return "PENDING"


#: Pass as a method's result to :meth:`CompareView.show` while it computes; see :meth:`CompareView.update`.
PENDING = _Pending()


class CompareView(ClosesTree, BadgesMixin, ipywidgets.VBox):  # type: ignore[misc]
    """Up to four methods' explanations of one sample, side by side, plus their agreement.

    Parameters:
        kind: ``"image"``, ``"table"``, ``"text"`` or None (decided by :meth:`show`: ``tokens``
            means text, ``image`` or 2-D/3-D values mean image, else table).
        k: the ``k`` of the top-k overlap in the agreement read-out (default 5).
        width: CSS pixels of each heatmap (images).
        controls: show each heatmap's control row (default False, so the maps fit side by side).
        top_k: bars shown per method (tables; 0 = all).
        reduce_channels: sum C x H x W maps over channels before comparing them (default True,
            like the heatmap's default ``reduce="sum"``); with False the maps are flattened.

    Attributes:
        views: ``{method name: widget}`` in display order (Heatmap, FeatureBars or TextTokens),
            so a caller can hook events (``views[m].on_event("click", ...)``).
        slots: ``{method name: MethodSlot}``, the header and view of each method.
        report: the last :class:`~nbexplain.diagnostics.agreement.AgreementReport` (or None).
        agreement_labels: the ``ipywidgets.Label`` per pair of methods.
        badges: ``{method name: badge text}`` as drawn in the headers (:meth:`set_badges`).

    Example:
        >>> from nbexplain import Explanation
        >>> e_shap, e_lime = Explanation(np.array([[0.5, -0.2, 0.1, 0.0], [0.4, -0.3, 0.0, 0.1]]))
        >>> cv = CompareView(kind="table", k=2, top_k=5)
        >>> cv.show({"shap": e_shap, "lime": e_lime}, feature_values=np.arange(4.0))
        >>> [l.value for l in cv.agreement_labels]
        ['shap vs lime: rank corr 0.80, top-2 overlap 2/2']
    """

    def __init__(
        self,
        kind: str | None = None,
        *,
        k: int = 5,
        width: int = 220,
        controls: bool = False,
        top_k: int = 10,
        reduce_channels: bool = True,
        **kwargs: Any,
    ) -> None:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be None, 'image', 'table' or 'text'; got {kind!r}")
        if int(k) < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.kind = kind
        self.k = int(k)
        self.width = int(width)
        self.controls = bool(controls)
        self.top_k = int(top_k)
        self.reduce_channels = bool(reduce_channels)
        self.views: dict[str, Any] = {}
        self.slots: dict[str, MethodSlot] = {}
        self.report: Any = None
        self.agreement_labels: list[ipywidgets.Label] = []
        self._view_kind: str | None = None
        self._new_view_callbacks: list[Callable[[str, Any], None]] = []
        self._action_callbacks: list[Callable[[str, str], None]] = []
        self._inputs: dict[str, Any] = {}
        self._prediction: tuple[float | None, str | None] = (None, None)
        self._good: dict[str, np.ndarray] = {}
        self._failed: dict[str, BaseException] = {}
        self._shown: dict[str, Any] = {}
        self._badges: dict[str, str] = {}
        self.row = ipywidgets.Box(layout=ipywidgets.Layout(display="flex", flex_flow="row wrap"))
        self.row.add_class("nbx-compare-views")
        self.agreement_box = ipywidgets.VBox()
        self.agreement_box.add_class("nbx-compare-agreement")
        super().__init__([self.row, self.agreement_box], **kwargs)
        self.add_class("nbx-compare")
        self.add_class("nbx-kernel-scope")  # its controls call Python: disabled with the reason without a kernel

    # -- method views -----------------------------------------------------------------------------
    @property
    def methods(self) -> list[str]:
        """The method names shown, in order.

        Example:
            >>> CompareView().methods
            []
        """
        return list(self.views)

    def on_new_view(self, callback: Callable[[str, Any], None]) -> None:
        """Call ``callback(method_name, widget)`` for every method widget created from now on.

        A method that stays keeps its widget; a widget whose method was removed is reused for a
        new method (hidden until that method drew), so a hook added here stays on its widget; use
        :meth:`name_of` inside a hook to learn which method the widget shows now.

        Example:
            >>> from nbexplain import Explanation
            >>> e_a, e_b = Explanation(np.array([[0.5, -0.2, 0.1, 0.0], [0.4, -0.3, 0.0, 0.1]]))
            >>> cv = CompareView(kind="table", k=2); cv.show({"a": e_a, "b": PENDING})
            >>> cv.on_new_view(lambda name, w: print("new view for", name, type(w).__name__))
            >>> cv.set_methods(["a", "b", "c"])
            new view for c FeatureBars
        """
        self._new_view_callbacks.append(callback)

    def on_action(self, callback: Callable[[str, str], None]) -> None:
        """Call ``callback(method_name, action)`` when a slot's button is clicked: ``"cancel"``
        while the method computes, ``"compute"`` after it was stopped.

        Example:
            >>> from nbexplain import Explanation
            >>> e_a, e_b = Explanation(np.array([[0.5, -0.2, 0.1, 0.0], [0.4, -0.3, 0.0, 0.1]]))
            >>> cv = CompareView(kind="table", k=2); cv.show({"a": e_a, "b": PENDING})
            >>> cv.on_action(lambda name, action: print(name, action))
            >>> cv.slots["b"].button.click()    # what the browser's click on "cancel" does
            b cancel
        """
        self._action_callbacks.append(callback)

    def name_of(self, widget: Any) -> str | None:
        """The method name ``widget`` currently shows, or None.

        Example:
            >>> from nbexplain import Explanation
            >>> e_a, e_b = Explanation(np.array([[0.5, -0.2, 0.1, 0.0], [0.4, -0.3, 0.0, 0.1]]))
            >>> cv = CompareView(kind="table", k=2); cv.show({"a": e_a, "b": PENDING})
            >>> w = cv.views["b"]; cv.name_of(w)
            'b'
            >>> cv.set_methods(["a", "shap"]); cv.name_of(w)    # the view of "b" is reused for "shap"
            'shap'
        """
        return next((name for name, w in self.views.items() if w is widget), None)

    def set_methods(self, names: list[str], kind: str | None = None) -> None:
        """Show ``names`` (1 to 4 methods). A method already shown keeps its view and what it
        shows; a new method gets a view of a removed one (or a new view), hidden until it draws.

        Example:
            >>> cv = CompareView()
            >>> cv.set_methods(["saliency", "integrated_gradients"], kind="image")
            >>> cv.methods, type(cv.views["saliency"]).__name__
            (['saliency', 'integrated_gradients'], 'Heatmap')
        """
        names = [str(n) for n in names]
        if not 1 <= len(names) <= MAX_METHODS:
            raise ValueError(f"CompareView shows 1 to {MAX_METHODS} methods; got {len(names)}: {names}")
        if len(set(names)) != len(names):
            raise ValueError(f"method names must be unique; got {names}")
        kind = kind or self.kind or self._view_kind
        if kind not in KINDS:
            raise ValueError("set_methods needs kind='image', 'table' or 'text' before the first show()")
        if names == list(self.slots) and kind == self._view_kind:
            return
        old = self.slots if kind == self._view_kind else {}
        spare = [slot for name, slot in old.items() if name not in names]
        slots: dict[str, MethodSlot] = {}
        created: list[str] = []
        for name in names:
            if name in old:
                slots[name] = old[name]
            elif spare:
                slot = spare.pop(0)
                slot.rename(name)
                slots[name] = slot
            else:
                slots[name] = self._make_slot(kind, name)
                created.append(name)
        if kind != self._view_kind:
            for other in KINDS:
                self.row.remove_class(f"nbx-compare-{other}")
            self.row.add_class(f"nbx-compare-{kind}")
        self._view_kind = kind
        self.slots = slots
        self.views = {name: slot.view for name, slot in slots.items()}
        for name in list(self._good) + list(self._failed) + list(self._shown):
            if name not in slots:
                self._good.pop(name, None)
                self._failed.pop(name, None)
                self._shown.pop(name, None)
        replace_children(self.row, slots.values())  # the slots no longer shown are closed
        for name in names:
            self._apply_badge(name)
        for name in created:
            for callback in self._new_view_callbacks:
                callback(name, self.views[name])
        self._show_agreement()

    def close(self) -> None:
        """Close the view, its method widgets and agreement labels (layouts and styles too).

        Example:
            >>> cv = CompareView(); cv.set_methods(["saliency"], kind="image"); hm = cv.views["saliency"]
            >>> cv.close(); cv.comm is None, hm.comm is None
            (True, True)
        """
        close_tree(self)

    def _make_slot(self, kind: str, name: str) -> MethodSlot:
        if kind == "image":
            view: Any = Heatmap(np.zeros((1, 1)), width=self.width, show_controls=self.controls, blank=True)
        elif kind == "table":
            view = FeatureBars(np.zeros(1), top_k=self.top_k, blank=True)
        else:
            view = text_tokens_class()([""], np.zeros(1), blank=True)
        slot = MethodSlot(name, view)
        slot.on_action(self._on_slot_action)
        return slot

    def _on_slot_action(self, slot: MethodSlot, action: str) -> None:
        for callback in list(self._action_callbacks):
            callback(slot.name, action)

    # -- showing results --------------------------------------------------------------------------
    def show(
        self,
        results: dict[str, Any],
        *,
        image: Any = None,
        feature_values: Any = None,
        tokens: Any = None,
        feature_names: Any = None,
        dropped: Any = None,
        probability: float | None = None,
        target_name: str | None = None,
        pending_text: str | None = None,
    ) -> None:
        """Draw each method's result (an :class:`~nbexplain.explanation.Explanation` of one
        sample, an array, the ``Exception`` it raised, or :data:`PENDING` while it computes) and
        the agreement of those that worked.

        ``image``: the picture under every heatmap (default: the first explanation's ``data``
        when it is an image). ``feature_values`` / ``feature_names``: the table row and names
        (default: from the explanations). ``tokens`` (and ``dropped``, one flag per token): text.
        ``probability`` / ``target_name``: the model's probability of the explained class for
        this sample, shown in each method's header (``"malignant, P = 0.97"``).
        ``pending_text``: what a pending method's header says (default "computing...").

        Example:
            >>> from nbexplain import Explanation
            >>> e = Explanation(np.array([[0.5, -0.2, 0.1]]))
            >>> cv = CompareView()
            >>> cv.show({"shap": e[0], "lime": ValueError("no data")}, feature_values=np.zeros(3), probability=0.97,
            ...         target_name="malignant")
            >>> type(cv.views["shap"]).__name__, cv.slots["shap"].caption.value, cv.slots["lime"].caption.value
            ('FeatureBars', 'malignant, P = 0.97', 'failed (see the message below)')
            >>> [l.value for l in cv.agreement_labels]
            ['shap vs lime: n/a (lime failed)']
        """
        if not isinstance(results, dict) or not results:
            raise ValueError("results must be a non-empty dict {method name: Explanation, Exception or PENDING}")
        kind = self._infer_kind(results, image, tokens)
        self.set_methods(list(results), kind=kind)
        self._inputs = {"image": image, "feature_values": feature_values, "tokens": tokens,
                        "feature_names": feature_names, "dropped": dropped}
        self._prediction = (None if probability is None else float(probability), target_name)
        self._good, self._failed, self._shown = {}, {}, {}
        with self.hold_sync():
            for name, result in results.items():
                if result is PENDING:
                    self.slots[name].set_pending(pending_text or "computing...")
                    self._apply_badge(name)  # no standard errors of an older result
                else:
                    self._draw_one(name, result)
        self._show_agreement()

    def update(self, name: str, result: Any, *, probability: float | None = None) -> None:
        """Draw one method's result (it arrived after :meth:`show`), with the inputs of that
        show; the agreement follows. ``probability`` replaces the one given to :meth:`show`.

        Example:
            >>> from nbexplain import Explanation
            >>> e_a, e_b = Explanation(np.array([[0.5, -0.2, 0.1, 0.0], [0.4, -0.3, 0.0, 0.1]]))
            >>> cv = CompareView(kind="table", k=2); cv.show({"a": e_a, "b": PENDING})
            >>> [l.value for l in cv.agreement_labels]
            ['a vs b: waiting for b']
            >>> cv.update("b", e_b); [l.value for l in cv.agreement_labels]
            ['a vs b: rank corr 0.80, top-2 overlap 2/2']
        """
        if name not in self.slots:
            raise KeyError(f"{name!r} is not shown; shown: {list(self.slots)}")
        if probability is not None:
            self.set_prediction(probability, self._prediction[1])
        self._draw_one(name, result)
        self._show_agreement()

    def set_prediction(self, probability: float | None, target_name: str | None = None) -> None:
        """Change the probability shown in the headers (e.g. an edited sample's, once predicted).

        Example:
            >>> from nbexplain import Explanation
            >>> e_a, e_b = Explanation(np.array([[0.5, -0.2, 0.1, 0.0], [0.4, -0.3, 0.0, 0.1]]))
            >>> cv = CompareView(kind="table", k=2); cv.show({"a": e_a, "b": PENDING})
            >>> cv.set_prediction(0.41, "benign"); cv.slots["a"].caption.value
            'benign, P = 0.41'
        """
        self._prediction = (None if probability is None else float(probability), target_name)
        for name, result in self._shown.items():
            self._caption(name, result)

    def set_status(self, name: str, text: str) -> None:
        """Change what a pending method's header says (e.g. "queued" -> "computing").

        Example:
            >>> from nbexplain import Explanation
            >>> e_a, e_b = Explanation(np.array([[0.5, -0.2, 0.1, 0.0], [0.4, -0.3, 0.0, 0.1]]))
            >>> cv = CompareView(kind="table", k=2); cv.show({"a": e_a, "b": PENDING})
            >>> cv.slots["b"].caption.value
            'computing...'
            >>> cv.set_status("b", "computing b for sample 3..."); cv.slots["b"].caption.value
            'computing b for sample 3...'
        """
        slot = self.slots.get(name)
        if slot is not None and slot.state in ("pending", "stopped"):
            slot.set_status(text)

    def stop_pending(self, text: str) -> None:
        """Every pending method stops (cancelled): its header says ``text`` and offers "compute".

        Example:
            >>> from nbexplain import Explanation
            >>> e_a, e_b = Explanation(np.array([[0.5, -0.2, 0.1, 0.0], [0.4, -0.3, 0.0, 0.1]]))
            >>> cv = CompareView(kind="table", k=2); cv.show({"a": e_a, "b": PENDING})
            >>> cv.stop_pending("not computed: cancelled")
            >>> cv.slots["b"].caption.value, cv.slots["b"].button.description
            ('not computed: cancelled', 'compute')
        """
        for slot in self.slots.values():
            if slot.state in ("pending", "empty"):
                slot.set_stopped(text)
        self._show_agreement()

    @property
    def pending(self) -> list[str]:
        """The methods shown whose result for the current input has not arrived.

        Example:
            >>> from nbexplain import Explanation
            >>> e_a, e_b = Explanation(np.array([[0.5, -0.2, 0.1, 0.0], [0.4, -0.3, 0.0, 0.1]]))
            >>> cv = CompareView(kind="table", k=2); cv.show({"a": e_a, "b": PENDING})
            >>> cv.pending
            ['b']
        """
        return [n for n in self.slots if n not in self._good and n not in self._failed]

    def _draw_one(self, name: str, result: Any) -> None:
        kind = self._view_kind or "table"
        slot = self.slots[name]
        w = slot.view
        self._good.pop(name, None)
        self._failed.pop(name, None)
        with w.hold_sync():
            try:
                if isinstance(result, BaseException):
                    raise result
                values = values_of(result)
                draw_result(kind, w, result, values, self._inputs)
                w.error = ""
                self._good[name] = values
            except Exception as exc:  # one method's failure stays in its own view
                self._failed[name] = exc
                like = next((self.views[n] for n in self._good), None)
                draw_empty(kind, w, like, self._inputs)
                w.error = error_line(exc)
            self._shown[name] = result
            self._caption(name, result)  # shows the view in the same update as its content
            self._apply_badge(name)

    def _caption(self, name: str, result: Any) -> None:
        slot = self.slots[name]
        if name in self._failed:
            slot.set_ready("failed (see the message below)")
            return
        probability, target_name = self._prediction
        text = caption_of(result, kind=self._view_kind or "table", probability=probability, target_name=target_name)
        slot.set_ready(text, has_caption=bool(text))

    def _infer_kind(self, results: dict[str, Any], image: Any, tokens: Any) -> str:
        if self.kind is not None:
            return self.kind
        if tokens is not None:
            return "text"
        if image is not None:
            return "image"
        for result in results.values():
            if not isinstance(result, (BaseException, _Pending)):
                try:
                    return "image" if values_of(result).ndim >= 2 else "table"
                except Exception:
                    continue
        return self._view_kind or "table"

    def _show_agreement(self) -> None:
        self.report, rows = agreement_rows(list(self.slots), self._good, self._failed, k=self.k,
                                           reduce_channels=self.reduce_channels)
        self._set_agreement_rows(rows)

    def _set_agreement_rows(self, rows: list[str]) -> None:
        """One label per row; labels are reused, extra ones closed."""
        labels = self.agreement_labels
        if len(labels) != len(rows):
            labels = labels[: len(rows)] + [ipywidgets.Label() for _ in range(len(rows) - len(labels))]
            self.agreement_labels = labels
            replace_children(self.agreement_box, labels)
        for label, text in zip(labels, rows, strict=True):
            if label.value != text:
                label.value = text
