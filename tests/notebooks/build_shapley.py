"""Writes ``shapley.ipynb``: ShapleyView on a small grouped lattice (4 players, one hostile group name),
the full 10-feature lattice of the diabetes data (1024 coalitions), and KernelSHAP's convergence on
12 breast-cancer features (above 10: the convergence chart with its error bands and exact values).

The browser test (``tests/browser/teaching/test_shapley_browser.py``) checks the lattice's geometry, the
clicks on a coalition and a feature reaching Python and back, the efficiency waterfall's sum, the
convergence chart's bands, names as text, and light and dark screenshots.

The notebook is checked in; edit the sources here and rerun
``.venv/bin/python tests/notebooks/build_shapley.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes
from torch import nn

import nbexplain as nbx

torch.manual_seed(0)
diabetes = load_diabetes()
Xd = ((diabetes.data - diabetes.data.mean(0)) / diabetes.data.std(0)).astype(np.float32)
yd = ((diabetes.target - diabetes.target.mean()) / diabetes.target.std()).astype(np.float32)
reg = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.Adam(reg.parameters(), lr=1e-2)
for _ in range(150):
    opt.zero_grad()
    nn.functional.mse_loss(reg(torch.tensor(Xd))[:, 0], torch.tensor(yd)).backward()
    opt.step()
reg.eval()
names = [str(n) for n in diabetes.feature_names]'''

SMALL = '''groups = {"age, sex": ["age", "sex"], "<img src=x onerror=\\"window.__nbx_pwned=1\\">body": ["bmi", "bp"],
          "serum 1-3": ["s1", "s2", "s3"], "<script>window.__nbx_pwned=1</script>serum 4-6": ["s4", "s5", "s6"]}
small = nbx.ShapleyView(reg, Xd[7], Xd[:16], feature_names=names, groups=groups, title="four groups")
small'''

FULL = '''full = nbx.ShapleyView(reg, Xd[7], Xd[:8], feature_names=names, title="ten features")
full'''

WIDE = '''cancer = load_breast_cancer()
Xc = ((cancer.data - cancer.data.mean(0)) / cancer.data.std(0)).astype(np.float32)[:, :12]
torch.manual_seed(1)
clf = nn.Sequential(nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 2))
opt = torch.optim.Adam(clf.parameters(), lr=1e-2)
for _ in range(80):
    opt.zero_grad()
    nn.functional.cross_entropy(clf(torch.tensor(Xc)), torch.tensor(cancer.target)).backward()
    opt.step()
clf.eval()
wide = nbx.ShapleyView(clf, Xc[0], Xc[:8], feature_names=[str(n) for n in cancer.feature_names[:12]],
                       class_names=["malignant", "benign"], target=1, title="twelve features")
wide'''

NOTEBOOKS: dict[str, list[str]] = {"shapley.ipynb": [SETUP, SMALL, FULL, WIDE]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
