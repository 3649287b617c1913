"""One way to call any model: torch modules, scikit-learn estimators, Keras-like objects, callables.

:func:`as_predict_fn` turns a model into ``f(X: ndarray (n, ...)) -> float ndarray (n, k)``, the
form SHAP and LIME want. torch is imported only when a torch model is passed.

Example:
    >>> import numpy as np
    >>> f = as_predict_fn(lambda X: X.sum(axis=1))
    >>> f(np.ones((2, 3)))
    array([[3.],
           [3.]])
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

OUTPUTS = ("auto", "logits", "probabilities", "raw")
PredictFn = Callable[[np.ndarray], np.ndarray]


def is_torch_module(model: Any) -> bool:
    """True when ``model`` is a ``torch.nn.Module`` (without importing torch if it is not loaded).

    Example:
        >>> is_torch_module(len)
        False
    """
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def model_device(model: Any) -> Any:
    """The ``torch.device`` of a module's first parameter or buffer (CPU when it has none).

    Returns ``None`` for a model that is not a torch module.

    Example:
        >>> import torch
        >>> model_device(torch.nn.Linear(2, 1))
        device(type='cpu')
    """
    if not is_torch_module(model):
        return None
    import torch

    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def to_numpy(x: Any) -> np.ndarray:
    """Convert a numpy array, torch tensor (any device) or nested list to a numpy array.

    Example:
        >>> to_numpy([[1, 2]]).shape
        (1, 2)
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _as_2d(out: Any, n: int, what: str) -> np.ndarray:
    arr = to_numpy(out)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{what} returned dtype {arr.dtype}; it must return numbers (n, k)")
    arr = arr.astype(np.float64)
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ValueError(f"{what} returned shape {arr.shape} for {n} input rows; it must return one row "
                         f"per input, (n, k) or (n,)")
    arr = arr.reshape(n, -1)
    bad = np.isnan(arr).any(axis=1)
    if bad.any():
        raise ValueError(f"{what} returned NaN for {int(bad.sum())} of {n} rows (first: row {int(np.argmax(bad))}); "
                         "check the inputs (scaling, missing values) and the model")
    return arr


@contextlib.contextmanager
def eval_mode(model: Any) -> Iterator[Any]:
    """Eval mode inside the block; every submodule's ``training`` flag restored on exit, also on error.

    (``model.train(was_training)`` would set every submodule alike, un-freezing a BatchNorm the
    user had put in eval mode on purpose.)

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Dropout(), torch.nn.BatchNorm1d(2).eval()).train()
        >>> m[1].eval()  # doctest: +ELLIPSIS
        BatchNorm1d(...)
        >>> with eval_mode(m):
        ...     m[0].training
        False
        >>> m[0].training, m[1].training
        (True, False)
    """
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        yield model
    finally:
        for m, mode in modes:
            m.training = mode


def _torch_forward(model: Any, batch_size: int) -> PredictFn:
    import torch

    def forward(X: np.ndarray) -> np.ndarray:
        device = model_device(model)
        outs = []
        with eval_mode(model), torch.no_grad():
            for start in range(0, len(X), batch_size):
                chunk = torch.as_tensor(np.asarray(X[start:start + batch_size]), dtype=torch.float32, device=device)
                outs.append(model(chunk).detach().float().cpu().reshape(len(chunk), -1).numpy())
        return np.concatenate(outs, axis=0) if outs else np.zeros((0, 1))

    return forward


def _softmax(z: np.ndarray) -> np.ndarray:
    if z.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-z))
        return np.concatenate([1.0 - p, p], axis=1)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def as_predict_fn(model: Any, *, output: str = "auto", batch_size: int = 1024) -> PredictFn:
    """Wrap ``model`` as ``f(X) -> float64 array (n, k)`` (``k = 1`` for 1-D outputs).

    ``model``: a ``torch.nn.Module`` (called in eval mode under ``no_grad`` on float32 input on
    the model's device, ``batch_size`` rows at a time; its training flag is restored), an object
    with ``predict_proba`` or ``predict`` (scikit-learn, Keras), or a plain callable.
    ``output``:

    - ``"auto"`` / ``"raw"``: the model's own output (for estimators with ``predict_proba``,
      ``"auto"`` uses it; ``"raw"`` uses ``predict``);
    - ``"logits"``: scores before softmax (torch / callable output; ``decision_function`` for
      estimators);
    - ``"probabilities"``: class probabilities; torch and callable outputs are taken as logits
      (softmax, or sigmoid ``[1 - p, p]`` for one output), ``predict_proba`` as is.

    Example:
        >>> import torch
        >>> f = as_predict_fn(torch.nn.Linear(4, 3), output="probabilities")
        >>> f(np.zeros((5, 4))).sum(axis=1).round(6).tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    torch_model = is_torch_module(model)
    softmax = False
    if torch_model:
        raw: Callable[[Any], Any] = _torch_forward(model, batch_size)
        what = f"{type(model).__name__}.forward"
        softmax = output == "probabilities"
    elif hasattr(model, "predict_proba") and output in ("auto", "probabilities"):
        raw, what = model.predict_proba, f"{type(model).__name__}.predict_proba"
    elif output == "logits" and hasattr(model, "decision_function"):
        raw, what = model.decision_function, f"{type(model).__name__}.decision_function"
    elif output == "probabilities" and hasattr(model, "predict") and not callable(model):
        raise TypeError(f"{type(model).__name__} has predict but no predict_proba, so it gives no class "
                        "probabilities; use output='raw' (regression) or a classifier")
    elif hasattr(model, "predict") and output != "logits":
        raw, what = model.predict, f"{type(model).__name__}.predict"
    elif callable(model):
        raw, what = model, getattr(model, "__name__", type(model).__name__)
        softmax = output == "probabilities"
    else:
        raise TypeError(f"cannot call a {type(model).__name__} with output={output!r}: pass a torch.nn.Module, "
                        "an estimator with predict_proba/predict, or a callable X -> (n, k)")

    def predict(X: Any) -> np.ndarray:
        arr = to_numpy(X)
        if arr.ndim == 0:
            raise ValueError(f"inputs must have a sample axis (n, ...), got a scalar {arr!r}")
        out = _as_2d(raw(arr), arr.shape[0], what)
        return _softmax(out) if softmax else out

    predict.__doc__ = f"Predictions of {what} as float64 (n, k)."
    return predict


def predict_proba(model: Any, X: Any, *, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities ``(n, k)``: ``predict_proba`` as is, torch/callable logits through softmax.

    Example:
        >>> import torch
        >>> predict_proba(torch.nn.Linear(2, 1), np.zeros((1, 2))).shape
        (1, 2)
    """
    return as_predict_fn(model, output="probabilities", batch_size=batch_size)(X)
