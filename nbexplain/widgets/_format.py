"""How numbers read in the views' captions: probabilities with sensible precision, one prediction phrase.

The sample panel (``js/src/views/tables/samplepanel.ts``, ``formatProbability``) and the method captions of
:class:`~nbexplain.widgets.CompareView` use the same rule, so a sample reads the same everywhere:
``"malignant, P = 0.97"``.

Example:
    >>> format_probability(0.9712), format_probability(0.99996), format_probability(0.004)
    ('0.97', '>0.999', '0.004')
    >>> prediction_phrase("malignant", 0.9712), prediction_phrase("benign", 1.0)
    ('malignant, P = 0.97', 'benign, P > 0.999')
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["format_number", "format_probability", "prediction_phrase", "probability_phrase"]


def format_probability(p: Any) -> str:
    """A probability with two decimals, three when two would round it to 0 or 1, else ``>0.999`` / ``<0.001``.

    A probability never reads "1" or "0": a model's 1.0 is a float that saturated (softmax in
    float32 gives 1.0 from about 0.99999994 on), so it reads ``>0.999``. NaN, inf and None read
    ``"n/a"``.

    Example:
        >>> [format_probability(p) for p in (0.5, 0.996, 0.0004, 1.0, 0.0, float("nan"))]
        ['0.50', '0.996', '<0.001', '>0.999', '<0.001', 'n/a']
    """
    if p is None:
        return "n/a"
    p = float(p)
    if not math.isfinite(p):
        return "n/a"
    for digits in (2, 3):
        text = f"{p:.{digits}f}"
        if 0.0 < float(text) < 1.0:
            return text
    return ">0.999" if p > 0.5 else "<0.001"


def format_number(x: Any) -> str:
    """Three significant digits (the front end's ``formatValue``): ``0.547``, ``12.3``, ``1.2e-05``.

    Example:
        >>> format_number(0.54686), format_number(-12.345), format_number(None)
        ('0.547', '-12.3', 'n/a')
    """
    if x is None:
        return "n/a"
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.3g}"


def probability_phrase(p: Any) -> str:
    """``"P = 0.97"``, or ``"P > 0.999"`` / ``"P < 0.001"`` at the ends.

    Example:
        >>> probability_phrase(0.03), probability_phrase(0.99999)
        ('P = 0.03', 'P > 0.999')
    """
    text = format_probability(p)
    return f"P {text[0]} {text[1:]}" if text[0] in "<>" else f"P = {text}"


def prediction_phrase(class_name: str, p: Any) -> str:
    """``"<class>, P = <probability>"``: what the model predicts for a sample, in one phrase.

    Example:
        >>> prediction_phrase("benign", 0.03)
        'benign, P = 0.03'
    """
    return f"{class_name}, {probability_phrase(p)}"
