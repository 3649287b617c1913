"""MethodPicker: one checkbox per explanation method; ``value`` is the methods chosen, in order.

A multi-select list box replaces its whole selection on a plain click (adding a method needs
Ctrl-click), so a user who clicks "shap" to add it loses the methods already shown. Checkboxes
add and remove one method at a time: a newly checked method goes last, the order of the others
stays. At least one and at most ``max_methods`` stay checked (the others are disabled then).

Example:
    >>> p = MethodPicker(["kernel_shap", "lime_batched", "shap"], ["kernel_shap"])
    >>> p.boxes["shap"].value = True; p.value
    ('kernel_shap', 'shap')
    >>> p.boxes["kernel_shap"].value = False; p.value
    ('shap',)
    >>> p.boxes["shap"].disabled        # the last method cannot be unchecked
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets
import traitlets

from .._base import ClosesTree

__all__ = ["MethodPicker"]


class MethodPicker(ClosesTree, ipywidgets.HBox):  # type: ignore[misc]
    """Checkboxes over ``options``; ``value`` (a tuple of 1 to ``max_methods`` names) follows them.

    Setting ``value`` checks those boxes (unknown names, duplicates or a bad count raise a
    ``TraitError`` naming them). CSS classes: ``nbx-method-picker``, each box
    ``nbx-method-choice``.

    Example:
        >>> p = MethodPicker(["a", "b"], ["a"]); p.value = ("b", "a"); p.value
        ('b', 'a')
    """

    value = traitlets.Tuple(help="tuple of str: the methods chosen, in the order they were chosen.")

    def __init__(self, options: Sequence[str], value: Sequence[str], *, max_methods: int = 4,
                 description: str = "methods") -> None:
        self.options = tuple(dict.fromkeys(str(o) for o in options))
        self.max_methods = int(max_methods)
        self._syncing = False
        self.boxes = {
            name: ipywidgets.Checkbox(False, description=name, indent=False, layout={"width": "auto"})
            for name in self.options
        }
        label = ipywidgets.Label(description)
        label.add_class("nbx-method-picker-label")
        for box in self.boxes.values():
            box.add_class("nbx-method-choice")
            box.observe(self._on_box, names=["value"])
        super().__init__([label, *self.boxes.values()], layout={"flex_flow": "row wrap", "align_items": "center"})
        self.add_class("nbx-method-picker")
        self.observe(lambda _c: self._sync_boxes(), names=["value"])
        self.value = tuple(value)
        self._sync_boxes()

    @traitlets.validate("value")
    def _valid_value(self, proposal: dict[str, Any]) -> tuple[str, ...]:
        names = tuple(str(n) for n in proposal["value"])
        unknown = [n for n in names if n not in self.boxes]
        if unknown:
            raise traitlets.TraitError(f"method(s) {unknown} are not offered here; choose from {list(self.options)}")
        if len(set(names)) != len(names):
            raise traitlets.TraitError(f"methods has duplicates: {list(names)}")
        if not 1 <= len(names) <= self.max_methods:
            raise traitlets.TraitError(f"choose one to {self.max_methods} methods, got {len(names)}: {list(names)}")
        return names

    def _on_box(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        name = next(n for n, b in self.boxes.items() if b is change["owner"])
        if change["new"]:
            new = self.value if name in self.value else (*self.value, name)
        else:
            new = tuple(n for n in self.value if n != name)
        try:
            self.value = new
        except traitlets.TraitError:
            self._sync_boxes()  # refused (the last box, or one too many): the box goes back

    def _sync_boxes(self) -> None:
        chosen = set(self.value)
        full = len(chosen) >= self.max_methods
        self._syncing = True
        try:
            for name, box in self.boxes.items():
                on = name in chosen
                disabled = (not on and full) or (on and len(chosen) == 1)
                if box.value != on or box.disabled != disabled:
                    with box.hold_sync():
                        box.value = on
                        box.disabled = disabled
        finally:
            self._syncing = False
