"""TextExplainer: any transformers sequence classifier and its tokenizer, explained in words.

Two families on the same texts, so they can be compared side by side (``compare``):

- gradient methods on the token embeddings, found automatically
  (``model.get_input_embeddings()``): ``"integrated_gradients"`` (Captum's
  ``LayerIntegratedGradients`` on the embedding layer, from a baseline where every word piece is
  the pad token, or ``baseline="mask"``; special tokens ([CLS], [SEP]) stay as they are, so they
  get no attribution, and the attention mask goes with every call) and ``"gradient_x_input"``
  (embedding x gradient). DeepLIFT does not apply: softmax attention, LayerNorm and GELU have no
  Rescale rule whose multipliers sum to the output difference, so it is refused with that reason.
- model-agnostic methods through the tokenizer: ``"token_shap"`` (exact Shapley values of the
  words up to 12 words), ``"token_occlusion"`` and ``"lime"`` (lime's text explainer on the same
  words, by position).

Attributions of word pieces are summed into the words of the text (``"playing"``, not ``"play"
+ "##ing"``; the pieces and their values are in ``diagnostics["pieces"]`` and show on hover).
Texts longer than the model reads are truncated with a note (``diagnostics["note"]``) that the
views show. By default the explained output is the class probability (softmax of the logits, or
sigmoid per label for a multi-label model), the same output the model-agnostic methods explain;
``output="logits"`` explains the logit instead.

The model is only ever run under the state guard (eval mode, its flags, weights, hooks and
attention implementation restored); nothing is downloaded.

Example:
    >>> from nbexplain.text.tiny_transformer import train_tiny_bert    # a tiny BERT, no downloads
    >>> model, tokenizer = train_tiny_bert(["a superb film", "great fun", "a dull plot", "awful film"],
    ...                                    [1, 1, 0, 0], epochs=30, vocab_size=60)
    >>> te = TextExplainer(model, tokenizer, class_names=["negative", "positive"])
    >>> e = te.explain("a superb film")    # Integrated Gradients on the embeddings
    >>> e.feature_names, e.feature_names[e.values.argmax()], int(e.target), round(float(e.outputs), 2)
    (['a', 'superb', 'film'], 'superb', 1, 0.98)
    >>> round(float(e.base_values + e.values.sum()), 2)    # completeness: base + sum = output
    0.98
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.explanation import Explanation
from nbexplain.text.words import WordPieces, merge_pieces, piece_details, word_pieces
from nbexplain.validate import check_class_names, check_int, check_texts

__all__ = ["GRADIENT_METHODS", "TEXT_METHODS", "TextExplainer", "is_text_explainer"]

#: Methods on the embeddings.
GRADIENT_METHODS = ("integrated_gradients", "gradient_x_input")
#: Every method :meth:`TextExplainer.explain` takes.
TEXT_METHODS = (*GRADIENT_METHODS, "token_shap", "token_occlusion", "lime")
_BASELINES = ("pad", "mask", "unk")
#: ``steps="auto"``: Integrated Gradients runs with these step counts in turn, until its
#: completeness error is at most ``COMPLETENESS_TOLERANCE`` of the output change (+ 1e-3).
AUTO_STEPS = (64, 128, 256, 512)
COMPLETENESS_TOLERANCE = 0.05


def _check_steps(steps: Any) -> Any:
    if steps == "auto":
        return steps
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or int(steps) < 1:
        raise ValueError(f"steps must be 'auto' or a positive int, got {steps!r}")
    return int(steps)


def is_text_explainer(obj: Any) -> bool:
    """True for a :class:`TextExplainer` (the registry and the session dispatch on it)."""
    return isinstance(obj, TextExplainer)


def _keyword_forward() -> Any:
    import torch

    class KeywordForward(torch.nn.Module):
        """``model(input_ids=..., attention_mask=...)`` as a positional module for the gradient engine."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask)

    return KeywordForward


