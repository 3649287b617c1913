"""Bias analysis: metrics per data split (train vs test) and per slice of one feature.

Example:
    >>> import numpy as np
    >>> X = np.array([[-1.0], [-2.0], [1.0], [2.0]])
    >>> model = lambda X: np.c_[X[:, 0] >= 0, X[:, 0] < 0].astype(float)  # right for x < 0 only
    >>> r = slice_metrics(model, X, [1, 1, 1, 1], 0, bins=2, categories=None, min_size=1)
    >>> [s.metrics["accuracy"] for s in r.slices]
    [1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nbexplain.diagnostics import _metrics as M
from nbexplain.explainers.global_methods._tabular_inputs import resolve_feature
from nbexplain.validate import check_feature_names, check_int

OVERFIT_THRESHOLD = 0.05
"""Default flag level: a split is flagged as overfit when the reference (train) accuracy exceeds its
accuracy by more than this (for regression: the R^2 drop)."""
CATEGORICAL_MAX_UNIQUE = 10
"""``categories="auto"`` treats a feature with at most this many distinct values as categorical."""


def _scalars(m: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in m.items() if isinstance(v, float)}


@dataclass
class SplitComparison:
    """Metrics per split and the gaps ``split - reference`` for each scalar metric.

    ``gaps[name]["accuracy"] < 0`` means the model does worse on ``name`` than on the reference;
    ``overfit[name]`` is True when the drop in the flag metric (``accuracy``, or ``r2`` for
    regression) exceeds ``threshold``.
    """

    task: str
    reference: str
    metrics: dict[str, dict[str, Any]]
    gaps: dict[str, dict[str, float]]
    overfit: dict[str, bool]
    flag_metric: str
    threshold: float

    @property
    def is_overfit(self) -> bool:
        """True when any split is flagged."""
        return any(self.overfit.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for widgets (NaN stays a float NaN)."""
        return asdict(self) | {"is_overfit": self.is_overfit}


def compare_splits(model_or_predict: Any, splits: Mapping[str, tuple[Any, Any]], *, reference: str = "train",
                   threshold: float = OVERFIT_THRESHOLD, task: str = "auto",
                   batch_size: int = 1024) -> SplitComparison:
    """Metrics of one model on several ``{name: (X, y)}`` splits, gaps against ``reference``.

    Example:
        >>> import numpy as np
        >>> model = lambda X: np.c_[1 - X[:, 0], X[:, 0]]
        >>> X = np.array([[0.9], [0.1]])
        >>> c = compare_splits(model, {"train": (X, [1, 0]), "test": (X, [0, 1])})
        >>> c.gaps["test"]["accuracy"], c.overfit["test"]
        (-1.0, True)
    """
    if not splits:
        raise ValueError("splits is empty: pass {'train': (X_train, y_train), 'test': (X_test, y_test)}")
    if reference not in splits:
        raise ValueError(f"reference split {reference!r} not in splits {list(splits)}")
    metrics: dict[str, dict[str, Any]] = {}
    tasks = set()
    for name, pair in splits.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"split {name!r} must be a pair (X, y), got {type(pair).__name__}")
        t, out, ya = M.model_outputs(model_or_predict, pair[0], pair[1], task=task, batch_size=batch_size)
        tasks.add(t)
        metrics[name] = M.classification_metrics(ya, out) if t == "classification" else M.regression_metrics(ya, out)
    if len(tasks) > 1:
        raise ValueError(f"splits disagree on the task ({sorted(tasks)}); pass task='classification' or 'regression'")
    t = tasks.pop()
    flag = "accuracy" if t == "classification" else "r2"
    ref = _scalars(metrics[reference])
    gaps, overfit = {}, {}
    for name in splits:
        if name == reference:
            continue
        gaps[name] = {k: v - ref[k] for k, v in _scalars(metrics[name]).items() if k in ref}
        overfit[name] = bool(-gaps[name][flag] > threshold)
    return SplitComparison(task=t, reference=reference, metrics=metrics, gaps=gaps, overfit=overfit,
                           flag_metric=flag, threshold=float(threshold))


@dataclass
class Slice:
    """One slice: ``[lo, hi)`` (``hi`` included when ``closed_right``) or a category ``value``."""

    label: str
    size: int
    metrics: dict[str, Any] | None
    gap: float | None
    reliable: bool
    lo: float | None = None
    hi: float | None = None
    closed_right: bool = False
    value: Any = None


