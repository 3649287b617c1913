"""Writes the test notebooks in this folder from the cell sources below.

The notebooks are checked in; edit the sources here (or in the ``build_*.py`` beside it, which
use :func:`write_notebooks`) and rerun ``python tests/notebooks/build_notebooks.py``: it writes
every test notebook, unexecuted and tidy.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

SMOKE = '''import anywidget
import traitlets


class W(anywidget.AnyWidget):
    _esm = "export default { render({ model, el }) { el.classList.add('smoke'); el.textContent = 'hello ' + model.get('n'); } }"
    n = traitlets.Int(3).tag(sync=True)


w = W()
w'''

# A known 16 x 16 signed map with one NaN cell over a known grey image; the browser test
# recomputes the expected canvas pixels from `values`, `image` and the settings below.
HEATMAP = '''import numpy as np

import nbexplain

rows, cols = np.mgrid[0:16, 0:16]
values = (np.sin(rows / 3.0) * np.cos(cols / 4.0) * (1.0 + rows / 8.0)).astype(np.float32)
values[5, 7] = np.nan
image = ((rows * 13 + cols * 7) % 256).astype(np.uint8)
hm = nbexplain.Heatmap(
    values,
    image=image,
    cmap="RdBu_r",
    opacity=0.5,
    clip_percentile=100.0,
    precision="float32",
    width=320,
    title="known 16x16 map",
)
hm'''

# A tiny logistic regression on 8 breast-cancer features; two feature names are script
# injection payloads that must show as literal text.
FEATURE_BARS_MODEL = '''import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbexplain

data = load_breast_cancer()
X = data.data[:, :8].astype(np.float32)
y = data.target
names = [str(n) for n in data.feature_names[:8]]
names[6] = '<img src=x onerror="window.__nbx_pwned=1">'
names[7] = "<script>window.__nbx_pwned=1</script>"
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
# The sample closest to the decision boundary, so a slider visibly moves the prediction.
i = int(np.argmin(np.abs(model.predict_proba(X)[:, 0] - 0.5)))'''

FEATURE_BARS_WIDGET = '''w = nbexplain.FeatureBars.what_if(
    model,
    X[i],
    data=X[:60],
    explainer="shap",
    feature_names=names,
    class_names=[str(c) for c in data.target_names],
    title="what if",
)
w'''

# Digits with a tiny CNN (images) and breast cancer with a logistic regression (a table).
EXPLORER_MODELS = '''import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbexplain

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
    loss = torch.nn.functional.cross_entropy(cnn(Xd[:800]), yd[:800])
    loss.backward()
    opt.step()
cnn.eval()

bc = load_breast_cancer()
Xb = bc.data.astype(np.float32)
lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(Xb, bc.target)'''

EXPLORER_IMAGES = '''images = nbexplain.SampleExplorer(
    cnn,
    Xd[:20],
    yd[:20].numpy(),
    class_names=[str(i) for i in range(10)],
    method="saliency",
)
images'''

EXPLORER_TABLE = '''table = nbexplain.SampleExplorer(
    lr,
    Xb[:20],
    bc.target[:20],
    feature_names=[str(n) for n in bc.feature_names],
    class_names=[str(c) for c in bc.target_names],
    background=Xb[:100],
    method="shap",
)
table'''

NOTEBOOKS: dict[str, list[str]] = {
    "smoke_anywidget.ipynb": [SMOKE],
    "heatmap.ipynb": [HEATMAP],
    "feature_bars_whatif.ipynb": [FEATURE_BARS_MODEL, FEATURE_BARS_WIDGET],
    "sample_explorer.ipynb": [EXPLORER_MODELS, EXPLORER_IMAGES, EXPLORER_TABLE],
}


def write_notebooks(notebooks: dict[str, list[str]]) -> None:
    """Write each ``{file name: [cell source, ...]}`` here as an unexecuted notebook with stable cell ids."""
    for name, cells in notebooks.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        for i, cell in enumerate(nb.cells):
            cell.id = f"cell-{i}"
        nbformat.write(nb, HERE / name)


#: The other builders in this folder, each with its own NOTEBOOKS; ``main`` writes them all.
BUILDERS = ("build_anatomy", "build_anatomy_views", "build_browse", "build_canvas", "build_compare", "build_dashboard",
            "build_dashboard_use", "build_error_bars",
            "build_export_hostile", "build_global", "build_global_layout",
            "build_gradcam_layers", "build_ig_path",
            "build_keras", "build_lime_neighbourhood",
            "build_pipeline_dashboard", "build_shapley", "build_text", "build_transformers", "build_trust", "build_views_polish",
            "build_vision")


def main() -> None:
    import importlib

    write_notebooks(NOTEBOOKS)
    for module in BUILDERS:
        write_notebooks(importlib.import_module(module).NOTEBOOKS)


if __name__ == "__main__":
    main()
