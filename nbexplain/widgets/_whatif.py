"""The compute calls behind a what-if session: predict, explain, slider ranges (no widget code).

Everything numeric is delegated to :mod:`nbexplain.models` and :mod:`nbexplain.explainers`;
this module only decides *which* call to make and packages the result for display.

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(20, 3)); x0 = X[0]
    >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # class probabilities
    >>> s = WhatIfSession.create(model, x0, explainer="kernel_shap", data=X)
    >>> round(s.evaluate(x0).prediction, 2)
    0.53
    >>> edited = x0.copy(); edited[0] = -2.0
    >>> round(s.evaluate(edited).prediction, 2), s.label()    # same target, lower probability
    (0.12, 'P(class 1)')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._explanation import pick_output, pick_scalar
from ._traits import to_numpy

__all__ = ["Evaluation", "WhatIfSession", "category_lists", "make_explainer", "slider_ranges"]


def make_explainer(explainer: Any, model: Any, data: Any = None) -> Any:
    """An object with ``.explain(X, target=None)``: ``explainer`` itself, or the registry's by name.

    Example:
        >>> X = np.random.default_rng(0).normal(size=(20, 3))
        >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # class probabilities
        >>> type(make_explainer("shap", model, data=X)).__name__    # shap's Permutation explainer, built lazily
        'ShapTabular'
        >>> ks = make_explainer("kernel_shap", model, data=X); ks
        KernelShap(players=3, features=3, background=20, exact=True, seed=0)
        >>> make_explainer(ks, model) is ks    # an object with .explain is used as it is
        True
    """
    if hasattr(explainer, "explain"):
        return explainer
    if not isinstance(explainer, str):
        raise TypeError(
            f"explainer must be a method name ('saliency', 'saliency_abs', 'shap', 'lime') or an "
            f"object with .explain(X, target=None); got {type(explainer).__name__}"
        )
    from ..explainers.registry import get_explainer, uses_data

    return get_explainer(explainer, model, data=data if uses_data(explainer) else None)


def predict_probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    """Class probabilities ``(n, k)`` for the batch ``x`` (the compute layer's ``predict_proba``).

    Example:
        >>> X = np.random.default_rng(0).normal(size=(20, 3))
        >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # class probabilities
        >>> predict_probabilities(model, X[:2]).shape
        (2, 2)
    """
    from ..models import predict_proba

    return np.asarray(to_numpy(predict_proba(model, x)), dtype=np.float64)


def slider_ranges(sample: np.ndarray, data: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-feature (min, max, step) for the what-if sliders.

    With ``data`` (N, F): the data set's range per feature, widened to include the sample.
    Without: ``sample +- max(|sample|, 1)``. ``step`` is a hundredth of the range (a hundredth of
    ``max(|min|, 1)`` for a constant feature).

    Example:
        >>> lo, hi, step = slider_ranges(np.array([1.0, 0.0]), np.array([[0.0, 0.0], [2.0, 0.0]]))
        >>> lo.tolist(), hi.tolist(), step.tolist()
        ([0.0, 0.0], [2.0, 0.0], [0.02, 0.01])
    """
    x = np.asarray(sample, dtype=np.float64)
    if data is None:
        half = np.maximum(np.abs(x), 1.0)
        lo, hi = x - half, x + half
    else:
        d = np.asarray(to_numpy(data), dtype=np.float64).reshape(-1, x.size)
        if d.shape[0] == 0:
            raise ValueError("data has no rows: pass the data set the sliders should span, or None")
        with np.errstate(all="ignore"):
            lo = np.fmin(np.nanmin(d, axis=0), x)
            hi = np.fmax(np.nanmax(d, axis=0), x)
    span = hi - lo
    step = np.where(span > 0, span / 100.0, np.maximum(np.abs(lo), 1.0) / 100.0)
    return lo, hi, step


def category_lists(choices: dict[int, list[tuple[float, str]]] | None, n_features: int) -> list[Any] | None:
    """The ``categories`` trait of FeatureBars / SamplePanel / SampleTable from ``{feature: [(value, label)]}``.

    One entry per feature: None (a number) or ``[{"value": v, "label": text}, ...]``; None when no
    feature is categorical.

    Example:
        >>> category_lists({1: [(0.0, "f"), (1.0, "m")]}, 2)
        [None, [{'value': 0.0, 'label': 'f'}, {'value': 1.0, 'label': 'm'}]]
    """
    if not choices:
        return None
    return [[{"value": float(v), "label": str(lab)} for v, lab in choices[j]] if j in choices else None
            for j in range(n_features)]


def as_float(sample: Any) -> np.ndarray:
    """A writable float copy of ``sample``: float32/float64 kept (models may care), others -> float32.

    Example:
        >>> as_float([1, 2]).dtype
        dtype('float32')
    """
    x = to_numpy(sample)
    return np.array(x, dtype=x.dtype if x.dtype in (np.float32, np.float64) else np.float32)  # a writable copy


@dataclass
class Evaluation:
    """What one what-if sample produced: the explanation and what the bars show."""

    explanation: Any
    values: np.ndarray
    base_value: float | None
    prediction: float
    prediction_label: str


@dataclass
class WhatIfSession:
    """A model, an explainer and a fixed target class: evaluate any edited sample.

    ``target`` stays fixed for the whole session (by default the class predicted for the
    original sample) so that the bars stay comparable while the sample is edited.
    """

    model: Any
    explainer: Any
    original: np.ndarray
    target: int
    class_names: list[str] | None

    @classmethod
    def create(
        cls,
        model: Any,
        sample: Any,
        *,
        explainer: Any = "kernel_shap",
        data: Any = None,
        target: int | None = None,
        class_names: Any = None,
        probabilities: np.ndarray | None = None,
    ) -> WhatIfSession:
        """Check the inputs and fix the target (the predicted class when ``target`` is None).

        Example:
            >>> X = np.random.default_rng(0).normal(size=(20, 3))
            >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # class probabilities
            >>> WhatIfSession.create(model, X[0], data=X, explainer="kernel_shap").target    # X[0, 0] > 0: class 1
            1
        """
        x = as_float(sample)
        if x.ndim != 1:
            raise ValueError(f"a what-if sample must be one row of F features (1-D); got shape {list(x.shape)}")
        probs = probabilities if probabilities is not None else predict_probabilities(model, x[None])[0]
        k = int(np.size(probs))
        names = None if class_names is None else [str(c) for c in class_names]
        if names is not None and len(names) != k:
            raise ValueError(f"class_names has {len(names)} names but the model gives {k} outputs")
        t = int(np.argmax(probs)) if target is None else int(target)
        if not 0 <= t < k:
            raise ValueError(f"target {t} is out of range: the model gives {k} outputs (0..{k - 1})")
        return cls(model, make_explainer(explainer, model, data), x, t, names)

    def label(self) -> str:
        """``"P(<class name>)"`` of the fixed target."""
        name = self.class_names[self.target] if self.class_names else f"class {self.target}"
        return f"P({name})"

    def evaluate(self, sample: Any, explanation: Any = None, probabilities: Any = None) -> Evaluation:
        """Predict and explain ``sample`` for the fixed target (reusing what is passed in).

        Example:
            >>> X = np.random.default_rng(0).normal(size=(20, 3))
            >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # class probabilities
            >>> session = WhatIfSession.create(model, X[0], data=X, explainer="kernel_shap")
            >>> edited = X[0].copy(); edited[0] = -2.0
            >>> ev = session.evaluate(edited); ev.values.shape, round(ev.prediction, 2), round(float(ev.values[0]), 2)
            ((3,), 0.12, -0.39)
        """
        x = as_float(sample)
        if x.shape != self.original.shape:
            raise ValueError(f"the sample has shape {list(x.shape)} but the model takes {self.original.size} features")
        probs = probabilities if probabilities is not None else predict_probabilities(self.model, x[None])[0]
        if explanation is None:
            explanation = self.explainer.explain(x[None], target=np.array([self.target]))[0]
        return Evaluation(
            explanation=explanation,
            values=pick_output(explanation, self.target),
            base_value=pick_scalar(explanation, "base_values", self.target),
            prediction=float(np.asarray(probs).reshape(-1)[self.target]),
            prediction_label=self.label(),
        )
