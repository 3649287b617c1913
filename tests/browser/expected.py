"""Expected heatmap pixels, computed independently of the front end with numpy and matplotlib.

Follows the colouring steps of docs/PROTOCOL.md ("Heatmap", "Colouring") for an H x W map.
"""

from __future__ import annotations

import matplotlib
import numpy as np

NO_DATA_RGB = (0x80, 0x80, 0x80)
DIVERGING = {"RdBu_r", "PuOr_r", "coolwarm"}


def _js_round(x: np.ndarray) -> np.ndarray:
    """JavaScript's Math.round (halves go up), not numpy's round-half-to-even."""
    return np.floor(x + 0.5)


def lut(cmap: str) -> np.ndarray:
    """The 256 x 3 uint8 colour table of ``cmap`` sampled from matplotlib."""
    rgba = matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, 256))
    return np.round(rgba[:, :3] * 255).astype(np.uint8)


def heatmap_rgba(
    values: np.ndarray,
    image: np.ndarray | None,
    *,
    cmap: str,
    opacity: float,
    clip_percentile: float,
    threshold: float = 0.0,
) -> np.ndarray:
    """H x W x 4 uint8 pixels the canvas should hold (sign "both", an H x W map)."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    mags = np.abs(v[finite])
    s = float(np.percentile(mags, clip_percentile)) if mags.size else 0.0
    if s == 0.0:
        s = float(mags.max()) if mags.size else 0.0
    if s == 0.0:
        s = 1.0
    signed = bool((v[finite] < 0).any())
    if cmap == "auto":
        cmap = "RdBu_r" if signed else "viridis"
    safe = np.where(finite, v, 0.0)
    if cmap in DIVERGING:
        u = (np.clip(safe / s, -1.0, 1.0) + 1.0) / 2.0
    else:
        u = np.clip(safe / s, 0.0, 1.0)
    colour = lut(cmap)[_js_round(u * 255).astype(int)].astype(np.float64)
    coloured = finite & (np.abs(safe) / s >= threshold)

    h, w = v.shape
    out = np.zeros((h, w, 4), dtype=np.float64)
    if image is not None:
        img = np.asarray(image, dtype=np.float64)
        img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
        blended = _js_round((1.0 - opacity) * img + opacity * colour)
        out[..., :3] = np.where(coloured[..., None], blended, img)
        out[..., 3] = 255
    else:
        out[..., :3] = np.where(coloured[..., None], colour, 0)
        out[..., 3] = np.where(coloured, _js_round(opacity * 255), 0)
    out[~finite, :3] = NO_DATA_RGB
    out[~finite, 3] = 255
    return out.astype(np.uint8)


def max_channel_diff(actual: np.ndarray, expected: np.ndarray) -> int:
    return int(np.abs(actual.astype(int) - expected.astype(int)).max())
