"""LIME's neighbourhood: exactly the samples each explanation is fitted on, refits without the model, seeds.

References are independent of the code under test: sklearn's ``Ridge`` and lime's own
``LimeBase.explain_instance_with_data`` refit on the returned samples, the explainers' own
``explain`` with the same settings, separate single-seed runs, sklearn's PCA.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pytest
import torch
import traitlets
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nbexplain.explainers.perturbation.lime_batched import LimeTabularBatched
from nbexplain.explainers.perturbation.lime_package import LimeImage, LimeText
from nbexplain.explainers.teaching.lime_neighbourhood import NeighbourhoodSession, pca_2d
from nbexplain.explainers.teaching.lime_samples import kept_words, masked_images
from nbexplain.widgets import LimeNeighbourhoodView
from nbexplain.widgets.teaching.lime_neighbourhood_charts import MAX_POINTS
from tests.core.test_state_guard import assert_same, snapshot, table_model

HOSTILE = ['<img src=x onerror="window.__nbx_pwned=1">', "<script>window.__nbx_pwned=1</script>", "a & b"]


class Counting:
    """predict_proba that counts calls and rows (the model calls a refit makes)."""

    def __init__(self, model: Any) -> None:
        self.model, self.calls, self.rows = model, 0, 0

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.rows += len(X)
        return self.model.predict_proba(X)


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, Any]:
    X, y = load_breast_cancer(return_X_y=True)
    return X, make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)


def _lime_fit(Z: np.ndarray, y: np.ndarray, d: np.ndarray, width: float) -> tuple[float, np.ndarray, float]:
    """lime's own fit (LimeBase with its default kernel) on given samples: (intercept, coef, score)."""
    from lime.lime_base import LimeBase

    kernel = partial(lambda d, kernel_width: np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2)), kernel_width=width)
    base = LimeBase(kernel, random_state=0)
    b, exp, score, _ = base.explain_instance_with_data(Z, y[:, None], d, 0, Z.shape[1], feature_selection="none")
    coef = np.zeros(Z.shape[1])
    for f, w in exp:
        coef[f] = w
    return float(b), coef, float(score)


# -- tables ---------------------------------------------------------------------------------------------
def test_table_neighbourhood_is_the_one_explain_fits(cancer: tuple[np.ndarray, Any]) -> None:
    X, model = cancer
    lime = LimeTabularBatched(model, X, num_samples=2000, seed=4)
    e = lime.explain(X[7:8], target=1)
    nb = lime.neighbourhood(X[7], target=1)
    Z, w, y = nb["interpretable"], nb["weights"], nb["y"]
    assert Z.shape == (2000, 30) and np.array_equal(nb["rows"][0], X[7]) and np.all(Z[0] == 1)
    # the rows are what the model was asked about, and y is its output for the class explained
    assert np.allclose(model.predict_proba(nb["rows"]), nb["outputs"], atol=1e-12) and np.array_equal(y, nb["outputs"][:, 1])
    # lime's kernel on the euclidean distance in the surrogate's inputs
    assert np.allclose(nb["distances"], np.linalg.norm(Z - Z[0], axis=1), atol=1e-12)
    assert np.allclose(w, np.sqrt(np.exp(-nb["distances"] ** 2 / lime.kernel_width ** 2)), atol=1e-12)
    # an independent weighted ridge on the returned samples reproduces the explanation
    ridge = Ridge(alpha=1.0).fit(Z, y, sample_weight=w)
    assert np.abs(ridge.coef_ - e.values[0]).max() < 1e-10
    assert abs(ridge.intercept_ - e.base_values[0]) < 1e-10
    assert abs(ridge.score(Z, y, sample_weight=w) - e.diagnostics["score"][0]) < 1e-10
    # and so does lime's own fit (its score is the weighted R^2 the view shows)
    b, coef, score = _lime_fit(Z, y, nb["distances"], lime.kernel_width)
    assert np.abs(coef - e.values[0]).max() < 1e-10 and abs(score - nb["score"]) < 1e-10 and abs(b - nb["intercept"]) < 1e-10
    assert np.allclose(nb["surrogate"], ridge.predict(Z), atol=1e-10)


