"""DeepLIFT's Rescale rule as a ``TorchFunctionMode``: no module hooks, any way of calling an activation.

The model runs once on ``[x; x0]`` (inputs stacked on their baselines, ``2n`` rows). While
:class:`RescaleMode` is active, every elementwise nonlinearity (``nn.ReLU``, ``F.relu``,
``torch.relu_``, ``h.relu_()``, sigmoid, tanh, ELU, leaky ReLU, GELU, SiLU, softplus, ...) and every
max pooling (``F.max_pool1d/2d/3d``, ``nn.MaxPool*``) is replaced by a custom autograd function:
its forward is the real function, its backward uses DeepLIFT's multiplier

* elementwise: ``m = (f(x) - f(x0)) / (x - x0)``, or ``f'(x)`` where ``|x - x0| < eps``; both
  halves of the batch get the same multiplier (as in Captum). Unbounded functions (``rsqrt``,
  ``exp``, ``reciprocal``, powers: the norm and division rules) take the secant in float64, so a
  small ``x - x0`` does not divide float32 rounding into a huge multiplier;
* max pooling: Captum's rule (delta-out routed back through the argmax positions of both halves,
  divided by delta-in), except that positions shared by overlapping windows *accumulate* (the
  max pool's own gradient does the same); Captum's ``max_unpool`` overwrites them, which breaks
  summation-to-delta on torchvision's ``MaxPool2d(3, 2, 1)``.

In-place variants compute out of place and copy the result into their input, so code that drops
the return value (``h.relu_()``) sees the right values and autograd sees the write. Everything else
(linear, conv, batch norm in eval, additions, average pooling, reshapes) is linear and needs nothing.
Products of two input-dependent tensors (squeeze-excitation), divisions by one and layer / group /
RMS norms get exact multipliers (:mod:`~nbexplain.explainers.gradients._rescale_products`); operations with
no rule (attention's ``matmul`` and ``softmax``, max reductions, batch statistics) are collected in
``RescaleMode.unsupported`` and DeepLift refuses the model rather than return attributions that
do not sum to ``f(x) - f(x0)``.

Example:
    >>> import torch
    >>> x = torch.tensor([[2.0], [-1.0]], requires_grad=True)  # input row, baseline row
    >>> with RescaleMode(rows=2):
    ...     y = torch.relu(x)
    >>> [round(g, 4) for g in torch.autograd.grad(y.sum(), x)[0].flatten().tolist()]  # (2 - 0) / (2 - -1)
    [0.6667, 0.6667]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from nbexplain.explainers.gradients import _rescale_products as products

Tensor = torch.Tensor


# -- the autograd functions -------------------------------------------------------------------------
def _derivative(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Elementwise ``f'(x)`` of an elementwise function, by one local backward pass."""
    with torch.enable_grad():
        xr = x.detach().requires_grad_(True)
        y = fn(xr)
        (d,) = torch.autograd.grad(y, xr, torch.ones_like(y))
    return d


class _Rescale(torch.autograd.Function):
    """Forward: ``fn(inp)``; backward: the Rescale multiplier of row ``i`` and row ``n + i``."""

    @staticmethod
    def forward(ctx: Any, inp: Tensor, fn: Callable[[Tensor], Tensor], eps: float,  # type: ignore[override]
                wide: bool = False) -> Tensor:
        out = fn(inp)
        n = inp.shape[0] // 2
        if wide and inp.dtype in (torch.float32, torch.float16, torch.bfloat16):
            # the secant in float64: a float32 difference of two close values of a large function
            # (rsqrt of a small variance, exp) loses its digits once divided by a small dx
            x64 = inp.detach().double()
            dx, f = x64[:n] - x64[n:], fn(x64)
        else:  # activations: float32 arithmetic, as Captum's
            dx, f = inp[:n] - inp[n:], out
        small = dx.abs() < eps
        m = (f[:n] - f[n:]) / dx
        if bool(small.any()):
            m = torch.where(small, _derivative(fn, inp[:n]).to(m.dtype), m)
        ctx.save_for_backward(m.to(out.dtype))  # not inp/out: an in-place caller writes into inp afterwards
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:  # type: ignore[override]
        (m,) = ctx.saved_tensors
        n = m.shape[0]
        return torch.cat([grad[:n] * m, grad[n:] * m]), None, None, None


