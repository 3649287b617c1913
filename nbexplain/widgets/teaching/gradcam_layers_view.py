"""GradCAMLayersView: one image's Grad-CAM map at every stage of a network, on one slider.

The slider walks the stages from the first to the last (every stage's map travels once; the
browser scrubs without a kernel, also in an exported page): the picture with the chosen stage's
map over it (an opacity control), beside it the same map at the layer's own resolution, blocky
(what is lost at coarse resolution), the stage's name, resolution and Grad-CAM's note, and a small
chart of a number per stage: the deletion AUC (lower: the map points at what the decision rests
on; with the random-order floor) or the share of the image the map covers. The stage Grad-CAM
explains by default is marked ("the usual choice"). The chosen ``stage`` comes back to Python.

The numbers come from :func:`nbexplain.explainers.teaching.gradcam_layers.gradcam_layers` (no widgets);
:mod:`~nbexplain.widgets.teaching.gradcam_layers_wire` keeps what is sent within ``max_bytes``.

Example:
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1),
    ...                     nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    >>> view = GradCAMLayersView(net, torch.rand(1, 8, 8), target=0, deletion_steps=4)
    >>> view.stage_names, view.resolutions, view.stage, view.stage_name, view.maps.shape
    (['0', '3'], [[8, 8], [4, 4]], 1, '3', (2, 8, 8))
    >>> view.stage = 0; view.at_stage()["name"], view.at_stage()["map"].shape
    ('0', (8, 8))
    >>> view.close()
"""

from __future__ import annotations

from typing import Any

import traitlets

from ...codec import PRECISIONS
from ...explainers.teaching.gradcam_layers import gradcam_layers
from ...explainers.teaching.gradcam_stages import MAX_STAGES
from .._base import NbxWidget
from .._traits import ArrayTrait
from .gradcam_layers_wire import MAX_BYTES, MAX_MAP, pack_layers
from .ig_path_view import _Exact

__all__ = ["GradCAMLayersView"]


def _shapes(help: str) -> Any:
    return traitlets.List(traitlets.List(traitlets.Int()), help=help)


