"""What a composite widget sends: its widget models and the bytes of their encoded state.

The bytes of one widget are those of its state as ipywidgets sends it: the JSON of the state
without binary buffers, plus the buffers (encoded arrays, bqplot's arrays).

Example:
    >>> import ipywidgets
    >>> box = ipywidgets.VBox([ipywidgets.Label("a")])
    >>> [type(w).__name__ for w in widget_tree(box)]
    ['VBox', 'Label', 'Layout', 'LabelStyle', 'Layout']
    >>> state_bytes(box.children[0]) > 0
    True
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["state_bytes", "state_report", "widget_tree"]

_PREFIX = "IPY_MODEL_"


def widget_tree(root: Any) -> list[Any]:
    """``root`` and every widget its state refers to (children, layouts, styles, bqplot marks...).

    Widgets are found through the ``IPY_MODEL_<id>`` references of each state, so this walks
    what the browser will load, in depth-first order, each widget once.
    """
    from ipywidgets.widgets import widget as _widget

    registry = _widget._instances
    seen: dict[str, Any] = {}
    stack = [root]
    while stack:
        w = stack.pop()
        if w.model_id in seen:
            continue
        seen[w.model_id] = w
        refs: list[str] = []
        _refs(w.get_state(), refs)
        stack.extend(registry[r] for r in reversed(refs) if r in registry and r not in seen)
    return list(seen.values())


def _refs(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        if value.startswith(_PREFIX):
            out.append(value[len(_PREFIX):])
    elif isinstance(value, dict):
        for v in value.values():
            _refs(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _refs(v, out)


def state_bytes(widget: Any) -> int:
    """Bytes of ``widget``'s full state as sent: JSON (without buffers) plus binary buffers."""
    from ipywidgets.widgets.widget import _remove_buffers

    state, _paths, buffers = _remove_buffers(widget.get_state())
    return len(json.dumps(state).encode("utf-8")) + sum(memoryview(b).nbytes for b in buffers)


def state_report(root: Any) -> dict[str, Any]:
    """``{"total": bytes, "largest": bytes, "largest_widget": class name, "count": widgets}`` of a tree.

    Example:
        >>> import ipywidgets
        >>> state_report(ipywidgets.Label("x"))["count"]
        3
    """
    sizes = [(state_bytes(w), type(w).__name__) for w in widget_tree(root)]
    largest = max(sizes)
    return {"total": sum(s for s, _ in sizes), "largest": largest[0], "largest_widget": largest[1],
            "count": len(sizes)}
