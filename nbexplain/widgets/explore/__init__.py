"""Exploring samples: the sample browser and explorer, and CompareView (methods side by side) with
its slots, drawing and method picker.
"""
