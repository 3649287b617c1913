"""Writes ``anatomy.ipynb`` (the browser test of ModelAnatomy: graph, inspector, tabs).

The notebook is checked in; edit the sources here and rerun
``python tests/notebooks/build_anatomy.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import numpy as np
import torch
from sklearn.datasets import load_digits

from nbexplain.widgets.anatomy.view import ModelAnatomy
from tests.torch_models import small_cnn

torch.set_num_threads(1)
digits = load_digits()
X = torch.as_tensor(digits.images[:, None] / 16.0, dtype=torch.float32)
y = torch.as_tensor(digits.target)
model = small_cnn()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for _epoch in range(3):   # a few epochs: the maps and filters look like something
    for i in range(0, 1500, 100):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X[i:i + 100]), y[i:i + 100]).backward()
        opt.step()
model.eval()
batch, labels = X[1500:1506], y[1500:1506].numpy()'''

ANATOMY = '''anatomy = ModelAnatomy(model, batch, y=labels, class_names=[f"digit {d}" for d in range(10)])
insp = anatomy.inspector
anatomy'''

NOTEBOOKS = {"anatomy.ipynb": [SETUP, ANATOMY]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
