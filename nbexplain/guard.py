"""The one state guard: whatever runs the user's model leaves the user's state as it found it.

Every entry point that runs a model goes through :func:`guard` (directly, or through
:func:`nbexplain.models.eval_mode`, the predict wrapper of :func:`nbexplain.models.as_predict_fn`,
or the gradient engine's ``frozen``). On exit, also when the model raises, it restores:

- every submodule's ``training`` flag (not only the root's: a BatchNorm frozen in eval mode under a
  training root stays frozen);
- every parameter's ``requires_grad``, its ``.grad`` (the same tensor object), and the tensor
  itself where a module's parameter was replaced;
- every buffer (running statistics, counters): a buffer changed in place is copied back from a
  snapshot, a replaced buffer is put back;
- module hooks (forward, pre-forward, backward, with kwargs, always-called) on every submodule,
  tensor hooks on parameters, and torch's global module hooks: hooks added inside are removed,
  hooks removed inside are put back, and so are the marks libraries leave on a module when they
  install hooks (boolean ``*hook*`` attributes, e.g. transformers' capturing-hooks mark);
- the autograd mode (``torch.is_grad_enabled``), anomaly detection and the default dtype;
- the global random states of Python's ``random``, numpy's legacy global generator, torch
  (CPU, and CUDA where initialised) and Keras' global seed generator (when one exists), so a
  library that draws from them (shap, lime, Keras' ``predict``) does not advance the user's
  streams. On the main thread only: a background computation (the Dashboard's worker)
  restoring them would rewind draws the notebook made meanwhile; nbexplain's own methods draw
  only from their own seeded generators, so there the states stay untouched.

A Keras 3 model on the torch backend is guarded the same way: its Keras layers (which
``model.modules()`` does not reach) with their hooks and flags, its variables as parameters, and
its non-trainable variables (``BatchNormalization`` moving statistics, ``Dropout`` seed
generator states) as buffers, restored when changed in place (:mod:`nbexplain.keras_models`).

A parameter (or its ``.grad``) changed *in place* inside the block cannot be put back without a
copy of every weight on each call; it is detected from the tensor's version counter and raises
:class:`ModelStateError` after everything else is restored. The caller's arrays are never handed
to a model: inputs are copied at the boundary (:func:`nbexplain.explainers.gradients._engine.as_model_tensor`
and the predict wrapper), so an in-place first layer writes into our copy.

Example:
    >>> import random, numpy as np, torch
    >>> m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2)).train()
    >>> _ = m[1].eval()
    >>> before = np.random.get_state()[1].copy()
    >>> with guard(m, eval_mode=True):
    ...     _ = np.random.rand(3); _ = torch.rand(1); _ = random.random()
    ...     m.training, m[1].training
    (False, False)
    >>> m.training, m[1].training, bool((np.random.get_state()[1] == before).all())
    (True, False, True)
"""

from __future__ import annotations

import contextlib
import functools
import random
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from nbexplain.keras_models import all_modules, is_keras

__all__ = ["ModelStateError", "guard", "guarded", "rng_guard"]

#: Buffers larger than this in total are checked but not snapshotted (restoring them needs a copy).
BUFFER_SNAPSHOT_LIMIT = 256 * 1024**2

_MODULE_HOOK_DICTS = (
    "_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
    "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs", "_forward_hooks_always_called",
)
_GLOBAL_HOOK_DICTS = (
    "_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
    "_global_backward_pre_hooks", "_global_forward_hooks_always_called",
    "_global_forward_hooks_with_kwargs",
)

F = TypeVar("F", bound=Callable[..., Any])


class ModelStateError(RuntimeError):
    """The model changed its own parameters in place while nbexplain ran it (cannot be undone)."""


# -- random states --------------------------------------------------------------------------------
def _rng_states() -> tuple[Any, ...] | None:
    if threading.current_thread() is not threading.main_thread():
        return None
    torch = sys.modules.get("torch")
    torch_state = cuda_state = None
    if torch is not None:
        torch_state = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            cuda_state = torch.cuda.get_rng_state_all()
    return random.getstate(), np.random.get_state(), torch_state, cuda_state, _keras_seed_state()