def _scatter_add(values: Tensor, indices: Tensor, shape: torch.Size) -> Tensor:
    """Route pooled ``values`` back to the input positions ``indices`` (a max pool's flat indices)."""
    res = values.new_zeros((shape[0], shape[1], int(torch.Size(shape[2:]).numel())))
    res.scatter_add_(2, indices.flatten(2), values.flatten(2))
    return res.reshape(shape)


class _RescaleMaxPool(torch.autograd.Function):
    """Max pooling with Captum's DeepLIFT rule; ``pool(inp)`` returns ``(out, indices)``."""

    @staticmethod
    def forward(ctx: Any, inp: Tensor, pool: Callable[[Tensor], tuple[Tensor, Tensor]],  # type: ignore[override]
                eps: float) -> tuple[Tensor, Tensor]:
        out, idx = pool(inp)
        n = inp.shape[0] // 2
        xmax = torch.maximum(out[:n], out[n:])
        dout = torch.cat([xmax - out[n:], out[:n] - xmax])
        ctx.save_for_backward(inp[:n] - inp[n:], dout, idx)
        ctx.eps = eps
        ctx.in_shape = inp.shape
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _grad_idx: Any) -> tuple[Tensor, None, None]:  # type: ignore[override]
        dx, dout, idx = ctx.saved_tensors
        n = dx.shape[0]
        routed = _scatter_add(grad * dout, idx, ctx.in_shape)
        rescaled = (routed[:n] + routed[n:]) / dx
        plain = _scatter_add(grad, idx, ctx.in_shape)
        small = dx.abs() < ctx.eps
        return torch.cat([torch.where(small, plain[:n], rescaled), torch.where(small, plain[n:], rescaled)]), None, None


# -- what is intercepted ----------------------------------------------------------------------------
# func -> (positional parameter names, defaults, maker of the out-of-place f(x) from the parameters)
_Spec = tuple[tuple[str, ...], dict[str, Any], Callable[[dict[str, Any]], Callable[[Tensor], Tensor]]]
_IN = ("input",)
_INPLACE = {"inplace": True}


