"""Task detection and metrics in plain numpy, with named errors for bad input.

Classification works on class probabilities ``(n, k)``, ``k > 1`` (or integer label predictions
``(n,)``); regression on outputs ``(n,)`` or ``(n, 1)``.

Example:
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> y = np.array([0, 1, 1])
    >>> detect_task(p, y)
    'classification'
    >>> classification_metrics(y, p)["accuracy"]
    0.6666666666666666
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nbexplain.validate import check_finite, check_labels, check_model_output

EPS = 1e-15  # probabilities are clipped to [EPS, 1 - EPS] before the log (as sklearn's log_loss)
TASKS = ("auto", "classification", "regression")


def check_predictions(pred: Any, what: str = "model") -> np.ndarray:
    """Predictions as float64, raising a named ``ValueError`` on NaN or infinity.

    Example:
        >>> check_predictions([[0.5, 0.5]]).dtype
        dtype('float64')
    """
    return check_model_output(np.asarray(pred, dtype=np.float64), what)


def check_y(y: Any, n: int, *, x_name: str = "X") -> np.ndarray:
    """``y`` as a 1-D array of length ``n`` (``(n, 1)`` is flattened), or a named error.

    Example:
        >>> check_y([[1], [0]], 2).tolist()
        [1, 0]
    """
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2 and arr.dtype.kind == "f":
        check_labels(arr, n, x_name=x_name)  # probabilities or one-hot rows: says to pass y.argmax(1)
    if arr.ndim != 1:
        raise ValueError(f"y must be 1-D (one target per row), got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"y length mismatch: y has {len(arr)} values but {x_name} has {n} rows; "
                         "pass one target per row")
    if arr.dtype.kind in "OSU":  # strings or None: no class index, no number
        check_labels(arr, n, x_name=x_name)
    return check_finite(arr, "y", fix="Drop or fill the rows with missing targets")


def _is_integral(a: np.ndarray) -> bool:
    if a.dtype.kind in "iub":
        return True
    return a.dtype.kind == "f" and bool(np.all(np.isfinite(a))) and bool(np.all(a == np.round(a)))


def detect_task(pred: np.ndarray, y: np.ndarray | None = None) -> str:
    """``"classification"`` for ``(n, k > 1)`` outputs, or ``(n,)`` integer outputs with integer ``y``;
    ``"regression"`` otherwise (``(n,)`` or ``(n, 1)`` outputs).

    Example:
        >>> import numpy as np
        >>> detect_task(np.zeros((4, 3))), detect_task(np.array([0.5, 1.2]))
        ('classification', 'regression')
    """
    pred = np.asarray(pred)
    if pred.ndim == 2 and pred.shape[1] > 1:
        return "classification"
    flat = pred.reshape(len(pred))
    if y is not None and _is_integral(flat) and _is_integral(np.asarray(y)) and y.dtype.kind in "iub":
        return "classification"
    return "regression"


def as_labels(y: np.ndarray, k: int) -> np.ndarray:
    """Integer class labels in ``0..k-1``, or a named error.

    Example:
        >>> as_labels(np.array([0.0, 2.0]), 3).tolist()
        [0, 2]
    """
    return check_labels(y, len(y), k=k)


def one_hot_labels(pred_labels: np.ndarray, k: int) -> np.ndarray:
    """Integer predictions ``(n,)`` as one-hot "probabilities" ``(n, k)``.

    Example:
        >>> one_hot_labels(np.array([1, 0]), 2).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    out = np.zeros((len(pred_labels), k))
    out[np.arange(len(pred_labels)), pred_labels.astype(np.int64)] = 1.0
    return out


def confusion_matrix(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """``(k, k)`` counts, rows = true class, columns = predicted class.

    Example:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2).tolist()
        [[1, 0], [1, 1]]
    """
    return np.bincount(y * k + pred, minlength=k * k).reshape(k, k).astype(np.int64)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b > 0)


