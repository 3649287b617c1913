"""Vision transformers shaped like timm's and torchvision's (module names, types and forward passes), random weights.

- :func:`vit`: timm's ``VisionTransformer`` (``patch_embed.proj`` convolution, ``cls_token``,
  optional register tokens, ``pos_embed``, ``blocks`` of ``Block`` with ``Attention(qkv)`` run
  through fused SDPA and ``Mlp`` with GELU, ``num_prefix_tokens``);
- :func:`tv_vit`: torchvision's ``VisionTransformer`` (``conv_proj``, ``class_token``,
  ``encoder.layers.encoder_layer_i`` with ``ln_1`` and ``nn.MultiheadAttention`` called with
  ``need_weights=False``);
- :func:`swin`: timm's ``SwinTransformer`` (channels-last ``(n, H, W, C)`` stages, shifted
  windows with relative position bias, ``PatchMerging``).

Import them from ``tests/vision_models.py`` with the CNNs.

Example:
    >>> import torch
    >>> vit()(torch.zeros(2, 3, 32, 32)).shape, swin()(torch.zeros(1, 3, 32, 32)).shape
    (torch.Size([2, 5]), torch.Size([1, 5]))
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F


def _randomise_norms(model: nn.Module) -> nn.Module:
    from vision_models import _randomise_norms as randomise

    return randomise(model)


# -- timm's VisionTransformer ---------------------------------------------------------------------
class PatchEmbed(nn.Module):
    def __init__(self, img_size: int | tuple[int, int], patch_size: int, in_chans: int, embed_dim: int,
                 flatten: bool = True) -> None:
        super().__init__()
        self.img_size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        self.patch_size = (patch_size, patch_size)
        self.grid_size = (self.img_size[0] // patch_size, self.img_size[1] // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.flatten = flatten
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, patch_size)
        self.norm = nn.Identity() if flatten else nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)
        x = x.flatten(2).transpose(1, 2) if self.flatten else x.permute(0, 2, 3, 1)  # NLC, or NHWC (Swin)
        return self.norm(x)


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        self.num_heads, self.head_dim = num_heads, dim // num_heads
        self.scale = self.head_dim**-0.5
        self.fused_attn = True
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.q_norm, self.k_norm = nn.Identity(), nn.Identity()
        self.attn_drop = nn.Dropout(0.0)
        self.norm = nn.Identity()
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        if self.fused_attn:
            x = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1)
            attn = attn if attn_mask is None else attn + attn_mask
            x = self.attn_drop(attn.softmax(dim=-1)) @ v
        x = self.norm(x.transpose(1, 2).reshape(B, N, C))
        return self.proj_drop(self.proj(x))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.act, self.drop1 = nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(0.0)
        self.norm, self.fc2, self.drop2 = nn.Identity(), nn.Linear(hidden, dim), nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop2(self.fc2(self.norm(self.drop1(self.act(self.fc1(x))))))


class Block(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention(dim, num_heads)
        self.ls1, self.drop_path1 = nn.Identity(), nn.Identity()
        self.norm2, self.mlp = nn.LayerNorm(dim, eps=1e-6), Mlp(dim, 2 * dim)
        self.ls2, self.drop_path2 = nn.Identity(), nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))


class VisionTransformer(nn.Module):
    def __init__(self, img_size: int | tuple[int, int], patch_size: int, in_chans: int, num_classes: int, embed_dim: int,
                 depth: int,
                 num_heads: int, reg_tokens: int = 0, class_token: bool = True, global_pool: str = "token") -> None:
        super().__init__()
        self.global_pool = global_pool
        self.num_prefix_tokens = int(class_token) + reg_tokens
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        self.cls_token = nn.Parameter(torch.randn(1, 1, embed_dim) * 0.5) if class_token else None
        self.reg_token = nn.Parameter(torch.randn(1, reg_tokens, embed_dim) * 0.5) if reg_tokens else None
        self.pos_embed = nn.Parameter(torch.randn(1, self.patch_embed.num_patches + self.num_prefix_tokens,
                                                  embed_dim) * 0.5)
        self.pos_drop, self.patch_drop, self.norm_pre = nn.Dropout(0.0), nn.Identity(), nn.Identity()
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads) for _ in range(depth)])
        self.norm, self.fc_norm, self.head_drop = nn.LayerNorm(embed_dim, eps=1e-6), nn.Identity(), nn.Dropout(0.0)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        prefix = [t.expand(x.shape[0], -1, -1) for t in (self.cls_token, self.reg_token) if t is not None]
        x = self.pos_drop(torch.cat([*prefix, x], dim=1) + self.pos_embed)
        return self.norm(self.blocks(self.norm_pre(self.patch_drop(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x)
        x = x[:, self.num_prefix_tokens:].mean(1) if self.global_pool == "avg" else x[:, 0]
        return self.head(self.head_drop(self.fc_norm(x)))


def vit(num_classes: int = 5, img_size: int | tuple[int, int] = 32, patch_size: int = 8, in_chans: int = 3, embed_dim: int = 16,
        depth: int = 2, num_heads: int = 2, reg_tokens: int = 0, class_token: bool = True, global_pool: str = "token",
        seed: int = 0) -> nn.Module:
    """A timm-shaped ViT: 32 x 32 images in 8 x 8 patches (a 4 x 4 grid) by default; ``img_size=(h, w)`` for others."""
    torch.manual_seed(seed)
    return _randomise_norms(VisionTransformer(img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads,
                                              reg_tokens, class_token, global_pool))


# -- torchvision's VisionTransformer ----------------------------------------------------------------
class MLPBlock(nn.Sequential):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(0.0), nn.Linear(hidden, dim), nn.Dropout(0.0))


class EncoderBlock(nn.Module):
    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=0.0, batch_first=True)
        self.dropout = nn.Dropout(0.0)
        self.ln_2 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.mlp = MLPBlock(hidden_dim, mlp_dim)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int, mlp_dim: int) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, hidden_dim).normal_(std=0.5))
        self.dropout = nn.Dropout(0.0)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim)) for i in range(num_layers)))
        self.ln = nn.LayerNorm(hidden_dim, eps=1e-6)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class TorchvisionViT(nn.Module):
    """torchvision.models.VisionTransformer's layout (its class name differs only to tell it from timm's here)."""

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int, hidden_dim: int,
                 mlp_dim: int, num_classes: int) -> None:
        super().__init__()
        self.image_size, self.patch_size, self.hidden_dim = image_size, patch_size, hidden_dim
        self.conv_proj = nn.Conv2d(3, hidden_dim, patch_size, patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = nn.Parameter(torch.randn(1, 1, hidden_dim) * 0.5)
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim)
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(hidden_dim, num_classes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, p = x.shape[0], self.patch_size
        x = self.conv_proj(x).reshape(n, self.hidden_dim, (x.shape[2] // p) * (x.shape[3] // p)).permute(0, 2, 1)
        x = self.encoder(torch.cat([self.class_token.expand(n, -1, -1), x], dim=1))
        return self.heads(x[:, 0])


def tv_vit(num_classes: int = 5, seed: int = 0) -> nn.Module:
    """A torchvision-shaped ViT for 3 x 32 x 32 inputs (8 x 8 patches, 2 layers, 2 heads)."""
    torch.manual_seed(seed)
    return _randomise_norms(TorchvisionViT(32, 8, 2, 2, 16, 32, num_classes))


# -- timm's SwinTransformer -----------------------------------------------------------------------
class WindowAttention(nn.Module):
    def __init__(self, dim: int, num_heads: int, window_size: int) -> None:
        super().__init__()
        self.num_heads, self.window_size = num_heads, (window_size, window_size)
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.randn((2 * window_size - 1) ** 2, num_heads) * 0.2)
        coords = torch.stack(torch.meshgrid(torch.arange(window_size), torch.arange(window_size), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + window_size - 1
        self.register_buffer("relative_position_index", rel[..., 0] * (2 * window_size - 1) + rel[..., 1],
                             persistent=False)
        self.qkv, self.attn_drop = nn.Linear(dim, dim * 3), nn.Dropout(0.0)
        self.proj, self.proj_drop, self.softmax = nn.Linear(dim, dim), nn.Dropout(0.0), nn.Softmax(dim=-1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        B_, N, _ = x.shape
        q, k, v = self.qkv(x).reshape(B_, N, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(N, N, -1)
        attn = attn + bias.permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(-1, nw, self.num_heads, N, N) + mask.unsqueeze(1).unsqueeze(0)).view(-1, self.num_heads, N, N)
        x = (self.attn_drop(self.softmax(attn)) @ v).transpose(1, 2).reshape(B_, N, -1)
        return self.proj_drop(self.proj(x))


def _windows(x: torch.Tensor, w: int) -> torch.Tensor:
    B, H, W, C = x.shape
    return x.view(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, w, w, C)


def _unwindows(windows: torch.Tensor, w: int, H: int, W: int) -> torch.Tensor:
    C = windows.shape[-1]
    return windows.view(-1, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, H, W, C)


class SwinTransformerBlock(nn.Module):
    def __init__(self, dim: int, resolution: int, num_heads: int, window_size: int, shift_size: int) -> None:
        super().__init__()
        self.window_size, self.shift_size = window_size, shift_size if resolution > window_size else 0
        self.norm1, self.attn = nn.LayerNorm(dim), WindowAttention(dim, num_heads, window_size)
        self.drop_path1, self.norm2, self.mlp, self.drop_path2 = nn.Identity(), nn.LayerNorm(dim), Mlp(dim, 2 * dim), \
            nn.Identity()
        mask = None
        if self.shift_size:
            img = torch.zeros(1, resolution, resolution, 1)
            cuts = (slice(0, -window_size), slice(-window_size, -self.shift_size), slice(-self.shift_size, None))
            for i, (hs, ws) in enumerate((h, w) for h in cuts for w in cuts):
                img[:, hs, ws, :] = i
            ids = _windows(img, window_size).reshape(-1, window_size * window_size)
            mask = (ids[:, None, :] - ids[:, :, None]).ne(0).float() * -100.0
        self.register_buffer("attn_mask", mask, persistent=False)

    def _attn(self, x: torch.Tensor) -> torch.Tensor:
        _, H, W, C = x.shape
        s, w = self.shift_size, self.window_size
        shifted = torch.roll(x, shifts=(-s, -s), dims=(1, 2)) if s else x
        out = self.attn(_windows(shifted, w).view(-1, w * w, C), mask=self.attn_mask)
        shifted = _unwindows(out.view(-1, w, w, C), w, H, W)
        return torch.roll(shifted, shifts=(s, s), dims=(1, 2)) if s else shifted

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, C = x.shape
        x = x + self.drop_path1(self._attn(self.norm1(x)))
        x = x.reshape(B, -1, C)
        x = x + self.drop_path2(self.mlp(self.norm2(x)))
        return x.reshape(B, H, W, C)


class PatchMerging(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm, self.reduction = nn.LayerNorm(4 * dim), nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, C = x.shape
        x = x.reshape(B, H // 2, 2, W // 2, 2, C).permute(0, 1, 3, 4, 2, 5).flatten(3)
        return self.reduction(self.norm(x))


class SwinTransformerStage(nn.Module):
    def __init__(self, dim: int, resolution: int, depth: int, num_heads: int, window_size: int, downsample: bool) -> None:
        super().__init__()
        self.downsample = PatchMerging(dim // 2) if downsample else nn.Identity()
        self.blocks = nn.Sequential(*[SwinTransformerBlock(dim, resolution, num_heads, window_size,
                                                           0 if i % 2 == 0 else window_size // 2) for i in range(depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.downsample(x))


class ClassifierHead(nn.Module):
    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean(dim=(1, 2)))  # NHWC: pool over H, W


class SwinTransformer(nn.Module):
    def __init__(self, img_size: int, patch_size: int, embed_dim: int, depths: tuple[int, ...], num_heads: tuple[int, ...],
                 window_size: int, num_classes: int) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, patch_size, 3, embed_dim, flatten=False)
        res, stages = img_size // patch_size, []
        for i, (depth, heads) in enumerate(zip(depths, num_heads, strict=True)):
            stages.append(SwinTransformerStage(embed_dim * 2**i, res // 2**i, depth, heads, window_size, i > 0))
        self.layers = nn.Sequential(*stages)
        self.norm = nn.LayerNorm(embed_dim * 2 ** (len(depths) - 1))
        self.head = ClassifierHead(embed_dim * 2 ** (len(depths) - 1), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.layers(self.patch_embed(x))))


def swin(num_classes: int = 5, seed: int = 0) -> nn.Module:
    """A timm-shaped Swin for 3 x 32 x 32 inputs: 4 x 4 patches (8 x 8 grid), windows of 4, two stages."""
    torch.manual_seed(seed)
    return _randomise_norms(SwinTransformer(32, 4, 8, (2, 2), (2, 4), 4, num_classes))
