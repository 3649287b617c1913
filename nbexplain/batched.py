"""Batched computation with progress and cancel: explain or predict a whole data set in batches.

``control`` (a :class:`nbexplain.tasks.TaskControl`) is checked before each batch and told the
progress after it, so a :class:`~nbexplain.tasks.TaskRunner` can show and cancel the work.

Example:
    >>> import numpy as np
    >>> p = predict_dataset(lambda X: np.c_[1 - X[:, 0], X[:, 0]], np.full((5, 1), 0.25), batch_size=2)
    >>> p.shape, p[4].tolist()
    ((5, 2), [0.75, 0.25])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nbexplain.explanation import Explanation

if TYPE_CHECKING:
    from nbexplain.tasks import TaskControl

__all__ = ["concat_explanations", "explain_dataset", "predict_dataset"]


def _rows(X: Any) -> int:
    try:
        return len(X)
    except TypeError as err:
        raise TypeError(f"X must have a sample axis (an array, tensor, DataFrame or list), got "
                        f"{type(X).__name__}") from err


def _slice(X: Any, a: int, b: int) -> Any:
    return X.iloc[a:b] if hasattr(X, "iloc") else X[a:b]


def _check_batch(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def explain_dataset(explainer: Any, X: Any, target: Any = None, *, batch_size: int = 64,
                    control: TaskControl | None = None) -> Explanation:
    """``explainer.explain(X, target)`` in batches of ``batch_size`` rows, with progress and cancel.

    ``control.check()`` runs before each batch and ``control.progress(done, n)`` after it; the
    result equals one ``explainer.explain(X, target)`` call for explainers that treat rows
    independently. ``target``: None, one output index, or one per row (sliced with the rows).

    Example:
        >>> import numpy as np
        >>> from nbexplain.explainers.perturbation.kernel_shap import KernelShap
        >>> ks = KernelShap(lambda A: A * [1.0, -1.0], np.zeros((2, 2)))
        >>> explain_dataset(ks, np.ones((5, 2)), target=0, batch_size=2).values[:, 0].tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    if not hasattr(explainer, "explain"):
        raise TypeError(f"explainer must have an explain(X, target) method, got {type(explainer).__name__}")
    batch = _check_batch(batch_size)
    n = _rows(X)
    if n == 0:
        raise ValueError("X is empty (0 rows); pass at least one sample to explain")
    per_row = target is not None and np.ndim(target) > 0
    if per_row and len(target) != n:
        raise ValueError(f"target has {len(target)} entries but X has {n} rows; pass one target per row, "
                         "one output index, or None")
    control = control or _control()
    control.progress(0, n)
    parts: list[Explanation] = []
    for a in range(0, n, batch):
        control.check()
        b = min(n, a + batch)
        t = _slice(target, a, b) if per_row else target
        parts.append(explainer.explain(_slice(X, a, b), t))
        control.progress(b, n)
    return parts[0] if len(parts) == 1 else concat_explanations(parts)


def predict_dataset(model: Any, X: Any, *, batch_size: int = 4096,
                    control: TaskControl | None = None) -> np.ndarray:
    """float32 class probabilities ``(n, K)`` of ``model`` on ``X``, in batches, with progress.

    Uses :func:`nbexplain.models.predict_proba` (torch logits go through softmax).

    Example:
        >>> import numpy as np
        >>> p = predict_dataset(lambda A: A, np.zeros((5, 3)), batch_size=2)
        >>> p.dtype, p.shape, round(float(p[0, 0]), 4)
        (dtype('float32'), (5, 3), 0.3333)
    """
    from nbexplain.models import predict_proba

    batch = _check_batch(batch_size)
    n = _rows(X)
    if n == 0:
        raise ValueError("X is empty (0 rows); pass at least one sample to predict")
    control = control or _control()
    control.progress(0, n)
    outs = []
    for a in range(0, n, batch):
        control.check()
        b = min(n, a + batch)
        outs.append(np.asarray(predict_proba(model, _slice(X, a, b)), dtype=np.float32))
        control.progress(b, n)
    return np.concatenate(outs, axis=0)


def concat_explanations(parts: list[Explanation]) -> Explanation:
    """Join explanations of consecutive row batches into one (per-sample diagnostics joined too).

    Example:
        >>> import numpy as np
        >>> e = Explanation(np.ones((2, 3)), base_values=[0.0, 1.0])
        >>> concat_explanations([e, e[:1]]).base_values.tolist()
        [0.0, 1.0, 0.0]
    """
    if not parts:
        raise ValueError("no explanations to join; pass at least one")
    first = parts[0]
    sizes = [len(p) for p in parts]

    def join(name: str) -> Any:
        arrays = [getattr(p, name) for p in parts]
        if all(a is None for a in arrays):
            return None
        if any(a is None for a in arrays):
            raise ValueError(f"cannot join explanations: some batches have {name} and some do not")
        return np.concatenate([np.asarray(a) for a in arrays], axis=0)

    return Explanation(join("values"), join("base_values"), join("data"), feature_names=first.feature_names,
                       output_names=first.output_names, target=join("target"), outputs=join("outputs"),
                       method=first.method, params=first.params, layout=first.layout,
                       diagnostics=_join_diagnostics([p.diagnostics for p in parts], sizes))


def _join_diagnostics(diags: list[dict[str, Any]], sizes: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in diags[0].items():
        vals = [d.get(key) for d in diags]
        if isinstance(val, dict) and all(isinstance(v, dict) for v in vals):
            out[key] = _join_diagnostics(vals, sizes)  # type: ignore[arg-type]
        elif all(isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == s for v, s in zip(vals, sizes, strict=True)):
            out[key] = np.concatenate(vals, axis=0)
        elif all(isinstance(v, list) and len(v) == s for v, s in zip(vals, sizes, strict=True)):
            out[key] = [x for v in vals for x in v]
        else:
            out[key] = val
    return out


def _control() -> TaskControl:
    """A control that is never cancelled (tasks imports this module: imported here, late)."""
    from nbexplain.tasks import TaskControl

    return TaskControl()
