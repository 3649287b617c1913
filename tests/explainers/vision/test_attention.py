"""Attention maps and attention rollout against independent references.

* timm-style ``Attention`` (fused SDPA, which gives no weights): the reference runs the same model
  with ``fused_attn = False`` and reads the softmax probabilities where timm's own code drops
  them out (the input of ``attn_drop``);
* torchvision-style ``nn.MultiheadAttention`` called with ``need_weights=False``: the reference
  recomputes ``softmax(q k^T / sqrt(d))`` from ``in_proj_weight`` on the input of each layer;
* Hugging Face BERT, DistilBERT and ViT: the reference is a copy switched to eager attention by
  transformers' own ``set_attn_implementation("eager")`` and called with ``output_attentions=True``;
* rollout: Abnar & Zuidema's recipe as jacobgil/vit-explain writes it, a float64 numpy loop.

Probabilities agree to 1e-6 (float32); the rollout to 1e-6.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import vision_models as vm
from torch import nn
from torch.nn import functional as F
from torch_models import resnet

from nbexplain.explainers.gradients.layers import hook_count
from nbexplain.explainers.registry import available_explainers, get_explainer
from nbexplain.explainers.vision.attention import (
    AttentionCaptureError,
    AttentionRollout,
    attention_maps,
    attention_rollout,
)

transformers = pytest.importorskip("transformers")


def timm_reference(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    ref = copy.deepcopy(model)
    seen: list[torch.Tensor] = []
    for block in ref.blocks:
        block.attn.fused_attn = False
        block.attn.attn_drop.register_forward_hook(lambda _m, inp, _o: seen.append(inp[0].detach()))
    with torch.no_grad():
        ref(x)
    return torch.stack(seen, 1).numpy()


def mha_reference(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    seen: list[torch.Tensor] = []

    def probs(block: nn.Module, inp: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        a = block.ln_1(inp[0])
        mha = block.self_attention
        q, k, _ = F.linear(a, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
        n, t, d = q.shape
        h = mha.num_heads
        q, k = (z.reshape(n, t, h, d // h).transpose(1, 2) for z in (q, k))
        seen.append(torch.softmax(q @ k.transpose(-2, -1) / (d // h) ** 0.5, dim=-1))

    handles = [b.register_forward_hook(probs) for b in model.encoder.layers]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return torch.stack(seen, 1).numpy()


def hf_models() -> dict[str, tuple[nn.Module, tuple, dict]]:
    torch.manual_seed(0)
    ids = torch.randint(5, 60, (2, 9))
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[1, 6:] = 0  # padding in the second text
    bert = transformers.BertForSequenceClassification(transformers.BertConfig(
        vocab_size=60, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)).eval()
    distil = transformers.DistilBertForSequenceClassification(transformers.DistilBertConfig(
        vocab_size=60, dim=16, n_layers=2, n_heads=2, hidden_dim=32)).eval()
    vit = transformers.ViTForImageClassification(transformers.ViTConfig(
        image_size=32, patch_size=8, num_channels=3, hidden_size=16, num_hidden_layers=3, num_attention_heads=4,
        intermediate_size=32, num_labels=5)).eval()
    return {"bert": (bert, (ids,), {"attention_mask": mask}), "distilbert": (distil, (ids,), {"attention_mask": mask}),
            "vit": (vit, (vm.images(2),), {})}


HF = hf_models()


def hf_reference(model: nn.Module, args: tuple, kwargs: dict) -> np.ndarray:
    ref = copy.deepcopy(model)
    ref.set_attn_implementation("eager")
    with torch.no_grad():
        out = ref(*args, **kwargs, output_attentions=True)
    return torch.stack(out.attentions, 1).numpy()


# -- capture ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["plain", "registers", "qk_norm"])
def test_timm_attention_is_recomputed_exactly(variant):
    model = vm.vit(reg_tokens=4 if variant == "registers" else 0, depth=3)
    if variant == "qk_norm":
        for block in model.blocks:
            block.attn.q_norm, block.attn.k_norm = nn.LayerNorm(8), nn.LayerNorm(8)
    x = vm.images(3)
    maps = attention_maps(model, x)
    t = 17 + (4 if variant == "registers" else 0)
    assert maps.shape == (3, 3, 2, t, t) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, timm_reference(model, x), atol=1e-6)
    assert np.abs(maps.sum(-1) - 1).max() < 1e-5 and hook_count(model) == 0


def test_multihead_attention_weights_are_asked_for_per_head():
    model = vm.tv_vit()
    x = vm.images(2)
    maps = attention_maps(model, x)
    assert maps.shape == (2, 2, 2, 17, 17)
    np.testing.assert_allclose(maps, mha_reference(model, x), atol=1e-6)
    assert hook_count(model) == 0


@pytest.mark.parametrize("batch_first", [True, False])
def test_torch_transformer_encoder_batch_or_sequence_first(batch_first):
    torch.manual_seed(2)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=batch_first)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    x = torch.randn(3, 6, 16) if batch_first else torch.randn(6, 3, 16)
    inputs: list[torch.Tensor] = []
    handles = [layer.register_forward_pre_hook(lambda _m, a: inputs.append(a[0])) for layer in enc.layers]
    try:
        with torch.no_grad():
            enc(x)
            ref = np.stack([layer.self_attn(h, h, h, need_weights=True, average_attn_weights=False)[1].numpy()
                            for layer, h in zip(enc.layers, inputs, strict=True)], 1)
    finally:
        for h in handles:
            h.remove()
    maps = attention_maps(enc, x)
    assert maps.shape == (3, 2, 4, 6, 6)  # per sample, whichever axis the batch is on
    np.testing.assert_allclose(maps, ref, atol=1e-6)


@pytest.mark.parametrize("name", list(HF))
def test_hugging_face_attentions_equal_eager_output_attentions(name):
    model, args, kwargs = HF[name]
    assert model.config._attn_implementation == "sdpa"  # the default, which returns no attentions
    maps = attention_maps(model, *args, **kwargs)
    np.testing.assert_allclose(maps, hf_reference(model, args, kwargs), atol=1e-6)
    assert model.config._attn_implementation == "sdpa" and model.config._attn_implementation_internal == "sdpa"
    assert np.abs(maps.sum(-1) - 1).max() < 1e-5
    if "attention_mask" in kwargs:  # padded keys get no attention
        assert np.abs(maps[1, ..., 6:]).max() < 1e-6
    user = copy.deepcopy(model)  # the user's own output_attentions still works afterwards (a copy keeps
    user.set_attn_implementation("eager")  # every attribute, and leaves the shared model without hooks)
    with torch.no_grad():
        assert len(user(*args, **kwargs, output_attentions=True).attentions) == maps.shape[1]


def test_a_wrapped_hugging_face_model_is_read_from_its_attention_modules():
    bert, args, kwargs = HF["bert"]

    class Wrapper(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(ids, attention_mask=attention_mask).logits

    before = hook_count(bert)
    np.testing.assert_allclose(attention_maps(Wrapper(), *args, **kwargs), hf_reference(bert, args, kwargs), atol=1e-6)
    assert bert.config._attn_implementation == "sdpa" and hook_count(bert) == before


def test_attention_implementation_restored_when_the_model_raises():
    model, args, kwargs = HF["bert"]
    layer = next(m for n, m in model.named_modules() if n.endswith(("layer.1", "layers.1")))

    def boom(*_a):
        raise RuntimeError("boom")

    handle = layer.register_forward_hook(boom)  # the user's hook, raising
    before = hook_count(model)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            attention_maps(model, *args, **kwargs)
        assert model.config._attn_implementation_internal == "sdpa"
        assert hook_count(model) == before  # the user's hook stays, ours are gone
    finally:
        handle.remove()
    assert not model.training


def test_model_state_and_inputs_unchanged():
    model = vm.vit().train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = vm.images(2)
    x0 = x.clone()
    attention_maps(model, x)
    assert all(m.training for m in model.modules()) and hook_count(model) == 0
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items()) and torch.equal(x, x0)
    assert all(p.grad is None and p.requires_grad for p in model.parameters())


def test_what_has_no_readable_attention_is_refused():
    x = vm.images(2)
    with pytest.raises(AttentionCaptureError, match=r"window attention \(Swin\)"):
        attention_maps(vm.swin(), x)
    with pytest.raises(AttentionCaptureError, match="no self-attention probabilities were found in ResNet"):
        attention_maps(resnet("tiny", num_classes=5), x)

    class Biased(vm.Attention):  # a timm-looking attention with an extra bias on its logits
        def forward(self, x, attn_mask=None):
            return super().forward(x, attn_mask=torch.full((x.shape[1], x.shape[1]), 0.0).fill_diagonal_(3.0))

    model = vm.vit()
    model.blocks[0].attn.__class__ = Biased
    with pytest.raises(AttentionCaptureError, match="does not reproduce its output"):
        attention_maps(model, x)
    assert hook_count(model) == 0
    with pytest.raises(TypeError, match="pass the model's inputs"):
        attention_maps(vm.vit())


# -- rollout ----------------------------------------------------------------------------------------
def rollout_reference(maps: np.ndarray, head_fusion: str, discard_ratio: float) -> np.ndarray:
    """jacobgil/vit-explain's rollout, per sample, float64."""
    out = []
    for sample in maps.astype(np.float64):
        t = sample.shape[-1]
        result = np.eye(t)
        for layer in sample:
            fused = {"mean": layer.mean(0), "max": layer.max(0), "min": layer.min(0)}[head_fusion].copy()
            flat = fused.reshape(-1)
            k = int(flat.size * discard_ratio)
            idx = np.argsort(flat, kind="stable")[:k]
            idx = idx[idx != 0]
            flat[idx] = 0
            a = (fused + np.eye(t)) / 2
            a = a / a.sum(-1, keepdims=True)
            result = a @ result
        out.append(result)
    return np.stack(out)


