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
    frame = e.encoding is not None and e.data is not None
    if frame and kwargs.get("display_data") is None:
        # shap's convention: numbers in data (codes; plots colour by them), the user's values in
        # display_data (an object array: shap slices it by sample and by column name)
        kwargs["display_data"] = e.data_frame().to_numpy(dtype=object)
        if e.is_single:
            kwargs["display_data"] = kwargs["display_data"][0]
    if not e.is_single:
        out = shap.Explanation(e.values, **kwargs)
    else:
        out = _single_to_shap(shap, e, kwargs)
    if frame:
        out._nbx_encoding = e.encoding  # the exact dtypes for from_shap (dropped by shap's slicing)
    return out


def _single_to_shap(shap: Any, e: Explanation, kwargs: dict[str, Any]) -> Any:
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
    frame, data = _frame_of(se), None
    if frame is None:
        data = None if getattr(se, "data", None) is None else np.asarray(se.data)
    if single is None:
        single = _is_single(values, base, data)  # (data is None here for a frame: decided by the values)
    encoding = None
    if frame is not None:
        from nbexplain.frames import FrameEncoding

        encoding = FrameEncoding.fit(frame, name="display_data")
        data = encoding.encode(frame, "display_data")
        if single:
            data = data[0]
    extras: dict[str, Any] = {}
    for key in SHAP_EXTRAS:
        val = getattr(se, key, None)
        if val is not None and not (key == "display_data" and frame is not None):
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
    names = _names(getattr(se, "feature_names", None))
    if names is None and frame is not None:
        names = [str(c) for c in frame.columns]
    return cls(values, base, data, feature_names=names,
               output_names=_names(raw_out), target=target, outputs=outputs, method=method,
               diagnostics=diagnostics, encoding=encoding, _single=bool(single))


def _is_frame(x: Any) -> bool:
    from nbexplain.frames import is_frame

    return x is not None and is_frame(x)


def _frame_of(se: Any) -> Any:
    """The user's DataFrame behind a shap.Explanation, or None.

    Its ``data`` when that is a DataFrame; a DataFrame ``display_data``; or, for numeric ``data``
    beside an object ``display_data`` holding strings (shap's convention, and :func:`to_shap`'s),
    a frame of the two: a column whose displayed values are all numbers (or missing) takes the
    numbers, the others their displayed values (categories). The exact dtypes of an Explanation
    converted by :func:`to_shap` come back through the encoding it keeps on the object.
    """
    import pandas as pd

    data, display = getattr(se, "data", None), getattr(se, "display_data", None)
    if _is_frame(data):
        return data
    names = _names(getattr(se, "feature_names", None))
    if _is_frame(display):
        return display if names is None or [str(c) for c in display.columns] == names else None
    enc = getattr(se, "_nbx_encoding", None)
    if data is None or display is None:
        return None
    d, shown = np.asarray(data), np.asarray(display, dtype=object)
    one = d.ndim == 1
    d, shown = (d[None], shown[None]) if one else (d, shown)
    if d.ndim != 2 or shown.shape != d.shape or d.dtype.kind not in "fiub":
        return None
    if enc is not None and enc.n_features == d.shape[1]:
        return enc.decode(d)
    if not any(isinstance(v, str) for v in shown.ravel()):
        return None
    cols = names if names is not None and len(names) == d.shape[1] else [f"feature {j}" for j in range(d.shape[1])]
    out = {}
    for j, c in enumerate(cols):
        numeric = all(v is None or isinstance(v, (int, float, np.number)) for v in shown[:, j])
        out[c] = pd.Series(d[:, j].astype(np.float64) if numeric else shown[:, j], dtype=None if numeric else object)
    return pd.DataFrame(out)
