"""Writes notebooks/tables.ipynb (SHAP vs LIME, PDP and ICE, permutation importance, surrogates).

Run ``.venv/bin/python scripts/build_tables_notebook.py`` after editing; the notebook is checked in
unexecuted. It runs offline on a laptop CPU in well under a minute: the model is a small MLP
trained here in a few seconds on scikit-learn's breast-cancer table.
"""

from __future__ import annotations

import nbformat
from build_demo_notebooks import ROOT, build

CELLS: list[tuple[str, str]] = [
    ("md", """# Tables: SHAP and LIME, PDP and ICE, permutation importance, surrogates

A small neural network predicts whether a breast tumour is benign from 30 measurements of its
cell nuclei (scikit-learn's breast-cancer table). We ask it two kinds of question:

- **local**: why *this* prediction? KernelSHAP and LIME, side by side, and how much each would
  change if run again;
- **global**: what does the model do in general? Partial dependence and ICE curves, permutation
  importance, and surrogates: simple models fitted to imitate the network.

Every method here explains the same number, **P(benign)**, so their answers can be compared.
Everything runs offline on a CPU in a few seconds."""),
    ("code", """import numpy as np
import torch
import ipywidgets as W
from torch import nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import nbexplain as nbx

torch.manual_seed(0)
cancer = load_breast_cancer()
X = cancer.data.astype(np.float32)
names, classes = list(cancer.feature_names), list(cancer.target_names)     # ['malignant', 'benign']
X_train, X_test, y_train, y_test = train_test_split(X, cancer.target, test_size=0.25, random_state=0,
                                                    stratify=cancer.target)


class Standardised(nn.Module):
    \"\"\"Standardises its own input, so every method works in the table's units.\"\"\"

    def __init__(self, mean, std, net):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean))
        self.register_buffer("std", torch.as_tensor(std))
        self.net = net

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


net = Standardised(X_train.mean(0), X_train.std(0), nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 2)))
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
xt, yt = torch.tensor(X_train), torch.tensor(y_train)
for _ in range(200):
    opt.zero_grad()
    nn.functional.cross_entropy(net(xt), yt).backward()
    opt.step()
# Trained on logits; explained as probabilities: nbexplain sees that the model now returns them.
model = nn.Sequential(net, nn.Softmax(dim=1)).eval()
with torch.no_grad():
    p_benign = model(torch.tensor(X_test))[:, 1].numpy()
print(f"test accuracy {((p_benign > 0.5) == y_test).mean():.3f}")

# A patient the model is not sure about: the methods have something to disagree on.
row = int(np.argmin(np.abs(p_benign - 0.3)))
x = X_test[row]
print(f"patient {row}: P(benign) = {p_benign[row]:.3f}, truly {classes[y_test[row]]}")"""),
    ("md", """## 1. KernelSHAP: Shapley values, with error bars

KernelSHAP asks how the prediction changes when features are *absent*, replaced by values from
background patients, over many subsets (*coalitions*) of the features, and solves for Shapley
values: each feature's average contribution, adding up exactly from the **base value** (the mean
prediction over the background) to this prediction. With 30 features there are 2^30 coalitions,
so it samples them, in rounds, until every value's standard error is within `tol` (here 2%) of
the largest value (`n_samples="auto"`, the default); the whiskers are two standard errors (about
95%). The **top-k** slider and the bars / waterfall switch redraw in the browser."""),
    ("code", """shap = nbx.KernelShap(model, X_train, feature_names=names, class_names=classes, background_size=50,
                      tol=0.02, seed=0)
e_shap = shap.explain(x[None], target=1)
print(f"{e_shap.diagnostics['n_coalitions']} coalitions sampled; largest standard error "
      f"{e_shap.diagnostics['std_error'].max():.4f}")
print(f"base value {e_shap.base_values[0]:.3f} + sum of values {e_shap.values.sum():.3f} "
      f"= P(benign) {e_shap.outputs[0]:.3f}")
nbx.FeatureBars.from_explanation(e_shap[0], top_k=10, title="KernelSHAP: P(benign) for this patient")"""),
    ("md", """## 2. LIME: a linear model fitted around the patient

LIME draws thousands of perturbed patients around this one (each feature drawn from its training
distribution, then described as "in the same quartile as the patient or not"), asks the model
about them, weights them by how close they are (an exponential *kernel* of width
`kernel_width`), and fits a weighted linear model. Its coefficients are the explanation. Run it
with 10 seeds to see how much they move:"""),
    ("code", """lime = nbx.LimeTabularBatched(model, X_train, feature_names=names, class_names=classes, num_samples=2000,
                              n_seeds=10, seed=0)
e_lime = lime.explain(x[None], target=1)
print(f"top-5 features shared between seeds: {float(e_lime.diagnostics['topk_overlap'][0]):.0%}; "
      f"local R² of the linear fit {float(e_lime.diagnostics['score'][0]):.2f}")
print(nbx.agreement({"KernelSHAP": e_shap.values[0], "LIME": e_lime.values[0]}, k=5).summary()[0])
nbx.FeatureBars.from_explanation(e_lime[0], top_k=10, title="LIME: mean and spread over 10 seeds")"""),
    ("md", """The two rankings overlap but are not the same: they answer different questions. SHAP shares
out `P(patient) - mean P(background)`; LIME's coefficient is the slope of a linear model of
"feature in the patient's quartile or not", fitted on a neighbourhood whose size *you* chose
(the kernel width). Note LIME's low R²: a line fits this neighbourhood badly. Notebook 5
(`explain_the_explainer.ipynb`) shows the neighbourhood LIME fitted and lets you move the width."""),
    ("md", """## 3. Partial dependence and ICE: what the model does with one feature

Fix one feature at a value for *every* patient and average the predictions: the partial
dependence (PDP, bold). Each thin line is one patient (ICE, individual conditional expectation):
when they are not parallel, the feature acts differently for different patients (it interacts
with others) and the average hides it. Pick another feature in the menu (it computes in the
kernel).

Beware: the PDP also evaluates combinations that never occur. Setting `worst area` to its
maximum while `mean area` stays small describes no real tumour."""),
    ("code", """def show_feature(j):
    pdp_view.show(nbx.partial_dependence(model, X_test, j, feature_names=names, target=1))


pdp_view = nbx.PDPView(None, names, on_feature=show_feature, class_names=classes)
pdp_view.feature.value = names.index("worst concave points")      # computes and draws it
pdp_view"""),
    ("md", """## 4. Permutation importance: how much the model needs each feature

Shuffle one column of the test set, breaking its link with the label, and measure how much the
accuracy drops (5 shuffles, averaged). It is global, measured on held-out data, and needs no
gradients or coalitions."""),
    ("code", """imp = nbx.permutation_importance(model, X_test, y_test, n_repeats=5, feature_names=names, seed=0)
print(f"accuracy {imp.diagnostics['baseline_score']:.3f}; largest drops:")
for j in np.argsort(-imp.values[0])[:5]:
    print(f"  {names[j]:>25}: {imp.values[0, j]:+.3f} ± {imp.diagnostics['std'][0, j]:.3f}")
# a negative drop (the shuffle happened to help) is noise: drawn as 0
nbx.ImportanceBars(np.maximum(imp.values, 0), names, top_k=12, title="accuracy drop when the feature is shuffled")"""),
    ("md", """Every drop is small. Does the model need none of them? The table has ten measurements of the
tumour's *size* (radius, perimeter and area, as mean, error and worst), strongly correlated: shuffle
one and the others still carry the information. Shuffle them **together** (`groups=`):"""),
    ("code", """size = [n for n in names if any(k in n for k in ("radius", "perimeter", "area"))]
groups = {"size (10 features)": size, **{n: [n] for n in names if n not in size}}
grouped = nbx.permutation_importance(model, X_test, y_test, n_repeats=5, feature_names=names, groups=groups, seed=0)
nbx.ImportanceBars(np.maximum(grouped.values, 0), grouped.feature_names, top_k=8,
                   title="the size features shuffled together")"""),
    ("md", """## 5. Surrogates: a simple model that imitates the network

A **global surrogate** is an interpretable model fitted to the network's *predictions* (not to
the labels) over the whole table. It is only an explanation as far as it imitates the network,
so its **fidelity** on held-out rows comes first: a tree imitates the predicted class (fidelity
= agreement with the network), a linear model imitates P(benign) (fidelity = R²). A depth-3 tree
reads as rules:"""),
    ("code", """tree = nbx.GlobalSurrogate(model, kind="tree", max_depth=3, feature_names=names, target=1).fit(X_train)
linear = nbx.GlobalSurrogate(model, kind="linear", feature_names=names, target=1).fit(X_train)
print(f"on held-out rows, the tree agrees with the network's class on {tree.fidelity:.0%} of them; "
      f"the linear model's R² on P(benign) is {linear.fidelity:.2f}")
nbx.SurrogateView(tree, names, class_names=classes, data=X_train)"""),
    ("md", """A **local surrogate** is a linear model fitted only around one patient (Gaussian perturbations,
weighted by distance), as LIME does but in the features' own units. It also says where it fits
badly: the error grows fastest along these features."""),
    ("code", """local = nbx.LocalSurrogate(model, X_train, feature_names=names, target=1, seed=0).explain(x)
print(f"local fidelity (weighted R²) {local.diagnostics['fidelity'][0]:.2f}; "
      f"fits worst along {', '.join(local.diagnostics['worst_features'][0])}")
print(nbx.agreement({"KernelSHAP": e_shap.values[0], "local surrogate": local.values[0]}, k=5).summary()[0])"""),
    ("md", """### Try it

1. Explain a patient the model is **sure** about (`row = int(np.argmax(p_benign))`). How big
   are KernelSHAP's error bars now, and how much do LIME's seeds agree?
2. Shuffle the *texture* features together, then the *concavity* ones (`groups=`). Which group
   does the model need most? Does KernelSHAP's ranking for one patient agree with this global
   ranking? Should it?"""),
]

if __name__ == "__main__":
    path = ROOT / "notebooks" / "tables.ipynb"
    nbformat.write(build(CELLS), path)
    print(f"wrote {path.relative_to(ROOT)}")