def _elementwise_specs(activations_only: bool = False) -> dict[Any, _Spec]:
    specs: dict[Any, _Spec] = {}

    def add(funcs: tuple[Any, ...], names: tuple[str, ...], defaults: dict[str, Any],
            make: Callable[[dict[str, Any]], Callable[[Tensor], Tensor]]) -> None:
        for f in funcs:
            specs[f] = (names, defaults, make)

    relu, sigmoid, tanh = (lambda p: torch.relu), (lambda p: torch.sigmoid), (lambda p: torch.tanh)
    add((torch.relu, Tensor.relu), _IN, {}, relu)
    add((torch.relu_, Tensor.relu_), _IN, _INPLACE, relu)
    add((F.relu,), (*_IN, "inplace"), {"inplace": False}, relu)
    add((torch.sigmoid, Tensor.sigmoid), _IN, {}, sigmoid)
    add((torch.sigmoid_, Tensor.sigmoid_), _IN, _INPLACE, sigmoid)
    add((torch.tanh, Tensor.tanh), _IN, {}, tanh)
    add((torch.tanh_, Tensor.tanh_), _IN, _INPLACE, tanh)
    elu = lambda p: lambda t: F.elu(t, p["alpha"])  # noqa: E731
    add((F.elu,), (*_IN, "alpha", "inplace"), {"alpha": 1.0, "inplace": False}, elu)
    add((F.elu_,), (*_IN, "alpha"), {"alpha": 1.0, **_INPLACE}, elu)
    leaky = lambda p: lambda t: F.leaky_relu(t, p["negative_slope"])  # noqa: E731
    add((F.leaky_relu,), (*_IN, "negative_slope", "inplace"), {"negative_slope": 0.01, "inplace": False}, leaky)
    add((F.leaky_relu_,), (*_IN, "negative_slope"), {"negative_slope": 0.01, **_INPLACE}, leaky)
    add((F.gelu,), (*_IN, "approximate"), {"approximate": "none"},
        lambda p: lambda t: F.gelu(t, approximate=p["approximate"]))
    add((F.softplus,), (*_IN, "beta", "threshold"), {"beta": 1.0, "threshold": 20.0},
        lambda p: lambda t: F.softplus(t, p["beta"], p["threshold"]))
    for f in (F.silu, F.mish, F.selu, F.relu6, F.hardswish, F.hardsigmoid):
        add((f,), (*_IN, "inplace"), {"inplace": False}, _constant(f))
    add((F.celu,), (*_IN, "alpha", "inplace"), {"alpha": 1.0, "inplace": False}, lambda p: lambda t: F.celu(t, p["alpha"]))
    add((F.hardtanh,), (*_IN, "min_val", "max_val", "inplace"), {"min_val": -1.0, "max_val": 1.0, "inplace": False},
        lambda p: lambda t: F.hardtanh(t, p["min_val"], p["max_val"]))
    if activations_only:
        return specs
    # elementwise functions of one tensor written out in models (x * x.sigmoid(), rsqrt, exp, ...)
    for name in ("exp", "log", "sqrt", "rsqrt", "abs", "square", "erf", "reciprocal", "sin", "cos", "expm1", "log1p",
                 "softsign", "logsigmoid"):
        fn = getattr(torch, name, None) or getattr(F, name)
        funcs = tuple(f for f in (fn, getattr(Tensor, name, None)) if f is not None)
        add(funcs, _IN, {}, _constant(fn))
        inplace = tuple(f for f in (getattr(torch, name + "_", None), getattr(Tensor, name + "_", None)) if f is not None)
        add(inplace, _IN, _INPLACE, _constant(fn))
    power = lambda p: lambda t: torch.pow(t, p["exponent"])  # noqa: E731
    add((torch.pow, Tensor.pow, Tensor.__pow__), (*_IN, "exponent"), {}, power)
    add((Tensor.pow_, Tensor.__ipow__), (*_IN, "exponent"), _INPLACE, power)
    add((Tensor.__rpow__,), (*_IN, "base"), {}, lambda p: lambda t: torch.pow(p["base"], t))
    add(tuple(products.RDIVS), (*_IN, "other"), {}, lambda p: lambda t: p["other"] / t)
    clamp = lambda p: lambda t: torch.clamp(t, p["min"], p["max"])  # noqa: E731
    add((torch.clamp, Tensor.clamp, torch.clip, Tensor.clip), (*_IN, "min", "max"), {"min": None, "max": None}, clamp)
    add((torch.clamp_, Tensor.clamp_), (*_IN, "min", "max"), {"min": None, "max": None, **_INPLACE}, clamp)
    return specs


def _constant(f: Callable[[Tensor], Tensor]) -> Callable[[dict[str, Any]], Callable[[Tensor], Tensor]]:
    return lambda _params: f


