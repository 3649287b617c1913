"""Writes ``transformers.ipynb``: a tiny BERT classifier explained in words, its attention, its Dashboard.

The browser test tests/browser/models/test_transformers_browser.py opens it in JupyterLab. Edit the cell
sources here and rerun ``python tests/notebooks/build_transformers.py``; the notebook is checked in
unexecuted.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

# A tiny BERT trained for a few seconds on the shipped reviews, with a WordPiece vocabulary learnt
# here (small, so words split into pieces); Integrated Gradients beside token SHAP on one review.
COMPARE = '''import json

import numpy as np
import nbexplain as nbx
from nbexplain.datasets import reviews_split
from nbexplain.text.tiny_transformer import train_tiny_bert

train_texts, train_labels, test_texts, test_labels = reviews_split()
model, tokenizer = train_tiny_bert(train_texts, train_labels, class_names=["negative", "positive"], epochs=2)
te = nbx.TextExplainer(model, tokenizer)
review = "Unforgettable acting, wonderfully moving."
cv = te.compare(review, ["integrated_gradients", "token_shap"])
cv'''

# A text longer than the model reads: the view says it was cut.
TRUNCATED = '''short = nbx.TextExplainer(model, tokenizer, max_length=12)
long_review = " ".join(["the plot was moving and the acting wonderful"] * 3)
tokens = nbx.TextTokens.from_explanation(short.explain(long_review, method="gradient_x_input"))
tokens'''

ATTENTION = '''att = nbx.AttentionView.from_text(te, review)
att'''

DASHBOARD = '''dash = nbx.Dashboard(model, test_texts[:24], test_labels[:24], tokenizer=tokenizer)
dash'''

NOTEBOOKS: dict[str, list[str]] = {"transformers.ipynb": [COMPARE, TRUNCATED, ATTENTION, DASHBOARD]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
