"""The review corpus, the tokenizer and vocabulary, and the small torch text classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nbexplain.datasets import load_reviews, reviews_split
from nbexplain.datasets.reviews import CORPUS
from nbexplain.models import predict_proba
from nbexplain.text import TextClassifier, Vocabulary, detokenize, tokenize, train_text_classifier


@pytest.fixture(scope="module")
def clf() -> TextClassifier:
    tr, ytr, _, _ = reviews_split()
    return train_text_classifier(tr, ytr, class_names=["negative", "positive"], seed=0)


def test_corpus_ships_in_the_package_and_is_balanced() -> None:
    assert CORPUS.parent.name == "datasets" and CORPUS.parent.parent.name == "nbexplain"
    texts, labels, names = load_reviews()
    assert names == ["negative", "positive"]
    assert len(texts) == len(labels) == 800 and len(set(texts)) == 800
    assert np.bincount(labels).tolist() == [400, 400]
    assert all(isinstance(t, str) and 10 <= len(t) <= 200 for t in texts)


def test_corpus_file_is_what_the_generator_writes() -> None:
    from nbexplain.datasets._make_reviews import make_reviews

    texts, labels, names = load_reviews()
    assert [(names[y], t) for t, y in zip(texts, labels, strict=True)] == make_reviews()


def test_split_is_fixed_and_disjoint() -> None:
    tr, _ytr, te, yte = reviews_split()
    texts, labels, _ = load_reviews()
    assert (len(tr), len(te)) == (640, 160)
    assert te == texts[::5] and yte.tolist() == labels[::5].tolist()
    assert not set(tr) & set(te)
    assert reviews_split()[2] == te
    with pytest.raises(ValueError, match="test_every must be an int >= 2"):
        reviews_split(1)


def test_tokenizer_lowercases_splits_punctuation_and_round_trips() -> None:
    assert tokenize("Not BAD, the director's cut (2024)!") == [
        "not", "bad", ",", "the", "director's", "cut", "(", "2024", ")", "!"]
    texts, _, _ = load_reviews()
    for text in texts[:200]:
        assert tokenize(detokenize(tokenize(text))) == tokenize(text)
    with pytest.raises(TypeError, match="one string"):
        tokenize(["a list"])  # type: ignore[arg-type]


def test_vocabulary_orders_by_count_and_maps_unknown_to_unk() -> None:
    v = Vocabulary.build([["b", "a", "b"], ["c", "a", "b"]])
    assert v.tokens == ["<pad>", "<unk>", "b", "a", "c"]
    assert v.encode(["a", "zzz", "b"]).tolist() == [3, 1, 2]
    assert v.decode([4, 1]) == ["c", "<unk>"]
    assert Vocabulary.build([["a", "a", "b"]], min_count=2).tokens == ["<pad>", "<unk>", "a"]


def test_classifier_beats_85_percent_on_held_out_reviews(clf: TextClassifier) -> None:
    _, _, te, yte = reviews_split()
    accuracy = float((clf.predict(te) == yte).mean())
    assert accuracy > 0.85, accuracy
    p = clf.predict_proba(["What a wonderful, moving film!", "Awful and boring, a complete waste of time."])
    assert p.shape == (2, 2) and np.allclose(p.sum(axis=1), 1.0)
    assert p[0, 1] > 0.9 and p[1, 0] > 0.9


def test_classifier_works_with_models_predict_proba_and_empty_texts(clf: TextClassifier) -> None:
    texts = ["a superb film", "dull", ""]
    assert np.allclose(predict_proba(clf, texts), clf.predict_proba(texts))
    assert np.allclose(predict_proba(clf, np.array(texts)), clf.predict_proba(texts))
    # the empty text (every token dropped) is the bias alone
    bias = torch.softmax(clf.module.linear.bias.detach().double(), 0).numpy()
    assert np.allclose(clf.predict_proba([""])[0], bias)
    assert np.allclose(clf.predict_proba_tokens([["superb"], []]), clf.predict_proba(["Superb", ""]))
    assert clf.tokenize("Superb!") == ["superb", "!"] and clf.detokenize(["superb", "!"]) == "superb!"
    assert clf.module.training is False


def test_training_is_deterministic_and_leaves_torch_rng_alone() -> None:
    tr, ytr, te, _ = reviews_split()
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = train_text_classifier(tr, ytr, seed=3, epochs=10)
    after = torch.rand(3)
    b = train_text_classifier(tr, ytr, seed=3, epochs=10)
    c = train_text_classifier(tr, ytr, seed=4, epochs=10)
    assert torch.equal(before, after)
    assert np.array_equal(a.predict_proba(te), b.predict_proba(te))
    assert not np.array_equal(a.predict_proba(te), c.predict_proba(te))
    assert a.class_names == ["class 0", "class 1"]


def test_bad_input_names_the_problem(clf: TextClassifier) -> None:
    with pytest.raises(TypeError, match=r"wrap it: predict_proba\(\[text\]\)"):
        clf.predict_proba("one string")
    with pytest.raises(TypeError, match="item 1 is a int"):
        clf.predict_proba(["ok", 3])
    with pytest.raises(ValueError, match="one int per text"):
        train_text_classifier(["a", "b"], [0])
    with pytest.raises(ValueError, match="class indices"):
        train_text_classifier(["a", "b"], [0.5, 1.0])
    with pytest.raises(ValueError, match="out of range for 2 class_names"):
        train_text_classifier(["a", "b"], [0, 2], class_names=["x", "y"])
