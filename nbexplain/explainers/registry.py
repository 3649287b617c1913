"""Explainers by name, for the widget layer and for users who pick a method from a string.

Example:
    >>> import torch
    >>> get_explainer("saliency_abs", torch.nn.Linear(3, 2))
    Saliency(Linear, absolute=True)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from nbexplain.explainers.lime_tabular import LimeTabular
from nbexplain.explainers.saliency import Saliency
from nbexplain.explainers.shap_tabular import ShapTabular


def _needs_data(name: str, data: Any) -> None:
    if data is None:
        raise ValueError(f"explainer {name!r} needs data= (background / training rows, shape (m, features)); "
                         f"for example get_explainer({name!r}, model, data=X_train[:100])")


def _shap(model: Any, data: Any, **kwargs: Any) -> ShapTabular:
    _needs_data("shap", data)
    return ShapTabular(model, data, **kwargs)


def _lime(model: Any, data: Any, **kwargs: Any) -> LimeTabular:
    _needs_data("lime", data)
    return LimeTabular(model, data, **kwargs)


def _saliency(absolute: bool) -> Callable[..., Saliency]:
    def make(model: Any, data: Any, **kwargs: Any) -> Saliency:
        if kwargs:
            raise TypeError(f"Saliency takes no options, got {sorted(kwargs)}")
        return Saliency(model, absolute=absolute)

    return make


EXPLAINERS: dict[str, Callable[..., Any]] = {
    "saliency": _saliency(False),
    "saliency_abs": _saliency(True),
    "shap": _shap,
    "lime": _lime,
}


def available_explainers() -> list[str]:
    """The names :func:`get_explainer` knows.

    Example:
        >>> available_explainers()
        ['lime', 'saliency', 'saliency_abs', 'shap']
    """
    return sorted(EXPLAINERS)


def get_explainer(name: str, model: Any, *, data: Any = None, **kwargs: Any) -> Any:
    """Build the explainer called ``name`` for ``model``; every result has ``.explain(X, target)``.

    ``"saliency"`` / ``"saliency_abs"``: torch models, no data. ``"shap"`` (``data`` = background)
    and ``"lime"`` (``data`` = training rows): any tabular model; ``kwargs`` go to
    :class:`ShapTabular` / :class:`LimeTabular` (``feature_names``, ``class_names``, ``seed``, ...).

    Example:
        >>> import numpy as np
        >>> get_explainer("shap", lambda X: X, data=np.zeros((4, 2)))
        ShapTabular(features=2, background=4, seed=0)
    """
    if not isinstance(name, str) or name not in EXPLAINERS:
        close = difflib.get_close_matches(str(name), EXPLAINERS, n=2)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown explainer {name!r}; known explainers: {', '.join(available_explainers())}.{hint}")
    return EXPLAINERS[name](model, data, **kwargs)
