"""Token attributions: exact Shapley values against brute force, efficiency, seeds, occlusion, a real model."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from nbexplain.datasets import reviews_split
from nbexplain.explainers.perturbation.token_shap import TokenOcclusion, TokenShap
from nbexplain.explainers.registry import available_explainers, get_explainer
from nbexplain.text import TextClassifier, train_text_classifier


def game(tokens: list[str]) -> float:
    """An analytic value with interactions: negation flips 'bad', 'very' scales 'good', length costs."""
    s = set(tokens)
    v = 2.0 * ("good" in s) - 1.5 * ("bad" in s) + 3.0 * ("not" in s and "bad" in s)
    v += 1.0 * ("very" in s and "good" in s) - 0.1 * len(tokens) + 0.05 * tokens.count("!") ** 2
    return v


def predict(texts: list[str]) -> np.ndarray:
    """(n, 2): the game and its negative plus 1, for a custom tokenizer (str.split)."""
    g = np.array([game(t.split()) for t in texts])
    return np.stack([1.0 - g, g], axis=1)


def brute_force_shapley(tokens: list[str], t: int) -> np.ndarray:
    """Average marginal contribution over every ordering of the token positions."""
    m = len(tokens)

    def v(kept: set[int]) -> float:
        return float(predict([" ".join(tokens[i] for i in sorted(kept))])[0, t])

    phi = np.zeros(m)
    for order in itertools.permutations(range(m)):
        kept: set[int] = set()
        for i in order:
            before = v(kept)
            kept.add(i)
            phi[i] += v(kept) - before
    return phi / math.factorial(m)


@pytest.fixture(scope="module")
def clf() -> TextClassifier:
    tr, ytr, _, _ = reviews_split()
    return train_text_classifier(tr, ytr, class_names=["negative", "positive"], seed=0)


@pytest.mark.parametrize("text", ["not bad film !", "very good , not bad", "good good ! !"])
@pytest.mark.parametrize("target", [0, 1])
def test_exact_equals_brute_force_shapley(text: str, target: int) -> None:
    e = TokenShap(predict, tokenizer=str.split).explain(text, target=target)
    tokens = text.split()
    assert e.feature_names == tokens and e.values.shape == (len(tokens),)
    assert e.method == "token_shap_exact" and e.diagnostics["exact"] is True
    np.testing.assert_allclose(e.values, brute_force_shapley(tokens, target), atol=1e-12)
    assert float(e.base_values) == pytest.approx(predict([""])[0, target])
    assert float(e.outputs) == pytest.approx(predict([text])[0, target])
    assert int(e.target) == target


def test_efficiency_exact_and_sampled() -> None:
    text = "very good , not bad ! the film is good ! but not bad at all"
    assert len(text.split()) == 16
    for ts in (TokenShap(predict, tokenizer=str.split, max_exact=16),
               TokenShap(predict, tokenizer=str.split, max_exact=8, n_samples=512)):
        e = ts.explain(text)
        assert float(e.values.sum()) == pytest.approx(float(e.outputs - e.base_values), abs=1e-9)
    assert e.method == "token_shap_kernel" and e.diagnostics["exact"] is False


def test_sampled_values_are_close_to_exact_and_seeded() -> None:
    text = "very good , not bad ! the film is good ! but not bad at all"
    exact = TokenShap(predict, tokenizer=str.split, max_exact=16).explain(text).values
    sampled = TokenShap(predict, tokenizer=str.split, max_exact=10, n_samples=2048, seed=1).explain(text)
    assert sampled.method == "token_shap_kernel"
    assert np.abs(sampled.values - exact).max() < 0.1 * np.abs(exact).max()
    assert 0 < sampled.diagnostics["error_estimate"] < 0.1
    again = TokenShap(predict, tokenizer=str.split, max_exact=10, n_samples=2048, seed=1).explain(text)
    other = TokenShap(predict, tokenizer=str.split, max_exact=10, n_samples=2048, seed=2).explain(text)
    assert np.array_equal(again.values, sampled.values)
    assert not np.array_equal(other.values, sampled.values)


def test_small_texts_are_exact_even_above_max_exact_when_all_coalitions_fit() -> None:
    e = TokenShap(predict, tokenizer=str.split, max_exact=2, n_samples=64).explain("not bad film !")
    assert e.method == "token_shap_exact"  # 2**4 coalitions fit in the 64-sample budget


def test_list_input_gives_one_explanation_per_text_and_targets() -> None:
    ts = TokenShap(predict, tokenizer=str.split)
    out = ts.explain(["good", "not bad film"], target=[0, 1])
    assert [len(e.feature_names) for e in out] == [1, 3]
    assert [int(e.target) for e in out] == [0, 1]
    assert out[0].values.tolist() == pytest.approx([-1.9])  # 1 - (2 - 0.1) - 1: 'good' costs 0.1, adds 2
    # target None: the class predicted for the whole text
    assert int(ts.explain("bad").target) == 0 and int(ts.explain("good").target) == 1


def test_occlusion_is_leave_one_out() -> None:
    e = TokenOcclusion(predict, tokenizer=str.split).explain("not bad film", target=1)
    full = game(["not", "bad", "film"])
    want = [full - game(["bad", "film"]), full - game(["not", "film"]), full - game(["not", "bad"])]
    np.testing.assert_allclose(e.values, want)
    assert e.method == "token_occlusion" and float(e.base_values) == pytest.approx(game([]))


def test_torch_classifier_top_token_is_a_positive_word(clf: TextClassifier) -> None:
    short = TokenShap(clf).explain("What a wonderful film!")
    assert short.method == "token_shap_exact" and short.output_names == ["negative", "positive"]
    assert int(short.target) == 1
    assert short.feature_names[int(np.argmax(short.values))] == "wonderful"
    long = TokenShap(clf).explain("Watched this with my family. A truly brilliant story, I loved every minute.")
    assert long.method == "token_shap_kernel" and int(long.target) == 1
    top = long.feature_names[int(np.argmax(long.values))]
    assert top in {"brilliant", "loved"}, list(zip(long.feature_names, long.values.round(3), strict=True))
    assert float(long.values.sum()) == pytest.approx(float(long.outputs - long.base_values), abs=1e-9)
    neg = TokenShap(clf).explain("The plot was awful.")
    assert int(neg.target) == 0 and neg.feature_names[int(np.argmax(neg.values))] == "awful"
    occ = TokenOcclusion(clf).explain("What a wonderful film!")
    assert occ.feature_names[int(np.argmax(occ.values))] == "wonderful"


def test_registry_builds_the_text_explainers(clf: TextClassifier) -> None:
    assert available_explainers("text") == ["gradient_x_input", "integrated_gradients", "lime_text", "token_occlusion",
                                            "token_shap"]
    assert "token_shap" not in available_explainers("table") and "saliency" not in available_explainers("text")
    ts = get_explainer("token_shap", clf, seed=3, max_exact=4)
    assert isinstance(ts, TokenShap) and (ts.seed, ts.max_exact) == (3, 4)
    assert isinstance(get_explainer("token_occlusion", clf), TokenOcclusion)
    with pytest.raises(TypeError, match="takes no data="):
        get_explainer("token_shap", clf, data=["a text"])


def test_bad_input_names_the_problem(clf: TextClassifier) -> None:
    import torch

    with pytest.raises(ValueError, match="has no tokens"):
        TokenShap(clf).explain("   ")
    with pytest.raises(ValueError, match="target 5 is out of range"):
        TokenShap(clf).explain("good", target=5)
    with pytest.raises(TypeError, match="bare torch module"):
        TokenShap(clf.module)
    with pytest.raises(TypeError, match="must be a str"):
        TokenShap(clf).explain([3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="one row per text"):
        TokenShap(lambda texts: np.zeros(1), tokenizer=str.split).explain("a b")
    with pytest.raises(ValueError, match="max_exact"):
        TokenShap(clf, max_exact=30)
    with pytest.raises(ValueError, match="one int per text"):
        TokenShap(clf).explain(["a", "b"], target=[0])
    assert torch.is_grad_enabled()
