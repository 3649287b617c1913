"""Dataset-wide explanations: any explainer over a whole data set, in-process or on Dask, into a store.

``nbx.explain_dataset(explainer, data, store=..., client=None)`` explains every row in chunks and
writes each finished chunk to a Zarr store atomically (resumable, bitwise reproducible whatever
the workers); ``nbx.Explanation.open(store)`` reads it lazily, a chunk at a time, for the views.

Example:
    >>> import numpy as np, tempfile, torch
    >>> from nbexplain.explainers import Saliency
    >>> run = explain_dataset(Saliency(torch.nn.Linear(3, 2)), np.ones((6, 3), np.float32),
    ...                       store=tempfile.mkdtemp() + "/s.zarr", chunk_size=4, sync=True)
    >>> LazyExplanation(run.store)[5].values.shape
    (3,)
"""

from nbexplain.scale.lazy import LazyExplanation
from nbexplain.scale.run import DatasetRun, explain_dataset
from nbexplain.scale.store import ExplanationStore, StoreMismatchError

__all__ = ["DatasetRun", "ExplanationStore", "LazyExplanation", "StoreMismatchError", "explain_dataset"]
