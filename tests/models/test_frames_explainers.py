"""The tabular explainers on a scikit-learn Pipeline over a DataFrame with mixed columns and missing values.

KernelShap against exact Shapley values enumerated with pandas (independent of the encoding) and
against shap.KernelExplainer on the same encoded problem (identity and logit link); LIME's
categorical features and missing-value bin; permutation importance, PDP/ICE and the surrogates in
the user's columns. Every test checks that the caller's DataFrame is unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from frames_support import exact_shapley, frame, pipeline

import nbexplain as nbx
from nbexplain.frames import FrameEncoding
from nbexplain.validate import NonFiniteError


@pytest.fixture(scope="module")
def data():
    df, y = frame(240)
    return df, y, pipeline(df, y)


def logit(p):
    return np.log(p) - np.log1p(-p)


def test_kernel_shap_is_exact_shapley_over_the_users_columns(data):
    df, _y, pipe = data
    copy = df.copy()
    bg, X = df.iloc[:12].reset_index(drop=True), df.iloc[[100, 101, 107]]
    ks = nbx.KernelShap(pipe, bg)  # no feature_names: the frame names the features
    e = ks.explain(X, target=1)
    assert e.feature_names == list(df.columns) and e.values.shape == (3, 5) and e.method == "kernel_shap_exact"
    f1 = lambda d: pipe.predict_proba(d)[:, 1]  # noqa: E731
    for i in range(3):
        ref = exact_shapley(f1, X.iloc[[i]].reset_index(drop=True), bg)
        np.testing.assert_allclose(e.values[i], ref, atol=1e-10)
    np.testing.assert_allclose(e.values.sum(1), e.outputs - e.base_values, atol=1e-12)  # efficiency
    np.testing.assert_allclose(e.outputs, pipe.predict_proba(X)[:, 1], atol=1e-12)
    np.testing.assert_allclose(e.base_values, pipe.predict_proba(bg)[:, 1].mean(), atol=1e-12)
    pd.testing.assert_frame_equal(df, copy)
    assert any(np.isnan(X["mean texture"])) or any(X["size"].isna())  # a sample with a missing value


def test_kernel_shap_logit_link_is_exact_in_log_odds(data):
    df, _y, pipe = data
    bg, x = df.iloc[:10].reset_index(drop=True), df.iloc[[120]]
    e = nbx.KernelShap(pipe, bg, link="logit").explain(x, target=1)
    ref = exact_shapley(lambda d: pipe.predict_proba(d)[:, 1], x.reset_index(drop=True), bg, link=logit)
    np.testing.assert_allclose(e.values[0], ref, atol=1e-9)
    np.testing.assert_allclose(e.base_values, logit(pipe.predict_proba(bg)[:, 1].mean()), atol=1e-12)
    np.testing.assert_allclose(e.values.sum(1) + e.base_values, logit(pipe.predict_proba(x)[:, 1]), atol=1e-9)
    assert e.params["link"] == "logit" and "link='logit'" in repr(nbx.KernelShap(pipe, bg, link="logit"))


@pytest.mark.parametrize("link", ["identity", "logit"])
def test_kernel_shap_agrees_with_shap_kernel_explainer_on_the_encoded_problem(data, link):
    import shap

    df, _y, pipe = data
    enc = FrameEncoding.fit(df)
    bg, X = enc.encode(df.iloc[:15]), enc.encode(df.iloc[[130, 131]])
    f = lambda A: pipe.predict_proba(enc.decode(A))[:, 1]  # noqa: E731
    ref = shap.KernelExplainer(f, bg, link=link).shap_values(X, nsamples=200, silent=True)  # 2**5: every coalition
    ours = nbx.KernelShap(pipe, df.iloc[:15], link=link).explain(df.iloc[[130, 131]], target=1)
    np.testing.assert_allclose(ours.values, np.asarray(ref), atol=1e-6)
    ours_codes = nbx.KernelShap(pipe, bg, encoding=enc, link=link).explain(X, target=1)  # codes + encoding
    np.testing.assert_allclose(ours_codes.values, ours.values, atol=1e-12)


def test_kernel_shap_sampled_keeps_efficiency_and_names(data):
    df, y, _pipe = data
    wide = df.assign(**{f"n{k}": df["mean radius"] * k for k in range(1, 5)})
    model = pipeline(df, y)
    f = lambda d: model.predict_proba(d[df.columns])  # noqa: E731
    e = nbx.KernelShap(f, wide.iloc[:8], exact_max_features=4, n_samples=120).explain(wide.iloc[[50]])
    assert e.method == "kernel_shap" and e.feature_names == list(wide.columns)
    np.testing.assert_allclose(e.values.sum(1), e.outputs - e.base_values, atol=1e-10)
    assert np.abs(e.values[0, 5:]).max() < 0.02  # columns the model ignores: about nothing (sampled)


def test_kernel_shap_logit_refuses_saturated_probabilities_by_name():
    f = lambda X: np.c_[1 - (X[:, 0] > 0), (X[:, 0] > 0)].astype(float)  # noqa: E731
    with pytest.raises(NonFiniteError, match=r"link='logit' needs outputs strictly between 0 and 1.*link='identity'"):
        nbx.KernelShap(f, np.zeros((3, 2)), link="logit").explain(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"link must be one of \('identity', 'logit'\)"):
        nbx.KernelShap(f, np.zeros((3, 2)), link="log")


def test_kernel_shap_kmeans_background_stands_clusters_by_real_rows(data):
    df, _y, pipe = data
    ks = nbx.KernelShap(pipe, df.iloc[:120], background_size=8)
    assert len(ks.background) <= 8 and np.isclose(ks.background_weights.sum(), 1.0)
    rows = ks.encoding.decode(ks.background)
    for _, row in rows.iterrows():  # each summary row is a row of the data (its medoid), categories intact
        same = (df.iloc[:120]["mean radius"] == row["mean radius"]) & (df.iloc[:120]["visits"] == row["visits"])
        assert same.any()
    assert rows["visits"].dtype == np.int64


def test_lime_batched_takes_categorical_columns_and_missing_values(data):
    df, _y, pipe = data
    copy = df.copy()
    seen: list[pd.DataFrame] = []

    class Spy:
        def predict_proba(self, d):
            seen.append(d)
            return pipe.predict_proba(d)

    lime = nbx.LimeTabularBatched(Spy(), df, num_samples=2000, seed=3)
    assert lime.categorical_features == [2, 3] and lime.feature_names == list(df.columns)
    nan_row = int(np.flatnonzero(df["mean texture"].isna())[0])
    e = lime.explain(df.iloc[[5, nan_row]])
    assert e.values.shape == (2, 5) and np.isfinite(e.values).all() and e.encoding is lime.encoding
    drawn = seen[-1]
    assert set(drawn["size"].dropna()) <= set(df["size"].dropna()) and drawn["grade"].dtype == df["grade"].dtype
    share = drawn["mean texture"].isna().mean()  # the missing-value bin is drawn at its training frequency
    assert abs(share - df["mean texture"].isna().mean()) < 0.03
    assert lime.explain(df.iloc[[5]]).values.tolist() == e.values[:1].tolist()  # seeded, per row
    pd.testing.assert_frame_equal(df, copy)
    with pytest.raises(ValueError, match=r"column 'mean texture' has missing values.*discretize_continuous=True"):
        nbx.LimeTabularBatched(pipe, df, discretize_continuous=False)


def test_permutation_importance_in_the_users_columns(data):
    df, y, pipe = data
    copy = df.copy()
    only_size = lambda d: np.c_[(d["size"] != "large").to_numpy(float), (d["size"] == "large").to_numpy(float)]  # noqa: E731
    e = nbx.permutation_importance(only_size, df, (df["size"] == "large").to_numpy(int), n_repeats=3)
    assert e.feature_names == list(df.columns)
    assert e.values[0, 2] > 0.1 and np.all(e.values[0, [0, 1, 3, 4]] == 0.0)
    e2 = nbx.permutation_importance(pipe, df, y, n_repeats=2)
    assert e2.values.shape == (1, 5) and np.isfinite(e2.values).all()
    pd.testing.assert_frame_equal(df, copy)


def test_pdp_of_a_categorical_column_is_over_its_categories_and_labelled(data):
    df, _y, pipe = data
    copy = df.copy()
    r = nbx.partial_dependence(pipe, df, "size", target=1)
    assert r.categorical == [True] and r.grid_labels == [["large", "medium", "small", "(missing)"]]
    for g, label in zip(r.grid[0], r.grid_labels[0], strict=True):
        value = None if label == "(missing)" else label
        expected = pipe.predict_proba(df.assign(size=pd.Series([value] * len(df), dtype=object)))[:, 1]
        np.testing.assert_allclose(r.average[int(g)], expected.mean(), atol=1e-12)
        np.testing.assert_allclose(r.ice[:, int(g)], expected, atol=1e-12)
    num = nbx.partial_dependence(pipe, df, "mean texture", grid_resolution=5, target=1)
    assert num.grid_labels == [None] and np.isfinite(num.grid[0]).all()  # missing values are no grid point
    with pytest.raises(ValueError, match=r"feature 'grade' is categorical.*categorical=True"):
        nbx.partial_dependence(pipe, df, "grade", categorical=False)
    pd.testing.assert_frame_equal(df, copy)


def test_global_surrogate_keeps_one_coefficient_per_column(data):
    df, _y, pipe = data
    copy = df.copy()
    fit = nbx.GlobalSurrogate(pipe, kind="linear", target=1).fit(df)
    assert fit.feature_names == list(df.columns) and np.shape(fit.coef) == (5,)
    assert set(fit.category_values) == {"size", "grade"} and set(fit.category_values["size"]) == {
        "large", "medium", "small", "(missing)"}
    assert fit.fidelity > 0.8
    e = fit.explain(df.iloc[:6])
    D = fit.design(e.data)
    np.testing.assert_allclose(e.values.sum(1) + e.base_values, fit.estimator.predict(D), atol=1e-10)
    assert e.feature_names == list(df.columns) and e.data_frame()["size"].tolist() == df["size"].iloc[:6].tolist()
    tree = nbx.GlobalSurrogate(pipe, kind="tree", max_depth=2).fit(df)
    assert any(name in tree.tree_text for name in df.columns)
    pd.testing.assert_frame_equal(df, copy)


def test_local_surrogate_draws_categories_and_passes_missing_values(data):
    df, _y, _pipe = data
    effect = {"large": 3.0, "medium": 1.0, "small": 0.0}

    def f(d):
        return (2.0 * d["mean radius"].to_numpy() + d["size"].map(effect).fillna(-1.0).to_numpy())[:, None]

    ls = nbx.LocalSurrogate(f, df, num_samples=3000, seed=1)
    i = int(np.flatnonzero((df["size"] == "large").to_numpy() & df["mean texture"].isna().to_numpy())[0])
    e = ls.explain(df.iloc[[i]])
    coef = e.diagnostics["coefficients"][0]
    assert abs(coef[0] - 2.0) < 0.01 and coef[2] > 2.0  # keeping "large" beats any other category
    assert e.values[0, 1] == 0.0  # x's missing texture reaches the model as NaN: no slope, no value
    np.testing.assert_allclose(e.base_values + e.values.sum(1), e.diagnostics["intercept"], atol=1e-10)
    share = (df["size"] == "large").mean()
    np.testing.assert_allclose(e.values[0, 2], coef[2] * (1 - share), atol=1e-10)


def test_ordinal_encoder_pipeline_with_native_missing_values(data):
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    df, y, _ = data
    enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2)
    model = make_pipeline(make_column_transformer((enc, ["size", "grade"]), remainder="passthrough"),
                          HistGradientBoostingClassifier(max_iter=10, random_state=0)).fit(df, y)  # NaN taken natively
    bg, x = df.iloc[:4].reset_index(drop=True), df.iloc[[int(np.flatnonzero(df["mean texture"].isna())[0])]]
    e = nbx.KernelShap(model, bg).explain(x, target=1)
    ref = exact_shapley(lambda d: model.predict_proba(d)[:, 1], x.reset_index(drop=True), bg)
    np.testing.assert_allclose(e.values[0], ref, atol=1e-10)


def test_a_model_without_an_imputer_gets_our_message_on_missing_values():
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    lr = LogisticRegression().fit(X.to_numpy(), [0, 0, 1, 1])  # fitted on an array
    with pytest.raises(ValueError, match=r"missing values in \['b'\], kept as NaN.*SimpleImputer"):
        nbx.KernelShap(lr, X).explain(X.assign(b=[np.nan, 0.0, 1.0, 0.0]).iloc[:1])
