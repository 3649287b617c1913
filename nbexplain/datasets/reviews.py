"""The review corpus: 800 short English movie reviews labelled negative (0) or positive (1).

Provenance and licence: written for nbexplain. The file ``reviews.tsv`` (next to this module,
shipped in the wheel) is generated deterministically from hand-written phrase lists by
``nbexplain/datasets/_make_reviews.py`` (``random.Random(0)``); it contains no third-party text.
It is dedicated to the public domain under CC0 1.0, like the generator. Half the reviews are
positive; about one in ten is a harder case (a negation such as "not bad at all", or a contrast
"X was dull, but Y was superb" labelled by its last clause).

Example:
    >>> texts, labels, names = load_reviews()
    >>> names[labels[0]], texts[0][:27]
    ('negative', 'Caught it on a flight. The ')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parent / "reviews.tsv"
CLASS_NAMES = ["negative", "positive"]


def load_reviews() -> tuple[list[str], np.ndarray, list[str]]:
    """The corpus as ``(texts, labels, class_names)``: 800 strings, int64 labels, two names.

    ``labels[i]`` indexes ``class_names`` (0 = negative, 1 = positive). The order is the file's
    (a fixed shuffle), the same on every call.

    Example:
        >>> texts, labels, names = load_reviews()
        >>> labels.dtype, int(labels.sum())
        (dtype('int64'), 400)
    """
    if not CORPUS.is_file():
        raise FileNotFoundError(
            f"the review corpus {CORPUS} is missing; reinstall nbexplain, or regenerate it with "
            "`python -m nbexplain.datasets._make_reviews`"
        )
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != "label\ttext":
        raise ValueError(f"{CORPUS} does not start with the header 'label<TAB>text'; regenerate it")
    texts: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(lines[1:], start=2):
        label, sep, text = line.partition("\t")
        if not sep or label not in CLASS_NAMES:
            raise ValueError(f"{CORPUS} line {number} is not '<negative|positive><TAB><text>': {line!r}")
        texts.append(text)
        labels.append(CLASS_NAMES.index(label))
    return texts, np.asarray(labels, dtype=np.int64), list(CLASS_NAMES)


def reviews_split(test_every: int = 5) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """The fixed train/test split: ``(train_texts, train_labels, test_texts, test_labels)``.

    Review ``i`` (in :func:`load_reviews` order) is a test review when ``i % test_every == 0``,
    so the default keeps 640 reviews for training and 160 for testing, always the same ones
    (the file order is already shuffled, so both halves are balanced to within a few reviews).

    Example:
        >>> tr, ytr, te, yte = reviews_split()
        >>> len(tr), len(te)
        (640, 160)
    """
    if not isinstance(test_every, int) or test_every < 2:
        raise ValueError(f"test_every must be an int >= 2 (every k-th review is a test review), got {test_every!r}")
    texts, labels, _ = load_reviews()
    test = np.arange(len(texts)) % test_every == 0
    train_texts = [t for t, is_test in zip(texts, test, strict=True) if not is_test]
    test_texts = [t for t, is_test in zip(texts, test, strict=True) if is_test]
    return train_texts, labels[~test], test_texts, labels[test]
