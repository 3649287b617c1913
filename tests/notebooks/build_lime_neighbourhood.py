"""Writes ``lime_neighbourhood.ipynb``: LimeNeighbourhoodView on a table, an image and a document.

The table is breast cancer with a scaled logistic regression (two feature names and a class name
are script-injection payloads that must stay text), explained with 2,000 samples and 20 seeds;
the image is an 8x8 digit upscaled to 24x24 RGB, cut into its pixel blocks by slic, hidden in
black; the document is a review classified by a bag-of-words logistic regression trained on
``nbexplain.datasets.load_reviews``. The browser test (``tests/browser/teaching/test_lime_neighbourhood_browser.py``)
checks that the scatter draws at notebook width with its points, that the kernel-width slider
refits (the R² text and the coefficient bars change), that the image strip draws pixels, the text
samples, the dark theme, and that no console errors occur.

The notebook is checked in; edit the sources here and rerun
``.venv/bin/python tests/notebooks/build_lime_neighbourhood.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import json

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbexplain as nbx
from nbexplain.datasets import load_reviews

bc = load_breast_cancer()
X = bc.data
names = [str(n) for n in bc.feature_names]
names[0] = '<img src=x onerror="window.__nbx_pwned=1">'
names[1] = "<script>window.__nbx_pwned=1</script>"
classes = ["<b>malignant</b>", "benign"]
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, bc.target)
# the row nearest the decision boundary: the explanation moves visibly with the kernel width
row = int(np.argmin(np.abs(model.predict_proba(X)[:, 1] - 0.6)))'''

TABLE = '''view = nbx.LimeNeighbourhoodView(model, X[row], X, feature_names=names, class_names=classes, num_samples=2000,
                                 n_seeds=20)
view'''

IMAGE = '''digits = load_digits()
clf = LogisticRegression(max_iter=500).fit(digits.data[:1000] / 16.0, digits.target[:1000])
rgb = np.repeat(np.kron(digits.images / 16.0, np.ones((3, 3)))[..., None], 3, axis=-1)


def predict_digits(batch):
    """Channels-last RGB batches (n, 24, 24, 3) -> P(digit), the red channel pooled back to 8x8."""
    red = np.asarray(batch)[..., 0]
    return clf.predict_proba(red.reshape(len(red), 8, 3, 8, 3).mean((2, 4)).reshape(len(red), -1))


image_view = nbx.LimeNeighbourhoodView.for_image(predict_digits, rgb[1005], segmentation="slic", hide_color=0.0,
                                                 num_samples=300, n_seeds=5, strip=16,
                                                 class_names=[str(d) for d in range(10)])
image_view'''

TEXT = r'''texts, labels, review_classes = load_reviews()
reviews = make_pipeline(CountVectorizer(), LogisticRegression(max_iter=1000)).fit(texts, labels)
text_view = nbx.LimeNeighbourhoodView.for_text(reviews.predict_proba, "A <b>wonderful</b> cast, but the plot was dull.",
                                               class_names=review_classes, num_samples=300, n_seeds=5, strip=4,
                                               split_expression=r"\s+")
text_view'''

NOTEBOOKS = {"lime_neighbourhood.ipynb": [SETUP, TABLE, IMAGE, TEXT]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
