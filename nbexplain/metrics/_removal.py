"""The one mechanism that removes features of a sample, shared by every faithfulness metric.

A sample is cut into *units*, the things a metric removes, ranks and counts:

- images ``(C, H, W)``: square patches of ``patch_size`` pixels (default :func:`default_patch_size`,
  at most 256 patches) or superpixels given as a label map ``(H, W)`` / ``(n, H, W)``; a removed
  unit's pixels (all channels) take the baseline's: a number, ``"zeros"``, ``"mean"`` (each
  channel's mean over that image), ``"blur"`` (the image blurred by
  :func:`nbexplain.explainers.gradients._paths.gaussian_blur`) or an image / one image per sample;
- tables ``(F,)``: one unit per feature; a removed feature takes the value of background rows.
  Default (``background_mode="rows"``): the output is averaged over ``n_background`` seeded rows
  of the background, each supplying all removed features at once (``E_b f(x_S, b_rest)``, the
  interventional value function KernelSHAP explains, so the curve measures what the attributions
  claim, and no input lies off the data as a column mean can: the mean of a 0/1 feature is 0.5).
  ``"mean"`` puts the background's column means in (one row per step, ``n_background`` times
  cheaper, exact for models linear in the removed features);
- texts: one unit per token; a removed token is dropped and the text rebuilt from the kept
  tokens, in order, by the detokenizer (as :mod:`nbexplain.explainers.perturbation.token_shap` does).

Orderings: :func:`relevance_order` ranks units most relevant first (by the unit's attribution
total, positive evidence for the explained output first; ``order="abs"`` by its magnitude), ties
broken by a seeded permutation; :func:`random_orders` gives the seeded random floor. Seeds are
per sample (:func:`sample_rng`), so a sample's numbers do not depend on the other samples.

Tables and texts: :mod:`nbexplain.metrics._removal_rows`.

Example:
    >>> import numpy as np
    >>> r = ImageRemoval(np.ones((1, 1, 4, 4), np.float32), baseline=0.0, patch_size=2)
    >>> r.n_units(0), r.unit_map(0).tolist()[0]
    (4, [0, 0, 1, 1])
    >>> r.build(np.array([0]), [np.array([True, False, False, True])])[0, 0].astype(int).tolist()
    [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.validate import InputError, ParameterError, check_finite

__all__ = [
    "IMAGE_BASELINES", "MAX_PATCHES", "ORDERS", "ImageRemoval", "Removal", "default_patch_size", "random_orders",
    "relevance_order", "sample_rng",
]

#: How units are ranked: by their attribution total (``"value"``) or its magnitude (``"abs"``).
ORDERS = ("value", "abs")
#: The default patch size gives at most this many patches per image.
MAX_PATCHES = 256
#: Named image baselines.
IMAGE_BASELINES = ("zeros", "mean", "blur")
#: Blurred / mean baseline images kept between chunks, at most this many bytes (the latest samples').
BASELINE_CACHE_BYTES = 256 * 1024**2
#: Random streams drawn per sample (see :func:`sample_rng`).
STREAM_ORDER, STREAM_BACKGROUND, STREAM_SUBSETS, STREAM_NOISE = 0, 1, 2, 3


def sample_rng(seed: int, stream: int, *key: int) -> np.random.Generator:
    """The seeded generator of one random stream for one sample (and step): ``SeedSequence([seed, stream, *key])``.

    Example:
        >>> sample_rng(0, STREAM_ORDER, 3).permutation(4).tolist() == sample_rng(0, STREAM_ORDER, 3).permutation(4).tolist()
        True
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(stream), *(int(k) for k in key)]))


def check_order(order: Any) -> str:
    """Validate an ``order`` argument (one of :data:`ORDERS`)."""
    if order not in ORDERS:
        raise ParameterError(f"order must be one of {ORDERS} ('value': positive evidence for the explained output "
                             f"first; 'abs': largest magnitude first), got {order!r}")
    return str(order)


def relevance_order(scores: np.ndarray, order: str, rng: np.random.Generator) -> np.ndarray:
    """Unit indices, most relevant first; ties broken by a permutation drawn from ``rng``.

    Example:
        >>> relevance_order(np.array([0.1, -3.0, 2.0]), "value", np.random.default_rng(0)).tolist()
        [2, 0, 1]
        >>> relevance_order(np.array([0.1, -3.0, 2.0]), "abs", np.random.default_rng(0)).tolist()
        [1, 2, 0]
    """
    s = np.asarray(scores, dtype=np.float64)
    key = -np.abs(s) if order == "abs" else -s
    return np.lexsort((rng.permutation(s.size), key))


