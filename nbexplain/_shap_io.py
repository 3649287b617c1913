"""Conversion between :class:`nbexplain.Explanation` and ``shap.Explanation`` (shap imported lazily).

Example:
    >>> import numpy as np
    >>> from nbexplain import Explanation
    >>> e = Explanation(np.ones((2, 3)), base_values=[0.0, 1.0], feature_names=list("abc"))
    >>> Explanation.from_shap(e.to_shap()).feature_names
    ['a', 'b', 'c']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nbexplain.explanation import Explanation

#: shap.Explanation fields nbexplain does not model; kept in ``diagnostics["shap_extras"]``.
SHAP_EXTRAS = ("display_data", "instance_names", "lower_bounds", "upper_bounds", "error_std",
               "clustering", "main_effects", "hierarchical_values", "output_indexes", "compute_time")
_PER_SAMPLE = ("display_data", "instance_names", "lower_bounds", "upper_bounds", "error_std",
               "clustering", "main_effects", "hierarchical_values")


def to_shap(e: Explanation) -> Any:
    """Build a ``shap.Explanation`` holding everything ``e`` and shap both model.

    Example:
        >>> import numpy as np
        >>> from nbexplain import Explanation
        >>> to_shap(Explanation(np.ones((1, 2)))).values.shape
        (1, 2)
    """
    import shap

    extras = dict(e.diagnostics.get("shap_extras", {}))
    kwargs: dict[str, Any] = {
        "base_values": e.base_values,
        "data": e.data,
        "feature_names": e.feature_names,
        # shap's output_names name the output axis; given without one, shap's slicing then
        # mis-slices base_values (shap 0.51), so class names of a single-output map stay with us.
        "output_names": e.output_names if e.has_output_axis else None,
    }
    kwargs.update({k: v for k, v in extras.items() if k in SHAP_EXTRAS or k == "output_names"})
    if not e.is_single:
        return shap.Explanation(e.values, **kwargs)
    # shap's constructor rejects some single-sample forms its own slicing makes (a str
    # instance_names), so build a batch of one and let shap slice it.
    for key in ("base_values", "data", *_PER_SAMPLE):
        if kwargs.get(key) is not None:
            kwargs[key] = [kwargs[key]] if isinstance(kwargs[key], str) else np.asarray(kwargs[key])[None]
    return shap.Explanation(np.asarray(e.values)[None], **kwargs)[0]


def _names(raw: Any) -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, (list, tuple, np.ndarray)):
        return [str(x) for x in raw]
    return None


def _is_single(values: np.ndarray, base: np.ndarray | None, data: np.ndarray | None) -> bool:
    if values.ndim <= 1:
        return True
    if base is None:
        return False
    if base.ndim == 0:
        return True
    if base.ndim == 1 and base.shape[0] == values.shape[-1]:
        if base.shape[0] != values.shape[0]:
            return True  # (F, k) values with (k,) base: one sample, several outputs
        return data is not None and data.ndim == values.ndim - 1
    return False


def from_shap(cls: type[Explanation], se: Any, *, method: str = "shap", target: Any = None,
              single: bool | None = None) -> Explanation:
    """Build an nbexplain Explanation from ``se`` (see ``Explanation.from_shap``).

    Example:
        >>> import numpy as np, shap
        >>> from nbexplain import Explanation
        >>> from_shap(Explanation, shap.Explanation(np.ones(3), base_values=0.5)).is_single
        True
    """
    if not hasattr(se, "values") or not hasattr(se, "base_values"):
        raise TypeError(f"expected a shap.Explanation, got {type(se).__name__}; "
                        "build one with shap.Explanation(values, base_values, data)")
    values = np.asarray(se.values)
    base = None if se.base_values is None else np.asarray(se.base_values, dtype=float)
    data = None if getattr(se, "data", None) is None else np.asarray(se.data)
    if single is None:
        single = _is_single(values, base, data)
    extras: dict[str, Any] = {}
    for key in SHAP_EXTRAS:
        val = getattr(se, key, None)
        if val is not None:
            extras[key] = val
    raw_out = getattr(se, "output_names", None)
    if isinstance(raw_out, str):
        extras["output_names"] = raw_out
    bv = values[None] if single else values
    bb = None if base is None else (base[None] if single else base)
    outputs = None
    if bb is not None and bb.ndim == 1 and bv.ndim >= 2:
        outputs = bb + bv.reshape(bv.shape[0], -1).sum(axis=1)
    if single and outputs is not None:
        outputs = outputs[0]
    diagnostics = {"shap_extras": extras} if extras else {}
    return cls(values, base, data, feature_names=_names(getattr(se, "feature_names", None)),
               output_names=_names(raw_out), target=target, outputs=outputs, method=method,
               diagnostics=diagnostics, _single=bool(single))
