"""ROAD: remove and debias (Rong et al. 2022), MoRF and LeRF curves with noisy linear imputation.

Removing pixels by painting them a constant leaves a pattern (the shape of the removed set) the
model can read, which leaks the ranking into the score. ROAD fills the removed pixels instead by
**noisy linear imputation**: each removed pixel becomes the weighted mean of its 8 neighbours
(weight 1/6 for the 4 axial ones, 1/12 for the diagonal ones, renormalised over the neighbours
inside the image), a sparse linear system solved for all removed pixels of an image at once
(every channel is one right-hand side, :func:`scipy.sparse.linalg.spsolve`), plus Gaussian noise
of standard deviation ``noise`` (0.01, as the paper and pytorch-grad-cam; seeded per sample,
percentage and curve). Weights and system follow the authors' reference code
(github.com/tleemann/road_evaluation, also in pytorch-grad-cam and Quantus); this is our own
vectorised construction, checked against Quantus's ``noisy_linear_imputation`` in the tests.

Pixels are ranked by their attribution summed over channels (``order="value"``, or ``"abs"``), ties
broken by a seeded permutation, and ``int(H * W * p / 100)`` pixels are removed at percentage
``p`` (as Quantus): **MoRF** removes the most relevant first (the output should fall: lower is
better), **LeRF** the least relevant first (the output should stay: higher is better). The
combined score per sample is ``mean over p of (LeRF - MoRF) / 2`` (pytorch-grad-cam's
``ROADCombined``); higher is better.

Example:
    >>> import numpy as np
    >>> img = np.tile(np.arange(5.0), (1, 5, 1))          # a horizontal ramp, one channel
    >>> hole = np.zeros((5, 5), bool); hole[1:4, 1:4] = True
    >>> np.allclose(noisy_linear_imputation(img, hole, noise=0.0), img)   # linear in, linear out
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nbexplain.explainers.gradients._engine import CPU_MEMORY_BUDGET
from nbexplain.guard import guarded
from nbexplain.metrics._problem import prepare
from nbexplain.metrics._removal import (
    STREAM_NOISE,
    STREAM_ORDER,
    check_order,
    relevance_order,
    sample_rng,
)
from nbexplain.validate import InputError, ParameterError, check_int, check_number

if TYPE_CHECKING:
    from nbexplain.tasks import TaskControl

__all__ = ["NEIGHBOUR_WEIGHTS", "RoadCurves", "noisy_linear_imputation", "road_curves"]

#: ((row offset, column offset), weight) of the 8 neighbours (Rong et al. 2022).
NEIGHBOUR_WEIGHTS = (((1, 1), 1 / 12), ((0, 1), 1 / 6), ((-1, 1), 1 / 12), ((1, -1), 1 / 12),
                     ((0, -1), 1 / 6), ((-1, -1), 1 / 12), ((1, 0), 1 / 6), ((-1, 0), 1 / 6))
#: The percentages of the paper and pytorch-grad-cam's averaged ROAD.
DEFAULT_PERCENTAGES = (10, 20, 30, 40, 50, 60, 70, 80, 90)


def noisy_linear_imputation(image: Any, removed: Any, *, noise: float = 0.01,
                            rng: np.random.Generator | None = None) -> np.ndarray:
    """``image`` ``(C, H, W)`` with the ``removed`` pixels ``(H, W)`` imputed from their neighbours, plus noise.

    Solves, for every removed pixel ``p``, ``sum_q w_q x_q = (sum_q w_q) x_p`` over its in-image
    neighbours ``q`` (known ones on the right-hand side). ``noise``: the standard deviation of
    the Gaussian noise added to each imputed value (drawn from ``rng``; required when
    ``noise > 0``). Returns a new float64 array; the input is not changed.

    Example:
        >>> img = np.zeros((1, 3, 3)); img[0, 1, 2] = 6.0
        >>> hole = np.zeros((3, 3), bool); hole[1, 1] = True
        >>> round(float(noisy_linear_imputation(img, hole, noise=0.0)[0, 1, 1]), 12)    # 6 * (1/6) / 1
        1.0
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    x = np.asarray(image, dtype=np.float64)
    mask = np.asarray(removed, dtype=bool)
    if x.ndim != 3 or mask.shape != x.shape[1:]:
        raise InputError(f"image must be (C, H, W) and removed (H, W); got {x.shape} and {mask.shape}")
    C, H, W = x.shape
    out = x.copy()
    idx = np.flatnonzero(mask)
    N = idx.size
    if N == 0:
        return out
    if N == H * W:
        raise InputError("every pixel is removed: linear imputation needs some known pixels; remove fewer")
    var = np.full(H * W, -1, np.int64)
    var[idx] = np.arange(N)
    rows, cols = np.divmod(idx, W)
    flat = x.reshape(C, H * W)
    diag = np.zeros(N)
    b = np.zeros((N, C))
    A_r, A_c, A_v = [], [], []
    for (dr, dc), w in NEIGHBOUR_WEIGHTS:
        r2, c2 = rows + dr, cols + dc
        inside = (r2 >= 0) & (r2 < H) & (c2 >= 0) & (c2 < W)
        eq = np.flatnonzero(inside)
        q = r2[inside] * W + c2[inside]
        diag[eq] += w
        unknown = var[q] >= 0
        A_r.append(eq[unknown])
        A_c.append(var[q[unknown]])
        A_v.append(np.full(int(unknown.sum()), w))
        np.subtract.at(b, eq[~unknown], w * flat[:, q[~unknown]].T)
    A = coo_matrix((np.concatenate([*A_v, -diag]), (np.concatenate([*A_r, np.arange(N)]),
                                                      np.concatenate([*A_c, np.arange(N)]))), shape=(N, N)).tocsc()
    solved = np.asarray(spsolve(A, b)).reshape(N, C)
    if noise:
        if rng is None:
            raise ParameterError("noise > 0 needs rng= (a seeded numpy Generator), or pass noise=0.0")
        solved = solved + noise * rng.standard_normal(solved.shape)
    out.reshape(C, H * W)[:, idx] = solved.T
    return out