def test_session_runs_equal_fresh_explainers_at_other_settings(cancer: tuple[np.ndarray, Any]) -> None:
    X, model = cancer
    s = NeighbourhoodSession.for_table(model, X[3], X, num_samples=1500, seed=2, n_seeds=2)
    for seed, S, width in [(2, 1500, None), (3, 1500, 2.0), (2, 700, 6.5), (3, 2600, 1.3)]:
        nb = s.run(seed, S, width)
        ref = LimeTabularBatched(model, X, num_samples=S, seed=seed, kernel_width=width).explain(X[3:4])
        assert np.abs(nb.coef - ref.values[0]).max() < 1e-10, (seed, S, width)
        assert abs(nb.score - ref.diagnostics["score"][0]) < 1e-10 and abs(nb.intercept - ref.base_values[0]) < 1e-10
        assert nb.target == int(ref.target[0]) and nb.interpretable.shape == (S, 30)
        assert abs(nb.local_prediction - ref.diagnostics["local_prediction"][0]) < 1e-10


def test_kernel_width_and_fewer_samples_use_the_cached_outputs(cancer: tuple[np.ndarray, Any]) -> None:
    X, raw = cancer
    model = Counting(raw)
    s = NeighbourhoodSession.for_table(model, X[5], X, num_samples=1000, n_seeds=4)
    s.spread()
    assert model.calls == 4 and s.model_calls == 4  # one call per seed, the first one's drawn in the constructor
    before = model.calls
    for width in (0.8, 2.0, 9.0):
        s.run(kernel_width=width)
        s.spread(kernel_width=width)
    for S in (800, 300):  # fewer samples: the first rows of the neighbourhood drawn, no model call
        s.spread(num_samples=S, kernel_width=2.0)
    assert model.calls == before, "a refit at another kernel width or with fewer samples called the model"
    rows = model.rows
    s.spread(num_samples=1200)  # more samples: the model sees only the 200 new rows of each seed
    assert model.calls == before + 4 and model.rows == rows + 4 * 200
    ref = LimeTabularBatched(raw, X, num_samples=1200, seed=3).explain(X[5:6])
    assert np.abs(s.run(3, 1200).coef - ref.values[0]).max() < 1e-10
    assert np.abs(s.run(1, 300, 2.0).coef - LimeTabularBatched(raw, X, num_samples=300, seed=1, kernel_width=2.0)
                  .explain(X[5:6]).values[0]).max() < 1e-10


def test_continuous_mode_is_not_a_prefix_and_is_redrawn(cancer: tuple[np.ndarray, Any]) -> None:
    """Without binning the draws are normals after the uniforms: fewer samples are NOT the first rows."""
    X, raw = cancer
    model = Counting(raw)
    s = NeighbourhoodSession.for_table(model, X[0], X, num_samples=500, n_seeds=1, discretize_continuous=False)
    nb = s.run(num_samples=300)
    assert model.calls == 2
    ref = LimeTabularBatched(raw, X, num_samples=300, discretize_continuous=False).explain(X[:1])
    assert np.abs(nb.coef - ref.values[0]).max() < 1e-10


def test_seed_spread_equals_separate_runs(cancer: tuple[np.ndarray, Any]) -> None:
    X, model = cancer
    s = NeighbourhoodSession.for_table(model, X[11], X, num_samples=600, seed=5, n_seeds=20)
    sp = s.spread()
    assert sp.seeds == list(range(5, 25)) and sp.coefs.shape == (20, 30)
    for j in (0, 7, 19):
        one = LimeTabularBatched(model, X, num_samples=600, seed=5 + j).explain(X[11:12])
        assert np.abs(sp.coefs[j] - one.values[0]).max() < 1e-10
    many = LimeTabularBatched(model, X, num_samples=600, seed=5, n_seeds=20).explain(X[11:12])
    assert np.abs(sp.mean - many.values[0]).max() < 1e-10
    assert np.abs(sp.std - many.diagnostics["seed_std"][0]).max() < 1e-10
    assert np.abs(sp.std_error - many.diagnostics["std_error"][0]).max() < 1e-10
    assert sp.topk_overlap == pytest.approx(many.diagnostics["topk_overlap"][0], abs=1e-12) and sp.top_k == 5
    # by hand: the share of the top-5 features two runs have in common, over all pairs
    tops = [set(np.argsort(-np.abs(c), kind="stable")[:5]) for c in sp.coefs]
    pairs = [len(tops[a] & tops[b]) / 5 for a in range(20) for b in range(a + 1, 20)]
    assert sp.topk_overlap == pytest.approx(np.mean(pairs), abs=1e-12)
    assert np.allclose(sp.std, sp.coefs.std(0, ddof=1))
    # the kernel width changes every run's fit, and the spread follows
    wide = s.spread(kernel_width=20.0)
    one = LimeTabularBatched(model, X, num_samples=600, seed=9, kernel_width=20.0).explain(X[11:12])
    assert np.abs(wide.coefs[4] - one.values[0]).max() < 1e-10


