"""Background tasks with progress and cancel: one worker thread per runner, tasks run in order.

A task is a function ``fn(control)`` that reports with ``control.progress(done, total)`` and
calls ``control.check()`` between steps, which raises :class:`Cancelled` once someone asked to
cancel. :class:`TaskRunner` runs tasks one at a time on a daemon thread (or inline with
``sync=True``) and tells listeners its state after every change. Pure Python: no widget imports
(``nbexplain.widgets.progress.TaskProgress`` draws a runner's state).

Nothing leaks over a notebook session: the worker thread holds only a weak reference to its
runner while it waits, and ends after ``idle_timeout`` seconds without work (the next
:meth:`TaskRunner.submit` starts a new one), so a runner (and the widget that owns it) that is
dropped or closed is freed and its thread is gone.

Example:
    >>> runner = TaskRunner(sync=True)
    >>> def count(control):
    ...     for i in range(3):
    ...         control.check()
    ...         control.progress(i + 1, 3)
    ...     return "counted"
    >>> runner.submit(count, label="count").result
    'counted'
    >>> runner.state["last"], runner.state["done"], runner.state["total"]
    ('done', 3.0, 3.0)
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["Cancelled", "Task", "TaskControl", "TaskRunner", "concat_explanations", "explain_dataset", "predict_dataset"]

_log = logging.getLogger(__name__)

#: Seconds between two progress states sent to listeners (the final one is always sent).
PROGRESS_INTERVAL = 0.05
#: Seconds an idle worker thread waits for a new task before it ends.
IDLE_TIMEOUT = 1.0


class Cancelled(Exception):
    """Raised by :meth:`TaskControl.check` when the task was asked to stop."""


class TaskControl:
    """What a running task gets: report progress, check for cancel.

    Example:
        >>> c = TaskControl()
        >>> c.progress(1, 4, "batch 1")
        >>> c.cancel(); c.cancelled
        True
        >>> c.check()
        Traceback (most recent call last):
        ...
        nbexplain.tasks.Cancelled: the task was cancelled
    """

    def __init__(self, on_progress: Callable[[float, float | None, str], None] | None = None) -> None:
        self._event = threading.Event()
        self._on_progress = on_progress

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        """Report ``done`` of ``total`` units (``total=None``: unknown), with an optional message."""
        if self._on_progress is not None:
            self._on_progress(float(done), None if total is None else float(total), str(message))

    def check(self) -> None:
        """Raise :class:`Cancelled` when cancel was requested; call it between steps."""
        if self._event.is_set():
            raise Cancelled("the task was cancelled")

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Ask the task to stop at its next :meth:`check`."""
        self._event.set()


