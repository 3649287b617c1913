"""Writes ``dashboard_use.ipynb`` (tests/browser/dashboard/test_dashboard_use_browser.py), unexecuted.

A breast-cancer Dashboard used the way a person uses it for a while: methods added and removed,
samples clicked through, a word dropped from a review. One method is made deliberately slow
(``slow()`` wraps an explainer with a sleep) so the test can look at the panels while it computes.
Run ``.venv/bin/python tests/notebooks/build_dashboard_use.py`` after editing the sources below.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import json
import time
import ipywidgets
import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_breast_cancer
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
    return model.eval()


class Slow:
    """An explainer that sleeps before it explains (a stand-in for a method that takes seconds)."""

    def __init__(self, inner, seconds):
        self.inner, self.seconds = inner, seconds

    def explain(self, *args, **kwargs):
        time.sleep(self.seconds)
        return self.inner.explain(*args, **kwargs)


def slow(dash, method, seconds):
    """Make ``method`` of ``dash`` take ``seconds`` longer per sample."""
    s = dash.session
    s._explainers[method] = Slow(s.explainer(method), seconds)


def live_widgets():
    return len(ipywidgets.Widget.widgets)'''

TABLE = '''cancer = load_breast_cancer()
X = cancer.data[:, :12].astype(np.float32)
names = list(cancer.feature_names[:12])
X_train, X_test, y_train, y_test = train_test_split(X, cancer.target, test_size=0.3, random_state=0,
                                                    stratify=cancer.target)
mean, std = X_train.mean(0), X_train.std(0) + 1e-6
net = fit(nn.Sequential(nn.Linear(12, 24), nn.ReLU(), nn.Linear(24, 2)), (X_train - mean) / std, y_train)


def model(A):
    with torch.no_grad():
        return torch.softmax(net(torch.as_tensor((np.asarray(A, np.float32) - mean) / std)), 1).numpy()


dash = nbx.Dashboard(model, X_test, y_test, feature_names=names, class_names=["malignant", "benign"],
                     X_train=X_train, y_train=y_train, methods=["kernel_shap", "lime_batched"], index=0)
slow(dash, "lime", 2.5)
dash.wait()
dash'''

TEXT = '''from nbexplain.datasets import load_reviews
from nbexplain.text import train_text_classifier

texts, labels, label_names = load_reviews()
order = np.random.default_rng(0).permutation(len(texts))
train, test = order[: int(0.75 * len(texts))], order[int(0.75 * len(texts)):]
clf = train_text_classifier([texts[i] for i in train], labels[train], class_names=label_names, seed=0)
reviews = nbx.Dashboard(clf, [texts[i] for i in test], labels[test], class_names=label_names, index=0)
reviews.wait()
reviews'''

NOTEBOOKS: dict[str, list[str]] = {"dashboard_use.ipynb": [SETUP, TABLE, TEXT]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
