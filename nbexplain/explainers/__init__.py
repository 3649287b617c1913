"""Explainers: objects with one call, ``explain(inputs, target=None) -> Explanation``.

Example:
    >>> from nbexplain.explainers import get_explainer
    >>> callable(get_explainer)
    True
"""

from nbexplain.explainers.global_methods.partial_dependence import (
    PartialDependence,
    partial_dependence,
)
from nbexplain.explainers.global_methods.permutation import permutation_importance
from nbexplain.explainers.global_methods.surrogates import (
    GlobalSurrogate,
    LocalSurrogate,
    SurrogateFit,
)
from nbexplain.explainers.gradients.deeplift import DeepLift
from nbexplain.explainers.gradients.integrated_gradients import (
    ExpectedGradients,
    IntegratedGradients,
)
from nbexplain.explainers.gradients.layer_attribution import (
    LayerGradientXActivation,
    LayerIntegratedGradients,
)
from nbexplain.explainers.gradients.saliency import GradientXInput, Saliency
from nbexplain.explainers.gradients.smoothgrad import SmoothGrad
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explainers.perturbation.lime_batched import LimeTabularBatched
from nbexplain.explainers.perturbation.lime_package import LimeImage, LimeText
from nbexplain.explainers.perturbation.lime_tabular import LimeTabular
from nbexplain.explainers.perturbation.shap_library import ShapPartition, ShapTree
from nbexplain.explainers.perturbation.shap_tabular import ShapTabular
from nbexplain.explainers.perturbation.token_shap import TokenOcclusion, TokenShap
from nbexplain.explainers.registry import available_explainers, get_explainer
from nbexplain.explainers.vision.attention import (
    AttentionRollout,
    attention_maps,
    attention_rollout,
)
from nbexplain.explainers.vision.gradcam import GradCAM, GradCAMPlusPlus

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
