"""Permutation importance: how much a model's score drops when one feature (or group) is shuffled.

Every permuted copy of ``X`` (features x repeats) is stacked and sent through the model in a few
large chunked calls; the permutations come from one seeded generator, so reruns are identical.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = 3 * X[:, 0] + X[:, 1]
    >>> e = permutation_importance(lambda A: 3 * A[:, 0] + A[:, 1], X, y, n_repeats=3)
    >>> e.diagnostics["metric"], e.values.shape, float(e.values[0, 2])
    ('r2', (1, 3), 0.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from nbexplain.explainers.global_methods._tabular_inputs import (
    CHUNK_VALUES,
    check_names,
    frame_table,
    predict_chunked,
    resolve_feature,
    wrap_predict,
)
from nbexplain.explanation import Explanation
from nbexplain.guard import guarded
from nbexplain.models import to_numpy
from nbexplain.validate import check_finite, check_int, check_labels, column_names

METRICS = ("accuracy", "log_loss", "r2", "mse", "mae")
_LOSSES = {"log_loss", "mse", "mae"}


def _labels(out: np.ndarray, y: np.ndarray) -> np.ndarray:
    if out.shape[1] > 1:
        return np.argmax(out, axis=1)
    col = out[:, 0]
    if np.array_equal(col, np.round(col)):
        return col.astype(np.int64)
    return (col > 0.5).astype(np.int64)


def _metric_value(name: str, y: np.ndarray, out: np.ndarray) -> float:
    if name == "accuracy":
        return float(np.mean(_labels(out, y) == y))
    if name == "log_loss":
        yi = y.astype(np.int64)
        p = out[np.arange(len(y)), yi] if out.shape[1] > 1 else np.where(yi == 1, out[:, 0], 1 - out[:, 0])
        return float(-np.mean(np.log(np.clip(p, 1e-15, 1.0))))
    pred = out[:, 0] if out.shape[1] == 1 and y.ndim == 1 else out.reshape(y.shape)
    err = y - pred
    if name == "mse":
        return float(np.mean(err**2))
    if name == "mae":
        return float(np.mean(np.abs(err)))
    ss_tot = float(np.sum((y - y.mean(axis=0)) ** 2))
    ss_res = float(np.sum(err**2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def _auto_metric(out: np.ndarray, y: np.ndarray) -> str:
    if out.shape[1] > 1 and y.ndim == 1:
        return "accuracy"
    ints = np.array_equal(y, np.round(y)) and np.array_equal(out, np.round(out))
    return "accuracy" if ints and len(np.unique(y)) <= 20 else "r2"


def _groups(groups: Any, names: list[str]) -> tuple[list[np.ndarray], list[str]]:
    if groups is None:
        return [np.array([j]) for j in range(len(names))], list(names)
    items = groups.items() if isinstance(groups, Mapping) else [(None, g) for g in groups]
    cols, labels = [], []
    for label, members in items:
        members = [members] if isinstance(members, (str, int, np.integer)) else list(members)
        if not members:
            raise ValueError(f"group {label!r} is empty; every group needs at least one feature")
        idx = np.array(sorted({resolve_feature(m, names) for m in members}))
        cols.append(idx)
        labels.append(str(label) if label is not None else "+".join(names[j] for j in idx))
    return cols, labels


@guarded
def permutation_importance(
    model_or_predict: Any,
    X: Any,
    y: Any,
    *,
    metric: str | Callable[[np.ndarray, np.ndarray], float] = "auto",
    n_repeats: int = 5,
    seed: int = 0,
    feature_names: Sequence[str] | None = None,
    groups: Any = None,
    batch: bool = True,
    encoding: Any = None,
) -> Explanation:
    """Mean drop in score when each feature (or group of features) is permuted, as a global result.

    ``metric``: ``"auto"`` (accuracy for class/probability outputs, R^2 for regression), one of
    ``"accuracy", "log_loss", "r2", "mse", "mae"``, or a callable ``metric(y_true, outputs (n, k))
    -> float`` where greater is better. For the losses the importance is the increase in loss, so
    a positive value always means the feature matters. ``groups``: a list of lists of features
    (indices or names), or a dict ``{group name: features}``; each group is permuted jointly.
    ``batch=False`` calls the model once per permuted copy (for models that cannot take a stack).
    A pandas DataFrame ``X`` is permuted in its own columns (one importance per column, string
    and categorical columns included; :mod:`nbexplain.frames`) and the model is called with the
    DataFrame; ``encoding`` codes arrays as a DataFrame's. Missing values (NaN in a numeric column
    of a DataFrame) move with their row like any value; the model must take them.

    Returns an :class:`Explanation` with ``values`` (1, F) (mean drop), and diagnostics
    ``std`` (1, F), ``repeats`` (1, F, n_repeats), ``baseline_score`` and ``metric``.

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(1).normal(size=(100, 2)); y = (X[:, 0] > 0).astype(int)
        >>> f = lambda A: np.stack([A[:, 0] <= 0, A[:, 0] > 0], axis=1).astype(float)
        >>> e = permutation_importance(f, X, y, feature_names=["a", "b"])
        >>> e.diagnostics["metric"], e.diagnostics["baseline_score"], float(e.values[0, 1])
        ('accuracy', 1.0, 0.0)
    """
    Xa, enc = frame_table(X, "X", encoding)
    n, n_feat = Xa.shape
    y_raw = to_numpy(y)
    if y_raw.dtype.kind in "OSUb":  # strings, None, booleans: labels, checked as labels
        y_raw = check_labels(y_raw, n)
    ya = y_raw.astype(np.float64)
    if ya.ndim == 0 or ya.shape[0] != n:
        raise ValueError(f"y has {ya.shape[0] if ya.ndim else 0} entries but X has {n} rows; pass one target per row")
    check_finite(ya, "y", fix="Drop or fill the rows with missing targets")
    check_int(n_repeats, "n_repeats", min=1)
    check_int(seed, "seed", min=0)
    if not callable(metric) and metric != "auto" and metric not in METRICS:
        raise ValueError(f"metric must be 'auto', a callable or one of {METRICS}, got {metric!r}")
    names = check_names(feature_names if feature_names is not None else enc.names if enc else column_names(X), n_feat)
    cols, labels = _groups(groups, names)
    f = wrap_predict(model_or_predict, n_feat, enc)

    rng = np.random.default_rng(seed)
    perms = [[rng.permutation(n) for _ in cols] for _ in range(n_repeats)]
    jobs = [(r, g) for r in range(n_repeats) for g in range(len(cols))]

    def copy_of(r: int, g: int) -> np.ndarray:
        Xp = Xa.copy()
        Xp[:, cols[g]] = Xa[perms[r][g]][:, cols[g]]
        return Xp

    base_out = f(Xa)
    if batch:  # every permuted copy, stacked: as many copies per model call as CHUNK_VALUES allows
        per_call = max(1, CHUNK_VALUES // (n * n_feat))
        parts = [predict_chunked(f, np.concatenate([copy_of(r, g) for r, g in jobs[s:s + per_call]]))
                 for s in range(0, len(jobs), per_call)]
        perm_out = np.concatenate(parts).reshape(n_repeats, len(cols), n, -1)
    else:
        perm_out = np.stack([f(copy_of(r, g)) for r, g in jobs]).reshape(n_repeats, len(cols), n, -1)

    if callable(metric):
        name, sign = getattr(metric, "__name__", "custom"), 1.0
        def score(o: np.ndarray) -> float:
            return float(metric(ya, o))  # type: ignore[operator]
    else:
        name = _auto_metric(base_out, ya) if metric == "auto" else metric
        if name not in METRICS:
            raise ValueError(f"metric must be 'auto', a callable or one of {METRICS}, got {metric!r}")
        sign = -1.0 if name in _LOSSES else 1.0
        if name in ("accuracy", "log_loss"):  # class labels: no fraction or probability truncated to a class
            ya = check_labels(ya, n, k=base_out.shape[1] if base_out.shape[1] > 1 else None).astype(np.float64)
        def score(o: np.ndarray) -> float:
            return _metric_value(name, ya, o)

    baseline = score(base_out)
    drops = np.array([[sign * (baseline - score(perm_out[r, g])) for r in range(n_repeats)]
                      for g in range(len(cols))])
    return Explanation(
        drops.mean(axis=1)[None],
        feature_names=labels,
        method="permutation_importance",
        params={"n_repeats": int(n_repeats), "seed": seed, "metric": name, "batch": batch,
                "groups": [idx.tolist() for idx in cols] if groups is not None else None},
        diagnostics={"std": drops.std(axis=1)[None], "repeats": drops[None], "baseline_score": baseline,
                     "metric": name, "n_rows": n},
    )
