"""The lime package's image and text explainers and shap's Tree and Partition explainers, as Explanation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from nbexplain.explainers.perturbation.lime_package import LimeImage, LimeText
from nbexplain.explainers.perturbation.shap_library import ShapPartition, ShapTree


@pytest.fixture(scope="module")
def digits_rgb() -> tuple[np.ndarray, object]:
    """8x8 digits upscaled to 32x32 RGB in [0, 1]; the classifier sees the red channel pooled back to 8x8."""
    X, y = load_digits(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(X[:600] / 16.0, y[:600])
    rgb = np.repeat(np.kron(X.reshape(-1, 8, 8) / 16.0, np.ones((4, 4)))[..., None], 3, axis=-1)

    def predict(batch: np.ndarray) -> np.ndarray:
        red = np.asarray(batch)[..., 0]
        return clf.predict_proba(red.reshape(len(red), 8, 4, 8, 4).mean((2, 4)).reshape(len(red), -1))

    return rgb[600:603], predict


def test_lime_image_shapes_and_seeded_rerun(digits_rgb: tuple[np.ndarray, object]) -> None:
    imgs, predict = digits_rgb
    lime = LimeImage(predict, num_samples=150, seed=1)
    a, b = lime.explain(imgs[:2]), lime.explain(imgs[:2])
    assert a.values.shape == (2, 32, 32) and a.diagnostics["segments"].shape == (2, 32, 32)
    assert a.diagnostics["segments"].dtype.kind == "i" and a.diagnostics["score"].shape == (2,)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.base_values, b.base_values)
    # pixels of one superpixel share its weight
    seg, val = a.diagnostics["segments"][0], a.values[0]
    for s in np.unique(seg):
        assert np.ptp(val[seg == s]) == 0
    assert a.target.tolist() == np.argmax(predict(imgs[:2]), 1).tolist()  # type: ignore[operator]
    single = lime.explain(imgs[1:2])
    assert np.array_equal(single.values[0], a.values[1])
    assert LimeImage(predict, segmentation="slic", hide_color=0.0, num_samples=50).explain(imgs[:1]).values.shape == (1, 32, 32)


def test_lime_image_bad_inputs(digits_rgb: tuple[np.ndarray, object]) -> None:
    imgs, predict = digits_rgb
    with pytest.raises(ValueError, match="segmentation must be one of"):
        LimeImage(predict, segmentation="watershed")
    with pytest.raises(ValueError, match="channels-last"):
        LimeImage(predict).explain(np.zeros((1, 3, 8, 8, 2)))
    with pytest.raises(ValueError, match="int segments"):
        LimeImage(predict, segmentation=lambda im: im[..., 0]).explain(imgs[:1])
    with pytest.raises(ValueError, match="out of range"):
        LimeImage(predict, num_samples=10).explain(imgs[:1], target=10)


@pytest.fixture(scope="module")
def text_model() -> object:
    docs = ["good great fine", "great movie", "bad awful", "awful boring bad", "good fun", "boring bad plot"]
    return make_pipeline(CountVectorizer(token_pattern=r"[^\s]+"), LogisticRegression()).fit(docs, [1, 1, 0, 0, 1, 0])


def test_lime_text_tokens_and_weights(text_model: object) -> None:
    lime = LimeText(text_model, class_names=["neg", "pos"], num_samples=300, split_expression=r"\s+")
    e = lime.explain("<b>great</b> good <script>x</script> bad", target=1)
    assert e.feature_names == ["<b>great</b>", "good", "<script>x</script>", "bad"]  # literal, never parsed
    assert e.values.shape == (1, 4) and e.output_names == ["neg", "pos"]
    assert e.values[0, 1] > 0 > e.values[0, 3]
    assert np.array_equal(e.values, lime.explain("<b>great</b> good <script>x</script> bad", target=1).values)
    default = LimeText(text_model, num_samples=100).explain("great movie, bad plot")
    assert default.feature_names == ["great", "movie", "bad", "plot"]
    with pytest.raises(TypeError, match="one document"):
        lime.explain(["a", "b"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="class_names"):
        LimeText(text_model, class_names=["a", "b", "c"]).explain("good")


def test_shap_tree_additive_on_forest_and_boosting() -> None:
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    rf = RandomForestClassifier(20, random_state=0).fit(X, y)
    e = ShapTree(rf, feature_names=list("abcde"), class_names=["x", "y", "z"]).explain(X[:10])
    proba = rf.predict_proba(X[:10])
    assert e.values.shape == (10, 5) and e.target.tolist() == np.argmax(proba, 1).tolist()
    assert np.allclose(e.base_values + e.values.sum(1), proba[np.arange(10), e.target], atol=1e-8)
    assert np.allclose(e.outputs, proba[np.arange(10), e.target], atol=1e-8)
    fixed = ShapTree(rf, X[:50]).explain(X[:4], target=2)
    assert np.allclose(fixed.base_values + fixed.values.sum(1), rf.predict_proba(X[:4])[:, 2], atol=1e-6)
    gb = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, (y > 0).astype(int))
    g = ShapTree(gb).explain(X[:5])
    assert np.allclose(g.base_values + g.values.sum(1), gb.decision_function(X[:5]), atol=1e-6)
    with pytest.raises(ValueError, match="one output"):
        ShapTree(gb).explain(X[:2], target=1)
    with pytest.raises(ValueError, match="has 3 features"):
        ShapTree(rf).explain(X[:2, :3])
    with pytest.raises(TypeError, match="tree model"):
        ShapTree(LogisticRegression().fit(X, y))


def test_shap_partition_images_additive(digits_rgb: tuple[np.ndarray, object]) -> None:
    """Partition values are exactly efficient: base (fully masked output) + sum = output, per image."""
    imgs, predict = digits_rgb
    e = ShapPartition(predict, "image", max_evals=100).explain(imgs[:2])
    assert e.values.shape == (2, 32, 32, 3)
    assert np.allclose(e.base_values + e.values.reshape(2, -1).sum(1), e.outputs, atol=1e-6)
    assert e.target.tolist() == np.argmax(predict(imgs[:2]), 1).tolist()  # type: ignore[operator]
    import importlib.util

    if importlib.util.find_spec("cv2") is None:  # shap's blur masker needs OpenCV: named error without it
        with pytest.raises(ImportError, match="OpenCV"):
            ShapPartition(predict, "image", mask_value="blur(4,4)").explain(imgs[:1])
    with pytest.raises(ValueError, match="masker must be"):
        ShapPartition(predict, "audio")


def test_shap_partition_text(text_model: object) -> None:
    e = ShapPartition(text_model.predict_proba, "text", split_pattern=r"\s+").explain(  # type: ignore[attr-defined]
        "good <b>fun</b> bad", target=1)
    assert e.feature_names is not None and len(e.feature_names) == 3 and "<b>fun</b> " in e.feature_names
    assert np.isclose(e.base_values[0] + e.values.sum(), e.outputs[0], atol=1e-6)
    assert e.values[0, 0] > 0 > e.values[0, 2]
