"""Writes ``views_polish.ipynb``: the views of the anatomy, feature bars, heatmap and text tokens
at the notebook's default width, for the layout, theme and empty-map browser tests
(``tests/browser/views/test_views_polish_browser.py``).

The notebook is checked in; edit the sources here and rerun
``python tests/notebooks/build_views_polish.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

# The model of notebooks/anatomy.ipynb (a residual block, layer names such as "2.conv2"), with 64
# channels, so the channel grid has more tiles than it shows at once.
ANATOMY = '''import numpy as np
import torch
import ipywidgets as W
from torch import nn
from sklearn.datasets import load_breast_cancer, load_digits

import nbexplain as nbx

torch.set_num_threads(1)
torch.manual_seed(0)
digits = load_digits()
X = torch.as_tensor(digits.images[:, None] / 16.0, dtype=torch.float32)
y = torch.as_tensor(digits.target)


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.conv2(self.relu(self.conv1(x))))


model = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), Residual(64), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(64 * 4 * 4, 32), nn.GELU(), nn.Linear(32, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(2):
    for i in range(0, 1500, 100):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X[i:i + 100]), y[i:i + 100]).backward()
        opt.step()
model.eval()
anatomy = nbx.ModelAnatomy(model, X[1500:1508], y=y[1500:1508].numpy(),
                           class_names=[f"digit {d}" for d in range(10)], layer="2.conv2")
insp = anatomy.inspector
anatomy'''

# Thirty real feature names (some long), signed values: alone and two methods side by side.
BARS = '''cancer = load_breast_cancer()
names = list(cancer.feature_names)
rng = np.random.default_rng(0)
shap_like = rng.normal(0, 1, 30) * np.linspace(2, 0.1, 30)
lime_like = shap_like + rng.normal(0, 0.3, 30)
bars = nbx.FeatureBars(shap_like, feature_names=names, feature_values=cancer.data[0], top_k=8,
                       base_value=0.4, prediction=0.93, prediction_label="P(benign)", title="one method")
bars'''

COMPARE = '''cv = nbx.CompareView(kind="table", top_k=8)
cv.show({"shap": shap_like, "lime": lime_like}, feature_values=cancer.data[0], feature_names=names)
cv'''

# A for/against pair over a known image: the left third is positive, the right third negative,
# the middle third exactly zero.
PAIR = '''rows, cols = np.mgrid[0:12, 0:12]
pair_values = np.where(cols < 4, 1.0 + rows / 12, np.where(cols >= 8, -1.0 - rows / 12, 0.0)).astype(np.float32)
pair_image = ((rows * 17 + cols * 11) % 200 + 30).astype(np.uint8)
pos = nbx.Heatmap(pair_values, image=pair_image, sign="positive", width=180, title="for", precision="float32")
neg = nbx.Heatmap(pair_values, image=pair_image, sign="negative", width=180, title="against", precision="float32")
W.HBox([pos, neg])'''

# A CNN whose Grad-CAM map is 0 everywhere, as the quickstart's is: positive activations, negative
# channel weights, so ReLU leaves nothing. The view says so, and why.
GRADCAM = '''cam_net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
with torch.no_grad():
    cam_net[0].weight.fill_(0.1)
    cam_net[0].bias.fill_(0.1)
    cam_net[3].weight.fill_(-0.01)
    cam_net[3].bias.zero_()
digit = X[1500:1501]
cam = nbx.GradCAM(cam_net).explain(digit, target=0)
cam_view = nbx.Heatmap.from_explanation(cam[0], image=digit[0, 0].numpy(), width=150, show_controls=False,
                                        title="Grad-CAM")
cam_view'''

TEXT = '''tokens = "the plot was thin but the acting was quite wonderful and the ending moved me".split()
tvals = np.zeros(len(tokens))
tvals[[5, 8, 9, 13]] = [0.3, 0.05, 0.9, 0.4]
tvals[[3, 4]] = [-0.6, -0.2]
tvals[[0, 1, 2]] = [0.004, -0.003, 0.01]
text = nbx.TextTokens(tokens, tvals, prediction=0.81, prediction_label="P(positive)", base_value=0.5,
                      title="near-zero words")
text'''

NOTEBOOKS = {"views_polish.ipynb": [ANATOMY, BARS, COMPARE, PAIR, GRADCAM, TEXT]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
