"""Writes ``global_layout.ipynb``: the Dashboard's chart tabs built the way the Dashboard builds them.

A ``LazyTab`` with the Global page (importance bars and a beeswarm in a ``ChartRow``, the PDP),
the Errors & bias page and the Surrogate page, filled while their tabs are closed; and a PDP of
an integer feature. The browser test (``tests/browser/dashboard/test_global_layout_browser.py``) checks
their geometry at notebook width and their colours in the dark theme.

The notebook is checked in; edit the sources here and rerun
``.venv/bin/python tests/notebooks/build_global_layout.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

# Breast cancer (30 features, "mean area" in the hundreds), a scaled logistic regression, and
# exact SHAP values of its log-odds (linear model: coef * standardised (x - mean)).
SETUP = '''import json

import ipywidgets
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nbexplain.diagnostics.bias import compare_splits, slice_metrics
from nbexplain.explainers.global_methods.partial_dependence import partial_dependence
from nbexplain.explainers.global_methods.surrogates import GlobalSurrogate
from nbexplain.widgets.views.beeswarm import Beeswarm
from nbexplain.widgets.overview import BiasView, ChartRow, ImportanceBars, LazyTab, PDPView, SurrogateView

cancer = load_breast_cancer()
X, names, classes = cancer.data, list(cancer.feature_names), ["malignant", "benign"]
X_train, X_test, y_train, y_test = train_test_split(X, cancer.target, test_size=0.3, random_state=0,
                                                    stratify=cancer.target)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
scaler, logistic = model[0], model[1]
values = logistic.coef_[0] * scaler.transform(X_test[:80])'''

TABS = '''explore = ipywidgets.VBox([ipywidgets.Label("the explorer")])
global_box = ipywidgets.VBox([ipywidgets.Label("open this tab to compute the global views")])
errors_box = ipywidgets.VBox([])
surrogate_box = ipywidgets.VBox([])
tabs = LazyTab(children=[explore, global_box, errors_box, surrogate_box])
for i, title in enumerate(["Explore", "Global", "Errors & bias", "Surrogate"]):
    tabs.set_title(i, title)
tabs'''

# Filled while the tabs are closed, as Dashboard.compute_global() does.
FILL = '''importance = ImportanceBars(values, names, title="mean |SHAP| of the log-odds of benign, on 80 test samples")
beeswarm = Beeswarm(values, feature_values=X_test[:80], feature_names=names)
pdp = PDPView(None, names, class_names=classes)
pdp.show(partial_dependence(model.predict_proba, X_test, 3, grid_resolution=15, target=1, sample=40,
                            feature_names=names))
pdp.highlight(0)
global_box.children = [ChartRow([importance, beeswarm]), pdp]
splits = compare_splits(model, {"train": (X_train, y_train), "test": (X_test, y_test)})
bias = BiasView(splits, slice_metrics(model, X_test, y_test, 3, bins=4, feature_names=names, categories=None),
                feature_names=names)
errors_box.children = [bias]
fit = GlobalSurrogate(model.predict_proba, kind="linear", target=1, feature_names=names).fit(X_test)
surrogate = SurrogateView(fit, names, class_names=classes, data=X_test)
surrogate_box.children = [surrogate]
print("filled")'''

# A feature with integer values (a count): its PDP axis gets integer ticks.
COUNTS = '''rng = np.random.default_rng(0)
Xc = np.c_[rng.integers(0, 4, 300), rng.normal(size=300)].astype(float)
count_model = lambda A: np.c_[1 / (1 + np.exp(A[:, 0] - 1.5)), 1 - 1 / (1 + np.exp(A[:, 0] - 1.5))]
counts = PDPView(partial_dependence(count_model, Xc, 0, target=1, sample=20, feature_names=["lymph nodes", "z"]),
                 ["lymph nodes", "z"], class_names=classes)
counts'''

NOTEBOOKS = {"global_layout.ipynb": [SETUP, TABS, FILL, COUNTS]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
