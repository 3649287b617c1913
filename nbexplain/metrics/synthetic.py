"""A synthetic ground-truth set where the right explanation is known, and a scorer against it.

- :func:`synthetic_table`: rows of standard-normal features whose label depends only on a few
  named *signal* features (``y = 1`` when ``1.5 * signal_a + signal_b - signal_c > 0``), placed at
  seeded positions among *noise* features the label ignores;
- :func:`synthetic_images`: noise images where the class is decided by one planted patch (bright
  for class 1, dark for class 0) whose location varies (on the patch grid by default, so patch-level
  explainers have an exact answer too);

each with a small torch model trained on it in about a second (seeded; the global random states
are left as they were), returned with the ground truth: the signal features / the patch mask.
:func:`ground_truth_score` scores attributions against it: the share of the top-``k`` units
(``k`` = the number of true units) that are true ("precision at k", 1 is perfect, a random map
scores about ``chance``), and the pointing game (Zhang et al. 2016, here without a tolerance
margin): whether the single top unit is a true one.

Example:
    >>> import numpy as np
    >>> t = synthetic_table(n=64, seed=0)
    >>> t.signal, t.X.shape, t.truth.sum()
    (['signal_a', 'signal_b', 'signal_c'], (64, 8), np.int64(3))
    >>> s = ground_truth_score(t.truth * 1.0 + np.zeros((64, 8)), t.truth)
    >>> s.mean_precision, s.hit_rate, round(s.chance, 3)
    (1.0, 1.0, 0.375)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nbexplain.guard import rng_guard
from nbexplain.metrics._removal import STREAM_ORDER, check_order, relevance_order, sample_rng
from nbexplain.models import to_numpy
from nbexplain.validate import InputError, check_finite, check_int

__all__ = ["GroundTruthScore", "SyntheticImages", "SyntheticTable", "ground_truth_score", "synthetic_images",
           "synthetic_table"]

#: The signal features' weights in the synthetic table's label rule.
SIGNAL_WEIGHTS = (1.5, 1.0, -1.0)


@dataclass
class SyntheticTable:
    """A table whose label depends only on ``signal`` (``truth``: bool per column), with a trained model.

    ``X`` float32 ``(n, F)``, ``y`` int64 ``(n,)``, ``feature_names``, ``signal`` (names),
    ``truth`` bool ``(F,)``, ``model`` (a torch MLP ``F -> 16 -> 2`` returning logits, in eval
    mode), ``background`` (the first 100 rows), ``accuracy`` (on a held-out quarter).
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    signal: list[str]
    truth: np.ndarray
    model: Any
    background: np.ndarray
    accuracy: float


@dataclass
class SyntheticImages:
    """Images ``(n, C, S, S)`` whose class is decided by a planted patch (``mask`` ``(n, S, S)``), with a trained CNN.

    ``patch``: the patch edge in pixels; ``model``: a small CNN (:func:`patch_detector`: two
    convolutions and global max pooling, so the patch is found wherever it is) returning logits,
    in eval mode; ``accuracy`` on a held-out quarter.
    """

    X: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    patch: int
    model: Any
    accuracy: float


def patch_detector(channels: int) -> Any:
    """The synthetic images' CNN: ``logits = [g(-x), g(x)]`` with one detector ``g`` (conv 3x3 x 4, ReLU,
    conv 3x3 x 1, global max pool), so each class is decided by finding its own patch (bright for
    class 1, dark for class 0). A max over locations of a local score cannot see the *absence* of a
    patch (some window always lacks it), and no layer after it can invert the score, so the
    evidence for either class is its patch.

    Example:
        >>> import torch
        >>> patch_detector(1)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 2])
    """
    import torch

    class PatchDetector(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.detector = torch.nn.Sequential(
                torch.nn.Conv2d(channels, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 1, 3, padding=1),
                torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten())

        def forward(self, x: Any) -> Any:
            return torch.cat([self.detector(-x), self.detector(x)], dim=1)

    return PatchDetector()


def _train(model: Any, X: np.ndarray, y: np.ndarray, epochs: int, lr: float, weight_decay: float) -> float:
    """Full-batch Adam on 3/4 of the rows; the accuracy on the rest."""
    import torch

    n_fit = (3 * len(X)) // 4
    xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: one thread is faster than two contended ones
    try:
        for _ in range(epochs):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[:n_fit]), yt[:n_fit])
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    for p in model.parameters():
        p.grad = None
    with torch.no_grad():
        return float((model(xt[n_fit:]).argmax(1) == yt[n_fit:]).float().mean())


