"""Error and bias analysis (compute side): what the dashboard's error and bias views draw.

- :func:`error_analysis` -> :class:`ErrorReport`: per-sample loss and correctness, the confusion
  matrix and the indices behind each cell, misclassified samples (most confidently wrong first).
- :func:`compare_splits` -> :class:`SplitComparison`: metrics per split (train, test...) and gaps.
- :func:`slice_metrics` -> :class:`SliceReport`: metrics per quantile bin or category of a feature.
- :func:`filter_samples` / :class:`SampleFilter`: which samples a browser shows (misclassified,
  by class, by confidence, by text, NaN rows).
- :func:`agreement`: how far explanation methods agree (rank correlation, top-k overlap).

Pure numpy; the model is called through :func:`nbexplain.as_predict_fn`.

Example:
    >>> import numpy as np
    >>> from nbexplain.diagnostics import error_analysis
    >>> r = error_analysis(lambda X: np.c_[1 - X[:, 0], X[:, 0]], np.array([[0.9], [0.2]]), [1, 1])
    >>> r.summary()["accuracy"]
    0.5
"""

from nbexplain.diagnostics.agreement import (
    AgreementReport,
    agreement,
    rank_correlation,
    top_k_overlap,
)
from nbexplain.diagnostics.bias import SliceReport, SplitComparison, compare_splits, slice_metrics
from nbexplain.diagnostics.browse import SampleFilter, filter_samples, nan_rows, top_class
from nbexplain.diagnostics.errors import ErrorReport, error_analysis

__all__ = [
    "AgreementReport",
    "ErrorReport",
    "SampleFilter",
    "SliceReport",
    "SplitComparison",
    "agreement",
    "compare_splits",
    "error_analysis",
    "filter_samples",
    "nan_rows",
    "rank_correlation",
    "slice_metrics",
    "top_class",
    "top_k_overlap",
]