def test_pca_projection_matches_sklearn() -> None:
    Z = np.random.default_rng(0).integers(0, 2, (300, 6)).astype(float) * [1, 2, 1, 3, 1, 1]
    p = pca_2d(Z)
    ref = PCA(2).fit(Z)
    assert np.allclose(p.explained, ref.explained_variance_ratio_, atol=1e-12)
    points = ref.transform(Z)
    for k in range(2):
        assert np.allclose(np.abs(p.points[:, k]), np.abs(points[:, k]), atol=1e-10)
    assert "PCA" in p.method


# -- lime's images and text -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, Any]:
    X, y = load_digits(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(X[:600] / 16.0, y[:600])
    rgb = np.repeat(np.kron(X.reshape(-1, 8, 8) / 16.0, np.ones((3, 3)))[..., None], 3, axis=-1)

    def predict(batch: np.ndarray) -> np.ndarray:
        red = np.asarray(batch)[..., 0]
        return clf.predict_proba(red.reshape(len(red), 8, 3, 8, 3).mean((2, 4)).reshape(len(red), -1))

    return rgb[600:602], predict


# slic cuts these upscaled digits into their 3x3 pixel blocks: a block "hidden" by its mean colour does not
# change, so with slic the hidden superpixels are black (hide_color=0), or the model's output would be constant
@pytest.mark.parametrize(("segmentation", "hide"), [("quickshift", None), ("slic", 0.0)])
def test_image_neighbourhood_is_the_one_lime_fits(digits: tuple[np.ndarray, Any], segmentation: str,
                                                  hide: float | None) -> None:
    imgs, predict = digits
    lime = LimeImage(predict, segmentation=segmentation, num_samples=300, seed=3, hide_color=hide)
    e = lime.explain(imgs[:1])
    nb = lime.neighbourhood(imgs[0])
    assert np.array_equal(nb["segments"], e.diagnostics["segments"][0])
    b, coef, score = _lime_fit(nb["interpretable"], nb["y"], nb["distances"], lime.kernel_width)
    assert np.abs(coef[nb["segments"]] - e.values[0]).max() < 1e-10 and abs(b - e.base_values[0]) < 1e-10
    assert abs(score - e.diagnostics["score"][0]) < 1e-10 and abs(nb["score"] - score) < 1e-10
    # the session's own closed-form fit on the same samples agrees with lime's Ridge
    assert np.std(nb["y"]) > 0.01
    s = NeighbourhoodSession.for_image(predict, imgs[0], segmentation=segmentation, num_samples=300, seed=3, n_seeds=1,
                                       hide_color=hide)
    run = s.run()
    assert np.abs(run.coef[run.extra["segments"]] - e.values[0]).max() < 1e-10
    assert abs(run.score - e.diagnostics["score"][0]) < 1e-10
    # another kernel width: lime's explainer with that width gives the refit
    other = LimeImage(predict, segmentation=segmentation, num_samples=300, seed=3, kernel_width=0.6,
                      hide_color=hide).explain(imgs[:1])
    assert np.abs(s.run(kernel_width=0.6).coef[run.extra["segments"]] - other.values[0]).max() < 1e-10


def test_masked_images_are_what_the_model_saw(digits: tuple[np.ndarray, Any]) -> None:
    imgs, predict = digits
    seen: list[np.ndarray] = []

    def recording(batch: np.ndarray) -> np.ndarray:
        seen.extend(np.asarray(batch))
        return predict(batch)

    nb = NeighbourhoodSession.for_image(recording, imgs[1], segmentation="slic", num_samples=40, n_seeds=1,
                                       batch_size=16, hide_color=0.0).run()
    shown = masked_images(nb, [0, 5, 39], max_side=64)
    saw = np.stack(seen[-40:])  # the last 40 images: the neighbourhood (after the call that picks the class)
    assert np.array_equal(shown, saw[[0, 5, 39]])
    small = masked_images(nb, [5], max_side=12)
    assert small.shape == (1, 12, 12, 3) and np.array_equal(small[0], saw[5][::2, ::2])


def test_image_seeds_share_superpixels_and_equal_separate_runs(digits: tuple[np.ndarray, Any]) -> None:
    imgs, predict = digits
    s = NeighbourhoodSession.for_image(predict, imgs[0], segmentation="slic", num_samples=120, seed=1, n_seeds=3,
                                       hide_color=0.0)
    sp = s.spread()
    seg = s.run().extra["segments"]
    for j, seed in enumerate(sp.seeds):
        one = LimeImage(predict, segmentation="slic", num_samples=120, seed=seed, hide_color=0.0).explain(imgs[:1])
        assert np.array_equal(one.diagnostics["segments"][0], seg)  # slic does not depend on the seed
        assert np.abs(sp.coefs[j][seg] - one.values[0]).max() < 1e-10
    assert np.abs(sp.coefs).max() > 0.01 and sp.std.max() > 0


@pytest.fixture(scope="module")
def reviews() -> Any:
    docs = ["good great fine", "great movie", "bad awful", "awful boring bad", "good fun", "boring bad plot"]
    return make_pipeline(CountVectorizer(token_pattern=r"[^\s]+"), LogisticRegression()).fit(docs, [1, 1, 0, 0, 1, 0])


@pytest.mark.parametrize("bow", [True, False])
def test_text_neighbourhood_is_the_one_lime_fits(reviews: Any, bow: bool) -> None:
    seen: list[str] = []

    def predict(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return reviews.predict_proba(texts)

    text = "great movie but a bad bad plot"
    lime = LimeText(predict, num_samples=250, seed=6, split_expression=r"\s+", bow=bow)
    e = lime.explain(text, target=1)
    explained = list(seen[1:])  # the documents explain sent (after the call that picks the class)
    seen.clear()
    nb = lime.neighbourhood(text, target=1)
    assert nb["texts"] == explained and nb["texts"][0] == text and nb["tokens"] == e.feature_names
    b, coef, score = _lime_fit(nb["interpretable"], nb["y"], nb["distances"], lime.kernel_width)
    assert np.abs(coef - e.values[0]).max() < 1e-10 and abs(b - e.base_values[0]) < 1e-10
    assert abs(score - e.diagnostics["score"][0]) < 1e-10
    s = NeighbourhoodSession.for_text(predict, text, target=1, num_samples=250, seed=6, n_seeds=2,
                                      split_expression=r"\s+", bow=bow)
    run = s.run()
    assert np.abs(run.coef - e.values[0]).max() < 1e-10 and abs(run.score - e.diagnostics["score"][0]) < 1e-10
    other = LimeText(predict, num_samples=250, seed=7, split_expression=r"\s+", bow=bow, kernel_width=60.0)
    assert np.abs(s.run(7, kernel_width=60.0).coef - other.explain(text, target=1).values[0]).max() < 1e-10
    # each sample's kept words are the document the model saw
    for i in (0, 3, 17):
        pieces, dropped = kept_words(run, i)
        mask = "" if bow else lime.mask_string
        assert "".join(mask if d else p for p, d in zip(pieces, dropped, strict=True)) == run.texts[i]


# -- the view ------------------------------------------------------------------------------------------------
def test_view_refits_from_the_sliders_without_the_model(cancer: tuple[np.ndarray, Any]) -> None:
    X, raw = cancer
    model = Counting(raw)
    names = [str(n) for n in load_breast_cancer().feature_names]
    view = LimeNeighbourhoodView(model, X[9], X, feature_names=names, class_names=["malignant", "benign"],
                                 num_samples=2000, n_seeds=5)
    calls = model.calls
    r2, coef = view.fit_chart.r2_text, view.bars.values.copy()
    assert r2.startswith("weighted R² = ") and f"P({['malignant', 'benign'][view.session.target]})" in r2
    assert len(view.samples_view.points.x) == min(MAX_POINTS, 1999) and view.bars.errors is not None
    view.width_slider.value = 1.5  # what moving the slider does
    assert view.kernel_width == 1.5 and model.calls == calls
    assert view.fit_chart.r2_text != r2 and not np.allclose(view.bars.values, coef)
    assert np.allclose(view.samples_view.points.size, view.neighbourhood.weights[1:MAX_POINTS + 1])
    ref = LimeTabularBatched(raw, X, num_samples=2000, kernel_width=1.5).explain(X[9:10])
    assert np.abs(view.neighbourhood.coef - ref.values[0]).max() < 1e-10
    assert np.allclose(view.bars.values, ref.values[0], atol=1e-6)  # float32 on the wire
    view.samples_slider.value = 1000
    view.seed_slider.value = 3
    assert (view.n_samples, view.seed, model.calls) == (1000, 3, calls)
    assert view.neighbourhood.seed == 3 and view.neighbourhood.num_samples == 1000
    assert np.allclose(view.bars.errors, view.spread.std, atol=1e-6)
    # setting the traits from Python moves the sliders
    view.kernel_width = 30.0
    assert view.width_slider.value == pytest.approx(30.0) and view.neighbourhood.kernel_width == 30.0
    with pytest.raises(traitlets.TraitError, match="kernel_width must be"):
        view.kernel_width = -1.0
    with pytest.raises(traitlets.TraitError, match="seed must be one of the 5 seeds"):
        view.seed = 99
    view.close()


def test_view_reports_a_failing_refit_and_keeps_its_state(cancer: tuple[np.ndarray, Any]) -> None:
    X, raw = cancer

    class Flaky(Counting):
        fail = False

        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            if self.fail:
                raise RuntimeError("the model's server is down")
            return super().predict_proba(X)

    model = Flaky(raw)
    view = LimeNeighbourhoodView(model, X[0], X, num_samples=500, n_seeds=2)
    coef = view.neighbourhood.coef.copy()
    model.fail = True
    view.samples_slider.value = 900  # more samples: the model is needed and fails
    assert "RuntimeError: the model's server is down" in view.status.value
    assert np.array_equal(view.neighbourhood.coef, coef)
    model.fail = False
    view.kernel_width = 2.0
    assert view.status.value == "" and view.neighbourhood.num_samples == 900
    view.close()


def test_hostile_names_and_tokens_stay_text(cancer: tuple[np.ndarray, Any], reviews: Any) -> None:
    X, model = cancer
    names = [f"f{i}" for i in range(30)]
    names[:3] = HOSTILE
    view = LimeNeighbourhoodView(model, X[2], X, feature_names=names, class_names=HOSTILE[:2], num_samples=300,
                                 n_seeds=2)
    assert view.bars.feature_names == names and view.neighbourhood.feature_names == names
    assert view.fit_chart.x_axis.label == f"model: P({HOSTILE[view.session.target]})"  # the class name, as text
    view.close()
    text = "<b>great</b> movie <script>x</script> bad"
    tv = LimeNeighbourhoodView.for_text(reviews.predict_proba, text, split_expression=r"\s+", num_samples=100,
                                        n_seeds=2, strip=3, class_names=["<i>neg</i>", "pos"])
    assert tv.samples_view.views[0].tokens == ["<b>great</b>", "movie", "<script>x</script>", "bad"]
    assert tv.bars.feature_names == ["<b>great</b>", "movie", "<script>x</script>", "bad"]
    tv.close()


def test_image_and_text_views(digits: tuple[np.ndarray, Any], reviews: Any) -> None:
    imgs, predict = digits
    v = LimeNeighbourhoodView.for_image(predict, imgs[0], segmentation="slic", num_samples=100, n_seeds=3, strip=10,
                                        hide_color=0.0)
    grid = v.samples_view.grid
    assert grid.maps.shape == (10, 24, 24, 3) and 0.0 <= grid.maps.min() and grid.maps.max() <= 1.0
    assert grid.labels[0] == "instance" and grid.labels[1].startswith("w ")
    labels = list(grid.labels)
    v.kernel_width = 0.1
    assert v.samples_view.grid is grid and list(grid.labels) != labels  # the same tiles, new weights
    assert v.samples_view.coefficients.values.shape == (24, 24)
    v.close()
    t = LimeNeighbourhoodView.for_text(reviews.predict_proba, "great movie but bad plot", num_samples=120, n_seeds=2)
    assert len(t.samples_view.views) == 8 and t.samples_view.views[0].dropped.sum() == 0
    assert any(view.dropped.sum() > 0 for view in t.samples_view.views[1:])
    t.close()


def test_bad_inputs_are_named(cancer: tuple[np.ndarray, Any]) -> None:
    X, model = cancer
    with pytest.raises(ValueError, match="x must be one row"):
        LimeNeighbourhoodView(model, X[:2], X)
    with pytest.raises(ValueError, match="n_seeds"):
        NeighbourhoodSession.for_table(model, X[0], X, n_seeds=0)
    with pytest.raises(TypeError, match="needs the model, the row to explain and the training rows"):
        LimeNeighbourhoodView(model, X[0])
    with pytest.raises(ValueError, match="num_samples"):
        NeighbourhoodSession.for_table(model, X[0], X, num_samples=100, n_seeds=1).run(num_samples=3)
    bad = X[0].copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="x holds NaN at row 0, column 3"):
        NeighbourhoodSession.for_table(model, bad, X, num_samples=100, n_seeds=1, discretize_continuous=False)


# -- the state guard -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["frozen_bn", "existing_grad", "user_hook", "raising_late"])
def test_user_state_is_left_as_found(kind: str) -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(40, 4)).astype(np.float32)
    x = data[0].copy()
    model = table_model(kind)
    before = snapshot(model, [data, x])
    if kind.startswith("raising"):
        with pytest.raises(RuntimeError, match="the user's model failed"):
            NeighbourhoodSession.for_table(model, x, data, num_samples=200, n_seeds=3).spread()
    else:
        view = LimeNeighbourhoodView(model, x, data, num_samples=200, n_seeds=3)
        view.kernel_width = 0.7
        view.n_samples = 300  # more samples: new model calls from a refit
        view.seed = 2
        assert view.status.value == ""
        view.close()
    assert_same(before, snapshot(model, [data, x]))
    torch.manual_seed(0)  # the snapshot compared torch's state; leave it deterministic for later tests


