"""Grad-CAM through the layers: one image's Grad-CAM map at every stage of a network, from one pass.

:func:`gradcam_layers` finds the stages (:func:`~nbexplain.explainers.teaching.gradcam_stages.find_stages`:
ResNet's ``layer1..4``, the stages of a ``features`` / ``stages`` container where the resolution
changes, a ViT's block norms, else every convolution), hooks all of them at once
(:func:`~nbexplain.explainers.gradients.layers.capture`, removed on exit) and runs ONE forward and backward
pass of the gradient engine (inside the state guard, OOM-safe), then forms each stage's map as
:class:`~nbexplain.explainers.vision.gradcam.GradCAM` does (the same channel weights, token / channels-last
rearrangement, ReLU, bilinear upsampling and notes): each stage's map equals
``GradCAM(model, layer=stage).explain(x[None])``. Memory: the pass keeps what one backward pass of
one image keeps, plus each stage's activation and gradient once.

Two numbers per stage show the trade-off between depth and resolution:

- ``deletion_auc``: the deletion curve's area (:func:`nbexplain.metrics.deletion_curves`: the
  explained class probability as the map's most relevant patches are replaced by zeros, most
  relevant first; ``deletion_steps`` steps; LOWER is better, the map points at what the decision
  rests on), with the random-order floor ``random_auc`` (the mean over one seeded random order per
  stage). Early layers' maps follow edges and textures the class does not rest on; the last
  layer's follow the class evidence: that is why the last layer is the usual choice. Costs
  ``stages x (1 + n_random) x deletion_steps`` forward rows (``deletion=False`` skips it);
- ``area``: the share of the image the map covers, its participation ratio
  ``(sum m)^2 / (N sum m^2)`` over the ``N`` input pixels of the upsampled map's positive part
  ``m``: ``1/N`` for one hot pixel, ``1`` for a constant map (a 1 x 1 stage localises nothing),
  NaN for an all-zero map. What is lost at coarse resolution shows as a large area.

Example:
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1),
    ...                     nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    >>> r = gradcam_layers(net, torch.rand(1, 8, 8), target=0, deletion_steps=4)
    >>> r.names, r.resolutions, r.maps.shape, [m.shape for m in r.cams], r.default_index
    (['0', '3'], [(8, 8), (4, 4)], (2, 8, 8), [(8, 8), (4, 4)], 1)
    >>> r.deletion_auc.shape, bool((r.area[~np.isnan(r.area)] <= 1).all())
    ((2,), True)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.explainers.gradients._engine import (
    GradientError,
    RunContext,
    _autocast,
    check_differentiable,
    model_outputs,
    objective,
    to_input_tensor,
)
from nbexplain.explainers.gradients.layers import capture, resolve_layer
from nbexplain.explainers.teaching.gradcam_stages import MAX_STAGES, find_stages
from nbexplain.explainers.vision._gradcam_notes import cam_notes, earlier_layer
from nbexplain.explainers.vision.families import grid_reshape
from nbexplain.explainers.vision.gradcam import GradCAM, upsample
from nbexplain.validate import check_int

__all__ = ["GradCAMLayers", "gradcam_layers", "map_area", "stage_gradients"]


@dataclass(frozen=True)
class GradCAMLayers:
    """Grad-CAM at every stage of one image (see :func:`gradcam_layers`); arrays are numpy float32.

    ``names`` (S) in execution order; ``resolutions``: each stage's map size ``(h, w)``; ``cams``:
    the maps at that size (after ReLU when ``relu``); ``maps`` ``(S, H, W)``: upsampled to the
    input; ``raw``: the maps before ReLU; ``notes``: Grad-CAM's note per stage (``""`` unless the
    map is (nearly) all 0 or too coarse); ``reshape``: how each stage's output was read;
    ``default_index``: the stage Grad-CAM explains by default (None when it is not shown);
    ``area`` ``(S,)``, ``deletion_auc`` ``(S,)`` or None and ``random_auc``: the per-stage numbers;
    ``deletion_curves``: their :class:`~nbexplain.metrics.faithfulness.FaithfulnessCurves`;
    ``x`` the image, ``target`` the explained output, ``output`` its value, ``family``, ``how``
    (how the stages were chosen), ``explanation`` (the pass's :class:`~nbexplain.Explanation`).
    """

    names: list[str]
    resolutions: list[tuple[int, int]]
    cams: list[np.ndarray]
    raw: list[np.ndarray]
    maps: np.ndarray
    notes: list[str]
    reshape: list[str]
    default_index: int | None
    area: np.ndarray
    deletion_auc: np.ndarray | None
    random_auc: float
    x: np.ndarray
    target: int | None
    output: float
    family: str
    how: str
    relu: bool
    explanation: Any = field(repr=False)
    deletion_curves: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.names)

    def index(self, stage: Any) -> int:
        """The index of ``stage`` (an index, negative from the end, or a stage name).

        Example:
            >>> import torch
            >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Conv2d(2, 2, 3), torch.nn.Flatten(),
            ...                           torch.nn.Linear(8, 2))
            >>> r = gradcam_layers(net, torch.rand(1, 6, 6), deletion=False)
            >>> r.index("1"), r.index(-2)
            (1, 0)
        """
        if isinstance(stage, str):
            if stage not in self.names:
                raise ValueError(f"no stage named {stage!r}; the stages are {self.names}")
            return self.names.index(stage)
        n = len(self.names)
        return check_int(stage, "stage", min=-n, max=n - 1) % n


def map_area(maps: Any) -> np.ndarray:
    """The share of the image each map covers: ``(sum m)^2 / (N sum m^2)`` of its positive part ``m``.

    ``maps`` ``(S, *spatial)``; returns ``(S,)`` in ``[1/N, 1]``, NaN where a map has no positive cell.

    Example:
        >>> map_area(np.array([[[1.0, 1.0], [1.0, 1.0]], [[4.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, -1.0]]]))
        array([1.  , 0.25,  nan])
    """
    m = np.maximum(np.asarray(maps, dtype=np.float64), 0.0).reshape(len(maps), -1)
    total, squares = m.sum(1), (m * m).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total * total / (m.shape[1] * squares)
    return np.where(squares > 0, out, np.nan)


def stage_gradients(model: Any, layers: list[Any], names: list[str], x: Any, targets: Any, *,
                    autocast: Any = None) -> tuple[list[Any], list[Any], Any]:
    """One forward + backward pass: the activation and gradient of every layer in ``layers`` at once.

    The multi-layer form of :func:`~nbexplain.explainers.gradients.layers.layer_gradients`: every layer is
    hooked by :func:`~nbexplain.explainers.gradients.layers.capture` (the network goes on with a clone, so
    in-place operations after a layer never touch what was captured; hooks removed on exit, also
    when the model raises). Call inside ``frozen``. Raises :class:`GradientError` naming a layer
    that does not run once or that the explained output does not depend on.
    """
    import torch

    with torch.enable_grad(), _autocast(x.device, autocast), contextlib.ExitStack() as stack:
        caps = [stack.enter_context(capture(model, layer)) for layer in layers]
        selected = objective(model_outputs(model, x), targets)
        acts = [cap.activation for cap in caps]
        check_differentiable(selected)
        for act, name in zip(acts, names, strict=True):
            if not act.requires_grad:
                raise GradientError(f"layer {name!r} output carries no gradient (dtype {act.dtype}); pick a layer "
                                    "with a floating-point output")
        grads = torch.autograd.grad(selected.sum(), acts, allow_unused=True)
    missing = [n for n, g in zip(names, grads, strict=True) if g is None]
    if missing:
        raise GradientError(f"the explained output does not depend on layer(s) {missing} (their gradient is None); "
                            "pick layers on the path from input to output")
    dtype = x.dtype if x.is_floating_point() else acts[0].dtype
    return [a.detach().to(dtype) for a in acts], [g.to(dtype) for g in grads], selected.detach()


class _StagesPass(GradCAM):
    """Grad-CAM whose one pass captures every stage and keeps each stage's map."""

    method = "grad_cam_layers"
    tuple_inputs = False
    integer_inputs = False

    def __init__(self, model: Any, layers: Any, max_stages: int, relu: bool, **engine_kwargs: Any) -> None:
        super().__init__(model, relu=relu, **engine_kwargs)
        self.stage_layers = layers
        self.max_stages = max_stages

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        import torch

        from nbexplain.keras_models import input_layout

        spatial = tuple(x.shape[1:-1]) if input_layout(self.model, x) == "HWC" else tuple(x.shape[2:])
        stages = find_stages(self.model, x[:1], layers=self.stage_layers, max_stages=self.max_stages)
        modules = [resolve_layer(self.model, n)[0] for n in stages.names]
        out: dict[str, Any] = {}

        def step(a: int, b: int) -> None:
            acts, grads, selected = stage_gradients(self.model, modules, stages.names, x[a:b],
                                                    ctx._index(targets, slice(a, b)), autocast=ctx.autocast)
            out["outputs"] = selected.double().cpu().numpy()
            for module, name, act, grad in zip(modules, stages.names, acts, grads, strict=True):
                if act.ndim < 3 or act.shape[0] != b - a:
                    raise GradientError(f"stage {name!r} outputs shape {tuple(act.shape)}, not a map (n, C, ...) per "
                                        "input; pass layers= the stages to show")
                how = grid_reshape(self.model, module, act, spatial, family=stages.family)
                act, grad = self._to_grid(how, act, grad, name, b - a)
                if act.ndim - 2 != len(spatial):
                    raise GradientError(f"stage {name!r} gives {act.ndim - 2}-D maps for {len(spatial)}-D inputs; "
                                        "pass layers= stages whose maps have the input's spatial axes")
                w = self.channel_weights(act, grad)
                cam = (w.reshape(*w.shape, *[1] * (act.ndim - 2)) * act).sum(1)
                shown = torch.relu(cam) if self.relu else cam
                out.setdefault("stages", []).append({
                    "name": name, "how": how.describe, "raw": cam.detach().float().cpu().numpy(),
                    "cam": shown.detach().float().cpu().numpy(), "weights": w.detach().float().cpu().numpy(),
                    "map": upsample(shown, spatial).detach().float().cpu().numpy()})

        ctx.chunked(step, x.shape[0])
        for s in out["stages"]:
            s["note"] = cam_notes(s["raw"], s["weights"], relu=self.relu, layer=s["name"], input_shape=spatial,
                                  earlier=earlier_layer(self.model, s["name"], stages.family))[0]
        maps = np.stack([s["map"] for s in out["stages"]], axis=1)  # (1, S, H, W)
        return torch.as_tensor(maps), {"stages": out["stages"], "found": stages, "outputs": out["outputs"],
                                       "layout": "layer"}


