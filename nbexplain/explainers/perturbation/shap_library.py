"""The ``shap`` library where it is the right tool: TreeExplainer and the Partition explainer.

:class:`ShapTree` wraps ``shap.TreeExplainer`` (exact, fast SHAP values from a tree model's
structure: scikit-learn forests and gradient boosting, XGBoost, LightGBM). :class:`ShapPartition`
wraps ``shap.PartitionExplainer`` (Owen values over a hierarchy of features) with an image masker
(``shap.maskers.Image``) or a text masker (``shap.maskers.Text``; a regex tokenizer by default, so no
Hugging Face download is needed). Both pick one output (the target) per sample and return
:class:`Explanation` with ``base_values + values.sum() == outputs``.

Example:
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> X = np.random.RandomState(0).randn(80, 3); y = (X[:, 0] > 0).astype(int)
    >>> e = ShapTree(RandomForestClassifier(10, random_state=0).fit(X, y)).explain(X[:2])
    >>> np.allclose(e.base_values + e.values.sum(1), e.outputs)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.explainers._targets import resolve_target
from nbexplain.explainers.perturbation.shap_tabular import tabular_matrix
from nbexplain.explanation import Explanation
from nbexplain.guard import guarded
from nbexplain.models import as_predict_fn, to_numpy


def _pick(values: np.ndarray, base: np.ndarray, targets: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample target slice of shap's (n, ..., k) values and (n, k) base values (k axis may be absent)."""
    n = values.shape[0]
    if targets is None or base.ndim == 1:
        return values, base
    idx = np.arange(n)
    return np.moveaxis(values, -1, 1)[idx, targets], base[idx, targets]


class ShapTree:
    """Exact tree SHAP values ``(n, F)`` for a tree model, one output (target) per sample.

    ``background=None`` uses shap's path-dependent algorithm (the trees' own cover statistics);
    a background table switches to the interventional algorithm against it. Values explain the
    model's raw output as shap defines it: class probabilities for scikit-learn forests, log-odds
    for gradient boosting (one output for a binary problem, target 0 then means "class 1 margin").

    Example:
        >>> import numpy as np
        >>> from sklearn.ensemble import GradientBoostingClassifier
        >>> X = np.random.RandomState(0).randn(80, 3); y = (X[:, 1] > 0).astype(int)
        >>> e = ShapTree(GradientBoostingClassifier(n_estimators=5).fit(X, y), X[:20]).explain(X[:3])
        >>> e.values.shape, e.output_names
        ((3, 3), ['margin'])
    """

    def __init__(self, model: Any, background: Any = None, *, feature_names: Sequence[str] | None = None,
                 class_names: Sequence[str] | None = None) -> None:
        import shap

        self.background = None if background is None else tabular_matrix(background, "background")
        try:
            self.explainer = shap.TreeExplainer(model, data=self.background)
        except Exception as err:  # shap raises a bare Exception for an unsupported model
            raise TypeError(f"ShapTree needs a tree model shap's TreeExplainer supports (scikit-learn forests, "
                            f"gradient boosting, XGBoost, LightGBM); {type(model).__name__}: {err}") from err
        self.model = model
        self.n_features = getattr(model, "n_features_in_", None)
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]
        self.class_names = None if class_names is None else [str(c) for c in class_names]

    def __repr__(self) -> str:
        mode = "path-dependent" if self.background is None else f"interventional, background={len(self.background)}"
        return f"ShapTree({type(self.model).__name__}, {mode})"

    @guarded
    def explain(self, X: Any, target: Any = None) -> Explanation:
        """SHAP values of the target output (default: the largest output) per row.

        Example:
            >>> import numpy as np
            >>> from sklearn.ensemble import RandomForestClassifier
            >>> X = np.random.RandomState(1).randn(60, 2); y = (X[:, 0] > 0).astype(int)
            >>> ShapTree(RandomForestClassifier(5, random_state=0).fit(X, y)).explain(X[:4], target=1).target.tolist()
            [1, 1, 1, 1]
        """
        X = tabular_matrix(X, "X", self.n_features)
        r = self.explainer(X)
        values, base = np.asarray(r.values, dtype=float), np.asarray(r.base_values, dtype=float)
        if base.ndim == 0:
            base = np.full(len(X), float(base))
        outputs_all = base + values.sum(axis=1)  # shap checks additivity against the model itself
        if values.ndim == 2:  # one output
            if target not in (None, 0) and not (np.ndim(target) and np.all(np.asarray(target) == 0)):
                raise ValueError(f"target {target!r} is out of range: the model has one output "
                                 "(e.g. a binary gradient boosting margin), valid target is 0")
            targets, names = np.zeros(len(X), np.int64), ["margin"]
            outputs = outputs_all
        else:
            targets = resolve_target(target, outputs_all)
            values, base = _pick(values, base, targets)
            outputs = outputs_all[np.arange(len(X)), targets]
            names = self.class_names  # type: ignore[assignment]
            if names is not None and len(names) != outputs_all.shape[1]:
                raise ValueError(f"got {len(names)} class_names but the model has {outputs_all.shape[1]} outputs")
        return Explanation(values, base, X, feature_names=self.feature_names, output_names=names, target=targets,
                           outputs=outputs, method="shap_tree",
                           params={"feature_perturbation": "tree_path_dependent" if self.background is None
                                   else "interventional"})


