"""MethodSlot: one method's place in a :class:`~nbexplain.widgets.CompareView`, with its state in place.

A slot is a header line over the method's view. The header names the method and says what the
view shows: a caption when it is current (``"malignant, P = 0.97 · base value 0.44"``), or,
while the method computes, what it is doing, an animated bar and a cancel button, right where
the user looks. A view that holds an older result (another sample, before an edit) stays drawn
but dimmed while it is recomputed, so nothing flashes blank; a view that never drew this method
is hidden behind a placeholder of the same place, so no "n/a" or zero bars are ever shown.
An nbexplain view is hidden with its own ``blank`` trait, which the caller sets in the same
update as the view's new content (``with view.hold_sync():``), so the browser shows both at
once; another widget is hidden with its layout.

CSS classes: ``nbx-method-slot``, ``nbx-slot-<method>``, state ``nbx-method-pending`` (with
``nbx-method-stale`` or ``nbx-method-empty``), ``nbx-method-stopped``, ``nbx-has-caption``;
parts ``nbx-method-header``, ``nbx-method-name``, ``nbx-method-badge`` (what is known about the
method's trustworthiness, :meth:`MethodSlot.set_badge`; hidden while empty),
``nbx-method-caption``, ``nbx-method-progress``, ``nbx-method-action``.

Example:
    >>> import ipywidgets
    >>> slot = MethodSlot("shap", ipywidgets.Label("a view"))
    >>> slot.set_pending("computing shap for sample 3...")
    >>> slot.state, slot.view_visible
    ('pending', False)
    >>> slot.set_ready("malignant, P = 0.97"); slot.state, slot.view_visible
    ('ready', True)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ipywidgets

__all__ = ["MethodSlot"]

_STATE_CLASSES = ("nbx-method-pending", "nbx-method-stale", "nbx-method-empty", "nbx-method-stopped", "nbx-has-caption")


def slot_class(name: str) -> str:
    """The CSS class that names a slot's method (characters other than letters, digits, ``_``, ``-`` become ``-``).

    Example:
        >>> slot_class("kernel_shap"), slot_class("my method!")
        ('nbx-slot-kernel_shap', 'nbx-slot-my-method-')
    """
    return "nbx-slot-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


class MethodSlot(ipywidgets.VBox):  # type: ignore[misc]
    """A method's header (name, caption or progress, action button) over its ``view``.

    ``state`` is ``"empty"`` (nothing drawn for this method yet), ``"pending"`` (computing),
    ``"ready"`` (the view is current) or ``"stopped"`` (cancelled; the button offers
    "compute"). ``drawn`` is True once the view drew a result of this method. The button calls
    ``on_action(callback)`` callbacks with ``(slot, "cancel" | "compute")``.

    Example:
        >>> slot = MethodSlot("lime", ipywidgets.Label("view"))
        >>> slot.on_action(lambda s, what: print(s.name, what))
        >>> slot.set_pending("computing..."); slot.button.click()
        lime cancel
    """

    def __init__(self, name: str, view: Any) -> None:
        self.view = view
        self.name = str(name)
        self.state = "empty"
        self.drawn = False
        self._callbacks: list[Callable[[MethodSlot, str], None]] = []
        self.name_label = ipywidgets.Label(self.name)
        self.name_label.add_class("nbx-method-name")
        self.badge = ipywidgets.Label("", layout=ipywidgets.Layout(display="none"))
        self.badge.add_class("nbx-method-badge")
        self.caption = ipywidgets.Label("")
        self.caption.add_class("nbx-method-caption")
        self.bar = ipywidgets.FloatProgress(value=1.0, min=0.0, max=1.0, bar_style="info",
                                            layout=ipywidgets.Layout(width="70px", display="none"))
        self.bar.add_class("nbx-method-progress")
        self.button = ipywidgets.Button(description="cancel", tooltip="stop computing this method",
                                        layout=ipywidgets.Layout(width="auto", display="none"))
        self.button.add_class("nbx-method-action")
        self.button.on_click(self._clicked)
        # Hidden until it draws this method: set before the slot is ever shown, so the front end
        # never renders the empty view ("feature 0", "n/a") for a moment.
        self._show_view(False)
        self.header = ipywidgets.HBox([self.name_label, self.badge, self.caption, self.bar, self.button])
        self.header.add_class("nbx-method-header")
        super().__init__([self.header, view])
        self.add_class("nbx-method-slot")
        self.add_class(slot_class(self.name))

    def on_action(self, callback: Callable[[MethodSlot, str], None]) -> None:
        """Call ``callback(slot, action)`` when the header button is clicked (``"cancel"`` or ``"compute"``)."""
        self._callbacks.append(callback)

    def rename(self, name: str) -> None:
        """Show another method in this slot (its view is reused, but nothing of the old method is shown).

        Example:
            >>> slot = MethodSlot("lime", ipywidgets.Label("view")); slot.drawn = True
            >>> slot.rename("kernel_shap"); slot.name_label.value, slot.drawn
            ('kernel_shap', False)
        """
        self.remove_class(slot_class(self.name))
        self.name = str(name)
        self.name_label.value = self.name
        self.add_class(slot_class(self.name))
        self.drawn = False
        self.state = "empty"
        self.set_badge(None)  # the badge was the old method's
        self._show_view(False)  # it still shows the old method's result

    def set_badge(self, text: str | None, tooltip: str = "") -> None:
        """Show ``text`` in the header's badge (e.g. ``"deletion AUC 0.21 vs random 0.45 · sanity passed"``);
        None or ``""`` hides it. ``tooltip``: what the badge means, shown on hover.

        Example:
            >>> slot = MethodSlot("saliency", ipywidgets.Label("view"))
            >>> slot.set_badge("sanity passed"); slot.badge.value, slot.badge.layout.display
            ('sanity passed', '')
            >>> slot.set_badge(None); slot.badge.layout.display
            'none'
        """
        text = str(text or "")
        with self.badge.hold_sync():
            if self.badge.value != text:
                self.badge.value = text
            tip = tooltip or None
            if self.badge.tooltip != tip:
                self.badge.tooltip = tip
            display = "" if text else "none"
            if self.badge.layout.display != display:
                self.badge.layout.display = display

    def set_pending(self, text: str) -> None:
        """The method is computing: ``text`` in the header, the bar and a cancel button; the old
        result (if this method drew one) stays dimmed, else the view is hidden behind the header.
        """
        self.state = "pending"
        self._header(text, bar=True, button="cancel")
        self._set_classes("nbx-method-pending", "nbx-method-stale" if self.drawn else "nbx-method-empty",
                          *self._kept_caption_class())
        self._show_view(self.drawn)

    def set_status(self, text: str) -> None:
        """Change the header text of a pending or stopped slot (e.g. "queued" -> "computing")."""
        if self.caption.value != text:
            self.caption.value = text

    def set_ready(self, caption: str, has_caption: bool = False) -> None:
        """The view shows this method's current result; ``caption`` describes it.

        ``has_caption=True`` marks that the caption carries the prediction, so the view's own
        prediction line is hidden (CSS ``.nbx-has-caption``) instead of shown twice.
        """
        self.state = "ready"
        self.drawn = True
        self._header(caption, bar=False, button=None)
        self._set_classes(*(("nbx-has-caption",) if has_caption else ()))
        self._show_view(True)

    def set_stopped(self, text: str) -> None:
        """Computing stopped (cancelled): ``text`` and a "compute" button; an old result stays dimmed."""
        self.state = "stopped"
        self._header(text, bar=False, button="compute")
        self._set_classes("nbx-method-stopped", "nbx-method-stale" if self.drawn else "nbx-method-empty",
                          *self._kept_caption_class())
        self._show_view(self.drawn)

    @property
    def view_visible(self) -> bool:
        """Whether the view is shown (False while it holds nothing of this method)."""
        return not self._view_hidden()

    # -- internals ------------------------------------------------------------------------------
    def _view_hidden(self) -> bool:
        if hasattr(self.view, "blank"):
            return bool(self.view.blank)
        return self.view.layout.display == "none"

    def _show_view(self, visible: bool) -> None:
        if self._view_hidden() != visible:  # already as asked
            return
        if hasattr(self.view, "blank"):  # travels with the view's own content
            self.view.blank = not visible
        else:
            self.view.layout.display = "" if visible else "none"

    def _header(self, text: str, *, bar: bool, button: str | None) -> None:
        if self.caption.value != text:
            self.caption.value = text
        display = "" if bar else "none"
        if self.bar.layout.display != display:
            self.bar.layout.display = display
        if button is None:
            if self.button.layout.display != "none":
                self.button.layout.display = "none"
            return
        with self.button.hold_sync():
            self.button.description = button
            self.button.tooltip = "stop computing this method" if button == "cancel" else "compute this method"
            self.button.disabled = False
            self.button.layout.display = ""

    def _kept_caption_class(self) -> tuple[str, ...]:
        """While an older result shows, its own prediction line stays hidden as it was."""
        return ("nbx-has-caption",) if self.drawn and "nbx-has-caption" in self._dom_classes else ()

    def _set_classes(self, *classes: str) -> None:
        keep = [c for c in self._dom_classes if c not in _STATE_CLASSES]
        new = tuple(keep + list(classes))
        if new != tuple(self._dom_classes):
            self._dom_classes = new

    def _clicked(self, _button: Any) -> None:
        action = "cancel" if self.state == "pending" else "compute"
        if action == "cancel":
            self.button.disabled = True
            self.set_status("cancelling (after the current step)...")
        for callback in list(self._callbacks):
            callback(self, action)