def per_sample_log_loss(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Cross-entropy of each sample, ``-log p[y]`` with ``p`` clipped to ``[1e-15, 1 - 1e-15]``.

    Example:
        >>> per_sample_log_loss(np.array([0]), np.array([[0.5, 0.5]])).round(4).tolist()
        [0.6931]
    """
    p = np.clip(proba[np.arange(len(y)), y], EPS, 1 - EPS)
    return -np.log(p)


def classification_metrics(y: np.ndarray, proba: np.ndarray, *, require_two_classes: bool = False) -> dict[str, Any]:
    """Accuracy, balanced accuracy, log loss, macro F1, per-class precision/recall and support.

    ``proba`` is ``(n, k)``; ``y`` integer labels in ``0..k-1``. Balanced accuracy and macro F1
    average over the classes present in ``y`` (as scikit-learn does for balanced accuracy; macro
    F1 over the classes present in ``y`` or predicted). ``require_two_classes`` raises a named error
    for a one-class ``y`` (log loss and balanced accuracy say little there).

    Example:
        >>> import numpy as np
        >>> m = classification_metrics(np.array([0, 1]), np.array([[0.8, 0.2], [0.4, 0.6]]))
        >>> round(m["log_loss"], 4), m["accuracy"], m["recall"]
        (0.367, 1.0, [1.0, 1.0])
    """
    n, k = proba.shape
    if n == 0:
        raise ValueError("no samples: metrics need at least one row")
    y = as_labels(y, k)
    present = np.unique(y)
    if require_two_classes and len(present) < 2:
        raise ValueError(f"one-class y: every target is class {int(present[0])}, but balanced accuracy and log "
                         "loss compare at least two classes; pass data with both classes")
    pred = proba.argmax(axis=1)
    cm = confusion_matrix(y, pred, k)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    used = (support > 0) | (predicted > 0)
    return {
        "n": int(n),
        "accuracy": float(np.mean(pred == y)),
        "balanced_accuracy": float(np.mean(recall[support > 0])),
        "log_loss": float(np.mean(per_sample_log_loss(y, proba))),
        "macro_f1": float(np.mean(f1[used])),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "support": support.astype(int).tolist(),
    }


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """MSE, MAE and R^2 (R^2 is NaN when ``y`` is constant: it has no variance to explain).

    Example:
        >>> import numpy as np
        >>> regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))["mae"]
        0.3333333333333333
    """
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64).reshape(len(pred))
    if len(y) == 0:
        raise ValueError("no samples: metrics need at least one row")
    err = pred - y
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    mse = float(np.mean(err ** 2))
    return {
        "n": len(y),
        "mse": mse,
        "mae": float(np.mean(np.abs(err))),
        "r2": float(1.0 - np.sum(err ** 2) / ss_tot) if ss_tot > 0 else float("nan"),
    }


HEADLINE = {"classification": "accuracy", "regression": "mse"}
"""The metric used for gaps and flags per task (accuracy: higher is better; MSE: lower is better)."""


def model_outputs(model: Any, X: Any, y: Any, *, task: str = "auto", n_classes: int | None = None,
                  batch_size: int = 1024) -> tuple[str, np.ndarray, np.ndarray]:
    """Run ``model`` once on ``X``: ``(task, outputs, y)``.

    Classification outputs are probabilities ``(n, k)`` by the one rule of
    :mod:`nbexplain.output_kind`: rows of ``predict_proba`` (or any rows in [0, 1] summing to 1)
    as they are, other ``(n, k)`` scores through softmax, one output column in ``[0, 1]`` as
    ``[1 - p, p]`` (outside, sigmoid); integer label predictions one-hot. Regression outputs are ``(n,)``.

    Example:
        >>> import numpy as np
        >>> task, p, y = model_outputs(lambda X: np.c_[1 - X[:, 0], X[:, 0]], np.array([[0.2], [0.9]]), [0, 1])
        >>> task, p.round(2).tolist()
        ('classification', [[0.8, 0.2], [0.1, 0.9]])
    """
    from nbexplain.models import as_predict_fn, to_numpy
    from nbexplain.output_kind import remembered_kind, to_probabilities

    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    Xa = to_numpy(X)
    if Xa.ndim == 0 or len(Xa) == 0:
        raise ValueError(f"empty X: got shape {Xa.shape}; pass at least one row")
    ya = check_y(to_numpy(y), len(Xa))
    out = check_predictions(as_predict_fn(model, batch_size=batch_size)(Xa))
    if task == "auto":
        task = detect_task(out, ya)
    if task == "regression":
        if out.shape[1] != 1:
            raise ValueError(f"regression needs one output per row, the model gives {out.shape[1]}; "
                             "pass task='classification' for class scores")
        return task, out[:, 0], ya.astype(np.float64)
    col = out[:, 0]
    if out.shape[1] == 1 and _is_integral(col) and (col.min() < 0 or col.max() > 1
                                                     or np.asarray(ya).dtype.kind in "iub"):
        top = int(max(col.max(), np.max(ya) if len(ya) else 0)) + 1
        proba = one_hot_labels(col, max(n_classes or 0, top, 2))
    else:  # the one output-kind rule of every entry point (nbexplain.output_kind)
        proba = to_probabilities(out, remembered_kind(model, out), what="the model")
    if n_classes is not None and proba.shape[1] != n_classes:
        raise ValueError(f"class_names has {n_classes} names but the model gives {proba.shape[1]} classes")
    return task, proba, as_labels(ya, proba.shape[1])