def _restore_rng(states: tuple[Any, ...] | None) -> None:
    if states is None:
        return
    py, npy, torch_state, cuda_state, keras_seed = states
    random.setstate(py)
    np.random.set_state(npy)
    torch = sys.modules.get("torch")
    if torch is not None:
        if torch_state is not None:
            torch.set_rng_state(torch_state)
        if cuda_state is not None:
            torch.cuda.set_rng_state_all(cuda_state)
    if keras_seed is not None:
        generator, state = keras_seed
        if not np.array_equal(_keras_value(generator.state.value), state):
            generator.state.assign(state)


def _keras_seed_state() -> tuple[Any, np.ndarray] | None:
    """Keras' global seed generator (``keras.random.*`` without a seed draws from it) and its state."""
    keras = sys.modules.get("keras")
    if keras is None:
        return None
    try:
        from keras.src.backend.common import global_state

        generator = global_state.get_global_attribute("global_seed_generator")
        if generator is None:
            return None
        return generator, _keras_value(generator.state.value)
    except (ImportError, AttributeError):  # another Keras layout: nothing to guard
        return None


def _keras_value(value: Any) -> np.ndarray:
    """A Keras variable's value as a numpy copy: a torch tensor read directly (keras' own
    ``convert_to_numpy`` warns on every call under numpy 2 and pytest keeps each warning)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    return np.array(sys.modules["keras"].ops.convert_to_numpy(value))


@contextlib.contextmanager
def rng_guard() -> Iterator[None]:
    """Python's, numpy's and torch's global random states restored on exit (also on error).

    Example:
        >>> import numpy as np
        >>> a = np.random.get_state()[2]
        >>> with rng_guard():
        ...     _ = np.random.rand(5)
        >>> np.random.get_state()[2] == a
        True
    """
    states = _rng_states()
    try:
        yield
    finally:
        _restore_rng(states)


# -- torch model state ----------------------------------------------------------------------------
class _TorchState:
    """A snapshot of everything about a module tree that running it could change."""

    def __init__(self, model: Any) -> None:
        import torch

        self.torch = torch
        self.modules = all_modules(model)  # a Keras model's layers too
        self.training = [m.training for m in self.modules]
        self.params: list[tuple[Any, str, Any, bool, Any, int, int, Any]] = []
        # (module, "_buffers" or "_parameters", name, tensor, version)
        self.buffers: list[tuple[Any, str, str, Any, int]] = []
        self.hooks: list[tuple[Any, str, dict[Any, Any]]] = []
        self.full_backward = [getattr(m, "_is_full_backward_hook", None) for m in self.modules]
        # Libraries mark a module whose hooks they installed (transformers 5:
        # ``_output_capturing_hooks_installed``); the hooks are restored below, so their marks are too.
        self.hook_marks = [_hook_marks(m) for m in self.modules]
        stats = _keras_non_trainable(model)  # Keras' moving statistics and seed states: buffers, really
        for m in self.modules:
            for name, p in m._parameters.items():
                if p is None:
                    continue
                if id(p) in stats:
                    self.buffers.append((m, "_parameters", name, p, p._version))
                    continue
                g = p.grad
                self.params.append((m, name, p, p.requires_grad, g, p._version,
                                    g._version if g is not None else -1,
                                    None if p._backward_hooks is None else dict(p._backward_hooks)))
            for name, b in m._buffers.items():
                if b is not None:
                    self.buffers.append((m, "_buffers", name, b, b._version))
            for attr in _MODULE_HOOK_DICTS:
                d = getattr(m, attr, None)
                if d is not None:
                    self.hooks.append((m, attr, dict(d)))
        self.buffer_copy = _BufferCopy([b for _m, _d, _n, b, _v in self.buffers])
        glob = torch.nn.modules.module
        self.global_hooks = [(attr, dict(getattr(glob, attr))) for attr in _GLOBAL_HOOK_DICTS
                             if isinstance(getattr(glob, attr, None), dict)]
        self.global_full_backward = getattr(glob, "_global_is_full_backward_hook", None)
        self.grad_enabled = torch.is_grad_enabled()
        self.anomaly = torch.is_anomaly_enabled()
        self.default_dtype = torch.get_default_dtype()

    def restore(self) -> list[str]:
        """Put everything back; return the names of parameters changed in place (not restorable)."""
        torch = self.torch
        torch.set_grad_enabled(self.grad_enabled)
        if torch.is_anomaly_enabled() != self.anomaly:
            torch.set_anomaly_enabled(self.anomaly)
        if torch.get_default_dtype() != self.default_dtype:
            torch.set_default_dtype(self.default_dtype)
        for m, mode in zip(self.modules, self.training, strict=True):
            m.__dict__["training"] = mode  # a plain attribute; skips Module.__setattr__ (fast on big models)
        for m, flag in zip(self.modules, self.full_backward, strict=True):
            if flag is not None or hasattr(m, "_is_full_backward_hook"):
                m._is_full_backward_hook = flag
        changed: list[str] = []
        for m, name, p, requires_grad, g, version, g_version, p_hooks in self.params:
            if m._parameters.get(name) is not p:
                m._parameters[name] = p
            if p.requires_grad != requires_grad:
                p.requires_grad_(requires_grad)
            if p.grad is not g:
                p.grad = g
            if p_hooks is not None or p._backward_hooks is not None:
                _restore_dict(p, "_backward_hooks", p_hooks)
            if p._version != version or (g is not None and g._version != g_version):
                changed.append(f"{type(m).__name__}.{name}")
        for i, (m, where, name, b, version) in enumerate(self.buffers):
            held = getattr(m, where)
            if held.get(name) is not b:
                held[name] = b
            if b._version != version and not self.buffer_copy.restore(i, b):
                changed.append(f"{type(m).__name__}.{name} (buffer)")
        for m, attr, saved in self.hooks:
            d = getattr(m, attr)
            if d.keys() != saved.keys():
                d.clear()
                d.update(saved)
        for m, marks in zip(self.modules, self.hook_marks, strict=True):
            now = _hook_marks(m)
            if now != marks:
                for key in now.keys() - marks.keys():
                    m.__dict__.pop(key, None)
                m.__dict__.update(marks)
        glob = torch.nn.modules.module
        for attr, saved in self.global_hooks:
            d = getattr(glob, attr)
            if d.keys() != saved.keys():
                d.clear()
                d.update(saved)
        if hasattr(glob, "_global_is_full_backward_hook"):
            glob._global_is_full_backward_hook = self.global_full_backward
        return changed


def _hook_marks(module: Any) -> dict[str, bool]:
    """A module's boolean attributes that say hooks were installed on it (``*hook*``)."""
    return {k: v for k, v in vars(module).items() if "hook" in k and isinstance(v, bool)
            and k != "_is_full_backward_hook"}


