"""A small torch text classifier: mean of word embeddings, then a linear layer (seconds on CPU).

:func:`train_text_classifier` tokenizes, builds the vocabulary, trains with a seed and returns a
:class:`TextClassifier` whose ``predict_proba(list[str]) -> (n, K)`` works with
:func:`nbexplain.models.predict_proba` and the token explainers. An empty text (every token
dropped) is valid: its embedding mean is zero, so the model returns its bias alone.

Example:
    >>> from nbexplain.datasets import reviews_split
    >>> tr, ytr, te, yte = reviews_split()
    >>> clf = train_text_classifier(tr, ytr, class_names=["negative", "positive"], seed=0)
    >>> float((clf.predict(te) == yte).mean()) > 0.85
    True
    >>> clf.predict_proba(["What a wonderful film!"]).round(2).tolist()
    [[0.02, 0.98]]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nbexplain.models import eval_mode
from nbexplain.text.tokenizer import Vocabulary, detokenize, tokenize
from nbexplain.validate import LabelError, check_class_names, check_int, check_number


class BagOfEmbeddings(nn.Module):
    """``logits = Linear(mean(Embedding(ids)))`` per text (``nn.EmbeddingBag``, mode ``"mean"``).

    ``forward(ids, offsets)``: ``ids`` all token ids of the batch concatenated (int64),
    ``offsets`` the start of each text in ``ids`` (as ``nn.EmbeddingBag`` takes them).

    Example:
        >>> m = BagOfEmbeddings(10, 4, 2)
        >>> m(torch.tensor([2, 3, 4]), torch.tensor([0, 2])).shape
        torch.Size([2, 2])
    """

    def __init__(self, vocab_size: int, dim: int, n_classes: int) -> None:
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, dim, mode="sum", padding_idx=0)
        self.linear = nn.Linear(dim, n_classes)

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.linear(self.embedding(ids, offsets))


def _as_texts(texts: Any, what: str) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"{what} takes a list of texts, got one string; wrap it: {what}([text])")
    out = list(texts)
    bad = [i for i, t in enumerate(out) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"{what}: item {bad[0]} is a {type(out[bad[0]]).__name__}, not a str; pass strings")
    return out


class TextClassifier:
    """A trained :class:`BagOfEmbeddings` with its tokenizer, vocabulary and class names.

    ``predict_proba(texts)`` and ``predict_proba_tokens(token_lists)`` give float64 class
    probabilities ``(n, K)``; the module runs in eval mode under ``no_grad`` (its training flag
    is restored). ``tokenize`` / ``detokenize`` are :mod:`nbexplain.text.tokenizer`'s.

    Example:
        >>> clf = TextClassifier(Vocabulary(["good", "bad"]), BagOfEmbeddings(4, 2, 2), ["neg", "pos"])
        >>> clf.predict_proba(["good", ""]).shape, clf.tokenize("Good!")
        ((2, 2), ['good', '!'])
    """

    def __init__(self, vocab: Vocabulary, module: BagOfEmbeddings, class_names: Sequence[str]) -> None:
        self.vocab = vocab
        self.module = module
        self.class_names = [str(c) for c in class_names]
        k = module.linear.out_features
        if len(self.class_names) != k:
            raise ValueError(f"got {len(self.class_names)} class_names for a model with {k} outputs")

    def __repr__(self) -> str:
        return f"TextClassifier(vocab={len(self.vocab)}, classes={self.class_names})"

    @staticmethod
    def tokenize(text: str) -> list[str]:
        """The tokens of ``text`` (lower-case words and punctuation).

        Example:
            >>> TextClassifier.tokenize("Not bad.")
            ['not', 'bad', '.']
        """
        return tokenize(text)

    @staticmethod
    def detokenize(tokens: Sequence[str]) -> str:
        """A text whose tokens are ``tokens``.

        Example:
            >>> TextClassifier.detokenize(["not", "bad", "."])
            'not bad.'
        """
        return detokenize(tokens)

    def _batch(self, token_lists: Sequence[Sequence[str]]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = [self.vocab.encode(t) for t in token_lists]
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(ids) else np.zeros(0, np.int64)
        flat = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        return torch.from_numpy(flat.astype(np.int64)), torch.from_numpy(offsets.astype(np.int64))

    def logits_tokens(self, token_lists: Sequence[Sequence[str]], *, batch_size: int = 8192) -> np.ndarray:
        """Raw scores ``(n, K)`` for already tokenized texts.

        Example:
            >>> clf = train_text_classifier(["a superb film", "great fun", "a dull plot", "awful film"], [1, 1, 0, 0],
            ...                             class_names=["negative", "positive"], seed=0)
            >>> z = clf.logits_tokens([["great", "film"]]); z.shape, bool(z[0, 1] > z[0, 0])
            ((1, 2), True)
        """
        lists = list(token_lists)
        outs = []
        with eval_mode(self.module), torch.no_grad():
            for start in range(0, len(lists), batch_size):
                ids, offsets = self._batch(lists[start:start + batch_size])
                outs.append(self.module(ids, offsets).double().numpy())
        return np.concatenate(outs) if outs else np.zeros((0, len(self.class_names)))

    def predict_proba_tokens(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Class probabilities ``(n, K)`` for already tokenized texts (what the explainers call).

        Example:
            >>> clf = train_text_classifier(["a superb film", "great fun", "a dull plot", "awful film"], [1, 1, 0, 0],
            ...                             class_names=["negative", "positive"], seed=0)
            >>> p = clf.predict_proba_tokens([["great"], []]); p.shape, p.sum(axis=1).round(6).tolist()
            ((2, 2), [1.0, 1.0])
        """
        z = self.logits_tokens(token_lists)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """Class probabilities ``(n, K)`` of a list of texts.

        Example:
            >>> clf = train_text_classifier(["a superb film", "great fun", "a dull plot", "awful film"], [1, 1, 0, 0],
            ...                             class_names=["negative", "positive"], seed=0)
            >>> clf.predict_proba(["a superb film", "dull"]).round(2).tolist()
            [[0.0, 1.0], [1.0, 0.0]]
        """
        return self.predict_proba_tokens([tokenize(t) for t in _as_texts(texts, "predict_proba")])

    def predict(self, texts: Iterable[str]) -> np.ndarray:
        """Predicted class indices (int64) of a list of texts.

        Example:
            >>> clf = train_text_classifier(["a superb film", "great fun", "a dull plot", "awful film"], [1, 1, 0, 0],
            ...                             class_names=["negative", "positive"], seed=0)
            >>> clf.predict(["a superb film", "dull"]).tolist()
            [1, 0]
        """
        return self.predict_proba(texts).argmax(axis=1).astype(np.int64)


