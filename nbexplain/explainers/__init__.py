"""Explainers: objects with one call, ``explain(inputs, target=None) -> Explanation``.

Example:
    >>> from nbexplain.explainers import get_explainer
    >>> callable(get_explainer)
    True
"""

from nbexplain.explainers.attention import AttentionRollout, attention_maps, attention_rollout
from nbexplain.explainers.deeplift import DeepLift
from nbexplain.explainers.gradcam import GradCAM, GradCAMPlusPlus
from nbexplain.explainers.integrated_gradients import ExpectedGradients, IntegratedGradients
from nbexplain.explainers.kernel_shap import KernelShap
from nbexplain.explainers.layer_attribution import (
    LayerGradientXActivation,
    LayerIntegratedGradients,
)
from nbexplain.explainers.lime_batched import LimeTabularBatched
from nbexplain.explainers.lime_package import LimeImage, LimeText
from nbexplain.explainers.lime_tabular import LimeTabular
from nbexplain.explainers.partial_dependence import PartialDependence, partial_dependence
from nbexplain.explainers.permutation import permutation_importance
from nbexplain.explainers.registry import available_explainers, get_explainer
from nbexplain.explainers.saliency import GradientXInput, Saliency
from nbexplain.explainers.shap_library import ShapPartition, ShapTree
from nbexplain.explainers.shap_tabular import ShapTabular
from nbexplain.explainers.smoothgrad import SmoothGrad
from nbexplain.explainers.surrogates import GlobalSurrogate, LocalSurrogate, SurrogateFit
from nbexplain.explainers.token_shap import TokenOcclusion, TokenShap

__all__ = [
    "AttentionRollout",
    "DeepLift",
    "ExpectedGradients",
    "GlobalSurrogate",
    "GradCAM",
    "GradCAMPlusPlus",
    "GradientXInput",
    "IntegratedGradients",
    "KernelShap",
    "LayerGradientXActivation",
    "LayerIntegratedGradients",
    "LimeImage",
    "LimeTabular",
    "LimeTabularBatched",
    "LimeText",
    "LocalSurrogate",
    "PartialDependence",
    "Saliency",
    "ShapPartition",
    "ShapTabular",
    "ShapTree",
    "SmoothGrad",
    "SurrogateFit",
    "TokenOcclusion",
    "TokenShap",
    "attention_maps",
    "attention_rollout",
    "available_explainers",
    "get_explainer",
    "partial_dependence",
    "permutation_importance",
]
