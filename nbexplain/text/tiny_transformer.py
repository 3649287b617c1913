"""A tiny BERT sentiment classifier and its WordPiece tokenizer, trained here in seconds (no downloads).

For demos, notebooks and tests that need a real ``transformers`` model without the hub:
:func:`train_wordpiece_tokenizer` learns a WordPiece vocabulary from the texts with the
``tokenizers`` library and wraps it as a ``PreTrainedTokenizerFast``; :func:`train_tiny_bert`
builds a ``BertForSequenceClassification`` from a small ``BertConfig`` (or ``distilbert=True``
for a ``DistilBertForSequenceClassification``) and fits it with a fixed seed. The model is the
same class the hub's checkpoints load into, so what works on it works on those.

Example:
    >>> from nbexplain.datasets import reviews_split
    >>> tr, ytr, te, yte = reviews_split()
    >>> model, tok = train_tiny_bert(tr, ytr, class_names=["negative", "positive"], epochs=1)
    >>> type(model).__name__, tok.is_fast, model.training
    ('BertForSequenceClassification', True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.validate import check_class_names, check_int

__all__ = ["train_tiny_bert", "train_wordpiece_tokenizer"]

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def train_wordpiece_tokenizer(texts: Sequence[str], vocab_size: int = 600) -> Any:
    """A BERT-style (lower-cased WordPiece) fast tokenizer learnt from ``texts``.

    Example:
        >>> tok = train_wordpiece_tokenizer(["a good film", "a bad film"], vocab_size=60)
        >>> tok("a good film")["input_ids"][0] == tok.cls_token_id
        True
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    raw.normalizer = normalizers.BertNormalizer(lowercase=True)
    raw.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    raw.train_from_iterator(list(texts), trainers.WordPieceTrainer(vocab_size=check_int(vocab_size, "vocab_size",
                                                                                            min=len(SPECIAL_TOKENS) + 1),
                                                                      special_tokens=list(SPECIAL_TOKENS)))
    cls, sep = raw.token_to_id("[CLS]"), raw.token_to_id("[SEP]")
    raw.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)


def train_tiny_bert(texts: Sequence[str], labels: Sequence[int], *, class_names: Sequence[str] | None = None,
                    distilbert: bool = False, hidden_size: int = 32, layers: int = 2, heads: int = 2,
                    epochs: int = 6, vocab_size: int = 600, max_length: int = 64, seed: int = 0,
                    tokenizer: Any = None) -> tuple[Any, Any]:
    """``(model, tokenizer)``: a tiny BERT (or DistilBERT) classifier trained on ``texts`` / ``labels``.

    About 3 s for the 240 training reviews with the defaults on a laptop CPU. The model is
    returned in eval mode; the global random states are left as they were.
    """
    import torch
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        DistilBertConfig,
        DistilBertForSequenceClassification,
    )

    from nbexplain.guard import rng_guard

    texts = list(texts)
    y = np.asarray(labels)
    if y.shape != (len(texts),) or y.dtype.kind not in "iu":
        raise ValueError(f"labels must be one int class per text ({len(texts)}), got shape {list(y.shape)} {y.dtype}")
    k = int(y.max()) + 1
    names = check_class_names(class_names)
    if names is not None and len(names) != k:
        raise ValueError(f"class_names has {len(names)} names but the labels have {k} classes")
    tok = tokenizer if tokenizer is not None else train_wordpiece_tokenizer(texts, vocab_size)
    id2label = {i: names[i] for i in range(k)} if names else None
    common = {"vocab_size": len(tok), "num_labels": k, "max_position_embeddings": max(max_length, 16)}
    if id2label:
        common |= {"id2label": id2label, "label2id": {v: i for i, v in id2label.items()}}
    with rng_guard():
        torch.manual_seed(seed)
        if distilbert:
            config = DistilBertConfig(dim=hidden_size, n_layers=layers, n_heads=heads, hidden_dim=2 * hidden_size,
                                      pad_token_id=tok.pad_token_id, **common)
            model = DistilBertForSequenceClassification(config)
        else:
            config = BertConfig(hidden_size=hidden_size, num_hidden_layers=layers, num_attention_heads=heads,
                                intermediate_size=2 * hidden_size, pad_token_id=tok.pad_token_id, **common)
            model = BertForSequenceClassification(config)
        enc = tok(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        target = torch.as_tensor(y, dtype=torch.long)
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        gen = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(check_int(epochs, "epochs", min=1)):
            order = torch.randperm(len(texts), generator=gen)
            for a in range(0, len(texts), 32):
                idx = order[a:a + 32]
                loss = model(input_ids=enc["input_ids"][idx], attention_mask=enc["attention_mask"][idx],
                             labels=target[idx]).loss
                opt.zero_grad()
                loss.backward()
                opt.step()
        model.eval()
        for p in model.parameters():
            p.grad = None
    return model, tok
