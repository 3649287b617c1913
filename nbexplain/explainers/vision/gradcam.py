"""Grad-CAM and Grad-CAM++: class activation maps from a convolutional layer's gradients.

For a layer with output ``A`` of shape ``(n, C, *spatial)`` and the gradient ``g`` of the
explained output with respect to it:

- Grad-CAM (Selvaraju et al. 2017): channel weights ``w_c = mean over space of g_c``;
- Grad-CAM++ (Chattopadhay et al. 2018), the closed form for an exponential score used by
  pytorch-grad-cam: ``alpha = g^2 / (2 g^2 + sum_space(A_c) g^3)`` (0 where the denominator
  is 0), ``w_c = sum over space of alpha * relu(g)``;

then ``cam = relu(sum_c w_c A_c)`` (``relu=False`` keeps the sign), upsampled to the input's
spatial size (bilinear, ``align_corners=False``, as Captum's ``LayerAttribution.interpolate``;
linear / trilinear for 1-D / 3-D layers). Maps keep their raw scale (no per-image min-max
normalisation, unlike pytorch-grad-cam), so they compare across samples and with Captum.

The layer is a module or a dotted name; by default the layer people explain for the model's
architecture family (:mod:`~nbexplain.explainers.vision.families`): ResNet's last stage, a
torchvision ``features[-1]``, a ViT's last ``norm1``, a Swin's last block norm; else the last
convolution the forward pass runs. Vision transformer outputs (tokens ``(n, N, C)``, channels-last
grids ``(n, h, w, C)``) are rearranged into ``(n, C, h, w)`` automatically (class / register tokens
dropped, the grid found from the patch size) or by ``reshape=``, a callable applied to the
activation and its gradient (pytorch-grad-cam's ``reshape_transform``). Hooks are removed after
every call, also when the model raises.

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
    ...                             torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3))
    >>> e = GradCAM(model).explain(torch.randn(2, 1, 6, 6), target=1)
    >>> e.values.shape, e.method, e.diagnostics["layer"], e.diagnostics["cam_shape"], e.diagnostics["family"]
    ((2, 6, 6), 'grad_cam', '0', (6, 6), 'cnn')
"""

from __future__ import annotations

from typing import Any

from nbexplain.explainers.gradients._engine import GradientError, GradientExplainer, RunContext
from nbexplain.explainers.gradients.layers import layer_gradients, resolve_layer
from nbexplain.explainers.vision._gradcam_notes import cam_notes, earlier_layer
from nbexplain.explainers.vision.families import default_layer, detect_family, grid_reshape

_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def upsample(maps: Any, size: tuple[int, ...]) -> Any:
    """``maps`` ``(n, *spatial)`` resized to ``size`` (linear / bilinear / trilinear, no corner alignment).

    Example:
        >>> import torch
        >>> upsample(torch.ones(2, 3, 3), (6, 6)).shape
        torch.Size([2, 6, 6])
    """
    from torch.nn import functional as F

    mode = _MODES.get(len(size))
    if mode is None or maps.ndim - 1 != len(size):
        raise GradientError(f"cannot upsample maps of shape {tuple(maps.shape)} to {size}; pass upsample=False")
    return F.interpolate(maps.unsqueeze(1), size=size, mode=mode, align_corners=False).squeeze(1)


