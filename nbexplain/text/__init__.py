"""Text models for the token explainers: a regex tokenizer, a vocabulary, a small torch classifier.

Example:
    >>> from nbexplain.text import tokenize, train_text_classifier
    >>> tokenize("Superb!")
    ['superb', '!']
    >>> texts, labels = ["a superb film", "great fun", "a dull plot", "awful film"], [1, 1, 0, 0]
    >>> clf = train_text_classifier(texts, labels, class_names=["negative", "positive"])
    >>> clf.predict(["superb fun", "dull"]).tolist()
    [1, 0]
"""

from nbexplain.text.classifier import BagOfEmbeddings, TextClassifier, train_text_classifier
from nbexplain.text.tokenizer import Vocabulary, detokenize, tokenize

__all__ = ["BagOfEmbeddings", "TextClassifier", "Vocabulary", "detokenize", "tokenize", "train_text_classifier"]
