"""The computations behind the explain-the-explainer views: the IG path, LIME's neighbourhood,
the Shapley lattice and convergence, Grad-CAM at every stage.
"""
