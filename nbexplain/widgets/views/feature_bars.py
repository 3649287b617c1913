"""FeatureBars: signed feature importances as bars or a waterfall, with optional what-if sliders.

Example:
    >>> from nbexplain.widgets import FeatureBars
    >>> import numpy as np
    >>> w = FeatureBars([0.3, -0.1, 0.05], ["age", "dose", "bmi"], base_value=0.4, prediction=0.65)
    >>> w.values, w.mode
    (array([ 0.3 , -0.1 ,  0.05]), 'bars')
    >>> X = np.random.default_rng(0).normal(size=(20, 2))
    >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # class probabilities
    >>> w = FeatureBars.what_if(model, X[0], data=X, explainer="kernel_shap", class_names=["benign", "malignant"])
    >>> w.prediction_label, round(w.prediction, 2)
    ('P(malignant)', 0.53)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ...codec import decode_array
from .._base import NbxWidget
from .._explanation import _output_index, is_per_output, pick_output, pick_scalar, require_single
from .._traits import ArrayTrait, to_numpy
from .._whatif import WhatIfSession, category_lists, slider_ranges

__all__ = ["FeatureBars", "errors_of"]

_PER_FEATURE = ("feature_values", "slider_min", "slider_max", "slider_step", "sample", "errors")


def errors_of(explanation: Any, output: int | None = None) -> np.ndarray | None:
    """The standard error of each value of a single-sample explanation, for :attr:`FeatureBars.errors`.

    Read from ``diagnostics["std_error"]`` (KernelSHAP's sampling error; LIME's or SmoothGrad's
    with ``n_seeds``), the column of ``output`` for per-output values as :func:`pick_output`;
    None when the explanation has none, when they are all 0 (exact values) or shaped unlike the
    values.

    Example:
        >>> from nbexplain.explanation import Explanation
        >>> e = Explanation(np.ones((2, 3)), diagnostics={"std_error": np.full((2, 3), 0.1)})
        >>> errors_of(e[1]).tolist(), errors_of(Explanation(np.ones((1, 3)))[0])
        ([0.1, 0.1, 0.1], None)
    """
    e = require_single(explanation, "errors_of")
    se = (getattr(e, "diagnostics", None) or {}).get("std_error")
    if se is None:
        return None
    se = np.asarray(se, dtype=np.float64)
    if se.shape != np.shape(e.values):
        return None
    if is_per_output(e):
        se = se[..., _output_index(e, output)]
    flat = se.reshape(-1)
    return flat if bool(np.any(flat > 0)) else None


def _sample_from_json(value: Any, widget: FeatureBars) -> Any:
    """Decode the browser's what-if sample; a bad one is reported in ``error`` and ignored."""
    if value is None:
        return widget.sample
    try:
        a = decode_array(value)
        if a.shape != widget.values.shape:
            raise ValueError(f"the browser sent {a.size} values for {widget.values.size} features")
        for i, choices in enumerate(widget.categories or ()):
            allowed = [np.float32(c["value"]) for c in choices or ()]
            if choices and np.float32(a[i]) not in allowed:
                raise ValueError(f"feature {i} is categorical and {float(a[i])} is not one of its values")
    except Exception as exc:
        widget.error = f"what-if sample rejected: {exc}"
        return widget.sample
    return a


