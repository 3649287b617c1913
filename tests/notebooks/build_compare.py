"""Writes ``compare_whatif.ipynb`` (the CompareView / what-if browser test's notebook).

Edit the cell sources here and rerun ``python tests/notebooks/build_compare.py``; the notebook
is checked in unexecuted.
"""

from __future__ import annotations

from pathlib import Path

from build_notebooks import write_notebooks

HERE = Path(__file__).resolve().parent

# scikit-learn digits (8 x 8) and a tiny CNN trained for a few seconds.
MODELS = '''import ipywidgets
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from nbexplain.diagnostics.agreement import agreement
from nbexplain.explainers import get_explainer
from nbexplain.perturb import PatchMask
from nbexplain.widgets.explore.compare_view import CompareView

torch.manual_seed(0)
digits = load_digits()
Xd = torch.tensor(digits.images[:, None] / 16.0, dtype=torch.float32)
yd = torch.tensor(digits.target)
cnn = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1),
    torch.nn.ReLU(),
    torch.nn.Flatten(),
    torch.nn.Linear(8 * 8 * 8, 10),
)
opt = torch.optim.Adam(cnn.parameters(), lr=1e-2)
for _ in range(60):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(cnn(Xd[:800]), yd[:800]).backward()
    opt.step()
cnn.eval()'''

# Image what-if: a click on any heatmap toggles the 2 x 2 patch under it (PatchMask), the
# occluded digit is re-predicted and every method re-explains it (same target class).
IMAGES = '''methods = ["saliency", "gradient_x_input", "integrated_gradients"]
x0 = Xd[3:4]
mask = PatchMask(x0.shape, patch=2)
target = int(cnn(x0).argmax())
image_cv = CompareView(kind="image", k=5, width=180)
image_pred = ipywidgets.Label()
image_pred.add_class("nbx-test-image-pred")
image_state = {"clicks": 0, "p": None, "x": None}


def explain_image():
    xe = torch.tensor(mask.apply(x0, fill=0.0), dtype=torch.float32)
    with torch.no_grad():
        p = float(torch.softmax(cnn(xe), 1)[0, target])
    results = {}
    for m in methods:
        try:
            results[m] = get_explainer(m, cnn).explain(xe, target=np.array([target]))[0]
        except Exception as exc:  # shown in that method's view
            results[m] = exc
    image_cv.show(results, image=xe[0, 0].numpy())
    image_state.update(p=p, x=xe.numpy())
    image_pred.value = f"P({target}) = {p:.4f}, occluded patches: {int(mask.mask.sum())}"


def on_image_click(msg):
    mask.toggle_at(msg["row"], msg["col"])
    explain_image()
    image_state["clicks"] += 1  # last: a test that polls for it then sees the finished state


image_cv.on_new_view(lambda name, w: w.on_event("click", on_image_click))
explain_image()
ipywidgets.VBox([image_pred, image_cv])'''

# Table what-if: "region" is categorical (a choice box); choosing a region re-predicts and
# re-explains the row with every method.
TABLE = '''rng = np.random.default_rng(0)
n = 400
income = rng.normal(50, 15, n)
age = rng.uniform(20, 70, n)
region = rng.integers(0, 3, n).astype(float)
logit = 0.04 * (income - 50) + 2.5 * (region == 2) - 2.0 * (region == 0) + 0.01 * (age - 45)
yt = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
Xt = np.c_[income, age, region].astype(np.float32)
clf = LogisticRegression(max_iter=1000).fit(Xt, yt)
names = ["income", "age", "region"]
regions = [{"value": 0.0, "label": "north"}, {"value": 1.0, "label": "south"},
           {"value": 2.0, "label": "<img src=x onerror=\\"window.__nbx_pwned=1\\">east"}]
categories = [None, None, regions]
row = Xt[int(np.flatnonzero(Xt[:, 2] == 0)[0])].copy()  # a "north" row
table_cv = CompareView(kind="table", k=2, top_k=3)
table_state = {"busy": False, "p": None, "x": None}
lo, hi = Xt.min(0), Xt.max(0)


def explain_row(x):
    x = np.asarray(x, np.float32)
    p = float(clf.predict_proba(x[None])[0, 1])
    results = {}
    for m in ("kernel_shap", "lime_batched"):
        try:
            results[m] = get_explainer(m, clf, data=Xt[:50]).explain(x[None], target=np.array([1]))[0]
        except Exception as exc:
            results[m] = exc
    table_state["busy"] = True
    try:
        table_cv.show(results, feature_values=x, feature_names=names)
        for w in table_cv.views.values():
            w.update(whatif=True, categories=categories, sample=x, slider_min=lo, slider_max=hi,
                     slider_step=(hi - lo) / 100, prediction=p, prediction_label="P(yes)")
    finally:
        table_state["busy"] = False
    table_state.update(p=p, x=x)


def on_sample(change):
    if not table_state["busy"] and change["new"] is not None:
        explain_row(change["new"])


table_cv.on_new_view(lambda name, w: w.observe(on_sample, names=["sample"]))
explain_row(row)
table_cv'''

NOTEBOOKS: dict[str, list[str]] = {"compare_whatif.ipynb": [MODELS, IMAGES, TABLE]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
