"""Small data sets shipped inside nbexplain (no network): a labelled review corpus.

Example:
    >>> from nbexplain.datasets import load_reviews
    >>> texts, labels, class_names = load_reviews()
    >>> len(texts), class_names
    (800, ['negative', 'positive'])
"""

from nbexplain.datasets.reviews import load_reviews, reviews_split

__all__ = ["load_reviews", "reviews_split"]