class Task:
    """One submitted task: ``state`` is "queued", "running", "done", "cancelled" or "error".

    ``result`` holds ``fn``'s return value once done, ``error`` the exception it raised.

    Example:
        >>> t = TaskRunner(sync=True).submit(lambda control: 42, label="answer")
        >>> t.state, t.result, t.label
        ('done', 42, 'answer')
    """

    def __init__(self, fn: Callable[[TaskControl], Any], label: str, key: str | None,
                 on_done: Callable[[Any], Any] | None, on_error: Callable[[BaseException], Any] | None,
                 on_progress: Callable[[float, float | None, str], None]) -> None:
        self.fn, self.label, self.key = fn, label, key
        self.on_done, self.on_error = on_done, on_error
        self.control = TaskControl(on_progress)
        self.state = "queued"
        self.result: Any = None
        self.error: BaseException | None = None
        self._finished = threading.Event()

    def cancel(self) -> None:
        """Cancel this task (a queued one never runs; a running one stops at its next check)."""
        self.control.cancel()

    @property
    def finished(self) -> bool:
        """True once the task ran to an end (done, cancelled or error) or was dropped."""
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the task is finished; False when ``timeout`` seconds passed first."""
        return self._finished.wait(timeout)

    def __repr__(self) -> str:
        return f"Task(label={self.label!r}, state={self.state!r})"


def _idle_state() -> dict[str, Any]:
    return {"running": False, "label": "", "done": 0.0, "total": None, "message": "", "elapsed": 0.0,
            "last": "", "queued": 0, "task": 0}


class TaskRunner:
    """Runs tasks one at a time, in submission order, on one daemon worker thread.

    ``sync=True`` runs each task inline in :meth:`submit` (no thread; for scripts and tests).
    Listeners registered with :meth:`on_state` get a state dict after every change:
    ``{"running", "label", "done", "total", "message", "elapsed", "last", "queued", "task"}``
    where ``last`` is how the latest finished task ended ("done", "cancelled", "error" or ""),
    ``queued`` the number of waiting tasks and ``task`` counts the tasks started so far.
    Progress states are sent at most every ``progress_interval`` seconds (0: every one).
    The worker ends after ``idle_timeout`` seconds without a task and holds no strong
    reference to the runner while it waits, so a dropped runner is freed and its thread ends.

    Example:
        >>> runner = TaskRunner()
        >>> task = runner.submit(lambda control: sum(range(10)), label="sum")
        >>> runner.wait(5), task.result
        (True, 45)
        >>> runner.close()
    """

    def __init__(self, *, sync: bool = False, progress_interval: float = PROGRESS_INTERVAL,
                 name: str = "nbexplain-tasks", idle_timeout: float | None = None) -> None:
        self.sync = bool(sync)
        self.progress_interval = float(progress_interval)
        self.idle_timeout = float(IDLE_TIMEOUT if idle_timeout is None else idle_timeout)
        if not self.idle_timeout > 0:
            raise ValueError(f"idle_timeout must be > 0 seconds, got {idle_timeout!r}")
        self._name = name
        self._cond = threading.Condition()
        self._queue: deque[Task] = deque()
        self._running: Task | None = None
        self._listeners: list[Callable[[dict[str, Any]], Any]] = []
        self._state = _idle_state()
        self._started = 0.0
        self._last_emit = 0.0
        self._closed = False
        self._thread: threading.Thread | None = None
        # When the runner is garbage-collected, wake its idle worker so it ends at once.
        weakref.finalize(self, _wake, self._cond).atexit = False

    # -- public API ------------------------------------------------------------------------
    def submit(self, fn: Callable[[TaskControl], Any], *, label: str = "",
               on_done: Callable[[Any], Any] | None = None,
               on_error: Callable[[BaseException], Any] | None = None,
               replace: str | None = None) -> Task:
        """Queue ``fn(control)``; return its :class:`Task`.

        ``on_done(result)`` / ``on_error(exc)`` run on the worker after ``fn`` (neither runs for a
        cancelled task). ``replace=key``: a queued task with the same key is dropped and a running
        one is cancelled, so the latest submission wins (slider moves).
        """
        if not callable(fn):
            raise TypeError(f"fn must be a callable fn(control), got {type(fn).__name__}")
        if replace is not None and not isinstance(replace, str):
            raise TypeError(f"replace must be a key string or None, got {type(replace).__name__}")
        task = Task(fn, str(label), replace, on_done, on_error, lambda *a: None)
        task.control._on_progress = lambda d, t, m: self._progress(task, d, t, m)
        with self._cond:
            if self._closed:
                raise RuntimeError("this TaskRunner is closed; create a new TaskRunner")
            if replace is not None:
                for old in [t for t in self._queue if t.key == replace]:
                    self._queue.remove(old)
                    self._drop(old)
                if self._running is not None and self._running.key == replace:
                    self._running.cancel()
            self._queue.append(task)
            if not self.sync:
                self._ensure_thread()
            self._cond.notify_all()
        if self.sync:
            self._run_queued()
        return task

    def cancel(self) -> None:
        """Cancel the running task (at its next check) and drop every queued one."""
        with self._cond:
            dropped = list(self._queue)
            self._queue.clear()
            for task in dropped:
                self._drop(task)
            if self._running is not None:
                self._running.cancel()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no task is queued or running; False when ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queue or self._running is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            return True

    @property
    def busy(self) -> bool:
        """True while a task is queued or running."""
        with self._cond:
            return bool(self._queue) or self._running is not None

    @property
    def state(self) -> dict[str, Any]:
        """A copy of the latest state dict (the one listeners got last)."""
        with self._cond:
            return dict(self._state)

    def on_state(self, callback: Callable[[dict[str, Any]], Any]) -> Callable[[], None]:
        """Call ``callback(state)`` on every change (from the worker thread); returns an unsubscriber."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        with self._cond:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._cond:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self, timeout: float = 5.0) -> None:
        """Cancel everything, drop the listeners and stop the worker (waits up to ``timeout`` s).

        Closing twice is harmless; :meth:`submit` refuses new tasks afterwards.
        """
        self.cancel()
        with self._cond:
            self._closed = True
            self._listeners.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def __enter__(self) -> TaskRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.state
        return f"TaskRunner(sync={self.sync}, running={s['running']}, label={s['label']!r}, queued={s['queued']})"

    # -- the worker ------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        """Start a worker unless one is alive (caller holds the lock)."""
        if self._thread is None or not self._thread.is_alive():
            # The thread gets a weak reference: a bound method would keep the runner (and its
            # listeners' widgets) alive for as long as the thread runs.
            self._thread = threading.Thread(target=_worker_main, args=(weakref.ref(self), self._cond),
                                            name=self._name, daemon=True)
            self._thread.start()

    def _idle_exit(self) -> None:
        """The worker ends: forget it, so the next submit starts a new one (caller holds the lock)."""
        if self._thread is threading.current_thread():
            self._thread = None

    def _run_queued(self) -> None:
        """Run queued tasks until the queue is empty (on the worker, or inline when sync)."""
        while True:
            with self._cond:
                if not self._queue:
                    return
                task = self._queue.popleft()
                if task.control.cancelled:
                    self._drop(task)
                    continue
                self._running = task
                task.state = "running"
                self._started = self._last_emit = time.monotonic()
                self._set(running=True, label=task.label, done=0.0, total=None, message="", elapsed=0.0,
                          task=self._state["task"] + 1)
            self._run(task)

    def _run(self, task: Task) -> None:
        try:
            result = task.fn(task.control)
            outcome = "cancelled" if task.control.cancelled else "done"
        except Cancelled:
            outcome = "cancelled"
        except Exception as exc:  # reported to on_error; the worker lives on
            outcome, task.error = "error", exc
        if outcome == "done":
            task.result = result
            if task.on_done is not None:
                try:
                    task.on_done(result)
                except Exception as exc:  # reported to on_error; the worker lives on
                    outcome, task.error = "error", exc
        if outcome == "error" and task.error is not None:
            self._report(task, task.error)
        task.state = outcome
        with self._cond:
            self._running = None
            message = "" if task.error is None else f"{type(task.error).__name__}: {task.error}"
            self._set(running=False, last=outcome, message=message, elapsed=time.monotonic() - self._started)
            task._finished.set()
            self._cond.notify_all()

    def _report(self, task: Task, exc: BaseException) -> None:
        if task.on_error is None:
            _log.error("task %r failed", task.label, exc_info=exc)
            return
        try:
            task.on_error(exc)
        except Exception:
            _log.exception("the on_error handler of task %r failed", task.label)

    def _drop(self, task: Task) -> None:
        """Mark a queued task as cancelled (caller holds the lock)."""
        task.control.cancel()
        task.state = "cancelled"
        task._finished.set()

    def _progress(self, task: Task, done: float, total: float | None, message: str) -> None:
        with self._cond:
            if task is not self._running:
                return
            now = time.monotonic()
            final = total is not None and done >= total
            if not final and now - self._last_emit < self.progress_interval:
                self._state.update(done=done, total=total, message=message, elapsed=now - self._started)
                return
            self._last_emit = now
            self._set(done=done, total=total, message=message, elapsed=now - self._started)

    def _set(self, **changes: Any) -> None:
        """Update the state and tell the listeners (caller holds the lock; listeners run outside)."""
        self._state.update(changes, queued=len(self._queue))
        state = dict(self._state)
        listeners = list(self._listeners)
        self._cond.release()
        try:
            for callback in listeners:
                try:
                    callback(dict(state))
                except Exception:
                    _log.exception("a TaskRunner state listener failed")
        finally:
            self._cond.acquire()


def _wake(cond: threading.Condition) -> None:
    """Wake the waiting worker of a collected runner; never blocks (it may run inside the GC)."""
    if cond.acquire(blocking=False):
        try:
            cond.notify_all()
        finally:
            cond.release()


def _worker_main(ref: weakref.ReferenceType[TaskRunner], cond: threading.Condition) -> None:
    """The worker loop: run queued tasks; end when idle too long, closed or the runner is gone.

    Between tasks only ``ref`` (weak) and ``cond`` are held, so a runner nobody else refers to
    is freed while its worker waits, and the worker then ends within ``idle_timeout``.
    """
    while True:
        runner = ref()
        if runner is None:
            return
        with cond:
            if not runner._queue:
                if runner._closed:
                    runner._idle_exit()
                    return
                timeout = runner.idle_timeout
                runner = None  # wait on the weak reference only
                cond.wait(timeout)
                runner = ref()
                if runner is None:
                    return
                if not runner._queue:  # idle (or closed, or cancelled while idle): end; submit restarts
                    runner._idle_exit()
                    return
        runner._run_queued()
        runner = None


# The batched helpers live in nbexplain.batched; kept importable from here.
from nbexplain.batched import concat_explanations, explain_dataset, predict_dataset  # noqa: E402
