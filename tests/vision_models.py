"""Vision networks shaped like torchvision's and timm's (module names, types and forward passes), random weights.

torchvision and timm do not import beside this machine's CPU torch (RECIPE.md), so the tests
define the architectures people bring, small:

- :func:`convnext`: torchvision's ``ConvNeXt`` (``features`` of ``CNBlock`` stages: 7x7 depthwise
  convolution, ``Permute``, ``LayerNorm`` over channels, ``Linear``-GELU-``Linear``, layer scale,
  ``StochasticDepth`` (identity in eval), ``result += input``; ``LayerNorm2d`` downsampling);
- :func:`efficientnet`: torchvision's ``EfficientNet`` (``Conv2dNormActivation`` with SiLU,
  ``MBConv`` with a depthwise convolution and ``SqueezeExcitation``, ``result += input``);
- :func:`vit`, :func:`tv_vit`, :func:`swin`: timm's and torchvision's ViT and timm's Swin, defined
  in ``tests/vit_models.py`` and importable from here;
- the ResNet is :func:`tests.torch_models.resnet` (in-place ReLU, ``out += identity``).

Example:
    >>> import torch
    >>> [m(torch.zeros(1, 3, 32, 32)).shape[1] for m in (convnext(), efficientnet(), vit(), tv_vit(), swin())]
    [5, 5, 5, 5, 5]
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _randomise_norms(model: nn.Module) -> nn.Module:
    """BatchNorm statistics and norm affines random, so eval outputs are not trivially uniform."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)) and m.weight is not None:
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.02, 0.02)
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


# -- torchvision's ops.misc and ConvNeXt ------------------------------------------------------------
class Permute(nn.Module):
    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: drops residual rows while training, identity in eval."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty([x.shape[0]] + [1] * (x.ndim - 1), dtype=x.dtype).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Conv2dNormActivation(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel_size: int = 3, stride: int = 1, groups: int = 1,
                 norm_layer: type[nn.Module] | None = nn.BatchNorm2d, activation_layer: type[nn.Module] | None = nn.SiLU,
                 padding: int | None = None, bias: bool | None = None) -> None:
        padding = (kernel_size - 1) // 2 if padding is None else padding
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel_size, stride, padding, groups=groups,
                                             bias=norm_layer is None if bias is None else bias)]
        if norm_layer is not None:
            layers.append(norm_layer(cout))
        if activation_layer is not None:
            layers.append(activation_layer(inplace=True) if activation_layer is not nn.GELU else nn.GELU())
        super().__init__(*layers)


class CNBlock(nn.Module):
    def __init__(self, dim: int, layer_scale: float = 1e-6, stochastic_depth_prob: float = 0.1) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True), Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim),
            Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        result = self.layer_scale * self.block(input)
        result = self.stochastic_depth(result)
        result += input
        return result


class ConvNeXt(nn.Module):
    def __init__(self, dims: tuple[int, ...], depths: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [Conv2dNormActivation(3, dims[0], 4, 4, padding=0, norm_layer=lambda c: LayerNorm2d(
            c, eps=1e-6), activation_layer=None, bias=True)]
        for i, (dim, depth) in enumerate(zip(dims, depths, strict=True)):
            layers.append(nn.Sequential(*[CNBlock(dim, layer_scale=0.5) for _ in range(depth)]))
            if i + 1 < len(dims):
                layers.append(nn.Sequential(LayerNorm2d(dim, eps=1e-6), nn.Conv2d(dim, dims[i + 1], 2, 2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(LayerNorm2d(dims[-1], eps=1e-6), nn.Flatten(1), nn.Linear(dims[-1], num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def convnext(num_classes: int = 5, dims: tuple[int, ...] = (8, 16), depths: tuple[int, ...] = (1, 2),
             seed: int = 0) -> nn.Module:
    """A 2-stage torchvision-shaped ConvNeXt for 3 x 32 x 32 inputs (layer scale 0.5 so blocks matter).

    Initialised as torchvision does (truncated normal weights, std 0.02; zero biases): a zero image
    then reaches every LayerNorm as a constant, whose variance is 0, as in the real network.
    """
    torch.manual_seed(seed)
    model = ConvNeXt(dims, depths, num_classes)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
    return _randomise_norms(model)


# -- torchvision's EfficientNet -------------------------------------------------------------------
class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.SiLU(inplace=True)
        self.scale_activation = nn.Sigmoid()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))
        return scale * input


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        mid = cin * expand
        layers: list[nn.Module] = []
        if mid != cin:
            layers.append(Conv2dNormActivation(cin, mid, 1))
        layers += [Conv2dNormActivation(mid, mid, kernel, stride, groups=mid), SqueezeExcitation(mid, max(1, cin // 4)),
                   Conv2dNormActivation(mid, cout, 1, activation_layer=None)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(0.2, "row")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


class EfficientNet(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            Conv2dNormActivation(3, 8, 3, 2),
            nn.Sequential(MBConv(8, 8, 1, 3, 1)),
            nn.Sequential(MBConv(8, 12, 4, 3, 2), MBConv(12, 12, 4, 3, 1)),
            nn.Sequential(MBConv(12, 16, 4, 5, 1)),
            Conv2dNormActivation(16, 32, 1))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(32, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def efficientnet(num_classes: int = 5, seed: int = 0) -> nn.Module:
    """A torchvision-shaped EfficientNet (MBConv + squeeze-excitation, SiLU) for 3 x 32 x 32 inputs.

    Convolutions are Kaiming-normal (fan in: unit gain), so the output depends on the input.
    """
    torch.manual_seed(seed)
    model = EfficientNet(num_classes)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in")
    return _randomise_norms(model)


def images(n: int = 3, size: int = 32, seed: int = 0, channels: int = 3) -> torch.Tensor:
    """Smooth random images (low-frequency noise), ``(n, channels, size, size)``."""
    g = torch.Generator().manual_seed(seed)
    small = torch.randn(n, channels, size // 4, size // 4, generator=g)
    return F.interpolate(small, size=(size, size), mode="bilinear", align_corners=False)



# The transformers live in vit_models.py (imported last: it uses the helpers above).
from vit_models import (  # noqa: E402
    Attention,
    Block,
    EncoderBlock,
    Mlp,
    PatchEmbed,
    SwinTransformer,
    SwinTransformerBlock,
    TorchvisionViT,
    VisionTransformer,
    WindowAttention,
    swin,
    tv_vit,
    vit,
)

__all__ = ["Attention", "Block", "CNBlock", "ConvNeXt", "EfficientNet", "EncoderBlock", "MBConv", "Mlp", "PatchEmbed",
           "SqueezeExcitation", "SwinTransformer", "SwinTransformerBlock", "TorchvisionViT", "VisionTransformer",
           "WindowAttention", "convnext", "efficientnet", "images", "swin", "tv_vit", "vit"]
