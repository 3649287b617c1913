"""The probe, part 2 (issue 10): text, global methods, diagnostics, codec, Explanation, predict wrapper, session.

The same table form as ``tests/core/test_probe.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from probe_support import (
    CLF,
    CNN,
    DF,
    DF_STR,
    IMAGES_NHWC,
    IMG,
    MLP,
    REG,
    RNG,
    T_NAN,
    Row,
    T,
    Table,
    Y,
    finite,
    proba,
    ragged,
    reg,
    returns_inf,
    returns_nan,
    run_row,
    text_f,
    wrong_rows,
)

import nbexplain as nbx
from nbexplain.validate import LabelError, ModelInputError, NonFiniteError, ParameterError

ROWS = Table()
err, ok = ROWS.err, ROWS.ok

# LIME image / text, token methods
err("LimeImage-nchw", lambda: nbx.LimeImage(proba, num_samples=10).explain(IMG.numpy()), ValueError,
    r"channels-last.*transpose\(0, 2, 3, 1\)")
err("LimeImage-torch-cnn", lambda: nbx.LimeImage(CNN, num_samples=10).explain(IMAGES_NHWC), ModelInputError,
    r"LimeImage passes the model channels-last images.*wrap it")
err("LimeImage-nan", lambda: nbx.LimeImage(proba, num_samples=10).explain(np.where(IMAGES_NHWC > 0.99, np.nan, IMAGES_NHWC)),
    NonFiniteError, r"images holds NaN")
err("LimeImage-strings", lambda: nbx.LimeImage(proba).explain(np.array([["a"]])), TypeError, r"images must be numeric")
err("LimeImage-num_samples-1", lambda: nbx.LimeImage(proba, num_samples=1), ParameterError, r"num_samples must be an int >= 2")
err("LimeImage-hide_color-nan", lambda: nbx.LimeImage(proba, hide_color=float("nan")), ParameterError, r"hide_color")
err("LimeImage-segmentation", lambda: nbx.LimeImage(proba, segmentation="watershed"), ValueError, r"segmentation must be one of")
err("LimeText-not-a-str", lambda: nbx.LimeText(text_f, num_samples=10).explain(None), TypeError, r"text must be one document")
err("LimeText-inf-model", lambda: nbx.LimeText(lambda d: np.full((len(d), 2), np.inf), num_samples=10).explain("a b"),
    NonFiniteError, r"predict_fn returned inf")
err("LimeText-ragged-model", lambda: nbx.LimeText(lambda d: [[0.5, 0.5]] + [[1.0]] * (len(d) - 1),
                                                  num_samples=10).explain("a b"), ValueError, r"predict_fn returned list")
err("LimeText-num_samples", lambda: nbx.LimeText(text_f, num_samples=0), ParameterError, r"num_samples must be an int >= 2")
err("LimeText-class_names-string", lambda: nbx.LimeText(text_f, class_names="ab"), ValueError, r"class_names is one string")
ok("LimeText-ok", lambda: nbx.LimeText(text_f, num_samples=20).explain("a good day"), finite)
for name, cls in {"TokenShap": lambda f: nbx.TokenShap(f, tokenizer=str.split),
                  "TokenOcclusion": lambda f: nbx.TokenOcclusion(f, tokenizer=str.split)}.items():
    err(f"{name}-none-in-list", lambda cls=cls: cls(text_f).explain(["good film", None]), TypeError, r"texts\[1\] is None, not a str")
    err(f"{name}-number-in-list", lambda cls=cls: cls(text_f).explain(["good film", 3]), TypeError, r"texts\[1\] is int 3, not a str")
    err(f"{name}-none", lambda cls=cls: cls(text_f).explain(None), TypeError, r"must be a str")
    err(f"{name}-target-fraction", lambda cls=cls: cls(text_f).explain("good film", target=1.5), TypeError, r"target must be an int")
    err(f"{name}-target-range", lambda cls=cls: cls(text_f).explain("good film", target=4), ValueError, r"target 4 is out of range")
    err(f"{name}-nan-model", lambda cls=cls: cls(lambda t: np.full((len(t), 2), np.nan)).explain("a b"), NonFiniteError,
        r"returned NaN")
    err(f"{name}-ragged-model", lambda cls=cls: cls(ragged).explain("a b c"), ValueError, r"not a numeric \(n, K\) array")
    err(f"{name}-torch-module", lambda cls=cls: cls(MLP), TypeError, r"bare torch module cannot read text")
    err(f"{name}-empty-text", lambda cls=cls: cls(text_f).explain(""), ValueError, r"has no tokens")
    ok(f"{name}-ok", lambda cls=cls: cls(text_f).explain("a good film"), lambda e: e.values.shape == (3,))
err("TokenShap-n_samples-few-for-long-text", lambda: nbx.TokenShap(text_f, tokenizer=str.split, max_exact=4, n_samples=16)
    .explain(" ".join(f"w{i}" for i in range(12))), ValueError, r"n_samples=16 is too few for a text of 12 tokens")
err("TokenShap-max_exact", lambda: nbx.TokenShap(text_f, max_exact=25), ParameterError, r"max_exact must be an int in 0\.\.20")
err("TokenShap-batch_size", lambda: nbx.TokenShap(text_f, batch_size=0), ParameterError, r"batch_size must be an int >= 1")

# global methods
err("permutation-nan-X", lambda: nbx.permutation_importance(proba, T_NAN, Y), NonFiniteError, r"X holds NaN at row 3, column 2")
err("permutation-nan-y", lambda: nbx.permutation_importance(proba, T, np.where(Y == 1, np.nan, 0.0)), NonFiniteError,
    r"y holds NaN")
err("permutation-string-y", lambda: nbx.permutation_importance(proba, T, np.array(["yes", "no"] * 20)), LabelError,
    r"y holds str labels")
err("permutation-probability-y", lambda: nbx.permutation_importance(proba, T, proba(T)[:, 1]), LabelError,
    r"y looks like probabilities")
err("permutation-label-range", lambda: nbx.permutation_importance(proba, T, Y * 3, metric="accuracy"), LabelError,
    r"y holds label 3 but the model gives 2 classes")
err("permutation-y-length", lambda: nbx.permutation_importance(proba, T, Y[:5]), ValueError, r"y has 5 entries but X has 40")
err("permutation-n_repeats-0", lambda: nbx.permutation_importance(proba, T, Y, n_repeats=0), ParameterError, r"n_repeats must be")
err("permutation-metric", lambda: nbx.permutation_importance(proba, T, Y, metric="auc"), ValueError, r"metric must be 'auto'")
err("permutation-inf-model", lambda: nbx.permutation_importance(returns_inf, T, Y), ValueError, r"returned inf")
err("permutation-dup-names", lambda: nbx.permutation_importance(proba, T, Y, feature_names=list("abca")), ValueError,
    r"feature_names has 'a' twice")
err("permutation-string-frame", lambda: nbx.permutation_importance(proba, DF_STR, Y), ValueError,
    r"given a DataFrame.*\['city'\] hold categories")
err("permutation-torch-5-features", lambda: nbx.permutation_importance(MLP, RNG.normal(size=(6, 5)), np.arange(6) % 3),
    ModelInputError, r"inputs have 5 features, the model takes 4")
ok("permutation-ok", lambda: nbx.permutation_importance(proba, T, Y, n_repeats=2), finite)
err("pdp-nan-X", lambda: nbx.partial_dependence(proba, T_NAN, 0), NonFiniteError, r"X holds NaN at row 3, column 2")
err("pdp-unknown-name", lambda: nbx.partial_dependence(proba, T, "agee", feature_names=list("abcd")), KeyError, r"unknown feature name")
err("pdp-dup-names", lambda: nbx.partial_dependence(proba, T, "a", feature_names=list("abca")), ValueError, r"feature_names has 'a' twice")
err("pdp-grid_resolution", lambda: nbx.partial_dependence(proba, T, 0, grid_resolution=1), ValueError, r"grid_resolution must be")
err("pdp-percentiles", lambda: nbx.partial_dependence(proba, T, 0, percentiles=(0.9, 0.1)), ValueError, r"percentiles must be")
err("pdp-inf-model", lambda: nbx.partial_dependence(returns_inf, T, 0), ValueError, r"returned inf")
err("pdp-target-range", lambda: nbx.partial_dependence(proba, T, 0, target=5), ValueError, r"target 5 is out of range")
err("pdp-1d-X", lambda: nbx.partial_dependence(proba, T[0], 0), ValueError, r"X must be 2-D")
ok("pdp-frame-name", lambda: nbx.partial_dependence(proba, DF, "age", grid_resolution=3), lambda r: r.feature_names == ["age"])
ok("permutation-frame-names", lambda: nbx.permutation_importance(proba, DF, Y, n_repeats=1),
   lambda e: e.feature_names == ["age", "income", "score"])
ok("pdp-ok", lambda: nbx.partial_dependence(proba, T, 1, grid_resolution=4), lambda r: np.isfinite(r.average).all())
err("GlobalSurrogate-one-row", lambda: nbx.GlobalSurrogate(reg).fit(T[:1]), ValueError, r"X has 1 row: too few")
err("GlobalSurrogate-one-row-no-holdout", lambda: nbx.GlobalSurrogate(reg, holdout=0).fit(T[:1]), ValueError, r"X has 1 row")
err("GlobalSurrogate-holdout-1", lambda: nbx.GlobalSurrogate(reg, holdout=1.0), ParameterError, r"holdout must be")
err("GlobalSurrogate-max_depth-0", lambda: nbx.GlobalSurrogate(reg, kind="tree", max_depth=0), ParameterError, r"max_depth must be")
err("GlobalSurrogate-kind", lambda: nbx.GlobalSurrogate(reg, kind="forest"), ValueError, r"kind must be one of")
err("GlobalSurrogate-nan-X", lambda: nbx.GlobalSurrogate(reg).fit(T_NAN), NonFiniteError, r"X holds NaN")
err("GlobalSurrogate-inf-model", lambda: nbx.GlobalSurrogate(returns_inf).fit(T), ValueError, r"returned inf")
ok("GlobalSurrogate-small-held-out", lambda: nbx.GlobalSurrogate(reg).fit(T[:3]), lambda s: s.n_holdout >= 1)
err("LocalSurrogate-kernel_width-0", lambda: nbx.LocalSurrogate(reg, T, kernel_width=0), ParameterError,
    r"kernel_width must be a positive")
err("LocalSurrogate-kernel_width-nan", lambda: nbx.LocalSurrogate(reg, T, kernel_width=float("nan")), ParameterError,
    r"kernel_width")
err("LocalSurrogate-one-row-background", lambda: nbx.LocalSurrogate(reg, T[:1]), ValueError, r"X_background has 1 row")
err("LocalSurrogate-constant-background", lambda: nbx.LocalSurrogate(reg, np.ones((5, 4))), ValueError, r"every feature of X_background is constant")
err("LocalSurrogate-num_samples", lambda: nbx.LocalSurrogate(reg, T, num_samples=3), ParameterError, r"num_samples must be an int >= 10")
err("LocalSurrogate-n_bins-0", lambda: nbx.LocalSurrogate(reg, T, n_bins=0), ParameterError, r"n_bins must be")
err("LocalSurrogate-nan-X", lambda: nbx.LocalSurrogate(reg, T, num_samples=20).explain(T_NAN[3]), NonFiniteError, r"X holds NaN at row 0, column 2")
err("LocalSurrogate-wrong-features", lambda: nbx.LocalSurrogate(reg, T, num_samples=20).explain(T[0, :3]), ValueError,
    r"mismatched feature counts")
ok("LocalSurrogate-ok", lambda: nbx.LocalSurrogate(reg, T, num_samples=50).explain(T[0]),
   lambda e: e.diagnostics["fidelity"][0] > 0.99 and finite(e))

# diagnostics
err("error_analysis-string-y", lambda: nbx.error_analysis(proba, T, np.array(["a", "b"] * 20)), LabelError, r"y holds str labels")
err("error_analysis-label-range", lambda: nbx.error_analysis(proba, T, Y + 3), LabelError, r"y holds label \d but the model gives 2")
err("error_analysis-probability-y", lambda: nbx.error_analysis(proba, T, proba(T)), LabelError, r"probabilities or one-hot")
err("error_analysis-fraction-y", lambda: nbx.error_analysis(proba, T, Y + 0.5, task="classification"), LabelError,
    r"y holds \d\.5 at row \d+, not a class index")
err("error_analysis-nan-y", lambda: nbx.error_analysis(reg, T, np.where(Y == 1, np.nan, 0.0)), NonFiniteError, r"y holds NaN")
err("error_analysis-inf-model", lambda: nbx.error_analysis(returns_inf, T, Y), ValueError, r"returned inf")
err("error_analysis-nan-model", lambda: nbx.error_analysis(returns_nan, T, Y), ValueError, r"returned NaN")
err("error_analysis-y-length", lambda: nbx.error_analysis(proba, T, Y[:3]), ValueError, r"y has 3 values but X has 40 rows")
err("error_analysis-dup-class-names", lambda: nbx.error_analysis(proba, T, Y, class_names=["a", "a"]), ValueError, r"class_names has 'a' twice")
ok("error_analysis-ok", lambda: nbx.error_analysis(CLF, T, Y), lambda r: r.confusion.shape == (2, 2))
err("slice_metrics-dup-names", lambda: nbx.slice_metrics(proba, T, Y, "a", feature_names=list("abca")), ValueError,
    r"feature_names has 'a' twice")
err("slice_metrics-min_size-0", lambda: nbx.slice_metrics(proba, T, Y, 0, min_size=0), ParameterError, r"min_size must be")
err("slice_metrics-bins-0", lambda: nbx.slice_metrics(proba, T, Y, 0, bins=0), ValueError, r"bins must be a positive int")
err("slice_metrics-string-y", lambda: nbx.slice_metrics(proba, T, np.array(["a", "b"] * 20), 0), LabelError, r"y holds str labels")
ok("slice_metrics-ok", lambda: nbx.slice_metrics(proba, DF, Y, "age", bins=2), lambda r: len(r.slices) == 2)

# codec, Explanation, as_predict_fn, ExplainSession
ENC = nbx.encode_array(np.arange(6, dtype=np.float32).reshape(2, 3))
err("decode-truncated", lambda: nbx.decode_array({**ENC, "data": bytes(ENC["data"])[:-3]}), ValueError,
    r"encoded data is truncated: 21 bytes, but shape \[2, 3\] of float32 needs 24")
err("decode-too-long", lambda: nbx.decode_array({**ENC, "data": bytes(ENC["data"]) + b"\0"}), ValueError, r"too long")
err("decode-bad-shape", lambda: nbx.decode_array({**ENC, "shape": ["a"]}), ValueError, r"encoded shape must be a list of ints")
err("decode-negative-shape", lambda: nbx.decode_array({**ENC, "shape": [-2, -3]}), ValueError, r"negative size")
err("decode-not-a-buffer", lambda: nbx.decode_array({**ENC, "data": 12}), TypeError, r"encoded data must be a bytes-like")
err("decode-not-a-dict", lambda: nbx.decode_array(b"abc"), TypeError, r"encoded must be the dict")
err("decode-scale-nan", lambda: nbx.decode_array({**ENC, "scale": float("nan")}), ValueError, r"scale nan .* must be finite")
err("encode-string", lambda: nbx.encode_array(np.array(["a"])), TypeError, r"cannot encode an array of dtype")
ok("decode-roundtrip", lambda: nbx.decode_array(ENC), lambda a: a.tolist() == [[0, 1, 2], [3, 4, 5]])
err("Explanation-1d", lambda: nbx.Explanation(np.zeros(3)), ValueError, r"values must be \(n, \*feature_shape\)")
err("Explanation-empty", lambda: nbx.Explanation(np.zeros((0, 3))), ValueError, r"empty explanation")
err("Explanation-names-length", lambda: nbx.Explanation(np.zeros((1, 3)), feature_names=["a"]), ValueError, r"got 1 feature_names")
# repeated names are kept in an Explanation (texts repeat words; views label them "a (2)"); the
# explainers, where a name selects a column, refuse them (KernelShap-duplicate-names and others)
ok("Explanation-dup-names-kept", lambda: nbx.Explanation(np.zeros((1, 2)), feature_names=["a", "a"]),
   lambda e: e.feature_names == ["a", "a"])
err("as_predict_fn-inf", lambda: nbx.as_predict_fn(returns_inf)(T), ValueError, r"returned inf for 1 of 40 rows")

err("as_predict_fn-torch-5-features", lambda: nbx.as_predict_fn(MLP)(np.ones((2, 5))), ModelInputError,
    r"inputs have 5 features, the model takes 4")
err("as_predict_fn-ragged", lambda: nbx.as_predict_fn(ragged)(T), ValueError, r"returned rows of different lengths")
err("error_analysis-ragged", lambda: nbx.error_analysis(ragged, T, Y), ValueError, r"returned rows of different lengths")
err("as_predict_fn-nan", lambda: nbx.as_predict_fn(returns_nan)(T), ValueError, r"returned NaN")
err("as_predict_fn-no-proba", lambda: nbx.as_predict_fn(REG, output="probabilities"), TypeError, r"has predict but no predict_proba")
err("as_predict_fn-output", lambda: nbx.as_predict_fn(proba, output="softmax"), ValueError, r"output must be one of")
err("as_predict_fn-batch_size", lambda: nbx.as_predict_fn(proba, batch_size=0), ValueError, r"batch_size must be a positive int")
err("as_predict_fn-wrong-rows", lambda: nbx.as_predict_fn(wrong_rows)(T), ValueError, r"returned shape \(39, 2\) for 40 input rows")
err("as_predict_fn-strings-out", lambda: nbx.as_predict_fn(lambda A: np.array(["x"] * len(A)))(T), TypeError, r"must return numbers")
err("ExplainSession-string-y", lambda: nbx.ExplainSession(proba, T, np.array(["a", "b"] * 20)), ValueError, r"y must be class indices")
err("ExplainSession-y-length", lambda: nbx.ExplainSession(proba, T, Y[:3]), ValueError, r"y must hold one label per sample")
err("ExplainSession-names-length", lambda: nbx.ExplainSession(proba, T, feature_names=["a"]), ValueError, r"got 1 feature_names but X has 4 features")
err("ExplainSession-dup-names", lambda: nbx.ExplainSession(proba, T, feature_names=list("abca")), ValueError, r"twice")
err("ExplainSession-none-text", lambda: nbx.ExplainSession(text_f, ["good", None]), TypeError, r"None, not a str")
err("ExplainSession-nan-background", lambda: nbx.ExplainSession(proba, T, background=T_NAN), NonFiniteError,
    r"background holds NaN")
err("ExplainSession-nan-sample", lambda: nbx.ExplainSession(proba, T_NAN, feature_names=list("abcd")).explain(
    int(np.flatnonzero(np.isnan(T_NAN).any(1))[0]), "kernel_shap"), NonFiniteError,
    r"sample \d+ holds NaN in feature '[abcd]' \(column \d\)")
err("ExplainSession-fraction-y", lambda: nbx.ExplainSession(proba, T, Y + 0.5), ValueError, r"y must be class indices")



@pytest.mark.parametrize("row", ROWS.params())
def test_probe(row: Row) -> None:
    run_row(row)


def test_top_level_exports() -> None:
    assert nbx.TokenShap.__name__ == "TokenShap" and nbx.TokenOcclusion.__name__ == "TokenOcclusion"
    assert "TokenShap" in nbx.__all__
