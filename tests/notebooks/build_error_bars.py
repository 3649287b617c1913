"""Writes ``error_bars.ipynb``: sampled explanations drawn with their error bars, for
``tests/browser/views/test_error_bars_browser.py``.

A 20-feature table, a model with a few higher-order interactions, KernelSHAP in its adaptive
sampled mode (standard errors per value) and LIME run with five seeds (its spread); one
FeatureBars from the explanation and a CompareView of both methods.

The notebook is checked in; edit the sources here and rerun
``python tests/notebooks/build_error_bars.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import numpy as np

import nbexplain as nbx
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explainers.perturbation.lime_batched import LimeTabularBatched
from nbexplain.widgets.explore.compare_view import CompareView

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 20))
names = [f"sensor {i}" for i in range(20)]
names[3] = "<img src=x onerror=\\"window.__nbx_pwned=1\\">"


def proba(A):
    z = 1.5 * A[:, 0] - A[:, 1] + 0.8 * A[:, 2] * A[:, 3] * A[:, 4] + 0.3 * A[:, 5:].sum(1)
    p = 1 / (1 + np.exp(-z))
    return np.c_[1 - p, p]


shap_e = KernelShap(proba, X[:8], feature_names=names, n_samples=600).explain(X[20:22], target=1)
lime_e = LimeTabularBatched(proba, X, feature_names=names, num_samples=300, n_seeds=5).explain(X[20:22], target=1)
bars = nbx.FeatureBars.from_explanation(shap_e[0], top_k=8, title="KernelSHAP, sampled")
bars'''

COMPARE = '''cv = CompareView(kind="table", top_k=6)
cv.show({"kernel_shap": shap_e[1], "lime, 5 seeds": lime_e[1]})
cv'''

NOTEBOOKS: dict[str, list[str]] = {"error_bars.ipynb": [SETUP, COMPARE]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
