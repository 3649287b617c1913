"""Writes notebooks/text.ipynb (token attributions: exact token Shapley values against leave-one-out).

Run ``.venv/bin/python scripts/build_text_attributions_notebook.py`` after editing; the notebook is
checked in unexecuted. It runs offline on a laptop CPU in well under a minute: the classifier is
``nbexplain.text.train_text_classifier`` trained here in about a second on the reviews that ship
with nbexplain. (``build_text_notebook.py`` writes the transformers notebook.)
"""

from __future__ import annotations

import nbformat
from build_demo_notebooks import ROOT, build

CELLS: list[tuple[str, str]] = [
    ("md", """# Text: which words made the prediction?

A token attribution gives each word of a text a number: how much it pushed the prediction. Here
we compare two ways of computing it on a sentiment classifier, and find out why they disagree:

- **leave-one-out** (`nbx.TokenOcclusion`): drop one word from the text and see how far the
  predicted probability falls. Simple, `n + 1` model calls, and it answers a real what-if;
- **exact token Shapley values** (`nbx.TokenShap`): drop every *subset* of the words (all `2^n`
  of them) and give each word its average marginal contribution. Their sum is exactly
  `P(text) - P(empty text)` (*efficiency*).

A word is *dropped* by removing it from the text, so the empty text is the reference both
methods start from. The model is a small bag-of-embeddings classifier
(`nbexplain.text.train_text_classifier`) trained here in about a second on 640 short movie
reviews that ship with nbexplain. Everything runs offline on a CPU in a few seconds."""),
    ("code", """import numpy as np
import pandas as pd
import ipywidgets as W

import nbexplain as nbx
from nbexplain.datasets import reviews_split
from nbexplain.text import train_text_classifier

train_texts, train_labels, test_texts, test_labels = reviews_split()
clf = train_text_classifier(train_texts, train_labels, class_names=["negative", "positive"], seed=0)
print(f"test accuracy {(clf.predict(test_texts) == test_labels).mean():.3f}")

shapley, leave_one_out = nbx.TokenShap(clf), nbx.TokenOcclusion(clf)
POSITIVE = 1


def compare(text):
    \"\"\"Both methods on one text, explaining P(positive): one row per word.\"\"\"
    s, o = shapley.explain(text, target=POSITIVE), leave_one_out.explain(text, target=POSITIVE)
    print(f"P(positive | text) = {s.outputs:.3f}, P(positive | empty text) = {s.base_values:.3f}")
    print(f"sum of Shapley values {s.values.sum():+.3f}, sum of leave-one-out {o.values.sum():+.3f}, "
          f"P(text) - P(empty) {s.outputs - s.base_values:+.3f}")
    return pd.DataFrame({"Shapley": s.values, "leave-one-out": o.values}, index=s.feature_names).round(3).T + 0.0"""),
    ("md", """## 1. One review, two answers

In this corpus a review with "X was dull, but Y was superb" is labelled by its last clause
(positive); the model gets this one wrong. Which words does it blame? The tokens are coloured by
their attribution to *positive* (red: towards positive, blue: towards negative); hover a word
for its value. The Shapley values add up to the change from the empty
text to the whole text; leave-one-out values need not."""),
    ("code", """review = "The plot was dull, but the acting was superb."
s = shapley.explain(review, target=POSITIVE)
o = leave_one_out.explain(review, target=POSITIVE)
W.VBox([nbx.TextTokens.from_explanation(s, title="exact Shapley values"),
        nbx.TextTokens.from_explanation(o, title="leave-one-out")])"""),
    ("code", """compare(review)"""),
    ("md", """Try the leave-one-out question yourself: click a word below to drop it (click again to bring it
back); the prediction and the Shapley values of the remaining words follow. (Clicks need the
running kernel.)"""),
    ("code", """nbx.TextTokens.what_if(clf, review, target=POSITIVE, title="click a word to drop it")"""),
    ("md", """## 2. When they disagree: redundant evidence

Three strong positive words. The model is sure (P close to 1) with any two of them, so dropping
any *one* changes almost nothing: leave-one-out says no word matters. Shapley values also look at
the smaller subsets, where each word is the one that tips the balance, and share the credit."""),
    ("code", """compare("A superb, moving, wonderful film.")"""),
    ("md", """The same happens on any long, clearly positive or negative review: leave-one-out is close to 0
everywhere because the probability is saturated. It answers *"what if I delete this word from this
text?"*, not *"what made the prediction?"*.

## 3. When they disagree: "not bad"

A short review the model calls positive:"""),
    ("code", """compare("Not bad at all.")"""),
    ("md", """Leave-one-out says "not" does nothing; Shapley says "not" pushes towards *negative*. Both are
right about this model, and both reveal something odd: the model has no notion of word order.
It adds up one vector per word, so it cannot read "not bad" as a phrase. Ask it about "bad"
alone:"""),
    ("code", """probes = ["A bad film.", "Bad.", "Not great."]
print({t: round(float(p), 3) for t, p in zip(probes, clf.predict_proba(probes)[:, 1])})
with_bad = [y for t, y in zip(train_texts, train_labels) if "bad" in clf.tokenize(t)]
print(f"'bad' is in {len(with_bad)} training reviews, {sum(with_bad)} of them positive")"""),
    ("md", """In the training reviews "bad" only ever appears in "not bad at all", so the model learnt that
**"bad" is a positive word**, and "not" a negative one (from "not worth the ticket", "not
great"). Shapley's negative "not" comes from the subsets without "bad", where "not" means what it
means in the training data; leave-one-out only looks at the full text, where "bad" and "at all"
already make P close to 1. The attributions did their job: they exposed a shortcut.

## 4. A model that does read "not bad": an interaction

Here is a model we can read: it scores "good" +2 and "bad" -2, flips the sign of a word that
follows "not", and returns the probability `sigmoid(score)`."""),
    ("code", """SCORES = {"good": 2.0, "bad": -2.0}


def negation_model(texts):
    \"\"\"P(negative), P(positive) of each text: word scores summed, "not" flips the next word.\"\"\"
    out = []
    for text in texts:
        words = nbx.text.tokenize(text)
        score = sum(SCORES.get(w, 0.0) * (-1.0 if i > 0 and words[i - 1] == "not" else 1.0)
                    for i, w in enumerate(words))
        p = 1.0 / (1.0 + np.exp(-score))
        out.append([1.0 - p, p])
    return np.array(out)


subsets = ["", "not", "bad", "not bad"]
print({f"v({t!r})": round(float(p), 3) for t, p in zip(subsets, negation_model(subsets)[:, 1])})
s = nbx.TokenShap(negation_model).explain("not bad", target=POSITIVE)
o = nbx.TokenOcclusion(negation_model).explain("not bad", target=POSITIVE)
pd.DataFrame({"Shapley": s.values, "leave-one-out": o.values}, index=s.feature_names).round(3).T + 0.0"""),
    ("md", """With two words the arithmetic fits on a line. Write `v(S)` for P(positive) of the subset `S`:

- "bad" alone lowers P by 0.38 (its own effect); "not" alone does nothing; together they raise
  it by 0.38: the **interaction** is `v(not bad) - v(not) - v(bad) + v() = +0.76`.
- **Leave-one-out** gives each word its own effect *plus the whole interaction*: "not" 0.76,
  "bad" 0.38. The interaction is counted twice, and the values add up to 1.14, not to the 0.38
  that actually changed.
- **Shapley** gives each word its own effect *plus half of the interaction*: "not" 0.38, "bad" 0.
  They add up to 0.38 exactly.

Neither is wrong; they answer different questions. When words act together (negation,
"but"-clauses, intensifiers such as "very"), leave-one-out over-counts and Shapley shares.

## 5. Longer texts

Exact Shapley values need `2^n` model calls: fine up to 12 words (4,096 calls, a few
milliseconds for this model). Above that `TokenShap` estimates them with KernelSHAP from
`n_samples` sampled subsets (seeded) and reports each value's standard error."""),
    ("code", """long_review = next(t for t in test_texts if len(clf.tokenize(t)) > 14)
e = shapley.explain(long_review, target=POSITIVE)
print(f"{len(e.feature_names)} tokens: {e.method}, {e.diagnostics['n_coalitions']} subsets, "
      f"largest standard error {e.diagnostics['error_estimate']:.4f}")
nbx.TextTokens.from_explanation(e, title="KernelSHAP estimate on a longer review")"""),
    ("md", """### Try it

1. Write a review the model gets wrong (a negation, or a sarcastic one) and pass it to
   `compare`. Which words does each method blame?
2. The Shapley values of a text explain P(positive) relative to the *empty* text. Is the empty
   text a sensible reference for this model? (What is `clf.predict_proba([""])`?)"""),
]

if __name__ == "__main__":
    path = ROOT / "notebooks" / "text.ipynb"
    nbformat.write(build(CELLS), path)
    print(f"wrote {path.relative_to(ROOT)}")
