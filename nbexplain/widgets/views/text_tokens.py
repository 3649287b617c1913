"""TextTokens: the tokens of a text coloured by their attribution; click a token to drop it.

A click in the browser sends ``{"event": "toggle", "index": i}``; Python decides what it does.
A plain widget only shows; :meth:`TextTokens.what_if` (or :meth:`TextTokens.enable_what_if`)
wires the click to drop / restore the token, re-predict and re-explain the remaining text.

Example:
    >>> from nbexplain.widgets.views.text_tokens import TextTokens
    >>> import numpy as np
    >>> w = TextTokens(["what", "a", "film", "!"], [0.0, 0.1, 0.6, -0.2], prediction=0.9)
    >>> w.tokens, w.dropped
    (['what', 'a', 'film', '!'], array([0., 0., 0., 0.]))
    >>> clf = lambda texts: np.array([[0.2, 0.8] if "superb" in t else [0.7, 0.3] for t in texts])
    >>> w = TextTokens.what_if(clf, "What a superb film!")
    >>> w.tokens, w.values.round(2)    # token SHAP: only "superb" matters to this model
    (['what', 'a', 'superb', 'film', '!'], array([0. , 0. , 0.5, 0. , 0. ]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import traitlets

from .._base import NbxWidget
from .._explanation import pick_output, pick_scalar, require_single
from .._traits import ArrayTrait

__all__ = ["TEXT_CMAPS", "TextTokens", "token_extras"]

#: Diverging colour maps a TextTokens view can use (see js/src/core/colormaps.ts).
TEXT_CMAPS: tuple[str, ...] = ("RdBu_r", "PuOr_r", "coolwarm")


class TextTokens(NbxWidget):
    """Tokens as inline text, each with the background colour of its attribution.

    Colour: ``cmap`` at ``u = (clip(v / s, -1, 1) + 1) / 2`` with ``s = max |v|`` over the
    finite values (1 when all are 0), so white is 0 and the strongest token has the map's end
    colour. Dropped tokens (``dropped[i] != 0``) are struck through and faded. Hovering a
    token shows it and its value; a click sends the event ``toggle`` (see the module docstring).

    Example:
        >>> w = TextTokens(["good", "film"], [0.5, 0.0], title="demo")
        >>> w.on_event("toggle", lambda msg: print(msg["index"]))
        >>> w._handle_custom_msg({"event": "toggle", "index": 1}, [])    # what a click on "film" sends
        1
    """

    _view = traitlets.Unicode("text_tokens").tag(sync=True)
    tokens = traitlets.List(traitlets.Unicode(), help="list[str]: the tokens, shown as literal text.").tag(sync=True)
    values = ArrayTrait(ndims=(1,), help="float array (n_tokens,): the attribution of each token.").tag(sync=True)
    dropped = ArrayTrait(
        ndims=(1,), help="array (n_tokens,), default zeros: 1 where the token is dropped (struck through)."
    ).tag(sync=True)
    cmap = traitlets.Enum(TEXT_CMAPS, default_value="RdBu_r", help='str, default "RdBu_r": diverging colour map.').tag(
        sync=True
    )
    prediction = traitlets.Float(None, allow_none=True, help="float or None: the model output shown.").tag(sync=True)
    prediction_label = traitlets.Unicode("", help='str, default "": what prediction is, e.g. "P(positive)".').tag(
        sync=True
    )
    base_value = traitlets.Float(
        None, allow_none=True, help="float or None: the output with every token dropped."
    ).tag(sync=True)
    base_label = traitlets.Unicode(
        "all tokens dropped", help='str, default "all tokens dropped": what the base value is the output of.'
    ).tag(sync=True)
    details = traitlets.List(
        traitlets.Unicode(),
        help="list[str], default []: per token, a line shown on hover (e.g. a word's sub-word pieces and their "
        'values); "" or a missing entry shows none.',
    ).tag(sync=True)
    note = traitlets.Unicode(
        "", help='str, default "": a note shown above the text (literal text), e.g. that the text was truncated.'
    ).tag(sync=True)

    def __init__(self, tokens: Any = (), values: Any = None, **kwargs: Any) -> None:
        self.explanation: Any = None
        self._session: _TokenSession | None = None
        toks = [str(t) for t in tokens]
        n = len(toks)
        kwargs.setdefault("dropped", np.zeros(n))
        super().__init__(tokens=toks, values=np.zeros(n) if values is None else values, **kwargs)

    # -- validation: tokens, values and dropped have the same length --------------------------
    @traitlets.validate("tokens", "values", "dropped")
    def _valid_lengths(self, proposal: Any) -> Any:
        value, name = proposal["value"], proposal["trait"].name
        count = len(value) if name == "tokens" else int(np.size(value))
        for other in ("tokens", "values", "dropped"):
            if other == name or other not in self._trait_values:
                continue
            current = getattr(self, other)
            have = len(current) if other == "tokens" else int(np.size(current))
            if have != count:
                raise traitlets.TraitError(
                    f"'{name}' has {count} entries but '{other}' has {have}: tokens, values and dropped "
                    "need one entry per token; set them together with update(tokens=..., values=..., dropped=...)"
                )
        return [str(t) for t in value] if name == "tokens" else value

    def update(self, **traits: Any) -> None:
        """Set several traits at once (one message; lengths checked together, nothing set on error).

        ``dropped`` defaults to zeros when ``tokens`` changes length and it is not given.

        Example:
            >>> w = TextTokens(["good", "film", "!"], [0.5, 0.0, 0.1], dropped=[0, 1, 0])
            >>> w.update(tokens=["a", "b"], values=[0.1, -0.2])
            >>> w.tokens, w.values, w.dropped    # dropped reset: the length changed
            (['a', 'b'], array([ 0.1, -0.2]), array([0., 0.]))
        """
        self._check_kwargs(traits)
        if "tokens" in traits and "dropped" not in traits and len(traits["tokens"]) != len(self.tokens):
            traits["dropped"] = np.zeros(len(traits["tokens"]))
        if "tokens" in traits and "values" not in traits and len(traits["tokens"]) != len(self.tokens):
            traits["values"] = np.zeros(len(traits["tokens"]))
        with self.hold_sync(), self.hold_trait_notifications():
            for name, value in traits.items():
                setattr(self, name, value)

    @classmethod
    def from_explanation(cls, explanation: Any, *, output: int | None = None, **kwargs: Any) -> TextTokens:
        """Tokens of a single-sample text :class:`~nbexplain.explanation.Explanation`.

        Tokens are its ``feature_names``; base value and prediction come from it; the
        prediction label is ``"f(<output name>)"`` when the explanation names its outputs. Its
        ``diagnostics`` may add what each token holds (``"details"``: a word's pieces), a note
        (``"note"``: the text was truncated) and what the base value is (``"base_label"``).

        Example:
            >>> from nbexplain.explainers.perturbation.token_shap import TokenShap
            >>> clf = lambda texts: np.array([[0.2, 0.8] if "superb" in t else [0.7, 0.3] for t in texts])
            >>> w = TextTokens.from_explanation(TokenShap(clf).explain("Superb!"))
            >>> w.tokens, w.values.round(2), w.base_value, round(w.prediction, 2)    # 0.3 + 0.5 + 0 = 0.8
            (['superb', '!'], array([0.5, 0. ]), 0.3, 0.8)
        """
        e = require_single(explanation, "TextTokens.from_explanation")
        values = np.asarray(pick_output(e, output), dtype=np.float64).reshape(-1)
        tokens = getattr(e, "feature_names", None) or [f"token {i}" for i in range(values.size)]
        kwargs.setdefault("base_value", pick_scalar(e, "base_values", output))
        kwargs.setdefault("prediction", pick_scalar(e, "outputs", output))
        names, target = getattr(e, "output_names", None), getattr(e, "target", None)
        if names and target is not None and "prediction_label" not in kwargs:
            kwargs["prediction_label"] = f"f({names[int(np.asarray(target).reshape(-1)[0])]})"
        for name, value in token_extras(e).items():
            kwargs.setdefault(name, value)
        w = cls(tokens, values, **kwargs)
        w.explanation = e
        return w

    # -- what-if ------------------------------------------------------------------------------
    @classmethod
    def what_if(cls, model: Any, text: str, *, explainer: Any = "token_shap", target: int | None = None,
                class_names: Any = None, **kwargs: Any) -> TextTokens:
        """Tokens of ``text`` explained for ``model``; clicking a token drops / restores it and
        re-predicts and re-explains the remaining text.

        ``model``: a :class:`nbexplain.text.TextClassifier` (or anything the token explainers
        take). ``explainer``: ``"token_shap"``, ``"token_occlusion"`` or an object with
        ``explain_tokens(tokens, target)``. The target stays the class predicted for the whole
        text (or ``target``), so values stay comparable; ``prediction`` is its probability,
        labelled ``"P(<class>)"``. Dropped tokens get value 0. :meth:`reset` restores all.

        Example:
            >>> clf = lambda texts: np.array([[0.2, 0.8] if "superb" in t else [0.7, 0.3] for t in texts])
            >>> w = TextTokens.what_if(clf, "What a superb film!", class_names=["negative", "positive"])
            >>> w.prediction_label, round(w.prediction, 2)
            ('P(positive)', 0.8)
            >>> w.toggle(2); w.dropped, round(w.prediction, 2)    # without "superb"
            (array([0., 0., 1., 0., 0.]), 0.3)
        """
        w = cls(**kwargs)
        w.enable_what_if(model, text, explainer=explainer, target=target, class_names=class_names)
        return w

    def enable_what_if(self, model: Any, text: str, *, explainer: Any = "token_shap", target: int | None = None,
                       class_names: Any = None) -> None:
        """Wire clicks to drop / restore tokens of ``text`` (see :meth:`what_if`); raises on bad input.

        Example:
            >>> clf = lambda texts: np.array([[0.2, 0.8] if "superb" in t else [0.7, 0.3] for t in texts])
            >>> w = TextTokens([""], [0.0])
            >>> w.enable_what_if(clf, "Not superb at all.", explainer="token_occlusion")
            >>> w.tokens, w.values.round(2)
            (['not', 'superb', 'at', 'all', '.'], array([0. , 0.5, 0. , 0. , 0. ]))
        """
        session = _TokenSession.create(model, text, explainer, target, class_names)
        self._session = session
        self.on_event("toggle", self._on_toggle_event)
        self._show(np.zeros(len(session.tokens), dtype=bool))

    def toggle(self, index: int) -> None:
        """Drop token ``index`` (or restore it) and recompute; what a click does after :meth:`what_if`.

        Example:
            >>> clf = lambda texts: np.array([[0.2, 0.8] if "superb" in t else [0.7, 0.3] for t in texts])
            >>> w = TextTokens.what_if(clf, "What a superb film!", class_names=["negative", "positive"])
            >>> w.toggle(2); w.dropped, w.values.round(2)    # "superb" dropped: nothing left to explain
            (array([0., 0., 1., 0., 0.]), array([0., 0., 0., 0., 0.]))
            >>> w.toggle(2); w.dropped    # restored
            array([0., 0., 0., 0., 0.])
        """
        if self._session is None:
            raise RuntimeError("toggle() needs a what-if widget: build it with TextTokens.what_if(model, text)")
        n = len(self._session.tokens)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= int(index) < n:
            raise ValueError(f"token index must be an int in 0..{n - 1}, got {index!r}")
        mask = np.asarray(self.dropped) != 0
        mask[int(index)] = not mask[int(index)]
        self._show(mask)

    def reset(self) -> None:
        """Restore every dropped token.

        Example:
            >>> clf = lambda texts: np.array([[0.2, 0.8] if "superb" in t else [0.7, 0.3] for t in texts])
            >>> w = TextTokens.what_if(clf, "What a superb film!", class_names=["negative", "positive"])
            >>> w.toggle(0); w.toggle(2); round(w.prediction, 2)
            0.3
            >>> w.reset(); w.dropped, round(w.prediction, 2)
            (array([0., 0., 0., 0., 0.]), 0.8)
        """
        if self._session is None:
            raise RuntimeError("reset() needs a what-if widget: build it with TextTokens.what_if(model, text)")
        with self._computing():
            self._show(np.zeros(len(self._session.tokens), dtype=bool))

    def _on_toggle_event(self, message: dict[str, Any]) -> None:
        self.toggle(message.get("index"))  # type: ignore[arg-type]

    def _show(self, mask: np.ndarray) -> None:
        s = self._session
        assert s is not None
        kept = [t for t, d in zip(s.tokens, mask, strict=True) if not d]
        probs = s.predict(kept)
        values = np.zeros(len(s.tokens))
        explanation = None
        if kept:
            explanation = s.explainer.explain_tokens(kept, s.target)
            values[~mask] = np.asarray(explanation.values, dtype=np.float64).reshape(-1)
        base = None if explanation is None else pick_scalar(explanation, "base_values")
        self.update(tokens=s.tokens, values=values, dropped=mask.astype(np.float64),
                    prediction=float(probs[s.target]), prediction_label=s.label(), base_value=base)
        self.explanation = explanation


def token_extras(explanation: Any) -> dict[str, Any]:
    """The TextTokens traits a text explanation's diagnostics fill: ``details``, ``note``, ``base_label``.

    Example:
        >>> from nbexplain.explanation import Explanation
        >>> e = Explanation(np.ones(2), feature_names=["ab", "c"], diagnostics={"details": ["a + b", ""]}, _single=True)
        >>> token_extras(e)
        {'details': ['a + b', ''], 'note': ''}
    """
    from .heatmap import explanation_note

    diag = getattr(explanation, "diagnostics", None) or {}
    out: dict[str, Any] = {"details": [str(d) for d in diag.get("details", [])], "note": explanation_note(explanation)}
    if diag.get("base_label"):
        out["base_label"] = str(diag["base_label"])
    return out


@dataclass
class _TokenSession:
    """A text model, a token explainer, the original tokens and a fixed target class."""

    model: Any
    explainer: Any
    tokens: list[str]
    target: int
    class_names: list[str] | None

    @classmethod
    def create(cls, model: Any, text: str, explainer: Any, target: int | None, class_names: Any) -> _TokenSession:
        if isinstance(explainer, str):
            from ...explainers.registry import available_explainers, get_explainer

            if explainer not in available_explainers("text"):
                raise ValueError(f"explainer {explainer!r} does not explain text; use one of "
                                 f"{available_explainers('text')} or an object with explain_tokens(tokens, target)")
            explainer = get_explainer(explainer, model)
        if not hasattr(explainer, "explain_tokens"):
            raise TypeError("explainer must be 'token_shap', 'token_occlusion' or an object with "
                            f"explain_tokens(tokens, target); got {type(explainer).__name__}")
        tokens = explainer.tokenize(text) if hasattr(explainer, "tokenize") else list(model.tokenize(text))
        probe = cls(model, explainer, tokens, 0, None)
        probs = probe.predict(tokens)
        k = probs.size
        names = class_names if class_names is not None else getattr(model, "class_names", None)
        names = None if names is None else [str(c) for c in names]
        if names is not None and len(names) != k:
            raise ValueError(f"class_names has {len(names)} names but the model gives {k} outputs")
        t = int(np.argmax(probs)) if target is None else int(target)
        if not 0 <= t < k:
            raise ValueError(f"target {t} is out of range: the model gives {k} outputs (0..{k - 1})")
        return cls(model, explainer, tokens, t, names)

    def predict(self, kept: list[str]) -> np.ndarray:
        """The model's outputs for the text made of ``kept`` (the explainer's own call when it has one)."""
        call = getattr(getattr(self.explainer, "model", None), "predict", None)
        if call is not None and hasattr(self.explainer, "tokenize"):
            return np.asarray(call([kept])[0], dtype=np.float64)
        from ...models import predict_proba
        from ...text.tokenizer import detokenize

        return np.asarray(predict_proba(self.model, [detokenize(kept)])[0], dtype=np.float64)

    def label(self) -> str:
        name = self.class_names[self.target] if self.class_names else f"class {self.target}"
        return f"P({name})"
