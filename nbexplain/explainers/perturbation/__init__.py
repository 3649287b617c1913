"""Perturbation methods (model-agnostic, local): KernelSHAP and its coalitions, the shap and
lime wrappers, batched LIME, token Shapley values and occlusion.
"""
