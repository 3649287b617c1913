"""Several inputs, extra forward arguments and a preprocessing step, seen by the engine as one tensor.

Every gradient method takes Captum's calling convention::

    method.explain((input_ids, pixel_values), additional_forward_args=(attention_mask,),
                   baselines=(ids_baseline, 0.0))

and runs ``model(*inputs, *additional_forward_args)``. The engine itself works on one tensor whose
first axis is the sample axis, so :class:`InputSpec` packs the inputs and the per-sample extra
arguments (tensors whose first axis is the sample axis, e.g. an attention mask) into one
``(n, D)`` tensor, and :class:`Runner` is the module the engine calls: it unpacks a batch of
rows into the original shapes and dtypes, applies ``preprocess`` to the first input and calls the
model. Only input columns are attributed; the extra columns are held fixed (their baseline is
themselves, and no noise is added to them). Other extra arguments (a flag, ``None``, a tensor
without the sample axis) are passed as they are to every call.

Integer inputs (token ids) travel in the packed tensor as exact floats (float64 when the model's
dtype cannot hold them exactly) and are cast back to their dtype for the model, so only layer
methods, which differentiate inside the model, can explain them.

A single tensor with no extra arguments and no ``preprocess`` is not packed and needs no runner.

Example:
    >>> import torch
    >>> model = torch.nn.Bilinear(2, 3, 1)
    >>> spec, X = InputSpec.build((torch.ones(4, 2), torch.zeros(4, 3)), None, model)
    >>> X.shape, [tuple(p.shape) for p in spec.unpack(X)]
    (torch.Size([4, 5]), [(4, 2), (4, 3)])
    >>> Runner(model, spec)(X).shape
    torch.Size([4, 1])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nbexplain.validate import check_finite


@dataclass(frozen=True)
class _Part:
    """One packed tensor: its per-sample shape, dtype and column range; ``extra`` for an extra argument."""

    shape: tuple[int, ...]
    dtype: Any
    start: int
    stop: int
    extra: bool


def _exact_in(dtype: Any) -> int:
    """The largest integer a float dtype holds exactly (2**mantissa bits)."""
    import torch

    return round(2 / torch.finfo(dtype).eps)


class InputSpec:
    """How the engine's one tensor maps back to the model's inputs and extra arguments.

    Build it with :meth:`build`. ``packed`` is False for a single tensor without extras (then the
    tensor itself is the engine's input). ``n_inputs``: how many inputs are attributed;
    ``integer``: which of them hold integers (token ids).

    Example:
        >>> import torch
        >>> spec, X = InputSpec.build(torch.ones(3, 2), None, torch.nn.Linear(2, 1))
        >>> spec.packed, spec.n_inputs, X.shape
        (False, 1, torch.Size([3, 2]))
    """

    def __init__(self, parts: list[_Part], args: list[tuple[str, Any]], packed: bool, as_tuple: bool) -> None:
        self.parts = parts
        self.args = args  # per extra argument: ("packed", part index) or ("const", value)
        self.packed = packed
        self.as_tuple = as_tuple
        self.inputs = [p for p in parts if not p.extra]

    @property
    def n_inputs(self) -> int:
        """The number of attributed inputs."""
        return len(self.inputs)

    @property
    def integer(self) -> list[bool]:
        """Per attributed input: does it hold integers (token ids)?"""
        import torch

        return [not (torch.is_floating_point(torch.empty(0, dtype=p.dtype)) or p.dtype.is_complex)
                for p in self.inputs]

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def single(cls, x: Any) -> InputSpec:
        """The spec of one unpacked tensor ``x`` (nothing to pack)."""
        return cls([_Part(tuple(x.shape[1:]), x.dtype, 0, 0, False)], [], False, False)

    @classmethod
    def build(cls, inputs: Any, additional_forward_args: Any, model: Any) -> tuple[InputSpec, Any]:
        """The spec and the engine's tensor for ``inputs`` (a tensor, or a tuple / list of them)
        and ``additional_forward_args`` (None, one value, or a tuple of them), on the model's device.

        Raises ``ValueError`` naming the input whose sample count differs from the first one's.
        """
        import torch

        from nbexplain.explainers.gradients._engine import as_model_tensor, param_dtype

        as_tuple = isinstance(inputs, (tuple, list))
        raw = list(inputs) if as_tuple else [inputs]
        if not raw:
            raise ValueError("inputs is an empty tuple; pass at least one tensor")
        tensors = [as_model_tensor(t, model, name=_name(k, as_tuple)) for k, t in enumerate(raw)]
        for k, t in enumerate(tensors):
            if t.ndim < 2 and not (len(tensors) > 1 and t.ndim == 1):
                raise ValueError(f"{_name(k, as_tuple)} must be a batch (n, ...), got shape {tuple(t.shape)}; add the "
                                 "sample axis with x[None]")
            if t.shape[0] == 0:
                raise ValueError(f"{_name(k, as_tuple)} hold no samples (shape {tuple(t.shape)}); pass at least one")
            check_finite(t, _name(k, as_tuple))
        n = tensors[0].shape[0]
        for k, t in enumerate(tensors[1:], 1):
            if t.shape[0] != n:
                raise ValueError(f"inputs[{k}] has {t.shape[0]} samples but inputs[0] has {n}; every input needs "
                                 "the same sample axis")
        extras = [] if additional_forward_args is None else (
            list(additional_forward_args) if isinstance(additional_forward_args, (tuple, list))
            else [additional_forward_args])
        args: list[tuple[str, Any]] = []
        per_sample: list[Any] = []
        for value in extras:
            if isinstance(value, torch.Tensor) and value.ndim >= 1 and value.shape[0] == n:
                args.append(("packed", len(tensors) + len(per_sample)))
                per_sample.append(as_model_tensor(value, model, name="additional_forward_args"))
            else:
                args.append(("const", value))
        packed = len(tensors) > 1 or bool(per_sample) or as_tuple
        if not packed:
            return cls.single(tensors[0]), tensors[0]
        everything = tensors + per_sample
        dtype = param_dtype(model, torch.float32)
        if dtype not in (torch.float32, torch.float64):
            dtype = torch.float32
        for t in everything:
            if not torch.is_floating_point(t) and t.numel() and int(t.abs().max()) >= _exact_in(dtype):
                dtype = torch.float64  # token ids beyond what the model's float holds exactly
        parts, start = [], 0
        for k, t in enumerate(everything):
            width = int(np.prod(t.shape[1:], dtype=np.int64))
            parts.append(_Part(tuple(t.shape[1:]), t.dtype, start, start + width, k >= len(tensors)))
            start += width
        spec = cls(parts, args, True, as_tuple)
        return spec, spec.pack(everything, dtype)

    def pack(self, tensors: Sequence[Any], dtype: Any = None) -> Any:
        """Tensors, one per part (inputs then per-sample extras), as one ``(n, D)`` tensor."""
        import torch

        if not self.packed:
            return tensors[0]
        dtype = dtype or tensors[0].dtype
        return torch.cat([t.reshape(t.shape[0], -1).to(dtype) for t in tensors], 1)

    # -- unpacking --------------------------------------------------------------------------------
    def unpack(self, X: Any) -> list[Any]:
        """The parts of a batch of packed rows, in their shapes and dtypes (integers rounded back)."""
        import torch

        if not self.packed:
            return [X]
        out = []
        for p in self.parts:
            t = X[:, p.start:p.stop].reshape(X.shape[0], *p.shape)
            if not torch.is_floating_point(torch.empty(0, dtype=p.dtype)):
                t = t.detach().round().to(p.dtype)
            elif t.dtype != p.dtype:
                t = t.to(p.dtype)
            out.append(t)
        return out

    def call_args(self, X: Any) -> list[Any]:
        """The positional arguments of one model call for the packed rows ``X``."""
        parts = self.unpack(X)
        n_in = self.n_inputs
        extra = [parts[ref] if kind == "packed" else ref for kind, ref in self.args]
        return parts[:n_in] + extra

    def split(self, values: Any) -> list[Any]:
        """Per-input arrays ``(n, *input shape)`` of engine-shaped values ``(n, D)`` (numpy or torch)."""
        if not self.packed:
            return [values]
        return [values[:, p.start:p.stop].reshape(values.shape[0], *p.shape) for p in self.inputs]

    def input_mask(self, X: Any, float_only: bool = True) -> Any:
        """A ``(D,)`` 0/1 tensor marking the columns of attributed (floating-point) inputs."""
        import torch

        mask = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
        for p, integer in zip(self.inputs, self.integer, strict=True):
            if not (float_only and integer):
                mask[p.start:p.stop] = 1
        return mask

    # -- baselines --------------------------------------------------------------------------------
    def baselines(self, X: Any, baselines: Any, resolve: Callable[[Any, Any], Any], several: bool) -> Any:
        """Baselines in the engine's space, resolved per input by ``resolve(x_k, b_k)``.

        ``resolve`` is the method's own rule for one tensor: it returns ``(1 or n, *shape)``, or
        ``(1 or n, m, *shape)`` with ``several=True``. Packed inputs take ``None`` (each input's
        default) or one baseline per input (a tuple or list; a single input given without a
        tuple takes its baselines as they are); the extra columns' baseline is the extra itself.
        """
        import torch

        if not self.packed:
            return resolve(X, baselines)
        k = self.n_inputs
        if not self.as_tuple:  # one input, packed with its extra arguments: its baselines as given
            per = [baselines]
        elif baselines is None:
            per = [None] * k
        elif isinstance(baselines, (tuple, list)) and len(baselines) == k:
            per = list(baselines)
        else:
            raise ValueError(f"baselines for {k} inputs must be None or a tuple of {k} baselines (one per input, "
                             f"each as for a single input), got {type(baselines).__name__}"
                             + (f" of length {len(baselines)}" if isinstance(baselines, (tuple, list)) else ""))
        parts = self.unpack(X)
        resolved = [resolve(parts[i], per[i]) for i in range(k)]
        fixed = [t.unsqueeze(1) if several else t for t in parts[k:]]  # extras stay what they are
        everything = resolved + fixed
        rows = max(t.shape[0] for t in everything)
        lead = 2 if several else 1
        m = max(t.shape[1] for t in everything) if several else 1
        flat = []
        for t in everything:
            t = t.to(X.dtype)
            t = t.expand(rows, *t.shape[1:]) if t.shape[0] == 1 else t
            if several:
                t = t.expand(rows, m, *t.shape[2:]) if t.shape[1] == 1 else t
                if t.shape[1] != m:
                    raise ValueError(f"the inputs have different numbers of baselines ({t.shape[1]} and {m}); give "
                                     "each input one baseline or the same number")
            flat.append(t.reshape(*t.shape[:lead], -1))
        return torch.cat(flat, lead)


def _name(k: int, as_tuple: bool) -> str:
    return f"inputs[{k}]" if as_tuple else "inputs"


class Runner:
    """What the engine calls instead of the model: unpack rows, ``preprocess``, call the model.

    Not a module of its own: ``named_modules``, ``parameters``, ``buffers`` and ``modules`` are the
    model's, so layer names, devices, dtypes and hooks are exactly the model's; the engine guards
    the model itself. A transformers ``ModelOutput`` is handled by the engine (its ``logits``).

    Example:
        >>> import torch
        >>> model = torch.nn.Linear(2, 1)
        >>> spec, X = InputSpec.build(torch.ones(3, 2), None, model)
        >>> r = Runner(model, spec, preprocess=lambda x: 2 * x)
        >>> bool(torch.allclose(r(X), model(2 * torch.ones(3, 2)))), [n for n, _ in r.named_modules()][0]
        (True, '')
    """

    def __init__(self, model: Any, spec: InputSpec, preprocess: Callable[[Any], Any] | None = None) -> None:
        self.inner = model
        self.spec = spec
        self.preprocess = preprocess

    @property
    def nbx_model(self) -> Any:
        """The model this runner calls (what layer lookups and layout rules read)."""
        return self.inner

    def __call__(self, X: Any) -> Any:
        args = self.spec.call_args(X)
        if self.preprocess is not None:
            args[0] = self.preprocess(args[0])
        return self.inner(*args)

    def __getattr__(self, name: str) -> Any:  # parameters, named_modules, modules, buffers, training...
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"Runner({type(self.inner).__name__})"
