"""Error analysis: per-sample loss and correctness, misclassified lists, the confusion matrix.

:func:`error_analysis` runs the model once and returns an :class:`ErrorReport` whose indices feed
the explorer's filters (a confusion-matrix click is :meth:`ErrorReport.samples_in_cell`).

Example:
    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8]])
    >>> r = error_analysis(lambda X: P[X[:, 0].astype(int)], np.arange(3)[:, None], [0, 0, 1])
    >>> r.confusion.tolist(), r.misclassified.tolist(), r.samples_in_cell(0, 1).tolist()
    ([[1, 1], [0, 1]], [1], [1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.diagnostics import _metrics as M
from nbexplain.validate import check_class_names


@dataclass
class ErrorReport:
    """Per-sample errors of one model on ``(X, y)``; arrays are numpy, :meth:`to_dict` is JSON-able.

    Classification: ``loss`` is the cross-entropy ``-log p[y]`` (clipped), ``pred`` the argmax
    class, ``confidence`` the top probability, ``margin`` the top minus the runner-up probability,
    ``proba`` the ``(n, k)`` probabilities. Regression: ``loss`` is the squared error, ``pred`` the
    prediction, ``correct``/``confidence``/``margin``/``confusion`` are ``None``.

    Example:
        >>> import numpy as np
        >>> r = error_analysis(lambda X: np.c_[1 - X[:, 0], X[:, 0]], np.array([[0.9], [0.2]]), [0, 0])
        >>> r.correct.tolist(), r.top_errors(1).tolist()
        ([False, True], [0])
    """

    task: str
    y: np.ndarray
    pred: np.ndarray
    loss: np.ndarray
    metrics: dict[str, Any]
    proba: np.ndarray | None = None
    correct: np.ndarray | None = None
    confidence: np.ndarray | None = None
    margin: np.ndarray | None = None
    confusion: np.ndarray | None = None
    class_names: list[str] | None = None
    misclassified: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.y)

    def _need_classes(self, what: str) -> None:
        if self.task != "classification":
            raise ValueError(f"{what} is for classification; this report is for {self.task}")

    def _class(self, c: Any, what: str) -> int:
        k = self.proba.shape[1]  # type: ignore[union-attr]
        if isinstance(c, str):
            if not self.class_names or c not in self.class_names:
                raise ValueError(f"unknown class {c!r} for {what}; classes: {self.class_names or list(range(k))}")
            return self.class_names.index(c)
        c = int(c)
        if not 0 <= c < k:
            raise ValueError(f"{what} class {c} is out of range 0..{k - 1}")
        return c

    def samples_in_cell(self, true: Any, pred: Any) -> np.ndarray:
        """Indices of samples with true class ``true`` predicted as ``pred`` (a confusion-matrix cell).

        Classes by index or by name from ``class_names``; indices in ascending order.
        """
        self._need_classes("samples_in_cell")
        t, p = self._class(true, "true"), self._class(pred, "pred")
        return np.flatnonzero((self.y == t) & (self.pred == p))

    def top_errors(self, n: int = 10) -> np.ndarray:
        """The ``n`` samples with the largest loss, largest first (ties: lower index first)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return np.argsort(-self.loss, kind="stable")[:n]

    def filter(self, true: Any = None, pred: Any = None, correct: bool | None = None,
               confidence: tuple[float, float] | None = None) -> np.ndarray:
        """Indices matching every given condition (``None`` = no condition), ascending.

        ``confidence=(lo, hi)`` keeps ``lo <= confidence <= hi``. ``true``/``pred``/``correct``/
        ``confidence`` need a classification report.

        Example:
            >>> import numpy as np
            >>> r = error_analysis(lambda X: np.c_[1 - X[:, 0], X[:, 0]], np.array([[0.9], [0.6], [0.1]]), [0, 1, 0])
            >>> r.filter(correct=True, confidence=(0.8, 1.0)).tolist()
            [2]
        """
        keep = np.ones(len(self.y), dtype=bool)
        if true is None and pred is None and correct is None and confidence is None:
            return np.flatnonzero(keep)
        self._need_classes("filter")
        if true is not None:
            keep &= self.y == self._class(true, "true")
        if pred is not None:
            keep &= self.pred == self._class(pred, "pred")
        if correct is not None:
            keep &= self.correct == bool(correct)  # type: ignore[operator]
        if confidence is not None:
            lo, hi = confidence
            if lo > hi:
                raise ValueError(f"confidence range ({lo}, {hi}) is empty: lo must be <= hi")
            keep &= (self.confidence >= lo) & (self.confidence <= hi)  # type: ignore[operator]
        return np.flatnonzero(keep)

    def summary(self) -> dict[str, Any]:
        """The metrics (accuracy, balanced accuracy, log loss, macro F1... or MSE, MAE, R^2)."""
        out = dict(self.metrics)
        out["task"] = self.task
        if self.task == "classification":
            out["n_misclassified"] = len(self.misclassified)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (lists and floats, no numpy) for widgets."""
        def lst(a: np.ndarray | None) -> Any:
            return None if a is None else a.tolist()

        return {
            "task": self.task, "summary": self.summary(), "class_names": self.class_names,
            "y": lst(self.y), "pred": lst(self.pred), "loss": lst(self.loss), "correct": lst(self.correct),
            "confidence": lst(self.confidence), "margin": lst(self.margin), "confusion": lst(self.confusion),
            "misclassified": lst(self.misclassified),
        }


def error_analysis(model_or_predict: Any, X: Any, y: Any, *, class_names: Sequence[str] | None = None,
                   task: str = "auto", batch_size: int = 1024) -> ErrorReport:
    """Run the model on ``X`` once and measure its errors against ``y``.

    ``model_or_predict``: anything :func:`nbexplain.as_predict_fn` takes (torch module, estimator,
    callable). ``task``: ``"auto"`` (``(n, k > 1)`` outputs or integer predictions with integer
    ``y`` = classification; one float output per row = regression, so a one-logit binary torch
    model needs ``task="classification"``: sigmoid, or the output as is when it lies in ``[0, 1]``),
    ``"classification"`` or ``"regression"``. ``misclassified`` is sorted by confidence, most
    confidently wrong first.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.linear_model import LogisticRegression
        >>> X, y = load_iris(return_X_y=True)
        >>> r = error_analysis(LogisticRegression(max_iter=500).fit(X, y), X, y)
        >>> r.confusion.shape, r.summary()["accuracy"] > 0.9
        ((3, 3), True)
    """
    names = check_class_names(class_names)
    task, out, ya = M.model_outputs(model_or_predict, X, y, task=task,
                                    n_classes=None if names is None else len(names), batch_size=batch_size)
    if task == "regression":
        return ErrorReport(task=task, y=ya, pred=out, loss=(out - ya) ** 2, metrics=M.regression_metrics(ya, out))
    k = out.shape[1]
    pred = out.argmax(axis=1)
    top2 = np.sort(out, axis=1)[:, -2:]
    confidence = top2[:, 1]
    correct = pred == ya
    wrong = np.flatnonzero(~correct)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")]
    return ErrorReport(
        task=task, y=ya, pred=pred, loss=M.per_sample_log_loss(ya, out), metrics=M.classification_metrics(ya, out),
        proba=out, correct=correct, confidence=confidence, margin=top2[:, 1] - top2[:, 0],
        confusion=M.confusion_matrix(ya, pred, k), class_names=names, misclassified=order,
    )
