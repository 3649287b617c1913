"""ChannelGrid: many small maps (activation channels, conv filters) as a grid of tiles; click one.

Scalar maps ``(n, h, w)`` are coloured with one colour map and, by default, one scale for the
whole grid, so tiles compare: the scale is ``max |v|`` over all tiles; a grid with any negative
value is *signed* and maps ``v / s`` from [-1, 1] onto the colour map (``cmap="auto"``:
``"RdBu_r"``), an unsigned one maps [0, 1] (``"viridis"``). ``scale="tile"`` scales each tile to
its own ``max |v|`` instead. RGB maps ``(n, h, w, 3)`` with values in [0, 1] are drawn as they
are. Non-finite values are grey. Maps travel as float16 (about 2 bytes per value, relative error
about 1e-3 of the largest magnitude).

Example:
    >>> import numpy as np
    >>> grid = ChannelGrid(np.random.default_rng(0).random((16, 8, 8)), cmap="magma", tile_size=40)
    >>> grid.on_event("select", lambda m: print(m["index"]))
    >>> grid._handle_custom_msg({"event": "select", "index": 5}, [])    # a click on tile 5
    5
    >>> grid.nbytes    # 16 maps of 8x8 as float16
    2048
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ...codec import encode_array
from .._base import NbxWidget
from .._traits import ArrayTrait, to_numpy
from ..views.heatmap import CMAPS

__all__ = ["ChannelGrid"]


def _half(value: np.ndarray | None, _widget: Any) -> dict[str, Any] | None:
    return None if value is None else encode_array(value, precision="float16")


def _exact(value: np.ndarray | None, _widget: Any) -> dict[str, Any] | None:
    return None if value is None else encode_array(value, precision="float32")


def _check_order(order: np.ndarray | None, n: int) -> None:
    if order is None:
        return
    ints = order.astype(np.int64)
    if (
        not np.all(np.isfinite(order))
        or np.any(ints != order)
        or np.any(ints < 0)
        or np.any(ints >= n)
        or len(np.unique(ints)) != len(ints)
    ):
        raise traitlets.TraitError(
            f"order must list distinct tile indices in 0..{n - 1} (the display order, e.g. np.argsort(-means)); "
            f"got {[int(i) for i in order[:8]]}{'...' if len(order) > 8 else ''}"
        )


class ChannelGrid(NbxWidget):
    """A grid of small maps, one canvas per tile with its label below; hover reads values.

    Parameters:
        maps: array ``(n, h, w)`` (scalar maps) or ``(n, h, w, 3)`` (RGB in [0, 1]).
        labels: one string per map (default ``"0"``, ``"1"``, ...), shown under each tile.
        order: the display order, distinct indices into ``maps`` (may be a subset: only those
            tiles show); ``None`` = ``0..n-1``.
        cmap, scale, tile_size, selected: see the traits.

    A click on a tile sets ``selected`` to its index into ``maps`` (not its position) and sends
    ``{"event": "select", "index": i}``. Use :meth:`update` to replace the maps together with
    their labels and order.

    Example:
        >>> g = ChannelGrid(np.zeros((4, 5, 5)), labels=["a", "b", "c", "d"], order=[3, 2, 1, 0])
        >>> g.order, g.labels
        (array([3., 2., 1., 0.]), ['a', 'b', 'c', 'd'])
        >>> g.selected    # nothing clicked
        -1
    """

    _view = traitlets.Unicode("channel_grid").tag(sync=True)
    _extra_kwargs = ("labels", "order")

    maps = ArrayTrait(
        ndims=(3, 4), help="array (n, h, w) or (n, h, w, 3) RGB in [0, 1], required: the tiles (float16 on the wire)."
    ).tag(sync=True, to_json=_half)
    labels = traitlets.List(
        traitlets.Unicode(), help='list of n str, default ["0", ...]: the label under each tile (literal text).'
    ).tag(sync=True)
    order = ArrayTrait(
        ndims=(1,), allow_none=True, help="array of tile indices or None, default None (0..n-1): display order."
    ).tag(sync=True, to_json=_exact)
    cmap = traitlets.Enum(
        ("auto", *CMAPS), "auto", help='str, default "auto": colour map of scalar tiles ("auto": RdBu_r if signed, else viridis).'
    ).tag(sync=True)
    scale = traitlets.Enum(
        ("grid", "tile"), "grid", help='str, default "grid": one colour scale for all tiles, or "tile": one per tile.'
    ).tag(sync=True)
    tile_size = traitlets.Int(48, min=8, max=512, help="int 8..512, default 48: CSS pixels of a tile's width.").tag(sync=True)
    selected = traitlets.Int(-1, min=-1, help="int, default -1: index of the selected tile (-1 = none).").tag(sync=True)

    def __init__(self, maps: Any, labels: Any = None, order: Any = None, **kwargs: Any) -> None:
        m = self._coerce(maps)
        self._deferred = True
        super().__init__(maps=m, labels=self._labels(labels, len(m)), order=self._order(order), **kwargs)
        self._deferred = False
        self._check()

    def update(self, maps: Any, labels: Any = None, order: Any = None, **traits: Any) -> None:
        """Replace the maps (n, h, w may change) with their labels and order, in one message.

        ``selected`` is reset to -1 unless given. Unknown names raise ``TypeError``.

        Example:
            >>> grid = ChannelGrid(np.zeros((4, 5, 5))); grid.selected = 2
            >>> new_maps = np.ones((2, 3, 3))
            >>> grid.update(new_maps, labels=[f"ch {i}" for i in range(len(new_maps))])
            >>> grid.maps.shape, grid.labels, grid.selected
            ((2, 3, 3), ['ch 0', 'ch 1'], -1)
        """
        self._check_kwargs(traits)
        m = self._coerce(maps)
        old = (self.maps, list(self.labels), self.order, self.selected)
        self._deferred = True
        try:
            with self.hold_sync():
                try:
                    self.maps = m
                    self.labels = self._labels(labels, len(m))
                    self.order = self._order(order)
                    self.selected = -1
                    for name, value in traits.items():
                        setattr(self, name, value)
                    self._check()
                except Exception:
                    self.maps, self.labels, self.order, self.selected = old
                    raise
        finally:
            self._deferred = False

    @property
    def nbytes(self) -> int:
        """Bytes of the maps on the wire (float16: 2 per value).

        Example:
            >>> ChannelGrid(np.zeros((64, 56, 56))).nbytes
            401408
        """
        return int(self.maps.size) * 2

    # -- validation ---------------------------------------------------------------------------------
    @staticmethod
    def _coerce(maps: Any) -> np.ndarray:
        a = to_numpy(maps)
        if a.ndim == 2:
            raise traitlets.TraitError(
                f"maps must be (n, h, w) or (n, h, w, 3); got one 2-D map of shape {list(a.shape)} (use maps[None])"
            )
        if a.ndim == 4 and a.shape[-1] != 3:
            raise traitlets.TraitError(
                f"4-D maps must be RGB (n, h, w, 3); got shape {list(a.shape)} (for (n, 3, h, w) use np.moveaxis(maps, 1, -1))"
            )
        if a.ndim in (3, 4) and (a.shape[0] == 0 or a.shape[1] == 0 or a.shape[2] == 0):
            raise traitlets.TraitError(f"maps must hold at least one non-empty tile; got shape {list(a.shape)}")
        if a.ndim == 4 and np.issubdtype(a.dtype, np.number):
            f = a[np.isfinite(a)] if np.issubdtype(a.dtype, np.floating) else a
            if f.size and (f.min() < 0 or f.max() > 1):
                raise traitlets.TraitError(
                    f"RGB maps must lie in [0, 1]; got [{f.min():.4g}, {f.max():.4g}] (min-max scale each tile first)"
                )
        return a

    @staticmethod
    def _labels(labels: Any, n: int) -> list[str]:
        return [str(i) for i in range(n)] if labels is None else [str(x) for x in labels]

    @staticmethod
    def _order(order: Any) -> Any:
        return None if order is None else np.asarray(to_numpy(order), dtype=np.float64).reshape(-1)

    def _check(self) -> None:
        n = int(self.maps.shape[0])
        if len(self.labels) != n:
            raise traitlets.TraitError(f"labels has {len(self.labels)} entries but there are {n} maps: pass one label per map")
        _check_order(self.order, n)
        if self.selected >= n:
            raise traitlets.TraitError(f"selected {self.selected} is outside the {n} maps (use -1 for none)")

    @traitlets.validate("maps")
    def _valid_maps(self, proposal: Any) -> np.ndarray:
        return self._coerce(proposal["value"])

    @traitlets.observe("maps")
    def _on_maps(self, change: Any) -> None:
        if getattr(self, "_deferred", True):
            return
        n = int(change["new"].shape[0])
        with self.hold_sync():
            self._deferred = True
            try:
                if len(self.labels) != n:
                    self.labels = [str(i) for i in range(n)]
                if self.order is not None and (len(self.order) and self.order.max() >= n):
                    self.order = None
                if self.selected >= n:
                    self.selected = -1
            finally:
                self._deferred = False

    @traitlets.validate("labels", "order", "selected")
    def _valid_dependent(self, proposal: Any) -> Any:
        value = proposal["value"]
        if getattr(self, "_deferred", True):
            return value
        n = int(self.maps.shape[0])
        name = proposal["trait"].name
        if name == "labels" and len(value) != n:
            raise traitlets.TraitError(f"labels has {len(value)} entries but there are {n} maps: pass one label per map")
        if name == "order":
            _check_order(value, n)
        if name == "selected" and value >= n:
            raise traitlets.TraitError(f"selected {value} is outside the {n} maps (use -1 for none)")
        return value