def random_orders(n_units: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random orders of ``n_units`` units, ``(count, n_units)``.

    Example:
        >>> sorted(random_orders(3, 2, np.random.default_rng(0))[1].tolist())
        [0, 1, 2]
    """
    return np.array([rng.permutation(n_units) for _ in range(count)], dtype=np.int64).reshape(count, n_units)


def default_patch_size(height: int, width: int, max_patches: int = MAX_PATCHES) -> int:
    """The smallest square patch edge that cuts an ``height x width`` image into at most ``max_patches`` patches.

    224 x 224: 14 (16 x 16 patches); 32 x 32: 2 (256); 28 x 28: 2 (196); 8 x 8: 1 (64 pixels).

    Example:
        >>> default_patch_size(224, 224), default_patch_size(32, 32), default_patch_size(8, 8)
        (14, 2, 1)
    """
    p = 1
    while -(-height // p) * -(-width // p) > max_patches:
        p += 1
    return p


class Removal:
    """What every data kind provides: units, their scores, and inputs with units removed.

    ``build(samples, removed)`` returns the model inputs for jobs ``(samples[j], removed[j])``
    (``removed[j]``: bool over sample ``samples[j]``'s units, True = removed), ``rows_per_job``
    rows per job; ``reduce`` averages the explained output over a job's rows.
    """

    modality = ""
    rows_per_job = 1
    n = 0

    def n_units(self, i: int) -> int:
        raise NotImplementedError

    def unit_scores(self, i: int, values: np.ndarray) -> np.ndarray:
        """Sample ``i``'s attribution values summed over each unit."""
        raise NotImplementedError

    def build(self, samples: np.ndarray, removed: Sequence[np.ndarray]) -> Any:
        raise NotImplementedError

    def reduce(self, out: np.ndarray) -> np.ndarray:
        """The explained output per job from one value per row (the mean over a job's rows)."""
        return out.reshape(-1, self.rows_per_job).mean(axis=1)

    def masked_input(self, i: int, removed: np.ndarray) -> Any:
        """Sample ``i`` with the ``removed`` units removed, as a view shows it."""
        raise NotImplementedError

    def row_bytes(self) -> int:
        """Bytes of one model input row (for the memory budget)."""
        return 0


# -- images -----------------------------------------------------------------------------------------
class ImageRemoval(Removal):
    """Patches or superpixels of images ``(n, C, H, W)`` replaced by a baseline.

    ``images``: a float array the caller no longer changes (the metrics pass a private copy).
    ``baseline``: a number, ``"zeros"``, ``"mean"``, ``"blur"`` (``blur_sigma`` pixels, default
    a tenth of the larger side), or an array ``(C, H, W)``, ``(1, C, H, W)`` or ``(n, C, H, W)``.
    ``segments``: None (patches of ``patch_size``) or integer labels ``(H, W)`` / ``(n, H, W)``.

    Example:
        >>> x = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)
        >>> r = ImageRemoval(x, baseline="mean", patch_size=1)
        >>> r.masked_input(0, np.array([True, False, False, False]))[:, 0, 0].tolist()
        [1.5, 5.5]
    """

    modality = "image"

    def __init__(self, images: np.ndarray, *, baseline: Any = "zeros", patch_size: int | None = None,
                 segments: Any = None, blur_sigma: float | None = None) -> None:
        self.x = images
        self.n, self.channels, self.height, self.width = (int(s) for s in images.shape)
        self.blur_sigma = blur_sigma
        self.baseline = self._check_baseline(baseline)
        self._cache: dict[int, np.ndarray] = {}  # blurred / mean images, computed once per sample
        if segments is not None:
            if patch_size is not None:
                raise InputError("pass patch_size or segments, not both: superpixels (segments) replace the patches")
            self.patch_size = None
            self._maps, self._units = self._segment_maps(segments)
        else:
            if patch_size is None:
                patch_size = default_patch_size(self.height, self.width)
            if isinstance(patch_size, bool) or not isinstance(patch_size, (int, np.integer)) or patch_size < 1:
                raise ParameterError(f"patch_size must be an int >= 1 (pixels per patch side), got {patch_size!r}")
            if patch_size > max(self.height, self.width):
                raise ParameterError(f"patch_size={patch_size} is larger than the {self.height} x {self.width} images; "
                                     "pass a patch size that cuts them into several patches")
            self.patch_size = int(patch_size)
            p, gw = self.patch_size, -(-self.width // self.patch_size)
            grid = (np.arange(self.height) // p)[:, None] * gw + (np.arange(self.width) // p)[None, :]
            self._maps, self._units = [grid], [int(grid.max()) + 1]

    def _check_baseline(self, baseline: Any) -> Any:
        if isinstance(baseline, str):
            if baseline not in IMAGE_BASELINES:
                raise InputError(f"baseline must be a number, one of {IMAGE_BASELINES} or an image array, got "
                                 f"{baseline!r}")
            return baseline
        if isinstance(baseline, (bool, np.bool_)) or baseline is None:
            raise InputError(f"baseline must be a number, one of {IMAGE_BASELINES} or an image array, got {baseline!r}")
        if np.ndim(baseline) == 0:
            return float(check_finite(np.float64(baseline), "baseline"))
        from nbexplain.models import to_numpy

        b = np.asarray(to_numpy(baseline), dtype=self.x.dtype)
        shape = (self.channels, self.height, self.width)
        if b.shape == shape:
            b = b[None]
        if b.ndim != 4 or b.shape[1:] != shape or b.shape[0] not in (1, self.n):
            raise InputError(f"baseline has shape {b.shape} but the images are {self.x.shape}; pass one image "
                             f"{shape}, one per sample {self.x.shape}, a number or one of {IMAGE_BASELINES}")
        return check_finite(b, "baseline")

    def _segment_maps(self, segments: Any) -> tuple[list[np.ndarray], list[int]]:
        from nbexplain.models import to_numpy

        s = np.asarray(to_numpy(segments))
        if s.dtype.kind not in "iu":
            raise InputError(f"segments must be integer superpixel labels (H, W) or (n, H, W), got dtype {s.dtype}")
        hw = (self.height, self.width)
        if s.shape == hw:
            s = s[None]
        if s.ndim != 3 or s.shape[1:] != hw or s.shape[0] not in (1, self.n):
            raise InputError(f"segments have shape {s.shape} but the images are {self.height} x {self.width} "
                             f"({self.n} samples); pass labels (H, W) shared by all images or (n, H, W)")
        maps, units = [], []
        for seg in s:
            _, inverse = np.unique(seg, return_inverse=True)
            m = inverse.reshape(hw).astype(np.int64)
            maps.append(m)
            units.append(int(m.max()) + 1)
        return maps, units

    def unit_map(self, i: int) -> np.ndarray:
        """``(H, W)`` int: the unit (patch or superpixel) of each pixel of sample ``i``."""
        return self._maps[i if len(self._maps) > 1 else 0]

    def n_units(self, i: int) -> int:
        return self._units[i if len(self._units) > 1 else 0]

    def unit_scores(self, i: int, values: np.ndarray) -> np.ndarray:
        """``values``: sample ``i``'s map ``(H, W)`` (channels already summed)."""
        return np.bincount(self.unit_map(i).ravel(), weights=np.asarray(values, np.float64).ravel(),
                           minlength=self.n_units(i))

    def baselines(self, samples: np.ndarray) -> np.ndarray:
        """The baseline image of each of ``samples`` (indices may repeat), ``(m, C, H, W)``."""
        b = self.baseline
        if isinstance(b, float):
            return np.full((len(samples), self.channels, self.height, self.width), b, dtype=self.x.dtype)
        if isinstance(b, np.ndarray):
            return b[samples] if b.shape[0] > 1 else np.broadcast_to(b, (len(samples), *b.shape[1:]))
        if b == "zeros":
            return np.zeros((len(samples), self.channels, self.height, self.width), dtype=self.x.dtype)
        unique, inverse = np.unique(samples, return_inverse=True)
        missing = [int(i) for i in unique if int(i) not in self._cache]
        if missing:
            x = self.x[missing]
            if b == "mean":
                made = np.broadcast_to(x.mean(axis=(2, 3), keepdims=True), x.shape)
            else:  # blur
                import torch

                from nbexplain.explainers.gradients._paths import gaussian_blur

                made = gaussian_blur(torch.from_numpy(np.ascontiguousarray(x)), self.blur_sigma).numpy()
            keep = max(1, BASELINE_CACHE_BYTES // max(1, self.x[0].nbytes))
            for i, img in zip(missing, made, strict=True):
                self._cache[i] = np.array(img)
                while len(self._cache) > max(keep, len(unique)):  # jobs run sample by sample: oldest out
                    self._cache.pop(next(iter(self._cache)))
        return np.stack([self._cache[int(i)] for i in unique])[inverse]

    def pixel_mask(self, i: int, removed: np.ndarray) -> np.ndarray:
        """``(H, W)`` bool: True on the pixels of sample ``i``'s removed units."""
        return np.asarray(removed, bool)[self.unit_map(i)]

    def build(self, samples: np.ndarray, removed: Sequence[np.ndarray]) -> np.ndarray:
        masks = np.stack([self.pixel_mask(int(i), r) for i, r in zip(samples, removed, strict=True)])
        return np.where(masks[:, None], self.baselines(samples), self.x[samples])

    def masked_input(self, i: int, removed: np.ndarray) -> np.ndarray:
        return self.build(np.array([i]), [removed])[0]

    def row_bytes(self) -> int:
        return int(self.x[0].nbytes)
