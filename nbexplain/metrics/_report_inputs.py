"""The inputs of :func:`nbexplain.metrics.report.trust_report`, checked: metrics, kind, explanations, samples.

- :func:`check_metrics`: the metric names asked (a subset of :data:`METRICS`);
- :func:`infer_kind`: ``"image"``, ``"table"`` or ``"text"`` from the inputs, checked against ``kind=``;
- :func:`split_explanations`: each method's explanation as a function of the sample indices
  (Explanations, lists of them for texts, or arrays), all holding the inputs' samples;
- :func:`pick_samples`, :func:`take_inputs`: the subsample (all, a seeded draw, or indices) and
  a copy of its inputs;
- :class:`Stage`: the progress of one metric of one method as a share of the whole report.

Example:
    >>> import numpy as np
    >>> infer_kind(np.zeros((2, 1, 4, 4)), None), infer_kind(["a text"], "text")
    ('image', 'text')
    >>> pick_samples(3, 10, seed=0).tolist()
    [0, 2, 6]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nbexplain.tasks import TaskControl
from nbexplain.validate import InputError, ParameterError, check_int

__all__ = ["AGNOSTIC", "KINDS", "METRICS", "Stage", "check_metrics", "infer_kind", "pick_samples",
           "split_explanations", "take_inputs"]

#: The metrics a report can compute.
METRICS = ("deletion", "insertion", "correlation", "sanity")
#: Data kinds.
KINDS = ("image", "table", "text")
#: Registry names the sanity check does not re-run by name: model-agnostic methods, whose maps do
#: not come from the weights' gradients (give a factory in ``sanity_methods`` to check one).
AGNOSTIC = frozenset({"shap", "lime", "kernel_shap", "lime_batched", "token_shap", "token_occlusion", "lime_text"})
#: The random stream of the subsample draw (the metrics use 0..3, see nbexplain.metrics._removal).
STREAM_SUBSAMPLE = 7


def check_metrics(metrics: Any) -> tuple[str, ...]:
    """The metric names, checked (one name or a sequence of them, no repeats).

    Example:
        >>> check_metrics("sanity")
        ('sanity',)
    """
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    bad = [m for m in names if m not in METRICS]
    if bad or not names or len(set(names)) != len(names):
        raise ParameterError(f"metrics must be one or more of {METRICS}, each once; got {metrics!r}")
    return names


def infer_kind(inputs: Any, kind: Any) -> str:
    """``"image"``, ``"table"`` or ``"text"`` from the inputs; ``kind`` (if given) must agree."""
    if kind is not None and kind not in KINDS:
        raise ParameterError(f"kind must be None (from the inputs), 'image', 'table' or 'text'; got {kind!r}")
    if isinstance(inputs, str):
        raise InputError("inputs is one string; pass a list of texts (e.g. [text])")
    if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(t, str) for t in inputs):
        found = "text"
    elif hasattr(inputs, "columns") and hasattr(inputs, "iloc"):
        found = "table"
    else:
        ndim = len(np.shape(inputs))
        if ndim not in (2, 4):
            raise InputError(f"inputs have shape {np.shape(inputs)}: pass images (n, C, H, W), a table (n, F) or a "
                             "list of texts")
        found = "image" if ndim == 4 else "table"
    if kind is not None and kind != found:
        raise InputError(f"kind={kind!r} but the inputs are {found} data (shape {np.shape(inputs)}); drop kind= or "
                         "pass inputs of that kind")
    return found


def _count(inputs: Any) -> int:
    return len(inputs) if isinstance(inputs, (list, tuple)) else int(np.shape(inputs)[0])


def split_explanations(explanations: Any, inputs: Any, kind: str) -> tuple[dict[str, Callable[[np.ndarray], Any]], int]:
    """``({method: take(indices) -> that method's attributions for those samples}, n)``, every count checked."""
    from nbexplain.explanation import Explanation
    from nbexplain.models import to_numpy

    if not isinstance(explanations, dict) or not explanations:
        raise InputError("explanations must be a non-empty dict {method name: Explanation of the inputs}, e.g. "
                         "{'saliency': Saliency(model).explain(x)}")
    n = _count(inputs)
    out: dict[str, Callable[[np.ndarray], Any]] = {}
    for name, e in explanations.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"explanations' keys must be method names (non-empty str), got {name!r}")
        if isinstance(e, Explanation):
            count = 1 if e.is_single else len(e)
            take: Callable[[np.ndarray], Any] = (lambda idx, e=e: e) if e.is_single else (
                lambda idx, e=e: e[np.asarray(idx)])
        elif isinstance(e, (list, tuple)) and e and all(isinstance(x, Explanation) for x in e):
            singles = [s for x in e for s in ([x] if x.is_single else [x[i] for i in range(len(x))])]
            count = len(singles)
            take = lambda idx, s=singles: [s[int(i)] for i in idx]  # noqa: E731
        elif isinstance(e, (list, tuple)) and kind == "text":
            arrays = [np.asarray(to_numpy(v)) for v in e]
            count = len(arrays)
            take = lambda idx, a=arrays: [a[int(i)] for i in idx]  # noqa: E731
        else:
            arr = np.asarray(to_numpy(e))
            if arr.ndim < 2 or arr.dtype == object:
                raise InputError(f"explanations[{name!r}] must be an Explanation or attributions (n, ...) of numbers; "
                                 f"got {type(e).__name__} of shape {arr.shape}")
            count = len(arr)
            take = lambda idx, a=arr: a[np.asarray(idx)]  # noqa: E731
        if count != n:
            raise InputError(f"explanations[{name!r}] holds {count} samples but the inputs hold {n}; explain the same "
                             "samples, in the same order")
        out[name] = take
    return out, n


def pick_samples(samples: Any, n: int, seed: int) -> np.ndarray:
    """The sample indices: all (None), a seeded draw of ``samples`` of them (sorted), or the indices given."""
    if samples is None:
        return np.arange(n)
    if isinstance(samples, (int, np.integer)) and not isinstance(samples, bool):
        k = check_int(samples, "samples", min=1)
        if k >= n:
            return np.arange(n)
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), STREAM_SUBSAMPLE]))
        return np.sort(rng.choice(n, k, replace=False))
    idx = np.asarray(samples)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise InputError(f"samples must be None, a count or a list of sample indices; got {samples!r}")
    if idx.min() < -n or idx.max() >= n or len(set((idx % n).tolist())) != idx.size:
        raise InputError(f"samples must be distinct indices in 0..{n - 1}; got {idx.tolist()[:10]}")
    return (idx % n).astype(np.int64)


