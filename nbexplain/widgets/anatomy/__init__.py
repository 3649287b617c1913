"""The model anatomy: ModelAnatomy and LayerInspector (:mod:`.view`), their tabs (activations,
weights, gradients), the model graph and the channel grid.
"""
