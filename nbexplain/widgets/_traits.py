"""Trait types that validate arrays once, at the widget boundary, and sync them as binary.

:class:`ArrayTrait` accepts numpy arrays, torch tensors and nested lists, coerces them to a
read-only numpy array (so an in-place edit cannot silently skip the sync), checks the number of
dimensions, and serialises with the one codec (:mod:`nbexplain.codec`): a small dict plus one
binary buffer, never a JSON list of numbers. ``kind="image"`` additionally coerces pictures to
``uint8`` H x W or H x W x 3.

Example:
    >>> import traitlets
    >>> class Holder(traitlets.HasTraits):
    ...     v = ArrayTrait(ndims=(1,), help="a vector")
    >>> Holder(v=[1, 2, 3]).v
    array([1., 2., 3.])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ..codec import decode_array, encode_array
from ..models import to_numpy  # the one converter; re-exported for the widgets

__all__ = ["ArrayTrait", "array_from_json", "array_to_json", "to_display_image", "to_numpy"]


def array_to_json(value: np.ndarray | None, widget: Any) -> dict[str, Any] | None:
    """Serialise an array trait with the codec, at ``widget.precision`` when the widget has one.

    Example:
        >>> array_to_json(np.zeros(2), None)["dtype"]
        'float32'
    """
    if value is None:
        return None
    precision = getattr(widget, "precision", "float32")
    return encode_array(value, precision=precision)  # type: ignore[arg-type]


def array_from_json(value: dict[str, Any] | None, widget: Any) -> np.ndarray | None:
    """Decode an encoded array coming from the browser (for example the what-if ``sample``).

    Example:
        >>> array_from_json(encode_array(np.ones(2)), None)
        array([1., 1.], dtype=float32)
    """
    if value is None:
        return None
    return decode_array(value)


def to_display_image(array: Any, normalize: bool = False) -> np.ndarray:
    """Coerce a picture to ``uint8`` H x W (grey) or H x W x 3 (RGB) for display.

    Accepted: ``uint8``; floats in [0, 1] (scaled by 255) or in [0, 255]; C x H x W with C in
    (1, 3, 4) (transposed); H x W x 1 (squeezed); RGBA (alpha dropped). With ``normalize=True``
    any float range is min-max scaled to [0, 255] first (for model inputs that were
    standardised). Presentation only: no statistics beyond min and max.

    Example:
        >>> to_display_image(np.ones((3, 4, 5)) * 0.5).shape
        (4, 5, 3)
    """
    a = to_numpy(array)
    expected = "uint8 or float H x W, H x W x 3 (or x 1, x 4), or C x H x W with C in (1, 3)"
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[2] not in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise traitlets.TraitError(f"an image must be {expected}; got shape {list(a.shape)}")
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.astype(np.uint8) * 255
    if not np.issubdtype(a.dtype, np.number):
        raise traitlets.TraitError(f"an image must hold numbers, got dtype {a.dtype}")
    f = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(f.min()), float(f.max())) if f.size else (0.0, 0.0)
    if normalize and (lo < 0.0 or hi > 255.0 or hi <= 1.0):
        f = (f - lo) / (hi - lo) if hi > lo else np.zeros_like(f)
        hi = 1.0
    elif lo < 0.0 or hi > 255.0:
        raise traitlets.TraitError(
            f"image values must lie in [0, 1] or [0, 255]; got [{lo:.4g}, {hi:.4g}] "
            "(pass a uint8 image, or rescale it)"
        )
    if hi <= 1.0:
        f = f * 255.0
    return np.clip(np.rint(f), 0, 255).astype(np.uint8)


class ArrayTrait(traitlets.TraitType[Any, Any]):
    """A numpy array trait, synced with the binary codec.

    Parameters:
        ndims: allowed numbers of dimensions, for example ``(2, 3)``.
        kind: ``"float"`` (any numbers, kept as float32 or float64) or ``"image"``
            (coerced to uint8 H x W or H x W x 3 by :func:`to_display_image`).
        allow_none: whether ``None`` is valid (the default is then ``None``).
        help: the docstring, stating type and default.

    Values are copied and made read-only: assign a new array to change a trait.

    Example:
        >>> import traitlets
        >>> class W(traitlets.HasTraits):
        ...     m = ArrayTrait(ndims=(2,), help="a matrix")
        >>> W(m=np.eye(2)).m.flags.writeable
        False
    """

    info_text = "an array"

    def __init__(
        self,
        *,
        ndims: tuple[int, ...] = (1,),
        kind: str = "float",
        allow_none: bool = False,
        help: str = "",
        **kwargs: Any,
    ) -> None:
        if kind not in ("float", "image"):
            raise ValueError(f"kind must be 'float' or 'image', got {kind!r}")
        self.ndims = tuple(ndims)
        self.kind = kind
        default = None if allow_none else traitlets.Undefined
        super().__init__(default_value=default, allow_none=allow_none, help=help, **kwargs)
        self.metadata.update(to_json=array_to_json, from_json=array_from_json)

    def validate(self, obj: Any, value: Any) -> np.ndarray | None:
        """Coerce ``value`` to a read-only numpy array, or raise a ``TraitError`` naming the shape."""
        if value is None:
            if self.allow_none:
                return None
            self.error(obj, value)
        where = f"'{self.name}' of {type(obj).__name__}"
        if isinstance(value, dict) and "dtype" in value and "data" in value:
            value = decode_array(value)  # an encoded array, e.g. from a saved state
        try:
            a = to_numpy(value)
        except Exception as exc:  # ragged lists, odd objects
            raise traitlets.TraitError(f"{where} must be an array; {exc}") from exc
        if self.kind == "image":
            try:
                a = to_display_image(a)
            except traitlets.TraitError as exc:
                raise traitlets.TraitError(f"{where}: {exc}") from None
            a = np.array(a, copy=True)
        else:
            if a.ndim not in self.ndims:
                want = " or ".join(f"{n}-D" for n in self.ndims)
                raise traitlets.TraitError(
                    f"{where} must be {want}; got shape {list(a.shape)} ({a.ndim}-D)"
                )
            if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
                raise traitlets.TraitError(f"{where} must hold numbers, got dtype {a.dtype}")
            if np.iscomplexobj(a):
                raise traitlets.TraitError(f"{where} must be real, got dtype {a.dtype}")
            dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float64
            a = np.array(a, dtype=dtype, copy=True)
        a.flags.writeable = False
        return a