_POOL_NAMES = (*_IN, "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
_POOL_DEFAULTS = {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False}


def _pool_specs() -> dict[Any, tuple[int, Callable[..., tuple[Tensor, Tensor]], bool]]:
    """func -> (spatial dims, the with-indices pooling function, returns indices by default)."""
    specs: dict[Any, tuple[int, Callable[..., tuple[Tensor, Tensor]], bool]] = {}
    for d, wrapper, with_idx, builtin in (
        (1, F.max_pool1d, F.max_pool1d_with_indices, torch.max_pool1d),
        (2, F.max_pool2d, F.max_pool2d_with_indices, torch.max_pool2d),
        (3, F.max_pool3d, F.max_pool3d_with_indices, torch.max_pool3d),
    ):
        specs[wrapper] = (d, with_idx, False)
        specs[builtin] = (d, with_idx, False)
        specs[with_idx] = (d, with_idx, True)
    return specs


_ELEMENTWISE = _elementwise_specs()
_ACTIVATIONS = _elementwise_specs(activations_only=True)
#: Elementwise functions outside the classic activations: their secant is taken in float64.
_WIDE = frozenset(set(_ELEMENTWISE) - set(_ACTIVATIONS))
_POOLS = _pool_specs()
_SOFTMAX = {F.softmax, torch.softmax, Tensor.softmax, F.log_softmax, torch.log_softmax, Tensor.log_softmax}


def _name(func: Any) -> str:
    return getattr(func, "__name__", str(func))


def _grad_tensors(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """How many tensor arguments (also inside lists, as ``torch.cat`` takes) carry a gradient."""
    return sum(isinstance(t, Tensor) and t.requires_grad for v in (*args, *kwargs.values())
               for t in (v if isinstance(v, (list, tuple)) else (v,)))


def _bind(args: tuple[Any, ...], kwargs: dict[str, Any], names: tuple[str, ...], defaults: dict[str, Any]) -> dict[str, Any]:
    params = dict(defaults)
    params.update(zip(names, args, strict=False))
    params.update(kwargs)
    return params


# -- the mode ---------------------------------------------------------------------------------------
class RescaleMode(TorchFunctionMode):
    """While active, nonlinearities on ``rows``-row tensors (``[x; x0]``) backpropagate DeepLIFT multipliers.

    ``rows`` is ``2n``: row ``i`` is paired with row ``n + i``. Calls on tensors without that
    leading axis, or that need no gradient, run unchanged; the names of nonlinearities that were
    left unchanged although they carried gradients are collected in ``unpaired``. ``last_softmax``
    holds the output of the latest softmax / log-softmax call (to tell a model that ends in one).

    Example:
        >>> import torch
        >>> m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(inplace=True))
        >>> with RescaleMode(rows=4) as mode:
        ...     y = m(torch.randn(4, 2, requires_grad=True))
        >>> mode.unpaired
        []
    """

    def __init__(self, rows: int, eps: float = 1e-10) -> None:
        super().__init__()
        self.rows = int(rows)
        self.eps = float(eps)
        self.unpaired: list[str] = []
        self.unsupported: list[str] = []
        self.softmax_outputs: list[Tensor] = []
        self.last_softmax: Tensor | None = None

    def _pairs(self, t: Any, ndim: int | None = None) -> bool:
        ok = isinstance(t, Tensor) and t.requires_grad and t.ndim >= 1
        return bool(ok and t.shape[0] == self.rows and self.rows % 2 == 0 and (ndim is None or t.ndim == ndim))

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        # PyTorch pops this mode while __torch_function__ runs: calls made here are not intercepted.
        kwargs = kwargs or {}
        spec = _ELEMENTWISE.get(func)
        if spec is not None:
            names, defaults, make = spec
            p = _bind(args, kwargs, names, defaults)
            x = p["input"]
            if any(isinstance(v, Tensor) and v.requires_grad for k, v in p.items() if k != "input"):
                self.unsupported.append(f"{_name(func)} with an input-dependent second argument")
                return func(*args, **kwargs)
            if not self._pairs(x):
                return self._unchanged(func, x, args, kwargs)
            out = _Rescale.apply(x, make(p), self.eps, func in _WIDE)
            if p.get("inplace"):
                x.copy_(out)  # the caller may ignore the return value (h.relu_())
                return x
            return out
        pool = _POOLS.get(func)
        if pool is not None:
            dims, with_idx, want_idx = pool
            p = _bind(args, kwargs, _POOL_NAMES, {**_POOL_DEFAULTS, "return_indices": want_idx})
            x = p["input"]
            if not self._pairs(x, ndim=dims + 2):
                return self._unchanged(func, x, args, kwargs)
            stride = p["stride"] if p["stride"] not in ((), []) else None

            def run(t: Tensor) -> tuple[Tensor, Tensor]:
                return with_idx(t, p["kernel_size"], stride, p["padding"], p["dilation"], p["ceil_mode"], True)

            out, idx = _RescaleMaxPool.apply(x, run, self.eps)
            return (out, idx) if p["return_indices"] else out
        if func in products.MULS or func in products.IMULS or func in products.DIVS or func in products.IDIVS:
            return self._product(func, args, kwargs)
        norm = products.NORMS.get(func)
        if norm is not None:
            rule, names = norm
            p = _bind(args, kwargs, names, {})
            if self._pairs(p["input"]):
                return rule(self._rescale, **{("x" if k == "input" else k): v for k, v in p.items()})
            return self._unchanged(func, p["input"], args, kwargs)
        grads = _grad_tensors(args, kwargs)
        if (grads >= 2 and func in products.BILINEAR) or (grads and (func in products.UNSUPPORTED or (
                func is products.BATCH_NORM and products.batch_norm_uses_batch_statistics(args, kwargs)))):
            self.unsupported.append(_name(func))
        result = func(*args, **kwargs)
        if func in _SOFTMAX:
            self.last_softmax = result
            if grads:
                self.softmax_outputs.append(result)
        return result

    def _rescale(self, t: Tensor, fn: Callable[[Tensor], Tensor]) -> Tensor:
        """``fn(t)`` with the Rescale multiplier (for the product and norm rules)."""
        if self._pairs(t):
            return _Rescale.apply(t, fn, self.eps, True)
        self.unpaired.append(getattr(fn, "__name__", "function"))
        return fn(t)

    def _product(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``a * b`` / ``a / b`` (and in place): exact multipliers when both factors depend on the input."""
        a = args[0] if args else kwargs.get("input")
        b = args[1] if len(args) > 1 else kwargs.get("other")
        grad_a = isinstance(a, Tensor) and a.requires_grad
        grad_b = isinstance(b, Tensor) and b.requires_grad
        divide = func in products.DIVS or func in products.IDIVS
        if not (grad_b and (divide or grad_a)) or (divide and kwargs.get("rounding_mode") is not None):
            if divide and grad_b and kwargs.get("rounding_mode") is not None:
                self.unsupported.append(_name(func))
            return func(*args, **kwargs)  # linear in the input-dependent factor
        if not (self._pairs(b) and (self._pairs(a) or not grad_a)):
            self.unsupported.append(f"{_name(func)} of two input-dependent tensors without the (input; baseline) "
                                    "batch axis first")
            return func(*args, **kwargs)
        out = products.quotient(a, b, self._rescale, grad_a) if divide else products.Product.apply(a, b)
        if func in products.IMULS or func in products.IDIVS:
            a.copy_(out)
            return a
        return out

    def model_error(self, output: Any) -> str | None:
        """Why DeepLIFT cannot explain this forward pass (None when it can): ops without a rule ran."""
        inner = [s for s in self.softmax_outputs if not self.is_softmax_output_of(output, s)]
        names = list(dict.fromkeys(self.unsupported + (["softmax inside the network"] if inner else [])))
        if not names:
            return None
        return (f"the model runs {', '.join(names)} on input-dependent tensors; DeepLIFT's Rescale rule has no "
                "multiplier for them (attention, max reductions, batch statistics), so its attributions would not "
                "sum to f(x) - f(baseline). Use IntegratedGradients (or GradientXInput / Saliency) for this model")

    @staticmethod
    def is_softmax_output_of(out: Any, s: Tensor) -> bool:
        return bool(isinstance(out, Tensor) and out.data_ptr() == s.data_ptr() and out.numel() == s.numel())

    def _unchanged(self, func: Any, x: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if isinstance(x, Tensor) and x.requires_grad:
            self.unpaired.append(getattr(func, "__name__", str(func)))
        return func(*args, **kwargs)

    def is_softmax_output(self, out: Any) -> bool:
        """True when ``out`` is (a view of) the output of the last softmax / log-softmax call."""
        s = self.last_softmax
        return bool(isinstance(out, Tensor) and s is not None and out.data_ptr() == s.data_ptr()
                    and out.numel() == s.numel())
