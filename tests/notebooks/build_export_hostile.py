"""Writes ``export_hostile.ipynb``: every kind of name a view shows set to markup that must stay text.

Feature names, class names, tokens and titles are ``<img src=x onerror=alert(1)>`` and
``</script><script>alert(2)</script>`` (the second would end the ``<script>`` block that holds an
exported page's widget state if the exporter did not escape it). Views: FeatureBars, Heatmap,
TextTokens, IGPathView on a table row and LimeNeighbourhoodView on a table, all on four
breast-cancer features. ``tests/browser/apps/test_notebooks_export_browser.py`` exports it with
``python -m nbexplain.export`` and checks in the offline page that the strings show as text, that
no dialog opens and that no ``img`` with ``src=x`` exists or is requested.

The notebook is checked in; edit the sources here and rerun
``.venv/bin/python tests/notebooks/build_export_hostile.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from torch import nn

import nbexplain as nbx

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(2)</script>"
cancer = load_breast_cancer()
X = ((cancer.data[:, :4] - cancer.data[:, :4].mean(0)) / cancer.data[:, :4].std(0)).astype(np.float32)
y = cancer.target
names = [IMG, SCRIPT, "mean perimeter", "mean area"]
classes = [SCRIPT, IMG]
logreg = LogisticRegression(max_iter=1000).fit(X, y)'''

BARS = '''bars = nbx.FeatureBars(logreg.coef_[0] * X[0], feature_names=names, title=IMG)
bars'''

HEATMAP = '''hm = nbx.Heatmap(np.outer(np.linspace(-1, 1, 8), np.linspace(0.5, 1, 8)).astype(np.float32), title=SCRIPT)
hm'''

TOKENS = '''tokens = nbx.TextTokens([IMG, "was", SCRIPT, "fine"], values=np.array([0.6, -0.1, -0.8, 0.3]), title=IMG)
tokens'''

IG_PATH = '''torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
opt = torch.optim.Adam(mlp.parameters(), lr=1e-2)
Xt = torch.tensor(X)
for _ in range(40):
    opt.zero_grad()
    nn.functional.cross_entropy(mlp(Xt), torch.tensor(y)).backward()
    opt.step()
mlp.eval()
path = nbx.IGPathView(mlp, Xt[0], baseline="mean", data=Xt, steps=8, n_alphas=9, convergence=False,
                      feature_names=names, class_names=classes, target=1, title=SCRIPT)
path'''

LIME = '''lime = nbx.LimeNeighbourhoodView(logreg.predict_proba, X[0], X, feature_names=names, class_names=classes,
                                 num_samples=300, n_seeds=3)
lime'''

NOTEBOOKS: dict[str, list[str]] = {"export_hostile.ipynb": [SETUP, BARS, HEATMAP, TOKENS, IG_PATH, LIME]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
