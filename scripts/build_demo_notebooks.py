"""Writes the demo notebooks, notebooks/dashboard.ipynb and notebooks/anatomy.ipynb, from the cells below.

Run ``.venv/bin/python scripts/build_demo_notebooks.py`` after editing; the notebook is checked
in unexecuted. Everything in it runs offline on a CPU in well under a minute.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

CELLS: list[tuple[str, str]] = [
    ("md", """# The nbexplain dashboard

`nbx.Dashboard(model, X, y, ...)` puts a model's explanations, errors and what-ifs in one widget,
for **tables**, **images** and **text**. Four tabs:

- **Explore**: filter and page through the samples (misclassified only, by class, by confidence,
  by text), see one sample with its prediction, explanations from up to four methods side by side
  with their agreement, and edit the sample: move a feature's slider, click an image patch away,
  click a word away. The prediction and the explanations follow.
- **Global**: mean |attribution| per feature, a beeswarm of every explained sample, PDP and ICE.
- **Errors & bias**: the confusion matrix (click a cell: the explorer shows those samples),
  train-vs-test metrics and metrics per slice of a feature.
- **Surrogate**: a linear model fitted to the network, with its fidelity.

Work runs on a background thread: the notebook stays usable, and anything that takes longer than
half a second shows progress with a cancel button. Everything here runs offline on a CPU."""),
    ("code", """import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
import nbexplain as nbx

torch.manual_seed(0)


def fit(model, X, y, epochs=200, lr=1e-2):
    \"\"\"Full-batch Adam on cross-entropy: a few seconds on a CPU.\"\"\"
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(epochs):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    return model.eval()"""),
    ("md", """## 1. A table: breast cancer, 12 features, a small MLP

The network standardises its own input, so sliders and explanations speak in the data's units.
KernelSHAP is exact here (all 4,096 coalitions of 12 features) and LIME is seeded, so every run
gives the same bars."""),
    ("code", """cancer = load_breast_cancer()
X = cancer.data[:, :12].astype(np.float32)
names = list(cancer.feature_names[:12])
X_train, X_test, y_train, y_test = train_test_split(X, cancer.target, test_size=0.3, random_state=0,
                                                    stratify=cancer.target)


class Standardised(nn.Module):
    def __init__(self, mean, std, net):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean))
        self.register_buffer("std", torch.as_tensor(std))
        self.net = net

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


mlp = fit(Standardised(X_train.mean(0), X_train.std(0) + 1e-6,
                       nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 2))),
          X_train, y_train)
table = nbx.Dashboard(mlp, X_test, y_test, feature_names=names, class_names=list(cancer.target_names),
                      X_train=X_train, y_train=y_train, global_samples=150,
                      title="Breast cancer: a 12-feature MLP")
table.compute_global()   # the Global, Errors & bias and Surrogate tabs, on the background worker
table.wait()
table"""),
    ("md", """Try: tick *misclassified only*, click a row, move a slider in the first method's bars.
Open **Errors & bias** and click an off-diagonal cell of the confusion matrix: the explorer then
lists exactly those samples. Python sees the same state:"""),
    ("code", """print("sample shown:", table.index, "| filter:", table.browser.filter)
{m: e.values.round(3)[:4] for m, e in table.explanations().items()}"""),
    ("md", """## 2. Images: 8x8 digits, a small CNN

