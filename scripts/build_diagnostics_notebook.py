"""Writes notebooks/diagnostics.ipynb (where does the model go wrong: errors, overfitting, slices) from the cells below.

Run ``.venv/bin/python scripts/build_diagnostics_notebook.py`` after editing; the notebook is checked
in unexecuted. It runs offline on a laptop CPU in well under a minute: a small CNN trained here in a
few seconds on scikit-learn's 8x8 digits, and a decision tree on its breast-cancer table.
"""

from __future__ import annotations

import nbformat
from build_demo_notebooks import ROOT, build

CELLS: list[tuple[str, str]] = [
    ("md", """# Diagnostics: where does the model go wrong?

An explanation of one prediction is most useful when it is the *right* prediction to look at.
This notebook finds them:

1. **errors**: the confusion matrix, and the samples behind each of its cells, most confidently
   wrong first; explain those;
2. **overfitting**: the same metrics on the training and the test data, side by side;
3. **slices**: the metrics per range of one feature, to find where the model is worse than its
   average says.

These are the parts of the Dashboard's *Errors & bias* tab (`dashboard.ipynb`), wired here by
hand so you can see what each does. Everything runs offline on a CPU in a few seconds."""),
    ("code", """import numpy as np
import torch
import ipywidgets as W
from torch import nn
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

import nbexplain as nbx

torch.manual_seed(0)
digits = load_digits()
X = (digits.images / 16.0).astype(np.float32)[:, None]            # (n, 1, 8, 8)
X_train, X_test, y_train, y_test = train_test_split(X, digits.target, test_size=0.25, random_state=0,
                                                    stratify=digits.target)
classes = [str(d) for d in range(10)]

cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
opt = torch.optim.Adam(cnn.parameters(), lr=1e-2)
xt, yt = torch.tensor(X_train), torch.tensor(y_train)
for _ in range(60):                                                  # deliberately short: some errors to study
    opt.zero_grad()
    nn.functional.cross_entropy(cnn(xt), yt).backward()
    opt.step()
cnn.eval()

report = nbx.error_analysis(cnn, X_test, y_test, class_names=classes)
print({k: round(v, 3) for k, v in report.summary().items() if isinstance(v, float)})"""),
    ("md", """## 1. Errors: the confusion matrix

Rows are the true digits, columns the predicted ones; a cell's colour is its share of the row, so
a strong diagonal means good recall for every class, whatever its size. **Click a cell**: the
table below it lists exactly those samples (click again to clear). The *misclassified only* box
and the class menus filter the same way; click a row to explain that sample under the table."""),
    ("code", """matrix = nbx.ConfusionMatrix.from_report(report)
browser = nbx.SampleBrowser(report.proba, y_test, X=X_test, class_names=classes, page_size=8)
explorer = nbx.SampleExplorer(cnn, X_test, y_test, method="integrated_gradients", class_names=classes)


def cell_clicked(change):
    cell = change["new"]
    if cell is None:
        browser.clear_filter()
    else:
        browser.set_filter(true_class=cell[0], predicted_class=cell[1])


def row_clicked(change):
    if change["new"] >= 0:
        explorer.index = change["new"]


matrix.observe(cell_clicked, names="selected")
browser.observe(row_clicked, names="selected")
browser.set_filter(misclassified=True)                 # start on the errors
W.VBox([matrix, browser, explorer])"""),
    ("md", """The same in Python. `report.misclassified` lists the errors, most confidently wrong first:
those are the ones to look at (a wrong answer given with 99% confidence says more about the model
than a coin toss). The largest off-diagonal cell, and IG's map for the worst error, for the class
the model chose and for the true one:"""),
    ("code", """off = report.confusion * (1 - np.eye(10))
t, p = np.unravel_index(int(off.argmax()), off.shape)
print(f"most frequent confusion: {classes[t]} read as {classes[p]}, "
      f"{int(off[t, p])} times: samples {report.samples_in_cell(t, p).tolist()}")
worst = int(report.misclassified[0])
print(f"worst error: sample {worst}, a {classes[y_test[worst]]} read as {classes[report.pred[worst]]} "
      f"with probability {report.confidence[worst]:.2f}")
ig = nbx.IntegratedGradients(cnn, steps=32)
W.HBox([nbx.Heatmap.from_explanation(ig.explain(X_test[worst:worst + 1], target=int(c))[0], image=X_test[worst, 0],
                                     width=180, show_controls=False, title=f"evidence for {classes[c]}")
        for c in (report.pred[worst], y_test[worst])])"""),
    ("md", """## 2. Overfitting: train against test

A decision tree grown until every leaf is pure learns its training data by heart. Its metrics on
the training and the test data, and the gaps: the verdict flags a test accuracy more than 0.05
below the training one.

## 3. Slices: where is the model worse?

A model's average accuracy hides where it fails. Cut the test patients into five ranges (quantile
bins) of one feature and measure each: pick another feature in the menu (it recomputes in the
kernel). Slices with fewer than 10 patients are grey: too few to say much."""),
    ("code", """cancer = load_breast_cancer()
names, tumour = list(cancer.feature_names), list(cancer.target_names)
Xc_train, Xc_test, yc_train, yc_test = train_test_split(cancer.data, cancer.target, test_size=0.3, random_state=0,
                                                        stratify=cancer.target)
tree = DecisionTreeClassifier(random_state=0).fit(Xc_train, yc_train)     # no depth limit


def show_slices(j):
    bias.update_slices(nbx.slice_metrics(tree, Xc_test, yc_test, j, bins=5, feature_names=names))


splits = nbx.compare_splits(tree, {"train": (Xc_train, yc_train), "test": (Xc_test, yc_test)})
bias = nbx.BiasView(splits, None, feature_names=names, on_feature=show_slices)
bias.feature.value = names.index("worst radius")                            # computes and draws it
bias"""),
    ("md", """The tree is perfect on the largest tumours (all malignant) and worst on the large-but-not-largest
ones, where benign and malignant tumours overlap in size. That is where a second opinion (or a
better model) is needed, and where explanations of single predictions are worth reading. The
same report in Python:"""),
    ("code", """s = nbx.slice_metrics(tree, Xc_test, yc_test, "worst radius", bins=5, feature_names=names)
for sl in s.slices:
    print(f"{sl.label:>18}: {sl.size:3d} patients, accuracy {sl.metrics['accuracy']:.2f}")"""),
    ("md", """### Try it

1. Limit the tree: `DecisionTreeClassifier(max_depth=3, random_state=0)`. Does the overfitting
   verdict go away? What happens to the test accuracy, and to the worst slice?
2. In the confusion matrix, click the largest off-diagonal cell and explain its samples in the
   explorer. Do the maps for the wrong class point at strokes that the two digits share?"""),
]

if __name__ == "__main__":
    path = ROOT / "notebooks" / "diagnostics.ipynb"
    nbformat.write(build(CELLS), path)
    print(f"wrote {path.relative_to(ROOT)}")
