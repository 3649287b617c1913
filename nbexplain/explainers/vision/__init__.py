"""Vision methods: Grad-CAM and Grad-CAM++, attention rollout, and the model families (CNNs,
vision transformers) and their grids.
"""
