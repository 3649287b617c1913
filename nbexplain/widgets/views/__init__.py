"""The bundle's views of one explanation or one data set: heatmap, feature bars, sample panel and
table, text tokens, beeswarm, confusion matrix, attention.
"""