@dataclass
class SliceReport:
    """Metrics per slice of ``feature``; ``assignment[i]`` is sample ``i``'s slice (all samples once).

    ``gap`` is the slice's headline metric (``metric``: accuracy, or MSE for regression) minus the
    overall one; ``reliable`` is False for slices smaller than ``min_size``.
    """

    task: str
    feature: str | int
    feature_index: int
    kind: str
    metric: str
    overall: dict[str, Any]
    slices: list[Slice]
    assignment: np.ndarray
    min_size: int

    def indices(self, i: int) -> np.ndarray:
        """Indices of the samples in slice ``i`` (to filter the explorer)."""
        return np.flatnonzero(self.assignment == i)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for widgets (no numpy; ``assignment`` as a list)."""
        d = {k: v for k, v in asdict(self).items() if k != "assignment"}
        d["slices"] = [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in s.items()} for s in d["slices"]]
        return d | {"assignment": self.assignment.tolist()}


def _bins(x: np.ndarray, bins: int) -> tuple[np.ndarray, list[tuple[float, float, bool]]]:
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    if len(edges) == 1:
        return np.zeros(len(x), dtype=np.int64), [(float(edges[0]), float(edges[0]), True)]
    assign = np.searchsorted(edges[1:-1], x, side="right")
    spans = [(float(edges[i]), float(edges[i + 1]), i == len(edges) - 2) for i in range(len(edges) - 1)]
    return assign.astype(np.int64), spans


def slice_metrics(model_or_predict: Any, X: Any, y: Any, feature: str | int, *, bins: int = 5,
                  categories: str | Sequence[Any] | None = "auto", feature_names: Sequence[str] | None = None,
                  min_size: int = 10, task: str = "auto", batch_size: int = 1024) -> SliceReport:
    """Metrics of the model per slice of one feature: quantile bins, or categories.

    ``categories``: ``"auto"`` (categorical when the feature has at most 10 distinct values or is
    not numeric), ``None`` (always quantile bins), or the list of category values (samples with other
    values go to a final ``"(other)"`` slice). Numeric slices are ``[lo, hi)``, the last ``[lo, hi]``;
    equal quantiles merge, so there may be fewer than ``bins`` slices. The model runs once.

    Example:
        >>> import numpy as np
        >>> X = np.c_[np.arange(20.0)]
        >>> r = slice_metrics(lambda X: np.c_[np.ones(20), np.zeros(20)], X, [0] * 20, 0, bins=4, categories=None)
        >>> [(s.lo, s.hi, s.size) for s in r.slices][-1]
        (14.25, 19.0, 5)
    """
    from nbexplain.models import to_numpy

    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    Xa = to_numpy(X)
    if Xa.ndim != 2 or len(Xa) == 0:
        raise ValueError(f"slice_metrics needs a non-empty table X (n, features), got shape {Xa.shape}")
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    check_int(min_size, "min_size", min=1)
    feature_names = check_feature_names(feature_names, Xa.shape[1])
    j = resolve_feature(feature, feature_names, Xa.shape[1])
    numeric_X = Xa.astype(np.float64) if Xa.dtype.kind in "iufb" else None
    t, out, ya = M.model_outputs(model_or_predict, numeric_X if numeric_X is not None else Xa, y, task=task,
                                 batch_size=batch_size)
    x = Xa[:, j]
    numeric = x.dtype.kind in "iufb"
    uniq = np.unique(x)
    cat_values: list[Any] | None = None
    if categories is not None and not isinstance(categories, str):
        cat_values = list(categories)
    elif categories == "auto" and (not numeric or len(uniq) <= CATEGORICAL_MAX_UNIQUE):
        cat_values = uniq.tolist()
    elif categories not in (None, "auto"):
        raise ValueError(f"categories must be 'auto', None or a list of values, got {categories!r}")
    if not numeric and cat_values is None:
        raise ValueError(f"feature {feature!r} is not numeric (dtype {x.dtype}); it needs categories")

    def metrics(idx: np.ndarray) -> dict[str, Any]:
        return M.classification_metrics(ya[idx], out[idx]) if t == "classification" else \
            M.regression_metrics(ya[idx], out[idx])

    headline = M.HEADLINE[t]
    overall = metrics(np.arange(len(ya)))
    slices: list[Slice] = []
    if cat_values is not None:
        assign = np.full(len(x), len(cat_values), dtype=np.int64)
        for i, v in enumerate(cat_values):
            assign[x == v] = i
        specs = [dict(label=f"{feature_names[j] if feature_names else j} = {v}", value=v) for v in cat_values]
        if (assign == len(cat_values)).any():
            specs.append(dict(label="(other)", value=None))
        kind = "categorical"
    else:
        assign, spans = _bins(x.astype(np.float64), bins)
        specs = [dict(label=f"[{lo:.4g}, {hi:.4g}{']' if cr else ')'}", lo=lo, hi=hi, closed_right=cr)
                 for lo, hi, cr in spans]
        kind = "quantile"
    for i, spec in enumerate(specs):
        idx = np.flatnonzero(assign == i)
        m = metrics(idx) if len(idx) else None
        gap = None if m is None else float(m[headline] - overall[headline])
        slices.append(Slice(size=len(idx), metrics=m, gap=gap, reliable=len(idx) >= min_size, **spec))
    name = feature_names[j] if feature_names is not None else j
    return SliceReport(task=t, feature=name, feature_index=j, kind=kind, metric=headline, overall=overall,
                       slices=slices, assignment=assign, min_size=int(min_size))
