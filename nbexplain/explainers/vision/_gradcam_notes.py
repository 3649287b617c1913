"""Why a Grad-CAM map is (nearly) all 0, or too coarse to localise, in words, and what to try.

Grad-CAM's map is ``relu(sum_c w_c A_c)`` at the layer's resolution, upsampled. It reads as
broken in three usual cases, each told apart from the numbers:

- the channel weights are all 0: the explained output does not depend on the layer there;
- with ``relu=True``, the weighted sum is <= 0 in (nearly) every cell, so ReLU leaves nothing
  (small CNNs on small inputs often end this way);
- the layer's map has only a few cells (an 8 x 8 input reduced to 1 x 1 or 2 x 2): upsampled,
  it is one blob or a constant.

A map is *nearly all 0* when at most ``max(1, NEARLY_EMPTY * cells)`` of its cells are not 0.

Example:
    >>> import numpy as np
    >>> raw = -np.ones((1, 8, 8)); raw[0, 7, 0] = 0.001
    >>> cam_notes(raw, np.ones((1, 4)), relu=True, layer="2", input_shape=(8, 8))[0][:40]
    'Grad-CAM is 0 in 63 of 64 cells of layer'
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["COARSE_CELLS", "NEARLY_EMPTY", "cam_notes", "earlier_conv", "earlier_layer"]

#: Fraction of non-zero cells at or below which a map counts as nearly all 0.
NEARLY_EMPTY = 0.02
#: Maps with at most this many cells are too coarse to localise anything.
COARSE_CELLS = 4


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(int(d)) for d in shape)


def cam_notes(raw: Any, weights: Any, *, relu: bool, layer: str, input_shape: tuple[int, ...],
              earlier: str | None = None, method: str = "Grad-CAM") -> list[str]:
    """One note per sample (``""`` when the map is fine): why it is empty or coarse, what to try.

    ``raw``: the maps before ReLU, ``(n, *cam spatial)``; ``weights``: the channel weights
    ``(n, C)``; ``relu``: whether ReLU was applied; ``layer``: its name; ``input_shape``: the
    input's spatial shape; ``earlier``: an earlier convolution to suggest, if any; ``method``:
    the name the notes start with.

    Example:
        >>> import numpy as np
        >>> cam_notes(np.ones((1, 2, 2)), np.ones((1, 3)), relu=True, layer="4", input_shape=(8, 8))[0][:58]
        "Grad-CAM of layer '4' (2x2): the layer's map has only 2x2 "
    """
    raw = np.asarray(raw, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64).reshape(len(raw), -1)
    cam_shape = tuple(raw.shape[1:])
    cells = int(np.prod(cam_shape)) if cam_shape else 1
    coarse = cells <= COARSE_CELLS < int(np.prod(input_shape))
    where = f"layer {layer!r} ({_shape(cam_shape)})"
    try_layer = f"an earlier layer (e.g. layer={earlier!r})" if earlier else ""
    notes = []
    for r, w in zip(raw, weights, strict=True):
        shown = np.maximum(r, 0.0) if relu else r
        nonzero = int(np.count_nonzero(shown))
        empty = nonzero <= max(1.0, NEARLY_EMPTY * cells)
        reasons: list[str] = []
        tries: list[str] = []
        if not np.any(w):
            reasons.append("the gradient of the explained output with respect to this layer is 0 (its units are "
                           "dead or saturated here, or the output does not depend on them)")
            tries += [try_layer, "another method (e.g. IntegratedGradients)"]
        elif relu and empty:
            negative = int(np.count_nonzero(r < 0))
            reasons.append(f"the channel-weighted activations are negative in {negative} of {cells} cells, and "
                           "ReLU sets negatives to 0")
            tries += ["relu=False (keeps the sign)", try_layer, "another method (e.g. IntegratedGradients)"]
        if empty and not reasons:
            reasons.append("the layer's activations are 0 in those cells (the units before it are dead there)")
            tries += [try_layer, "another method (e.g. IntegratedGradients)"]
        if coarse:
            scale = "x".join(str(max(1, int(i) // max(1, int(c)))) for c, i in zip(cam_shape, input_shape,
                                                                                   strict=False))
            reasons.append(f"the layer's map has only {_shape(cam_shape)} cells for the {_shape(input_shape)} input "
                           f"(each cell covers {scale} input pixels), too coarse to localise")
            if try_layer not in tries:
                tries.insert(0, try_layer or "a layer with a finer map (layer=...)")
        if not (empty or coarse):
            notes.append("")
            continue
        tries = [t for t in tries if t]
        head = f"{method} is 0 in {cells - nonzero} of {cells} cells of {where}" if empty else f"{method} of {where}"
        notes.append(f"{head}: {'; '.join(reasons)}. Try {', '.join(tries[:-1])}{' or ' if len(tries) > 1 else ''}"
                     f"{tries[-1]}.")
    return notes


def earlier_conv(model: Any, name: str) -> str | None:
    """The dotted name of the convolution defined last before module ``name`` (None if none).

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Conv2d(2, 2, 3))
        >>> earlier_conv(m, "2"), earlier_conv(m, "0")
        ('0', None)
    """
    from nbexplain.keras_models import is_conv, named_layers

    last = None
    for n, module in named_layers(model):
        if n == name:
            return last
        if is_conv(module):
            last = n
    return None


def earlier_layer(model: Any, name: str, family: str) -> str | None:
    """A finer or earlier layer to suggest instead of ``name``: the previous transformer block's norm
    for a ViT / Swin (its layers keep the grid), else :func:`earlier_conv`.

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Conv2d(2, 2, 3))
        >>> earlier_layer(m, "1", "cnn")
        '0'
    """
    if family in ("vit", "swin"):
        from nbexplain.explainers.vision.families import attention_blocks

        norms = [f"{block}.{norm}" for block, norm, _ in attention_blocks(model)]
        before = [n for n in norms if n != name and not name.startswith(n.rsplit(".", 1)[0] + ".")]
        if name in norms:
            before = norms[:norms.index(name)]
        return before[-1] if before else None
    return earlier_conv(model, name)
