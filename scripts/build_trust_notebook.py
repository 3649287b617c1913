"""Writes notebooks/trust.ipynb (can I trust this explanation?) from the cells below.

Run ``.venv/bin/python scripts/build_trust_notebook.py`` after editing; the notebook is checked in
unexecuted. It runs offline on a laptop CPU in about a minute: the data are synthetic sets whose
answer is known (nbexplain.metrics.synthetic), and the models are trained here in seconds.
"""

from __future__ import annotations

import nbformat
from build_demo_notebooks import ROOT, build

CELLS: list[tuple[str, str]] = [
    ("md", """# Can I trust this explanation?

Six methods give six different maps of the same prediction. Which one should you believe? This
notebook answers with data where **the answer is known**, then with the measures you can use when
it is not:

1. **ground truth**: pictures whose class is decided by one planted patch, and a table whose label
   depends on three named columns; a good method points there;
2. **faithfulness**: remove what a method ranks first; if it is right, the prediction drops fast
   (deletion), and putting it back first restores it fast (insertion); a random order is the floor;
3. **the sanity check** (Adebayo et al. 2018): randomise the model's weights from the top; a map
   that does not change cannot be explaining the model;
4. **uncertainty**: sampled methods (KernelSHAP, LIME) give a different answer on every seed; how
   much? The error bars say."""),
    ("code", """import numpy as np
import torch
from torch.nn import functional as F

import nbexplain as nbx
from nbexplain.explanation import Explanation
from nbexplain.metrics import ground_truth_score, sanity_check, synthetic_images, synthetic_table

pictures = synthetic_images(n=256, size=16, patch=4, seed=0)
print(f"the CNN reads the planted patch with accuracy {pictures.accuracy:.2f}")
X = pictures.X[-8:]


class EdgeDetector:
    \"\"\"A map that ignores the model: the edges of the picture (it looks plausible!).\"\"\"

    method = "edges"

    def explain(self, inputs, target=None):
        x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
        kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])[None, None]
        gx, gy = F.conv2d(x, kx, padding=1), F.conv2d(x, kx.transpose(-1, -2), padding=1)
        return Explanation(torch.sqrt(gx ** 2 + gy ** 2).numpy(), data=x.numpy(), method=self.method)


explanations = {
    "saliency": nbx.Saliency(pictures.model).explain(X),
    "integrated_gradients": nbx.IntegratedGradients(pictures.model).explain(X),
    "edges": EdgeDetector().explain(X),
}
for name, e in explanations.items():
    score = ground_truth_score(e, pictures.mask[-8:])
    print(f"{name:22s} top-k inside the patch: {score.mean_precision:.2f} (chance {score.chance:.2f})")"""),
    ("md", """## 1-3. Faithfulness and the sanity check, in one view

`TrustView` measures every method on the same samples: the deletion and insertion curves (with
their areas and the random floor), a slider that shows the picture at any point of a curve, a
table that ranks the methods by each measure (and says which way is better), and the sanity check:
each method's maps as the layers are randomised, and how similar they stay. The edge detector
finds edges everywhere, looks reasonable, and fails the sanity check: its map does not depend on
the model at all."""),
    ("code", """sanity = {"saliency": "saliency", "integrated_gradients": "integrated_gradients",
          "edges": lambda model: EdgeDetector()}
view = nbx.TrustView(pictures.model, X, explanations, sanity_methods=sanity, baseline=0.0, patch_size=2, steps=32,
                     class_names=["dark patch", "bright patch"], compute=True)
view.wait()  # it computes on a background thread; wait here so the saved notebook holds the result
view"""),
    ("md", """## 4. How uncertain is a sampled explanation?

KernelSHAP estimates Shapley values from a sample of coalitions. With `n_samples="auto"` it keeps
sampling until every value's standard error is small, and reports the standard errors; the bars
draw them as whiskers (two standard errors, about 95%). LIME over several seeds shows how much its
coefficients move from run to run, and how many of its top features stay the same."""),
    ("code", """table = synthetic_table(n=512, n_features=20, seed=0)
print("the label depends only on", table.signal)
shap = nbx.KernelShap(table.model, table.background).explain(table.X[:1])
print(f"{int(shap.diagnostics['n_coalitions'])} coalitions, largest standard error "
      f"{shap.diagnostics['std_error'].max():.4f}")
nbx.FeatureBars.from_explanation(shap[0], feature_names=table.feature_names, title="KernelSHAP, with its error bars")"""),
    ("code", """lime = nbx.LimeTabularBatched(table.model, table.background, n_seeds=20).explain(table.X[:1])
print(f"top-5 features shared between seeds: {float(lime.diagnostics['topk_overlap'][0]):.0%}")
nbx.FeatureBars.from_explanation(lime[0], feature_names=table.feature_names, title="LIME, mean and spread over 20 seeds")"""),
    ("md", """### Try it

1. Add `"random": np.random.default_rng(0).standard_normal(X.shape)` to `explanations` and
   re-run the TrustView. Where does it rank? Does its deletion curve beat the random floor?
2. Grad-CAM on this CNN: `nbx.GradCAM(pictures.model).explain(X)`. Is it faithful? Does it pass
   the sanity check?
3. KernelSHAP with `n_samples=64` instead of `"auto"`: how large are the error bars now?"""),
]

if __name__ == "__main__":
    path = ROOT / "notebooks" / "trust.ipynb"
    nbformat.write(build(CELLS), path)
    print(f"wrote {path.relative_to(ROOT)}")
