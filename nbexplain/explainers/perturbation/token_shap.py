"""Token attributions for text models: Shapley values of tokens (exact or KernelSHAP) and occlusion.

A token is *dropped* by removing it from the text, so the value of a coalition ``S`` of tokens is
``v(S) = f(text made of the tokens in S, in their order)[target]``; the base value is
``v({})``, the prediction for the empty text. :class:`TokenShap` computes exact Shapley values
by evaluating all ``2**n`` coalitions when ``n <= max_exact`` (in a few batched model calls),
else KernelSHAP on ``n_samples`` paired coalitions drawn with ``seed`` (the sampler and solver of
:mod:`nbexplain.explainers.perturbation._coalitions`); both satisfy ``sum(values) = v(all) - v({})``.
:class:`TokenOcclusion` is leave-one-out: ``values[i] = v(all) - v(all but token i)``.

The model is a :class:`nbexplain.text.TextClassifier` (tokens go to it directly), an object
with ``predict_proba(list[str])``, or a function ``list[str] -> (n, K)`` or ``(n,)``; texts
are rebuilt from the kept tokens with the detokenizer (``" ".join`` for a custom tokenizer).

Example:
    >>> f = lambda texts: [[t.count("good") - t.count("bad")] for t in texts]
    >>> e = TokenShap(f, tokenizer=str.split).explain("good film , not bad")
    >>> e.feature_names, e.values.tolist(), float(e.base_values)
    (['good', 'film', ',', 'not', 'bad'], [1.0, 0.0, 0.0, 0.0, -1.0], 0.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nbexplain.explainers._targets import target_indices
from nbexplain.explainers.perturbation._coalitions import all_coalitions, shapley_from_values
from nbexplain.explainers.perturbation._kernel_sample import sampled_values
from nbexplain.explanation import Explanation
from nbexplain.guard import guarded
from nbexplain.models import is_torch_module, to_numpy
from nbexplain.validate import check_int, check_model_output, check_texts

Tokens = list[str]


class _TokenModel:
    """``model`` as ``predict(token_lists) -> float64 (n, K)`` plus the tokenizer it goes with."""

    def __init__(self, model: Any, tokenizer: Callable[[str], Sequence[str]] | None,
                 detokenizer: Callable[[Sequence[str]], str] | None, batch_size: int) -> None:
        from nbexplain.text.tokenizer import detokenize, tokenize

        if is_torch_module(model):
            raise TypeError("a bare torch module cannot read text: pass a nbexplain.text.TextClassifier "
                            "(train_text_classifier(...)) or a function list[str] -> (n, K) probabilities")
        self.batch_size = check_int(batch_size, "batch_size", min=1)
        self.tokens_direct = tokenizer is None and hasattr(model, "predict_proba_tokens")
        if tokenizer is None:
            tokenizer = getattr(model, "tokenize", tokenize)
            detokenizer = detokenizer or getattr(model, "detokenize", detokenize)
        if not callable(tokenizer):
            raise TypeError(f"tokenizer must be a function str -> list[str], got {type(tokenizer).__name__}")
        self.tokenizer = tokenizer
        self.detokenizer: Callable[[Sequence[str]], str] = detokenizer or " ".join
        if self.tokens_direct:
            self.raw: Callable[[Any], Any] = model.predict_proba_tokens
        elif hasattr(model, "predict_proba"):
            self.raw = model.predict_proba
        elif callable(model):
            self.raw = model
        else:
            raise TypeError(f"cannot call a {type(model).__name__}: pass a TextClassifier, an object with "
                            "predict_proba(list[str]) or a function list[str] -> (n, K)")
        self.class_names = getattr(model, "class_names", None)

    def tokenize(self, text: Any) -> Tokens:
        if not isinstance(text, str):
            raise TypeError(f"a text must be a str, got {type(text).__name__}; pass a string or a list of strings")
        tokens = [str(t) for t in self.tokenizer(text)]
        if not tokens:
            raise ValueError(f"the text {text!r} has no tokens; there is nothing to attribute")
        return tokens

    def predict(self, token_lists: list[Tokens]) -> np.ndarray:
        outs = []
        for start in range(0, len(token_lists), self.batch_size):
            chunk = token_lists[start:start + self.batch_size]
            arg = chunk if self.tokens_direct else [self.detokenizer(t) for t in chunk]
            raw = self.raw(arg)
            try:
                out = np.asarray(to_numpy(raw), dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"the model returned {type(raw).__name__} that is not a numeric (n, K) array ({exc}); "
                                 "it must return one row of numbers per text, the same length for every text") from exc
            check_model_output(out, "the model")
            if out.ndim == 0 or out.shape[0] != len(chunk):
                raise ValueError(f"the model returned shape {list(out.shape)} for {len(chunk)} texts; it must "
                                 "return one row per text, (n, K) or (n,)")
            outs.append(out.reshape(len(chunk), -1))
        return np.concatenate(outs)


def _keep(tokens: Tokens, Z: np.ndarray) -> list[Tokens]:
    """The token list of each coalition (row of ``Z``: True = kept)."""
    return [[t for t, z in zip(tokens, row, strict=True) if z] for row in Z.tolist()]


def _targets(target: Any, n: int) -> list[int | None]:
    if target is None:
        return [None] * n
    try:  # a fraction (1.5) is refused, never truncated to a class
        return [int(x) for x in target_indices(target, n)]
    except ValueError as exc:
        raise ValueError(f"target must be None, an int or one int per text ({n}); got {target!r}: {exc}") from None


class _TokenExplainer:
    """The shared call: texts in, one single-sample :class:`Explanation` per text out."""

    method = ""

    def __init__(self, model: Any, tokenizer: Callable[[str], Sequence[str]] | None = None, *,
                 detokenizer: Callable[[Sequence[str]], str] | None = None, batch_size: int = 4096) -> None:
        self.model = _TokenModel(model, tokenizer, detokenizer, batch_size)

    def tokenize(self, text: str) -> Tokens:
        """The tokens (players) of ``text``, as the explanation's ``feature_names`` will list them."""
        return self.model.tokenize(text)

    @guarded
    def explain(self, texts: str | Sequence[str], target: Any = None) -> Any:
        """One string: a single-sample :class:`Explanation`; a list: a list of them (lengths differ).

        ``target``: the explained output (an int, one int per text, or None for the class
        predicted for the whole text).
        """
        if isinstance(texts, str):
            return self.explain_tokens(self.model.tokenize(texts), _targets(target, 1)[0])
        texts = check_texts(texts)
        return [self.explain_tokens(self.model.tokenize(t), tt)
                for t, tt in zip(texts, _targets(target, len(texts)), strict=True)]

    def explain_tokens(self, tokens: Sequence[str], target: int | None = None) -> Explanation:
        """Explain an already tokenized text (the what-if re-explains the kept tokens this way)."""
        tokens = [str(t) for t in tokens]
        if not tokens:
            raise ValueError("no tokens to explain: pass a text with at least one token")
        full = self.model.predict([tokens])[0]
        k = full.size
        t = int(np.argmax(full)) if target is None else int(target_indices(target, 1)[0])
        if not 0 <= t < k:
            raise ValueError(f"target {t} is out of range: the model gives {k} outputs (0..{k - 1})")
        values, base, diag = self._attribute(tokens, t, full[t])
        names = self.model.class_names
        return Explanation(values, base_values=base, feature_names=tokens, target=t, outputs=full[t],
                           output_names=names if names is not None and len(names) == k else None,
                           method=diag.pop("method", self.method), params=self._params(), diagnostics=diag,
                           layout="tokens", _single=True)

    def _attribute(self, tokens: Tokens, t: int, output: float) -> tuple[np.ndarray, float, dict[str, Any]]:
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        return {}


