"""A progress bar with a cancel button for a :class:`nbexplain.tasks.TaskRunner`.

Hidden while the runner is idle and during the first ``delay`` seconds of a task (quick tasks
never flash a bar); then a bar, a text ("label: done/total, elapsed s") and a cancel button.
It is updated from the runner's worker thread (ipykernel sends trait changes from any thread).

Example:
    >>> from nbexplain.tasks import TaskRunner
    >>> runner = TaskRunner(sync=True)
    >>> bar = TaskProgress(runner, delay=0.0)
    >>> _ = runner.submit(lambda control: control.progress(1, 4), label="explain")
    >>> bar.layout.display, bar.text.value
    ('none', '')
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import ipywidgets

from nbexplain.tasks import TaskRunner
from nbexplain.widgets._base import ClosesTree, close_tree

__all__ = ["TaskProgress", "format_state"]

#: Seconds the "cancelled" / "failed" read-out stays before the bar hides.
LINGER = 1.5


def format_state(state: dict[str, Any]) -> str:
    """The text of the progress label for a runner state dict.

    Example:
        >>> format_state({"running": True, "label": "explain", "done": 64.0, "total": 200.0,
        ...               "message": "", "elapsed": 1.26, "last": ""})
        'explain: 64/200, 1.3 s'
        >>> format_state({"running": False, "label": "explain", "done": 3.0, "total": None,
        ...               "message": "", "elapsed": 0.4, "last": "cancelled"})
        'explain: cancelled'
    """
    label = state.get("label") or "task"
    if not state.get("running"):
        last = state.get("last", "")
        if last == "error":
            return f"{label}: failed ({state.get('message', '')})"
        return f"{label}: {last}" if last else ""
    total = state.get("total")
    parts = [f"{state.get('done', 0):g}/{total:g}" if total is not None else "working"]
    if state.get("message"):
        parts.append(str(state["message"]))
    parts.append(f"{state.get('elapsed', 0.0):.1f} s")
    return f"{label}: " + ", ".join(parts)


class TaskProgress(ClosesTree, ipywidgets.HBox):  # type: ignore[misc]
    """Progress of ``runner``'s running task, shown after ``delay`` seconds, with a cancel button.

    Parts: ``.bar`` (``FloatProgress``; full and striped-looking "info" style when the total is
    unknown), ``.text`` (``Label``), ``.cancel_button`` (``Button`` that calls
    ``runner.cancel()``). After a cancel (or failure) the text says so for ``linger`` seconds,
    then the widget hides. CSS classes: ``nbx-progress``, ``nbx-progress-label``, ``nbx-cancel``.
    ``ignore(state)``: tasks for which it is true are not shown here (their view shows their
    progress itself, where the user looks); the bar hides while one runs.

    Example:
        >>> from nbexplain.tasks import TaskRunner
        >>> bar = TaskProgress(TaskRunner(sync=True), delay=0.5)
        >>> bar.cancel_button.description, bar.layout.display
        ('cancel', 'none')
    """

    def __init__(self, runner: TaskRunner, delay: float = 0.5, *, linger: float = LINGER,
                 ignore: Callable[[dict[str, Any]], bool] | None = None, **kwargs: Any) -> None:
        if not isinstance(runner, TaskRunner):
            raise TypeError(f"runner must be an nbexplain.tasks.TaskRunner, got {type(runner).__name__}")
        if not delay >= 0:
            raise ValueError(f"delay must be >= 0 seconds, got {delay!r}")
        if ignore is not None and not callable(ignore):
            raise TypeError(f"ignore must be None or a callable ignore(state) -> bool, got {type(ignore).__name__}")
        self.runner, self.delay, self.linger = runner, float(delay), float(linger)
        self.ignore = ignore
        self.bar = ipywidgets.FloatProgress(value=0.0, min=0.0, max=1.0,
                                            layout=ipywidgets.Layout(width="220px"))
        self.text = ipywidgets.Label("", layout=ipywidgets.Layout(min_width="200px"))
        self.text.add_class("nbx-progress-label")
        self.cancel_button = ipywidgets.Button(description="cancel", tooltip="cancel the running task",
                                               layout=ipywidgets.Layout(width="90px"))
        self.cancel_button.add_class("nbx-cancel")
        self.cancel_button.on_click(lambda _b: self.runner.cancel())
        super().__init__([self.bar, self.text, self.cancel_button], **kwargs)
        self.add_class("nbx-progress")
        self.layout.display = "none"
        self.layout.align_items = "center"
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        self._generation = runner.state["task"]  # the task being shown; stale timers compare it
        self._unsubscribe = runner.on_state(self._on_state)

    @property
    def visible(self) -> bool:
        """True while the bar is shown."""
        return self.layout.display != "none"

    def _on_state(self, state: dict[str, Any]) -> None:
        with self._lock:
            if self.ignore is not None and self.ignore(state):
                self._generation = state["task"]
                self._cancel_timer()
                self._hide()
                return
            if state["running"]:
                if state["task"] != self._generation:
                    self._generation = state["task"]  # a new task started
                    self._cancel_timer()
                    self._hide()
                    if self.delay > 0:
                        self._start_timer(self.delay, self._show_if_running, self._generation)
                        return
                if state["elapsed"] >= self.delay or self.visible:
                    self._draw(state)
            elif state["last"] in ("cancelled", "error") and self.visible:
                self._draw(state)
                self._start_timer(self.linger, self._hide_if_idle, self._generation)
            else:
                self._cancel_timer()
                self._hide()

    def _show_if_running(self, generation: int) -> None:
        with self._lock:
            state = self.runner.state
            if generation == self._generation and state["running"]:
                state["elapsed"] = max(state["elapsed"], self.delay)
                self._draw(state)

    def _hide_if_idle(self, generation: int) -> None:
        with self._lock:
            if generation == self._generation and not self.runner.state["running"]:
                self._hide()

    def _start_timer(self, seconds: float, fn: Any, generation: int) -> None:
        self._cancel_timer()
        self._timer = threading.Timer(seconds, fn, args=(generation,))
        self._timer.daemon = True
        self._timer.start()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _draw(self, state: dict[str, Any]) -> None:
        total = state["total"]
        with self.hold_sync():
            if not state["running"]:
                self.bar.bar_style = "warning" if state["last"] == "cancelled" else "danger"
                self.cancel_button.disabled = True
            elif total is None or total <= 0:
                self.bar.value, self.bar.bar_style = 1.0, "info"
                self.cancel_button.disabled = False
            else:
                self.bar.value = min(1.0, max(0.0, state["done"] / total))
                self.bar.bar_style = ""
                self.cancel_button.disabled = False
            self.text.value = format_state(state)
            self.layout.display = "flex"

    def _hide(self) -> None:
        if self.visible:
            self.layout.display = "none"
        if self.text.value:
            self.text.value = ""

    def close(self) -> None:
        """Stop listening to the runner and close the widgets (the bar, label, button, layouts)."""
        close_tree(self)

    def _release(self) -> None:
        """Called by :func:`~nbexplain.widgets._base.close_tree` first: unsubscribe, stop the timer."""
        self._unsubscribe()
        with self._lock:
            self._cancel_timer()
