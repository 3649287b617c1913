"""AttentionView: a transformer encoder's self-attention over one text, per layer and head, and its rollout.

Drawn by the nbexplain bundle (``_view = "attention"``), offline: the tokens twice with a line
from each token to those it attends to (or a token x token grid), a layer picker (each layer,
or attention rollout over all layers) and a head picker (each head, or their mean). Layer, head
and drawing change in the browser without a kernel round trip and come back to Python
(``layer``, ``head``, ``mode``). The maps travel once, as 8-bit codes (``precision="uint8"``:
1/252 of the largest weight); above :data:`WIRE_VALUES` values the heads are averaged per layer
before they are sent, and the view says so.

Example:
    >>> import numpy as np
    >>> maps = np.full((2, 2, 3, 3), 1 / 3)                # layers, heads, tokens, tokens
    >>> w = AttentionView(["[CLS]", "good", "[SEP]"], maps, special=[1, 0, 1])
    >>> w.layer, w.head, w.maps.shape, w.rollout.shape
    (-1, -1, (2, 2, 3, 3), (3, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from .._base import NbxWidget
from .._traits import ArrayTrait

__all__ = ["WIRE_VALUES", "AttentionView"]

#: The most attention values sent as they are (layers x heads x T x T); above it the heads are averaged.
WIRE_VALUES = 1_000_000


class AttentionView(NbxWidget):
    """Self-attention of one text: ``maps`` ``(layers, heads, T, T)`` over ``tokens``.

    ``rollout`` (``(T, T)``): attention rollout, computed from ``maps`` when not given
    (:func:`nbexplain.explainers.vision.attention.attention_rollout`). ``special``: 1 for special tokens
    ([CLS], [SEP]), drawn greyed. ``layer``: -1 shows the rollout, ``0..L-1`` a layer; ``head``:
    -1 the mean of the heads; ``mode``: ``"lines"`` or ``"matrix"``; ``min_weight``: lines for
    weights below it are not drawn. Build one from a transformers classifier with
    :meth:`from_text`.

    Example:
        >>> from nbexplain import TextExplainer
        >>> from nbexplain.text.tiny_transformer import train_tiny_bert    # a tiny BERT, no downloads
        >>> model, tokenizer = train_tiny_bert(["a superb film", "great fun", "a dull plot", "awful film"],
        ...                                    [1, 1, 0, 0], epochs=1, vocab_size=60)
        >>> te = TextExplainer(model, tokenizer)
        >>> w = AttentionView.from_text(te, "a fine film")
        >>> w.maps.shape, w.layer, w.head    # 2 layers x 2 heads; shown: the last layer, the mean of the heads
        ((2, 2, 7, 7), -1, -1)
        >>> w.layer = 1; w.head = 0
    """

    _view = traitlets.Unicode("attention").tag(sync=True)
    tokens = traitlets.List(traitlets.Unicode(), help="list[str]: the T tokens, shown as literal text.").tag(sync=True)
    maps = ArrayTrait(ndims=(4,), help="float array (layers, heads, T, T): attention probabilities, rows attend to "
                      "columns.").tag(sync=True)
    rollout = ArrayTrait(ndims=(2,), allow_none=True, help="float array (T, T) or None: attention rollout.").tag(sync=True)
    special = ArrayTrait(ndims=(1,), help="array (T,), default zeros: 1 for a special token (greyed).").tag(sync=True)
    layer = traitlets.Int(-1, help="int, default -1: the layer shown (0-based); -1 = attention rollout.").tag(sync=True)
    head = traitlets.Int(-1, help="int, default -1: the head shown (0-based); -1 = the mean of the heads.").tag(sync=True)
    mode = traitlets.Enum(("lines", "matrix"), default_value="lines", help='str, default "lines": the drawing.').tag(
        sync=True)
    min_weight = traitlets.Float(0.02, help="float, default 0.02: lines below this weight are not drawn.").tag(sync=True)
    note = traitlets.Unicode("", help='str, default "": a note shown above the drawing (literal text).').tag(sync=True)
    precision = traitlets.Enum(("float32", "float16", "uint8"), default_value="uint8",
                               help='str, default "uint8": the wire encoding of the maps (not synced).')

    def __init__(self, tokens: Any = (), maps: Any = None, *, rollout: Any = None, special: Any = None,
                 **kwargs: Any) -> None:
        toks = [str(t) for t in tokens]
        maps = np.zeros((1, 1, len(toks), len(toks))) if maps is None else np.asarray(maps, dtype=np.float64)
        if maps.ndim != 4 or maps.shape[2:] != (len(toks), len(toks)):
            raise ValueError(f"maps must be (layers, heads, T, T) with T = {len(toks)} tokens, got shape "
                             f"{list(maps.shape)}")
        if not np.isfinite(maps).all() or (maps < 0).any():
            raise ValueError("maps must hold attention probabilities (finite, >= 0)")
        if rollout is None:
            from ...explainers.vision.attention import attention_rollout

            rollout = attention_rollout(maps[None])[0]
        notes = [kwargs.pop("note", "")]
        if maps.size > WIRE_VALUES and maps.shape[1] > 1:
            notes.append(f"heads averaged per layer: {maps.shape[0]} layers x {maps.shape[1]} heads x {len(toks)}^2 "
                         f"tokens is over the {WIRE_VALUES:,} values a view sends")
            maps = maps.mean(1, keepdims=True)
        special = np.zeros(len(toks)) if special is None else np.asarray(special, dtype=np.float64)
        super().__init__(tokens=toks, maps=maps, rollout=rollout, special=special,
                         note="; ".join(n for n in notes if n), **kwargs)

    @traitlets.validate("layer")
    def _valid_layer(self, proposal: Any) -> int:
        value = int(proposal["value"])
        layers = self.maps.shape[0] if self.maps is not None else 0
        if not -1 <= value < layers:
            raise traitlets.TraitError(f"layer must be -1 (rollout) or 0..{layers - 1}, got {value}")
        return value

    @traitlets.validate("head")
    def _valid_head(self, proposal: Any) -> int:
        value = int(proposal["value"])
        heads = self.maps.shape[1] if self.maps is not None else 0
        if not -1 <= value < heads:
            raise traitlets.TraitError(f"head must be -1 (mean of the heads) or 0..{heads - 1}, got {value}")
        return value

    @classmethod
    def from_text(cls, explainer: Any, text: str, **kwargs: Any) -> AttentionView:
        """The attention of a :class:`nbexplain.TextExplainer`'s model over ``text``'s word pieces.

        Example:
            >>> from nbexplain import TextExplainer
            >>> from nbexplain.text.tiny_transformer import train_tiny_bert    # a tiny BERT, no downloads
            >>> model, tokenizer = train_tiny_bert(["a superb film", "great fun", "a dull plot", "awful film"],
            ...                                    [1, 1, 0, 0], epochs=1, vocab_size=60)
            >>> te = TextExplainer(model, tokenizer)
            >>> AttentionView.from_text(te, "a fine film").tokens    # the word pieces the model reads
            ['[CLS]', 'a', 'fi', '##n', '##e', 'film', '[SEP]']
        """
        att = explainer.attention(text)
        kwargs.setdefault("note", att["note"])
        return cls(att["tokens"], att["maps"], rollout=att["rollout"], special=att["special"], **kwargs)