class TokenShap(_TokenExplainer):
    """Shapley values of the tokens of a text: exact up to ``max_exact`` tokens, else KernelSHAP.

    ``model_or_predict_fn``: a :class:`nbexplain.text.TextClassifier`, an object with
    ``predict_proba(list[str])``, or a function ``list[str] -> (n, K)``; the explained output
    is what it returns (class probabilities for a classifier). ``tokenizer``: ``str -> list[str]``
    (default: the model's ``tokenize``, else :func:`nbexplain.text.tokenize`); with a custom one
    texts are rebuilt by ``detokenizer`` (default ``" ".join``). Exact when the text has at most
    ``max_exact`` tokens (``2**n`` model evaluations) or when ``2**n <= n_samples + 2``; otherwise
    ``n_samples`` paired coalitions from ``np.random.default_rng(seed)`` (the same text gives the
    same values on every call); ``diagnostics["std_error"]`` holds each value's standard error from
    the sampling (0 when exact; :mod:`nbexplain.explainers.perturbation._kernel_sample`) and
    ``diagnostics["error_estimate"]`` the largest of them.

    ``explain(text)`` returns a single-sample Explanation (``values`` ``(n_tokens,)``,
    ``feature_names`` = tokens, ``base_values`` = the prediction with every token dropped,
    ``outputs`` = the prediction for the whole text); ``explain(list_of_texts)`` a list of them.

    Example:
        >>> f = lambda texts: np.array([[len(t.split()) ** 2] for t in texts], dtype=float)
        >>> e = TokenShap(f, tokenizer=str.split).explain("a b c")
        >>> e.values.tolist(), e.method
        ([3.0, 3.0, 3.0], 'token_shap_exact')
        >>> from nbexplain.text import train_text_classifier
        >>> clf = train_text_classifier(["a superb film", "great fun", "a dull plot", "awful film"], [1, 1, 0, 0])
        >>> e = TokenShap(clf).explain("What a superb film!")
        >>> e.feature_names, int(e.target)    # one value per token, for the predicted class
        (['what', 'a', 'superb', 'film', '!'], 1)
        >>> round(float(e.base_values + e.values.sum()), 4) == round(float(e.outputs), 4)   # they add up
        True
    """

    def __init__(self, model_or_predict_fn: Any, tokenizer: Callable[[str], Sequence[str]] | None = None, *,
                 max_exact: int = 12, n_samples: int = 2048, seed: int = 0,
                 detokenizer: Callable[[Sequence[str]], str] | None = None, batch_size: int = 4096) -> None:
        check_int(max_exact, "max_exact", min=0, max=20)  # 2**max_exact model calls
        check_int(n_samples, "n_samples", min=16)  # coalitions per long text
        check_int(seed, "seed", min=0)
        super().__init__(model_or_predict_fn, tokenizer, detokenizer=detokenizer, batch_size=batch_size)
        self.max_exact, self.n_samples, self.seed = max_exact, n_samples, int(seed)

    def __repr__(self) -> str:
        return f"TokenShap(max_exact={self.max_exact}, n_samples={self.n_samples}, seed={self.seed})"

    def _params(self) -> dict[str, Any]:
        return {"max_exact": self.max_exact, "n_samples": self.n_samples, "seed": self.seed}

    def _attribute(self, tokens: Tokens, t: int, output: float) -> tuple[np.ndarray, float, dict[str, Any]]:
        m = len(tokens)
        if m <= self.max_exact or 2 ** m <= self.n_samples + 2:
            Z = all_coalitions(m)
            v = self.model.predict(_keep(tokens, Z))[:, t]
            phi = shapley_from_values(v[None], m)[0]
            return phi, float(v[0]), {"method": "token_shap_exact", "exact": True, "n_coalitions": len(Z),
                                      "std_error": np.zeros(m)}
        if self.n_samples < 2 * m + 2:
            raise ValueError(f"n_samples={self.n_samples} is too few for a text of {m} tokens: a sampled estimate needs "
                             f"at least 2 coalitions per token + 2 = {2 * m + 2}; pass n_samples >= {2 * m + 2}")
        v0 = self.model.predict([[]])[:, t]

        def game(rows: np.ndarray, Z: np.ndarray) -> np.ndarray:
            return self.model.predict(_keep(tokens, Z))[:, t][None]

        phi, se, c = sampled_values(game, 1, m, v0, np.array([output]), self.n_samples,
                                    np.random.default_rng(self.seed))
        return phi[0], float(v0[0]), {"method": "token_shap_kernel", "exact": False, "n_coalitions": c,
                                      "std_error": se[0], "error_estimate": float(se.max())}


class TokenOcclusion(_TokenExplainer):
    """Leave-one-out token attributions: ``values[i] = f(text)[t] - f(text without token i)[t]``.

    Same inputs and result as :class:`TokenShap` (``base_values`` = the prediction with every
    token dropped); ``n + 2`` model evaluations per text. Unlike Shapley values the values need
    not add up to ``outputs - base_values``.

    Example:
        >>> f = lambda texts: np.array([[float("good" in t.split())] for t in texts])
        >>> TokenOcclusion(f, tokenizer=str.split).explain("good good film").values.tolist()
        [0.0, 0.0, 0.0]
    """

    method = "token_occlusion"

    def __repr__(self) -> str:
        return "TokenOcclusion()"

    def _attribute(self, tokens: Tokens, t: int, output: float) -> tuple[np.ndarray, float, dict[str, Any]]:
        m = len(tokens)
        Z = ~np.eye(m, dtype=bool)
        v = self.model.predict([[], *_keep(tokens, Z)])[:, t]
        return output - v[1:], float(v[0]), {"n_coalitions": m + 1}