def test_exported() -> None:
    import nbexplain as nbx

    assert nbx.LimeNeighbourhoodView is LimeNeighbourhoodView and "LimeNeighbourhoodView" in nbx.__all__
    assert "LimeNeighbourhoodView" in nbx.widgets.__all__


def test_dataframe_rows_and_a_regression_target() -> None:
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LinearRegression
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.normal(40, 10, 200), "city": rng.choice(["a", "b", "<c>"], 200),
                       "ok": rng.random(200) > 0.5})
    before = df.copy()
    y = (df.age > 40).astype(int)
    enc = make_column_transformer((OneHotEncoder(), ["city", "ok"]), remainder="passthrough")
    clf = make_pipeline(enc, LogisticRegression()).fit(df, y)
    view = LimeNeighbourhoodView(clf, df.iloc[[3]], df, num_samples=300, n_seeds=3)
    ref = LimeTabularBatched(clf, df, num_samples=300).explain(df.iloc[[3]])
    assert view.bars.feature_names == ["age", "city", "ok"]
    assert np.abs(view.neighbourhood.coef - ref.values[0]).max() < 1e-10
    view.close()
    reg = make_pipeline(make_column_transformer((OneHotEncoder(), ["city", "ok"]), remainder="passthrough"),
                        LinearRegression()).fit(df, df.age * 2.0)
    f = lambda frame: reg.predict(frame)[:, None]  # noqa: E731  (one output column: a regressor)
    s = NeighbourhoodSession.for_table(f, df.iloc[[5]], df, target=lambda out: out[:, 0], num_samples=300, n_seeds=2)
    nb = s.run(kernel_width=1.0)
    ref = LimeTabularBatched(f, df, num_samples=300, kernel_width=1.0).explain(df.iloc[[5]], target=lambda out: out[:, 0])
    assert nb.target is None and s.output_name == "model output"
    assert np.abs(nb.coef - ref.values[0]).max() < 1e-10
    pd.testing.assert_frame_equal(df, before)  # the caller's DataFrame is untouched
