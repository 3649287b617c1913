"""What identifies a run for its store: the explainer's method and every setting that changes its result.

A store is resumed only by a run whose identity matches (:mod:`nbexplain.scale.store`), so the
identity must change whenever the numbers would: the method, each public setting of the
explainer (``n_samples``, ``steps``, ``link``, ...), its arrays (a background, a baseline) by
digest, and the model's weights by digest. Left out: the explainer's own ``seed`` (each chunk's
seed comes from the run's seed and the row range) and settings that only change speed
(``batch_size``, ``internal_batch_size``, ``cpu_memory_budget``).

Example:
    >>> import numpy as np, torch
    >>> from nbexplain.explainers import KernelShap
    >>> m = torch.nn.Linear(3, 2)
    >>> a = describe_explainer(KernelShap(m, np.zeros((4, 3)), n_samples=100))
    >>> b = describe_explainer(KernelShap(m, np.zeros((4, 3)), n_samples=200))
    >>> a["method"], a["params"]["n_samples"], a["params"] == b["params"]
    ('kernel_shap', 100, False)
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

__all__ = ["describe_explainer", "digest_of"]

#: The registry names of the explainers that carry no ``method`` attribute of their own.
REGISTRY_NAMES = {"KernelShap": "kernel_shap", "LimeTabularBatched": "lime_batched", "ShapTabular": "shap",
                  "LimeTabular": "lime", "TokenShap": "token_shap", "TokenOcclusion": "token_occlusion",
                  "LimeText": "lime_text"}
#: Settings that change how fast a method runs, not its numbers (a resume may change them).
SPEED_ONLY = frozenset({"seed", "batch_size", "internal_batch_size", "cpu_memory_budget"})


def digest_of(value: Any) -> str:
    """A short sha256 of an array, a tensor, a torch module's weights and buffers, or any picklable object.

    Example:
        >>> digest_of(np.zeros(3)) == digest_of(np.zeros(3)) != digest_of(np.ones(3))
        True
    """
    h = hashlib.sha256()
    if hasattr(value, "state_dict") and hasattr(value, "forward"):  # a torch module: its weights and buffers
        h.update(" ".join(repr(value).split()).encode())
        for name, t in value.state_dict().items():
            h.update(name.encode())
            h.update(np.ascontiguousarray(t.detach().cpu().float().numpy()).tobytes())
    elif hasattr(value, "detach") or isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
        h.update(f"{a.dtype}{a.shape}".encode() + (a.tobytes() if a.dtype != object else repr(a.tolist()).encode()))
    else:
        try:
            import joblib  # scikit-learn's own hashing of fitted estimators (a dependency of scikit-learn)

            return str(joblib.hash(value))[:16]
        except Exception:  # not picklable: its type stands for it
            h.update(f"{type(value).__module__}.{type(value).__qualname__}".encode())
    return h.hexdigest()[:16]


def _setting(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)) and all(v is None or isinstance(v, (bool, int, float, str)) for v in value):
        return list(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (list, tuple)) for v in value):
        return [_setting(v) for v in value]
    if hasattr(value, "explain") and not hasattr(value, "forward"):  # a wrapped explainer (SmoothGrad's base)
        return describe_explainer(value)
    if isinstance(value, dict):
        return {str(k): _setting(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return "digest:" + digest_of(value)


def describe_explainer(explainer: Any) -> dict[str, Any]:
    """The explainer's identity for a store: its method, class and settings (see the module docstring).

    Example:
        >>> import torch
        >>> from nbexplain.explainers import Saliency
        >>> describe_explainer(Saliency(torch.nn.Linear(2, 1)))["method"]
        'saliency'
    """
    params: dict[str, Any] = {}
    get = getattr(explainer, "params", None)
    if callable(get):
        try:
            params = dict(get())
        except Exception:  # a params() that needs a call first: the attributes below still name the settings
            params = {}
    for name, value in vars(explainer).items() if hasattr(explainer, "__dict__") else ():
        if name.startswith("_") or name in params or (callable(value) and name != "model"):
            continue
        params[name] = _setting(value)
    for name in SPEED_ONLY:
        params.pop(name, None)
    params = {k: _setting(v) for k, v in sorted(params.items())}
    method = getattr(explainer, "method", None) or REGISTRY_NAMES.get(type(explainer).__name__) or \
        type(explainer).__name__
    return {"method": str(method), "explainer": f"{type(explainer).__module__}.{type(explainer).__qualname__}",
            "params": params}
