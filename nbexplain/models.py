"""One way to call any model: torch modules, Keras 3 models, scikit-learn estimators, callables.

:func:`as_predict_fn` turns a model into ``f(X: ndarray (n, ...)) -> float ndarray (n, k)``, the
form SHAP and LIME want. torch is imported only when a torch model is passed. A Keras 3 model on
the torch backend is a torch module and runs as one; on another backend it runs through
``model.predict(..., verbose=0)`` (:mod:`nbexplain.keras_models`).

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

from nbexplain.guard import rng_guard
from nbexplain.keras_models import is_keras, keras_predict
from nbexplain.output_kind import check_returns, remembered_kind, to_probabilities
from nbexplain.validate import check_model_output, explain_model_error, ragged_output_error

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
    try:
        arr = to_numpy(out)
    except ValueError as exc:  # numpy: "inhomogeneous shape" for a ragged list of rows
        raise ragged_output_error(what) from exc
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{what} returned dtype {arr.dtype}; it must return numbers (n, k)")
    arr = arr.astype(np.float64)
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ValueError(f"{what} returned shape {arr.shape} for {n} input rows; it must return one row "
                         f"per input, (n, k) or (n,)")
    return check_model_output(arr.reshape(n, -1), what)  # NaN or inf named, with the row


@contextlib.contextmanager
def eval_mode(model: Any) -> Iterator[Any]:
    """Eval mode inside the block, under the one state guard (:func:`nbexplain.guard.guard`).

    Every submodule's ``training`` flag is restored on exit, also on error (``model.train(was)``
    would set every submodule alike, un-freezing a BatchNorm the user had put in eval mode on
    purpose), and so are hooks, buffers, ``requires_grad``, ``.grad``, the autograd mode and the
    global random states.

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
    from nbexplain.guard import guard

    with guard(model, eval_mode=True):
        yield model


def _torch_forward(model: Any, batch_size: int) -> PredictFn:
    import torch

    def forward(X: np.ndarray) -> np.ndarray:
        device = model_device(model)
        dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
        outs = []
        with eval_mode(model), torch.no_grad():
            for start in range(0, len(X), batch_size):
                # a copy, never a view of the caller's array: an in-place first layer writes into it
                chunk = torch.tensor(np.asarray(X[start:start + batch_size]), dtype=dtype, device=device)
                try:
                    out = model(chunk)
                except RuntimeError as exc:  # torch's shape message, said in the user's terms
                    hint = explain_model_error(exc, chunk, model)
                    if hint is not None:
                        raise hint from exc
                    raise
                if not isinstance(out, torch.Tensor):
                    raise TypeError(f"{type(model).__name__}.forward returned {type(out).__name__}; it must "
                                    "return one tensor (n, k) of outputs (wrap it, e.g. lambda x: model(x)[0])")
                outs.append(out.detach().float().cpu().reshape(len(chunk), -1).numpy())
        return np.concatenate(outs, axis=0) if outs else np.zeros((0, 1))

    return forward


def as_predict_fn(model: Any, *, output: str = "auto", batch_size: int = 1024, returns: str = "auto") -> PredictFn:
    """Wrap ``model`` as ``f(X) -> float64 array (n, k)`` (``k = 1`` for 1-D outputs).

    ``model``: a ``torch.nn.Module`` (called in eval mode under ``no_grad`` on float32 input on
    the model's device, ``batch_size`` rows at a time; its training flag is restored; a Keras 3
    model on the torch backend is one), a Keras 3 model on another backend (``model.predict``,
    ``batch_size`` rows at a time, no progress bar), an object with ``predict_proba`` or
    ``predict`` (scikit-learn), or a plain callable.
    ``output``:

    - ``"auto"`` / ``"raw"``: the model's own output (for estimators with ``predict_proba``,
      ``"auto"`` uses it; ``"raw"`` uses ``predict``);
    - ``"logits"``: scores before softmax (torch / callable output; ``decision_function`` for
      estimators);
    - ``"probabilities"``: class probabilities; ``predict_proba`` as is; a torch or callable
      output goes through softmax (sigmoid ``[1 - p, p]`` for one output) only when it is logits:
      ``returns`` (``"auto"``, ``"logits"``, ``"probabilities"``) says what the model returns, and
      ``"auto"`` detects it on the first output with :func:`nbexplain.output_kind.detect` (a model
      ending in softmax is not pushed through a second one). Keras models likewise.

    The model never sees the caller's array itself, only a copy (an in-place first layer cannot
    change the user's data), and runs inside the state guard (:mod:`nbexplain.guard`). NaN or inf
    in the output raises, naming the row.

    Example:
        >>> import torch
        >>> f = as_predict_fn(torch.nn.Linear(4, 3), output="probabilities")
        >>> f(np.zeros((5, 4))).sum(axis=1).round(6).tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    check_returns(returns)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    torch_model = is_torch_module(model)
    softmax = False
    if torch_model:
        raw: Callable[[Any], Any] = _torch_forward(model, batch_size)
        what = f"{type(model).__name__}.forward"
        softmax = output == "probabilities"
    elif is_keras(model):  # a backend other than torch: predict, quietly and in batches
        raw, what = keras_predict(model, batch_size), f"{type(model).__name__}.predict"
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

    kind: list[str | None] = [None if returns == "auto" else returns]

    def predict(X: Any) -> np.ndarray:
        arr = to_numpy(X)
        if arr.ndim == 0:
            raise ValueError(f"inputs must have a sample axis (n, ...), got a scalar {arr!r}")
        if not torch_model:
            arr = arr.copy()  # the user's function may change its argument; never the caller's array
        with rng_guard():
            out = _as_2d(raw(arr), arr.shape[0], what)
        if not softmax:
            return out
        if kind[0] is None:
            kind[0] = remembered_kind(model, out)
        return to_probabilities(out, kind[0], what=what)

    predict.__doc__ = f"Predictions of {what} as float64 (n, k)."
    return predict


def predict_proba(model: Any, X: Any, *, batch_size: int = 1024, returns: str = "auto") -> np.ndarray:
    """Class probabilities ``(n, k)``: ``predict_proba`` as is, torch/callable logits through softmax.

    ``returns``: what a torch or callable model returns (``"auto"`` detects it, see
    :func:`as_predict_fn`).

    Example:
        >>> import torch
        >>> predict_proba(torch.nn.Linear(2, 1), np.zeros((1, 2))).shape
        (1, 2)
    """
    return as_predict_fn(model, output="probabilities", batch_size=batch_size, returns=returns)(X)
