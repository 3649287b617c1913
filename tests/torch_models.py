"""Small torch models the gradient tests and benchmarks share (no torchvision, no downloads).

- :func:`mlp`, :func:`small_cnn`: tiny classifiers with module activations;
- :func:`functional_cnn`: activations called as functions (``F.relu``, ``torch.tanh``, ``x.relu_()``),
  which hook-based tools (Captum's DeepLift, shap's DeepExplainer) do not see;
- :func:`resnet`: torchvision's ResNet shape (BasicBlock or Bottleneck, ``ReLU(inplace=True)``,
  ``out += identity``, BatchNorm, max pooling), so ``resnet("18")`` and ``resnet("50")`` have the
  layer layout and cost of torchvision's ``resnet18`` / ``resnet50`` with random weights, and
  ``resnet("tiny")`` is a 2-block version for fast tests.

Example:
    >>> import torch
    >>> resnet("tiny", num_classes=3)(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 3])
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def mlp(n_in: int = 6, n_out: int = 4, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, n_out))


def small_cnn(n_out: int = 10, seed: int = 1) -> nn.Module:
    """1 x 8 x 8 inputs (scikit-learn's digits)."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16),
        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 32), nn.Sigmoid(), nn.Linear(32, n_out),
    )


class FunctionalCNN(nn.Module):
    """Activations as function calls, including an in-place one whose result is ignored."""

    def __init__(self, n_out: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 8 * 8, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv1(x))
        h = self.conv2(h)
        h.relu_()  # in place, return value unused
        return self.fc(torch.tanh(h).flatten(1))


def functional_cnn(n_out: int = 10, seed: int = 2) -> nn.Module:
    torch.manual_seed(seed)
    return FunctionalCNN(n_out)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = _downsample(cin, planes, stride, self.expansion)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(cin, planes, stride, self.expansion)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


def _downsample(cin: int, planes: int, stride: int, expansion: int) -> nn.Module | None:
    if stride == 1 and cin == planes * expansion:
        return None
    return nn.Sequential(nn.Conv2d(cin, planes * expansion, 1, stride, bias=False), nn.BatchNorm2d(planes * expansion))


class ResNet(nn.Module):
    def __init__(self, block: type[nn.Module], layers: list[int], num_classes: int, width: int = 64) -> None:
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages = []
        for i, blocks in enumerate(layers):
            planes = width * 2**i
            stride = 1 if i == 0 else 2
            stage = [block(self.inplanes, planes, stride)]
            self.inplanes = planes * block.expansion  # type: ignore[attr-defined]
            stage += [block(self.inplanes, planes) for _ in range(1, blocks)]
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = (stages + [nn.Identity()] * 4)[:4]
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.inplanes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet(depth: str = "18", num_classes: int = 1000, seed: int = 0) -> nn.Module:
    """Random-weight ResNet of torchvision's layout: ``"18"``, ``"50"``, or ``"tiny"`` (fast tests).

    BatchNorm statistics are randomised too, so eval-mode outputs are not trivially uniform.
    """
    torch.manual_seed(seed)
    if depth == "18":
        model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes)
    elif depth == "50":
        model = ResNet(Bottleneck, [3, 4, 6, 3], num_classes)
    elif depth == "tiny":
        model = ResNet(BasicBlock, [1, 1], num_classes, width=8)
    else:
        raise ValueError(f"unknown depth {depth!r}; use '18', '50' or 'tiny'")
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()
