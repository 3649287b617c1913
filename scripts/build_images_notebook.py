"""Writes notebooks/images.ipynb (saliency, Integrated Gradients and its baselines, SmoothGrad, Grad-CAM).

Run ``.venv/bin/python scripts/build_images_notebook.py`` after editing; the notebook is checked in
unexecuted. It runs offline on a laptop CPU in well under a minute: the model is a small CNN
trained here in a few seconds on scikit-learn's 8x8 digits.
"""

from __future__ import annotations

import nbformat
from build_demo_notebooks import ROOT, build

CELLS: list[tuple[str, str]] = [
    ("md", """# Images: saliency, Integrated Gradients, SmoothGrad, Grad-CAM

A small CNN reads scikit-learn's 8 x 8 handwritten digits. Four ways to ask it *which pixels made
you say "0"?*, each answering a slightly different question:

1. **saliency**: the gradient of the class score with respect to each pixel (what a tiny change
   would do);
2. **Integrated Gradients** (IG): the gradient summed along a straight path from a *baseline*
   picture to the input (what the whole change from "nothing" to this picture did), and why the
   choice of baseline changes the answer;
3. **SmoothGrad**: saliency averaged over noisy copies of the input (less speckle);
4. **Grad-CAM**: which region of a convolution layer's feature maps the class relies on (coarse,
   but robust).

Every map is drawn with `nbx.Heatmap`: red raises the class score, blue lowers it. Its controls
(opacity, colour map, sign, clip, threshold) redraw in the browser at once. Everything runs
offline on a CPU in a few seconds."""),
    ("code", """import numpy as np
import torch
import ipywidgets as W
from torch import nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nbexplain as nbx

torch.manual_seed(0)
digits = load_digits()
X = (digits.images / 16.0).astype(np.float32)[:, None]            # (n, 1, 8, 8), ink in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(X, digits.target, test_size=0.25, random_state=0,
                                                    stratify=digits.target)

cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(32 * 4 * 4, 10))
opt = torch.optim.Adam(cnn.parameters(), lr=3e-3)
xt, yt = torch.tensor(X_train), torch.tensor(y_train)
for epoch in range(10):
    for i in range(0, len(xt), 128):
        opt.zero_grad()
        nn.functional.cross_entropy(cnn(xt[i:i + 128]), yt[i:i + 128]).backward()
        opt.step()
cnn.eval()
with torch.no_grad():
    predicted = cnn(torch.tensor(X_test)).argmax(1).numpy()
print(f"test accuracy {(predicted == y_test).mean():.3f}")

# The first test "0" the model gets right: its empty middle is part of what makes it a 0.
i = int(np.flatnonzero((y_test == 0) & (predicted == 0))[0])
x, picture = X_test[i:i + 1], X_test[i, 0]
classes = [str(d) for d in range(10)]"""),
    ("md", """## 1. Saliency: the gradient

`Saliency` is the gradient of the predicted class's score (the logit) with respect to each pixel:
how much the score would move if that pixel alone got a little brighter. It is local (it says
nothing about a big change) and often speckled. Try the controls: *sign* shows only the pixels
for or against the class; *clip* saturates the strongest values; hover a cell for its value."""),
    ("code", """saliency = nbx.Saliency(cnn).explain(x)
hm = nbx.Heatmap.from_explanation(saliency[0], image=picture, width=240,
                                  title=f"saliency of class {saliency.target[0]}")
hm"""),
    ("md", """## 2. Integrated Gradients: from a baseline to the input

IG walks the straight line from a baseline picture `b` to the input `x` and adds up the gradient
on the way: `attribution = (x - b) * average gradient on the path`. Its scores obey
**completeness**: they add up to `f(x) - f(b)`, the change of the class score from the baseline
to the input. The sum is computed with a quadrature rule (Gauss-Legendre here); what it misses is
reported as `diagnostics["delta"]`."""),
    ("code", """ig = nbx.IntegratedGradients(cnn, steps=32)
black = ig.explain(x)                               # the default baseline: all zeros, a black picture
print(f"sum of attributions {black.values.sum():.3f} = f(x) {black.outputs[0]:.3f} - f(b) {black.base_values[0]:.3f}"
      f" + delta {black.diagnostics['delta'][0]:.1e}")"""),
    ("md", """### Why the baseline matters

With a black baseline, `x - b` is zero wherever the input is black, so **every background pixel
gets exactly zero**, whatever the model does with it. But the empty middle of a 0 is evidence:
fill it with ink and the 0 becomes an 8. A black baseline cannot say so. Other baselines ask a
different question ("compared with what?"):

- **blurred**: the input with its details removed; keeps the overall brightness;
- **uniform noise**: a picture of noise with no digit in it (one draw; average several draws for
  a stable answer);
- **Gaussian noise**: the input plus noise (clipped to its range); the digit is still there, so
  `f(b)` is close to `f(x)` and little is left to explain;
- **training mean**: the average digit, a picture of "any digit".

For each, the share of the attribution that lands on the background, and the class score at
the baseline `f(b)` (the further from the input's score, the more there is to explain)."""),
    ("code", """baselines = {
    "black": "zeros",
    "blurred": "blur",
    "uniform noise": "uniform",
    "Gaussian noise": "gaussian",
    "training mean": torch.tensor(X_train.mean(0)),   # one (1, 8, 8) picture
}
background = picture == 0
maps = []
for name, baseline in baselines.items():
    e = ig.explain(x, baselines=baseline)
    a = np.abs(e.values[0, 0])
    print(f"{name:>15}: f(b) {e.base_values[0]:+6.2f}, f(x) - f(b) {e.outputs[0] - e.base_values[0]:5.2f}, "
          f"share on the background {a[background].sum() / a.sum():.0%}, delta {e.diagnostics['delta'][0]:+.0e}")
    maps.append(nbx.Heatmap.from_explanation(e[0], image=picture, width=150, show_controls=False, title=name))
W.HBox(maps, layout=W.Layout(flex_flow="row wrap"))"""),
    ("md", """No baseline is *the* right one: each defines what "absence of a feature" means. A common
remedy is to average over many baselines drawn from the data (expected gradients,
`nbx.ExpectedGradients`). Notebook 5 (`explain_the_explainer.ipynb`) walks the path from each
baseline to the input with a slider."""),
    ("md", """## 3. SmoothGrad: average over noisy copies

The gradient of a ReLU network jumps from pixel to pixel. SmoothGrad adds Gaussian noise to the
input `n_samples` times (its standard deviation is `noise` times the input's range) and averages
the saliency maps. More noise blurs more; more samples make the average steadier."""),
    ("code", """smooth = {"saliency": saliency}
for noise in (0.05, 0.15, 0.3):
    smooth[f"SmoothGrad, noise {noise}"] = nbx.SmoothGrad(nbx.Saliency(cnn), n_samples=64, noise=noise,
                                                          seed=0).explain(x)
W.HBox([nbx.Heatmap.from_explanation(e[0], image=picture, width=150, show_controls=False, title=name)
        for name, e in smooth.items()], layout=W.Layout(flex_flow="row wrap"))"""),
    ("md", """How steady is it? Two runs with different seeds, compared by the rank correlation of their maps
(1 = the same order of pixels):"""),
    ("code", """for n in (4, 64):
    runs = {seed: nbx.SmoothGrad(nbx.Saliency(cnn), n_samples=n, noise=0.15, seed=seed).explain(x).values
            for seed in (0, 1)}
    print(f"n_samples={n:>2}:", nbx.agreement(runs, k=5).summary()[0])"""),
    ("md", """## 4. Grad-CAM: where in the feature maps

Grad-CAM takes a convolution layer's feature maps, weights each channel by the average gradient
of the class score over it, sums, and keeps the positive part. By default it picks the last
convolution (here `"2"`, still 8 x 8 because pooling comes after it); after the pooling layer
(`"4"`) the map is only 4 x 4, upsampled to the picture. Coarser maps are more about *where* the
class evidence is than about single pixels."""),
    ("code", """cams = {"Grad-CAM, last conv": nbx.GradCAM(cnn).explain(x),
        "Grad-CAM, after pooling": nbx.GradCAM(cnn, layer="4").explain(x)}
for name, e in cams.items():
    print(f"{name}: layer {e.diagnostics['layer']!r}, map {e.diagnostics['cam_shape']}")
W.HBox([nbx.Heatmap.from_explanation(e[0], image=picture, width=150, show_controls=False, title=name)
        for name, e in cams.items()])"""),
    ("md", """## 5. Do the methods agree?

Each method answers its own question, so they need not agree. The rank correlation of their maps
on this digit (Grad-CAM is non-negative by construction, so compare it on |values|):"""),
    ("code", """compared = {"saliency": saliency.values[0, 0], "IG (black)": black.values[0, 0],
            "IG (mean)": ig.explain(x, baselines=baselines["training mean"]).values[0, 0],
            "SmoothGrad": smooth["SmoothGrad, noise 0.15"].values[0, 0],
            "Grad-CAM": cams["Grad-CAM, last conv"].values[0]}
print("\\n".join(nbx.agreement({k: np.abs(v) for k, v in compared.items()}, k=8).summary()))"""),
    ("md", """### Try it

1. Explain a digit the model gets **wrong** (`np.flatnonzero(predicted != y_test)`): explain the
   predicted class, then pass `target=` the true one. What made it choose wrongly?
2. SmoothGrad with `noise=0.3` looks cleaner than plain saliency. Why might it still be a worse
   explanation of *this* model? (Hint: what does a digit with 30% noise look like to the CNN?)"""),
]

if __name__ == "__main__":
    path = ROOT / "notebooks" / "images.ipynb"
    nbformat.write(build(CELLS), path)
    print(f"wrote {path.relative_to(ROOT)}")
