"""Explain the explainer: IGPathView, LimeNeighbourhoodView, ShapleyView and GradCAMLayersView,
with the packing of their frames for the wire.
"""