def _deletion(model: Any, x: np.ndarray, maps: np.ndarray, target: int, steps: int, n_random: int, seed: int,
              preprocess: Any) -> Any:
    from nbexplain.metrics import deletion_curves
    from nbexplain.session import preprocessed

    runner = model if preprocess is None else preprocessed(model, preprocess)
    images = np.repeat(x[None], len(maps), axis=0)
    return deletion_curves(runner, images, maps, target=target, steps=steps, n_random=n_random, seed=seed)


def gradcam_layers(model: Any, x: Any, *, target: Any = None, layers: Any = None, relu: bool = True,
                   max_stages: int = MAX_STAGES, deletion: bool = True, deletion_steps: int = 20, n_random: int = 1,
                   seed: int = 0, preprocess: Any = None, internal_batch_size: int | str = "auto",
                   dtype: Any = None) -> GradCAMLayers:
    """Grad-CAM of one image ``x`` (``(C, H, W)``, no batch axis) at every stage of ``model``, in one pass.

    ``target``: the explained output (None: the predicted class); ``layers``: the stages to show
    (modules or dotted names; None finds them, see
    :func:`~nbexplain.explainers.teaching.gradcam_stages.find_stages`); ``relu``: Grad-CAM's ReLU;
    ``max_stages``: at most this many; ``deletion``, ``deletion_steps``, ``n_random``, ``seed``:
    the deletion AUC per stage (see the module doc; None for a callable target or a channels-last Keras
    model); ``preprocess``: what turns the picture ``x``
    into the model's input (e.g. a normalisation), applied inside every model call;
    ``internal_batch_size``, ``dtype``: the gradient engine's.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.Flatten(), torch.nn.Linear(2 * 2 * 2, 2))
        >>> r = gradcam_layers(net, torch.rand(3, 4, 4), deletion=False)
        >>> r.names, r.resolutions, r.deletion_auc, "too coarse to localise" in r.notes[0]
        (['0'], [(2, 2)], None, True)
    """
    import torch

    from nbexplain.keras_models import input_layout

    for flag, value in (("relu", relu), ("deletion", deletion)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{flag} must be True or False, got {value!r}")
    check_int(deletion_steps, "deletion_steps", min=1, max=1000)
    check_int(n_random, "n_random", min=0, max=100)
    if not isinstance(x, torch.Tensor) and not hasattr(x, "shape"):
        x = np.asarray(x)
    xb = to_input_tensor(x.detach()[None] if isinstance(x, torch.Tensor) else np.asarray(x)[None], model, name="x")
    if xb.ndim != 4:
        raise ValueError(f"x must be one image (C, H, W) without the batch axis, got shape {tuple(xb.shape[1:])}; "
                         "for a batch, pass one image: x[0]")
    pass_ = _StagesPass(model, layers, max_stages, relu, internal_batch_size=internal_batch_size, dtype=dtype,
                        preprocess=preprocess)
    e = pass_.explain(xb, target=target)
    stages, found = e.diagnostics.pop("stages"), e.diagnostics.pop("found")
    maps = np.stack([s["map"][0] for s in stages]).astype(np.float32)
    names = [s["name"] for s in stages]
    t = int(e.target[0]) if e.target is not None else None  # None: a callable target
    x0 = xb[0].float().cpu().numpy()
    curves, auc, floor = None, None, float("nan")
    if deletion and t is not None and input_layout(model, xb) != "HWC":  # the curves take (n, C, H, W) images
        curves = _deletion(model, x0, maps, t, deletion_steps, n_random, seed, preprocess)
        auc = curves.auc.astype(np.float32)
        floor = float(curves.mean_random_auc) if curves.mean_random_auc is not None else float("nan")
    default = names.index(found.default) if found.default in names else None
    return GradCAMLayers(names=names, resolutions=[tuple(int(d) for d in s["cam"].shape[1:]) for s in stages],
                         cams=[s["cam"][0] for s in stages], raw=[s["raw"][0] for s in stages], maps=maps,
                         notes=[s["note"] for s in stages], reshape=[s["how"] for s in stages], default_index=default,
                         area=map_area(maps).astype(np.float32), deletion_auc=auc, random_auc=floor, x=x0, target=t,
                         output=float(e.outputs[0]), family=found.family, how=found.how, relu=bool(relu),
                         explanation=e, deletion_curves=curves)
