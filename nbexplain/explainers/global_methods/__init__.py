"""Global model-agnostic methods on tables: permutation importance, partial dependence (PDP,
ICE) and surrogate models.
"""
