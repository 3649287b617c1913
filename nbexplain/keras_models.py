"""Keras 3 models: recognised, walked layer by layer, and called without Keras' progress bars.

With ``KERAS_BACKEND=torch`` (set it before the first ``import keras``) a ``keras.Model`` *is* a
``torch.nn.Module``: gradient methods run on it as on any torch model. Four things differ, and
this module is the one place that knows them:

- its layers are not torch submodules: ``Sequential`` and functional models keep them in lists,
  so ``model.named_modules()`` lists only ``_functional`` and parameter dicts.
  :func:`named_layers` lists the Keras layers by their Keras names (``"conv1"``,
  ``"block.dense"`` in a nested model); torch models keep ``named_modules()``;
- its weights are Keras variables whose ``.value`` is a torch ``Parameter``, with Keras' own
  names and axis order (a ``Dense`` kernel is ``(in, out)``, a ``Conv2D`` kernel
  ``(kh, kw, in, out)``): :func:`own_parameters`, :func:`torch_layout`;
- image models are channels-last by default, ``(n, H, W, C)``: :func:`channels_last`,
  :func:`to_channels_first`, :func:`input_layout`;
- ``Dropout`` and ``BatchNormalization`` follow the ``training`` call argument, not torch's
  ``.training`` flag; a plain call ``model(x)`` runs in inference mode (dropout off, moving
  statistics used and left alone), which is how nbexplain calls it.

On another backend (JAX, TensorFlow) a Keras model is no torch module: the model-agnostic
methods call it through :func:`keras_predict` (``model.predict(..., verbose=0)``).

Nothing here imports keras: a model is a Keras one only when keras is already loaded.

Example:
    >>> import torch
    >>> is_keras(torch.nn.Linear(2, 2)), [n for n, _ in named_layers(torch.nn.Sequential(torch.nn.ReLU()))]
    (False, ['', '0'])
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["WEIGHT_NAMES", "all_modules", "all_parameters", "channels_last", "input_layout", "is_conv", "is_keras",
           "is_leaf", "keras_backend", "keras_predict", "named_layers", "own_parameters", "sublayers",
           "to_channels_first", "torch_layout"]

#: The names a layer's main weight goes by (torch, Keras kernels, Keras embeddings).
WEIGHT_NAMES = ("weight", "kernel", "embeddings")


def _keras() -> Any:
    return sys.modules.get("keras")


def is_keras(obj: Any) -> bool:
    """True for a Keras 3 layer or model (any backend), without importing keras.

    Example:
        >>> is_keras(len)
        False
    """
    keras = _keras()
    if keras is None:
        return False
    try:
        return isinstance(obj, keras.layers.Layer)
    except AttributeError:  # a partially imported keras
        return False


def keras_backend() -> str | None:
    """Keras' backend (``"torch"``, ``"jax"``, ``"tensorflow"``), or None when keras is not loaded.

    Example:
        >>> keras_backend() in (None, "torch", "jax", "tensorflow", "numpy", "openvino")
        True
    """
    keras = _keras()
    return None if keras is None else str(keras.backend.backend())


def sublayers(layer: Any) -> list[Any]:
    """The Keras layers directly inside ``layer`` (its ``InputLayer`` placeholders left out).

    Example:
        >>> sublayers(object())
        []
    """
    keras = _keras()
    if keras is None or not is_keras(layer):
        return []
    return [sub for sub in getattr(layer, "_layers", []) if not isinstance(sub, keras.layers.InputLayer)]


def named_layers(model: Any) -> list[tuple[str, Any]]:
    """``(dotted name, layer)`` for the model (``""``) and every layer in it, parents first.

    A torch model: ``model.named_modules()``. A Keras model: its Keras layers by their Keras
    names (a layer of a nested model is ``"inner.dense"``), and under a Keras layer that wraps
    plain torch modules (``TorchModuleWrapper``) those modules by their torch names; the
    ``_functional`` and parameter-dict modules Keras keeps for torch are left out. A layer used
    twice is listed once.

    Example:
        >>> import torch
        >>> [n for n, _ in named_layers(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh()))]
        ['', '0', '1']
    """
    model = getattr(model, "nbx_model", model)  # the engine's Runner: the model it runs
    if not is_keras(model):
        return list(model.named_modules())
    out: list[tuple[str, Any]] = []
    seen: set[int] = set()
    _walk(model, "", out, seen)
    return out


def _walk(layer: Any, name: str, out: list[tuple[str, Any]], seen: set[int]) -> None:
    if id(layer) in seen:
        return
    seen.add(id(layer))
    out.append((name, layer))
    prefix = f"{name}." if name else ""
    taken: set[str] = set()
    for sub in sublayers(layer):
        sub_name = str(sub.name)
        while sub_name in taken:  # two layers with one name (possible in subclassed models)
            sub_name += "_"
        taken.add(sub_name)
        _walk(sub, prefix + sub_name, out, seen)
    for child_name, child in _torch_children(layer):
        for sub_name, module in child.named_modules(prefix=prefix + child_name):
            if id(module) not in seen:
                seen.add(id(module))
                out.append((sub_name, module))


def _torch_children(layer: Any) -> list[tuple[str, Any]]:
    """Plain torch modules a Keras layer holds (a ``TorchModuleWrapper``'s module), no Keras internals."""
    import torch

    internal = (torch.nn.ParameterDict, torch.nn.ParameterList)
    return [(n, c) for n, c in layer.named_children()
            if not is_keras(c) and not isinstance(c, internal) and n != "_functional"]


def all_modules(model: Any) -> list[Any]:
    """Every torch module a forward pass of ``model`` can run: ``model.modules()``, and for a Keras
    model also its Keras layers (which ``modules()`` does not reach) and their modules.

    Example:
        >>> import torch
        >>> len(all_modules(torch.nn.Sequential(torch.nn.Linear(2, 2))))
        2
    """
    mods = list(model.modules())
    if not is_keras(model):
        return mods
    seen = {id(m) for m in mods}
    for _name, layer in named_layers(model):
        for m in layer.modules():
            if id(m) not in seen:
                seen.add(id(m))
                mods.append(m)
    return mods


def is_leaf(module: Any) -> bool:
    """True for a layer without layers inside (torch: no child modules; Keras: no sublayers and no
    wrapped torch modules).

    Example:
        >>> import torch
        >>> is_leaf(torch.nn.Linear(2, 2)), is_leaf(torch.nn.Sequential(torch.nn.ReLU()))
        (True, False)
    """
    if is_keras(module):
        return not sublayers(module) and not _torch_children(module)
    return next(iter(module.children()), None) is None


def own_parameters(module: Any, *, trainable_only: bool = False) -> list[tuple[str, Any]]:
    """``(name, tensor)`` of the parameters a layer holds itself (not its sublayers').

    A torch module: ``named_parameters(recurse=False)``. A Keras layer: its own weights by their
    Keras names (``"kernel"``, ``"bias"``, ``"moving_mean"``), each the torch ``Parameter`` Keras
    computes with (on the torch backend), in Keras' axis order (see :func:`torch_layout`);
    ``trainable_only`` leaves out Keras' non-trainable weights (moving statistics; torch keeps
    those in buffers, which are no parameters).

    Example:
        >>> import torch
        >>> [n for n, _ in own_parameters(torch.nn.Linear(2, 2))]
        ['weight', 'bias']
    """
    if not is_keras(module):
        return list(module.named_parameters(recurse=False))
    inner = {id(v) for sub in sublayers(module) for v in sub.weights}
    weights = module.trainable_weights if trainable_only else module.weights
    return [(str(v.name), v.value) for v in weights if id(v) not in inner]


def all_parameters(module: Any) -> list[Any]:
    """The parameter tensors of a layer and every layer inside it, each once.

    Example:
        >>> import torch
        >>> sum(p.numel() for p in all_parameters(torch.nn.Linear(2, 3)))
        9
    """
    if is_keras(module):
        return [v.value for v in module.weights]
    return list(module.parameters())


def torch_layout(module: Any, name: str, values: np.ndarray) -> np.ndarray:
    """A weight in torch's axis order: a Keras kernel's output axis first, then its input axis.

    ``Dense`` ``(in, out)`` -> ``(out, in)``; ``Conv2D`` ``(kh, kw, in, out)`` ->
    ``(out, in, kh, kw)``, as ``nn.Linear`` / ``nn.Conv2d`` keep theirs. Other weights (and
    every torch weight) are returned as they are.

    Example:
        >>> import torch
        >>> torch_layout(torch.nn.Linear(2, 3), "weight", np.zeros((3, 2))).shape
        (3, 2)
    """
    if is_keras(module) and name == "kernel" and values.ndim >= 2:
        return np.moveaxis(values, (-1, -2), (0, 1))
    return values


def is_conv(module: Any, ranks: tuple[int, ...] = (1, 2, 3)) -> bool:
    """True for a convolution of one of ``ranks`` spatial dimensions: torch ``Conv1d/2d/3d`` or
    Keras ``Conv1D/2D/3D``.

    Example:
        >>> import torch
        >>> is_conv(torch.nn.Conv2d(1, 1, 1)), is_conv(torch.nn.Conv1d(1, 1, 1), ranks=(2,))
        (True, False)
    """
    import torch

    kinds = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
    if isinstance(module, tuple(kinds[r] for r in ranks)):
        return True
    keras = _keras()
    if keras is None or not is_keras(module):
        return False
    names = {1: "Conv1D", 2: "Conv2D", 3: "Conv3D"}
    return isinstance(module, tuple(getattr(keras.layers, names[r]) for r in ranks))


def channels_last(model: Any, layer: Any = None) -> bool:
    """True when ``model`` (or its ``layer``) keeps channels last, ``(n, H, W, C)``: a Keras model
    whose first layer with a ``data_format`` says ``"channels_last"`` (without one: Keras'
    ``image_data_format()``). Torch models are channels-first: False.

    Example:
        >>> import torch
        >>> channels_last(torch.nn.Conv2d(1, 1, 1))
        False
    """
    if not is_keras(model):
        return False
    for candidate in ([layer] if layer is not None else []) + [m for _n, m in named_layers(model)]:
        fmt = getattr(candidate, "data_format", None)
        if fmt in ("channels_last", "channels_first"):
            return fmt == "channels_last"
    return str(_keras().config.image_data_format()) == "channels_last"


def to_channels_first(model: Any, t: Any, layer: Any = None) -> Any:
    """A batch ``t`` of images or volumes ``(n, H, W, C)`` / ``(n, D, H, W, C)`` moved to
    ``(n, C, ...)`` when it comes from a channels-last model (or ``layer``); anything else as is.

    Example:
        >>> import torch
        >>> to_channels_first(torch.nn.Conv2d(1, 1, 1), torch.zeros(1, 4, 5, 3)).shape
        torch.Size([1, 4, 5, 3])
    """
    if t.ndim in (4, 5) and channels_last(model, layer):
        return t.movedim(-1, 1)
    return t


def input_layout(model: Any, x: Any) -> str | None:
    """``"HWC"`` for a batch of images ``(n, H, W, C)`` going into a channels-last Keras model,
    else None (the layout follows from the rank): the ``Explanation.layout`` of attributions
    shaped like such inputs.

    Example:
        >>> import torch
        >>> print(input_layout(torch.nn.Conv2d(1, 1, 1), torch.zeros(1, 1, 4, 4)))
        None
    """
    model = getattr(model, "nbx_model", model)
    return "HWC" if getattr(x, "ndim", 0) == 4 and channels_last(model) else None


def keras_predict(model: Any, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """``X -> model.predict(X, batch_size=batch_size, verbose=0)`` as a numpy array.

    For a Keras model on a backend other than torch (on torch, nbexplain calls the model as a
    torch module, which also gives gradients). No progress bar, and the global random states are
    restored after each call (Keras' data iterator draws from them: on the torch backend
    ``predict`` advances torch's generator). A model with several outputs raises ``TypeError``
    saying how to pick one.

    Example:
        >>> import os
        >>> _ = os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is first imported
        >>> import keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        >>> keras_predict(model, 256)(np.zeros((4, 3), np.float32)).shape
        (4, 2)
    """

    from nbexplain.guard import rng_guard  # guard imports this module: imported here

    def predict(X: np.ndarray) -> np.ndarray:
        with rng_guard():
            out = model.predict(X, batch_size=batch_size, verbose=0)
        if isinstance(out, (dict, list, tuple)):
            raise TypeError(f"{type(model).__name__}.predict returned a {type(out).__name__} of outputs; explain "
                            "one output: keras.Model(model.inputs, model.outputs[i])")
        return np.asarray(_keras().ops.convert_to_numpy(out))

    return predict
