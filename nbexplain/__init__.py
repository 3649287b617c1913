"""nbexplain: deep-learning models explain themselves inline in Jupyter.

The computation layer (explainers, :class:`Explanation`, the array codec) imports neither torch,
shap, lime nor the widgets at import time; widget classes load on first access.

Example:
    >>> import nbexplain
    >>> nbexplain.__version__
    '0.1.0'
"""

from __future__ import annotations

import importlib
from typing import Any

from nbexplain.codec import decode_array, encode_array
from nbexplain.explainers import (
    DeepLift,
    ExpectedGradients,
    GradCAM,
    GradCAMPlusPlus,
    GradientXInput,
    IntegratedGradients,
    LayerGradientXActivation,
    LayerIntegratedGradients,
    LimeTabular,
    Saliency,
    ShapTabular,
    SmoothGrad,
    get_explainer,
)
from nbexplain.explanation import Explanation
from nbexplain.models import as_predict_fn

__version__ = "0.1.0"

_WIDGETS = (
    "Dashboard", "Heatmap", "FeatureBars", "SamplePanel", "SampleExplorer", "SampleBrowser", "SampleTable",
    "CompareView", "Beeswarm", "ConfusionMatrix", "TextTokens", "TaskProgress", "ImportanceBars", "PDPView",
    "SurrogateView", "BiasView", "ModelAnatomy", "LayerInspector", "ModelGraphView", "ChannelGrid", "AttentionView",
    "TrustView",
    "IGPathView",
    "ShapleyView",
    "LimeNeighbourhoodView",
    "GradCAMLayersView",
)

# Subpackages reachable as attributes without an import of their own (``nbexplain.datasets``).
_SUBMODULES = ("anatomy", "datasets", "diagnostics", "explainers", "metrics", "perturb", "scale", "session", "tasks",
               "text", "validate", "widgets")

# Compute-side names loaded on first access: name -> module that defines it.
_LAZY: dict[str, str] = {
    "error_analysis": "nbexplain.diagnostics",
    "compare_splits": "nbexplain.diagnostics",
    "slice_metrics": "nbexplain.diagnostics",
    "permutation_importance": "nbexplain.explainers.global_methods.permutation",
    "partial_dependence": "nbexplain.explainers.global_methods.partial_dependence",
    "PartialDependence": "nbexplain.explainers.global_methods.partial_dependence",
    "GlobalSurrogate": "nbexplain.explainers.global_methods.surrogates",
    "LocalSurrogate": "nbexplain.explainers.global_methods.surrogates",
    "KernelShap": "nbexplain.explainers.perturbation.kernel_shap",
    "LimeTabularBatched": "nbexplain.explainers.perturbation.lime_batched",
    "LimeImage": "nbexplain.explainers.perturbation.lime_package",
    "LimeText": "nbexplain.explainers.perturbation.lime_package",
    "TokenShap": "nbexplain.explainers.perturbation.token_shap",
    "TokenOcclusion": "nbexplain.explainers.perturbation.token_shap",
    "ShapTree": "nbexplain.explainers.perturbation.shap_library",
    "ShapPartition": "nbexplain.explainers.perturbation.shap_library",
    "ExplainSession": "nbexplain.session",
    "TextExplainer": "nbexplain.text.hf",
    "explain_dataset": "nbexplain.scale.run",
    "model_graph": "nbexplain.anatomy",
    "TaskRunner": "nbexplain.tasks",
    "PatchMask": "nbexplain.perturb",
    "TokenMask": "nbexplain.perturb",
    "AttentionRollout": "nbexplain.explainers.vision.attention",
    "attention_maps": "nbexplain.explainers.vision.attention",
    "attention_rollout": "nbexplain.explainers.vision.attention",
    "agreement": "nbexplain.diagnostics.agreement",
    "filter_samples": "nbexplain.diagnostics.browse",
    "SampleFilter": "nbexplain.diagnostics.browse",
}

__all__ = [
    "DeepLift",
    "ExpectedGradients",
    "Explanation",
    "GradCAM",
    "GradCAMPlusPlus",
    "GradientXInput",
    "IntegratedGradients",
    "LayerGradientXActivation",
    "LayerIntegratedGradients",
    "LimeTabular",
    "Saliency",
    "ShapTabular",
    "SmoothGrad",
    "__version__",
    "as_predict_fn",
    "decode_array",
    "encode_array",
    "get_explainer",
    *_WIDGETS,
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    """Load the widget classes and the ``_LAZY`` compute names on first use (keeps import fast)."""
    if name in _WIDGETS:
        widgets = importlib.import_module("nbexplain.widgets")
        try:
            value = getattr(widgets, name)
        except AttributeError:
            raise AttributeError(f"nbexplain.widgets does not define {name} (yet)") from None
        globals()[name] = value
        return value
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"nbexplain.{name}")
    raise AttributeError(f"module 'nbexplain' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WIDGETS) | set(_LAZY) | set(_SUBMODULES))
