"""SurrogateView: a global surrogate's coefficients (trees: importances and rules) and its fidelity.

Coefficients are shown per one standard deviation of each feature when the spread of the
features is known (``data=``, or a ``std`` on the fit), so features in large units (an area in
the hundreds) and small ones (a ratio) compare; the axis label says which, and names what the
surrogate imitates ("change in P(benign) per +1 SD of the feature").

Example:
    >>> import numpy as np
    >>> from nbexplain.explainers.global_methods.surrogates import GlobalSurrogate
    >>> X = np.random.default_rng(0).normal(size=(80, 2)) * [1.0, 100.0]
    >>> fit = GlobalSurrogate(lambda A: 2 * A[:, 0] - 3 * A[:, 1] / 100).fit(X)   # b: -3 per 100 units
    >>> v = SurrogateView(fit, ["a", "b"], data=X)
    >>> v.chart.bars.x.tolist(), v.chart.value_axis.label
    (['b', 'a'], 'change in the model output per +1 SD of the feature')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets
import numpy as np

from .._base import ClosesTree
from ..charts import NEGATIVE_COLOR, POSITIVE_COLOR, HBarChart, feature_labels

__all__ = ["SurrogateView"]


class SurrogateView(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """A global surrogate: signed coefficient bars (trees: feature importances and the rules),
    with its fidelity to the model as text. CSS class ``nbx-surrogate``.

    ``surrogate_result``: a :class:`~nbexplain.explainers.global_methods.surrogates.SurrogateFit`.
    ``class_names`` name the model's classes: a linear surrogate of output column ``t`` then
    imitates ``P(class_names[t])``, and a logistic one gets an ``.output`` Dropdown over the
    classes it predicts. ``data``: the rows the surrogate was fitted on (or rows like them),
    ``(n, F)``: coefficients are then shown per one standard deviation of each feature
    (``.scale`` holds those deviations; None: raw coefficients, per unit of each feature).
    ``.fidelity`` is the Label ("fidelity: R² = 0.93 on 25 held-out rows (linear surrogate of
    P(benign))").

    Example:
        >>> import numpy as np
        >>> from nbexplain.explainers.global_methods.surrogates import GlobalSurrogate
        >>> X = np.random.default_rng(0).normal(size=(80, 2))
        >>> v = SurrogateView(GlobalSurrogate(lambda A: 2 * A[:, 0] - A[:, 1]).fit(X), ["a", "b"])
        >>> v.fidelity.value, v.chart.bars.x.tolist()
        ('fidelity: R² = 1.000 on 20 held-out rows (linear surrogate of the model output)', ['a', 'b'])
    """

    def __init__(self, surrogate_result: Any, feature_names: Sequence[str] | None = None, *,
                 top_k: int = 20, class_names: Sequence[str] | None = None, data: Any = None,
                 **kwargs: Any) -> None:
        self.top_k = int(top_k)
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.feature_names = feature_names
        self.data = None if data is None else np.asarray(data, dtype=np.float64)
        if self.data is not None and self.data.ndim != 2:
            raise ValueError(f"data must be the (n, features) table the surrogate was fitted on, "
                             f"got shape {list(self.data.shape)}")
        self.fidelity = ipywidgets.Label("")
        self.fidelity.add_class("nbx-chart-note")
        self.output = ipywidgets.Dropdown(options=[("class 0", 0)], value=0, description="class",
                                          layout=ipywidgets.Layout(display="none"))
        self.output.observe(lambda _c: self._draw(), names="value")
        self.chart = HBarChart("coefficient", zero_based=False)
        self.rules = ipywidgets.Textarea("", disabled=True,
                                         layout=ipywidgets.Layout(width="100%", max_width="720px", height="160px",
                                                                  display="none"))
        super().__init__([self.fidelity, self.output, self.chart.figure, self.rules], **kwargs)
        self.add_class("nbx-surrogate")
        self.add_class("nbx-kernel-scope")  # its controls call Python: disabled with the reason without a kernel
        self.update(surrogate_result)

    def _class_name(self, index: int) -> str:
        names = self.class_names
        return names[index] if names is not None and 0 <= index < len(names) else f"class {index}"

    def _target(self) -> str:
        """What a linear surrogate imitates: ``P(<class>)`` with class names, else the output column."""
        t = int(self.result.target)
        if self.class_names is not None:
            return f"P({self._class_name(t)})"
        return "the model output" if t == 0 else f"output column {t}"

    def _spread(self, n_features: int) -> np.ndarray | None:
        std = getattr(self.result, "std", None)
        if self.data is not None:
            if self.data.shape[1] != n_features:
                raise ValueError(f"data has {self.data.shape[1]} features but the surrogate has {n_features}: "
                                 "pass the table the surrogate was fitted on")
            with np.errstate(all="ignore"):
                std = np.nanstd(self.data, axis=0)
        if std is None:
            return None
        std = np.asarray(std, dtype=np.float64).reshape(-1)
        return np.where(np.isfinite(std), std, 0.0)

    def update(self, surrogate_result: Any) -> None:
        """Show another fitted surrogate."""
        r = surrogate_result
        if not hasattr(r, "fidelity") or not hasattr(r, "coef"):
            raise TypeError(f"surrogate_result must be a SurrogateFit (GlobalSurrogate(...).fit(X)), "
                            f"got {type(r).__name__}")
        self.result = r
        coef = None if r.coef is None else np.asarray(r.coef, dtype=np.float64)
        n_features = coef.shape[-1] if coef is not None else len(np.asarray(r.feature_importances))
        self.scale = self._spread(n_features)
        metric = "R²" if r.fidelity_metric == "r2" else r.fidelity_metric
        where = f"on {r.n_holdout} held-out rows" if r.n_holdout else "on the training rows (no holdout)"
        what = f"{r.kind} surrogate of {self._target()}" if r.kind in ("linear", "lad") else f"{r.kind} surrogate"
        self.fidelity.value = f"fidelity: {metric} = {r.fidelity:.3f} {where} ({what})"
        # A logistic fit has one row of coefficients per class it saw (estimator.classes_), or one for two classes.
        classes = [int(c) for c in getattr(r.estimator, "classes_", [])] if r.kind == "logistic" else []
        if coef is not None and coef.ndim == 2:
            rows = classes if len(classes) == coef.shape[0] else list(range(coef.shape[0]))
            self.output.options = [(self._class_name(c), i) for i, c in enumerate(rows)]
            self.output.layout.display = "flex"
        else:
            self.output.layout.display = "none"
        self._positive = self._class_name(classes[1]) if len(classes) == 2 else None
        self.rules.value = r.tree_text or ""
        self.rules.layout.display = "flex" if r.tree_text else "none"
        self._draw()

    def _draw(self) -> None:
        r = self.result
        per = "per +1 SD of the feature" if self.scale is not None else "per unit of the feature"
        if r.coef is not None:
            coef = np.asarray(r.coef, dtype=np.float64)
            vals = coef[int(self.output.value or 0)] if coef.ndim == 2 else coef
            if self.scale is not None:
                vals = vals * self.scale
            if r.kind == "logistic":
                cls = self.output.label if coef.ndim == 2 else (self._positive or "the second class")
                label = f"log-odds of {cls} {per}"
            else:
                label = f"change in {self._target()} {per}"
            signed = True
        else:
            vals, label, signed = np.asarray(r.feature_importances, dtype=np.float64), "feature importance", False
        names = feature_labels(self.feature_names if self.feature_names is not None else r.feature_names, len(vals))
        order = np.argsort(-np.abs(vals), kind="stable")[: self.top_k]
        colors = [POSITIVE_COLOR if v >= 0 else NEGATIVE_COLOR for v in vals[order]] if signed else None
        self.chart.value_axis.label = label
        self.chart.tooltip.labels = ["", label]
        self.chart.zero_based = not signed
        self.chart.set([names[i] for i in order], vals[order], colors)
