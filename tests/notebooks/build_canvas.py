"""Writes the canvas-views test notebook (Beeswarm and ConfusionMatrix) in this folder.

The notebook is checked in; edit the sources here and rerun
``python tests/notebooks/build_canvas.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from pathlib import Path

from build_notebooks import write_notebooks

HERE = Path(__file__).resolve().parent

# 10,000 samples x 20 features of a known linear model: attribution = coef * x, so for a positive
# coefficient the right end of a row is red (high x) and the left end blue; for a negative one the
# reverse. coef[3] is the largest (top row, positive), coef[7] the second (negative). Feature 5
# has NaN values (grey dots). Row k of the data is sample 1000 + k of the data set.
BEESWARM = '''import numpy as np

from nbexplain.widgets.views.beeswarm import Beeswarm

rng = np.random.default_rng(7)
N, F = 10_000, 20
X = rng.normal(size=(N, F))
coef = np.linspace(0.2, 1.0, F) * np.where(np.arange(F) % 2 == 0, 1.0, -1.0)
coef[3], coef[7] = 3.0, -2.5
attr = X * coef
X[::50, 5] = np.nan
names = [f"f{j}" for j in range(F)]
names[3] = "<b>top</b> feature"
bw = Beeswarm(attr, feature_values=X, feature_names=names, sample_indices=np.arange(N) + 1000, title="beeswarm 10k x 20")
bw_events = []
bw.on_event("select", bw_events.append)
bw'''

CONFUSION = '''from nbexplain.widgets.views.confusion_matrix import ConfusionMatrix

y_true = [0] * 50 + [1] * 30 + [2] * 20
y_pred = [0] * 45 + [1] * 3 + [2] * 2 + [1] * 24 + [0] * 6 + [2] * 17 + [1] * 3
cm = ConfusionMatrix.from_predictions(y_true, y_pred, ["cat", "<img src=x onerror=alert(1)>", "bird"], title="confusion")
cm_events = []
cm.on_event("select", cm_events.append)
cm'''

NOTEBOOKS: dict[str, list[str]] = {"beeswarm_confusion.ipynb": [BEESWARM, CONFUSION]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
