"""Writes ``gradcam_layers.ipynb``: GradCAMLayersView on a digit (a small CNN trained on sklearn's digits
in about a second; stages at 8x8, 4x4 and 2x2) and on a tiny network whose coarse last stage is all 0
for the explained class (Grad-CAM's ReLU of negative evidence), so its note must say so in words.

The browser test (``tests/browser/teaching/test_gradcam_layers_browser.py``) moves the stage slider, also while
the kernel is busy, and checks both canvases against the arrays the view sent (decoded as the front end
decodes them), the stage's name and resolution, ``stage`` in Python, the note of the empty stage, the
chart, and the light and dark theme.

The notebook is checked in; edit the sources here and rerun
``.venv/bin/python tests/notebooks/build_gradcam_layers.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

import nbexplain as nbx

torch.manual_seed(0)
digits = load_digits()
X = torch.tensor(digits.images[:, None] / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 8x8
                    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 4x4
                    nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),                  # 2x2
                    nn.Flatten(), nn.Linear(16 * 2 * 2, 10))
opt = torch.optim.Adam(cnn.parameters(), lr=1e-2)
for _ in range(40):
    opt.zero_grad()
    nn.functional.cross_entropy(cnn(X[:600]), y[:600]).backward()
    opt.step()
cnn.eval()'''

DIGIT = '''digit = nbx.GradCAMLayersView(cnn, X[1100], class_names=[f"digit {i}" for i in range(10)],
                               title="a digit through the layers")
digit'''

EMPTY = '''torch.manual_seed(0)
tiny = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Conv2d(4, 2, 1), nn.ReLU(),
                     nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2)).eval()
with torch.no_grad():  # the 2x2 stage is positive everywhere and class 1 rests on it negatively
    tiny[3].weight.mul_(0.01)
    tiny[3].bias.fill_(5.0)
    tiny[7].weight[1] = -1.0
empty = nbx.GradCAMLayersView(tiny, X[1100], target=1, deletion=False, title="an empty coarse stage")
empty'''

NOTEBOOKS: dict[str, list[str]] = {"gradcam_layers.ipynb": [SETUP, DIGIT, EMPTY]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