def take_inputs(inputs: Any, idx: np.ndarray, kind: str) -> Any:
    """A copy of the inputs of the samples ``idx`` (texts a list, a DataFrame's rows, a tensor's, an array's)."""
    if kind == "text":
        return [inputs[int(i)] for i in idx]
    if hasattr(inputs, "iloc"):
        return inputs.iloc[idx].copy()
    if type(inputs).__module__.startswith("torch"):
        import torch

        return inputs[torch.as_tensor(idx, device=inputs.device)].detach().clone()
    return np.array(np.asarray(inputs)[idx], copy=True)


class Stage(TaskControl):
    """The control of one job of ``total``: its progress is reported to ``parent`` as a share of the whole.

    Example:
        >>> seen = []
        >>> parent = TaskControl(lambda d, t, m: seen.append((d, t, m)))
        >>> Stage.plan(parent, 4).stage(1, "deletion AUC: saliency").progress(5, 10)
        >>> seen
        [(25.0, 100.0, 'deletion AUC: saliency'), (38.0, 100.0, 'deletion AUC: saliency')]
    """

    def __init__(self, parent: TaskControl | None, index: int = 0, total: int = 1, label: str = "",
                 minor: int = 0) -> None:
        super().__init__(self._report)
        self.parent, self.index, self.total, self.label = parent, index, max(1, total), label
        self.minor = int(minor)
        self._share = 0.0

    @classmethod
    def plan(cls, parent: TaskControl | None, total: int) -> Stage:
        """The planner for ``total`` jobs under ``parent`` (None: no progress, no cancel)."""
        return cls(parent, 0, total)

    def stage(self, index: int, label: str, minor: int = 0) -> Stage:
        """The control of job ``index`` (0-based), named ``label`` in the progress messages.

        A metric first runs the model on the samples themselves (a phase of at most ``minor`` steps,
        counted as the job's first 5 %), then on their perturbations (the rest).
        """
        if self.parent is not None:
            self.parent.check()
            self.parent.progress(round(100 * index / self.total), 100, label)
        return Stage(self.parent, index, self.total, label, minor)

    def _report(self, done: float, total: float | None, message: str) -> None:
        if self.parent is None:
            return
        frac = 0.0 if not total else min(1.0, max(0.0, done / total))
        share = 0.05 * frac if total is not None and total <= self.minor else 0.05 + 0.95 * frac
        self._share = share = max(self._share, share)  # the bar never goes back
        self.parent.progress(round(100 * (self.index + share) / self.total), 100, self.label)

    def check(self) -> None:
        """Raise :class:`~nbexplain.tasks.Cancelled` when the whole report was cancelled."""
        if self.parent is not None:
            self.parent.check()
        super().check()

    @property
    def cancelled(self) -> bool:
        """True once the report (or this job) was cancelled."""
        return super().cancelled or (self.parent is not None and self.parent.cancelled)
