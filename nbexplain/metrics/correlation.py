"""Faithfulness correlation (Bhatt et al. 2020): do the attributions of a subset predict what removing it does?

For each sample, ``n_runs`` random subsets of ``subset_size`` units (features of a table, patches
or pixels of an image; drawn without replacement from a seeded per-sample stream) are removed
with the same mechanism as the deletion curves (:mod:`nbexplain.metrics._removal`: background
rows for a table, a baseline for an image). The score is the Pearson correlation, over the runs,
between the sum of the attributions in the subset and the drop of the explained output,
``f(x) - f(x with the subset removed)``. It lies in [-1, 1]; **higher** is better. When the
attribution sums or the drops do not vary over the runs (a constant map, a model that ignores
the subsets) the correlation is undefined: that sample's value is NaN and ``undefined`` says so.

Against Quantus 0.6 (``FaithfulnessCorrelation``, the test reference): Quantus draws subsets of
*elements* (every pixel of every channel) from numpy's global generator; ours draws units (with
``patch_size=1`` and one channel, pixels) from its own seeded generator. ``subsets=`` takes the
subsets explicitly, so the tests replay Quantus's draws and match its numbers. Quantus's default
baseline ``"black"`` is each image's minimum; ours defaults to 0 (``"zeros"``).

Example:
    >>> import numpy as np
    >>> w = np.array([1.0, -2.0, 0.5, 3.0, 0.0, -1.0])
    >>> f = lambda X: X @ w[:, None]
    >>> x = np.ones((1, 6))
    >>> fc = faithfulness_correlation(f, x, x * w, baseline=0.0, subset_size=2, n_runs=20, output="raw")
    >>> round(float(fc.correlation[0]), 6), fc.better       # a linear model, exact attributions: perfect
    (1.0, 'higher')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nbexplain.explainers.gradients._engine import CPU_MEMORY_BUDGET
from nbexplain.guard import guarded
from nbexplain.metrics._problem import prepare
from nbexplain.metrics._removal import STREAM_SUBSETS, sample_rng
from nbexplain.validate import InputError, check_int

if TYPE_CHECKING:
    from nbexplain.tasks import TaskControl

__all__ = ["FaithfulnessCorrelation", "faithfulness_correlation"]

#: The default subset: this fraction of a sample's units (at least one).
DEFAULT_SUBSET_FRACTION = 0.2


class FaithfulnessCorrelation:
    """Faithfulness correlation of ``n`` samples (Bhatt et al. 2020); higher is better.

    Attributes: ``correlation`` ``(n,)`` (NaN where undefined), ``undefined`` bool ``(n,)``,
    ``attribution_sums`` and ``output_drops`` ``(n, n_runs)`` (the pairs correlated, for a
    scatter plot), ``subsets`` ``(n, n_runs, subset_size)`` unit indices, ``subset_size``,
    ``n_runs``, ``target``, ``output``, ``method``, ``modality``, ``n_evaluations``.

    Example:
        >>> import numpy as np
        >>> f = lambda X: X[:, :1]
        >>> fc = faithfulness_correlation(f, np.ones((2, 4)), np.zeros((2, 4)), baseline=0.0, output="raw",
        ...                               subset_size=2, n_runs=8)
        >>> fc.undefined.tolist(), fc.mean      # a constant map predicts nothing: undefined, said so
        ([True, True], nan)
    """

    better = "higher"

    def __init__(self, *, correlation: np.ndarray, attribution_sums: np.ndarray, output_drops: np.ndarray,
                 subsets: np.ndarray, target: np.ndarray, output: str, method: str, modality: str,
                 n_evaluations: int) -> None:
        self.correlation = correlation
        self.undefined = ~np.isfinite(correlation)
        self.attribution_sums = attribution_sums
        self.output_drops = output_drops
        self.subsets = subsets
        self.n_runs, self.subset_size = int(subsets.shape[1]), int(subsets.shape[2])
        self.target, self.output, self.method, self.modality = target, output, method, modality
        self.n_evaluations = int(n_evaluations)

    def __len__(self) -> int:
        return int(self.correlation.shape[0])

    @property
    def mean(self) -> float:
        """The correlation averaged over the samples where it is defined (NaN when none is)."""
        ok = self.correlation[~self.undefined]
        return float(ok.mean()) if ok.size else float("nan")

    def describe(self) -> str:
        """What the number means, in words.

        Example:
            >>> import numpy as np
            >>> f = lambda X: X @ np.array([[1.0], [2.0], [3.0]])
            >>> fc = faithfulness_correlation(f, np.ones((1, 3)), [[1.0, 2.0, 3.0]], baseline=0.0, output="raw",
            ...                               subset_size=1, n_runs=6)
            >>> fc.describe()[:60]
            'Faithfulness correlation: over 6 random subsets of 1 feature'
        """
        units = {"image": "patches", "table": "features"}[self.modality]
        unit = units[:-2] if units.endswith("ches") else units[:-1]
        what = unit if self.subset_size == 1 else units
        bad = f"; undefined for {int(self.undefined.sum())} of {len(self)} samples" if self.undefined.any() else ""
        return (f"Faithfulness correlation: over {self.n_runs} random subsets of {self.subset_size} {what}, the "
                f"correlation between the attributions' sum and the drop of the output when the subset is removed; "
                f"1 is perfect, 0 no relation, so HIGHER is better (mean {self.mean:.3g}{bad}).")

    def __repr__(self) -> str:
        return (f"FaithfulnessCorrelation({self.modality}, n={len(self)}, n_runs={self.n_runs}, "
                f"subset_size={self.subset_size}, mean {self.mean:.4g})")


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation; NaN where either row is constant."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    scale = np.maximum(np.abs(a).max(axis=1), 1e-300) * np.maximum(np.abs(b).max(axis=1), 1e-300)
    const = den <= 1e-12 * scale * a.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=1) / den
    return np.where(const, np.nan, np.clip(r, -1.0, 1.0))


def _subsets(subsets: Any, n: int, n_units: list[int], subset_size: Any, n_runs: int, seed: int) -> np.ndarray:
    if subsets is not None:
        s = np.asarray(subsets)
        if s.ndim != 3 or s.shape[0] != n or s.dtype.kind not in "iu":
            raise InputError(f"subsets must be int unit indices (n, n_runs, subset_size) with n={n}, got shape "
                             f"{s.shape} dtype {s.dtype}")
        for i in range(n):
            if s[i].min() < 0 or s[i].max() >= n_units[i]:
                raise InputError(f"subsets of sample {i} index units outside 0..{n_units[i] - 1}")
        return s.astype(np.int64)
    smallest = min(n_units)
    size = max(1, round(DEFAULT_SUBSET_FRACTION * smallest)) if subset_size is None else check_int(
        subset_size, "subset_size", min=1)
    if size >= smallest:
        raise InputError(f"subset_size={size} must be smaller than the number of units ({smallest}): removing "
                         "everything every run leaves nothing to correlate; pass a smaller subset_size")
    out = np.empty((n, n_runs, size), np.int64)
    for i in range(n):
        rng = sample_rng(seed, STREAM_SUBSETS, i)
        for r in range(n_runs):
            out[i, r] = rng.choice(n_units[i], size, replace=False)
    return out


@guarded
def faithfulness_correlation(model: Any, inputs: Any, attributions: Any, *, target: Any = None,
                             subset_size: int | None = None, n_runs: int = 100, subsets: Any = None,
                             output: str = "probabilities", baseline: Any = None, patch_size: int | None = None,
                             segments: Any = None, blur_sigma: float | None = None, background: Any = None,
                             background_mode: str = "rows", n_background: int = 32,
                             batch_size: int | str = "auto", memory_budget: int = CPU_MEMORY_BUDGET, seed: int = 0,
                             control: TaskControl | None = None) -> FaithfulnessCorrelation:
    """Faithfulness correlation for images ``(n, C, H, W)`` or a table ``(n, F)`` (see the module docstring).

    ``subset_size``: units per subset (default a fifth of the units); ``n_runs``: subsets per
    sample; ``subsets``: explicit unit indices ``(n, n_runs, subset_size)`` instead of seeded
    draws. The other arguments are those of :func:`nbexplain.metrics.deletion_curves` (images:
    ``baseline`` default ``"zeros"``, ``patch_size`` / ``segments``; tables: ``background``).
    """
    n_runs = check_int(n_runs, "n_runs", min=2) if subsets is None else int(np.shape(subsets)[1])
    if n_runs < 2:
        raise InputError("subsets must hold at least 2 runs per sample: a correlation needs two points")
    p = prepare(model, inputs, attributions, target=target, output=output, baseline=baseline, patch_size=patch_size,
                segments=segments, blur_sigma=blur_sigma, background=background, background_mode=background_mode,
                n_background=n_background, batch_size=batch_size, memory_budget=memory_budget, seed=seed,
                control=control, no_text=True)
    units = [p.removal.n_units(i) for i in range(p.n)]
    S = _subsets(subsets, p.n, units, subset_size, n_runs, seed)

    def removed_of(j: int) -> np.ndarray:
        i, r = divmod(j, n_runs)
        mask = np.zeros(units[i], bool)
        mask[S[i, r]] = True
        return mask

    after = p.evaluate(np.repeat(np.arange(p.n), n_runs), removed_of, control, "faithfulness correlation")
    drops = p.explained()[:, None] - after.reshape(p.n, n_runs)
    sums = np.stack([p.scores[i][S[i]].sum(axis=-1) for i in range(p.n)])
    return FaithfulnessCorrelation(correlation=_pearson(sums, drops), attribution_sums=sums, output_drops=drops,
                                   subsets=S, target=p.targets.copy(), output=p.output, method=p.method,
                                   modality=p.modality, n_evaluations=p.evaluations)