class TextExplainer:
    """A transformers classifier with its tokenizer, explained word by word.

    ``model``: a ``transformers`` sequence classifier (``...ForSequenceClassification``) or any
    ``torch.nn.Module`` called as ``model(input_ids=..., attention_mask=...)`` returning logits
    (or an output with ``.logits``). ``tokenizer``: its tokenizer (a fast one merges sub-word
    pieces into words). ``class_names``: default from ``model.config.id2label`` when it names
    them. ``max_length``: pieces the model reads (default: the tokenizer's and the model's limit).
    ``baseline``: ``"pad"`` (default), ``"mask"`` or ``"unk"``: the token that replaces every
    word piece in the Integrated Gradients baseline. ``steps``: IG steps, or ``"auto"`` (default:
    64, then doubled up to 512 until the completeness error is at most 5% of the output change;
    when it is not, the explanation's note says the scores are approximate). ``output``:
    ``"probabilities"`` (default) or ``"logits"``. ``layer``: the embedding module to attribute
    to (default ``model.get_input_embeddings()``). ``seed``: for the sampled methods.

    Example:
        >>> from nbexplain.text.tiny_transformer import train_tiny_bert    # a tiny BERT, no downloads
        >>> model, tokenizer = train_tiny_bert(["a superb film", "great fun", "a dull plot", "awful film"],
        ...                                    [1, 1, 0, 0], epochs=1, vocab_size=60)
        >>> te = TextExplainer(model, tokenizer)
        >>> te.predict_proba(["great film", "dull"]).shape
        (2, 2)
        >>> te.compare("great film", ["integrated_gradients", "token_shap"]).methods
        ['integrated_gradients', 'token_shap']
    """

    def __init__(self, model: Any, tokenizer: Any, *, class_names: Sequence[str] | None = None,
                 max_length: int | None = None, baseline: str = "pad", steps: int | str = "auto",
                 output: str = "probabilities",
                 layer: Any = None, seed: int = 0, batch_size: int = 32, internal_batch_size: int | str = "auto") -> None:
        import torch

        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module (a transformers classifier), got {type(model).__name__}; "
                            "for a predict function over texts use TokenShap / LimeText directly")
        if not callable(tokenizer) or not hasattr(tokenizer, "convert_ids_to_tokens"):
            raise TypeError(f"tokenizer must be the model's transformers tokenizer, got {type(tokenizer).__name__}")
        if baseline not in _BASELINES:
            raise ValueError(f"baseline must be one of {list(_BASELINES)}, got {baseline!r}")
        if output not in ("probabilities", "logits"):
            raise ValueError(f"output must be 'probabilities' or 'logits', got {output!r}")
        self.model, self.tokenizer = model, tokenizer
        self.baseline, self.output = baseline, output
        self.steps = _check_steps(steps)
        self.seed = check_int(seed, "seed", min=0)
        self.batch_size = check_int(batch_size, "batch_size", min=1)
        self.internal_batch_size = internal_batch_size
        self.max_length = self._max_length(max_length)
        self.layer = self._layer(layer)
        self._baseline_id = self._token_id(baseline)
        config = getattr(model, "config", None)
        self.multi_label = getattr(config, "problem_type", None) == "multi_label_classification"
        self.class_names = check_class_names(class_names) if class_names is not None else self._config_names(config)
        self._forward = _keyword_forward()(model)

    def __repr__(self) -> str:
        return f"TextExplainer({type(self.model).__name__}, max_length={self.max_length}, baseline={self.baseline!r})"

    # -- set-up ---------------------------------------------------------------------------------
    def _max_length(self, max_length: int | None) -> int:
        if max_length is not None:
            return check_int(max_length, "max_length", min=3)
        limits = [getattr(self.tokenizer, "model_max_length", None),
                  getattr(getattr(self.model, "config", None), "max_position_embeddings", None)]
        limits = [int(v) for v in limits if isinstance(v, (int, np.integer)) and 2 < int(v) < 1_000_000]
        return min(limits) if limits else 512

    def _layer(self, layer: Any) -> Any:
        from nbexplain.explainers.gradients.layers import resolve_layer

        if layer is not None:
            return resolve_layer(self.model, layer)[0]
        get = getattr(self.model, "get_input_embeddings", None)
        emb = get() if callable(get) else None
        if emb is None:
            raise ValueError(f"{type(self.model).__name__} has no get_input_embeddings(); pass layer= its token "
                             "embedding module (or its dotted name)")
        return emb

    def _token_id(self, which: str) -> int:
        tok = self.tokenizer
        value = getattr(tok, f"{which}_token_id", None)
        if value is None:
            have = [b for b in _BASELINES if getattr(tok, f"{b}_token_id", None) is not None]
            raise ValueError(f"the tokenizer has no {which} token, so baseline={which!r} cannot be built; use one of "
                             f"{have or ['(none: set tokenizer.pad_token)']}")
        return int(value)

    @staticmethod
    def _config_names(config: Any) -> list[str] | None:
        labels = getattr(config, "id2label", None)
        if not labels:
            return None
        names = [str(labels[i]) for i in sorted(labels)]
        return None if all(n == f"LABEL_{i}" for i, n in enumerate(names)) else names

    # -- the model ------------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[str]:
        """The words of ``text`` as the explanations list them (the pieces the model reads, merged).

        Example:
            >>> from nbexplain.text.tiny_transformer import train_tiny_bert    # a tiny BERT, no downloads
            >>> model, tokenizer = train_tiny_bert(["a superb film", "great fun", "a dull plot", "awful film"],
            ...                                    [1, 1, 0, 0], epochs=1, vocab_size=60)
            >>> te = TextExplainer(model, tokenizer, class_names=["negative", "positive"])
            >>> te.tokenize("What a playing!")    # words, whatever pieces the tokenizer splits them into
            ['What', 'a', 'playing', '!']
        """
        return list(self.word_pieces(text).words)

    def detokenize(self, words: Sequence[str]) -> str:
        """Words back into a text (joined by spaces; the model-agnostic methods drop words this way)."""
        return " ".join(str(w) for w in words)

    def word_pieces(self, text: str) -> WordPieces:
        """``text`` as the model reads it, grouped into words (see :func:`nbexplain.text.words.word_pieces`)."""
        return word_pieces(self.tokenizer, text, max_length=self.max_length)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """The model's logits ``(n, K)`` for ``texts`` (float64), in batches, under the state guard."""
        import torch

        from nbexplain.models import eval_mode, model_device

        texts = check_texts(list(texts), "texts") if texts else []
        device = model_device(self.model)
        out = []
        with eval_mode(self.model), torch.no_grad():
            for a in range(0, len(texts), self.batch_size):
                enc = self.tokenizer(list(texts[a:a + self.batch_size]), padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
                res = self._forward(enc["input_ids"].to(device), enc["attention_mask"].to(device))
                res = getattr(res, "logits", res)
                out.append(res.detach().double().cpu().numpy().reshape(res.shape[0], -1))
        return np.concatenate(out) if out else np.zeros((0, 0))

    def to_probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Softmax per row (sigmoid per label for a multi-label model; sigmoid as two classes for one logit)."""
        z = np.asarray(logits, dtype=np.float64)
        if self.multi_label:
            return 1 / (1 + np.exp(-z))
        if z.shape[1] == 1:
            p = 1 / (1 + np.exp(-z))
            return np.concatenate([1 - p, p], 1)
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``(n, K)`` of ``texts`` (what the model-agnostic methods explain).

        Example:
            >>> from nbexplain.text.tiny_transformer import train_tiny_bert    # a tiny BERT, no downloads
            >>> model, tokenizer = train_tiny_bert(["a superb film", "great fun", "a dull plot", "awful film"],
            ...                                    [1, 1, 0, 0], epochs=1, vocab_size=60)
            >>> te = TextExplainer(model, tokenizer, class_names=["negative", "positive"])
            >>> te.predict_proba(["a fine film"]).sum(1).round(6)
            array([1.])
        """
        return self.to_probabilities(self.logits(texts))

    # -- explaining -----------------------------------------------------------------------------
    def explain(self, texts: str | Sequence[str], target: Any = None, *, method: str = "integrated_gradients",
                **options: Any) -> Any:
        """Explain one text (a single-sample :class:`Explanation` of its words) or a list (a list of them).

        ``method``: one of :data:`TEXT_METHODS`. ``target``: the class (int, one per text, or
        None for the predicted class). ``options`` go to the method (``steps=``, ``baseline=``,
        ``n_samples=``...).

        Example:
            >>> from nbexplain.text.tiny_transformer import train_tiny_bert    # a tiny BERT, no downloads
            >>> model, tokenizer = train_tiny_bert(["a superb film", "great fun", "a dull plot", "awful film"],
            ...                                    [1, 1, 0, 0], epochs=1, vocab_size=60)
            >>> te = TextExplainer(model, tokenizer, class_names=["negative", "positive"])
            >>> e = te.explain("What a wonderful film!", method="token_shap")
            >>> e.method, e.feature_names
            ('token_shap_exact', ['What', 'a', 'wonderful', 'film', '!'])
        """
        return self.method(method, **options).explain(texts, target)

    def method(self, name: str, **options: Any) -> Any:
        """The explainer called ``name`` on this model and tokenizer (what the Dashboard uses).

        Its ``explain(texts, target)``, ``explain_tokens(words, target)`` and ``tokenize(text)``
        work on words, whatever the family.
        """
        if name in GRADIENT_METHODS:
            return _EmbeddingMethod(self, name, **options)
        if name == "deeplift":
            from nbexplain.explainers.gradients._engine import GradientError

            raise GradientError("DeepLIFT does not apply to transformer classifiers: softmax attention, LayerNorm and "
                                "GELU have no Rescale multipliers that sum to the output difference, so its "
                                "attributions would not add up; use 'integrated_gradients' (complete on the "
                                "embeddings) or 'gradient_x_input'")
        if name in ("token_shap", "token_occlusion"):
            from nbexplain.explainers.perturbation.token_shap import TokenOcclusion, TokenShap

            if name == "token_shap":
                options.setdefault("seed", self.seed)
                return TokenShap(self, **options)
            return TokenOcclusion(self, **options)
        if name in ("lime", "lime_text"):
            return _LimeWords(self, **options)
        raise ValueError(f"unknown text method {name!r}; choose one of {list(TEXT_METHODS)}")

    def attention(self, text: str) -> dict[str, Any]:
        """The model's self-attention over ``text``'s word pieces (special tokens included).

        Returns ``{"tokens", "special", "maps" (layers, heads, T, T), "rollout" (T, T), "note"}``
        (see :func:`nbexplain.explainers.vision.attention.attention_maps`; the model's attention
        implementation is switched to "eager" for the call only).

        Example:
            >>> from nbexplain.text.tiny_transformer import train_tiny_bert    # a tiny BERT, no downloads
            >>> model, tokenizer = train_tiny_bert(["a superb film", "great fun", "a dull plot", "awful film"],
            ...                                    [1, 1, 0, 0], epochs=1, vocab_size=60)
            >>> te = TextExplainer(model, tokenizer, class_names=["negative", "positive"])
            >>> att = te.attention("a fine film")
            >>> att["tokens"], att["maps"].shape    # (layers, heads, pieces, pieces)
            (['[CLS]', 'a', 'fi', '##n', '##e', 'film', '[SEP]'], (2, 2, 7, 7))
        """
        from nbexplain.explainers.vision.attention import attention_maps, attention_rollout

        wp = self.word_pieces(text)
        maps = attention_maps(self.model, input_ids=wp.input_ids, attention_mask=wp.attention_mask)
        return {"tokens": list(wp.tokens), "special": wp.special.astype(np.float64), "maps": maps[0],
                "rollout": attention_rollout(maps)[0], "note": wp.note()}

    def compare(self, text: str, methods: Sequence[str] = ("integrated_gradients", "token_shap"), **kwargs: Any) -> Any:
        """A :class:`~nbexplain.widgets.CompareView` of ``methods`` on ``text`` (same words, same class).

        Example:
            >>> from nbexplain.text.tiny_transformer import train_tiny_bert    # a tiny BERT, no downloads
            >>> model, tokenizer = train_tiny_bert(["a superb film", "great fun", "a dull plot", "awful film"],
            ...                                    [1, 1, 0, 0], epochs=1, vocab_size=60)
            >>> te = TextExplainer(model, tokenizer, class_names=["negative", "positive"])
            >>> cv = te.compare("What a wonderful film!")
            >>> cv.methods, type(cv.views["token_shap"]).__name__
            (['integrated_gradients', 'token_shap'], 'TextTokens')
        """
        from nbexplain.widgets.explore.compare_view import CompareView

        target = int(np.argmax(self.predict_proba([text])[0]))
        results: dict[str, Any] = {}
        for name in methods:
            try:
                results[name] = self.explain(text, target, method=name)
            except Exception as exc:  # one method's failure shows in its own panel
                results[name] = exc
        words = self.tokenize(text)
        view = CompareView(kind="text", **kwargs)
        p = float(self.predict_proba([text])[0, target])
        view.show(results, tokens=words, probability=p,
                  target_name=self.class_names[target] if self.class_names else None)
        return view

    def _target(self, text_or_probs: Any, target: Any) -> int:
        probs = np.asarray(text_or_probs)
        k = probs.size
        t = int(np.argmax(probs)) if target is None else int(np.asarray(target).reshape(-1)[0])
        if not 0 <= t < k:
            raise ValueError(f"target {t} is out of range: the model gives {k} outputs (0..{k - 1})")
        return t


def _targets(target: Any, n: int) -> list[Any]:
    if target is None:
        return [None] * n
    arr = np.asarray(target).reshape(-1)
    if arr.size == 1:
        return [int(arr[0])] * n
    if arr.size != n:
        raise ValueError(f"target must be None, an int or one int per text ({n}); got {arr.size} values")
    return [int(t) for t in arr]


class _WordsOf:
    """What the one-method explainers of a :class:`TextExplainer` share: its words, a text or a
    list of texts, and the what-if's kept words; each defines ``explain_text(text, target)``."""

    te: TextExplainer

    def tokenize(self, text: str) -> list[str]:
        return self.te.tokenize(text)

    def explain(self, texts: str | Sequence[str], target: Any = None) -> Any:
        if isinstance(texts, str):
            return self.explain_text(texts, _targets(target, 1)[0])
        texts = check_texts(list(texts), "texts")
        return [self.explain_text(t, tt) for t, tt in zip(texts, _targets(target, len(texts)), strict=True)]

    def explain_tokens(self, words: Sequence[str], target: Any = None) -> Explanation:
        """Explain the text made of ``words`` (the what-if re-explains the kept words this way)."""
        return self.explain_text(self.te.detokenize(words), target)

    def explain_text(self, text: str, target: Any = None) -> Explanation:
        raise NotImplementedError


class _EmbeddingMethod(_WordsOf):
    """A gradient method of a :class:`TextExplainer` on its embedding layer, word by word."""

    def __init__(self, te: TextExplainer, name: str, *, steps: int | None = None, baseline: str | None = None,
                 output: str | None = None, internal_batch_size: Any = None) -> None:
        self.te, self.name = te, name
        self.steps = _check_steps(steps if steps is not None else te.steps)
        self.baseline = baseline or te.baseline
        if self.baseline not in _BASELINES:
            raise ValueError(f"baseline must be one of {list(_BASELINES)}, got {self.baseline!r}")
        self.baseline_id = te._token_id(self.baseline)
        self.output = output or te.output
        if self.output not in ("probabilities", "logits"):
            raise ValueError(f"output must be 'probabilities' or 'logits', got {self.output!r}")
        self.internal_batch_size = te.internal_batch_size if internal_batch_size is None else internal_batch_size

    def __repr__(self) -> str:
        return f"{self.name}({self.te!r})"


    def _objective(self, t: int) -> Any:
        """The explained scalar per row of logits: class ``t``'s probability (or its logit)."""
        if self.output == "logits":
            return lambda out: out[:, t]
        if self.te.multi_label:
            return lambda out: out[:, t].sigmoid()

        def probability(out: Any) -> Any:
            if out.shape[1] == 1:  # one logit: two classes, sigmoid
                p = out[:, 0].sigmoid()
                return p if t == 1 else 1 - p
            return out.softmax(-1)[:, t]

        return probability

    def explain_text(self, text: str, target: Any = None) -> Explanation:
        import torch

        from nbexplain.explainers.gradients.layer_attribution import (
            LayerGradientXActivation,
            LayerIntegratedGradients,
        )
        from nbexplain.models import model_device

        te = self.te
        wp = te.word_pieces(text)
        logits = te.logits([text])[0]
        probs = te.to_probabilities(logits[None])[0]
        t = te._target(probs, target)
        device = model_device(te.model)
        ids, mask = wp.input_ids.to(device), wp.attention_mask.to(device)
        objective = self._objective(t)
        notes = [wp.note()]
        steps_used = None
        if self.name == "integrated_gradients":
            base = ids.clone()
            base[0, torch.as_tensor(wp.positions, device=device, dtype=torch.long)] = self.baseline_id
            for steps_used in (self.steps,) if self.steps != "auto" else AUTO_STEPS:
                e = LayerIntegratedGradients(te._forward, layer=te.layer, steps=steps_used,
                                             internal_batch_size=self.internal_batch_size).explain(
                    ids, target=objective, baselines=base, additional_forward_args=mask)
                gap = abs(float(e.outputs[0]) - float(e.base_values[0]))
                delta = abs(float(e.diagnostics["delta"][0]))
                if delta <= COMPLETENESS_TOLERANCE * gap + 1e-3:
                    break
            else:
                notes.append(f"approximate: the word scores miss {delta:.3g} of the output change {gap:.3g} "
                             f"(completeness error) even with {steps_used} steps; the model changes sharply "
                             "between the baseline and the text")
        else:
            e = LayerGradientXActivation(te._forward, layer=te.layer,
                                         internal_batch_size=self.internal_batch_size).explain(
                ids, target=objective, additional_forward_args=mask)
        per_piece = np.asarray(e.values, dtype=np.float64)[0].reshape(ids.shape[1], -1).sum(-1)
        word_values, parts = merge_pieces(per_piece[wp.positions], wp)
        explained = float(e.outputs[0])
        diagnostics: dict[str, Any] = {
            "pieces": [[wp.piece_tokens[k] for k in ks] for ks in wp.pieces],
            "piece_values": [p.tolist() for p in parts],
            "details": piece_details(wp, parts),
            "special_tokens": float(per_piece[wp.special].sum()),
            "n_tokens": wp.n_tokens,
            "truncated": wp.truncated,
            "note": "; ".join(n for n in notes if n),
            "steps": steps_used,
            "base_label": f"every word {te.tokenizer.convert_ids_to_tokens(self.baseline_id)}"
            if self.name == "integrated_gradients" else "",
            "layer": _layer_name(te.model, te.layer),
        }
        base_value = None
        if "delta" in e.diagnostics:
            diagnostics["delta"] = float(np.asarray(e.diagnostics["delta"]).reshape(-1)[0])
        if e.base_values is not None:
            base_value = float(np.asarray(e.base_values).reshape(-1)[0])
        names = te.class_names
        return Explanation(
            word_values, base_values=base_value, feature_names=list(wp.words), target=t, outputs=explained,
            output_names=names if names is not None and len(names) == probs.size else None, method=self.name,
            params={"layer": diagnostics["layer"], "baseline": self.baseline if self.name == "integrated_gradients"
                    else None, "steps": self.steps if self.name == "integrated_gradients" else None,
                    "steps_used": steps_used,
                    "output": self.output, "merged": wp.merged, "max_length": te.max_length},
            diagnostics=diagnostics, layout="tokens", _single=True)


def _layer_name(model: Any, layer: Any) -> str:
    from nbexplain.explainers.gradients.layers import layer_name

    return layer_name(model, layer) or type(layer).__name__


class _LimeWords(_WordsOf):
    """lime's text explainer on a :class:`TextExplainer`'s words, by position (``bow=False``)."""

    def __init__(self, te: TextExplainer, *, num_samples: int = 1000, seed: int | None = None) -> None:
        from nbexplain.explainers.perturbation.lime_package import LimeText

        self.te = te
        self.lime = LimeText(te.predict_proba, class_names=te.class_names, num_samples=num_samples,
                             seed=te.seed if seed is None else seed, split_expression=te.tokenize, bow=False)

    def explain_text(self, text: str, target: Any = None) -> Explanation:
        e = self.lime.explain(text, target=target)[0]
        e.layout = "tokens"
        return e
