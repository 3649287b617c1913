"""Attention maps of transformer encoders, and attention rollout (Abnar & Zuidema 2020).

:func:`attention_maps` runs the model once and returns every self-attention layer's probabilities,
``(n, layers, heads, T, T)`` (float32, each row sums to 1), however the model computes them:

- Hugging Face models (BERT, DistilBERT, ViT, ...): ``output_attentions=True``, with the attention
  implementation switched to ``"eager"`` for the call (the default ``"sdpa"`` returns no weights)
  and restored exactly afterwards, also when the model raises; a Hugging Face model inside a
  wrapper module is read from its attention modules' outputs the same way;
- timm-style ``Attention`` modules (``qkv`` Linear, ``num_heads``, ``scale``, ``q_norm`` /
  ``k_norm``), whose fused SDPA gives no weights: a forward hook recomputes
  ``softmax(q k^T * scale)`` from the module's input and checks that it reproduces the module's
  output (a variant it does not know is refused, never guessed);
- ``torch.nn.MultiheadAttention`` called with ``need_weights=False`` (torchvision's ViT): a
  forward pre-hook asks for the weights, per head.

Window attention (Swin) has no token-to-token map over the image and is refused. The model runs in
eval mode, without gradients, inside the state guard; hooks are removed afterwards (the capture
itself lives in :mod:`~nbexplain.explainers.vision._attention_capture`).

:func:`attention_rollout` fuses the heads (mean, max or min), optionally zeroes the weakest
attention (``discard_ratio``, never the class token's attention to itself), adds the residual
identity, renormalises the rows and multiplies the layers: ``R = A_L ... A_1``.
:class:`AttentionRollout` draws the class token's row of ``R`` over an image.

Example:
    >>> import torch
    >>> mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> class Encoder(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__(); self.attn = mha
    ...     def forward(self, x):
    ...         return self.attn(x, x, x, need_weights=False)[0]
    >>> maps = attention_maps(Encoder(), torch.randn(2, 5, 8))
    >>> maps.shape, bool(abs(maps.sum(-1) - 1).max() < 1e-5)
    ((2, 1, 2, 5, 5), True)
    >>> attention_rollout(maps).shape
    (2, 5, 5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nbexplain.explainers.vision._attention_capture import (
    AttentionCaptureError,
    capture_attention,
    eager_attention,
    model_arg,
    timm_attention_probs,
)
from nbexplain.explanation import Explanation

__all__ = ["HEAD_FUSIONS", "AttentionCaptureError", "AttentionRollout", "attention_maps", "attention_rollout",
           "capture_attention", "eager_attention", "timm_attention_probs"]

#: How :func:`attention_rollout` fuses the heads of a layer.
HEAD_FUSIONS = ("mean", "max", "min")


def attention_maps(model: Any, *inputs: Any, **forward_kwargs: Any) -> np.ndarray:
    """Self-attention probabilities of every layer, ``(n, layers, heads, T, T)``, float32, rows summing to 1.

    ``inputs`` and ``forward_kwargs`` are what the model's forward takes (``images``, or
    ``input_ids, attention_mask=mask``); tensors and arrays are copied to the model's device.
    Layers are in the order they ran. Raises :class:`AttentionCaptureError` when the model has no
    readable self-attention. The model's state, hooks and attention implementation are unchanged.

    Example:
        >>> import torch
        >>> class Tiny(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__(); self.mha = torch.nn.MultiheadAttention(4, 1)
        ...     def forward(self, x):
        ...         return self.mha(x, x, x, need_weights=False)[0]
        >>> attention_maps(Tiny(), torch.randn(3, 2, 4)).shape   # (T, n, C) input: the weights are per sample
        (2, 1, 1, 3, 3)
    """
    return capture_attention(model, *inputs, **forward_kwargs)[0]


def attention_rollout(maps: Any, head_fusion: str = "mean", discard_ratio: float = 0.0) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) of ``maps`` ``(n, layers, heads, T, T)``: ``(n, T, T)``, float32.

    Per layer: heads fused by ``head_fusion`` (``"mean"``, ``"max"`` or ``"min"``); with
    ``discard_ratio`` in [0, 1), that fraction of the layer's weakest entries set to 0 (the class
    token's attention to itself, entry (0, 0), is kept); then ``A = (W + I) / 2`` with rows
    renormalised to sum to 1; the rollout is ``A_L @ ... @ A_1``. Row ``i`` says how much each
    input token flows into output token ``i``; the class token's row (0) is the usual map.

    Example:
        >>> import numpy as np
        >>> uniform = np.full((1, 2, 1, 3, 3), 1 / 3)
        >>> attention_rollout(uniform).round(3)[0, 0].tolist()
        [0.5, 0.25, 0.25]
    """
    import torch

    from nbexplain.validate import check_number

    if head_fusion not in HEAD_FUSIONS:
        raise ValueError(f"head_fusion must be one of {HEAD_FUSIONS}, got {head_fusion!r}")
    discard_ratio = check_number(discard_ratio, "discard_ratio", min=0.0, max=1.0, max_open=True)
    a = maps.detach().cpu().double() if isinstance(maps, torch.Tensor) else torch.from_numpy(
        np.array(maps, dtype=np.float64))  # a copy: the caller's array is never written
    if a.ndim != 5 or a.shape[-1] != a.shape[-2] or 0 in a.shape:
        raise ValueError(f"maps must be (n, layers, heads, T, T) as attention_maps returns, got shape "
                         f"{tuple(a.shape)}; for one sample use maps[None]")
    if not torch.isfinite(a).all() or (a < 0).any():
        raise ValueError("maps hold negative, NaN or inf values; pass attention probabilities (attention_maps)")
    fused = {"mean": lambda t: t.mean(2), "max": lambda t: t.amax(2), "min": lambda t: t.amin(2)}[head_fusion](a)
    n, layers, t = fused.shape[0], fused.shape[1], fused.shape[-1]
    k = int(t * t * discard_ratio)
    if k:  # the k weakest entries of each layer's fused map, except the class token's to itself
        flat = fused.reshape(n, layers, t * t).clone()
        drop = torch.zeros_like(flat, dtype=torch.bool).scatter_(-1, flat.topk(k, -1, largest=False).indices, True)
        drop[..., 0] = False
        fused = flat.masked_fill(drop, 0.0).reshape(n, layers, t, t)
    eye = torch.eye(t, dtype=fused.dtype)
    rollout = eye.expand(n, t, t).clone()
    for layer in range(layers):
        step = (fused[:, layer] + eye) / 2
        step = step / step.sum(-1, keepdim=True)
        rollout = step @ rollout
    return rollout.float().numpy()


class AttentionRollout:
    """Attention rollout of a vision transformer, drawn over the image: an :class:`~nbexplain.explanation.Explanation`.

    ``explain(images)`` (``(n, C, H, W)``) captures :func:`attention_maps`, rolls them out
    (:func:`attention_rollout` with ``head_fusion`` and ``discard_ratio``), takes the class
    token's row over the patch tokens (prefix tokens dropped, the grid found as Grad-CAM finds it,
    see :func:`~nbexplain.explainers.vision.families.token_grid`; without a class token, the
    mean of all rows), and upsamples it to the image (bilinear; ``upsample=False`` keeps the
    grid). Values have layout ``"HW"``; ``Heatmap.from_explanation`` draws them. ``preprocess``
    (a ``Normalize``, say) runs on the images for the model; ``Explanation.data`` keeps the raw
    images the map is drawn over.

    The map does not depend on the class: ``target`` only chooses which output
    ``Explanation.outputs`` reports (None: the predicted one). ``diagnostics``: ``"grid_map"``
    ``(n, h, w)``, ``"grid"``, ``"prefix_tokens"``, ``"layers"``, ``"heads"``, ``"capture"``
    (how the maps were read).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> class TinyViT(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.patch = nn.Conv2d(1, 8, 4, stride=4); self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
        ...         self.mha = nn.MultiheadAttention(8, 2, batch_first=True); self.head = nn.Linear(8, 3)
        ...     def forward(self, x):
        ...         t = torch.cat([self.cls_token.expand(len(x), -1, -1), self.patch(x).flatten(2).transpose(1, 2)], 1)
        ...         return self.head(self.mha(t, t, t, need_weights=False)[0][:, 0])
        >>> e = AttentionRollout(TinyViT()).explain(torch.randn(2, 1, 8, 8))
        >>> e.values.shape, e.layout, e.diagnostics["grid"], e.diagnostics["prefix_tokens"]
        ((2, 8, 8), 'HW', (2, 2), 1)
    """

    method = "attention_rollout"

    def __init__(self, model: Any, head_fusion: str = "mean", discard_ratio: float = 0.0, upsample: bool = True,
                 preprocess: Any = None) -> None:
        import torch

        from nbexplain.validate import check_number

        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"AttentionRollout needs a torch.nn.Module (a vision transformer), got "
                            f"{type(model).__name__}")
        if head_fusion not in HEAD_FUSIONS:
            raise ValueError(f"head_fusion must be one of {HEAD_FUSIONS}, got {head_fusion!r}")
        self.model = model
        self.head_fusion = head_fusion
        self.discard_ratio = check_number(discard_ratio, "discard_ratio", min=0.0, max=1.0, max_open=True)
        self.upsample = bool(upsample)
        if preprocess is not None and not callable(preprocess):
            raise TypeError(f"preprocess must be a callable tensor -> tensor (e.g. torchvision's Normalize), got "
                            f"{type(preprocess).__name__}")
        self.preprocess = preprocess

    def __repr__(self) -> str:
        return f"AttentionRollout({type(self.model).__name__}, head_fusion={self.head_fusion!r})"

    def params(self) -> dict[str, Any]:
        """Recorded in ``Explanation.params``."""
        return {"head_fusion": self.head_fusion, "discard_ratio": float(self.discard_ratio),
                "upsample": self.upsample, "class_specific": False, "preprocess": self.preprocess is not None}

    def explain(self, inputs: Any, target: Any = None) -> Explanation:
        """The rollout map of each image in ``inputs`` ``(n, C, H, W)`` (see the class docstring)."""
        import torch

        from nbexplain.explainers._targets import resolve_target
        from nbexplain.explainers.vision.families import has_class_token, token_grid
        from nbexplain.explainers.vision.gradcam import upsample

        x = model_arg(inputs, self.model, "inputs")
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or not torch.is_floating_point(x) or x.shape[0] == 0:
            raise ValueError(f"AttentionRollout explains images (n, C, H, W) of floats, got "
                             f"{tuple(getattr(x, 'shape', ()))}; for tokens use attention_maps and attention_rollout")
        model_input = x if self.preprocess is None else self.preprocess(x.clone())  # data stays the raw image
        maps, out, how = capture_attention(self.model, model_input)
        t = maps.shape[-1]
        prefix, grid = token_grid(self.model, t, tuple(x.shape[2:]))
        rollout = attention_rollout(maps, self.head_fusion, self.discard_ratio)
        rows = rollout[:, 0] if prefix > 0 and has_class_token(self.model) else rollout.mean(1)
        grid_map = rows[:, prefix:].reshape(len(rows), *grid)
        values = torch.from_numpy(grid_map)
        if self.upsample:
            values = upsample(values, tuple(x.shape[2:]))
        logits = getattr(out, "logits", out)
        targets = outputs = None
        if isinstance(logits, torch.Tensor) and logits.ndim == 2 and logits.shape[0] == x.shape[0]:
            scores = logits.detach().float().cpu().numpy()
            targets = resolve_target(target, scores)
            outputs = scores[np.arange(len(scores)), targets]
        elif target is not None:
            raise ValueError("target needs a model that returns (n, k) outputs; this one does not, pass target=None")
        return Explanation(
            values.float().numpy(), data=x.detach().float().cpu().numpy(), target=targets, outputs=outputs,
            method=self.method, params=self.params(), layout="HW",
            diagnostics={"grid_map": grid_map, "grid": grid, "prefix_tokens": prefix, "layers": maps.shape[1],
                         "heads": maps.shape[2], "capture": how})
