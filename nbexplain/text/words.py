"""A transformers tokenizer's sub-word pieces grouped into the words of the text they came from.

:func:`word_pieces` tokenizes one text the way the model reads it (special tokens added,
truncated to ``max_length``) and records, for every word of the text, the piece positions that
make it up and its span in the original string, so attributions of pieces can be summed into
words (:func:`merge_pieces`) and shown as the words the user wrote ("playing", not "play" +
"##ing"), with the pieces on hover. A fast tokenizer (the ``tokenizers`` library behind
``PreTrainedTokenizerFast``) knows each piece's word and character offsets; a slow one does not,
and each piece is then a word of its own (:attr:`WordPieces.merged` is False).

Example:
    >>> from tokenizers import Tokenizer, models, pre_tokenizers
    >>> from transformers import PreTrainedTokenizerFast
    >>> vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "play": 4, "##ing": 5, "well": 6}
    >>> raw = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    >>> raw.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    >>> tok = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[UNK]", cls_token="[CLS]",
    ...                               sep_token="[SEP]", pad_token="[PAD]")
    >>> wp = word_pieces(tok, "playing well", max_length=8)
    >>> wp.words, wp.pieces, wp.piece_tokens
    (['playing', 'well'], [[0, 1], [2]], ['play', '##ing', 'well'])
    >>> merge_pieces([0.25, 0.5, -1.0], wp)[0].tolist()
    [0.75, -1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["WordPieces", "merge_pieces", "piece_details", "word_pieces"]


@dataclass
class WordPieces:
    """One text as the model reads it, and its words.

    ``input_ids`` / ``attention_mask``: int64 ``(1, T)`` (what the model gets, special tokens
    included); ``special``: bool ``(T,)``; ``tokens``: the ``T`` piece strings. ``words``: the
    words in text order (the text's own characters, special tokens excluded), ``spans`` their
    ``(start, end)`` character offsets, ``pieces`` the positions among the non-special pieces that
    make up each word, ``piece_tokens`` the non-special pieces' strings and ``positions`` their
    positions in ``input_ids``. ``n_tokens``: the pieces of the whole text before truncation
    (special tokens included); ``truncated``: the model sees only the first ``max_length``.
    """

    text: str
    input_ids: Any
    attention_mask: Any
    tokens: list[str]
    special: np.ndarray
    words: list[str]
    spans: list[tuple[int, int]]
    pieces: list[list[int]]
    piece_tokens: list[str]
    positions: np.ndarray
    n_tokens: int
    max_length: int
    merged: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        """True when the text has more pieces than the model reads."""
        return self.n_tokens > self.max_length

    def note(self) -> str:
        """A visible note when the text was cut ("" otherwise).

        Example:
            >>> WordPieces("a", None, None, [], np.zeros(0, bool), ["a"], [(0, 1)], [[0]], ["a"],
            ...            np.zeros(1, int), 600, 512).note()[:60]
            'truncated: the text has 600 tokens, the model reads the firs'
        """
        if not self.truncated:
            return ""
        last = self.words[-1] if self.words else ""
        return (f"truncated: the text has {self.n_tokens} tokens, the model reads the first {self.max_length}; "
                f"the words after {last!r} are not seen and not explained")


def word_pieces(tokenizer: Any, text: str, *, max_length: int) -> WordPieces:
    """Tokenize ``text`` for the model (truncated to ``max_length`` pieces) and group its pieces into words.

    Raises ``TypeError`` for a tokenizer that is not a transformers tokenizer (callable with
    ``return_tensors="pt"``) and ``ValueError`` when ``text`` is not a string.
    """
    import torch

    if not isinstance(text, str):
        raise TypeError(f"a text must be a str, got {type(text).__name__}")
    if not callable(tokenizer) or not hasattr(tokenizer, "convert_ids_to_tokens"):
        raise TypeError(f"tokenizer must be a transformers tokenizer (AutoTokenizer.from_pretrained(...) or "
                        f"PreTrainedTokenizerFast), got {type(tokenizer).__name__}")
    fast = bool(getattr(tokenizer, "is_fast", False))
    enc = tokenizer(text, truncation=True, max_length=max_length, return_special_tokens_mask=True,
                    return_offsets_mapping=fast)
    ids = list(enc["input_ids"])
    special = np.asarray(enc.get("special_tokens_mask", [0] * len(ids)), dtype=bool)
    tokens = [str(t) for t in tokenizer.convert_ids_to_tokens(ids)]
    n_full = len(tokenizer(text, truncation=False)["input_ids"]) if len(ids) >= max_length else len(ids)
    positions = np.flatnonzero(~special)
    piece_tokens = [tokens[p] for p in positions]
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    pieces: list[list[int]] = []
    merged = fast
    if fast:
        word_ids = enc.word_ids()
        offsets = enc["offset_mapping"]
        current: Any = object()
        for k, p in enumerate(positions):
            wid = word_ids[p]
            start, end = (int(v) for v in offsets[p])
            if wid is not None and wid == current and pieces:
                pieces[-1].append(k)
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                pieces.append([k])
                spans.append((start, end))
            current = wid
        words = [text[a:b] if b > a else piece_tokens[ks[0]] for (a, b), ks in zip(spans, pieces, strict=True)]
    else:
        pieces = [[k] for k in range(len(positions))]
        words = list(piece_tokens)
        spans = [(-1, -1)] * len(words)
    return WordPieces(text=text, input_ids=torch.tensor([ids], dtype=torch.long),
                      attention_mask=torch.ones(1, len(ids), dtype=torch.long), tokens=tokens, special=special,
                      words=words, spans=spans, pieces=pieces, piece_tokens=piece_tokens, positions=positions,
                      n_tokens=n_full, max_length=int(max_length), merged=merged)


def merge_pieces(values: Sequence[float] | np.ndarray, wp: WordPieces) -> tuple[np.ndarray, list[np.ndarray]]:
    """Word attributions (the sum of each word's pieces) and each word's piece values.

    ``values``: one value per non-special piece (``len(wp.piece_tokens)``), in order.

    Example:
        >>> wp = WordPieces("ab c", None, None, [], np.zeros(0, bool), ["ab", "c"], [(0, 2), (3, 4)],
        ...                 [[0, 1], [2]], ["a", "##b", "c"], np.arange(3), 3, 8)
        >>> merge_pieces(np.array([1.0, 2.0, 4.0]), wp)[0].tolist()
        [3.0, 4.0]
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size != len(wp.piece_tokens):
        raise ValueError(f"{v.size} piece values for {len(wp.piece_tokens)} pieces")
    parts = [v[ks] for ks in wp.pieces]
    return np.array([p.sum() for p in parts], dtype=np.float64), parts


def piece_details(wp: WordPieces, parts: list[np.ndarray]) -> list[str]:
    """Per word, its pieces and their values as one line ("" for a word of one piece).

    Example:
        >>> wp = WordPieces("ab", None, None, [], np.zeros(0, bool), ["ab"], [(0, 2)], [[0, 1]],
        ...                 ["a", "##b"], np.arange(2), 2, 8)
        >>> piece_details(wp, [np.array([0.5, -0.25])])
        ['a 0.5 + ##b -0.25']
    """
    out = []
    for ks, vals in zip(wp.pieces, parts, strict=True):
        if len(ks) < 2:
            out.append("")
            continue
        out.append(" + ".join(f"{wp.piece_tokens[k]} {float(v):.3g}" for k, v in zip(ks, vals, strict=True)))
    return out
