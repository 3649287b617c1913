"""RunProgress: the widget of a dataset-wide run (what ``run.progress`` and a run shown in a cell draw).

While the run goes: the project's task progress bar (:class:`nbexplain.widgets.progress.TaskProgress`,
on the run's :class:`~nbexplain.tasks.TaskRunner`) with its text, "explaining the data set: 3/10,
3 of 10 chunks, 2,400 rows/s, 3 s left, 1.2 s", and its cancel button, which stops scheduling new
chunks (the finished ones stay in the store). The same for a run on a Dask cluster: the progress
comes from the notebook's process, which receives every finished chunk. When the run is over the
bar hides and a line says how it ended ("done: 10 of 10 chunks, 2,400 rows/s", or "cancelled: ...
run the same call again to resume"), so a saved notebook still says what was computed.

Example:
    >>> import numpy as np, tempfile, torch
    >>> from nbexplain.explainers import Saliency
    >>> from nbexplain.scale.run import explain_dataset
    >>> run = explain_dataset(Saliency(torch.nn.Linear(3, 2)), np.ones((10, 3), np.float32),
    ...                       store=tempfile.mkdtemp() + "/s.zarr", chunk_size=4, sync=True)
    >>> w = run.progress
    >>> w.summary.value, w.bar.cancel_button.description
    ('done: 3 of 3 chunks, ... rows/s', 'cancel')
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets

from nbexplain.widgets._base import ClosesTree, close_tree
from nbexplain.widgets.progress import TaskProgress

__all__ = ["RunProgress"]


class RunProgress(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Progress, cancel and outcome of a :class:`~nbexplain.scale.run.DatasetRun` (see the module docstring).

    Parts: ``.bar`` (a :class:`~nbexplain.widgets.progress.TaskProgress`: ``.bar.bar``,
    ``.bar.text``, ``.bar.cancel_button``), ``.summary`` (a ``Label``: how the run ended, empty
    while it runs). CSS class ``nbx-run-progress``.
    """

    def __init__(self, run: Any, **kwargs: Any) -> None:
        if not hasattr(run, "status") or not hasattr(run, "runner"):
            raise TypeError(f"run must be an nbexplain DatasetRun (nbx.explain_dataset), got {type(run).__name__}")
        self.run = run
        self.bar = TaskProgress(run.runner, delay=0.0)
        self.summary = ipywidgets.Label("")
        self.summary.add_class("nbx-progress-label")
        super().__init__([self.bar, self.summary], **kwargs)
        self.add_class("nbx-run-progress")
        self._lock = threading.Lock()
        self._unsubscribe = run.runner.on_state(lambda _state: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        """Redraw the outcome line from the run's status (called on every change of the runner)."""
        with self._lock:
            status = self.run.status()
            text = "" if status["state"] in ("running", "queued") else status["text"]
            if self.summary.value != text:
                self.summary.value = text

    def close(self) -> None:
        """Stop listening to the run's runner and close the widgets."""
        close_tree(self)

    def _release(self) -> None:
        self._unsubscribe()