class _BufferCopy:
    """A copy of many small buffers in one flat tensor per dtype and device (one copy, not hundreds).

    Buffers larger than :data:`BUFFER_SNAPSHOT_LIMIT` in total are not copied; :meth:`restore`
    then returns False for a changed one, which the guard reports.
    """

    def __init__(self, buffers: list[Any]) -> None:
        import torch

        self.where: list[tuple[Any, int, int] | None] = [None] * len(buffers)
        total = sum(b.numel() * b.element_size() for b in buffers)
        self.flat: dict[Any, Any] = {}
        if total > BUFFER_SNAPSHOT_LIMIT or not buffers:
            return
        groups: dict[Any, list[int]] = {}
        for i, b in enumerate(buffers):
            groups.setdefault((b.dtype, b.device), []).append(i)
        with torch.no_grad():
            for key, idx in groups.items():
                self.flat[key] = torch.cat([buffers[i].detach().reshape(-1) for i in idx])
                offset = 0
                for i in idx:
                    n = buffers[i].numel()
                    self.where[i] = (key, offset, n)
                    offset += n

    def restore(self, i: int, b: Any) -> bool:
        """Copy buffer ``i``'s saved values back into ``b``; False when none were saved."""
        import torch

        loc = self.where[i]
        if loc is None or loc[2] != b.numel():
            return False
        key, offset, n = loc
        with torch.no_grad():
            b.copy_(self.flat[key][offset:offset + n].reshape(b.shape))
        return True


