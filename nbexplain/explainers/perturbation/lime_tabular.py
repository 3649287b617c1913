"""LIME for tabular models: a weighted linear surrogate fitted around each sample.

Wraps ``lime.lime_tabular.LimeTabularExplainer``. LIME samples perturbations from one
``numpy.random.RandomState`` shared by the explainer, its discretizer and its fitter; nbexplain
re-seeds that generator before every row, so a rerun (or the same row in another batch) gives the
same values.

With ``discretize_continuous=True`` (LIME's default) the surrogate's inputs are "feature is in
this sample's quartile bin" indicators, so a value is the effect of being in that bin; the values
are not additive to the model output the way SHAP values are. ``diagnostics["score"]`` holds the
surrogate's weighted R^2 per sample: a low score means the linear surrogate explains the model
poorly around that sample.

Example:
    >>> import numpy as np
    >>> X = np.random.RandomState(0).randn(50, 3)
    >>> f = lambda Z: np.stack([1 / (1 + np.exp(Z[:, 0])), 1 - 1 / (1 + np.exp(Z[:, 0]))], 1)
    >>> e = LimeTabular(f, X, num_samples=200).explain(X[:2], target=1)
    >>> e.values.shape, e.diagnostics["score"].shape
    ((2, 3), (2,))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.explainers._targets import callable_objective, is_callable_target, resolve_target
from nbexplain.explainers.perturbation.shap_tabular import default_predict_fn, tabular_matrix
from nbexplain.explanation import Explanation
from nbexplain.guard import guarded
from nbexplain.validate import (
    check_class_names,
    check_feature_names,
    check_int,
    check_model_output,
    column_names,
)


class LimeTabular:
    """LIME attributions ``(n, F)`` for a tabular classifier (or any callable ``X -> (n, k)``).

    ``training_data`` ``(m, F)`` sets LIME's sampling statistics and bins. ``explain(X,
    target=None)`` explains the target class (default: predicted class); ``base_values`` is the
    surrogate's intercept, ``diagnostics["score"]`` its R^2 and ``diagnostics["local_prediction"]``
    its prediction at the sample. A callable target ``target(probabilities) -> (n,)`` is explained
    with LIME's regression mode.

    Example:
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> X = np.random.RandomState(0).randn(60, 4); y = (X[:, 1] > 0).astype(int)
        >>> lime = LimeTabular(LogisticRegression().fit(X, y), X, num_samples=300, seed=1)
        >>> np.array_equal(lime.explain(X[:1]).values, lime.explain(X[:1]).values)
        True
    """

    def __init__(self, model_or_predict: Any, training_data: Any, *, feature_names: Sequence[str] | None = None,
                 class_names: Sequence[str] | None = None, seed: int = 0, num_samples: int = 1000,
                 discretize_continuous: bool = True, output: str | None = None) -> None:
        self.training_data = tabular_matrix(training_data, "training_data")
        self.n_features = self.training_data.shape[1]
        self._columns = column_names(training_data)
        feature_names = self._columns if feature_names is None else feature_names
        self.feature_names = check_feature_names(feature_names, self.n_features, what="training_data")
        num_samples = check_int(num_samples, "num_samples", min=10)
        self.class_names = check_class_names(class_names)
        self.seed = check_int(seed, "seed", min=0)
        self.num_samples = num_samples
        self.discretize_continuous = bool(discretize_continuous)
        self.predict = default_predict_fn(model_or_predict, output)
        self._explainers: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"LimeTabular(features={self.n_features}, num_samples={self.num_samples}, seed={self.seed})"

    def _explainer(self, mode: str) -> Any:
        if mode not in self._explainers:
            from lime.lime_tabular import LimeTabularExplainer

            self._explainers[mode] = LimeTabularExplainer(
                self.training_data, mode=mode, feature_names=self.feature_names,
                class_names=self.class_names if mode == "classification" else None,
                discretize_continuous=self.discretize_continuous, random_state=self.seed)
        return self._explainers[mode]

    @guarded
    def explain(self, X: Any, target: Any = None) -> Explanation:
        """Fit one local surrogate per row and return its coefficients ordered by feature index.

        Example:
            >>> import numpy as np
            >>> f = lambda Z: np.stack([np.ones(len(Z)) * 0.3, np.ones(len(Z)) * 0.7], 1)
            >>> e = LimeTabular(f, np.random.RandomState(0).randn(20, 2), num_samples=50).explain(np.zeros((1, 2)))
            >>> int(e.target[0]), round(float(e.outputs[0]), 2)
            (1, 0.7)
        """
        X = tabular_matrix(X, "X", self.n_features, columns=self._columns)
        n = X.shape[0]
        preds = check_model_output(self.predict(X), "the model")
        if is_callable_target(target):
            mode, targets = "regression", None
            outputs = np.asarray(callable_objective(target, preds, n), dtype=float)

            def fn(Z: np.ndarray) -> np.ndarray:
                return np.asarray(callable_objective(target, self.predict(Z), len(Z)), dtype=float)
        else:
            if self.class_names is not None and len(self.class_names) != preds.shape[1]:
                raise ValueError(f"got {len(self.class_names)} class_names but the model has {preds.shape[1]} outputs")
            if preds.shape[1] < 2:
                raise ValueError("LimeTabular explains class probabilities (n, k >= 2) but the model returns one "
                                 "column; for a regressor pass target=lambda out: out[:, 0]")
            mode, targets, fn = "classification", resolve_target(target, preds), self.predict
            outputs = preds[np.arange(n), targets]
        explainer = self._explainer(mode)
        values = np.zeros((n, self.n_features))
        base, score, local = np.zeros(n), np.zeros(n), np.zeros(n)
        for i in range(n):
            explainer.random_state.seed(self.seed)  # one generator shared by sampler, discretizer, fitter
            label = 1 if targets is None else int(targets[i])  # lime stores regression results under 1
            exp = explainer.explain_instance(X[i], fn, labels=(0,) if targets is None else (label,),
                                             num_features=self.n_features, num_samples=self.num_samples)
            for feature, weight in exp.local_exp[label]:
                values[i, feature] = weight
            base[i] = float(exp.intercept[label])
            score[i] = float(exp.score)
            local[i] = float(np.ravel(exp.local_pred)[0])
        return Explanation(
            values, base, X, feature_names=self.feature_names,
            output_names=self.class_names if targets is not None else ["target"],
            target=targets, outputs=outputs, method="lime_tabular",
            params={"seed": self.seed, "num_samples": self.num_samples, "mode": mode,
                    "discretize_continuous": self.discretize_continuous},
            diagnostics={"score": score, "local_prediction": local},
        )
