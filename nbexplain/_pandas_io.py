"""Conversion between :class:`nbexplain.Explanation` and pandas DataFrames (pandas imported lazily).

Example:
    >>> import numpy as np, pandas as pd
    >>> from nbexplain import Explanation
    >>> df = pd.DataFrame({"age": [31, 45], "city": ["Oslo", "Bergen"]})
    >>> e = Explanation.from_pandas(pd.DataFrame({"age": [0.1, 0.2], "city": [0.3, -0.1]}), data=df)
    >>> e.data_frame().equals(df), e.to_pandas().shape
    (True, (2, 2))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nbexplain.explanation import Explanation


def _names(e: Explanation, width: int) -> list[str]:
    if e.feature_names is not None and len(e.feature_names) == width:
        return list(e.feature_names)
    return [f"feature {j}" for j in range(width)]


def _batch(e: Explanation, a: Any) -> np.ndarray | None:
    if a is None:
        return None
    arr = np.asarray(a)
    return arr[None] if e.is_single else arr


def values_frame(e: Explanation) -> Any:
    """The values as a DataFrame, one row per sample, one column per feature (see ``Explanation.to_pandas``).

    Per-output values (``(n, F, k)``) are taken at each sample's ``target`` (refused without one).

    Example:
        >>> import numpy as np
        >>> from nbexplain import Explanation
        >>> values_frame(Explanation(np.ones((1, 2)))).columns.tolist()
        ['feature 0', 'feature 1']
    """
    import pandas as pd

    v = _batch(e, e.values)
    assert v is not None
    if e.has_output_axis:
        t = _batch(e, e.target)
        if t is None:
            raise ValueError("these values have one map per model output and no target; pick an output first "
                             "(e.values[..., k]) or explain with a target")
        v = np.take_along_axis(v, t.reshape(-1, *([1] * (v.ndim - 1))), axis=-1)[..., 0]
    if v.ndim != 2:
        raise ValueError(f"to_pandas needs one value per feature (n, F); these values have feature shape "
                         f"{e.feature_shape} (layout {e.layout!r}): flatten them first")
    return pd.DataFrame(v, columns=_names(e, v.shape[1]))


def data_frame(e: Explanation) -> Any:
    """The explained inputs as a DataFrame with the user's columns and dtypes (see ``Explanation.data_frame``).

    Example:
        >>> import numpy as np
        >>> from nbexplain import Explanation
        >>> data_frame(Explanation(np.ones((1, 1)), data=[[2.0]])).iloc[0, 0]
        np.float64(2.0)
    """
    import pandas as pd

    d = _batch(e, e.data)
    if d is None:
        raise ValueError(f"this explanation ({e.method or 'unknown method'}) holds no data (the explained inputs); "
                         "explain with an explainer that keeps them, or pass data= when building it")
    if e.encoding is not None:
        return e.encoding.decode(d)
    if d.ndim != 2:
        raise ValueError(f"data_frame needs a table (n, F); the data has shape {d.shape}")
    return pd.DataFrame(d, columns=_names(e, d.shape[1]))


def from_pandas(cls: type[Explanation], values: Any, base_values: Any, data: Any, **kwargs: Any) -> Explanation:
    """Build an Explanation from a values DataFrame and the inputs' DataFrame (see ``Explanation.from_pandas``).

    Example:
        >>> import pandas as pd
        >>> from nbexplain import Explanation
        >>> from_pandas(Explanation, pd.DataFrame({"a": [1.0]}), None, None).values.tolist()
        [[1.0]]
    """
    from nbexplain.frames import FrameEncoding, is_frame

    if not is_frame(values):
        raise TypeError(f"values must be a pandas DataFrame (one column per feature), got {type(values).__name__}; "
                        "use Explanation(values, ...) for arrays")
    names = [str(c) for c in values.columns]
    encoding = kwargs.pop("encoding", None)
    if is_frame(data):
        if [str(c) for c in data.columns] != names:
            raise ValueError(f"data has columns {[str(c) for c in data.columns][:8]} but values has {names[:8]}; "
                             "pass the same columns in the same order")
        encoding = encoding if encoding is not None else FrameEncoding.fit(data, name="data")
        data = encoding.encode(data, "data")
    kwargs.setdefault("feature_names", names)
    return cls(values.to_numpy(dtype=np.float64), base_values, data, encoding=encoding, **kwargs)
