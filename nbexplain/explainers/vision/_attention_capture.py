"""Reading attention probabilities out of a model run: Hugging Face, timm-style ``Attention``, ``MultiheadAttention``.

The mechanics behind :func:`nbexplain.explainers.vision.attention.attention_maps` (see there): Hugging
Face's eager-attention switch and ``output_attentions``, forward hooks that recompute timm's fused
attention from ``qkv`` (checked against the module's output) or ask ``nn.MultiheadAttention`` for
its weights, and the checks on what comes back (one shape, rows summing to 1, a row per sample).

Example:
    >>> import torch
    >>> mha = torch.nn.MultiheadAttention(4, 2, batch_first=True)
    >>> class Net(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__(); self.mha = mha
    ...     def forward(self, x):
    ...         return self.mha(x, x, x, need_weights=False)[0]
    >>> maps, out, how = capture_attention(Net(), torch.randn(2, 3, 4))
    >>> maps.shape, tuple(out.shape), how
    ((2, 1, 2, 3, 3), (2, 3, 4), 'multihead_attention')
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from nbexplain.guard import guard

__all__ = ["REPRODUCE_TOL", "AttentionCaptureError", "capture_attention", "eager_attention", "model_arg",
           "timm_attention_probs"]

#: A recomputed timm attention must reproduce the module's output to this relative error.
REPRODUCE_TOL = 1e-3
_UNSUPPORTED_ATTRS = ("relative_position_bias_table", "rel_pos_bias", "rel_pos", "rope", "window_size", "pos_embed")


class AttentionCaptureError(ValueError):
    """The model's attention probabilities cannot be read (none found, window attention, an unknown variant)."""


# -- Hugging Face ---------------------------------------------------------------------------------
def _is_hf(module: Any) -> bool:
    return any(c.__module__.startswith("transformers.") and c.__name__ == "PreTrainedModel"
               for c in type(module).__mro__)


def _hf_configs(model: Any) -> list[Any]:
    """Every Hugging Face config of the model's pretrained submodules and their sub-configs (once each)."""
    seen: dict[int, Any] = {}
    stack = [m.config for m in model.modules() if _is_hf(m) and getattr(m, "config", None) is not None]
    while stack:
        cfg = stack.pop()
        if id(cfg) in seen or not hasattr(cfg, "_attn_implementation_internal"):
            continue
        seen[id(cfg)] = cfg
        for key in getattr(cfg, "sub_configs", {}) or {}:
            sub = getattr(cfg, key, None)
            if sub is not None:
                stack.append(sub)
    return list(seen.values())


@contextlib.contextmanager
def eager_attention(model: Any) -> Iterator[None]:
    """Hugging Face models inside ``model`` compute attention eagerly in the block; restored exactly on exit.

    Every config's ``_attn_implementation_internal`` is saved and written back afterwards (also
    when the block raises), so a model loaded with ``"sdpa"`` (the default) stays on it.

    Example:
        >>> import torch
        >>> with eager_attention(torch.nn.Linear(2, 2)):  # no Hugging Face model: nothing to switch
        ...     pass
    """
    configs = _hf_configs(model)
    saved = [(cfg, cfg.__dict__.get("_attn_implementation_internal")) for cfg in configs]
    try:
        for cfg in configs:
            cfg._attn_implementation_internal = "eager"  # what set_attn_implementation("eager") writes
        yield
    finally:
        for cfg, value in saved:
            cfg.__dict__["_attn_implementation_internal"] = value


# -- hooks ----------------------------------------------------------------------------------------
def _is_qkv_attention(m: Any) -> bool:
    """A timm / torchvision-Swin style attention: a fused ``qkv`` Linear and ``num_heads``."""
    from torch import nn

    return (isinstance(getattr(m, "qkv", None), nn.Linear) and isinstance(getattr(m, "num_heads", None), int)
            and not isinstance(m, nn.MultiheadAttention))


def _unsupported(m: Any, name: str) -> str | None:
    if "Window" in type(m).__name__ or getattr(m, "shift_size", None) is not None:
        what = "window attention (Swin)"
    else:
        found = [a for a in _UNSUPPORTED_ATTRS if getattr(m, a, None) is not None]
        if not found:
            return None
        what = f"its {found[0]!r}"
    return (f"module {name!r} ({type(m).__name__}) computes attention with {what}, which the recomputed "
            "softmax(q k^T * scale) would leave out")


