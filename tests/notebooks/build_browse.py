"""Writes ``sample_browser.ipynb`` (the SampleBrowser browser test's notebook) from the sources below.

Rerun ``python tests/notebooks/build_browse.py`` after editing; the notebook stays unexecuted.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

# 100,000 rows of a table with a NaN every 500 rows; probabilities from a numpy softmax of a
# random linear map; labels agree with the prediction 80% of the time. Two class names and one
# feature name are markup that must show as literal text.
TABLE = '''import numpy as np

from nbexplain.widgets.explore.sample_browser import SampleBrowser

rng = np.random.default_rng(0)
n, F, K = 100_000, 8, 4
X = rng.normal(size=(n, F)).astype(np.float32)
X[::500, 3] = np.nan
logits = np.nan_to_num(X) @ rng.normal(size=(F, K)) * 1.5
P = np.exp(logits - logits.max(1, keepdims=True))
P /= P.sum(1, keepdims=True)
y = np.where(rng.random(n) < 0.8, P.argmax(1), rng.integers(0, K, n))
class_names = ["cat", '<img src=x onerror="window.__nbx_pwned=1">', "dog", "<b>bird</b>"]
feature_names = [f"f{i}" for i in range(F)]
feature_names[0] = "<script>window.__nbx_pwned=1</script>"
b = SampleBrowser(P, y, X=X, feature_names=feature_names, class_names=class_names, page_size=15)
b'''

TEXT = '''texts = [
    "A good film with a great cast", "Bad acting and a dull plot", "GOOD enough for a rainy day",
    "Fine, nothing special", "The worst film of the year", "Surprisingly good ending",
    "Terrible sound, bad camera", "I loved it", "Not good, not bad", "Boring",
]
Pt = np.array([[0.2, 0.8], [0.9, 0.1], [0.4, 0.6], [0.5, 0.5], [0.95, 0.05],
               [0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.7, 0.3]])
yt = [1, 0, 1, 1, 0, 1, 0, 1, 0, 0]
tb = SampleBrowser(Pt, yt, texts=texts, class_names=["negative", "positive"], page_size=5)
tb'''


NOTEBOOKS: dict[str, list[str]] = {"sample_browser.ipynb": [TABLE, TEXT]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
