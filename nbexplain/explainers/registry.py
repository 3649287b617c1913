"""Explainers by name, for the widget layer and for users who pick a method from a string.

Every name builds an object with ``.explain(inputs, target=None)``; keyword arguments go to the
explainer's constructor unchanged. Gradient methods are imported on first use (their modules
need torch), so importing the registry stays light.

Example:
    >>> import torch
    >>> get_explainer("saliency_abs", torch.nn.Linear(3, 2)).absolute
    True
    >>> available_explainers("table")[:3]
    ['deeplift', 'expected_gradients', 'gradient_x_input']
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Any

from nbexplain.explainers.perturbation.lime_tabular import LimeTabular
from nbexplain.explainers.perturbation.shap_tabular import ShapTabular

#: Kinds of data :func:`available_explainers` can filter by.
KINDS = ("image", "table", "text")


def _needs(name: str, what: str, value: Any, example: str) -> None:
    if value is None:
        raise ValueError(f"explainer {name!r} needs {what}; for example {example}")


def _needs_data(name: str, data: Any) -> None:
    _needs(name, "data= (background / training rows, shape (m, features))", data,
           f"get_explainer({name!r}, model, data=X_train[:100])")


def _shap(model: Any, data: Any, **kwargs: Any) -> ShapTabular:
    _needs_data("shap", data)
    return ShapTabular(model, data, **kwargs)


def _lime(model: Any, data: Any, **kwargs: Any) -> LimeTabular:
    _needs_data("lime", data)
    return LimeTabular(model, data, **kwargs)


def _agnostic(module: str, cls: str, *, output: str | None = "probabilities") -> Callable[..., Any]:
    """A factory for a model-agnostic class that takes ``(model, data, **kwargs)``.

    ``output``: the default ``output=`` (class probabilities, as the shap and lime wrappers
    explain, so a waterfall ends at the probability a widget shows).
    """

    def make(model: Any, data: Any, **kwargs: Any) -> Any:
        _needs_data(make.__name__, data)
        if output is not None:
            kwargs.setdefault("output", output)
        klass = getattr(importlib.import_module(f"nbexplain.explainers.{module}"), cls)
        return klass(model, data, **kwargs)

    return make


def _gradient(module: str, cls: str, *, fixed: dict[str, Any] | None = None, data_arg: str | None = None,
              needs_layer: bool = False) -> Callable[..., Any]:
    """A factory for the gradient class ``cls`` of ``nbexplain.explainers.<module>`` (``"gradients.saliency"``).

    ``fixed``: constructor options the name implies (``absolute=True`` for ``"saliency_abs"``).
    ``data_arg``: the constructor argument that receives ``data=`` (required when set).
    ``needs_layer``: ``layer=`` (a module or a dotted name) is required.
    """

    def make(model: Any, data: Any, **kwargs: Any) -> Any:
        name = make.__name__
        if not hasattr(model, "parameters") and hasattr(model, "predict_proba") and hasattr(model, "tokenize"):
            raise TypeError(f"explainer {name!r} on text needs a transformers classifier and its tokenizer: "
                            "nbx.TextExplainer(model, tokenizer) (or Dashboard(model, texts, tokenizer=tokenizer)); "
                            "for another text model use 'token_shap', 'token_occlusion' or 'lime_text'")
        klass = getattr(importlib.import_module(f"nbexplain.explainers.{module}"), cls)
        if needs_layer:
            _needs(name, "layer= (a module of the model or its dotted name)", kwargs.get("layer"),
                   f"get_explainer({name!r}, model, layer='layer4')")
        if data_arg is not None:
            _needs(name, "data= (a background set of inputs, shape (m, ...) like the inputs)", data,
                   f"get_explainer({name!r}, model, data=X_train[:64])")
            kwargs[data_arg] = data
        elif data is not None:
            raise TypeError(f"explainer {name!r} takes no data=; it explains from the model's gradients alone")
        clash = sorted(set(kwargs) & set(fixed or {}))
        if clash:
            raise TypeError(f"explainer {name!r} fixes {clash}; pick another name instead of overriding them")
        return klass(model, **(fixed or {}), **kwargs)

    return make


def _text(cls: str) -> Callable[..., Any]:
    """A factory for the token explainer ``cls`` of ``nbexplain.explainers.perturbation.token_shap`` (no data=)."""

    def make(model: Any, data: Any, **kwargs: Any) -> Any:
        if data is not None:
            raise TypeError(f"explainer {make.__name__!r} takes no data=; it drops tokens from the text itself")
        return getattr(importlib.import_module("nbexplain.explainers.perturbation.token_shap"), cls)(model, **kwargs)

    return make


def _attention(cls: str) -> Callable[..., Any]:
    """A factory for ``cls`` of ``nbexplain.explainers.vision.attention`` (vision transformers; no data=)."""

    def make(model: Any, data: Any, **kwargs: Any) -> Any:
        if data is not None:
            raise TypeError(f"explainer {make.__name__!r} takes no data=; it reads the model's attention")
        return getattr(importlib.import_module("nbexplain.explainers.vision.attention"), cls)(model, **kwargs)

    return make


def _lime_text(model: Any, data: Any, **kwargs: Any) -> Any:
    if data is not None:
        raise TypeError("explainer 'lime_text' takes no data=; it drops words from the text itself")
    from nbexplain.explainers.perturbation.lime_package import LimeText

    kwargs.setdefault("class_names", getattr(model, "class_names", None))
    return LimeText(model, bow=False, **kwargs)


_ANY = frozenset({"image", "table"})  # gradient and layer methods: tensors in, not raw text
#: Gradient methods that also explain text: on a transformer's embeddings, through TextExplainer.
_ANY_AND_TEXT = frozenset({"image", "table", "text"})
_IMAGE = frozenset({"image"})
_TABLE = frozenset({"table"})
_TEXT = frozenset({"text"})

#: name -> (factory, kinds of data it applies to).
EXPLAINERS: dict[str, tuple[Callable[..., Any], frozenset[str]]] = {
    "saliency": (_gradient("gradients.saliency", "Saliency", fixed={"absolute": False}), _ANY),
    "saliency_abs": (_gradient("gradients.saliency", "Saliency", fixed={"absolute": True}), _ANY),
    "gradient_x_input": (_gradient("gradients.saliency", "GradientXInput"), _ANY_AND_TEXT),
    "smoothgrad": (_gradient("gradients.smoothgrad", "SmoothGrad"), _ANY),
    "integrated_gradients": (_gradient("gradients.integrated_gradients", "IntegratedGradients"), _ANY_AND_TEXT),
    "expected_gradients": (_gradient("gradients.integrated_gradients", "ExpectedGradients", data_arg="background"),
                           _ANY),
    "deeplift": (_gradient("gradients.deeplift", "DeepLift"), _ANY),
    "grad_cam": (_gradient("vision.gradcam", "GradCAM"), _IMAGE),
    "grad_cam++": (_gradient("vision.gradcam", "GradCAMPlusPlus"), _IMAGE),
    "attention_rollout": (_attention("AttentionRollout"), _IMAGE),
    "layer_integrated_gradients": (_gradient("gradients.layer_attribution", "LayerIntegratedGradients", needs_layer=True),
                                   _ANY),
    "layer_gradient_x_activation": (_gradient("gradients.layer_attribution", "LayerGradientXActivation", needs_layer=True),
                                    _ANY),
    "shap": (_shap, _TABLE),
    "lime": (_lime, _TABLE),
    "kernel_shap": (_agnostic("perturbation.kernel_shap", "KernelShap"), _TABLE),
    "lime_batched": (_agnostic("perturbation.lime_batched", "LimeTabularBatched"), _TABLE),
    "token_shap": (_text("TokenShap"), _TEXT),
    "token_occlusion": (_text("TokenOcclusion"), _TEXT),
    "lime_text": (_lime_text, _TEXT),
}
for _name, (_factory, _kinds) in EXPLAINERS.items():
    _factory.__name__ = _name


def available_explainers(kind: str | None = None) -> list[str]:
    """The names :func:`get_explainer` knows, sorted; ``kind="image"``, ``"table"`` or ``"text"`` filters them.

    Example:
        >>> "grad_cam" in available_explainers("image"), "grad_cam" in available_explainers("table")
        (True, False)
        >>> available_explainers("text")
        ['gradient_x_input', 'integrated_gradients', 'lime_text', 'token_occlusion', 'token_shap']
        >>> "shap" in available_explainers()
        True
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be None, 'image', 'table' or 'text', got {kind!r}")
    return sorted(name for name, (_, kinds) in EXPLAINERS.items() if kind is None or kind in kinds)