class GradCAMLayersView(NbxWidget):
    """Grad-CAM at every stage of ``model`` for one ``image`` (``(C, H, W)``, no batch axis), on a slider.

    Parameters:
        model, image: a ``torch.nn.Module`` (CNNs, ResNet / ConvNeXt / EfficientNet / ViT / Swin shapes
            from torchvision, timm and Hugging Face) and one image as the model takes it, or as a
            picture when ``preprocess`` turns it into the model's input.
        target: the explained output (None: the predicted class).
        layers: the stages to show (modules or dotted names); None finds them
            (:func:`~nbexplain.explainers.teaching.gradcam_stages.find_stages`), at most ``max_stages``.
        preprocess: a callable applied to the image inside every model call (a normalisation).
        relu: Grad-CAM's ReLU; deletion, deletion_steps, n_random, seed: the deletion AUC per stage
            (``deletion=False`` skips it, the chart then shows the area); stage: the stage shown
            first (an index or a name; None: the family's usual Grad-CAM layer, else the last).
        class_names: labels of the outputs (text); max_bytes, max_map: the wire budget (see
            :mod:`~nbexplain.widgets.teaching.gradcam_layers_wire`); internal_batch_size, dtype: the engine's.

    Attributes: ``result`` (the full-resolution
    :class:`~nbexplain.explainers.teaching.gradcam_layers.GradCAMLayers`), ``stage`` (the index the student
    chose with the slider), :attr:`stage_name` and :meth:`at_stage` (the chosen stage's data).

    Example (a small CNN on sklearn's 8 x 8 digits; train it first for meaningful maps):
        >>> import torch
        >>> from sklearn.datasets import load_digits
        >>> from torch import nn
        >>> X = torch.tensor(load_digits().images[:, None] / 16.0, dtype=torch.float32)
        >>> _ = torch.manual_seed(0)
        >>> cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 8x8
        ...                     nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 4x4
        ...                     nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),                   # 2x2
        ...                     nn.Flatten(), nn.Linear(16 * 2 * 2, 10)).eval()
        >>> view = GradCAMLayersView(cnn, X[0], class_names=[f"digit {d}" for d in range(10)])
        >>> view.stage_names, view.resolutions, view.stage_name  # the usual (last) layer is shown first
        (['0', '3', '6'], [[8, 8], [4, 4], [2, 2]], '6')
        >>> view.stage = 0  # what the slider does; after moving it in a notebook, read view.stage
        >>> at = view.at_stage(); at["name"], at["resolution"], at["map"].shape
        ('0', (8, 8), (8, 8))
        >>> view.close()
    """

    _view = traitlets.Unicode("layer_maps").tag(sync=True)
    image = ArrayTrait(kind="image", help="uint8 (h, w) or (h, w, 3): the picture, on the maps' grid.").tag(sync=True)
    maps = ArrayTrait(ndims=(3,), help="array (S, h, w): each stage's map upsampled to the picture, divided by the "
                      "stage's peak.").tag(sync=True)
    cams = ArrayTrait(ndims=(1,), help="array: each stage's map at the layer's resolution (cam_shapes), flattened "
                      "and concatenated, divided by the stage's peak.").tag(sync=True)
    cam_shapes = _shapes("list[[h, w]]: the shape of each stage's map in cams (as sent).").tag(sync=True)
    resolutions = _shapes("list[[h, w]]: each stage's own resolution.").tag(sync=True)
    peaks = _Exact(ndims=(1,), help="array (S,): each stage's peak |value|, the maps' unit.").tag(sync=True)
    stage_names = traitlets.List(traitlets.Unicode(), help="list[str]: the stages, in execution order.").tag(sync=True)
    notes = traitlets.List(traitlets.Unicode(), help="list[str]: Grad-CAM's note per stage (\"\" = none).").tag(
        sync=True)
    default_stage = traitlets.Int(-1, help="int: the stage Grad-CAM explains by default (-1: not shown).").tag(
        sync=True)
    area = _Exact(ndims=(1,), help="array (S,): the share of the image each map covers.").tag(sync=True)
    deletion_auc = _Exact(ndims=(1,), allow_none=True, help="array (S,) or None: the deletion AUC per stage (lower "
                          "is better).").tag(sync=True)
    random_auc = traitlets.Float(float("nan"), help="float: the deletion AUC of random orders (NaN: none).").tag(
        sync=True)
    input_shape = traitlets.List(traitlets.Int(), help="list[int]: the input's (H, W).").tag(sync=True)
    stage = traitlets.Int(0, help="int: the stage shown (an index into stage_names); set by the slider and saved "
                          "back.").tag(sync=True)
    opacity = traitlets.Float(0.5, min=0.0, max=1.0, help="float, default 0.5: the map's opacity over the "
                              "picture.").tag(sync=True)
    metric = traitlets.Enum(("deletion", "area"), "deletion", help='str: the chart\'s number, "deletion" (AUC) or '
                            '"area".').tag(sync=True)
    output_label = traitlets.Unicode("", help="str: what is explained (text).").tag(sync=True)
    note = traitlets.Unicode("", help='str: what was cut to fit the wire budget; "" = nothing.').tag(sync=True)
    width = traitlets.Int(220, min=16, max=2048, help="int, default 220: CSS pixels of each map.").tag(sync=True)
    precision = traitlets.Enum(PRECISIONS, "float16", help='str, default "float16": wire encoding of the maps.')

    _extra_kwargs = ("model", "target", "layers", "preprocess", "relu", "max_stages", "deletion", "deletion_steps",
                     "n_random", "seed", "class_names", "max_bytes", "max_map", "internal_batch_size", "dtype")

    def __init__(self, model: Any, image: Any, target: Any = None, layers: Any = None, preprocess: Any = None, *,
                 relu: bool = True, max_stages: int = MAX_STAGES, deletion: bool = True, deletion_steps: int = 20,
                 n_random: int = 1, seed: int = 0, stage: Any = None, class_names: Any = None,
                 max_bytes: int = MAX_BYTES, max_map: int = MAX_MAP, internal_batch_size: int | str = "auto",
                 dtype: Any = None, **kwargs: Any) -> None:
        from ...keras_models import input_layout
        from ...validate import check_class_names, check_int

        self._check_kwargs(kwargs)
        check_int(max_bytes, "max_bytes", min=1)
        check_int(max_map, "max_map", min=4)
        names = check_class_names(class_names)
        # computed before the widget exists: a bad input raises here and leaves no widget behind
        result = gradcam_layers(model, image, target=target, layers=layers, relu=relu, max_stages=max_stages,
                                deletion=deletion, deletion_steps=deletion_steps, n_random=n_random, seed=seed,
                                preprocess=preprocess, internal_batch_size=internal_batch_size, dtype=dtype)
        layout = "HWC" if input_layout(model, result.x[None]) == "HWC" else "CHW"
        packed = pack_layers(result, max_bytes=max_bytes, max_map=max_map, layout=layout)
        packed.pop("max_map_used")
        first = (result.default_index if result.default_index is not None else len(result) - 1) if stage is None \
            else result.index(stage)
        label = "predicted output" if result.target is None else f"output {result.target}"
        if names is not None and result.target is not None:
            if result.target >= len(names):
                raise ValueError(f"class_names has {len(names)} names but the explained output is {result.target}; "
                                 "pass one name per model output")
            label = f"output '{names[result.target]}'"
        self.model = model
        self.result = result
        hw = result.x.shape[:2] if layout == "HWC" else result.x.shape[1:]
        super().__init__(**packed, resolutions=[list(r) for r in result.resolutions], stage_names=list(result.names),
                         notes=list(result.notes), area=result.area, deletion_auc=result.deletion_auc,
                         random_auc=result.random_auc,
                         default_stage=-1 if result.default_index is None else result.default_index,
                         input_shape=[int(d) for d in hw], stage=first,
                         metric="deletion" if result.deletion_auc is not None else "area",
                         output_label=f"{label} = {result.output:.4g}", **kwargs)

    @traitlets.validate("stage")
    def _valid_stage(self, proposal: Any) -> int:
        value = int(proposal["value"])
        n = len(self.stage_names) if self.stage_names else len(getattr(self, "result", ()) or ())
        if n and not 0 <= value < n:
            raise traitlets.TraitError(f"stage must be an index in 0..{n - 1} (the stages are {self.stage_names}), "
                                       f"got {value}")
        return value

    @traitlets.validate("metric")
    def _valid_metric(self, proposal: Any) -> str:
        value = str(proposal["value"])
        if value == "deletion" and getattr(self, "result", None) is not None and self.result.deletion_auc is None:
            raise traitlets.TraitError("metric 'deletion' needs the deletion AUC, which this view did not compute "
                                       "(deletion=False, a callable target, or a channels-last Keras model); use 'area'")
        return value

    @property
    def stage_name(self) -> str:
        """The name of the stage shown."""
        return self.stage_names[self.stage]

    def at_stage(self) -> dict[str, Any]:
        """The stage shown, at full resolution: ``name``, ``index``, ``resolution``, ``map`` (upsampled to the
        input), ``cam`` (at the layer's resolution), ``note``, ``area``, ``deletion_auc`` and ``usual``
        (True for the family's default Grad-CAM layer).

        Example:
            >>> import torch
            >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 2))
            >>> view = GradCAMLayersView(net, torch.rand(1, 6, 6), deletion=False)
            >>> at = view.at_stage(); at["name"], at["resolution"], at["usual"], at["deletion_auc"]
            ('0', (4, 4), True, None)
            >>> view.close()
        """
        r, i = self.result, self.stage
        return {"name": r.names[i], "index": i, "resolution": r.resolutions[i], "map": r.maps[i].copy(),
                "cam": r.cams[i].copy(), "note": r.notes[i], "area": float(r.area[i]),
                "deletion_auc": None if r.deletion_auc is None else float(r.deletion_auc[i]),
                "usual": r.default_index == i}