Saliency and Integrated Gradients side by side. Click a map to hide a 2x2 patch of the input
(filled with the image's mean) and watch the prediction move; click it again to restore it."""),
    ("code", """digits = load_digits()
Xd = (digits.images / 16.0).astype(np.float32)[:, None]          # (n, 1, 8, 8)
Xd_train, Xd_test, yd_train, yd_test = train_test_split(Xd, digits.target, test_size=0.25, random_state=0)
cnn = fit(nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(8 * 4 * 4, 10)), Xd_train, yd_train, epochs=150)
images = nbx.Dashboard(cnn, Xd_test, yd_test, class_names=[str(d) for d in range(10)], patch=2,
                       global_samples=200, title="Digits: a small CNN")
images.compute_global()
images.wait()
images"""),
    ("md", """## 3. Text: short reviews, a small PyTorch classifier

The corpus ships with nbexplain (`nbx.datasets.load_reviews()`); the classifier trains in a few
seconds. Token attributions are exact Shapley values over the words (a word is *dropped* when
absent). Click a word to drop it and watch the prediction change; the search box filters the
reviews."""),
    ("code", """from nbexplain.datasets import load_reviews
from nbexplain.text import train_text_classifier

texts, labels, label_names = load_reviews()
rng = np.random.default_rng(0)
order = rng.permutation(len(texts))
train, test = order[: int(0.75 * len(texts))], order[int(0.75 * len(texts)):]
clf = train_text_classifier([texts[i] for i in train], labels[train], class_names=label_names, seed=0)
reviews = nbx.Dashboard(clf, [texts[i] for i in test], labels[test], class_names=label_names,
                        global_samples=100, title="Reviews: a small text classifier")
reviews.compute_global()
reviews.wait()
reviews"""),
]


ANATOMY_CELLS: list[tuple[str, str]] = [
    ("md", """# Inside the model: `nbx.ModelAnatomy`

The module graph of a PyTorch model (from a torch.fx trace, or from forward hooks when the model
cannot be traced) beside a layer inspector: activation maps, filters, weights, gradients and the
activation function of the layer you click. Everything runs offline on a CPU in seconds."""),
    ("code", """import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_digits
import nbexplain as nbx

torch.manual_seed(0)
digits = load_digits()
X = torch.as_tensor(digits.images[:, None] / 16.0, dtype=torch.float32)    # (n, 1, 8, 8)
y = torch.as_tensor(digits.target)


class Residual(nn.Module):
    # conv -> ReLU -> conv, plus the input: the graph draws the skip connection as an arc.

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.conv2(self.relu(self.conv1(x))))


model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), Residual(16), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(16 * 4 * 4, 32), nn.GELU(), nn.Linear(32, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(4):
    for i in range(0, 1500, 100):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X[i:i + 100]), y[i:i + 100]).backward()
        opt.step()
model.eval()
print(f"held-out accuracy {(model(X[1500:]).argmax(1) == y[1500:]).float().mean():.3f}")"""),
    ("md", """Click a layer in the graph (or pick it in the menu). **Activations**: a channel grid sorted
by mean activation; click a channel to see it over the input. **Filters**: the first convolution's
kernels. **Weights** and **Gradients** (for this batch and its labels; vanishing or exploding norms
are flagged). **Activation function**: the layer's non-linearity and its derivative."""),
    ("code", """anatomy = nbx.ModelAnatomy(model, X[1500:1508], y=y[1500:1508].numpy(),
                           class_names=[f"digit {d}" for d in range(10)], layer="2.conv2")
anatomy"""),
    ("md", """The same numbers without widgets, from `nbexplain.anatomy`:"""),
    ("code", """from nbexplain.anatomy import activation_maps, capture_gradients, model_graph

g = model_graph(model, X[:1])
print(g.method, len(g.nodes), "modules;", [e for e in g.edges if e[1] == "2.conv2" or e[0] == "0"][:3])
maps = activation_maps(model, X[1500:1501], "2.conv2")
print(maps.kind, maps.maps.shape if maps.kind == "conv" else maps.values.shape)
report = capture_gradients(model, X[1500:1508], y[1500:1508])
dict(zip(report.layers, report.norms.round(4)))"""),
]


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in cells]
    return nb


if __name__ == "__main__":
    for name, cells in (("dashboard.ipynb", CELLS), ("anatomy.ipynb", ANATOMY_CELLS)):
        path = ROOT / "notebooks" / name
        nbformat.write(build(cells), path)
        print(f"wrote {path.relative_to(ROOT)}")
