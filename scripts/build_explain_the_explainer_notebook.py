"""Writes notebooks/explain_the_explainer.ipynb (how IG, LIME, SHAP and Grad-CAM reach their answer) from the cells below.

Run ``.venv/bin/python scripts/build_explain_the_explainer_notebook.py`` after editing; the notebook
is checked in unexecuted. It runs offline on a laptop CPU in well under a minute: a small CNN
trained here in a few seconds on scikit-learn's 8x8 digits, and scikit-learn's MLP on its
breast-cancer table.
"""

from __future__ import annotations

import nbformat
from build_demo_notebooks import ROOT, build

CELLS: list[tuple[str, str]] = [
    ("md", """# Explain the explainer

Notebooks 2-4 showed *what* the methods say. This one shows *how* they get there, on your own
model, with four views you can scrub and click:

1. `IGPathView`: Integrated Gradients walks a path from a baseline to the input; watch it walk;
2. `LimeNeighbourhoodView`: the neighbourhood LIME drew and the line it fitted there;
3. `ShapleyView`: Shapley values built from the value of every coalition of features, and
   KernelSHAP's estimate of them as its budget grows;
4. `GradCAMLayersView`: Grad-CAM at every stage of a CNN, on one slider.

The sliders of the IG and Grad-CAM views run in the browser (also in an exported page); the
pickers that recompute need the running kernel. Every view gives back to Python what you picked.
Everything runs offline on a CPU in a few seconds."""),
    ("code", """import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbexplain as nbx

# Images: a CNN with four convolution stages on the 8x8 digits (8x8, 8x8, 4x4, 2x2).
torch.manual_seed(0)
digits = load_digits()
X = (digits.images / 16.0).astype(np.float32)[:, None]
X_train, X_test, y_train, y_test = train_test_split(X, digits.target, test_size=0.25, random_state=0,
                                                    stratify=digits.target)
cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                    nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
opt = torch.optim.Adam(cnn.parameters(), lr=3e-3)
xt, yt = torch.tensor(X_train), torch.tensor(y_train)
for epoch in range(10):
    for i in range(0, len(xt), 128):
        opt.zero_grad()
        nn.functional.cross_entropy(cnn(xt[i:i + 128]), yt[i:i + 128]).backward()
        opt.step()
cnn.eval()
digit = X_test[int(np.flatnonzero(y_test == 3)[0]), 0][None]          # a "3", (1, 8, 8)
with torch.no_grad():
    print(f"CNN test accuracy {(cnn(torch.tensor(X_test)).argmax(1).numpy() == y_test).mean():.3f}")

# Tables: scikit-learn's MLP on the breast-cancer table; every method explains P(benign).
cancer = load_breast_cancer()
names, tumour = list(cancer.feature_names), list(cancer.target_names)
Xc_train, Xc_test, yc_train, yc_test = train_test_split(cancer.data, cancer.target, test_size=0.25, random_state=0,
                                                        stratify=cancer.target)
mlp = make_pipeline(StandardScaler(), MLPClassifier((32,), max_iter=1000, random_state=0)).fit(Xc_train, yc_train)
p_benign = mlp.predict_proba(Xc_test)[:, 1]
patient = Xc_test[int(np.argmin(np.abs(p_benign - 0.3)))]               # one the model is unsure about
print(f"MLP test accuracy {mlp.score(Xc_test, yc_test):.3f}")"""),
    ("md", """## 1. Integrated Gradients, step by step

IG's attribution is `(x - b) * (the average gradient on the straight path from the baseline b to
x)`. Move **alpha** from 0 (the baseline) to 1 (the input): the picture at alpha, the gradient
there, and the attribution accumulated so far. Below, the class score along the path, with the
integration rule's points under it (their size is their weight); the attribution accumulates
where the score climbs. The right-hand chart: the completeness error `|sum(attr) - (f(x) - f(b))|`
against the number of steps, for each rule. Pick another **baseline** (blurred, noise, the
training mean, several data rows averaged as expected gradients do) and see what changes."""),
    ("code", """path = nbx.IGPathView(cnn, digit, baseline="black", data=X_train, class_names=[str(d) for d in range(10)])
path"""),
    ("md", """The view is not a drawing of IG, it *is* IG: the attribution accumulated at alpha = 1 is
`nbx.IntegratedGradients`' answer with the same rule and steps. What you picked comes back:"""),
    ("code", """ig = nbx.IntegratedGradients(cnn, steps=path.steps).explain(digit[None], baselines="zeros")
print(f"view: sum at alpha 1 = {path.accumulated_sum[-1]:.4f}; IntegratedGradients: {ig.values.sum():.4f}")
at = path.at_alpha()                  # the alpha you left the slider at
print(f"alpha {at['alpha']:.2f} ({at['baseline']}): score {at['output']:.2f}, "
      f"attribution so far {at['accumulated'].sum():.2f} of {ig.values.sum():.2f}")"""),
    ("md", """## 2. LIME's neighbourhood

LIME draws samples around the patient, asks the model about each, weights them by closeness (the
**kernel width**) and fits a line. Left: the samples projected to 2-D (size = weight, colour =
P(benign); the patient is ringed). Right: the line's prediction against the model's, with the
weighted R² (1 = the line imitates the model perfectly here). Below: the coefficients, with their
spread over 20 seeds. Move the kernel width and the number of samples (they refit in the
kernel) or the seed."""),
    ("code", """lime_view = nbx.LimeNeighbourhoodView(mlp, patient, Xc_train, target=1, num_samples=2000, n_seeds=20,
                                      feature_names=names, class_names=tumour)
lime_view"""),
    ("code", """nb = lime_view.neighbourhood
print(f"seed {nb.seed}, kernel width {nb.kernel_width:.2f}: {nb.num_samples} samples, weighted R² {nb.score:.2f}")
print(f"over {len(lime_view.spread.seeds)} seeds, the top-{lime_view.spread.top_k} features "
      f"agree {lime_view.spread.topk_overlap:.0%} of the way")"""),
    ("md", """A weighted R² this low says the line is a poor imitation of the model around this patient, at
this kernel width: read its coefficients with care (and see how they move between seeds).

## 3. Shapley values, coalition by coalition

A Shapley value averages a feature's *marginal contribution* `v(S + i) - v(S)` over every coalition
`S` of the other features, with weights that give each coalition size the same say. `v(S)` is the
model's expected output when only the features in `S` are known (the others drawn from the
training rows). The table has 30 features, but they are 10 measurements (radius, texture...),
each as a mean, a standard error and a worst value: as 10 **groups** there are `2^10 = 1024`
coalitions, few enough to draw every one.

Each node is a coalition, one row per size, coloured by its value. **Pick a feature**: its edges
light up with their marginal contributions, and the table sums them with their weights into its
Shapley value. The waterfall adds the values from the base value `v({})` to the prediction."""),
    ("code", """measurements = [n.removeprefix("mean ") for n in names if n.startswith("mean ")]     # radius, texture, ...
groups = {m: [names.index(f"mean {m}"), names.index(f"{m} error"), names.index(f"worst {m}")]
          for m in measurements}
X_background = Xc_train[np.random.default_rng(0).choice(len(Xc_train), 50, replace=False)]
lattice = nbx.ShapleyView(mlp, patient[None], X_background, groups=groups, target=1, class_names=tumour)
lattice"""),
    ("code", """print(f"base value {lattice.base_value:.3f} + sum of Shapley values {lattice.shapley.sum():+.3f} "
      f"= prediction {lattice.prediction:.3f}")
lattice.selection()                   # what you clicked: a feature, a coalition"""),
    ("md", """Above 10 players the lattice is too large to draw, and above 16 exact values cost too much:
KernelSHAP samples coalitions instead. How many does it need? Its estimate of each value as the
budget grows, with a 95% band (about two standard errors) that narrows like `1 / sqrt(budget)`.
On the same 10 groups the exact values are known, so you can check that the bands cover them.
(With `feature_names=names` instead of `groups=`, 30 players: no exact values to check against.)"""),
    ("code", """nbx.ShapleyView(mlp, patient[None], X_background, groups=groups, target=1, class_names=tumour, mode="convergence")"""),
    ("md", """## 4. Grad-CAM through the layers

Grad-CAM weights a convolution layer's feature maps by the gradient of the class score and keeps
the positive part. *Which* layer? Slide through every stage of the CNN: early stages are sharp
but see little (a few pixels each); the last one sees the whole digit but is coarse (2 x 2 here,
stretched over the picture). The chart scores each stage's map by deletion (remove the pixels the
map ranks first: the faster the class score falls, the lower the area and the better the map),
with random orders as the floor. The stage Grad-CAM uses by default is marked."""),
    ("code", """layers = nbx.GradCAMLayersView(cnn, digit, class_names=[str(d) for d in range(10)])
layers"""),
    ("code", """for name, res, auc in zip(layers.stage_names, layers.resolutions, layers.deletion_auc):
    print(f"stage {name!r:>5}: {res[0]}x{res[1]}, deletion AUC {auc:.3f}")
print(f"random order: {layers.random_auc:.3f}; you are looking at stage {layers.stage_name!r}")"""),
    ("md", """### Try it

1. In the IG view, switch the rule from Gauss-Legendre to `riemann_left`. How many steps does it
   need for the same completeness error? Where on the path does the attribution accumulate?
2. In the LIME view, find a kernel width where the weighted R² is high. Do the coefficients'
   error bars grow or shrink there, and does the top feature stay the same as the Shapley view's?"""),
]

if __name__ == "__main__":
    path = ROOT / "notebooks" / "explain_the_explainer.ipynb"
    nbformat.write(build(CELLS), path)
    print(f"wrote {path.relative_to(ROOT)}")