class ShapPartition:
    """Partition (Owen) SHAP values for images or text through shap's maskers.

    ``predict``: images ``(N, H, W, C)`` -> ``(N, k)`` (a torch model, estimator or callable, as
    :func:`nbexplain.as_predict_fn` takes it), or ``list of texts -> (N, k)`` for text.
    ``masker``: a shap masker, ``"image"`` (``shap.maskers.Image(mask_value, shape of the inputs)``,
    built per call; ``mask_value`` 0.0 by default; shap's ``"blur(8,8)"`` and ``"inpaint_telea"`` need
    OpenCV, ``cv2``, which nbexplain does not require) or ``"text"`` (``shap.maskers.Text`` with a regex tokenizer splitting on
    ``split_pattern``). Images: ``explain(X (n, H, W, C))`` gives values ``(n, H, W, C)``. Text:
    ``explain("one document")`` gives values ``(1, T)`` with the tokens as ``feature_names``.
    ``max_evals`` bounds model evaluations per sample. Efficiency holds exactly:
    ``base_values + values.sum() == outputs`` with ``base_values`` the output on the fully masked input.

    Example:
        >>> import numpy as np
        >>> f = lambda X: np.stack([X.mean((1, 2, 3)), 1 - X.mean((1, 2, 3))], 1)
        >>> e = ShapPartition(f, "image", max_evals=100).explain(np.random.RandomState(0).rand(1, 8, 8, 3), target=0)
        >>> e.values.shape, bool(np.isclose(e.base_values[0] + e.values.sum(), e.outputs[0]))
        ((1, 8, 8, 3), True)
    """

    def __init__(self, predict: Any, masker: Any, *, output_names: Sequence[str] | None = None,
                 max_evals: int = 500, batch_size: int = 100, mask_value: Any = 0.0,
                 split_pattern: str = r"\W+") -> None:
        if isinstance(masker, str) and masker not in ("image", "text"):
            raise ValueError(f"masker must be a shap masker, 'image' or 'text'; got {masker!r}")
        if not isinstance(max_evals, int) or max_evals < 2:
            raise ValueError(f"max_evals must be an int >= 2, got {max_evals!r}")
        self.masker, self.max_evals, self.batch_size = masker, max_evals, int(batch_size)
        self.mask_value, self.split_pattern = mask_value, split_pattern
        self.output_names = None if output_names is None else [str(o) for o in output_names]
        self.is_text = masker == "text" or type(masker).__name__ == "Text"
        self._raw = predict
        self.predict = self._text_predict if self.is_text else as_predict_fn(predict)

    def __repr__(self) -> str:
        kind = self.masker if isinstance(self.masker, str) else type(self.masker).__name__
        return f"ShapPartition(masker={kind!r}, max_evals={self.max_evals})"

    def _text_predict(self, texts: Any) -> np.ndarray:
        out = to_numpy(self._raw([str(t) for t in np.ravel(np.asarray(texts, dtype=object))])).astype(np.float64)
        if out.ndim == 1:
            out = out[:, None]
        if np.isnan(out).any():
            raise ValueError("predict returned NaN for some texts; check the text pipeline")
        return out

    def _masker(self, X: np.ndarray) -> Any:
        import shap

        if self.masker == "image":
            if isinstance(self.mask_value, str):
                try:
                    import cv2  # type: ignore[import-not-found]  # noqa: F401
                except ImportError:
                    raise ImportError(f"mask_value={self.mask_value!r} needs OpenCV (pip install "
                                      "opencv-python-headless); a number or an image-shaped array works without it") from None
            return shap.maskers.Image(self.mask_value, X.shape[1:])
        if self.masker == "text":
            from shap.maskers._text import SimpleTokenizer  # type: ignore[import-untyped]

            return shap.maskers.Text(SimpleTokenizer(self.split_pattern))
        return self.masker

    @guarded
    def explain(self, X: Any, target: Any = None) -> Explanation:
        """Values of the target output (default: the predicted one) per image, or for one text.

        Example:
            >>> import numpy as np
            >>> f = lambda docs: np.array([[0.2, 0.8] if "good" in d else [0.9, 0.1] for d in docs])
            >>> e = ShapPartition(f, "text").explain("a good day", target=1)
            >>> e.feature_names, int(np.argmax(e.values[0]))
            (['a ', 'good ', 'day'], 1)
        """
        import shap

        if self.is_text:
            if not isinstance(X, str):
                raise TypeError(f"a text masker explains one document (a str), got {type(X).__name__}")
            data: Any = np.array([X], dtype=object)
            preds = self._text_predict([X])
        else:
            data = to_numpy(X).astype(np.float64)
            if data.ndim != 4:
                raise ValueError(f"images must be (n, H, W, C) channels-last, got shape {data.shape}")
            preds = self.predict(data)
        if self.output_names is not None and len(self.output_names) != preds.shape[1]:
            raise ValueError(f"got {len(self.output_names)} output_names but the model has {preds.shape[1]} outputs")
        targets = resolve_target(target, preds)
        explainer = shap.PartitionExplainer(self.predict, self._masker(data))
        r = explainer(data, max_evals=self.max_evals, batch_size=self.batch_size, silent=True)
        n = len(preds)
        values = np.stack([np.asarray(v, dtype=float) for v in r.values]) if self.is_text else np.asarray(r.values)
        base = np.asarray(r.base_values, dtype=float).reshape(n, -1)
        if values.shape[-1] != base.shape[1]:  # shap dropped the output axis (one output)
            values = values[..., None]
        values, base = _pick(values, base, targets)
        names = None
        if self.is_text:
            names = [str(t) for t in np.asarray(r.data[0], dtype=object)]
        return Explanation(values, base, None if self.is_text else data, feature_names=names,
                           output_names=self.output_names, target=targets,
                           outputs=preds[np.arange(n), targets], method="shap_partition",
                           layout="tokens" if self.is_text else "HWC",
                           params={"max_evals": self.max_evals,
                                   "masker": self.masker if isinstance(self.masker, str) else type(self.masker).__name__},
                           diagnostics={"text": X} if self.is_text else None)