class RoadCurves:
    """MoRF and LeRF curves of ``n`` images at the given percentages (ROAD, Rong et al. 2022).

    Attributes: ``percentages`` ``(P,)``, ``morf`` and ``lerf`` ``(n, P)`` (the explained output
    after removing that percentage of pixels, most / least relevant first), ``target``,
    ``output``, ``method``, ``noise``, ``seed``, ``n_evaluations``. Derived: ``morf_auc`` /
    ``lerf_auc`` (trapezoid over the fraction ``p / 100``), ``score`` ``(n,)`` (mean of
    ``(lerf - morf) / 2``; higher is better), ``mean_score``. :meth:`imputed_input` recomputes an
    imputed image.

    Example:
        >>> import numpy as np
        >>> f = lambda X: X[:, 0, 0, :1]                 # reads pixel (0, 0) only
        >>> x = np.random.default_rng(0).normal(size=(1, 1, 4, 4)) + 5
        >>> a = np.zeros((1, 4, 4)); a[0, 0, 0] = 1.0
        >>> rc = road_curves(f, x, a, percentages=[25, 50], output="raw", noise=0.0)
        >>> bool(np.allclose(rc.lerf, x[0, 0, 0, 0])), bool(rc.morf[0, 0] != x[0, 0, 0, 0])
        (True, True)
    """

    def __init__(self, *, percentages: np.ndarray, morf: np.ndarray, lerf: np.ndarray, target: np.ndarray,
                 output: str, method: str, noise: float, seed: int, orders: np.ndarray, images: np.ndarray,
                 n_evaluations: int) -> None:
        self.percentages, self.morf, self.lerf = percentages, morf, lerf
        self.target, self.output, self.method = target, output, method
        self.noise, self.seed, self.n_evaluations = noise, seed, int(n_evaluations)
        self._orders, self._images = orders, images

    def __len__(self) -> int:
        return int(self.morf.shape[0])

    @property
    def fractions(self) -> np.ndarray:
        """``percentages / 100``."""
        return self.percentages / 100.0

    @property
    def morf_auc(self) -> np.ndarray:
        """Area under each MoRF curve over the fraction (lower is better), ``(n,)``."""
        return np.trapezoid(self.morf, self.fractions, axis=-1) if len(self.percentages) > 1 else self.morf[:, 0]

    @property
    def lerf_auc(self) -> np.ndarray:
        """Area under each LeRF curve over the fraction (higher is better), ``(n,)``."""
        return np.trapezoid(self.lerf, self.fractions, axis=-1) if len(self.percentages) > 1 else self.lerf[:, 0]

    @property
    def score(self) -> np.ndarray:
        """Per sample, the mean over percentages of ``(LeRF - MoRF) / 2``; higher is better."""
        return ((self.lerf - self.morf) / 2).mean(axis=1)

    @property
    def mean_score(self) -> float:
        """:attr:`score` averaged over the samples."""
        return float(self.score.mean())

    def removed_pixels(self, i: int, percentage: float, kind: str = "morf") -> np.ndarray:
        """bool ``(H, W)``: the pixels image ``i`` has removed at ``percentage`` for ``kind`` ("morf"/"lerf")."""
        i = check_int(i, "i", min=-len(self), max=len(self) - 1) % len(self)
        if kind not in ("morf", "lerf"):
            raise ParameterError(f"kind must be 'morf' or 'lerf', got {kind!r}")
        p = check_number(percentage, "percentage", min=0, max=100, min_open=True, max_open=True)
        H, W = self._images.shape[2:]
        k = int(H * W * p / 100)
        order = self._orders[i] if kind == "morf" else self._orders[i][::-1]
        mask = np.zeros(H * W, bool)
        mask[order[:k]] = True
        return mask.reshape(H, W)

    def imputed_input(self, i: int, percentage: float, kind: str = "morf") -> np.ndarray:
        """Image ``i`` ``(C, H, W)`` with its pixels removed at ``percentage`` and imputed (same noise as the curve
        when ``percentage`` is one of the curve's)."""
        i = check_int(i, "i", min=-len(self), max=len(self) - 1) % len(self)
        mask = self.removed_pixels(i, percentage, kind)
        hit = np.flatnonzero(np.isclose(self.percentages, float(percentage)))
        j = int(hit[0]) if hit.size else len(self.percentages)
        rng = sample_rng(self.seed, STREAM_NOISE, i, j, 0 if kind == "morf" else 1)
        return noisy_linear_imputation(self._images[i], mask, noise=self.noise, rng=rng).astype(self._images.dtype)

    def describe(self) -> str:
        """What the curves measure, in words."""
        return (f"ROAD: pixels removed and filled in from their neighbours (no tell-tale shape for the model to read). "
                f"MoRF removes the most relevant first: LOWER is better (mean area {float(self.morf_auc.mean()):.3g}); "
                f"LeRF the least relevant first: HIGHER is better ({float(self.lerf_auc.mean()):.3g}); "
                f"combined (LeRF - MoRF) / 2, HIGHER is better: {self.mean_score:.3g}.")

    def __repr__(self) -> str:
        return (f"RoadCurves(n={len(self)}, percentages={self.percentages.tolist()}, "
                f"score {self.mean_score:.4g}, higher is better)")