#: Names whose explainer takes ``data=`` (a background or training set).
USES_DATA = frozenset({"shap", "lime", "kernel_shap", "lime_batched", "expected_gradients"})


def uses_data(name: str) -> bool:
    """True when the explainer called ``name`` takes ``data=`` (callers that hold a data set pass
    it only then: gradient methods reject it).

    Example:
        >>> uses_data("shap"), uses_data("saliency")
        (True, False)
    """
    return name in USES_DATA


def get_explainer(name: str, model: Any, *, data: Any = None, **kwargs: Any) -> Any:
    """Build the explainer called ``name`` for ``model``; every result has ``.explain(X, target)``.

    Gradient methods (torch models): ``"saliency"``, ``"saliency_abs"``, ``"gradient_x_input"``,
    ``"smoothgrad"``, ``"integrated_gradients"``, ``"expected_gradients"`` (``data`` = background
    inputs), ``"deeplift"``, ``"grad_cam"``, ``"grad_cam++"`` (CNNs and vision transformers;
    ``layer=`` optional), ``"attention_rollout"`` (vision transformers, no ``data``),
    ``"layer_integrated_gradients"``, ``"layer_gradient_x_activation"`` (``layer=`` required).
    Model-agnostic, tables: ``"kernel_shap"`` (our batched, exact up to 16 features) and
    ``"shap"`` (shap's Permutation explainer), ``data`` = background; ``"lime_batched"`` (ours)
    and ``"lime"`` (the lime package), ``data`` = training rows; all explain class
    probabilities unless ``output=`` says otherwise. Text (``model`` a
    :class:`nbexplain.text.TextClassifier` or a function ``list[str] -> (n, K)``, no ``data``):
    ``"token_shap"`` (exact Shapley up to 12 tokens, KernelSHAP above), ``"token_occlusion"``
    (leave-one-out) and ``"lime_text"`` (lime on the words, by position); with a
    :class:`nbexplain.TextExplainer` (a transformers classifier and its tokenizer) also
    ``"integrated_gradients"`` and ``"gradient_x_input"`` on the token embeddings, all on the
    same words. ``kwargs`` go to the explainer's constructor (``steps``, ``seed``, ...).

    Example:
        >>> import numpy as np
        >>> get_explainer("shap", lambda X: X, data=np.zeros((4, 2)))
        ShapTabular(features=2, background=4, seed=0)
    """
    if not isinstance(name, str) or name not in EXPLAINERS:
        close = difflib.get_close_matches(str(name), EXPLAINERS, n=2)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown explainer {name!r}; known explainers: {', '.join(available_explainers())}.{hint}")
    from nbexplain.text.hf import is_text_explainer

    if is_text_explainer(model):  # a transformers classifier with its tokenizer: every text method, on words
        if name not in available_explainers("text"):
            raise ValueError(f"explainer {name!r} does not explain text; for a TextExplainer use one of "
                             f"{available_explainers('text')}")
        if data is not None:
            raise TypeError(f"explainer {name!r} takes no data= for text")
        return model.method("lime" if name == "lime_text" else name, **kwargs)
    factory, _ = EXPLAINERS[name]
    return factory(model, data, **kwargs)
