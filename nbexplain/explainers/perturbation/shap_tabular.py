"""SHAP values for tabular models through ``shap.PermutationExplainer``.

Why the permutation explainer: it walks each sampled feature ordering forwards and backwards, so
its values are *exactly additive* (``base_value + sum(values) == model output``, up to float
error) for any model, and exact Shapley values for models with at most pairwise feature
interactions; it needs only predictions (no gradients, no tree structure), so it serves torch,
scikit-learn and plain functions alike. The background goes through
``shap.maskers.Independent(background, max_samples=100)``: the base value is the mean prediction
over (at most 100 rows of) the background.

Example:
    >>> import numpy as np
    >>> f = lambda X: np.stack([X.sum(1), -X.sum(1)], axis=1)
    >>> e = ShapTabular(f, np.zeros((5, 3))).explain(np.ones((2, 3)), target=0)
    >>> e.values.round(6).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.explainers._targets import callable_objective, is_callable_target, resolve_target
from nbexplain.explanation import Explanation
from nbexplain.guard import guarded
from nbexplain.models import as_predict_fn, is_torch_module
from nbexplain.validate import (
    check_class_names,
    check_feature_names,
    check_int,
    checked_predict,
    column_names,
)


def tabular_matrix(X: Any, name: str, n_features: int | None = None, *, columns: Sequence[str] | None = None) -> np.ndarray:
    """Check and convert a 2-D numeric table ``(n, F)`` to float64.

    ``columns``: the column names of the data the explainer was built on (a DataFrame's); a
    DataFrame ``X`` with other names, or the same names in another order, is refused (its
    values would be read under the wrong features).

    Example:
        >>> tabular_matrix([[1, 2]], "X").dtype
        dtype('float64')
    """
    from nbexplain.validate import check_finite, table_array

    arr, names = table_array(X, name)
    if names is not None and columns is not None and list(names) != list(columns):
        if sorted(names) == sorted(columns):
            raise ValueError(f"{name} has the columns of the training data in another order; reorder them: "
                             f"{name}[{list(columns)[:8]}{'...' if len(columns) > 8 else ''}]")
        missing = [c for c in columns if c not in names]
        raise ValueError(f"{name} has columns {list(names)[:8]} but the explainer was built on {list(columns)[:8]}"
                         + (f" (missing {missing[:5]})" if missing else "") + "; pass the same columns in the same order")
    if arr.ndim == 1 and n_features is not None and arr.shape[0] == n_features:
        arr = arr[None]
    if arr.ndim != 2:
        fix = "; add the sample axis with x[None]" if arr.ndim == 1 else "; flatten each sample to one row"
        raise ValueError(f"{name} must be a table (n, features), got shape {arr.shape}{fix}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); pass at least one row and one feature")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features but the background/training data has "
                         f"{n_features}; pass columns in the same order as the data the explainer was built on")
    return check_finite(arr, name)


def default_predict_fn(model: Any, output: str | None) -> Any:
    """Class probabilities for torch models, the estimator's own output otherwise.

    Example:
        >>> default_predict_fn(lambda X: X, None)(np.ones((1, 2))).shape
        (1, 2)
    """
    if output is None:
        output = "probabilities" if is_torch_module(model) else "auto"
    return checked_predict(as_predict_fn(model, output=output), model, "the model")


class ShapTabular:
    """Permutation SHAP values for a tabular model, one class (target) per sample.

    ``model_or_predict``: a torch module (explained on its softmax probabilities), an estimator
    with ``predict_proba``/``predict``, or a callable ``X -> (n, k)``. ``background`` ``(m, F)``
    defines "feature absent". Results are deterministic for a given ``seed`` (each row is
    explained with the generator freshly seeded, so a row's values do not depend on the batch;
    numpy's global random state is restored afterwards).

    Example:
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> X = np.random.RandomState(0).randn(40, 3); y = (X[:, 0] > 0).astype(int)
        >>> e = ShapTabular(LogisticRegression().fit(X, y), X[:20]).explain(X[:2])
        >>> np.allclose(e.values.sum(1), e.outputs - e.base_values)
        True
    """

    def __init__(self, model_or_predict: Any, background: Any, *, feature_names: Sequence[str] | None = None,
                 class_names: Sequence[str] | None = None, seed: int = 0, max_evals: int | None = None,
                 output: str | None = None) -> None:
        self.background = tabular_matrix(background, "background")
        self.n_features = self.background.shape[1]
        self._columns = column_names(background)
        self.feature_names = check_feature_names(feature_names if feature_names is not None else self._columns,
                                                 self.n_features, what="background")
        self.class_names = check_class_names(class_names)
        self.seed = check_int(seed, "seed", min=0)
        minimum = 2 * self.n_features + 1
        if max_evals is not None and check_int(max_evals, "max_evals") < minimum:
            raise ValueError(f"max_evals={max_evals} is too low for {self.n_features} features: the "
                             f"permutation explainer needs at least 2*F+1 = {minimum}")
        self.max_evals = max_evals if max_evals is not None else max(500, 10 * minimum)
        self.predict = default_predict_fn(model_or_predict, output)

    def __repr__(self) -> str:
        return f"ShapTabular(features={self.n_features}, background={len(self.background)}, seed={self.seed})"

    @guarded
    def explain(self, X: Any, target: Any = None) -> Explanation:
        """SHAP values ``(n, F)`` of the target output (default: predicted class) per row.

        Example:
            >>> import numpy as np
            >>> e = ShapTabular(lambda X: X[:, :1] * 2, np.zeros((3, 2))).explain(np.ones((1, 2)))
            >>> e.values.tolist(), e.base_values.tolist(), e.outputs.tolist()
            ([[2.0, 0.0]], [0.0], [2.0])
        """
        import shap

        X = tabular_matrix(X, "X", self.n_features, columns=self._columns)
        n = X.shape[0]
        preds = self.predict(X)
        if self.class_names is not None and len(self.class_names) != preds.shape[1]:
            raise ValueError(f"got {len(self.class_names)} class_names but the model has {preds.shape[1]} outputs")
        if is_callable_target(target):
            targets = None
            outputs = np.asarray(callable_objective(target, preds, n), dtype=float)

            def fn(Z: np.ndarray) -> np.ndarray:
                return np.asarray(callable_objective(target, self.predict(Z), len(Z)), dtype=float)
        else:
            targets = resolve_target(target, preds)
            outputs = preds[np.arange(n), targets]
            fn = self.predict
        masker = shap.maskers.Independent(self.background, max_samples=100)
        state = np.random.get_state()
        values = np.zeros((n, self.n_features))
        base = np.zeros(n)
        try:
            explainer = shap.PermutationExplainer(fn, masker, seed=self.seed)
            for i in range(n):
                np.random.seed(self.seed)  # shap draws permutations from numpy's global generator
                r = explainer(X[i:i + 1], max_evals=self.max_evals, silent=True)
                v, b = np.asarray(r.values)[0], np.asarray(r.base_values)[0]
                # shap drops the output axis when there is one output (k = 1 or a callable target)
                values[i] = v if v.ndim == 1 else v[:, targets[i]]  # type: ignore[index]
                base[i] = b if b.ndim == 0 else b[targets[i]]  # type: ignore[index]
        finally:
            np.random.set_state(state)
        return Explanation(
            values, base, X, feature_names=self.feature_names,
            output_names=self.class_names if targets is not None else ["target"],
            target=targets, outputs=outputs, method="shap_permutation",
            params={"seed": self.seed, "max_evals": self.max_evals, "background_rows": len(self.background),
                    "masker_rows": min(len(self.background), 100)},
        )