@guarded
def road_curves(model: Any, images: Any, attributions: Any, *, target: Any = None,
                percentages: Any = DEFAULT_PERCENTAGES, noise: float = 0.01, order: str = "value",
                output: str = "probabilities", batch_size: int | str = "auto",
                memory_budget: int = CPU_MEMORY_BUDGET, seed: int = 0,
                control: TaskControl | None = None) -> RoadCurves:
    """ROAD MoRF and LeRF curves for images ``(n, C, H, W)`` (see the module docstring).

    ``attributions``: an :class:`~nbexplain.Explanation` or array ``(n, C, H, W)`` / ``(n, H, W)``;
    ``percentages``: values in (0, 100); ``noise``: the imputation noise's standard deviation;
    the other arguments as :func:`nbexplain.metrics.deletion_curves`. Each image is imputed
    ``2 * len(percentages)`` times (a sparse solve each), chunk by chunk as the model runs.
    """
    order = check_order(order)
    noise = check_number(noise, "noise", min=0)
    pct = np.asarray(percentages, dtype=np.float64).reshape(-1)
    if pct.size == 0 or not np.all((pct > 0) & (pct < 100)):
        raise ParameterError(f"percentages must be values in (0, 100) (the share of pixels removed), got {percentages!r}")
    p = prepare(model, images, attributions, target=target, output=output, patch_size=1, batch_size=batch_size,
                memory_budget=memory_budget, seed=seed, control=control, image_only=True)
    x = p.removal.x  # type: ignore[attr-defined]
    H, W = x.shape[2:]
    counts = (H * W * pct / 100).astype(np.int64)
    if counts.max() >= H * W:
        raise ParameterError("a percentage removes every pixel; linear imputation needs some known pixels")
    orders = np.stack([relevance_order(p.scores[i], order, sample_rng(seed, STREAM_ORDER, i)) for i in range(p.n)])
    P = pct.size

    def job(j: int) -> tuple[int, int, int]:
        i, rest = divmod(j, 2 * P)
        return i, rest % P, rest // P  # sample, percentage, 0 = MoRF / 1 = LeRF

    def removed_of(j: int) -> np.ndarray:
        i, k, lerf = job(j)
        mask = np.zeros(H * W, bool)
        mask[(orders[i] if not lerf else orders[i][::-1])[:counts[k]]] = True
        return mask

    def build(jobs: range, samples: np.ndarray) -> np.ndarray:
        out = np.empty((len(samples), *x.shape[1:]), x.dtype)
        for row, j in enumerate(jobs):
            i, k, lerf = job(j)
            rng = sample_rng(seed, STREAM_NOISE, i, k, lerf)
            out[row] = noisy_linear_imputation(x[i], removed_of(j).reshape(H, W), noise=noise, rng=rng)
        return out

    values = p.evaluate(np.repeat(np.arange(p.n), 2 * P), removed_of, control, "ROAD", build).reshape(p.n, 2, P)
    return RoadCurves(percentages=pct, morf=values[:, 0], lerf=values[:, 1], target=p.targets.copy(), output=p.output,
                      method=p.method, noise=noise, seed=seed, orders=orders, images=x, n_evaluations=p.evaluations)