def _restore_dict(obj: Any, attr: str, saved: dict[Any, Any] | None) -> None:
    current = getattr(obj, attr)
    if saved is None:
        if current:
            current.clear()
        return
    if current is None or current.keys() != saved.keys():
        if current is None:
            return
        current.clear()
        current.update(saved)


def _keras_non_trainable(model: Any) -> set[int]:
    """Ids of the tensors of a Keras model's non-trainable variables (empty for other models)."""
    if not is_keras(model):
        return set()
    return {id(v.value) for v in model.non_trainable_variables}


def _is_torch_module(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


@contextlib.contextmanager
def guard(model: Any = None, *, eval_mode: bool = False, freeze: bool = False) -> Iterator[Any]:
    """Run the block with the user's state snapshotted, and restore it on exit (also on error).

    ``model``: a ``torch.nn.Module`` (its state is guarded, see the module docstring), or anything
    else (then only the global random states and the autograd mode are guarded). ``eval_mode``:
    put every submodule in eval mode inside the block. ``freeze``: set ``requires_grad=False`` on
    every parameter inside (so no ``.grad`` accumulates and input gradients are cheaper). Guards
    nest. Raises :class:`ModelStateError` on exit when the model changed a parameter in place.

    Example:
        >>> import torch
        >>> m = torch.nn.Linear(2, 1)
        >>> with guard(m, eval_mode=True, freeze=True):
        ...     h = m.register_forward_hook(lambda *a: None)   # a hook left behind is removed
        ...     m.weight.requires_grad
        False
        >>> len(m._forward_hooks), m.weight.requires_grad
        (0, True)
    """
    rng = _rng_states()
    state = _TorchState(model) if _is_torch_module(model) else None
    torch = sys.modules.get("torch")
    grad_enabled = torch.is_grad_enabled() if torch is not None else None
    changed: list[str] = []
    try:
        if state is not None:
            if eval_mode:
                for m in state.modules:
                    m.__dict__["training"] = False
            if freeze:
                for _m, _name, p, *_ in state.params:
                    p.requires_grad_(False)
        yield model
    finally:
        if state is not None:
            changed = state.restore()
        elif torch is not None and grad_enabled is not None:
            torch.set_grad_enabled(grad_enabled)
        _restore_rng(rng)
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise ModelStateError(
            f"the model changed {shown} in place while nbexplain ran it (in eval mode, without gradients); "
            "nbexplain cannot undo that. Check the model's forward for in-place updates of its weights")


def _find_model(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The model an entry point runs: ``self.model``, a ``model`` argument, or the first argument."""
    for name in ("model", "model_or_predict", "module"):
        if name in kwargs:
            return kwargs[name]
    if args:
        first = args[0]
        for attr in ("model", "module"):
            inner = getattr(first, attr, None) if not _is_torch_module(first) else None
            if inner is not None:
                return inner
        return first
    return None


def guarded(fn: F) -> F:
    """Decorate a public entry point so its whole call runs inside :func:`guard`.

    The model is found as ``self.model`` (methods), a ``model=`` keyword, or the first argument.
    The explainers' own passes still set eval mode where they need it; this outer guard makes the
    promise hold for everything the call does between model calls too (a library that seeds or
    draws from the global random generators, a hook left by an error).

    Example:
        >>> import numpy as np
        >>> @guarded
        ... def noisy(model):
        ...     return np.random.rand()
        >>> s = np.random.get_state()[2]
        >>> _ = noisy(None); np.random.get_state()[2] == s
        True
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with guard(_find_model(args, kwargs)):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