@pytest.mark.parametrize("head_fusion", ["mean", "max", "min"])
@pytest.mark.parametrize("discard_ratio", [0.0, 0.5, 0.9])
def test_rollout_equals_the_reference(head_fusion, discard_ratio):
    maps = attention_maps(vm.vit(depth=3), vm.images(3))
    r = attention_rollout(maps, head_fusion=head_fusion, discard_ratio=discard_ratio)
    assert r.shape == (3, 17, 17) and r.dtype == np.float32
    np.testing.assert_allclose(r, rollout_reference(maps, head_fusion, discard_ratio), atol=1e-6)
    np.testing.assert_allclose(r.sum(-1), 1, atol=1e-5)


def test_rollout_axioms_and_errors():
    t = 5
    identity = np.broadcast_to(np.eye(t), (2, 3, 4, t, t))
    np.testing.assert_allclose(attention_rollout(identity), np.broadcast_to(np.eye(t), (2, t, t)), atol=1e-7)
    uniform = np.full((1, 1, 1, t, t), 1 / t)  # one layer: (U + I) / 2
    np.testing.assert_allclose(attention_rollout(uniform)[0], (np.full((t, t), 1 / t) + np.eye(t)) / 2, atol=1e-7)
    with pytest.raises(ValueError, match="head_fusion must be one of"):
        attention_rollout(identity, head_fusion="median")
    with pytest.raises(ValueError, match="discard_ratio must be a finite number >= 0 and < 1"):
        attention_rollout(identity, discard_ratio=1.0)
    with pytest.raises(ValueError, match=r"maps must be \(n, layers, heads, T, T\).*maps\[None\]"):
        attention_rollout(identity[0])
    with pytest.raises(ValueError, match="negative, NaN or inf"):
        attention_rollout(-identity)