class GradCAM(GradientExplainer):
    """Grad-CAM maps ``(n, *input spatial)`` for a convolutional layer of a ``torch.nn.Module``.

    ``layer``: a submodule or its dotted name (``"layer4"``, ``"blocks[-1].norm1"`` as
    ``"blocks.11.norm1"``); None picks the family's usual layer (see
    :func:`~nbexplain.explainers.vision.families.default_layer`). ``reshape``: None reads
    the layer output as ``(n, C, *spatial)``, tokens or channels-last automatically; or a callable
    ``(layer output) -> (n, C, h, w)`` that only rearranges (slices, reshapes, permutes), applied
    to the activation and to its gradient. ``relu``: clip the map at 0 (the original
    algorithm; Captum's ``relu_attributions=True``). ``upsample``: resize the map to the
    input's spatial size; False keeps the layer's resolution. Engine options
    (``internal_batch_size``, ``dtype``) as every gradient method.

    ``diagnostics``: ``layer`` (the name), ``family`` (``"vit"``, ``"swin"``, ``"resnet"``,
    ``"convnext"``, ``"efficientnet"`` or ``"cnn"``), ``reshape`` (how the layer output was
    read, e.g. ``"tokens: 1 prefix token(s) dropped, 14x14 grid"``), ``cam_shape`` (the map's size at the layer),
    ``cam`` (the maps at that size, ``(n, h, w)``), ``channel_weights`` ``(n, C)``,
    ``positive_fraction`` ``(n,)`` (cells where the weighted sum is > 0, before ReLU) and
    ``note``: one string per sample, ``""`` unless the map is (nearly) all 0 or too coarse to
    localise, then why (ReLU of negative weighted activations, a zero gradient, a 2 x 2 layer
    for an 8 x 8 input) and what to try (``relu=False``, an earlier layer, another method);
    ``Heatmap.from_explanation`` shows it above the map.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(),
        ...                             torch.nn.Linear(4 * 6 * 6, 2))
        >>> GradCAM(model, layer="0", upsample=False).explain(torch.randn(1, 3, 8, 8)).values.shape
        (1, 6, 6)
    """

    method = "grad_cam"
    attributes_inputs = False  # a map over the first input's spatial axes (or token positions)
    integer_inputs = True  # token ids: the gradient starts at the layer (a text CNN's convolution)
    tuple_inputs = True

    def __init__(self, model: Any, layer: Any = None, relu: bool = True, upsample: bool = True,
                 reshape: Any = None, **engine_kwargs: Any) -> None:
        super().__init__(model, **engine_kwargs)
        if layer is not None:
            resolve_layer(model, layer)  # fail early on a wrong name
        if reshape is not None and not callable(reshape):
            raise TypeError(f"reshape must be None or a callable (layer output) -> (n, C, h, w), got "
                            f"{type(reshape).__name__}")
        self.layer = layer
        self.relu = bool(relu)
        self.upsample = bool(upsample)
        self.reshape = reshape

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.model).__name__}, layer={self._layer_label()!r})"

    def _layer_label(self) -> Any:
        if self.layer is None or isinstance(self.layer, str):
            return self.layer
        return resolve_layer(self.model, self.layer)[1]

    def params(self) -> dict[str, Any]:
        return {**super().params(), "layer": self._layer_label(), "relu": self.relu, "upsample": self.upsample,
                "reshape": None if self.reshape is None else "callable"}

    def call_options(self) -> tuple[str, ...]:
        return (*super().call_options(), "layer", "relu", "upsample", "reshape")

    def channel_weights(self, act: Any, grad: Any) -> Any:
        """Grad-CAM's weights: the spatial mean of the gradient, ``(n, C)``."""
        return grad.flatten(2).mean(2)

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        import torch

        from nbexplain.keras_models import input_layout

        # the input's spatial axes: (n, C, H, W), or (n, H, W, C) into a channels-last Keras model,
        # or the token positions (n, T) of token ids (a text CNN's Grad-CAM over its words)
        first = ctx.first_input(x)
        tokens = not first.is_floating_point()
        if tokens:
            spatial = tuple(first.shape[1:])
        else:
            spatial = tuple(first.shape[1:-1]) if input_layout(self.model, first) == "HWC" else tuple(first.shape[2:])
        if self.layer is None:
            layer, name, family = self._default_layer(x)
        else:
            (layer, name), family = resolve_layer(self.model, self.layer), detect_family(self.model)
        cams: list[Any] = []
        raws: list[Any] = []
        weights: list[Any] = []
        outputs: list[Any] = []
        how: list[Any] = []

        def step(a: int, b: int) -> None:
            act, grad, selected = layer_gradients(self.model, layer, x[a:b], ctx._index(targets, slice(a, b)),
                                                  autocast=ctx.autocast)
            outputs.append(selected.double())
            if act.ndim < 3:
                raise GradientError(f"layer {name!r} outputs shape {tuple(act.shape)} without spatial axes; "
                                    f"{type(self).__name__} needs a layer with output (n, C, ...), such as a "
                                    "convolution or a transformer block's norm (pass layer=)")
            if act.shape[0] != b - a and self.reshape is None:
                raise GradientError(f"layer {name!r} outputs shape {tuple(act.shape)} for {b - a} inputs: its first "
                                    "axis is not the sample axis (Swin's window attention returns one row per "
                                    "window; a sequence-first encoder puts tokens first); pick the block's norm1 or "
                                    "the block itself, or pass reshape= a function returning (n, C, h, w)")
            if not how:
                how.append(grid_reshape(self.model, layer, act, spatial, family=family, reshape=self.reshape))
            act, grad = self._to_grid(how[0], act, grad, name, b - a)
            w = self.channel_weights(act, grad)
            cam = (w.reshape(*w.shape, *[1] * (act.ndim - 2)) * act).sum(1)
            raws.append(cam.detach().float().cpu())
            cams.append(torch.relu(cam) if self.relu else cam)
            weights.append(w)

        ctx.chunked(step, x.shape[0])
        cam = torch.cat(cams)
        values = cam
        if self.upsample:
            if len(spatial) != cam.ndim - 1:
                raise GradientError(f"layer {name!r} maps have shape {tuple(cam.shape[1:])} but inputs have "
                                    f"spatial shape {spatial}; pass upsample=False")
            values = upsample(cam, spatial)
        raw = torch.cat(raws).numpy()
        channel_weights = torch.cat(weights).detach().float().cpu().numpy()
        notes = cam_notes(raw, channel_weights, relu=self.relu, layer=name, input_shape=spatial,
                          earlier=earlier_layer(self.model, name, family),
                          method="Grad-CAM++" if self.method == "grad_cam++" else "Grad-CAM")
        diagnostics = {"layer": name, "family": family, "reshape": how[0].describe if how else "none",
                       "cam_shape": tuple(cam.shape[1:]),
                       "cam": cam.detach().float().cpu().numpy(),
                       "channel_weights": channel_weights,
                       "positive_fraction": (raw > 0).reshape(len(raw), -1).mean(1),
                       "note": notes,
                       "outputs": torch.cat(outputs).cpu().numpy()}
        if tokens and self.upsample:
            diagnostics["layout"] = "tokens"  # one value per token position
        return values, diagnostics

    def _default_layer(self, x: Any) -> tuple[Any, str, str]:
        """The family's default layer (:func:`default_layer`), found once per input shape and cached."""
        key = (tuple(x.shape[1:]), x.dtype, x.device)
        cache = self.__dict__.setdefault("_layer_cache", {})
        if key not in cache:
            cache[key] = default_layer(self.model, x[:1])
        return cache[key]

    @staticmethod
    def _to_grid(how: Any, act: Any, grad: Any, name: str, n: int) -> tuple[Any, Any]:
        """The activation and its gradient rearranged to ``(n, C, *spatial)``, checked."""
        try:
            act_g, grad_g = how(act), how(grad)
        except GradientError:
            raise
        except Exception as exc:
            raise GradientError(f"reshape of layer {name!r} output {tuple(act.shape)} failed ({exc}); "
                                "reshape must map it to (n, C, h, w)") from exc
        for t in (act_g, grad_g):
            if getattr(t, "ndim", 0) < 3 or t.shape[0] != n or t.shape != act_g.shape:
                raise GradientError(f"reshape turned layer {name!r} output {tuple(act.shape)} into "
                                    f"{tuple(getattr(t, 'shape', ()))}; it must return (n, C, h, w) with one row per "
                                    f"input ({n})")
        return act_g, grad_g


