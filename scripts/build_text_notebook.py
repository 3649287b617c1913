"""Writes notebooks/text_transformers.ipynb (a transformers classifier explained in words) from the cells below.

Run ``.venv/bin/python scripts/build_text_notebook.py`` after editing; the notebook is checked in
unexecuted. It runs offline on a laptop CPU in well under a minute: the model is a tiny BERT built
from a config and trained here on the reviews that ship with nbexplain.
"""

from __future__ import annotations

import nbformat
from build_demo_notebooks import ROOT, build

CELLS: list[tuple[str, str]] = [
    ("md", """# A transformers classifier, explained in words

`nbx.TextExplainer(model, tokenizer)` takes any Hugging Face sequence classifier and its
tokenizer. It explains the **words** of a text (the word pieces a tokenizer makes, such as
`wonder ##ful ##ly`, are summed into the word you wrote; hover a word to see its pieces) with two
families of methods on the same words:

- **gradient methods on the token embeddings**, found automatically: Integrated Gradients (from a
  baseline where every word piece is `[PAD]`; the special tokens stay, so they get nothing) and
  Gradient x Input;
- **model-agnostic methods through the tokenizer**: token SHAP (exact Shapley values of the words
  up to 12 words), leave-one-out occlusion and LIME.

Nothing is downloaded: the model here is a tiny BERT built from a `BertConfig` and trained for a
few seconds on short movie reviews, with a WordPiece vocabulary learnt from them. Your own model
from the hub works the same way (`AutoModelForSequenceClassification.from_pretrained(...)`)."""),
    ("code", """import nbexplain as nbx
from nbexplain.datasets import reviews_split
from nbexplain.text.tiny_transformer import train_tiny_bert

train_texts, train_labels, test_texts, test_labels = reviews_split()
model, tokenizer = train_tiny_bert(train_texts, train_labels, class_names=["negative", "positive"])
te = nbx.TextExplainer(model, tokenizer)
probs = te.predict_proba(test_texts)
print(f"test accuracy {(probs.argmax(1) == test_labels).mean():.2f}")"""),
    ("md", """## One review, two families

Integrated Gradients answers "how much did each word's embedding move the probability of the
predicted class, on the way from an all-`[PAD]` text"; its scores add up to that change (the
completeness error is in `diagnostics["delta"]`). Token SHAP answers "how much does the word
change the probability when it is dropped, averaged over every subset of the other words"; its
scores add up to P(text) minus P(empty text). The agreement line says how much they agree."""),
    ("code", """review = "Unforgettable acting, wonderfully moving."
te.compare(review, ["integrated_gradients", "token_shap"])"""),
    ("code", """e = te.explain(review, method="integrated_gradients")
print(e.feature_names)
print(e.diagnostics["pieces"])
print(f"sum {e.values.sum():.3f} = P(text) {float(e.outputs):.3f} - P(all [PAD]) {float(e.base_values):.3f}"
      f" + error {e.diagnostics['delta']:.1e} ({e.diagnostics['steps']} steps)")"""),
    ("md", """## Inside the model: attention

The attention view shows where each token looks in each layer and head (or the mean of the heads),
and **attention rollout**, which multiplies the layers' attention (with the residual connection)
to follow how much each input token flows into each position. Pick a layer and a head, hover a
token, or switch to the matrix drawing. Attention is not an explanation of the prediction by
itself; compare it with the attributions above."""),
    ("code", """nbx.AttentionView.from_text(te, review)"""),
    ("md", """## The Dashboard

Give the Dashboard the model and its tokenizer: the explorer, the filters, a click on a word to
drop it (the prediction and both explanations follow), the global word importance and the
errors, on the test reviews."""),
    ("code", """nbx.Dashboard(model, test_texts, test_labels, tokenizer=tokenizer)"""),
    ("md", """### Try it

1. Drop the word with the largest attribution in the Dashboard. Does the prediction change as much
   as its score said?
2. `te.explain(review, method="integrated_gradients", baseline="mask")` uses `[MASK]` instead of
   `[PAD]`. Do the scores change? Why might the baseline matter?"""),
]

if __name__ == "__main__":
    path = ROOT / "notebooks" / "text_transformers.ipynb"
    nbformat.write(build(CELLS), path)
    print(f"wrote {path.relative_to(ROOT)}")
