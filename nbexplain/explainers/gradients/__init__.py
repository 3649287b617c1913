"""Gradient methods: the engine, saliency, Integrated and Expected Gradients, SmoothGrad,
DeepLIFT (rescale rules), layer attributions and layer resolution.
"""
