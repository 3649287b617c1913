"""The machinery every gradient explainer shares: inputs, model state, targets, chunking, memory.

A gradient method only writes ``_attribute`` (see :class:`GradientExplainer`); this module does
the rest, the same way for every method:

1. inputs (tensor or numpy, any device) become a float tensor on the model's device, in the
   dtype of its parameters (``to_input_tensor``);
2. targets are resolved once from one forward pass (``None`` = the predicted output), or a
   callable target is kept and applied to every forward pass (``objective``);
3. the model runs inside :func:`frozen`: eval mode, parameters with ``requires_grad=False`` (so
   no ``.grad`` accumulates), both restored afterwards, also when the model raises;
4. work is cut into chunks: ``internal_batch_size="auto"`` picks the largest chunk that fits
   (free GPU memory, or ``cpu_memory_budget`` on CPU) from a measured per-input cost, and a CUDA
   out-of-memory error halves the chunk and the work goes on (:func:`run_chunked`).

Example:
    >>> import torch
    >>> model = torch.nn.Linear(3, 2)
    >>> x = torch.ones(4, 3)
    >>> with frozen(model):
    ...     grad, selected = input_gradients(model, x, torch.tensor([0, 1, 0, 1]))
    >>> grad.shape, selected.shape
    (torch.Size([4, 3]), torch.Size([4]))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from nbexplain.explainers._targets import (
    callable_objective,
    is_callable_target,
    resolve_target,
    target_indices,
)
from nbexplain.explanation import Explanation
from nbexplain.guard import guard
from nbexplain.keras_models import input_layout
from nbexplain.models import model_device
from nbexplain.validate import check_finite, check_int, check_model_output, explain_model_error

#: Default CPU memory budget for one chunk's forward and backward pass, in bytes.
CPU_MEMORY_BUDGET = 2 * 1024**3
#: Fraction of the free GPU memory a chunk may use.
GPU_MEMORY_FRACTION = 0.8
#: Chunks never exceed this many inputs (beyond it, throughput stops improving).
MAX_CHUNK = 1024


class GradientError(ValueError):
    """A model or input that a gradient method cannot explain; the message says what to do."""


# -- model state ----------------------------------------------------------------------------------
def hook_count(model: Any) -> int:
    """Forward, pre-forward and backward hooks registered on ``model`` and its submodules.

    Example:
        >>> import torch
        >>> hook_count(torch.nn.Sequential(torch.nn.Linear(2, 2)))
        0
    """
    total = 0
    for m in model.modules():
        for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
            total += len(getattr(m, name, {}) or {})
    return total


@contextlib.contextmanager
def frozen(model: Any) -> Iterator[Any]:
    """Eval mode and ``requires_grad=False`` on every parameter, inside the one state guard.

    Everything the guard covers (:func:`nbexplain.guard.guard`: every submodule's ``training``
    flag, ``requires_grad``, ``.grad``, buffers, hooks, autograd mode, random states) is restored
    on exit, also when the body raises.

    Example:
        >>> import torch
        >>> m = torch.nn.Linear(2, 2).train()
        >>> with frozen(m):
        ...     m.training, m.weight.requires_grad
        (False, False)
        >>> m.training, m.weight.requires_grad
        (True, True)
    """
    with guard(model, eval_mode=True, freeze=True):
        yield model


def param_dtype(model: Any, fallback: Any = None) -> Any:
    """The floating dtype of the model's first floating parameter (``fallback`` if none).

    Example:
        >>> import torch
        >>> param_dtype(torch.nn.Linear(2, 2).double())
        torch.float64
    """
    import torch

    for p in model.parameters():
        if torch.is_floating_point(p):
            return p.dtype
    return fallback if fallback is not None else torch.float32


# -- inputs ---------------------------------------------------------------------------------------
def as_model_tensor(x: Any, model: Any, name: str = "inputs") -> Any:
    """``x`` (tensor or array) as a detached tensor on the model's device; floats in its dtype.

    Always a copy: the tensor never shares memory with the caller's array or tensor, so a model
    whose first operation is in place (``ReLU(inplace=True)``) cannot write into the user's data.

    Example:
        >>> import torch, numpy as np
        >>> as_model_tensor(np.zeros((1, 2), np.float32), torch.nn.Linear(2, 1).double()).dtype
        torch.float64
    """
    import torch

    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        arr = np.asarray(x)
        if arr.dtype == object:
            raise TypeError(f"{name} must be a numeric tensor or array, got dtype object")
        t = torch.from_numpy(np.ascontiguousarray(arr))
    source = t
    if torch.is_floating_point(t):
        t = t.to(device=model_device(model), dtype=param_dtype(model, t.dtype))
    else:
        t = t.to(device=model_device(model))
    if t is source or t.untyped_storage().data_ptr() == source.untyped_storage().data_ptr():
        t = t.clone()
    return t


def to_input_tensor(inputs: Any, model: Any, name: str = "inputs") -> Any:
    """``inputs`` (tensor or array, any device) as a float tensor on the model's device and dtype.

    Raises ``TypeError`` for integer or boolean data (gradients need floats) and ``ValueError`` for
    a missing sample axis.

    Example:
        >>> import torch, numpy as np
        >>> to_input_tensor(np.zeros((2, 3)), torch.nn.Linear(3, 1)).dtype
        torch.float32
    """
    import torch

    t = as_model_tensor(inputs, model, name)
    if not torch.is_floating_point(t):
        raise TypeError(f"{name} have dtype {t.dtype}; gradients need floating point: cast to float first "
                        "(x.float() or x.astype(np.float32)); for token ids, attribute to the embedding layer with "
                        "LayerIntegratedGradients(model, layer=model.get_input_embeddings()) or use "
                        "nbx.TextExplainer(model, tokenizer)")
    if t.ndim < 2:
        raise ValueError(f"{name} must be a batch (n, ...), got shape {tuple(t.shape)}; add the sample axis "
                         "with x[None]")
    if t.shape[0] == 0:
        raise ValueError(f"{name} hold no samples (shape {tuple(t.shape)}); pass at least one")
    return check_finite(t, name)


_BASELINE_FIX = ("Pass finite baselines: a number, a name ('zeros', 'blur', 'uniform') or an array without NaN "
                 "or inf")


def baseline_tensor(baselines: Any, x: Any, name: str = "baselines") -> Any:
    """Baselines broadcast to ``x``'s shape: None (zeros), a number, one sample, or one per sample.

    Raises ``ValueError`` naming both shapes when they do not broadcast.

    Example:
        >>> import torch
        >>> baseline_tensor(0.5, torch.zeros(2, 3))[1].tolist()
        [0.5, 0.5, 0.5]
    """
    import torch

    if baselines is None:
        return torch.zeros_like(x)
    if isinstance(baselines, (int, float)):
        return check_finite(torch.full_like(x, float(baselines)), name, fix=_BASELINE_FIX)
    b = baselines.detach() if isinstance(baselines, torch.Tensor) else torch.as_tensor(np.asarray(baselines))
    b = b.to(device=x.device, dtype=x.dtype)
    if b.shape == x.shape[1:]:
        b = b.unsqueeze(0)
    if b.shape[1:] != x.shape[1:] or b.shape[0] not in (1, x.shape[0]):
        raise ValueError(f"{name} have shape {tuple(b.shape)} but inputs have shape {tuple(x.shape)}; pass one "
                         f"baseline of shape {tuple(x.shape[1:])}, one per sample {tuple(x.shape)}, or a number")
    return check_finite(b.expand_as(x).clone(), name, fix=_BASELINE_FIX)


# -- outputs and targets --------------------------------------------------------------------------
def model_outputs(model: Any, x: Any) -> Any:
    """Run the model and return its output as (n, k) (a 1-D output becomes (n, 1)).

    Example:
        >>> import torch
        >>> model_outputs(torch.nn.Linear(3, 2), torch.zeros(4, 3)).shape
        torch.Size([4, 2])
    """
    import torch

    try:
        # a copy: a model whose first operation is in place (ReLU(inplace=True)) must not rewrite x,
        # which the method goes on using (and which may be the caller's data)
        out = model(x.clone())
    except RuntimeError as exc:
        hint = explain_model_error(exc, x, model)
        if hint is not None:
            raise hint from exc
        raise
    logits = getattr(out, "logits", None)
    if not isinstance(out, torch.Tensor) and isinstance(logits, torch.Tensor):
        out = logits  # a transformers ModelOutput: its logits are what is explained
    elif isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        raise GradientError(f"the model returned a {type(out).__name__} of {len(out)} tensors; wrap it to return "
                            "one (n, k) tensor of outputs, e.g. lambda x: model(x)[0]")
    if not isinstance(out, torch.Tensor):
        raise GradientError(f"the model returned {type(out).__name__}; gradient methods need a tensor (n, k) "
                            "of outputs (wrap the model to return the logits)")
    n = x.shape[0]
    if out.ndim == 0 or out.shape[0] != n:
        raise GradientError(f"the model returned shape {tuple(out.shape)} for {n} inputs; the first axis must "
                            "be the sample axis")
    return check_model_output(out.reshape(n, -1), f"{type(model).__name__}.forward")


def resolve_targets(model: Any, x: Any, target: Any, chunk: int = 256) -> Any:
    """Output indices (int64 numpy, one per sample) for ``target``; a callable is returned as is.

    ``None`` runs the model (without gradients, in chunks) and takes each sample's top output.

    Example:
        >>> import torch
        >>> resolve_targets(torch.nn.Linear(2, 3), torch.zeros(2, 2), 2).tolist()
        [2, 2]
    """
    import torch

    if is_callable_target(target):
        return target
    if target is None:
        with torch.no_grad():
            outs = [model_outputs(model, x[i:i + chunk]).float().cpu().numpy() for i in range(0, x.shape[0], chunk)]
        return resolve_target(None, np.concatenate(outs))
    # Explicit indices need no forward pass: the upper bound is checked by objective(), against
    # the outputs the method computes anyway.
    try:
        return target_indices(target, x.shape[0])
    except ValueError as exc:
        if "out of range" not in str(exc):
            raise
        with torch.no_grad():  # name the valid range in the error: needs the output count
            k = model_outputs(model, x[:1]).shape[1]
        return target_indices(target, x.shape[0], k)


def objective(out: Any, targets: Any) -> Any:
    """The scalar per sample that is explained: ``out[i, targets[i]]``, or ``targets(out)``.

    Example:
        >>> import torch
        >>> objective(torch.eye(2), torch.tensor([1, 1])).tolist()
        [0.0, 1.0]
    """
    import torch

    n = out.shape[0]
    if callable(targets) and not isinstance(targets, (np.ndarray, torch.Tensor)):
        return callable_objective(targets, out, n)
    k = out.shape[1]
    index = torch.as_tensor(targets, device=out.device).reshape(n, 1)
    top = int(index.max()) if n else 0
    if top >= k:
        raise ValueError(f"target {top} is out of range: the model has {k} outputs, valid targets are 0..{k - 1}")
    return out.gather(1, index).reshape(n)


def input_gradients(model: Any, x: Any, targets: Any, *, autocast: Any = None) -> tuple[Any, Any]:
    """Gradient of the explained scalar per sample with respect to ``x``; and those scalars.

    Call inside :func:`frozen`. ``targets``: one index per row of ``x`` or a callable.
    ``autocast``: a dtype (``torch.bfloat16``) to run the forward pass under autocast; the
    gradient is returned in ``x``'s dtype. Raises :class:`GradientError` when the output does not
    depend differentiably on the input.

    Example:
        >>> import torch
        >>> m = torch.nn.Linear(2, 1)
        >>> with frozen(m):
        ...     g, _ = input_gradients(m, torch.ones(3, 2), torch.zeros(3, dtype=torch.long))
        >>> torch.allclose(g, m.weight.expand(3, 2))
        True
    """
    import torch

    leaf = x.detach().requires_grad_(True)
    with torch.enable_grad(), _autocast(leaf.device, autocast):
        selected = objective(model_outputs(model, leaf), targets)  # model_outputs runs on a copy
        check_differentiable(selected)
        (grad,) = torch.autograd.grad(selected.sum(), leaf, allow_unused=True)
    if grad is None:
        raise GradientError("the explained output does not depend on the input (its gradient is None); check "
                            "that forward uses its argument and does not detach it")
    return grad.to(x.dtype), selected.detach()


def check_differentiable(selected: Any) -> None:
    """Raise :class:`GradientError` when ``selected`` carries no gradient back to the input."""
    import torch

    if not selected.requires_grad or not torch.is_floating_point(selected):
        raise GradientError(
            f"the model output does not depend differentiably on the input (dtype {selected.dtype}, "
            f"requires_grad={selected.requires_grad}): the forward pass detaches it, runs under no_grad, or "
            "ends in argmax/round; return the logits instead")


def _autocast(device: Any, dtype: Any) -> Any:
    import torch

    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


# -- chunking and memory --------------------------------------------------------------------------
def is_oom(exc: BaseException) -> bool:
    """True for a CUDA (or other accelerator) out-of-memory error."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def saved_bytes(fn: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``fn()`` and return its result and the bytes autograd saved for backward meanwhile.

    Uses ``saved_tensors_hooks``, so it works the same on CPU and GPU and needs no knowledge of
    the architecture; the auto chunk size comes from this measure.

    Example:
        >>> import torch
        >>> _, n = saved_bytes(lambda: (torch.ones(4, requires_grad=True) * 2).sum())
        >>> n >= 0
        True
    """
    import torch

    seen: dict[int, int] = {}

    def pack(t: Any) -> Any:
        seen[id(t)] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = fn()
    return result, int(sum(seen.values()))


def per_input_bytes(model: Any, x1: Any, targets: Any, *, autocast: Any = None) -> int:
    """Bytes one input costs in a forward + backward pass (tensors saved for backward + its input).

    Measured on one input with :func:`saved_bytes`. Call inside :func:`frozen`.
    """
    t1 = targets[:1] if not callable(targets) else targets
    _, saved = saved_bytes(lambda: input_gradients(model, x1, t1, autocast=autocast))
    return saved + 3 * x1.numel() * x1.element_size()


def chunk_for(cost: int, device: Any, cpu_memory_budget: int = CPU_MEMORY_BUDGET) -> int:
    """Inputs per pass for a per-input ``cost`` in bytes (see :func:`auto_chunk`)."""
    import torch

    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        budget = int(free * GPU_MEMORY_FRACTION)
    else:
        budget = int(cpu_memory_budget)
    return int(max(1, min(MAX_CHUNK, budget // max(cost, 1))))


def auto_chunk(model: Any, x1: Any, targets: Any, *, autocast: Any = None,
               cpu_memory_budget: int = CPU_MEMORY_BUDGET) -> int:
    """The largest number of inputs of ``x1``'s shape one forward + backward pass may take.

    GPU: ``GPU_MEMORY_FRACTION`` of the free memory; CPU: ``cpu_memory_budget``; divided by the
    measured :func:`per_input_bytes`, at least 1 and at most ``MAX_CHUNK``.

    Example:
        >>> import torch
        >>> m = torch.nn.Linear(3, 2)
        >>> with frozen(m):
        ...     auto_chunk(m, torch.zeros(1, 3), torch.tensor([0])) == MAX_CHUNK
        True
    """
    cost = per_input_bytes(model, x1, targets, autocast=autocast)
    return chunk_for(cost, x1.device, cpu_memory_budget)


def run_chunked(fn: Callable[[int, int], Any], total: int, chunk: int,
                on_shrink: Callable[[int], None] | None = None) -> int:
    """Call ``fn(start, stop)`` over ``range(total)`` in chunks; on OOM halve the chunk and retry.

    Returns the chunk size that worked last (so a caller can report it). An OOM with a chunk of
    1 is re-raised as :class:`MemoryError` with advice.

    Example:
        >>> spans = []
        >>> run_chunked(lambda a, b: spans.append((a, b)), 5, 2)
        2
        >>> spans
        [(0, 2), (2, 4), (4, 5)]
    """
    import torch

    start = 0
    while start < total:
        stop = min(total, start + chunk)
        try:
            fn(start, stop)
        except Exception as exc:
            if not is_oom(exc):
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if chunk == 1:
                raise MemoryError("out of memory with a single input per pass: the model does not fit for one "
                                  "input; use a smaller input, a smaller model, or dtype=torch.bfloat16") from exc
            chunk = max(1, chunk // 2)
            if on_shrink is not None:
                on_shrink(chunk)
            continue
        start = stop
    return chunk


# -- the base class -------------------------------------------------------------------------------
class GradientExplainer:
    """Base of every gradient method: one call, ``explain(inputs, target=None, baselines=None)``.

    Subclasses set ``method`` and implement ``_attribute(x, targets, baselines, ctx)`` returning
    ``(values, diagnostics)``: values a tensor shaped like the method's attribution (usually like
    ``x``), diagnostics a dict of per-sample numpy arrays (for example ``"delta"``); a
    ``"base_values"`` entry, if present, becomes ``Explanation.base_values``, and an ``"outputs"``
    entry (the explained output at ``x``, per sample) saves the forward pass that would
    otherwise compute ``Explanation.outputs``; a ``"layout"`` entry overrides the class's
    :attr:`layout` for this call. ``ctx`` is a
    :class:`RunContext` with the chunk size, the autocast dtype and helpers. Everything else
    (input conversion, targets, model state, chunking) is done here, the same for every method.

    ``internal_batch_size``: ``"auto"`` (default; see :func:`auto_chunk`) or an int, the most
    inputs one forward + backward pass takes (for Integrated Gradients: sample x step pairs).
    ``dtype``: ``None`` (the model's dtype) or ``torch.bfloat16`` / ``torch.float16`` to run the
    forward and backward passes under autocast (GPU; on CPU bfloat16 works but is slow).

    Example:
        >>> import torch
        >>> class Plain(GradientExplainer):
        ...     method = "plain"
        ...     def _attribute(self, x, targets, baselines, ctx):
        ...         return ctx.gradients(x, targets)[0], {}
        >>> Plain(torch.nn.Linear(2, 2)).explain(torch.ones(3, 2), target=0).values.shape
        (3, 2)
    """

    method = "gradient"
    uses_baselines = False
    #: ``Explanation.layout`` of the values (None: by rank, see :func:`nbexplain.explanation.default_layout`).
    layout: str | None = None
    #: The values are shaped like the inputs (one Explanation per input for tuple inputs); False
    #: for methods whose values are shaped like a layer or a map (one Explanation).
    attributes_inputs = True
    #: Integer inputs (token ids) are accepted: the method differentiates inside the model.
    integer_inputs = False
    #: Tuple inputs and per-sample ``additional_forward_args`` are supported (packed, see
    #: :mod:`nbexplain.explainers.gradients._inputs`); a method sets it once it reads them right.
    tuple_inputs = False

    def __init__(self, model: Any, *, internal_batch_size: int | str = "auto", dtype: Any = None,
                 cpu_memory_budget: int = CPU_MEMORY_BUDGET, preprocess: Callable[[Any], Any] | None = None) -> None:
        if not hasattr(model, "parameters") or not callable(model):
            raise TypeError(f"{type(self).__name__} needs a torch.nn.Module, got {type(model).__name__}; "
                            "model-agnostic methods (shap, lime) take any predict function")
        if internal_batch_size != "auto" and (not isinstance(internal_batch_size, int)
                                              or isinstance(internal_batch_size, bool) or internal_batch_size < 1):
            raise ValueError(f"internal_batch_size must be 'auto' or a positive int, got {internal_batch_size!r}")
        check_int(cpu_memory_budget, "cpu_memory_budget", min=1)
        if preprocess is not None and not callable(preprocess):
            raise TypeError(f"preprocess must be a callable tensor -> tensor (e.g. torchvision's Normalize), got "
                            f"{type(preprocess).__name__}")
        self.model = model
        self.internal_batch_size = internal_batch_size
        self.dtype = dtype
        self.cpu_memory_budget = cpu_memory_budget
        self.preprocess = preprocess

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.model).__name__})"

    def params(self) -> dict[str, Any]:
        """The method's parameters as recorded in ``Explanation.params`` (override to add)."""
        return {"internal_batch_size": self.internal_batch_size, "dtype": str(self.dtype) if self.dtype else None,
                "preprocess": None if self.preprocess is None else _describe(self.preprocess)}

    def explain(self, inputs: Any, target: Any = None, baselines: Any = None, *,
                additional_forward_args: Any = None, **options: Any) -> Any:
        """Attribute the explained output of each sample in ``inputs`` to its input features.

        ``inputs``: one tensor or array ``(n, ...)``, or a tuple of them (the model's positional
        inputs, as Captum takes them); ``additional_forward_args``: further positional arguments
        of the model (a tensor with the sample axis, such as an attention mask, is sliced with the
        samples; anything else is passed as is). The model runs as
        ``model(*inputs, *additional_forward_args)`` (after ``preprocess`` on the first input).
        ``target``: None (predicted output), an int, one int per sample, or a callable of the
        model output returning one scalar per sample. ``baselines``: for methods that use them
        (None = zeros, a number, one sample, one per sample; a tuple with one per input for tuple
        inputs); others reject them. ``options`` override constructor options for this call
        (e.g. ``steps=128``).

        Returns one :class:`~nbexplain.Explanation`; for tuple inputs, a tuple with one per input
        (methods whose values are shaped like a layer return one).

        Example:
            >>> import torch
            >>> model = torch.nn.Bilinear(2, 3, 1)
            >>> from nbexplain.explainers.gradients.saliency import GradientXInput
            >>> e1, e2 = GradientXInput(model).explain((torch.ones(4, 2), torch.ones(4, 3)), target=0)
            >>> e1.values.shape, e2.values.shape
            ((4, 2), (4, 3))
        """
        from nbexplain.explainers.gradients._inputs import InputSpec, Runner

        if baselines is not None and not self.uses_baselines:
            raise TypeError(f"{type(self).__name__} takes no baselines; Integrated Gradients, DeepLIFT and "
                            "expected gradients do")
        unknown = set(options) - set(self.call_options())
        if unknown:
            raise TypeError(f"unknown option(s) {sorted(unknown)} for {type(self).__name__}; valid: "
                            f"{sorted(self.call_options())}")
        spec, x = InputSpec.build(inputs, additional_forward_args, self.model)
        self._check_inputs(spec, x)
        model = self.model
        runner = model if not spec.packed and self.preprocess is None else Runner(model, spec, self.preprocess)
        saved = {k: getattr(self, k) for k in options}
        try:
            for k, v in options.items():
                setattr(self, k, v)
            self._use_model(runner)
            with frozen(model):
                targets = resolve_targets(runner, x, target)
                ctx = RunContext(self, x, targets, spec)
                values, diagnostics = self._attribute(x, targets, baselines, ctx)
                outputs = diagnostics.pop("outputs", None)
                if outputs is None:
                    outputs = ctx.outputs(x, targets)
        finally:
            self._use_model(model)
            for k, v in saved.items():
                setattr(self, k, v)
        callable_target = callable(targets) and not isinstance(targets, np.ndarray)
        own_layout = diagnostics.pop("layout", None)  # a method may say how this call's values are laid out
        common = {
            "target": None if callable_target else targets,
            "outputs": outputs,
            "method": self.method,
            "params": {**self.params(), "target": "callable" if callable_target else "index",
                       "internal_batch_size_used": ctx.chunk_used},
            "diagnostics": diagnostics,
            "base_values": diagnostics.pop("base_values", None),
        }
        data = [d.detach().float().cpu().numpy() for d in spec.split(x)] if spec.packed else \
            [x.detach().float().cpu().numpy()]
        values = values.detach().float().cpu().numpy()
        if not spec.as_tuple:
            layout = own_layout or self.layout
            if layout is None and values.shape == data[0].shape:  # shaped like the input: its layout
                layout = input_layout(model, x)  # "HWC" for a channels-last Keras model's images
            return Explanation(values, data=data[0], layout=layout, **common)
        if not self.attributes_inputs:
            return Explanation(values, data=data[0], layout=own_layout or self.layout, **common)
        return tuple(Explanation(v, data=d, layout=self.layout, **common) for v, d in zip(spec.split(values), data,
                                                                                         strict=True))

    def _check_inputs(self, spec: Any, x: Any) -> None:
        """Refuse what the method cannot explain: integer inputs, tuple inputs it does not support."""
        import torch

        if spec.packed and not self.tuple_inputs:
            raise TypeError(f"{type(self).__name__} takes one input tensor; tuple inputs and additional_forward_args "
                            "are supported by Saliency, GradientXInput, SmoothGrad, IntegratedGradients and the layer "
                            "methods (LayerIntegratedGradients, LayerGradientXActivation)")
        integer = spec.integer if spec.packed else [not torch.is_floating_point(x)]
        bad = [k for k, flag in enumerate(integer) if flag]
        if bad and not self.integer_inputs:
            which = "inputs" if not spec.as_tuple else f"inputs[{bad[0]}]"
            dtype = spec.inputs[bad[0]].dtype
            kind = "booleans" if dtype == torch.bool else "integers"
            raise TypeError(
                f"{which} have dtype {dtype}: {kind}, which have no gradient, so {type(self).__name__} cannot attribute "
                "to them. For token ids, attribute to the embedding layer with a layer method: "
                "LayerIntegratedGradients(model, layer=model.get_input_embeddings()) (or the model's embedding "
                "module), or use nbx.TextExplainer(model, tokenizer) for a transformers classifier. For other "
                "integer data that is really continuous, cast it to float first (x.float()).")

    def _use_model(self, model: Any) -> None:
        """Point the method at what it runs during one call (the model, or a Runner around it)."""
        self.model = model

    def call_options(self) -> Sequence[str]:
        """Names ``explain(**options)`` accepts (constructor options of the method)."""
        return ("internal_batch_size", "dtype")

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError


class RunContext:
    """What a method's ``_attribute`` needs during one ``explain`` call.

    ``gradients(batch, targets)`` returns input gradients for any number of inputs, chunked and
    OOM-safe; ``chunk`` is the current chunk size (auto-measured on first use).
    """

    def __init__(self, explainer: GradientExplainer, x: Any, targets: Any, spec: Any = None) -> None:
        from nbexplain.explainers.gradients._inputs import InputSpec

        self.explainer = explainer
        self.model = explainer.model
        self.autocast = explainer.dtype
        self.x = x
        self.targets = targets
        self.spec = spec if spec is not None else InputSpec.single(x)
        self._chunk: int | None = None
        self.chunk_used: int | None = None

    def baselines(self, baselines: Any, resolve: Callable[[Any, Any], Any], several: bool = False) -> Any:
        """``baselines`` for :attr:`x` by the method's rule ``resolve(x, b)``, per input for tuple inputs
        (see :meth:`nbexplain.explainers.gradients._inputs.InputSpec.baselines`).

        Example:
            >>> import torch
            >>> m = torch.nn.Linear(2, 1)
            >>> ctx = RunContext(GradientExplainer(m), torch.ones(3, 2), None)
            >>> ctx.baselines(0.5, lambda x, b: baseline_tensor(b, x))[0].tolist()
            [0.5, 0.5]
        """
        return self.spec.baselines(self.x, baselines, resolve, several)

    def first_input(self, x: Any) -> Any:
        """The first input of the model in its own shape (``x`` itself unless inputs are packed)."""
        return self.spec.unpack(x)[0] if self.spec.packed else x

    @property
    def chunk(self) -> int:
        """Inputs per forward + backward pass (measured once per call when ``"auto"``)."""
        if self._chunk is None:
            ibs = self.explainer.internal_batch_size
            if ibs == "auto":
                self._chunk = auto_chunk(self.model, self.x[:1], self._index(self.targets, [0]),
                                         autocast=self.autocast, cpu_memory_budget=self.explainer.cpu_memory_budget)
            else:
                self._chunk = int(ibs)
        return self._chunk

    def no_grad_rows(self) -> int:
        """Rows per forward pass without gradients (activations, outputs): the chunk when it is
        known, else 64 (a pass without gradients keeps nothing for backward, so it costs far less)."""
        return max(1, min(self._chunk or 64, 256))

    def shrink(self, chunk: int) -> None:
        """Record a smaller chunk after an out-of-memory error."""
        self._chunk = chunk

    def chunked(self, step: Callable[[int, int], None], total: int) -> int:
        """Run ``step(a, b)`` over ``range(total)`` items in chunks of :attr:`chunk` (OOM-safe).

        With ``internal_batch_size="auto"`` and no chunk known yet, the first item runs alone and
        the memory its pass saved for backward sets the chunk, so measuring costs no extra
        pass. An item is whatever one row of ``step``'s forward pass is (an input, an IG point).

        Example:
            >>> import torch
            >>> m = torch.nn.Linear(2, 1)
            >>> ctx = RunContext(GradientExplainer(m, internal_batch_size=4), torch.ones(3, 2), None)
            >>> calls = []
            >>> ctx.chunked(lambda a, b: calls.append((a, b)), 10), calls    # the chunk size used, the steps
            (4, [(0, 4), (4, 8), (8, 10)])
            >>> ctx = RunContext(GradientExplainer(m), torch.ones(3, 2), None)    # "auto": item 0 alone first
            >>> calls = []; chunk = ctx.chunked(lambda a, b: calls.append((a, b)), 10); calls[0]
            (0, 1)
        """
        start = 0
        if self._chunk is None and self.explainer.internal_batch_size == "auto" and total > 0:
            _, saved = saved_bytes(lambda: step(0, 1))
            cost = saved + 3 * self.x[:1].numel() * self.x.element_size()
            self._chunk = chunk_for(cost, self.x.device, self.explainer.cpu_memory_budget)
            start = 1

        def shifted(a: int, b: int) -> None:
            step(a + start, b + start)

        self.chunk_used = run_chunked(shifted, total - start, self.chunk, on_shrink=self.shrink)
        return self.chunk_used

    @staticmethod
    def _index(targets: Any, rows: Any) -> Any:
        if callable(targets) and not isinstance(targets, np.ndarray):
            return targets
        return np.asarray(targets)[rows]

    def gradients(self, batch: Any, targets: Any, rows: Any = None) -> tuple[Any, Any]:
        """Input gradients and explained outputs for every input in ``batch`` (chunked).

        ``targets`` has one entry per row of ``batch`` (or is a callable). ``rows`` is unused by
        the base and kept for methods that map rows to samples.
        """
        import torch

        n = batch.shape[0]
        grads = torch.empty_like(batch)
        outs = torch.empty(n, dtype=torch.float64, device=batch.device)

        def step(a: int, b: int) -> None:
            g, s = input_gradients(self.model, batch[a:b], self._index(targets, slice(a, b)), autocast=self.autocast)
            grads[a:b] = g
            outs[a:b] = s.double()

        self.chunked(step, n)
        return grads, outs

    def outputs(self, x: Any, targets: Any) -> np.ndarray:
        """The explained output of each sample at ``x`` (float64 numpy), without gradients."""
        import torch

        n = x.shape[0]
        res = np.empty(n, dtype=np.float64)
        step = max(1, min(self.chunk_used or 256, 256))
        with torch.no_grad(), _autocast(x.device, self.autocast):
            for a in range(0, n, step):
                b = min(n, a + step)
                res[a:b] = objective(model_outputs(self.model, x[a:b]), self._index(targets, slice(a, b))).double().cpu().numpy()
        return res


def _describe(fn: Any) -> str:
    """A short description of a callable for ``Explanation.params`` (``repr`` of a module, else its name)."""
    if hasattr(fn, "forward") or hasattr(fn, "transforms") or hasattr(fn, "mean"):
        return " ".join(repr(fn).split())[:200]
    return getattr(fn, "__qualname__", type(fn).__name__)


def riemann_or_gauss(rule: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in [0, 1] and weights (summing to 1) of an integration rule with ``steps`` points.

    ``"gausslegendre"`` (exact for polynomials of degree 2*steps-1), ``"riemann_left"``,
    ``"riemann_right"``, ``"riemann_middle"``, ``"riemann_trapezoid"``: the same points and
    weights as Captum's ``approximation_methods``, except the trapezoid rule, whose weights here
    sum to 1 (Captum's are ``1/n`` with halved ends, summing to ``(n-1)/n``, so its trapezoid
    results are smaller by that factor and its completeness error never vanishes).

    Example:
        >>> a, w = riemann_or_gauss("riemann_middle", 2)
        >>> a.tolist(), w.tolist()
        ([0.25, 0.75], [0.5, 0.5])
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if rule == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return (nodes + 1) / 2, weights / 2
    if rule == "riemann_trapezoid":
        if steps < 2:
            raise ValueError("riemann_trapezoid needs steps >= 2")
        alphas = np.linspace(0, 1, steps)
        w = np.full(steps, 1 / (steps - 1))
        w[0] = w[-1] = 0.5 / (steps - 1)
        return alphas, w
    shift = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}
    if rule not in shift:
        known = ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"]
        raise ValueError(f"unknown integration rule {rule!r}; choose one of {known}")
    return (np.arange(steps) + shift[rule]) / steps, np.full(steps, 1 / steps)
