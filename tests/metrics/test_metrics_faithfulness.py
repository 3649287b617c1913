"""Deletion and insertion curves: known answers on analytic models, every data kind, seeds, chunks, state.

The analytic models make every curve computable by hand: a linear score of the features (or of
the pixels), whose exact attributions are ``w * x``, so the curve is the running sum of the sorted
contributions; ``x0 ** 2`` tells background rows from the background mean; a word-count text model
gives the dropped-token curve.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nbexplain.explainers import IntegratedGradients, TokenShap
from nbexplain.explainers.gradients._paths import gaussian_blur
from nbexplain.explanation import Explanation
from nbexplain.metrics import deletion_curves, insertion_curves
from nbexplain.models import predict_proba
from nbexplain.validate import InputError, NonFiniteError, ParameterError
from tests.core.test_state_guard import KINDS, assert_same, image_model, snapshot, table_model

RNG = np.random.default_rng(0)


def linear(w: np.ndarray):
    return lambda X: np.asarray(X).reshape(len(X), -1) @ np.asarray(w, float).reshape(-1, 1)


# -- tables: known answers ---------------------------------------------------------------------------
def test_linear_table_deletion_and_insertion_are_the_sorted_running_sums() -> None:
    w = np.array([2.0, -1.0, 0.5, 3.0, 0.0])
    x = RNG.normal(size=(4, 5))
    attr = x * w  # exact for a linear model with a zero baseline
    d = deletion_curves(linear(w), x, attr, baseline=0.0, output="raw", n_random=0)
    ins = insertion_curves(linear(w), x, attr, baseline=0.0, output="raw", n_random=0)
    assert d.steps == 5 and d.fractions.tolist() == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    for i in range(4):
        c = np.sort(attr[i])[::-1]  # most positive first
        want_del = c.sum() - np.concatenate([[0.0], np.cumsum(c)])
        want_ins = np.concatenate([[0.0], np.cumsum(c)])
        np.testing.assert_allclose(d.scores[i], want_del, atol=1e-12)
        np.testing.assert_allclose(ins.scores[i], want_ins, atol=1e-12)
        np.testing.assert_allclose(d.auc[i], np.trapezoid(want_del, d.fractions))
    # the running sums of a sorted sequence bound every other order: no random order beats them
    dr = deletion_curves(linear(w), x, attr, baseline=0.0, output="raw", n_random=20)
    assert (dr.random_runs >= dr.scores[:, None] - 1e-12).all() and (dr.gain > 0).all()


def test_abs_order_ranks_by_magnitude() -> None:
    w = np.array([1.0, -5.0, 2.0])
    x = np.ones((1, 3))
    d = deletion_curves(linear(w), x, x * w, baseline=0.0, output="raw", n_random=0, order="abs")
    assert d.unit_order(0).tolist() == [1, 2, 0]
    assert d.scores[0].tolist() == [-2.0, 3.0, 1.0, 0.0]


def test_background_rows_average_the_output_and_the_mean_mode_does_not() -> None:
    f = lambda X: np.asarray(X)[:, :1] ** 2  # noqa: E731
    bg = np.array([[-2.0, 0.0], [2.0, 0.0], [4.0, 0.0]])
    x = np.array([[1.0, 5.0]])
    rows = deletion_curves(f, x, [[1.0, 0.0]], background=bg, output="raw", n_random=0)
    mean = deletion_curves(f, x, [[1.0, 0.0]], background=bg, background_mode="mean", output="raw", n_random=0)
    assert rows.scores[0].tolist() == [1.0, 8.0, 8.0]  # E_b[b0 ** 2] = (4 + 4 + 16) / 3
    assert mean.scores[0].tolist() == [1.0, (4 / 3) ** 2, (4 / 3) ** 2]
    np.testing.assert_allclose(rows.masked_input(0, 0.5), [4 / 3, 5.0])  # shown as the mean of the rows used
    # n_background seeded rows out of a larger background: the same rows on every call
    big = RNG.normal(size=(200, 2))
    a = deletion_curves(f, x, [[1.0, 0.0]], background=big, n_background=7, output="raw", n_random=0)
    b = deletion_curves(f, x, [[1.0, 0.0]], background=big, n_background=7, output="raw", n_random=0)
    assert a.scores.tolist() == b.scores.tolist() and a.n_evaluations == b.n_evaluations
    assert a.scores[0, 1] not in (np.mean(big[:, 0] ** 2), big[:7, 0] @ big[:7, 0] / 7)  # a seeded draw, not the head


def test_probabilities_follow_the_output_kind_rule_and_logits_are_an_option() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    x = RNG.normal(size=(5, 3)).astype(np.float32)
    attr = RNG.normal(size=(5, 3))
    d = deletion_curves(model, x, attr, baseline=0.0, n_random=0)
    p = predict_proba(model, x)
    assert d.target.tolist() == p.argmax(1).tolist()  # no target: the predicted class
    np.testing.assert_allclose(d.scores[:, 0], p.max(1), rtol=1e-6)
    np.testing.assert_allclose(d.scores[:, -1], predict_proba(model, np.zeros((5, 3)))[np.arange(5), d.target],
                               rtol=1e-6)
    lg = deletion_curves(model, x, attr, baseline=0.0, n_random=0, output="logits", target=2)
    with torch.no_grad():
        np.testing.assert_allclose(lg.scores[:, 0], model(torch.as_tensor(x))[:, 2].numpy(), rtol=1e-6)


def test_feature_names_reach_the_scrubber() -> None:
    import pandas as pd

    x = RNG.normal(size=(2, 3))
    e = Explanation(x.copy(), feature_names=["age", "income", "debt"])
    d = deletion_curves(linear([1.0, 2.0, 3.0]), x, e, baseline=0.0, output="raw", n_random=0)
    assert d.unit_labels(0) == ["age", "income", "debt"]
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    assert deletion_curves(linear([1.0, 2.0, 3.0]), frame, x, baseline=0.0, output="raw").unit_labels(1) == ["a", "b", "c"]
    assert deletion_curves(linear([1.0, 2.0, 3.0]), x, x, baseline=0.0, output="raw").unit_labels(0) is None


# -- images -------------------------------------------------------------------------------------------
class PixelLinear(torch.nn.Module):
    """A linear score of the pixels, two outputs (score, -score)."""

    def __init__(self, w: np.ndarray) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.as_tensor(w, dtype=torch.float64).reshape(1, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = (x.reshape(len(x), -1) * self.w).sum(1, keepdim=True)
        return torch.cat([s, -s], 1)


def test_image_patches_by_hand_with_integrated_gradients() -> None:
    w = RNG.normal(size=(2, 8, 8))
    model = PixelLinear(w).double()
    x = torch.as_tensor(RNG.normal(size=(3, 2, 8, 8)))
    e = IntegratedGradients(model, steps=4).explain(x, target=0)  # exact on a linear model: w * x
    d = deletion_curves(model, x, e, patch_size=4, baseline=0.0, output="logits", n_random=0)
    assert d.target.tolist() == [0, 0, 0] and d.steps == 4  # 4 patches: one step per patch
    for i in range(3):
        contrib = (w * x[i].numpy()).sum(0).reshape(2, 4, 2, 4).sum((1, 3)).ravel()
        c = np.sort(contrib)[::-1]
        np.testing.assert_allclose(d.scores[i], c.sum() - np.concatenate([[0.0], np.cumsum(c)]), atol=1e-9)
    top = int(np.argmax((w * x[0].numpy()).sum(0).reshape(2, 4, 2, 4).sum((1, 3))))
    masked = d.masked_input(0, 0.25)
    rows, cols = slice(4 * (top // 2), 4 * (top // 2) + 4), slice(4 * (top % 2), 4 * (top % 2) + 4)
    assert (masked[:, rows, cols] == 0).all() and np.count_nonzero(masked == 0) == 2 * 16
    assert d.removed_pixels(0, 0.25).sum() == 16 and d.removed_pixels(0, 0.25)[rows, cols].all()


def test_grad_cam_shaped_maps_and_channel_maps_give_the_same_ranking() -> None:
    w = RNG.normal(size=(3, 8, 8))
    x = RNG.normal(size=(2, 3, 8, 8)).astype(np.float32)
    maps = RNG.normal(size=(2, 3, 8, 8))
    a = deletion_curves(linear(w), x, maps, patch_size=2, baseline=0.0, output="raw", n_random=0)
    b = deletion_curves(linear(w), x, maps.sum(1), patch_size=2, baseline=0.0, output="raw", n_random=0)
    c = deletion_curves(linear(w), x, Explanation(maps.transpose(0, 2, 3, 1), layout="HWC"), patch_size=2,
                        baseline=0.0, output="raw", n_random=0)
    flat = deletion_curves(linear(w), x, maps.reshape(2, -1), patch_size=2, baseline=0.0, output="raw", n_random=0)
    assert a.scores.tolist() == b.scores.tolist() == c.scores.tolist() == flat.scores.tolist()
    assert a.steps == 16  # 16 patches of 2 x 2


@pytest.mark.parametrize("baseline", ["blur", "mean", 0.5, "array"])
def test_insertion_starts_from_the_baseline_image(baseline) -> None:
    w = RNG.normal(size=(1, 6, 6))
    x = RNG.normal(size=(2, 1, 6, 6)).astype(np.float32)
    base = RNG.normal(size=(1, 6, 6)).astype(np.float32)
    b = base if isinstance(baseline, str) and baseline == "array" else baseline
    ins = insertion_curves(linear(w), x, RNG.normal(size=(2, 6, 6)), baseline=b, patch_size=3, output="raw",
                           n_random=1)
    if baseline == "blur":
        start = gaussian_blur(torch.as_tensor(x)).numpy()
    elif baseline == "mean":
        start = np.broadcast_to(x.mean(axis=(2, 3), keepdims=True), x.shape)
    elif baseline == "array":
        start = np.broadcast_to(base, x.shape)
    else:
        start = np.full_like(x, 0.5)
    np.testing.assert_allclose(ins.scores[:, 0], linear(w)(start)[:, 0], rtol=1e-5)
    np.testing.assert_allclose(ins.scores[:, -1], linear(w)(x)[:, 0], rtol=1e-5)
    np.testing.assert_allclose(ins.masked_input(1, 0.0), start[1], rtol=1e-6)
    np.testing.assert_allclose(ins.random_runs[:, 0, 0], ins.scores[:, 0])  # the floor starts there too


def test_default_baselines_and_patch_size() -> None:
    x = RNG.normal(size=(1, 3, 32, 32)).astype(np.float32)
    f = linear(np.ones(3 * 32 * 32))
    d = deletion_curves(f, x, x.sum(1), output="raw", n_random=0)
    ins = insertion_curves(f, x, x.sum(1), output="raw", n_random=0)
    assert d.params["baseline"] == "zeros" and ins.params["baseline"] == "blur"
    assert d.steps == 50 and d.removed(0, 1.0).size == 256  # patches of 2 x 2: 16 x 16 of them
    assert float(d.scores[0, -1]) == 0.0


def test_superpixels_are_the_units() -> None:
    x = RNG.normal(size=(2, 1, 4, 4)).astype(np.float32)
    seg = np.repeat(np.array([[7, 7, 3, 3]]), 4, axis=0)  # two superpixels: left and right halves
    attr = np.zeros((2, 4, 4))
    attr[:, :, 2:] = 1.0  # the right half (label 3) is the relevant one
    d = deletion_curves(linear(np.ones(16)), x, attr, segments=seg, baseline=0.0, output="raw", n_random=0)
    assert d.steps == 2
    np.testing.assert_allclose(d.scores[:, 1], x[:, 0, :, :2].sum((1, 2)), rtol=1e-5)
    assert d.removed_pixels(0, 0.5)[:, 2:].all() and not d.removed_pixels(0, 0.5)[:, :2].any()


# -- text ---------------------------------------------------------------------------------------------
def word_model(texts: list[str]) -> np.ndarray:
    s = np.array([t.split().count("good") - t.split().count("bad") for t in texts], dtype=float)
    p = 1 / (1 + np.exp(-s))
    return np.c_[1 - p, p]


def sig(z: float) -> float:
    return float(1 / (1 + np.exp(-z)))


def test_text_tokens_are_dropped_and_the_curve_is_known() -> None:
    texts = ["good good bad film"]
    d = deletion_curves(word_model, texts, [np.array([1.0, 0.9, -1.0, 0.0])], tokenizer=str.split, n_random=0,
                        target=1)
    np.testing.assert_allclose(d.scores[0], [sig(1), sig(0), sig(-1), sig(-1), sig(0)])
    assert d.masked_input(0, 0.5) == "bad film" and d.masked_input(0, 1.0) == ""
    ins = insertion_curves(word_model, texts, [np.array([1.0, 0.9, -1.0, 0.0])], tokenizer=str.split, n_random=2,
                           target=1)
    np.testing.assert_allclose(ins.scores[0], [sig(0), sig(1), sig(2), sig(2), sig(1)])
    assert ins.masked_input(0, 0.5) == "good good"  # inserted in their original order


def test_token_shap_explanations_carry_tokens_and_target() -> None:
    texts = ["good film , not bad", "bad bad plot but good cast"]
    es = TokenShap(word_model, tokenizer=str.split).explain(texts)
    d = deletion_curves(word_model, texts, es, tokenizer=str.split, n_random=3)
    assert d.target.tolist() == [e.target for e in es] and d.method == "token_shap_exact"
    assert d.steps == 6 and d.scores.shape == (2, 7)  # up to the longest text: 6 tokens
    assert (d.auc <= d.random_auc + 1e-12).all()
    with pytest.raises(InputError, match="explains the tokens"):
        deletion_curves(word_model, texts[::-1], es, tokenizer=str.split)


# -- reruns, chunks, state ----------------------------------------------------------------------------
def test_seeded_reruns_are_identical_and_seeds_matter() -> None:
    x = RNG.normal(size=(3, 1, 8, 8)).astype(np.float32)
    attr = np.round(RNG.normal(size=(3, 8, 8)))  # many ties: broken by the seeded permutation
    model = image_model("frozen_bn")
    a = deletion_curves(model, x, attr, patch_size=2, n_random=4, seed=3)
    b = deletion_curves(model, x, attr, patch_size=2, n_random=4, seed=3)
    c = deletion_curves(model, x, attr, patch_size=2, n_random=4, seed=4)
    assert np.array_equal(a.scores, b.scores) and np.array_equal(a.random_runs, b.random_runs)
    assert not np.array_equal(a.random_runs, c.random_runs)
    # a sample's numbers do not depend on the others in the batch
    one = deletion_curves(model, x[:1], attr[:1], patch_size=2, n_random=4, seed=3)
    np.testing.assert_allclose(one.scores[0], a.scores[0], rtol=1e-6)


@pytest.mark.parametrize("batch_size", [1, 7, "budget"])
def test_chunked_calls_give_the_numbers_of_one_batch(batch_size) -> None:
    x = RNG.normal(size=(3, 1, 8, 8)).astype(np.float32)
    attr = RNG.normal(size=(3, 8, 8))
    model = image_model("frozen_bn").double()
    whole = insertion_curves(model, x, attr, patch_size=4, n_random=2, batch_size=10_000)
    kw = {"memory_budget": 1} if batch_size == "budget" else {"batch_size": batch_size}  # 1 byte: one row per call
    part = insertion_curves(model, x, attr, patch_size=4, n_random=2, **kw)
    np.testing.assert_allclose(part.scores, whole.scores, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(part.random_runs, whole.random_runs, rtol=1e-12, atol=1e-15)
    # the originals, then per sample: "all removed" once, and 3 steps inside for each of 3 orders
    assert part.n_evaluations == whole.n_evaluations == 3 + 3 * (1 + 3 * 3)


@pytest.mark.parametrize("kind", KINDS)
def test_the_users_model_and_arrays_are_left_as_they_were(kind: str) -> None:
    img = RNG.normal(size=(2, 1, 8, 8)).astype(np.float32)
    attr = RNG.normal(size=(2, 1, 8, 8)).astype(np.float32)
    model = image_model(kind)
    before = snapshot(model, [img, attr])
    try:
        insertion_curves(model, img, attr, patch_size=4, n_random=1)
    except RuntimeError as err:
        assert kind.startswith("raising"), err
    assert_same(before, snapshot(model, [img, attr]))
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    x[:, 0] = -np.abs(x[:, 0])  # an in-place ReLU first would zero these in the caller's array
    tab = table_model(kind)
    before = snapshot(tab, [x])
    try:
        deletion_curves(tab, x, x.copy(), background=x, n_random=1)
    except RuntimeError as err:
        assert kind.startswith("raising"), err
    assert_same(before, snapshot(tab, [x]))


# -- the scrubber and the summary -------------------------------------------------------------------
def test_scrubber_queries() -> None:
    x = np.ones((2, 4))
    d = deletion_curves(linear([4.0, 3.0, 2.0, 1.0]), x, x * [4, 3, 2, 1], baseline=0.0, output="raw", n_random=2)
    assert d.step_index(0.49) == 2 and d.output_at(0, 0.5) == 3.0 and d.output_at(-1, 1.0) == 0.0
    assert d.removed(0, 0.5).tolist() == [True, True, False, False]
    assert d.removed(0, 0.5, random_run=1).sum() == 2
    assert d.masked_input(1, 0.75).tolist() == [0.0, 0.0, 0.0, 1.0]
    s = d.summary()
    assert s["better"] == "lower" and s["mean_gain"] > 0 and s["steps"] == 4
    assert "LOWER area is better" in d.describe() and "random order" in d.describe()
    with pytest.raises(ParameterError, match="fraction"):
        d.masked_input(0, 1.5)
    with pytest.raises(ParameterError, match="i must be"):
        d.output_at(2, 0.5)
    with pytest.raises(ParameterError, match="random_run"):
        d.removed(0, 0.5, random_run=2)
    with pytest.raises(InputError, match="for images"):
        d.removed_pixels(0, 0.5)


# -- named errors -------------------------------------------------------------------------------------
class TextModel:
    def tokenize(self, text: str) -> list[str]:
        return text.split()

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return word_model(texts)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: deletion_curves(linear(np.ones(4)), np.ones((2, 4)), np.ones((2, 3)), baseline=0.0),
     InputError, "3 values"),
    (lambda: deletion_curves(linear(np.ones(4)), np.ones((2, 4)), np.ones((3, 4)), baseline=0.0),
     InputError, "hold 3 samples"),
    (lambda: deletion_curves(linear(np.ones(4)), np.ones((2, 4)), np.full((2, 4), np.nan), baseline=0.0),
     NonFiniteError, "attributions holds NaN"),
    (lambda: deletion_curves(linear(np.ones(4)), np.ones((2, 4)), np.ones((2, 4))),
     InputError, "background=X_train"),
    (lambda: deletion_curves(linear(np.ones(4)), np.ones((2, 4)), np.ones((2, 4)), background=np.ones((3, 4)),
                             baseline=0.0), InputError, "not both"),
    (lambda: deletion_curves(linear(np.ones(4)), np.ones((2, 4)), np.ones((2, 4)), background=np.ones((3, 5))),
     InputError, "5 features"),
    (lambda: deletion_curves(linear(np.ones(16)), np.ones((2, 1, 4, 4)), np.ones((2, 2, 2))),
     InputError, "Grad-CAM: upsample=True"),
    (lambda: deletion_curves(linear(np.ones(16)), np.ones((2, 4, 4)), np.ones((2, 4, 4))),
     InputError, r"add the channel axis"),
    (lambda: deletion_curves(linear(np.ones(16)), np.ones((1, 1, 4, 4)), np.ones((1, 4, 4)), patch_size=0),
     ParameterError, "patch_size"),
    (lambda: deletion_curves(linear(np.ones(16)), np.ones((1, 1, 4, 4)), np.ones((1, 4, 4)),
                             segments=np.zeros((3, 3), int)), InputError, "segments have shape"),
    (lambda: deletion_curves(linear(np.ones(16)), np.ones((1, 1, 4, 4)), np.ones((1, 4, 4)), baseline="black"),
     InputError, "baseline must be"),
    (lambda: deletion_curves(TextModel(), np.ones((2, 1, 4, 4)), np.ones((2, 4, 4))),
     InputError, "reads text"),
    (lambda: deletion_curves(torch.nn.Linear(2, 2), ["a text"], [np.ones(2)]), TypeError, "cannot read text"),
    (lambda: deletion_curves(word_model, "good film", [np.ones(2)]), InputError, "list of texts"),
    (lambda: deletion_curves(word_model, ["good film"], [np.ones(3)], tokenizer=str.split),
     InputError, "2 tokens"),
    (lambda: deletion_curves(word_model, ["good film"], [np.ones(2)], tokenizer=str.split, output="logits"),
     ParameterError, "output='raw'"),
    (lambda: deletion_curves(linear(np.ones(2)), np.ones((1, 2)), np.ones((1, 2)), baseline=0.0, order="rank"),
     ParameterError, "order must be"),
    (lambda: deletion_curves(linear(np.ones(2)), np.ones((1, 2)), np.ones((1, 2)), baseline=0.0, steps=0),
     ParameterError, "steps"),
    (lambda: deletion_curves(linear(np.ones(2)), np.ones((1, 2)), np.ones((1, 2)), baseline=0.0, output="proba"),
     ParameterError, "output must be"),
    (lambda: deletion_curves(linear(np.ones(2)), np.ones((1, 2)), np.ones((1, 2)), baseline=0.0, target=3),
     ValueError, "out of range"),
    (lambda: deletion_curves(lambda X: X, np.ones((1, 2)), Explanation(np.ones((1, 2)), target=[0]),
                             baseline=0.0, target=1, output="raw"), InputError, "disagrees"),
    (lambda: deletion_curves(linear(np.ones(2)), np.ones((1, 2)), np.ones((1, 2)), baseline=0.0, batch_size=0),
     ParameterError, "batch_size"),
])
def test_bad_input_gets_a_named_error(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()
