"""Writes the text-tokens test notebook (``text_tokens.ipynb``) from the cell sources below.

The notebook is checked in; edit the sources here and rerun
``python tests/notebooks/build_text.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from pathlib import Path

from build_notebooks import write_notebooks

HERE = Path(__file__).resolve().parent

# The shipped review corpus, the small torch classifier, and a token-SHAP what-if widget.
WHATIF = '''from nbexplain.datasets import reviews_split
from nbexplain.text import train_text_classifier
from nbexplain.widgets.views.text_tokens import TextTokens

train_texts, train_labels, test_texts, test_labels = reviews_split()
clf = train_text_classifier(train_texts, train_labels, class_names=["negative", "positive"], seed=0)
review = "Saw it last night. The ending was wonderful."
w = TextTokens.what_if(clf, review, title="token SHAP what-if")
w'''

# Tokens, a title and a label that look like markup must show as literal text.
MARKUP = '''markup = TextTokens(
    ["safe", "<img src=x onerror=\\"window.__nbxTokenXss = 1\\">", "<b>bold</b>", "."],
    [0.3, -1.0, 0.6, 0.0],
    title="<i>markup</i> stays text",
    prediction=0.5,
    prediction_label="<script>window.__nbxTokenXss = 2</script>",
)
markup'''

NOTEBOOKS: dict[str, list[str]] = {"text_tokens.ipynb": [WHATIF, MARKUP]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