class GradCAMPlusPlus(GradCAM):
    """Grad-CAM++: channel weights from the gradient's positive part, weighted per position.

    ``alpha = g^2 / (2 g^2 + sum_space(A_c) * g^3)`` (0 where the denominator is 0) and
    ``w_c = sum over space of alpha * relu(g)`` -- the closed form of the paper for an
    exponential of the score, as pytorch-grad-cam computes it from the score's own gradient.
    Same options and output as :class:`GradCAM`.

    Example:
        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(),
        ...                             torch.nn.Linear(2 * 4 * 4, 2))
        >>> GradCAMPlusPlus(model).explain(torch.randn(3, 1, 6, 6)).method
        'grad_cam++'
    """

    method = "grad_cam++"

    def channel_weights(self, act: Any, grad: Any) -> Any:
        import torch

        g2 = grad * grad
        g3 = g2 * grad
        sum_act = act.flatten(2).sum(2).reshape(*act.shape[:2], *[1] * (act.ndim - 2))
        denom = 2 * g2 + sum_act * g3
        safe = torch.where(denom != 0, denom, torch.ones_like(denom))
        alpha = torch.where(denom != 0, g2 / safe, torch.zeros_like(denom))
        return (alpha * torch.relu(grad)).flatten(2).sum(2)