def _check_categories(value: Any) -> list[Any] | None:
    """Normalise ``categories``: None, or per feature None or a non-empty list of {value, label}."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise traitlets.TraitError(
            "categories must be None or a list with one entry per feature (None, or a list of "
            f'{{"value": float, "label": str}}); got {type(value).__name__}'
        )
    out: list[Any] = []
    for i, choices in enumerate(value):
        if choices is None:
            out.append(None)
            continue
        if isinstance(choices, (str, bytes, dict)) or not hasattr(choices, "__iter__") or len(choices) == 0:
            raise traitlets.TraitError(
                f"categories[{i}] must be None (a slider) or a non-empty list of "
                f'{{"value": float, "label": str}}; got {choices!r}'
            )
        items = []
        for j, c in enumerate(choices):
            if not isinstance(c, dict) or set(c) != {"value", "label"}:
                raise traitlets.TraitError(
                    f'categories[{i}][{j}] must be a dict with exactly the keys "value" and "label", '
                    f'e.g. {{"value": 1.0, "label": "female"}}; got {c!r}'
                )
            try:
                v = float(c["value"])
            except (TypeError, ValueError):
                raise traitlets.TraitError(f"categories[{i}][{j}]['value'] must be a number; got {c['value']!r}") from None
            if not np.isfinite(v):
                raise traitlets.TraitError(f"categories[{i}][{j}]['value'] must be finite; got {v}")
            if not isinstance(c["label"], str):
                raise traitlets.TraitError(f"categories[{i}][{j}]['label'] must be a str; got {c['label']!r}")
            items.append({"value": v, "label": c["label"]})
        out.append(items)
    return out


def _same_count(name: str, count: int, what: str, n_features: int) -> None:
    if count != n_features:
        raise traitlets.TraitError(f"{name} has {count} {what} but values has {n_features} entries (one per feature)")


class FeatureBars(NbxWidget):
    """Signed importances of F features, sorted by magnitude, as bars or a waterfall.

    ``feature_names`` defaults to ``"feature 0" ... "feature F-1"``; duplicate names are allowed.
    Every per-feature array must have F entries. See :meth:`what_if` for the interactive form.

    Example:
        >>> w = FeatureBars(np.array([0.2, -0.5]), ["x", "y"], mode="waterfall", base_value=0.1)
        >>> w.top_k = 1    # the other feature is summed into one row
        >>> X = np.random.default_rng(0).normal(size=(20, 2)); X[:, 1] = X[:, 1] > 0    # y is 0 or 1
        >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0] + X[:, 1])), 1 / (1 + np.exp(-X[:, 0] - X[:, 1]))]
        >>> sex = [{"value": 0.0, "label": "female"}, {"value": 1.0, "label": "male"}]
        >>> w = FeatureBars.what_if(model, X[0], data=X, categories=[None, sex], explainer="kernel_shap")
        >>> w.categories[0] is None, [c["label"] for c in w.categories[1]]    # a slider for x, a choice box for y
        (True, ['female', 'male'])
    """

    _view = traitlets.Unicode("feature_bars").tag(sync=True)
    _extra_kwargs = ("feature_names",)

    values = ArrayTrait(ndims=(1,), help="float array (F,), required: signed importances.").tag(sync=True)
    feature_names = traitlets.List(
        traitlets.Unicode(), help='list of F str, default ["feature 0", ...]: names shown as text.'
    ).tag(sync=True)
    feature_values = ArrayTrait(
        ndims=(1,), allow_none=True, help="float array (F,) or None, default None: the sample's values."
    ).tag(sync=True)
    base_value = traitlets.Float(
        None, allow_none=True, help="float or None, default None: expected output (for the waterfall)."
    ).tag(sync=True)
    prediction = traitlets.Float(
        None, allow_none=True, help="float or None, default None: the model output explained."
    ).tag(sync=True)
    prediction_label = traitlets.Unicode(
        "", help='str, default "": what prediction is, e.g. "P(malignant)".'
    ).tag(sync=True)
    mode = traitlets.Enum(("bars", "waterfall"), "bars", help='str, default "bars": "bars" or "waterfall".').tag(
        sync=True
    )
    top_k = traitlets.Int(10, min=0, help="int >= 0, default 10: bars shown (0 = all); the rest are summed.").tag(
        sync=True
    )
    whatif = traitlets.Bool(False, help="bool, default False: show a value slider per feature.").tag(sync=True)
    slider_min = ArrayTrait(ndims=(1,), allow_none=True, help="float array (F,) or None: slider minima.").tag(
        sync=True
    )
    slider_max = ArrayTrait(ndims=(1,), allow_none=True, help="float array (F,) or None: slider maxima.").tag(
        sync=True
    )
    slider_step = ArrayTrait(ndims=(1,), allow_none=True, help="float array (F,) or None: slider steps.").tag(
        sync=True
    )
    sample = ArrayTrait(
        ndims=(1,),
        allow_none=True,
        help="float array (F,) or None, default None: the what-if sample, set by the sliders.",
    ).tag(sync=True, from_json=_sample_from_json)
    errors = ArrayTrait(
        ndims=(1,),
        allow_none=True,
        help=(
            "float array (F,) or None, default None: the standard error of each value (an explanation's "
            'diagnostics["std_error"]), drawn as a whisker of +-2 standard errors (about 95%); NaN: no whisker. '
            "Errors belong to their values: setting values without errors clears them."
        ),
    ).tag(sync=True)
    categories = traitlets.Any(
        None,
        allow_none=True,
        help=(
            "list of F entries or None, default None: per feature None (a slider) or a non-empty list "
            'of {"value": float, "label": str}; a categorical feature gets a choice box in the what-if, '
            "which sends the chosen value in sample."
        ),
    ).tag(sync=True)

    def __init__(self, values: Any, feature_names: Any = None, **kwargs: Any) -> None:
        self.explanation: Any = None
        self._updating_errors = False
        self._session: WhatIfSession | None = None
        self._original_explanation: Any = None
        self._applying = False
        n = int(np.size(values))
        names = [f"feature {i}" for i in range(n)] if feature_names is None else [str(f) for f in feature_names]
        if "layout" not in kwargs:
            # In a row of boxes (methods side by side) the bars take their share of the width
            # instead of their content's narrow width; alone they fill the output anyway.
            import ipywidgets

            kwargs["layout"] = ipywidgets.Layout(flex="1 1 auto", min_width="0")
        super().__init__(values=values, feature_names=names, **kwargs)
        self.observe(self._on_sample, names=["sample"])
        self.observe(self._on_values, names=["values"])

    # -- validation: every per-feature trait has F entries ------------------------------------
    @traitlets.validate("values")
    def _valid_values(self, proposal: Any) -> np.ndarray:
        f = proposal["value"].size
        _same_count("feature_names", len(self.feature_names), "names", f)
        for name in _PER_FEATURE:
            other = getattr(self, name)
            if other is not None:
                _same_count(name, other.size, "entries", f)
        if isinstance(self.categories, list):
            _same_count("categories", len(self.categories), "entries", f)
        return proposal["value"]

    @traitlets.validate("categories")
    def _valid_categories(self, proposal: Any) -> list[Any] | None:
        cats = _check_categories(proposal["value"])
        if cats is not None:
            self._check_count("categories", len(cats), "entries")
        return cats

    @traitlets.validate("feature_names")
    def _valid_names(self, proposal: Any) -> list[str]:
        names = [str(n) for n in proposal["value"]]
        self._check_count("feature_names", len(names), "names")
        return names

    @traitlets.validate(*_PER_FEATURE)
    def _valid_per_feature(self, proposal: Any) -> Any:
        value, name = proposal["value"], proposal["trait"].name
        if value is not None:
            self._check_count(name, value.size, "entries")
            if name == "errors" and bool(np.any(value < 0)):
                raise traitlets.TraitError(f"errors must be standard errors (>= 0, or NaN for none); entry "
                                           f"{int(np.argmax(value < 0))} is {float(value[value < 0][0])}")
        return value

    def _on_values(self, change: Any) -> None:
        if not self._updating_errors and self.errors is not None:
            self.errors = None  # standard errors of other values would be drawn on these

    def _check_count(self, name: str, count: int, what: str) -> None:
        _same_count(name, count, what, self.values.size)

    def update(self, **traits: Any) -> None:
        """Set several traits at once (one message; lengths checked together).

        Example:
            >>> w = FeatureBars([0.3, -0.1], ["a", "b"])
            >>> w.update(values=[0.1, 0.2, 0.3], feature_names=["a", "b", "c"], prediction=0.7)
            >>> w.values, w.feature_names, w.prediction
            (array([0.1, 0.2, 0.3]), ['a', 'b', 'c'], 0.7)
        """
        self._check_kwargs(traits)
        if "values" in traits and "errors" not in traits:
            traits = {**traits, "errors": None}  # errors belong to the values they came with
        self._updating_errors = "errors" in traits
        try:
            with self.hold_sync(), self.hold_trait_notifications():
                for name, value in traits.items():
                    setattr(self, name, value)
        finally:
            self._updating_errors = False

    @classmethod
    def from_explanation(cls, explanation: Any, *, output: int | None = None, **kwargs: Any) -> FeatureBars:
        """Bars of a single-sample :class:`~nbexplain.explanation.Explanation` (``e[i]``).

        Names, feature values, base value and prediction come from the explanation; for
        per-output values ``output`` (default: the explanation's ``target``) picks the column. An
        explanation of a DataFrame shows its categorical columns' values as their labels. Standard
        errors in its diagnostics (:func:`errors_of`) are drawn as whiskers.

        Example:
            >>> from nbexplain import Explanation
            >>> e = Explanation(np.array([[0.3, -0.1]]), base_values=np.array([0.4]), data=np.array([[1.0, 2.0]]),
            ...                 feature_names=["a", "b"])
            >>> w = FeatureBars.from_explanation(e[0], mode="waterfall")
            >>> w.values, w.feature_values, w.base_value, w.feature_names
            (array([ 0.3, -0.1]), array([1., 2.]), 0.4, ['a', 'b'])
        """
        e = require_single(explanation, "FeatureBars.from_explanation")
        values = pick_output(e, output)
        if values.ndim != 1:
            raise ValueError(f"FeatureBars needs one value per feature (1-D); this explanation has shape {list(values.shape)}")
        data = getattr(e, "data", None)
        if data is not None and np.size(data) == values.size and "feature_values" not in kwargs:
            kwargs["feature_values"] = np.asarray(data, dtype=np.float64).reshape(-1)
        kwargs.setdefault("base_value", pick_scalar(e, "base_values", output))
        kwargs.setdefault("prediction", pick_scalar(e, "outputs", output))
        kwargs.setdefault("errors", errors_of(e, output))
        enc = getattr(e, "encoding", None)  # a DataFrame's categories: values shown as their labels
        if enc is not None and enc.n_features == values.size and "categories" not in kwargs:
            kwargs["categories"] = category_lists(enc.choices(), values.size)
        names = kwargs.pop("feature_names", None) or getattr(e, "feature_names", None)
        w = cls(values, names, **kwargs)
        w.explanation = e
        return w

    # -- what-if ------------------------------------------------------------------------------
    @classmethod
    def what_if(
        cls,
        model: Any,
        sample: Any,
        *,
        explainer: Any = "kernel_shap",
        data: Any = None,
        feature_names: Any = None,
        target: int | None = None,
        class_names: Any = None,
        **kwargs: Any,
    ) -> FeatureBars:
        """Bars with a slider per feature: moving one re-predicts and re-explains ``sample``.

        ``data`` (N, F) gives the slider ranges and the explainer's background. ``explainer``
        is a method name (default ``"kernel_shap"``: nbexplain's KernelSHAP, exact Shapley values
        up to 16 features in milliseconds, so the bars follow the sliders at once; ``"shap"``:
        shap's PermutationExplainer, whose first call compiles for seconds; ``"lime"``,
        ``"saliency"``, ``"saliency_abs"``) or an object with ``.explain(X, target=None)``. With ``target=None`` the class predicted for
        the *original* sample stays the explained class while editing, so the bars stay
        comparable; ``prediction`` is its probability, labelled ``"P(<class name>)"``.
        Failures while editing appear in ``error``; :meth:`reset` restores the original sample.

        Example:
            >>> X = np.random.default_rng(0).normal(size=(20, 2))
            >>> mlp = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # class probabilities
            >>> w = FeatureBars.what_if(mlp, X[0], data=X, feature_names=["age", "dose"],
            ...                         class_names=["benign", "malignant"], explainer="kernel_shap")
            >>> w.sample = np.array([2.0, 0.0])          # what the sliders do; w.values follows
            >>> round(w.prediction, 2), round(float(w.values[0]), 2), abs(w.values[1]) < 1e-9    # "dose" unused
            (0.88, 0.44, np.True_)
        """
        x = to_numpy(sample)
        w = cls(np.zeros(int(x.size)), feature_names, **kwargs)
        w.enable_what_if(model, x, explainer=explainer, data=data, target=target, class_names=class_names)
        return w

    def enable_what_if(
        self,
        model: Any,
        sample: Any,
        *,
        explainer: Any = "kernel_shap",
        data: Any = None,
        target: int | None = None,
        class_names: Any = None,
        explanation: Any = None,
        probabilities: Any = None,
    ) -> None:
        """Turn on the sliders for ``sample`` (see :meth:`what_if`); raises on bad input.

        ``explanation`` and ``probabilities`` (of ``sample``) may be passed when already known.

        Example:
            >>> from nbexplain.explainers import get_explainer
            >>> X = np.random.default_rng(0).normal(size=(20, 2))
            >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]
            >>> bars = FeatureBars([0.0, 0.0], ["a", "b"])
            >>> bars.enable_what_if(model, X[7], data=X, explainer=get_explainer("kernel_shap", model, data=X))
            >>> bars.whatif, bars.sample.tolist() == X[7].tolist()
            (True, True)
        """
        session = WhatIfSession.create(
            model, sample, explainer=explainer, data=data, target=target,
            class_names=class_names, probabilities=probabilities,
        )
        result = session.evaluate(session.original, explanation=explanation, probabilities=probabilities)
        lo, hi, step = slider_ranges(session.original, data)
        self._session = session
        self._original_explanation = result.explanation
        self._show(result, session.original, whatif=True, slider_min=lo, slider_max=hi, slider_step=step)

    def reset(self) -> None:
        """Restore the original what-if sample and its explanation.

        Example:
            >>> X = np.random.default_rng(0).normal(size=(20, 2))
            >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]
            >>> w = FeatureBars.what_if(model, X[0], data=X, explainer="kernel_shap")
            >>> w.sample = np.array([2.0, 0.0]); round(w.prediction, 2)
            0.88
            >>> w.reset(); w.sample.tolist() == X[0].tolist(), round(w.prediction, 2)
            (True, 0.53)
        """
        if self._session is None:
            raise RuntimeError("reset() needs a what-if widget: build it with FeatureBars.what_if(...)")
        s = self._session
        with self._computing():
            self._show(s.evaluate(s.original, explanation=self._original_explanation), s.original)

    def _on_sample(self, change: Any) -> None:
        if self._applying or self._session is None or change["new"] is None:
            return
        if change["old"] is not None and np.array_equal(change["old"], change["new"]):
            return  # the same sample again (or a rejected one): nothing to recompute
        session, x = self._session, change["new"]
        with self._computing("check the model and the explainer with this sample"):
            self._show(session.evaluate(x), x)

    def _show(self, result: Any, sample: np.ndarray, **extra: Any) -> None:
        self._applying = True
        try:
            self.update(
                values=result.values, feature_values=sample, sample=sample, base_value=result.base_value,
                prediction=result.prediction, prediction_label=result.prediction_label, **extra,
            )
        finally:
            self._applying = False
        self.explanation = result.explanation
