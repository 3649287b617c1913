"""The probe, part 1 (issue 10): gradient methods, images, KernelSHAP, LIME and SHAP on tables.

Each row names the error type and a regex for the message (the argument and the problem), or
checks the result; after every row the caller's arrays are compared with copies taken before.
Rows that wait on another engineer's wiring are marked ``# needs lead: ...`` and
``xfail(strict=False)``. The rest of the table is in ``tests/core/test_probe_global.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from probe_support import (
    CLF,
    CNN,
    DF,
    DF_CAT,
    DF_NA,
    DF_STR,
    IMG,
    MLP,
    REG,
    RNG,
    SOFTMAXED,
    T_INF,
    T_NAN,
    TRAINING,
    X_INF,
    X_NAN,
    NaNNet,
    Raising,
    Row,
    T,
    Table,
    WrongShape,
    X,
    finite,
    proba,
    ragged,
    raises,
    reg,
    returns_inf,
    returns_nan,
    run_row,
)

import nbexplain as nbx
from nbexplain.validate import ModelInputError, NonFiniteError, ParameterError

ROWS = Table()
err, ok = ROWS.err, ROWS.ok

# gradient methods: the same bad inputs for each
GRADIENT = {
    "Saliency": lambda m: nbx.Saliency(m),
    "IntegratedGradients": lambda m: nbx.IntegratedGradients(m, steps=4),
    "SmoothGrad": lambda m: nbx.SmoothGrad(m, n_samples=2),
    "DeepLift": lambda m: nbx.DeepLift(m),
    "GradientXInput": lambda m: nbx.GradientXInput(m),
}
for name, make in GRADIENT.items():
    err(f"{name}-nan-input", lambda make=make: make(MLP).explain(X_NAN), NonFiniteError, r"inputs holds NaN at row 2, column 1")
    err(f"{name}-inf-input", lambda make=make: make(MLP).explain(X_INF), NonFiniteError, r"inputs holds inf at row 0, column 3")
    err(f"{name}-int-input", lambda make=make: make(MLP).explain(torch.ones(2, 4, dtype=torch.int64)), TypeError,
        r"inputs have dtype torch.int64: integers.*cast it to float")
    err(f"{name}-bool-input", lambda make=make: make(MLP).explain(torch.ones(2, 4, dtype=torch.bool)), TypeError,
        r"inputs have dtype torch.bool")
    err(f"{name}-object-input", lambda make=make: make(MLP).explain(np.array([[1, "a", 2, 3]], dtype=object)),
        TypeError, r"inputs must be a numeric.*object")
    err(f"{name}-no-batch-axis", lambda make=make: make(MLP).explain(torch.ones(4)), ValueError, r"inputs must be a batch.*x\[None\]")
    err(f"{name}-empty", lambda make=make: make(MLP).explain(torch.ones(0, 4)), ValueError, r"inputs hold no samples")
    err(f"{name}-too-many-features", lambda make=make: make(MLP).explain(torch.ones(2, 5)), ModelInputError,
        r"inputs have 5 features, the model takes 4")
    err(f"{name}-nan-model", lambda make=make: make(NaNNet(float("nan"))).explain(X, target=1), NonFiniteError,
        r"NaNNet.forward returned NaN")
    err(f"{name}-inf-model", lambda make=make: make(NaNNet(float("inf"))).explain(X, target=1), NonFiniteError,
        r"NaNNet.forward returned inf")
    err(f"{name}-raising-model", lambda make=make: make(Raising()).explain(X), RuntimeError, r"boom inside forward")
    err(f"{name}-wrong-shape-model", lambda make=make: make(WrongShape()).explain(X), ValueError,
        r"returned shape \(4, 3\) for 5 inputs")
    err(f"{name}-target-out-of-range", lambda make=make: make(MLP).explain(X, target=3), ValueError,
        r"target 3 is out of range.*0\.\.2")
    err(f"{name}-target-fraction", lambda make=make: make(MLP).explain(X, target=1.5), TypeError, r"target must be an int.*fraction")
    err(f"{name}-target-string", lambda make=make: make(MLP).explain(X, target="cat"), TypeError, r"target must be an int")
    err(f"{name}-target-wrong-length", lambda make=make: make(MLP).explain(X, target=[0, 1]), ValueError,
        r"target has shape \(2,\) but there are 5 samples")
    ok(f"{name}-half-input", lambda make=make: make(MLP).explain(X.half()), finite)
    ok(f"{name}-numpy-float64", lambda make=make: make(MLP).explain(X.double().numpy()), finite)
    ok(f"{name}-training-mode-restored", lambda make=make: (make(TRAINING).explain(X, target=0), TRAINING.training,
                                                            TRAINING[1].training),
       lambda r: r[1] and r[2] and finite(r[0]))
    if name == "DeepLift":  # DeepLIFT explains logits and says so
        err(f"{name}-probability-outputs", lambda make=make: make(SOFTMAXED).explain(X), ValueError, r"ends in softmax")
    else:
        ok(f"{name}-probability-outputs", lambda make=make: make(SOFTMAXED).explain(X), finite)
    ok(f"{name}-target-tensor", lambda make=make: make(MLP).explain(X, target=torch.tensor([0, 1, 2, 0, 1])),
       lambda e: e.target.tolist() == [0, 1, 2, 0, 1])

for name, make in {"IntegratedGradients": lambda: nbx.IntegratedGradients(MLP, steps=4),
                   "DeepLift": lambda: nbx.DeepLift(MLP)}.items():
    err(f"{name}-nan-baseline", lambda make=make: make().explain(X, baselines=torch.full((4,), float("nan"))),
        NonFiniteError, r"baselines holds NaN")
    err(f"{name}-inf-baseline", lambda make=make: make().explain(X, baselines=float("inf")), NonFiniteError,
        r"baselines holds inf")
    err(f"{name}-baseline-shape", lambda make=make: make().explain(X, baselines=torch.zeros(3)), ValueError,
        r"baselines have shape")

class HeadFirst(torch.nn.Module):  # the first Linear registered is not the first one applied
    def __init__(self) -> None:
        super().__init__()
        self.head, self.body = torch.nn.Linear(8, 3), torch.nn.Linear(4, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class InnerBug(torch.nn.Module):  # a mismatch between two of its own layers: torch's message stands
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = torch.nn.Linear(4, 8), torch.nn.Linear(7, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x))


err("Saliency-head-registered-first", lambda: nbx.Saliency(HeadFirst()).explain(torch.ones(2, 5)), ModelInputError,
    r"inputs have 5 features, the model takes 4")
err("Saliency-inner-layer-bug", lambda: nbx.Saliency(InnerBug()).explain(torch.ones(2, 4)), RuntimeError,
    r"mat1 and mat2 shapes cannot be multiplied \(2x8 and 7x3\)")
err("ExpectedGradients-nan-background", lambda: nbx.ExpectedGradients(MLP, X_NAN), NonFiniteError, r"background holds NaN at row 2")
err("ExpectedGradients-n_samples-0", lambda: nbx.ExpectedGradients(MLP, X, n_samples=0), ParameterError, r"n_samples must be an int >= 1")
err("Saliency-target-bool", lambda: nbx.Saliency(MLP).explain(X, target=True), TypeError, r"target must be an int output index")
err("IntegratedGradients-steps-0", lambda: nbx.IntegratedGradients(MLP, steps=0), ValueError, r"steps must be a positive int")
err("IntegratedGradients-sigma-negative", lambda: nbx.IntegratedGradients(MLP, sigma=-1.0), ParameterError, r"sigma must be a positive")
err("IntegratedGradients-rule", lambda: nbx.IntegratedGradients(MLP, rule="simpson"), ValueError, r"unknown integration rule 'simpson'")
err("SmoothGrad-noise-negative", lambda: nbx.SmoothGrad(MLP, noise=-0.1), ParameterError, r"noise .* must be a finite number >= 0")
err("SmoothGrad-noise-nan", lambda: nbx.SmoothGrad(MLP, noise=float("nan")), ParameterError, r"noise .* got nan")
err("SmoothGrad-n_samples-float", lambda: nbx.SmoothGrad(MLP, n_samples=2.5), ParameterError, r"n_samples must be an int >= 1")
err("DeepLift-eps-0", lambda: nbx.DeepLift(MLP, eps=0), ParameterError, r"eps must be a positive")
err("Saliency-internal_batch_size", lambda: nbx.Saliency(MLP, internal_batch_size=0), ValueError, r"internal_batch_size must be")
err("Saliency-internal_batch_size-bool", lambda: nbx.Saliency(MLP, internal_batch_size=True), ValueError,
    r"internal_batch_size must be 'auto' or a positive int, got True")
err("Saliency-cpu_memory_budget-0", lambda: nbx.Saliency(MLP, cpu_memory_budget=0), ValueError,
    r"cpu_memory_budget must be an int >= 1")
err("IntegratedGradients-steps-bool", lambda: nbx.IntegratedGradients(MLP, steps=True).explain(X), ValueError,
    r"steps must be a positive int, got True")
err("Saliency-not-a-module", lambda: nbx.Saliency(proba), TypeError, r"needs a torch.nn.Module")
err("Saliency-unknown-option", lambda: nbx.Saliency(MLP).explain(X, steps=3), TypeError, r"unknown option\(s\) \['steps'\]")

# images
for name, make in {"Saliency": lambda: nbx.Saliency(CNN), "GradCAM": lambda: nbx.GradCAM(CNN),
                   "LayerIntegratedGradients": lambda: nbx.LayerIntegratedGradients(CNN, CNN[0], steps=4)}.items():
    err(f"{name}-nhwc", lambda make=make: make().explain(IMG.permute(0, 2, 3, 1)), ModelInputError,
        r"images must be \(n, C, H, W\).*x.permute\(0, 3, 1, 2\)")
    err(f"{name}-image-no-batch-axis", lambda make=make: make().explain(IMG[0]), ModelInputError,
        r"without a batch axis.*x\[None\]")
    err(f"{name}-wrong-channels", lambda make=make: make().explain(IMG[:, :1]), ModelInputError,
        r"inputs have 1 channels.*takes 3")
    err(f"{name}-nan-image", lambda make=make: make().explain(torch.where(IMG > 2.5, float("nan"), IMG)),
        NonFiniteError, r"inputs holds NaN at row \d, position")
    ok(f"{name}-ok", lambda make=make: make().explain(IMG), finite)
err("GradCAM-unknown-layer", lambda: nbx.GradCAM(CNN, layer="nope"), (ValueError, KeyError, AttributeError), r"nope")

# KernelShap
for name, model in {"callable": proba, "torch": MLP, "sklearn": CLF}.items():
    err(f"KernelShap-{name}-nan-X", lambda m=model: nbx.KernelShap(m, T[:5]).explain(T_NAN[:5]), NonFiniteError,
        r"X holds NaN at row 3, column 2")
    err(f"KernelShap-{name}-nan-background", lambda m=model: nbx.KernelShap(m, T_NAN[:5]), NonFiniteError,
        r"background holds NaN at row 3")
    err(f"KernelShap-{name}-wrong-features", lambda m=model: nbx.KernelShap(m, T[:5]).explain(T[:2, :3]), ValueError,
        r"X has 3 features but the background.* has 4")
    err(f"KernelShap-{name}-string-X", lambda m=model: nbx.KernelShap(m, T[:5]).explain(np.array([["a"] * 4])),
        TypeError, r"X holds strings")
    err(f"KernelShap-{name}-target-range", lambda m=model: nbx.KernelShap(m, T[:5]).explain(T[:2], target=7),
        ValueError, r"target 7 is out of range")
err("KernelShap-torch-5-features", lambda: nbx.KernelShap(MLP, RNG.normal(size=(4, 5))).explain(RNG.normal(size=(1, 5))),
    ModelInputError, r"inputs have 5 features, the model takes 4")
err("KernelShap-n_samples-too-few", lambda: nbx.KernelShap(reg, RNG.normal(size=(3, 20)), n_samples=3), ParameterError,
    r"n_samples must be an int >= 42")
err("KernelShap-nan-model", lambda: nbx.KernelShap(returns_nan, T[:4]).explain(T[:2]), ValueError, r"returned NaN")
err("KernelShap-inf-model", lambda: nbx.KernelShap(returns_inf, T[:4]).explain(T[:2]), ValueError, r"returned inf")
err("KernelShap-inf-torch", lambda: nbx.KernelShap(NaNNet(float("inf")), T[:4]).explain(T[:2]), NonFiniteError,
    r"NaNNet.forward returned inf")
err("KernelShap-duplicate-names", lambda: nbx.KernelShap(proba, T[:4], feature_names=["a", "b", "a", "c"]), ValueError,
    r"feature_names has 'a' twice")
err("KernelShap-ragged-model", lambda: nbx.KernelShap(ragged, T[:3]).explain(T[:1]), ValueError, r"returned rows of different lengths")
err("KernelShap-background_summary", lambda: nbx.KernelShap(proba, T[:4], background_summary="median"), ValueError,
    r"background_summary must be 'kmeans' or 'sample'")
ok("KernelShap-torch-training-restored", lambda: (nbx.KernelShap(TRAINING, T[:4]).explain(T[:1]), TRAINING.training),
   lambda r: r[1] and finite(r[0]))
err("KernelShap-batch_size-0", lambda: nbx.KernelShap(proba, T[:4], batch_size=0), ParameterError, r"batch_size must be")
err("KernelShap-exact_max_features-big", lambda: nbx.KernelShap(proba, T[:4], exact_max_features=40), ParameterError,
    r"exact_max_features must be an int in 0\.\.20")
err("KernelShap-groups-strings", lambda: nbx.KernelShap(proba, T[:4], groups=[["a"], ["b"]]), TypeError, r"groups hold")
err("KernelShap-empty-background", lambda: nbx.KernelShap(proba, np.zeros((0, 4))), ValueError, r"background is empty")
# DataFrames with categories / missing values are explained in their columns (tests/models/test_frames*.py); a model
# that cannot take such a frame is named
err("KernelShap-categorical-frame", lambda: nbx.KernelShap(proba, DF_CAT).explain(DF_CAT.iloc[:1]), ValueError,
    r"given a DataFrame.*\['city'\] hold categories")
ok("KernelShap-nullable-frame", lambda: nbx.KernelShap(proba, DF_NA).explain(DF_NA.iloc[:2]), finite)
ok("KernelShap-dataframe", lambda: nbx.KernelShap(proba, DF).explain(DF.iloc[:2]), finite)
ok("KernelShap-sampled-error-estimate",
   lambda: nbx.KernelShap(reg, RNG.normal(size=(3, 20)), exact_max_features=8, n_samples=200).explain(np.ones((1, 20))),
   lambda e: np.isfinite(e.diagnostics["error_estimate"]).all() and (e.diagnostics["error_estimate"] >= 0).all())

# LIME, SHAP (tabular)
TABULAR = {
    "LimeTabularBatched": lambda m, d, **k: nbx.LimeTabularBatched(m, d, num_samples=50, **k),
    "LimeTabular": lambda m, d, **k: nbx.LimeTabular(m, d, num_samples=50, **k),
    "ShapTabular": lambda m, d, **k: nbx.ShapTabular(m, d, **k),
}
for name, make in TABULAR.items():
    err(f"{name}-nan-training", lambda make=make: make(proba, T_NAN), NonFiniteError, r"holds NaN at row 3, column 2")
    err(f"{name}-inf-training", lambda make=make: make(proba, T_INF), NonFiniteError, r"holds inf at row 1, column 0")
    err(f"{name}-nan-X", lambda make=make: make(proba, T).explain(T_NAN[3:4]), NonFiniteError, r"X holds NaN at row 0, column 2")
    if name == "LimeTabularBatched":  # takes DataFrames with categories and missing values
        err(f"{name}-string-frame", lambda make=make: make(proba, DF_STR).explain(DF_STR.iloc[:1]), ValueError,
            r"given a DataFrame.*\['city'\] hold categories")
        ok(f"{name}-nullable-frame", lambda make=make: make(proba, DF_NA).explain(DF_NA.iloc[:1]), finite)
    else:
        err(f"{name}-string-frame", lambda make=make: make(proba, DF_STR), TypeError, r"column 'city' holds strings.*encode")
        err(f"{name}-nullable-frame", lambda make=make: make(proba, DF_NA), NonFiniteError, r"holds NaN at row 1, column 3")
    err(f"{name}-names-length", lambda make=make: make(proba, T, feature_names=["a"]), ValueError, r"got 1 feature_names")
    err(f"{name}-names-duplicate", lambda make=make: make(proba, T, feature_names=["a", "b", "a", "c"]), ValueError,
        r"feature_names has 'a' twice")
    err(f"{name}-inf-model", lambda make=make: make(returns_inf, T).explain(T[:1]), ValueError, r"returned inf")
    err(f"{name}-ragged-model", lambda make=make: make(ragged, T).explain(T[:2]), ValueError, r"returned rows of different lengths")
    err(f"{name}-raising-model", lambda make=make: make(raises, T).explain(T[:1]), RuntimeError, r"boom inside the model")
    err(f"{name}-target-fraction", lambda make=make: make(proba, T).explain(T[:1], target=0.5), TypeError, r"target must be")
    err(f"{name}-torch-5-features", lambda make=make: make(MLP, RNG.normal(size=(20, 5))).explain(RNG.normal(size=(1, 5))),
        ModelInputError, r"inputs have 5 features, the model takes 4")
    ok(f"{name}-sklearn", lambda make=make: make(CLF, T).explain(T[:1]), finite)
    err(f"{name}-reordered-frame", lambda make=make: make(proba, DF).explain(DF[["score", "age", "income"]].iloc[:1]),
        ValueError, r"X has the columns of the training data in another order")
    err(f"{name}-other-frame", lambda make=make: make(proba, DF).explain(DF.rename(columns={"age": "AGE"}).iloc[:1]),
        ValueError, r"missing \['age'\]")
    ok(f"{name}-frame-names", lambda make=make: make(proba, DF).explain(DF.iloc[:1]),
       lambda e: e.feature_names == ["age", "income", "score"])
    err(f"{name}-nan-callable-target", lambda make=make: make(proba, T).explain(T[:1], target=lambda o: o[:, 0] * np.nan),
        ValueError, r"the callable target returned NaN")
err("LimeTabularBatched-kernel_width-0", lambda: nbx.LimeTabularBatched(proba, T, kernel_width=0), ParameterError,
    r"kernel_width must be a positive")
err("LimeTabularBatched-num_samples-5", lambda: nbx.LimeTabularBatched(proba, T, num_samples=5), ParameterError,
    r"num_samples must be an int >= 10")
err("LimeTabularBatched-categorical-floats", lambda: nbx.LimeTabularBatched(proba, T, categorical_features=[0.5]),
    TypeError, r"categorical_features must be a list of int")
err("LimeTabular-regressor-no-proba", lambda: nbx.LimeTabular(REG, T, num_samples=50).explain(T[:1]), ValueError,
    r"one column; for a regressor pass target=")
err("ShapTabular-max_evals-low", lambda: nbx.ShapTabular(proba, T, max_evals=3), ValueError, r"max_evals=3 is too low")


@pytest.mark.parametrize("row", ROWS.params())
def test_probe(row: Row) -> None:
    run_row(row)


def test_probe_is_large_enough() -> None:
    from test_probe_global import ROWS as GLOBAL

    assert len(ROWS) + len(GLOBAL) >= 150 and not {r.id for r in ROWS} & {r.id for r in GLOBAL}
