"""What every tab of the layer inspector shares: the lazily built ``_Tab``, notes, the grid bound.

A tab has ``.box`` (the ``VBox`` in the ``Tab``) and ``show()``, which draws the inspector's
current layer and sample. ``show()`` recomputes only when its key (layer, sample) changed, and
every computation goes through the inspector's cache (``LayerInspector.cached``), so switching
back and forth costs nothing. Errors raised here are caught by the inspector and shown in its
error line.

Example:
    >>> grid_max_size(256, 56, 56)
    41
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import ipywidgets

if TYPE_CHECKING:
    from .view import LayerInspector

__all__ = ["HIST_BINS", "MAX_DENSE_BARS", "MAX_GRID_VALUES", "grid_max_size", "note_label", "set_note"]

#: Channel-map values sent for one layer at most (float16: 2 bytes each, so ~0.9 MB).
MAX_GRID_VALUES = 450_000
HIST_BINS = 50
MAX_DENSE_BARS = 512


def grid_max_size(channels: int, height: int, width: int, cap: int = 64) -> int:
    """The ``max_size`` for ``activation_maps`` so that ``channels`` maps stay under ``MAX_GRID_VALUES``.

    Example:
        >>> grid_max_size(256, 56, 56), grid_max_size(2048, 7, 7), grid_max_size(64, 112, 112)
        (41, 14, 64)
    """
    side = math.floor(math.sqrt(MAX_GRID_VALUES / max(1, channels)))
    return max(1, min(cap, side))


def note_label(text: str = "") -> ipywidgets.Label:
    label = ipywidgets.Label(text, layout=ipywidgets.Layout(display="flex" if text else "none"))
    label.add_class("nbx-anatomy-note")
    return label


def set_note(label: ipywidgets.Label, text: str) -> None:
    label.value = text
    label.layout.display = "flex" if text else "none"


class _Tab:
    """A lazily built tab: ``build()`` once, ``draw()`` when the key changed."""

    css = ""

    def __init__(self, insp: LayerInspector) -> None:
        self.insp = insp
        self.box = ipywidgets.VBox([], layout=ipywidgets.Layout(padding="6px 4px", grid_gap="6px"))
        self.box.add_class("nbx-anatomy-tab")
        if self.css:
            self.box.add_class(self.css)
        self.built = False
        self.key: Any = None

    def key_now(self) -> Any:
        return (self.insp.layer, self.insp.sample)

    def show(self) -> None:
        if not self.built:
            self.build()
            self.built = True
        key = self.key_now()
        if key != self.key:
            self.key = None  # a failure leaves the tab stale, so the next show retries
            self.draw()
            self.key = key

    def build(self) -> None:
        raise NotImplementedError

    def draw(self) -> None:
        raise NotImplementedError
