"""A regex word tokenizer and a vocabulary (pure Python / numpy, no torch).

Words are lower-cased runs of letters and digits (with an inner apostrophe: ``don't``,
``director's``); every other non-space character is a token of its own (punctuation).
:func:`detokenize` joins tokens back so that :func:`tokenize` of the result gives the same
tokens (the round trip the token explainers rely on when they drop tokens from a text).

Example:
    >>> tokenize("Not bad, REALLY!")
    ['not', 'bad', ',', 'really', '!']
    >>> detokenize(['not', 'bad', ',', 'really', '!'])
    'not bad, really!'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|[^\sa-z0-9]")
#: Tokens written without a space before them by :func:`detokenize`.
NO_SPACE_BEFORE = frozenset(".,!?;:)]}%")
#: Tokens written without a space after them.
NO_SPACE_AFTER = frozenset("([{")
PAD, UNK = "<pad>", "<unk>"


def tokenize(text: str) -> list[str]:
    """Lower-case word and punctuation tokens of ``text``.

    Example:
        >>> tokenize("The director's cut: 10/10.")
        ['the', "director's", 'cut', ':', '10', '/', '10', '.']
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize takes one string, got {type(text).__name__}; for many texts use [tokenize(t) for t in texts]")
    return TOKEN_RE.findall(text.lower())


def detokenize(tokens: Sequence[str]) -> str:
    """Join tokens with single spaces, except before ``. , ! ? ; : ) ] } %`` and after ``( [ {``.

    Example:
        >>> detokenize(["what", "a", "film", "!"])
        'what a film!'
        >>> detokenize(["a", "(", "b", ")", "."])
        'a (b).'

    """
    out: list[str] = []
    for tok in tokens:
        if out and tok not in NO_SPACE_BEFORE and out[-1] not in NO_SPACE_AFTER:
            out.append(" ")
        out.append(str(tok))
    return "".join(out)


class Vocabulary:
    """Token <-> id. Id 0 is ``<pad>``, id 1 is ``<unk>`` (every token not in the vocabulary).

    ``Vocabulary.build(token_lists, min_count=1, max_size=None)`` keeps the tokens seen at
    least ``min_count`` times, most frequent first (ties alphabetically, so it is deterministic).

    Example:
        >>> v = Vocabulary.build([["good", "film"], ["bad", "film"]])
        >>> len(v), v.encode(["film", "great"]).tolist(), v.tokens[:3]
        (5, [2, 1], ['<pad>', '<unk>', 'film'])
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        words = [PAD, UNK] + [t for t in tokens if t not in (PAD, UNK)]
        if len(set(words)) != len(words):
            raise ValueError("the vocabulary tokens must be unique")
        self.tokens: list[str] = words
        self.index: dict[str, int] = {t: i for i, t in enumerate(words)}

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], *, min_count: int = 1, max_size: int | None = None) -> Vocabulary:
        """The vocabulary of ``token_lists`` (see the class docstring).

        Example:
            >>> len(Vocabulary.build([["a", "a", "b"]], min_count=2))
            3
        """
        if not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"min_count must be a positive int, got {min_count!r}")
        counts = Counter(t for tokens in token_lists for t in tokens)
        kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls(kept[:max_size] if max_size is not None else kept)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)})"

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """int64 ids of ``tokens`` (``<unk>`` = 1 for unknown ones).

        Example:
            >>> Vocabulary(["hi"]).encode(["hi", "there"]).tolist()
            [2, 1]
        """
        get = self.index.get
        return np.fromiter((get(t, 1) for t in tokens), dtype=np.int64, count=len(tokens))

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids``.

        Example:
            >>> Vocabulary(["hi"]).decode([2, 1])
            ['hi', '<unk>']
        """
        return [self.tokens[int(i)] for i in ids]
