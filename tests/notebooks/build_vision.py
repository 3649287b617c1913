"""Writes ``vision.ipynb``: a small ViT's Grad-CAM (automatic token reshape) and attention rollout over a
digit, side by side, for ``tests/browser/models/test_vision_browser.py``.

The notebook is checked in; edit the sources here and rerun ``python tests/notebooks/build_vision.py``
so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

# A timm-shaped ViT (patch_embed, cls_token, blocks[i].norm1 / attn.qkv through fused SDPA) on
# scikit-learn's digits upsampled to 32 x 32, 4 x 4 patches (an 8 x 8 grid); trained a few seconds.
SETUP = '''import numpy as np
import torch
import ipywidgets as W
from torch import nn
from torch.nn import functional as F
from sklearn.datasets import load_digits

import nbexplain as nbx

torch.manual_seed(0)
digits = load_digits()
X = F.interpolate(torch.as_tensor(digits.images[:, None] / 16.0, dtype=torch.float32), size=(32, 32),
                  mode="bilinear", align_corners=False)
y = torch.as_tensor(digits.target)


class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_size = (4, 4)
        self.proj = nn.Conv2d(1, 32, 4, stride=4)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.num_heads, self.scale = 4, 8 ** -0.5
        self.qkv, self.proj = nn.Linear(32, 96), nn.Linear(32, 32)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, 4, 8).permute(2, 0, 3, 1, 4)
        return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, N, C))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.attn, self.norm2 = nn.LayerNorm(32), Attention(), nn.LayerNorm(32)
        self.mlp = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 32))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 32))
        self.pos_embed = nn.Parameter(torch.randn(1, 65, 32) * 0.02)
        self.blocks = nn.Sequential(Block(), Block())
        self.norm, self.head = nn.LayerNorm(32), nn.Linear(32, 10)

    def forward(self, x):
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), self.patch_embed(x)], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


vit = ViT()
opt = torch.optim.AdamW(vit.parameters(), lr=3e-3, weight_decay=0.01)
for _ in range(6):
    order = torch.randperm(1500)
    for i in range(0, 1500, 64):
        opt.zero_grad()
        F.cross_entropy(vit(X[order[i:i + 64]]), y[order[i:i + 64]]).backward()
        opt.step()
vit.eval()'''

VIEWS = '''x = X[1500:1516]
cam = nbx.GradCAM(vit).explain(x)
rollout = nbx.AttentionRollout(vit).explain(x)
i = next((j for j, note in enumerate(cam.diagnostics["note"]) if not note), 0)  # a sample whose map is not all 0
image = (x[i, 0].numpy() * 255).round().astype(np.uint8)
style = dict(image=image, cmap="viridis", opacity=0.6, clip_percentile=100.0, precision="float32", width=256)
cam_view = nbx.Heatmap.from_explanation(cam[i], title="ViT Grad-CAM", **style)
rollout_view = nbx.Heatmap.from_explanation(rollout[i], title="ViT attention rollout", **style)
W.HBox([cam_view, rollout_view])'''

NOTEBOOKS = {"vision.ipynb": [SETUP, VIEWS]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
