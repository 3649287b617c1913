"""Reading an :class:`~nbexplain.explanation.Explanation` for display (no arithmetic).

The widgets show one sample and one output. These helpers pick them out, with messages that
say what to pass instead.

Example:
    >>> import numpy as np
    >>> from nbexplain import Explanation
    >>> e = Explanation(np.arange(12.0).reshape(2, 2, 3), base_values=np.zeros((2, 3)))  # 2 features, 3 outputs
    >>> pick_output(e[0], output=2)    # the values of output 2 of sample 0
    array([2., 5.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._traits import to_numpy

__all__ = ["is_per_output", "pick_output", "pick_scalar", "require_single"]


def require_single(explanation: Any, where: str) -> Any:
    """Return ``explanation`` if it holds one sample; a one-sample batch is indexed for you.

    Example:
        >>> import numpy as np
        >>> from nbexplain import Explanation
        >>> require_single(Explanation(np.ones((1, 3))), "FeatureBars").values   # a batch of one: indexed
        array([1., 1., 1.])
        >>> require_single(Explanation(np.ones((2, 3))), "FeatureBars")
        Traceback (most recent call last):
        ...
        ValueError: FeatureBars needs a single-sample Explanation (e[i]); got one with 2 samples
    """
    if getattr(explanation, "is_single", False):
        return explanation
    n = np.shape(explanation.values)[0] if np.ndim(explanation.values) else 0
    if n == 1:
        return explanation[0]
    raise ValueError(f"{where} needs a single-sample Explanation (e[i]); got one with {n} samples")


def is_per_output(e: Any) -> bool:
    """Whether a single-sample explanation has a trailing output axis (one column per output).

    Example:
        >>> import numpy as np
        >>> from nbexplain import Explanation
        >>> is_per_output(Explanation(np.ones((2, 4, 3)), base_values=np.zeros((2, 3)))[0])  # base (n, k)
        True
        >>> is_per_output(Explanation(np.ones((2, 4)), base_values=np.zeros(2))[0])
        False
    """
    base = getattr(e, "base_values", None)
    if base is not None:
        return bool(np.ndim(base) == 1)
    data = getattr(e, "data", None)
    return data is not None and np.ndim(e.values) == np.ndim(data) + 1


def _output_index(e: Any, output: int | None) -> int:
    if output is not None:
        return int(output)
    target = getattr(e, "target", None)
    if target is None:
        k = np.shape(e.values)[-1]
        raise ValueError(f"the explanation holds {k} outputs and no target: pass output=<index>")
    return int(np.asarray(target).reshape(-1)[0])


def pick_output(e: Any, output: int | None = None) -> np.ndarray:
    """The values of one output of a single-sample explanation (``output`` or its ``target``).

    Example:
        >>> import numpy as np
        >>> from nbexplain import Explanation
        >>> e = Explanation(np.ones((2, 4, 3)), base_values=np.zeros((2, 3)), target=np.array([1, 2]))
        >>> pick_output(e[0]).shape    # (F,) for tables, (C, H, W) for images: the target's column
        (4,)
    """
    values = to_numpy(e.values)
    if not is_per_output(e):
        return values
    k = values.shape[-1]
    j = _output_index(e, output)
    if not -k <= j < k:
        raise ValueError(f"output {j} is out of range: the explanation holds {k} outputs")
    return values[..., j]


def pick_scalar(e: Any, field: str, output: int | None = None) -> float | None:
    """``e.base_values`` or ``e.outputs`` as one float (the picked output's), or None.

    Example:
        >>> import numpy as np
        >>> from nbexplain import Explanation
        >>> e = Explanation(np.ones((1, 4, 2)), base_values=np.array([[0.37, 0.63]]), target=np.array([0]))
        >>> pick_scalar(e[0], "base_values"), pick_scalar(e[0], "base_values", output=1), pick_scalar(e[0], "outputs")
        (0.37, 0.63, None)
    """
    value = getattr(e, field, None)
    if value is None:
        return None
    a = to_numpy(value).reshape(-1)
    if a.size == 1:
        return float(a[0])
    return float(a[_output_index(e, output)])