def synthetic_table(n: int = 512, n_features: int = 8, *, seed: int = 0, epochs: int = 300) -> SyntheticTable:
    """A table of ``n`` rows whose label depends only on three signal features, and an MLP trained on it.

    The signal features (``signal_a``, ``signal_b``, ``signal_c``) sit at seeded positions among
    ``n_features - 3`` noise features (``noise_1``, ...). Label: ``1.5 a + b - c > 0``.

    Example:
        >>> t = synthetic_table(n=256, seed=1)
        >>> t.accuracy > 0.9, [t.feature_names[j] for j in np.flatnonzero(t.truth)] == t.signal
        (True, True)
    """
    import torch

    n = check_int(n, "n", min=8)
    F = check_int(n_features, "n_features", min=4)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, F)).astype(np.float32)
    where = np.sort(rng.choice(F, 3, replace=False))
    names = [""] * F
    for name, j in zip(("signal_a", "signal_b", "signal_c"), where, strict=True):
        names[j] = name
    k = 0
    for j in range(F):
        if not names[j]:
            k += 1
            names[j] = f"noise_{k}"
    y = (X[:, where] @ np.array(SIGNAL_WEIGHTS, np.float32) > 0).astype(np.int64)
    truth = np.zeros(F, bool)
    truth[where] = True
    with rng_guard():
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(F, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
        acc = _train(model, X, y, check_int(epochs, "epochs", min=1), lr=0.02, weight_decay=1e-3)
    return SyntheticTable(X, y, names, ["signal_a", "signal_b", "signal_c"], truth, model, X[:100].copy(), acc)


def synthetic_images(n: int = 512, size: int = 16, channels: int = 1, patch: int = 4, *, seed: int = 0,
                     aligned: bool = True, noise: float = 0.3, epochs: int = 150) -> SyntheticImages:
    """Noise images ``(n, channels, size, size)`` with one planted ``patch x patch`` square deciding the class.

    Class 1: the square is +1 (every channel), class 0: -1, on Gaussian noise of standard deviation
    ``noise``. ``aligned``: squares sit on the ``patch`` grid (patch-level methods then have an
    exact answer); else anywhere. A small CNN (:func:`patch_detector`) is trained on it.

    Example:
        >>> s = synthetic_images(n=128, size=8, patch=4, seed=0, epochs=60)
        >>> s.X.shape, int(s.mask[0].sum()), s.accuracy > 0.9
        ((128, 1, 8, 8), 16, True)
    """
    import torch

    n = check_int(n, "n", min=8)
    size = check_int(size, "size", min=2)
    patch = check_int(patch, "patch", min=1, max=size)
    channels = check_int(channels, "channels", min=1)
    rng = np.random.default_rng(seed)
    X = (noise * rng.standard_normal((n, channels, size, size))).astype(np.float32)
    y = rng.integers(0, 2, n).astype(np.int64)
    mask = np.zeros((n, size, size), bool)
    if aligned:
        cells = size // patch
        r0 = rng.integers(0, cells, n) * patch
        c0 = rng.integers(0, cells, n) * patch
    else:
        r0 = rng.integers(0, size - patch + 1, n)
        c0 = rng.integers(0, size - patch + 1, n)
    for i in range(n):
        mask[i, r0[i]:r0[i] + patch, c0[i]:c0[i] + patch] = True
    X[np.broadcast_to(mask[:, None], X.shape)] = np.repeat(np.where(y == 1, 1.0, -1.0), channels * patch * patch)
    with rng_guard():
        torch.manual_seed(seed)
        model = patch_detector(channels)
        acc = _train(model, X, y, check_int(epochs, "epochs", min=1), lr=0.03, weight_decay=0.0)
    return SyntheticImages(X, y, mask, patch, model, acc)


@dataclass
class GroundTruthScore:
    """How well attributions find the known answer: ``precision`` ``(n,)`` (share of the top-``k`` units that
    are true), ``hit`` bool ``(n,)`` (pointing game: the top unit is true), ``k`` ``(n,)``, ``chance``
    (the mean precision a random ranking expects), ``mean_precision``, ``hit_rate``."""

    precision: np.ndarray
    hit: np.ndarray
    k: np.ndarray
    chance: float

    @property
    def mean_precision(self) -> float:
        return float(self.precision.mean())

    @property
    def hit_rate(self) -> float:
        return float(self.hit.mean())


def _flat(name: str, a: Any) -> np.ndarray:
    if hasattr(a, "values") and hasattr(a, "feature_shape"):  # an Explanation
        a = a.values if not a.is_single else a.values[None]
    return np.asarray(to_numpy(a))


def ground_truth_score(attributions: Any, truth: Any, k: int | None = None, *, order: str = "abs",
                       seed: int = 0) -> GroundTruthScore:
    """Score attributions against a known answer (see the module docstring).

    ``attributions``: a table's ``(n, F)``, or image maps ``(n, C, H, W)`` (channels summed) /
    ``(n, H, W)``, or an :class:`~nbexplain.Explanation`. ``truth``: bool, one mask per sample or
    one shared (``(F,)``, ``(H, W)``). ``k``: units counted (default: the true units' number per
    sample). ``order``: ``"abs"`` (magnitude: evidence for or against is relevance) or ``"value"``.
    Ties are broken by a seeded permutation.

    Example:
        >>> import numpy as np
        >>> truth = np.array([True, False, False, True])
        >>> ground_truth_score(np.array([[0.9, 0.1, -0.5, -1.0]]), truth).precision.tolist()
        [1.0]
        >>> ground_truth_score(np.array([[0.9, 0.1, -0.5, -1.0]]), truth, order="value").precision.tolist()
        [0.5]
    """
    order = check_order(order)
    a = _flat("attributions", attributions).astype(np.float64)
    t = np.asarray(to_numpy(truth))
    if t.dtype != bool:
        raise InputError(f"truth must be a bool mask (True on the true features / pixels), got dtype {t.dtype}")
    if a.ndim == 4:
        a = a.sum(axis=1)
    if t.shape == a.shape[1:]:
        t = np.broadcast_to(t, a.shape)
    if a.ndim < 2 or t.shape != a.shape:
        raise InputError(f"truth has shape {t.shape} but the attributions {a.shape}; pass one mask per sample or one "
                         "shared mask, shaped like one sample's attributions (channels summed for images)")
    check_finite(a, "attributions")
    n = a.shape[0]
    a, t = a.reshape(n, -1), t.reshape(n, -1)
    count = t.sum(axis=1)
    if (count == 0).any():
        raise InputError(f"truth of sample {int(np.flatnonzero(count == 0)[0])} marks nothing; every sample needs at "
                         "least one true unit")
    ks = count if k is None else np.full(n, check_int(k, "k", min=1, max=a.shape[1]))
    precision, hit = np.empty(n), np.empty(n, bool)
    for i in range(n):
        top = relevance_order(a[i], order, sample_rng(seed, STREAM_ORDER, i))
        precision[i] = t[i, top[:ks[i]]].mean()
        hit[i] = t[i, top[0]]
    return GroundTruthScore(precision, hit, ks.astype(np.int64), float((count / a.shape[1]).mean()))
