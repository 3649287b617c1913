"""Writes ``trust.ipynb``: TrustView on planted-patch images, a table, badges in a CompareView, a slow model.

The images come from :func:`nbexplain.metrics.synthetic_images` (the class is decided by one
planted patch; a small CNN learns it in a few seconds), explained by Saliency, Integrated
Gradients, an edge detector that ignores the model (it must fail the sanity check) and random
noise. The browser test (``tests/browser/views/test_trust_browser.py``) checks that the curves draw at
notebook width, that the scrubber changes the masked picture's pixels, that a badge appears in
the CompareView after ``set_badges``, that a slow computation cancels, and the dark theme.

The notebook is checked in; edit the sources here and rerun
``.venv/bin/python tests/notebooks/build_trust.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import json
import time

import numpy as np
import torch
from torch.nn import functional as F

import nbexplain as nbx
from nbexplain.explanation import Explanation
from nbexplain.metrics import synthetic_images, synthetic_table, trust_report
from nbexplain.widgets.trust.badges import trust_badges

torch.set_num_threads(1)
s = synthetic_images(n=256, size=16, patch=4, seed=0, epochs=80)
X = s.X[-6:]
classes = ["dark patch", "bright patch"]


class EdgeDetector:
    """An explanation that ignores the model: the Sobel gradient magnitude of the input."""

    method = "edges"

    def explain(self, inputs, target=None):
        x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
        kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])[None, None]
        gx, gy = F.conv2d(x, kx, padding=1), F.conv2d(x, kx.transpose(-1, -2), padding=1)
        return Explanation(torch.sqrt(gx ** 2 + gy ** 2).numpy(), data=x.numpy(), method=self.method,
                           target=None if target is None else np.asarray(target))


explanations = {
    "saliency": nbx.Saliency(s.model).explain(X),
    "integrated_gradients": nbx.IntegratedGradients(s.model).explain(X),
    "edges": EdgeDetector().explain(X),
    "random": np.random.default_rng(0).standard_normal(X.shape).astype(np.float32),
}
sanity = {"saliency": "saliency", "integrated_gradients": "integrated_gradients", "edges": lambda m: EdgeDetector()}
report = trust_report(s.model, X, explanations, sanity_methods=sanity, baseline=0.0, patch_size=2, steps=32)
print(report)'''

VIEW = '''view = nbx.TrustView.from_report(report, class_names=classes)
view'''

COMPARE = '''cv = nbx.CompareView(kind="image")
cv.show({m: e[0] for m, e in explanations.items() if m != "random"})
cv'''

TABLE = '''t = synthetic_table(n=256, seed=0)
rows = t.X[200:208]
table_explanations = {"integrated_gradients": nbx.IntegratedGradients(t.model).explain(rows),
                      "random": np.random.default_rng(1).standard_normal(rows.shape)}
table_view = nbx.TrustView(t.model, rows, table_explanations, background=t.background, compute=True,
                           class_names=["no", "yes"], feature_names=t.feature_names,
                           title="A table: which features matter?")
table_view.wait()
table_view'''


SLOW = '''class Slow(torch.nn.Module):
    """The patch CNN, 20 ms per row: a report takes long enough to cancel."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        time.sleep(0.02 * len(x))
        return self.inner(x)


slow_view = nbx.TrustView(Slow(s.model), X, explanations, metrics=("deletion", "insertion"), baseline=0.0,
                          batch_size=8, class_names=classes, title="A slow model")
slow_view'''

NOTEBOOKS = {"trust.ipynb": [SETUP, VIEW, COMPARE, TABLE, SLOW]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