class _Recorder:
    """Forward hooks that collect each self-attention layer's probabilities ``(n, heads, T, T)``, in run order."""

    def __init__(self, model: Any) -> None:
        from torch import nn

        self.maps: list[Any] = []
        self.sources: set[str] = set()
        self.handles: list[Any] = []
        self._seen: set[int] = set()
        hf = any(_is_hf(m) for m in model.modules())
        for name, m in model.named_modules():
            if isinstance(m, nn.MultiheadAttention):
                self.handles.append(m.register_forward_pre_hook(self._ask_weights, with_kwargs=True))
                self.handles.append(m.register_forward_hook(self._from_output("multihead_attention")))
            elif _is_qkv_attention(m):
                problem = _unsupported(m, name)
                if problem is None and not isinstance(getattr(m, "scale", None), (int, float)):
                    problem = f"module {name!r} ({type(m).__name__}) has a qkv projection but no numeric scale"
                if problem is not None:
                    self.remove()
                    raise AttentionCaptureError(f"{problem}; attention maps need global self-attention (ViT, "
                                                "BERT)")
                self.handles.append(m.register_forward_hook(self._recompute(name), with_kwargs=True))
            elif hf and type(m).__module__.startswith("transformers.") and type(m).__name__.endswith("Attention"):
                self.handles.append(m.register_forward_hook(self._from_output("hf_attention_modules")))

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def _keep(self, probs: Any, source: str) -> None:
        key = probs.data_ptr()
        if key in self._seen:  # an outer module passing its inner module's weights on
            return
        self._seen.add(key)
        self.maps.append(probs.detach())
        self.sources.add(source)

    @staticmethod
    def _ask_weights(_m: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        args = list(args)
        for pos, key, value in ((4, "need_weights", True), (6, "average_attn_weights", False)):
            if len(args) > pos:
                args[pos] = value
            else:
                kwargs[key] = value
        return tuple(args), kwargs

    def _from_output(self, source: str) -> Any:
        import torch

        def hook(_m: Any, _inputs: Any, out: Any) -> None:
            if isinstance(out, (tuple, list)) and len(out) > 1 and isinstance(out[1], torch.Tensor) and out[1].ndim == 4:
                self._keep(out[1], source)
        return hook

    def _recompute(self, name: str) -> Any:
        def hook(m: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
            x = args[0] if args else kwargs.get("x")
            mask = args[1] if len(args) > 1 else kwargs.get("attn_mask")
            probs = timm_attention_probs(m, x, mask, bool(kwargs.get("is_causal", False)), out=out, name=name)
            self._keep(probs, "timm_attention")
        return hook


def timm_attention_probs(m: Any, x: Any, attn_mask: Any = None, is_causal: bool = False, *, out: Any = None,
                         name: str = "attn") -> Any:
    """``softmax(q k^T * scale + mask)`` of a timm-style ``Attention`` for input ``x`` ``(B, N, C)``: ``(B, heads, N, N)``.

    With ``out`` (the module's output for ``x``), checks that ``proj(probs @ v)`` reproduces it
    (to :data:`REPRODUCE_TOL`); raises :class:`AttentionCaptureError` when it does not.

    Example:
        >>> import torch
        >>> m = torch.nn.Module(); m.qkv = torch.nn.Linear(4, 12); m.num_heads = 2; m.scale = 2 ** -0.5
        >>> timm_attention_probs(m, torch.randn(1, 3, 4)).sum(-1).allclose(torch.ones(1, 2, 3))
        True
    """
    import torch

    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        raise AttentionCaptureError(f"module {name!r} got input of shape {tuple(getattr(x, 'shape', ()))}; a timm "
                                    "Attention takes tokens (B, N, C)")
    B, N, _ = x.shape
    q_bias = getattr(m, "q_bias", None)
    if isinstance(q_bias, torch.Tensor):  # BEiT-style: a bias-free qkv with separate q and v biases
        k_bias = getattr(m, "k_bias", None)
        bias = torch.cat([q_bias, torch.zeros_like(q_bias) if k_bias is None else k_bias, m.v_bias])
        qkv = torch.nn.functional.linear(x, m.qkv.weight, bias)
    else:
        qkv = m.qkv(x)
    heads = m.num_heads
    head_dim = getattr(m, "head_dim", None) or qkv.shape[-1] // (3 * heads)
    q, k, v = qkv.reshape(B, N, 3, heads, head_dim).permute(2, 0, 3, 1, 4).unbind(0)
    q = m.q_norm(q) if hasattr(m, "q_norm") else q
    k = m.k_norm(k) if hasattr(m, "k_norm") else k
    logits = (q.float() * float(m.scale)) @ k.float().transpose(-2, -1)
    if is_causal:
        logits = logits.masked_fill(torch.ones(N, N, dtype=torch.bool, device=x.device).triu(1), float("-inf"))
    if attn_mask is not None:
        logits = (logits.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool
                  else logits + attn_mask.float())
    probs = logits.softmax(-1)
    if out is not None:
        y = (probs.to(v.dtype) @ v).transpose(1, 2).reshape(B, N, heads * head_dim)
        y = m.norm(y) if isinstance(getattr(m, "norm", None), torch.nn.Module) else y
        gate = getattr(m, "gate", None)
        y = y * gate(x).sigmoid() if isinstance(gate, torch.nn.Module) else y
        y = m.proj(y)
        ok = isinstance(out, torch.Tensor) and out.shape == y.shape
        err = float((out.float() - y.float()).abs().max() / out.float().abs().max().clamp_min(1e-12)) if ok else None
        if err is None or err > REPRODUCE_TOL:
            seen = f"differs by {err:.2g} (relative)" if err is not None else "has another shape"
            raise AttentionCaptureError(
                f"module {name!r} ({type(m).__name__}) looks like a timm Attention (qkv, num_heads, scale) but "
                f"softmax(q k^T * scale) with its proj does not reproduce its output ({seen}); its attention is "
                "computed differently (relative position bias, rotary embeddings, ...), so no map is given")
    return probs


def model_arg(value: Any, model: Any, name: str) -> Any:
    """``value`` for the model's forward: a tensor or array copied to its device (floats in its dtype, checked
    finite); anything else as it is."""
    import torch

    from nbexplain.explainers.gradients._engine import as_model_tensor
    from nbexplain.validate import check_finite

    if isinstance(value, (torch.Tensor, np.ndarray)):
        t = as_model_tensor(value, model, name)  # a copy on the model's device; floats in its dtype
        return check_finite(t, name) if torch.is_floating_point(t) else t
    return value


def capture_attention(model: Any, *inputs: Any, **forward_kwargs: Any) -> tuple[np.ndarray, Any, str]:
    """``(maps, model output, how)``: :func:`attention_maps` plus the output of the same forward pass.

    ``how`` names the mechanism: ``"output_attentions"``, ``"hf_attention_modules"``,
    ``"timm_attention"`` or ``"multihead_attention"`` (joined by ``+`` when several ran).
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"attention maps need a torch.nn.Module, got {type(model).__name__}")
    if not inputs and not forward_kwargs:
        raise TypeError("pass the model's inputs: attention_maps(model, x) or attention_maps(model, input_ids, "
                        "attention_mask=mask)")
    with guard(model, eval_mode=True), torch.no_grad():  # the guard also puts back transformers' hook marks
        args = [model_arg(a, model, f"inputs[{i}]") for i, a in enumerate(inputs)]
        kwargs = {k: model_arg(v, model, k) for k, v in forward_kwargs.items()}
        if _is_hf(model):
            with eager_attention(model):
                out = model(*args, **{**kwargs, "output_attentions": True})
            maps, how = list(getattr(out, "attentions", None) or []), "output_attentions"
        else:
            recorder = _Recorder(model)
            try:
                with eager_attention(model):
                    out = model(*args, **kwargs)
            finally:
                recorder.remove()
            maps, how = recorder.maps, "+".join(sorted(recorder.sources))
    # Hugging Face Swin returns one attention row per window: checked against the batch (ids / pixels first)
    first = next((t for t in [*args, *kwargs.values()] if isinstance(t, torch.Tensor) and t.ndim), None)
    n = int(first.shape[0]) if first is not None and how in ("output_attentions", "hf_attention_modules") else None
    return _stack(maps, model, n), out, how


def _stack(maps: list[Any], model: Any, n: int | None = None) -> np.ndarray:
    import torch

    if not maps:
        raise AttentionCaptureError(
            f"no self-attention probabilities were found in {type(model).__name__}: it has no Hugging Face, timm-style "
            "(qkv, num_heads, scale) or torch.nn.MultiheadAttention layer that ran (a CNN has none)")
    shapes = {tuple(m.shape) for m in maps}
    if len(shapes) != 1:
        raise AttentionCaptureError(f"the attention layers have different shapes {sorted(shapes)}; "
                                    "attention_maps stacks layers of one shape (n, heads, T, T)")
    shape = next(iter(shapes))
    if len(shape) != 4 or shape[2] != shape[3]:
        raise AttentionCaptureError(f"attention weights of shape {shape} are not self-attention (n, heads, T, T)")
    if n is not None and shape[0] != n:
        raise AttentionCaptureError(f"attention weights of shape {shape} have {shape[0]} rows for {n} samples: "
                                    "window attention (Swin) or a batch-first mismatch; attention maps need global "
                                    "self-attention (ViT, BERT)")
    out = torch.stack([m.float() for m in maps], 1).cpu().numpy()
    if not np.isfinite(out).all():
        raise AttentionCaptureError("the attention probabilities hold NaN or inf (a query with every key masked?); "
                                    "check the attention mask")
    gap = float(np.abs(out.sum(-1) - 1.0).max())
    if gap > 1e-3:
        raise AttentionCaptureError(f"attention rows do not sum to 1 (off by up to {gap:.3g}): these are not softmax "
                                    "probabilities (attention dropout in training mode, or a non-softmax attention)")
    return out
