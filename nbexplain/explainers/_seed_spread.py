"""The spread of an explanation over seeds: how much a sampled method's values move when only the seed does.

LIME (:class:`~nbexplain.explainers.perturbation.lime_batched.LimeTabularBatched`) and SmoothGrad
(:class:`~nbexplain.explainers.gradients.smoothgrad.SmoothGrad`) take ``n_seeds=k``: they run with seeds
``seed .. seed+k-1``, show the mean and put :func:`seed_spread` of the runs in
``Explanation.diagnostics`` (``"std_error"`` is the key the views draw as error bars, as
KernelSHAP's sampling standard error).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def seed_spread(runs: np.ndarray, top_k: int | None = None) -> dict[str, Any]:
    """The spread of ``k`` runs' values ``(k, n, ...)``: ``seed_std``, ``std_error`` and ``n_seeds``.

    ``seed_std``: the standard deviation over the runs (ddof=1), shaped like one run;
    ``std_error = seed_std / sqrt(k)``, the standard error of their mean. With ``top_k``, also
    ``topk_overlap`` ``(n,)``: over every pair of runs, the share of their top ``min(top_k, F)``
    features by ``|value|`` they have in common, averaged (1: the same top features every run).

    Example:
        >>> import numpy as np
        >>> runs = np.array([[[3.0, 2.0, 0.1]], [[2.0, 3.0, 0.2]], [[3.0, 0.1, 2.0]]])
        >>> d = seed_spread(runs, top_k=2)
        >>> d["topk_overlap"].round(3).tolist(), d["seed_std"].round(3).tolist()[0][0], d["n_seeds"]
        ([0.667], 0.577, 3)
    """
    k = runs.shape[0]
    if k < 2:
        raise ValueError(f"a spread needs at least 2 runs, got {k}")
    std = runs.std(0, ddof=1)
    out: dict[str, Any] = {"seed_std": std, "std_error": std / np.sqrt(k), "n_seeds": k}
    if top_k is not None:
        flat = np.abs(runs.reshape(k, runs.shape[1], -1))
        kk = min(top_k, flat.shape[2])
        top = np.argsort(-flat, axis=2, kind="stable")[..., :kk]  # (k, n, kk)
        hit = np.zeros(flat.shape, dtype=bool)
        np.put_along_axis(hit, top, True, axis=2)
        pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
        out["topk_overlap"] = np.mean([(hit[a] & hit[b]).sum(1) / kk for a, b in pairs], axis=0)
        out["top_k"] = kk
    return out
