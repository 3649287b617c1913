"""Heatmap: an attribution map drawn over its image, with controls that redraw in the browser.

Example:
    >>> import numpy as np
    >>> from nbexplain.widgets import Heatmap
    >>> rng = np.random.default_rng(0)
    >>> w = Heatmap(rng.normal(size=(8, 8)), image=rng.random((8, 8)), cmap="coolwarm")
    >>> w.update(opacity=0.3, sign="positive")
    >>> w.spatial_shape, w.opacity, w.sign
    ((8, 8), 0.3, 'positive')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ...codec import PRECISIONS
from .._base import NbxWidget
from .._explanation import pick_output, require_single
from .._traits import ArrayTrait, to_display_image, to_numpy

__all__ = ["CMAPS", "Heatmap", "explanation_note"]

#: Colour maps the front end knows (diverging first, then sequential); see docs/PROTOCOL.md.
CMAPS: tuple[str, ...] = ("RdBu_r", "PuOr_r", "coolwarm", "viridis", "cividis", "magma", "Greys")


class Heatmap(NbxWidget):
    """An attribution heatmap (H x W, or C x H x W reduced in the browser), optionally over an image.

    Parameters mirror the traits below; ``values`` and ``image`` accept numpy arrays, torch
    tensors or lists. ``precision`` (not synced) picks the wire encoding of ``values``:
    ``"float16"`` (default, half the bytes, error ~1e-3 of the peak), ``"float32"`` or ``"uint8"``.

    Example:
        >>> w = Heatmap(np.zeros((3, 8, 8)), image=np.zeros((8, 8), np.uint8), reduce="l2")
        >>> w.spatial_shape, w.reduce    # 3 channels drawn as one map, their L2 norm
        ((8, 8), 'l2')
        >>> w.selected is None    # [row, col] after a click in the browser
        True
    """

    _view = traitlets.Unicode("heatmap").tag(sync=True)

    values = ArrayTrait(
        ndims=(2, 3), help="array H x W or C x H x W, required: the attribution map."
    ).tag(sync=True)
    image = ArrayTrait(
        kind="image",
        allow_none=True,
        help="uint8 array H x W or H x W x 3 or None, default None: drawn under the map.",
    ).tag(sync=True)
    reduce = traitlets.Enum(
        ("sum", "abs_sum", "max_abs", "l2"),
        "sum",
        help='str, default "sum": how C x H x W values are reduced over channels.',
    ).tag(sync=True)
    sign = traitlets.Enum(
        ("both", "positive", "negative", "absolute"),
        "both",
        help='str, default "both": which signs are shown ("absolute" shows |v|). "positive" and "negative" '
        "use one half of the same diverging map (a for/against pair reads on one scale); outside "
        '"both", cells whose shown value is 0 are not coloured (the image shows).',
    ).tag(sync=True)
    cmap = traitlets.Enum(
        ("auto", *CMAPS),
        "auto",
        help='str, default "auto": colour map; "auto" = RdBu_r if signed or sign is "positive" / "negative", '
        "else viridis.",
    ).tag(sync=True)
    opacity = traitlets.Float(0.6, min=0.0, max=1.0, help="float 0..1, default 0.6: overlay opacity.").tag(
        sync=True
    )
    clip_percentile = traitlets.Float(
        99.0,
        min=50.0,
        max=100.0,
        help="float 50..100, default 99.0: the colour scale saturates at this percentile of |v|.",
    ).tag(sync=True)
    threshold = traitlets.Float(
        0.0, min=0.0, max=1.0, help="float 0..1, default 0.0: cells below this fraction of the scale stay uncoloured."
    ).tag(sync=True)
    show_controls = traitlets.Bool(True, help="bool, default True: show the control row.").tag(sync=True)
    width = traitlets.Int(280, min=16, max=4096, help="int 16..4096, default 280: CSS pixels of the map.").tag(
        sync=True
    )
    selected = traitlets.List(
        traitlets.Int(min=0),
        default_value=None,
        allow_none=True,
        minlen=2,
        maxlen=2,
        help="[row, col] or None, default None: the cell last clicked in the browser.",
    ).tag(sync=True)
    value_label = traitlets.Unicode(
        "attribution", help='str, default "attribution": the word used in the hover read-out.'
    ).tag(sync=True)
    note = traitlets.Unicode(
        "",
        help='str, default "": a note shown above the map (literal text), e.g. why a map is (nearly) all 0; '
        '"" = none (the view still says so when every cell shown is 0).',
    ).tag(sync=True)
    precision = traitlets.Enum(
        PRECISIONS,
        "float16",
        help='str, default "float16": wire encoding of values ("float32", "float16", "uint8"); not synced.',
    )

    def __init__(self, values: Any, image: Any = None, **kwargs: Any) -> None:
        super().__init__(values=values, image=image, **kwargs)

    @property
    def spatial_shape(self) -> tuple[int, int]:
        """(H, W) of the map.

        Example:
            >>> Heatmap(np.zeros((2, 4, 5))).spatial_shape
            (4, 5)
        """
        return tuple(int(s) for s in self.values.shape[-2:])  # type: ignore[return-value]

    @traitlets.validate("values")
    def _valid_values(self, proposal: Any) -> np.ndarray:
        values = proposal["value"]
        if values.ndim == 3 and values.shape[0] == 1:
            values = values[0]  # one channel: nothing to reduce, and no reduce control shown
        return self._check_pair(values, self.image)

    @traitlets.validate("image")
    def _valid_image(self, proposal: Any) -> np.ndarray | None:
        self._check_pair(self.values, proposal["value"])
        return proposal["value"]

    def _check_pair(self, values: np.ndarray, image: np.ndarray | None) -> np.ndarray:
        if image is not None and tuple(image.shape[:2]) != tuple(values.shape[-2:]):
            raise traitlets.TraitError(
                f"image spatial shape {list(image.shape[:2])} (image shape {list(image.shape)}) "
                f"must equal the values' H, W {list(values.shape[-2:])} (values shape {list(values.shape)})"
            )
        return values

    @traitlets.observe("precision")
    def _resend_values(self, change: Any) -> None:
        if self.comm is not None:
            self.send_state("values")

    def update(self, values: Any = None, image: Any = None, **traits: Any) -> None:
        """Change several traits at once: one message to the browser, checked together.

        ``values`` and ``image`` may change shape together; ``None`` leaves them as they are
        (assign ``w.image = None`` to remove the picture). ``selected`` is cleared when the
        map's shape changes. Unknown names raise ``TypeError``.

        Example:
            >>> w = Heatmap(np.zeros((8, 8)), image=np.zeros((8, 8))); w.selected = [2, 3]
            >>> w.update(values=np.ones((4, 4)), image=np.zeros((4, 4)), title="sample 3")
            >>> w.spatial_shape, w.selected, w.title    # a new shape clears the selection
            ((4, 4), None, 'sample 3')
            >>> w.update(values=np.ones((2, 2)))    # the picture no longer fits
            Traceback (most recent call last):
            ...
            traitlets.traitlets.TraitError: image spatial shape [4, 4] (image shape [4, 4]) must equal the values' H, W [2, 2] (values shape [2, 2])
        """
        self._check_kwargs(traits)
        new: dict[str, Any] = dict(traits)
        if values is not None:
            new["values"] = values
        if image is not None:
            new["image"] = image
        with self.hold_sync(), self.hold_trait_notifications():
            old_shape = self.spatial_shape
            for name, value in new.items():
                setattr(self, name, value)
            if "selected" not in new and self.spatial_shape != old_shape:
                self.set_trait("selected", None)

    @classmethod
    def from_explanation(cls, explanation: Any, image: Any = None, *, output: int | None = None, **kwargs: Any) -> Heatmap:
        """A heatmap of a single-sample :class:`~nbexplain.explanation.Explanation` (``e[i]``).

        The explanation's ``layout`` says how its map is laid out (H x W, C x H x W, or shap's
        H x W x C, moved to channels-first); per-output values pick ``output``, default the
        explanation's ``target``. ``image`` defaults to ``e.data`` when that looks like an
        image of the same H, W (standardised inputs are min-max scaled for display). The
        explainer's note on the map (``e.diagnostics["note"]``, e.g. why a Grad-CAM map is
        all 0 and what to try) becomes the view's ``note`` unless ``note=`` is given.

        Example:
            >>> import torch
            >>> from nbexplain.explainers import get_explainer
            >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, 1, 1), torch.nn.Flatten(), torch.nn.Linear(128, 3))
            >>> e = get_explainer("saliency", cnn).explain(torch.rand(2, 1, 8, 8))
            >>> w = Heatmap.from_explanation(e[0], title="saliency")
            >>> w.spatial_shape, w.title
            ((8, 8), 'saliency')
        """
        e = require_single(explanation, "Heatmap.from_explanation")
        values = e.image_values(pick_output(e, output)) if hasattr(e, "image_values") else pick_output(e, output)
        if image is None:
            image = guess_image(getattr(e, "data", None), values.shape[-2:])
        kwargs.setdefault("value_label", getattr(e, "method", "") or "attribution")
        kwargs.setdefault("note", explanation_note(e))
        return cls(values, image=image, **kwargs)


def explanation_note(explanation: Any) -> str:
    """The explainer's note on one sample's map (``diagnostics["note"]``), ``""`` when there is none.

    Views that show an explanation's map set it as the Heatmap's ``note``, so a map that is
    (nearly) all 0 says why in the widget.

    Example:
        >>> from nbexplain.explanation import Explanation
        >>> e = Explanation(np.zeros((1, 2, 2)), diagnostics={"note": ["all 0: try relu=False"]})
        >>> explanation_note(e[0])
        'all 0: try relu=False'
    """
    note = (getattr(explanation, "diagnostics", None) or {}).get("note", "")
    if isinstance(note, (list, tuple, np.ndarray)):  # one per sample: a batch's first
        note = note[0] if len(note) else ""
    return str(note or "")


def guess_image(data: Any, spatial: tuple[int, ...]) -> np.ndarray | None:
    """``data`` as a display image if it is one with spatial shape ``spatial``, else None.

    Example:
        >>> guess_image(np.zeros((1, 4, 4)), (4, 4)).shape
        (4, 4)
    """
    if data is None:
        return None
    a = to_numpy(data)
    if a.ndim == 3 and a.shape[0] in (1, 3) and tuple(a.shape[1:]) == tuple(spatial):
        a = np.moveaxis(a, 0, -1)  # C x H x W with the map's H, W: settles e.g. 1 x 4 x 4
    try:
        img = to_display_image(a, normalize=True)
    except (traitlets.TraitError, TypeError, ValueError):
        return None
    return img if tuple(img.shape[:2]) == tuple(spatial) else None
