"""Writes ``global_views.ipynb`` (the browser test of the bqplot global views and the task bar).

The notebook is checked in; edit the sources here and rerun
``python tests/notebooks/build_global.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from pathlib import Path

from build_notebooks import write_notebooks

HERE = Path(__file__).resolve().parent

SETUP = '''import time

import ipywidgets
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from nbexplain.diagnostics.bias import compare_splits, slice_metrics
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explainers.global_methods.partial_dependence import partial_dependence
from nbexplain.explainers.global_methods.surrogates import GlobalSurrogate
from nbexplain.tasks import TaskRunner, explain_dataset
from nbexplain.widgets.overview import BiasView, ImportanceBars, PDPView, SurrogateView
from nbexplain.widgets.progress import TaskProgress

X, y = load_iris(return_X_y=True)
# The last name is markup: it must show as literal text.
names = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal <b>width</b> (cm)"]
model = LogisticRegression(max_iter=500).fit(X, y)
shap = KernelShap(model.predict_proba, X[::10], feature_names=names)
explanation = explain_dataset(shap, X[::3], target=2, batch_size=16)'''

IMPORTANCE = '''bars = ImportanceBars(explanation, title="mean |SHAP| of class virginica")
bars'''

PDP = '''def pdp_for(j):
    r = partial_dependence(model.predict_proba, X, j, grid_resolution=12, target=2, sample=40,
                           feature_names=names)
    pdp.update(r.grid[0], r.average, r.ice, names[j])
    pdp.highlight(0)


pdp = PDPView(None, names, on_feature=pdp_for, y_label="P(virginica)")
pdp_for(2)
pdp'''

TASKS = '''runner = TaskRunner()
progress = TaskProgress(runner, delay=0.2)
tasks = []


def long_task(control):
    for i in range(50):
        control.check()
        time.sleep(0.06)
        control.progress(i + 1, 50)
    return "finished"


start = ipywidgets.Button(description="start long task")
start.add_class("nbx-test-start")
start.on_click(lambda _b: tasks.append(runner.submit(long_task, label="long task")))
ipywidgets.VBox([start, progress])'''

SURROGATE = '''surrogate = SurrogateView(GlobalSurrogate(model, kind="logistic", feature_names=names).fit(X),
                          class_names=["setosa", "versicolor", "virginica"])
surrogate'''

BIAS = '''order = np.random.default_rng(0).permutation(len(X))
train, test = order[:100], order[100:]
splits = compare_splits(model, {"train": (X[train], y[train]), "test": (X[test], y[test])})


def slices_for(j):
    bias.update_slices(slice_metrics(model, X, y, j, bins=4, feature_names=names, categories=None))


bias = BiasView(splits, slice_metrics(model, X, y, 0, bins=4, feature_names=names, categories=None),
                feature_names=names, on_feature=slices_for)
bias'''

NOTEBOOKS = {"global_views.ipynb": [SETUP, IMPORTANCE, PDP, TASKS, SURROGATE, BIAS]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