def train_text_classifier(
    texts: Sequence[str],
    labels: Any,
    *,
    class_names: Sequence[str] | None = None,
    seed: int = 0,
    epochs: int = 60,
    dim: int = 16,
    lr: float = 0.02,
    word_dropout: float = 0.1,
    min_count: int = 1,
) -> TextClassifier:
    """Train a :class:`TextClassifier` (full-batch Adam, cross-entropy), deterministic for a seed.

    ``labels``: int class indices ``0..K-1``. ``class_names`` defaults to ``class 0..K-1``.
    ``word_dropout``: the share of tokens removed at random from each training text every
    epoch, so the model has seen partial texts (the explainers remove tokens). The global torch
    random state is left as it was. About a second for the 640 training reviews.

    Example:
        >>> clf = train_text_classifier(["good", "bad", "very good", "so bad"], [1, 0, 1, 0], epochs=30)
        >>> clf.predict(["good"]).tolist(), clf.class_names
        ([1], ['class 0', 'class 1'])
    """
    texts = _as_texts(texts, "train_text_classifier")
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(texts):
        raise ValueError(f"labels must be one int per text: got shape {list(y.shape)} for {len(texts)} texts")
    if len(texts) == 0:
        raise ValueError("no training texts: pass at least one text per class")
    if y.dtype.kind in "OSU":
        raise LabelError(f"labels hold {type(y[0]).__name__} values ({y[0]!r}); labels must be class indices 0..K-1 "
                         "(ints): map them with pd.factorize or LabelEncoder and pass the names as class_names")
    class_names = check_class_names(class_names)
    check_int(epochs, "epochs", min=1, max=100_000)
    check_int(dim, "dim", min=1, max=4096)
    check_int(min_count, "min_count", min=1)
    check_int(seed, "seed", min=0)
    check_number(lr, "lr", min=0.0, min_open=True)
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError(f"labels must be class indices 0..K-1 (ints), got dtype {y.dtype} with minimum {y.min()}")
    k = int(y.max()) + 1 if class_names is None else len(class_names)
    if y.max() >= k:
        raise ValueError(f"label {int(y.max())} is out of range for {k} class_names")
    names = [f"class {i}" for i in range(k)] if class_names is None else list(class_names)
    if not 0.0 <= word_dropout < 1.0:
        raise ValueError(f"word_dropout must be in [0, 1), got {word_dropout!r}")
    token_lists = [tokenize(t) for t in texts]
    vocab = Vocabulary.build(token_lists, min_count=min_count)
    ids = [vocab.encode(t) for t in token_lists]
    rng = np.random.default_rng(seed)
    target = torch.from_numpy(y.astype(np.int64))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = BagOfEmbeddings(len(vocab), dim, k)
        opt = torch.optim.Adam(module.parameters(), lr=lr)
        module.train()
        for _ in range(epochs):
            kept = [i[rng.random(len(i)) >= word_dropout] for i in ids]
            lengths = np.array([len(i) for i in kept], dtype=np.int64)
            offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64))
            flat = torch.from_numpy(np.concatenate(kept).astype(np.int64))
            opt.zero_grad()
            loss = nn.functional.cross_entropy(module(flat, offsets), target)
            loss.backward()
            opt.step()
        module.eval()
    return TextClassifier(vocab, module, names)
