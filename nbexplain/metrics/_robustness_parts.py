"""The parts :mod:`nbexplain.metrics.robustness` is built from: inputs, explainers, perturbations, forward passes.

- :func:`input_tensor`: the user's inputs as a float tensor (a copy), remembering whether they
  came as numpy (the explainer then gets numpy rows back);
- :class:`Attributor`: an explainer object (``.explain(inputs, target=...)``), a callable, an
  :class:`~nbexplain.Explanation` or an array of attributions, behind one call that returns
  float64 numpy values and the targets the explainer resolved;
- :func:`draw_perturbed`: the built-in perturbations, drawn one row at a time from our own
  ``torch.Generator`` (never the global one), so the draws do not depend on the chunk size;
- :class:`Forward`: the explained output ``f(x)[target]`` of a torch module (no gradients, in
  chunks that halve on out-of-memory, like the gradient engine) or of any predict function.

Example:
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> draw_perturbed("uniform", torch.zeros(2, 3), None, g, 0.5).abs().max().item() <= 0.5
    True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from nbexplain.explanation import Explanation
from nbexplain.validate import check_finite

#: The built-in perturbations: ``"gaussian"`` (``x - N(0, scale^2)``), ``"uniform"`` (``x + U(-r, r)``,
#: the L-inf ball of radius r), ``"subset"`` (each feature set to its baseline with probability 1/2).
PERTURBATIONS = ("gaussian", "uniform", "subset")
#: Bytes of inputs and attributions one chunk of perturbed rows may hold (``batch_size="auto"``).
CHUNK_BYTES = 256 * 1024**2


class RobustnessError(ValueError):
    """Inputs, attributions or options a robustness metric cannot use; the message says what to do."""


def input_tensor(inputs: Any, name: str = "inputs") -> tuple[Any, bool]:
    """``(tensor, was_numpy)``: the inputs as a floating tensor (a copy), finite, with a sample axis.

    Example:
        >>> import numpy as np
        >>> t, was_numpy = input_tensor(np.zeros((2, 3), np.float32))
        >>> t.dtype, was_numpy
        (torch.float32, True)
    """
    import torch

    if isinstance(inputs, (tuple, list)) and inputs and all(isinstance(t, torch.Tensor) for t in inputs):
        raise RobustnessError(f"{name} is a tuple of tensors; the robustness metrics take one input tensor (n, ...): "
                              "wrap the model so that it takes one (e.g. concatenate the inputs)")
    was_numpy = not isinstance(inputs, torch.Tensor)
    if was_numpy:
        arr = np.asarray(inputs)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise RobustnessError(f"{name} must be numeric, got dtype {arr.dtype}")
        t = torch.from_numpy(np.array(arr, dtype=arr.dtype if arr.dtype.kind == "f" else np.float64))
    else:
        t = inputs.detach().clone()
    if not torch.is_floating_point(t):
        raise RobustnessError(f"{name} have dtype {t.dtype}; perturbations need floating point inputs: cast them "
                              "(x.float()); integer token ids cannot be perturbed continuously")
    if t.ndim < 2 or t.shape[0] == 0:
        raise RobustnessError(f"{name} must be a batch (n, ...) with n >= 1, got shape {tuple(t.shape)}; add the "
                              "sample axis with x[None]")
    return check_finite(t, name), was_numpy


def rows_per_chunk(batch_size: Any, row_bytes: int, total: int) -> int:
    """Rows of perturbed inputs per chunk: ``batch_size`` or, for ``"auto"``, what fits :data:`CHUNK_BYTES`.

    Example:
        >>> rows_per_chunk("auto", 4 * 3 * 224 * 224, 1000), rows_per_chunk(7, 10, 1000)
        (148, 7)
    """
    if batch_size == "auto":
        return int(max(1, min(total, 1024, CHUNK_BYTES // max(1, 3 * row_bytes))))
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise RobustnessError(f"batch_size must be 'auto' or a positive int (rows per chunk), got {batch_size!r}")
    return int(batch_size)


def _values(result: Any, what: str) -> tuple[np.ndarray, Explanation | None]:
    import torch

    if isinstance(result, tuple):
        raise RobustnessError(f"{what} returned a tuple (one explanation per input); the robustness metrics take "
                              "models with one input tensor")
    if isinstance(result, Explanation):
        if result.has_output_axis:
            raise RobustnessError(f"{what} gave one map per output (values {result._values.shape}); pass target= "
                                  "so that each sample has one map")
        return np.asarray(result._values, dtype=np.float64), result
    if isinstance(result, torch.Tensor):
        return result.detach().to("cpu", torch.float64).numpy(), None
    arr = np.asarray(result)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise RobustnessError(f"{what} returned {type(result).__name__} (dtype {arr.dtype}); return an "
                              "Explanation, a tensor or an array of attributions")
    return arr.astype(np.float64), None


class Attributor:
    """One way to get attributions from whatever the user passed as the explainer.

    ``source``: an object with ``.explain(inputs, target=...)``, a callable
    ``fn(inputs, target=...)``, or (``fixed=True`` allowed) an :class:`~nbexplain.Explanation`, a
    tensor or an array of precomputed attributions. ``options`` go to every call.

    Example:
        >>> import numpy as np
        >>> a = Attributor(lambda x, target=None: 2 * x, {}, fixed_ok=False)
        >>> a(np.ones((1, 2)), None)[0].tolist(), a.method
        ([[2.0, 2.0]], '<lambda>')
    """

    def __init__(self, source: Any, options: dict[str, Any], *, fixed_ok: bool) -> None:
        import torch

        self.source, self.options = source, dict(options)
        self.fixed = isinstance(source, (Explanation, np.ndarray, torch.Tensor))
        if self.fixed and not fixed_ok:
            raise RobustnessError("max_sensitivity re-explains perturbed inputs, so it needs an explainer (an object "
                                  "with .explain(inputs, target=...) or a callable), not precomputed attributions")
        if not self.fixed and not hasattr(source, "explain") and not callable(source):
            raise RobustnessError(f"explainer must be an nbexplain explainer (with .explain), a callable "
                                  f"fn(inputs, target=...), an Explanation or an array; got {type(source).__name__}")
        method = getattr(source, "method", None)
        self.method = method if isinstance(method, str) else getattr(source, "__name__", type(source).__name__)
        self.explanation: Explanation | None = source if isinstance(source, Explanation) else None

    def __call__(self, x: Any, target: Any) -> tuple[np.ndarray, Explanation | None]:
        """``(values as float64 numpy (n, ...), the Explanation or None)`` for inputs ``x``."""
        if self.fixed:
            return _values(self.source, "the attributions")
        what = f"{self.method}.explain" if hasattr(self.source, "explain") else f"the explainer {self.method}"
        call = self.source.explain if hasattr(self.source, "explain") else self.source
        values, e = _values(call(x, target=target, **self.options), what)
        if e is not None and e.method:
            self.method = e.method
        if len(values) != len(x):
            raise RobustnessError(f"{what} returned {len(values)} attributions for {len(x)} inputs")
        check_finite(values, f"the attributions of {what}")
        return values, e


def normalise_target(target: Any, n: int) -> Any:
    """``target`` as None, an int, a callable, or one int64 index per sample (checked).

    Example:
        >>> normalise_target([2, 0], 2).tolist(), normalise_target(3, 2), normalise_target(None, 2)
        ([2, 0], 3, None)
    """
    import torch

    from nbexplain.explainers._targets import is_callable_target, target_indices

    if target is None or is_callable_target(target):
        return target
    if isinstance(target, (int, np.integer)) and not isinstance(target, (bool, np.bool_)):
        return int(target_indices(target, 1)[0])
    if isinstance(target, torch.Tensor) and target.ndim == 0:
        return int(target.item())
    return target_indices(target, n)


def expand_target(target: Any, rows: Any) -> Any:
    """The target of the perturbed rows whose samples are ``rows`` (per-sample indices are taken along).

    Example:
        >>> import numpy as np
        >>> expand_target(np.array([3, 5]), np.array([0, 0, 1])).tolist(), expand_target(2, np.array([0, 1]))
        ([3, 3, 5], 2)
    """
    return target[rows] if isinstance(target, np.ndarray) else target


def draw_perturbed(kind: str, x: Any, baselines: Any, generator: Any, scale: float) -> Any:
    """Perturbed copies of the rows ``x`` by the built-in ``kind`` (:data:`PERTURBATIONS`).

    Each row is drawn by its own call on ``generator`` (same shape every time), so the draws are
    the same whatever the chunking. ``baselines``: rows like ``x`` (``"subset"`` only).

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(1)
        >>> out = draw_perturbed("subset", torch.ones(1, 8), torch.zeros(1, 8), g, 0.0)
        >>> sorted(set(out.flatten().tolist())) == [0.0, 1.0]
        True
    """
    import torch

    shape = tuple(x.shape[1:])
    kw = {"generator": generator, "device": x.device, "dtype": x.dtype}
    if kind == "gaussian":
        noise = torch.stack([torch.randn(shape, **kw) for _ in range(len(x))]) if len(x) else torch.empty_like(x)
        return x - scale * noise
    if kind == "uniform":
        u = torch.stack([torch.rand(shape, **kw) for _ in range(len(x))]) if len(x) else torch.empty_like(x)
        return x + (2 * u - 1) * scale
    if kind == "subset":
        u = torch.stack([torch.rand(shape, **kw) for _ in range(len(x))]) if len(x) else torch.empty_like(x)
        return torch.where(u < 0.5, baselines, x)
    raise RobustnessError(f"unknown perturbation {kind!r}; use one of {PERTURBATIONS} or a callable")


def make_generator(seed: int, device: Any) -> Any:
    """Our own ``torch.Generator`` on ``device``, seeded (the global generators are never drawn from)."""
    import torch

    return torch.Generator(device=device).manual_seed(int(seed))


class Forward:
    """``f(rows)[target]`` as float64 for a torch module (its device and dtype) or any predict function.

    A module runs under ``torch.no_grad()``; call inside :func:`nbexplain.explainers.gradients._engine.frozen`.
    ``output``: as :func:`nbexplain.models.as_predict_fn`; for a module, ``"probabilities"``
    applies the one output-kind rule (:mod:`nbexplain.output_kind`), anything else its own output.

    Example:
        >>> import numpy as np
        >>> f = Forward(lambda X: X * [1.0, -1.0], "auto", 1)
        >>> f.explained(np.ones((2, 2)), np.array([1, 1])).tolist()
        [-1.0, -1.0]
    """

    def __init__(self, model: Any, output: str, chunk: int) -> None:
        from nbexplain.models import OUTPUTS, as_predict_fn, is_torch_module

        if output not in OUTPUTS:
            raise RobustnessError(f"output must be one of {OUTPUTS}, got {output!r}")
        self.model, self.output, self.chunk = model, output, chunk
        self.torch = is_torch_module(model)
        self.predict: Callable[[Any], np.ndarray] | None = None if self.torch else as_predict_fn(model, output=output)

    def outputs(self, x: Any) -> Any:
        """All outputs ``(n, k)`` at ``x`` (a tensor for a module, float64 tensor otherwise)."""
        import torch

        from nbexplain.explainers.gradients._engine import model_outputs
        from nbexplain.output_kind import remembered_kind, to_probabilities_torch

        if not self.torch:
            assert self.predict is not None
            arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
            return torch.from_numpy(self.predict(arr))
        with torch.no_grad():
            out = model_outputs(self.model, x)
        if self.output == "probabilities":
            out = to_probabilities_torch(out, remembered_kind(self.model, out.detach().float().cpu().numpy()))
        return out

    def explained(self, x: Any, targets: Any) -> np.ndarray:
        """The explained output per row of ``x`` (chunked; a CUDA out-of-memory error halves the chunk)."""
        import torch

        from nbexplain.explainers.gradients._engine import objective, run_chunked

        n = len(x)
        res = np.empty(n, dtype=np.float64)

        def step(a: int, b: int) -> None:
            res[a:b] = objective(self.outputs(x[a:b]), expand_target(targets, slice(a, b))).detach().double().cpu().numpy()

        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(np.asarray(x))
        self.chunk = run_chunked(step, n, self.chunk)
        return res


def call_user(perturb: Any, x: Any, baselines: Any) -> Any:
    """A user's perturbation as Captum calls it: ``perturb(x, baselines)`` when baselines are given
    and it takes two arguments, else ``perturb(x)``."""
    if baselines is not None and len(inspect.signature(perturb).parameters) > 1:
        return perturb(x, baselines)
    return perturb(x)


def user_infidelity_perturbation(perturb: Any, xr: Any, br: Any) -> tuple[Any, Any]:
    """``(perturbation, perturbed rows)`` from a user's infidelity perturbation, shapes and values checked."""
    import torch

    got = call_user(perturb, xr, br)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise RobustnessError("an infidelity perturb callable returns (perturbation, perturbed_inputs), as in "
                              f"captum.metrics.infidelity; got {type(got).__name__}")
    pert, xp = (torch.as_tensor(t).to(xr.device) for t in got)
    if tuple(pert.shape) != tuple(xr.shape) or tuple(xp.shape) != tuple(xr.shape):
        raise RobustnessError(f"perturb returned shapes {tuple(pert.shape)} and {tuple(xp.shape)} for inputs of shape "
                              f"{tuple(xr.shape)}; return one perturbation and one perturbed row per input row")
    return check_finite(pert, "the perturbation"), xp


def norm_order(norm_ord: Any) -> float:
    """The vector norm order of ``norm_ord`` (Captum's ``"fro"`` on flattened maps is the 2-norm).

    Example:
        >>> norm_order("fro"), norm_order(float("inf"))
        (2.0, inf)
    """
    if norm_ord == "fro":
        return 2.0
    if isinstance(norm_ord, (bool, np.bool_)) or not isinstance(norm_ord, (int, float, np.integer, np.floating)) \
            or not (norm_ord > 0):
        raise RobustnessError(f"norm_ord must be 'fro' (the 2-norm), a positive number or inf, got {norm_ord!r}")
    return float(norm_ord)


def norms(flat: np.ndarray, p: float) -> np.ndarray:
    """The ``p``-norm of each row of ``flat``."""
    return np.linalg.norm(flat, ord=p, axis=1)
