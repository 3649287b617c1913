"""Writes ``ig_path.ipynb``: IGPathView on a digit (a small CNN trained in about a second), on a colour
picture (blurred baseline; its completeness chart waits for its "compute" button) and on a table
row with hostile feature and class names.

The browser test (``tests/browser/teaching/test_ig_path_browser.py``) moves the alpha slider and checks the
canvases against the arrays the views sent (decoded as the front end decodes them), the marker,
``alpha`` in Python, the baseline picker, the names as text, the light and dark theme, and the
exported page (no kernel), where the slider must still scrub.

The notebook is checked in; edit the sources here and rerun
``.venv/bin/python tests/notebooks/build_ig_path.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from torch import nn

import nbexplain as nbx

torch.manual_seed(0)
digits = load_digits()
X = torch.tensor(digits.images[:, None] / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 10))
opt = torch.optim.Adam(cnn.parameters(), lr=1e-2)
for _ in range(40):
    opt.zero_grad()
    nn.functional.cross_entropy(cnn(X[:600]), y[:600]).backward()
    opt.step()
cnn.eval()'''

DIGIT = '''digit = nbx.IGPathView(cnn, X[700], baseline="black", steps=16, data=X[:600], convergence=True,
                       class_names=[f"digit {i}" for i in range(10)], title="a digit, from black")
digit'''

COLOUR = '''torch.manual_seed(1)
rgb_model = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.Tanh(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                          nn.Linear(96, 3)).eval()
rows, cols = np.mgrid[0:24, 0:24] / 23.0
picture = torch.tensor(np.stack([rows, cols, 1 - rows * cols]), dtype=torch.float32)
colour = nbx.IGPathView(rgb_model, picture, baseline="blur", rule="riemann_trapezoid", steps=8, n_alphas=17,
                        convergence=False, title="a colour picture, from its blur")
colour'''

TABLE = '''cancer = load_breast_cancer()
Xt = torch.tensor((cancer.data - cancer.data.mean(0)) / cancer.data.std(0), dtype=torch.float32)
# every name carries markup that must stay text: whichever rows are shown, they test it
names = [(f"<script>window.__nbx_pwned=1</script>{n}" if i % 2 else f'<img src=x onerror="window.__nbx_pwned=1">{n}')
         for i, n in enumerate(cancer.feature_names)]
torch.manual_seed(2)
mlp = nn.Sequential(nn.Linear(30, 16), nn.Tanh(), nn.Linear(16, 2))
opt = torch.optim.Adam(mlp.parameters(), lr=1e-2)
for _ in range(60):
    opt.zero_grad()
    nn.functional.cross_entropy(mlp(Xt), torch.tensor(cancer.target)).backward()
    opt.step()
mlp.eval()
table = nbx.IGPathView(mlp, Xt[0], baseline="mean", data=Xt, feature_names=names, convergence=True,
                       class_names=["malignant", "<b>benign</b>"], target=1, title="a table row, from the mean")
table'''

NOTEBOOKS: dict[str, list[str]] = {"ig_path.ipynb": [SETUP, DIGIT, COLOUR, TABLE]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
