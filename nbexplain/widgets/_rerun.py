"""Re-running a cell frees the widgets its previous run made.

ipywidgets keeps every widget model alive in the kernel until ``close()``: a cell that builds a
Dashboard, re-run 50 times, would keep 50 Dashboards (their data, their charts) although the
notebook shows only the last. JupyterLab, Notebook 7 and VS Code clear a cell's output when it
runs again, so the widgets the previous run of *that cell* made are no longer shown there. Every
nbexplain widget records the cell and the execution that created it (from the kernel's current
``execute_request``: its ``cellId`` metadata and message id), and the first nbexplain widget made
by a new execution of the same cell closes those of the previous one (with everything they
made, :func:`nbexplain.widgets._base.close_tree`).

Only widgets made on the kernel's main thread while a cell executes are recorded (not the ones a
background worker or a browser event makes later; they belong to a widget that is recorded). A
widget of an earlier run that the notebook displays again in *another* cell is closed too, as
the name it was bound to was rebound by the re-run; call
``nbexplain.widgets.set_close_on_rerun(False)`` to keep everything until ``close()``.

Example:
    >>> current_execution() is None      # outside a kernel: nothing is recorded
    True
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

#: Close the widgets of a cell's previous run when the cell runs again.
ENABLED = True

#: cell id -> (message id of the execution that made them, weak references to the widgets)
_BY_CELL: dict[str, tuple[str, list[weakref.ref[Any]]]] = {}
_LOCK = threading.Lock()


def current_execution() -> tuple[str, str] | None:
    """``(cell id, message id)`` of the cell the kernel is executing now, or None.

    None outside an IPython kernel, off the main thread, while handling anything but an
    ``execute_request``, or when the front end sent no ``cellId`` (an older client).

    Example:
        >>> current_execution() is None
        True
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    ipython_mod = sys.modules.get("IPython")
    ip = ipython_mod.get_ipython() if ipython_mod is not None else None  # type: ignore[attr-defined]
    kernel = getattr(ip, "kernel", None)
    if kernel is None:
        return None
    try:
        parent = kernel.get_parent("shell")
    except TypeError:  # ipykernel < 6.9 takes no channel
        parent = kernel.get_parent()
    except Exception:
        return None
    header = (parent or {}).get("header") or {}
    if header.get("msg_type") != "execute_request":
        return None
    cell = ((parent or {}).get("metadata") or {}).get("cellId")
    msg = header.get("msg_id")
    return (str(cell), str(msg)) if cell and msg else None


def track(widget: Any) -> None:
    """Record ``widget`` for the executing cell; first close what that cell's previous run made.

    Example:
        >>> track(object())    # outside a kernel: a no-op
    """
    if not ENABLED:
        return
    here = current_execution()
    if here is None:
        return
    cell, msg = here
    stale: list[Any] = []
    with _LOCK:
        entry = _BY_CELL.get(cell)
        if entry is not None and entry[0] != msg:
            stale = [w for w in (r() for r in entry[1]) if w is not None]
            entry = None
        if entry is None:
            entry = _BY_CELL[cell] = (msg, [])
        entry[1].append(weakref.ref(widget))
    if stale:
        from ._base import close_tree

        close_tree(*(w for w in stale if getattr(w, "comm", None) is not None))


def set_close_on_rerun(enabled: bool) -> None:
    """Turn closing the widgets of a cell's previous run on (the default) or off.

    Example:
        >>> set_close_on_rerun(False); set_close_on_rerun(True)
    """
    global ENABLED
    ENABLED = bool(enabled)


def tracked_count() -> int:
    """How many recorded widgets are still alive (for tests and diagnostics).

    Example:
        >>> tracked_count() >= 0
        True
    """
    with _LOCK:
        return sum(1 for _msg, refs in _BY_CELL.values() for r in refs if r() is not None)
