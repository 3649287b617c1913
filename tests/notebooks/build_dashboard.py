"""Writes the Dashboard test notebooks in this folder (dashboard_*.ipynb), unexecuted.

Run ``.venv/bin/python tests/notebooks/build_dashboard.py`` after editing the sources below.
The browser tests in tests/browser/dashboard/test_dashboard_browser.py open them in JupyterLab.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import json
import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
import nbexplain as nbx

torch.manual_seed(0)


def fit(model, X, y, epochs=150, lr=1e-2):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(epochs):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    return model.eval()'''

# A 12-feature table. The model is a plain function around an MLP that raises for one sample
# (feature 0 == -1, a "sensor fault"); one row has a NaN; one feature name is markup.
TABLE = '''cancer = load_breast_cancer()
X = cancer.data[:, :12].astype(np.float32)
names = list(cancer.feature_names[:12])
names[11] = '<img src=x onerror="window.__nbx_pwned=1">'
X_train, X_test, y_train, y_test = train_test_split(X, cancer.target, test_size=0.3, random_state=0,
                                                    stratify=cancer.target)
mean, std = X_train.mean(0), X_train.std(0) + 1e-6
net = fit(nn.Sequential(nn.Linear(12, 24), nn.ReLU(), nn.Linear(24, 2)), (X_train - mean) / std, y_train)


def model(A):
    A = np.asarray(A, dtype=np.float32)
    if np.any(A[:, 0] == -1):
        raise ValueError("sensor fault in mean radius")
    with torch.no_grad():
        return torch.softmax(net(torch.as_tensor((A - mean) / std)), 1).numpy()


X_test = X_test.copy()
X_test[3, 0] = -1          # the model raises for sample 3
X_test[5, 2] = np.nan      # sample 5 has a missing value
table = nbx.Dashboard(model, X_test, y_test, feature_names=names, class_names=["malignant", "benign"],
                      X_train=X_train, y_train=y_train, methods=["kernel_shap", "lime_batched"], index=0)
table.wait()
table'''

IMAGES = '''digits = load_digits()
Xd = (digits.images / 16.0).astype(np.float32)[:, None]
Xd_train, Xd_test, yd_train, yd_test = train_test_split(Xd, digits.target, test_size=0.25, random_state=0)
cnn = fit(nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(8 * 4 * 4, 10)), Xd_train, yd_train)
images = nbx.Dashboard(cnn, Xd_test[:200], yd_test[:200], class_names=[str(d) for d in range(10)], patch=2,
                       methods=["saliency", "integrated_gradients"], index=0)
images.wait()
images'''

TEXT = '''from nbexplain.datasets import load_reviews
from nbexplain.text import train_text_classifier

texts, labels, label_names = load_reviews()
order = np.random.default_rng(0).permutation(len(texts))
train, test = order[: int(0.75 * len(texts))], order[int(0.75 * len(texts)):]
clf = train_text_classifier([texts[i] for i in train], labels[train], class_names=label_names, seed=0)
reviews = nbx.Dashboard(clf, [texts[i] for i in test], labels[test], class_names=label_names, index=0)
reviews.wait()
reviews'''

# 100,000 rows: filters and paging; a slow global computation to cancel.
BIG = '''rng = np.random.default_rng(0)
Xb = rng.normal(size=(100_000, 12)).astype(np.float32)
w = rng.normal(size=12).astype(np.float32)
yb = ((Xb @ w + rng.normal(scale=1.0, size=100_000)) > 0).astype(np.int64)
lin = nn.Linear(12, 2)
with torch.no_grad():
    lin.weight[:] = torch.as_tensor(np.stack([-w / 2, w / 2]))
    lin.bias.zero_()
big = nbx.Dashboard(lin, Xb, yb, methods=["kernel_shap"], global_samples=100_000, page_size=10, index=0)
big.wait()
big'''


NOTEBOOKS: dict[str, list[str]] = {
    "dashboard_table.ipynb": [SETUP, TABLE, BIG],
    "dashboard_media.ipynb": [SETUP, IMAGES, TEXT],
}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