# -- the image explainer ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["timm_vit", "tv_vit", "hf_vit", "timm_registers", "timm_avgpool"])
def test_attention_rollout_explainer_draws_the_class_row_over_the_image(name):
    model = {"timm_vit": vm.vit, "tv_vit": vm.tv_vit, "hf_vit": lambda: HF["vit"][0],
             "timm_registers": lambda: vm.vit(reg_tokens=2), "timm_avgpool": lambda: vm.vit(
                 class_token=False, global_pool="avg")}[name]()
    x = vm.images(2)
    e = AttentionRollout(model, head_fusion="max").explain(x)
    maps = attention_maps(model, x)
    r = rollout_reference(maps, "max", 0.0)
    prefix = {"timm_registers": 3, "timm_avgpool": 0}.get(name, 1)
    rows = r.mean(1) if name == "timm_avgpool" else r[:, 0]
    grid = rows[:, prefix:].reshape(2, 4, 4)
    np.testing.assert_allclose(e.diagnostics["grid_map"], grid, atol=1e-6)
    up = F.interpolate(torch.as_tensor(grid)[:, None], size=(32, 32), mode="bilinear", align_corners=False)[:, 0]
    np.testing.assert_allclose(e.values, up.numpy(), atol=1e-6)
    assert e.layout == "HW" and e.method == "attention_rollout" and e.values.shape == (2, 32, 32)
    assert e.diagnostics["prefix_tokens"] == prefix and e.diagnostics["grid"] == (4, 4)
    with torch.no_grad():
        logits = getattr(model(x), "logits", model(x)).numpy()
    np.testing.assert_array_equal(e.target, logits.argmax(1))
    np.testing.assert_allclose(e.outputs, logits.max(1), rtol=1e-5)


def test_attention_rollout_through_the_registry_and_the_heatmap():
    from nbexplain.widgets import Heatmap

    model = vm.vit()
    assert "attention_rollout" in available_explainers("image")
    e = get_explainer("attention_rollout", model, discard_ratio=0.2).explain(vm.images(2), target=3)
    assert e.params["discard_ratio"] == 0.2 and e.params["class_specific"] is False
    np.testing.assert_array_equal(e.target, [3, 3])
    h = Heatmap.from_explanation(e[0])
    assert h.values.shape == (32, 32)
    with pytest.raises(TypeError, match="takes no data="):
        get_explainer("attention_rollout", model, data=vm.images(2))
    raw = vm.images(2)
    normalised = AttentionRollout(model, preprocess=lambda t: (t - 0.5) / 0.25).explain(raw)
    np.testing.assert_allclose(normalised.values, AttentionRollout(model).explain((raw - 0.5) / 0.25).values)
    np.testing.assert_array_equal(normalised.data, raw.numpy())  # drawn over the raw image
    with pytest.raises(ValueError, match=r"explains images \(n, C, H, W\)"):
        AttentionRollout(model).explain(torch.randn(2, 17, 16))
    with pytest.raises(AttentionCaptureError):
        AttentionRollout(vm.swin()).explain(vm.images(1))
