"""The Activations tab of the layer inspector: channel maps, the enlarged channel, the histogram.

Example:
    >>> import torch
    >>> from nbexplain.widgets.anatomy.view import LayerInspector
    >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(256, 3))
    >>> inspector = LayerInspector(cnn, torch.rand(4, 1, 8, 8))    # inspects the convolution, "0"
    >>> inspector.tabs.selected_index = 0   # builds and draws this tab (the first tab: shown already)
    >>> tab = inspector.tab(0); tab.built, tab.grid.maps.shape, tab.grid.labels[:2]    # a map per channel
    (True, (4, 8, 8), ['channel 0', 'channel 1'])
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from .charts import BarChart
from .tab_base import HIST_BINS, MAX_DENSE_BARS, _Tab, grid_max_size, note_label, set_note

__all__ = ["ActivationsTab"]

#: CSS pixels of the enlarged channel beside the grid.
ENLARGED_PX = 180


def tile_size(n: int) -> int:
    """CSS pixels of a channel tile for a layer of ``n`` channels: smaller as there are more,
    so several columns fit beside the enlarged channel at the notebook's default width.

    Example:
        >>> [tile_size(n) for n in (8, 16, 64, 128, 512)]
        [56, 56, 44, 36, 28]
    """
    return 56 if n <= 16 else 44 if n <= 64 else 36 if n <= 128 else 28


class ActivationsTab(_Tab):
    """Channel maps (``ChannelGrid``) or dense bars, the enlarged channel, the value histogram."""

    css = "nbx-anatomy-activations"

    def build(self) -> None:
        from .channel_grid import ChannelGrid

        self.sort = ipywidgets.Dropdown(options=[("mean", "mean"), ("max", "max"), ("index", "index")],
                                        value="mean", description="sort by",
                                        layout=ipywidgets.Layout(width="190px"))
        self.sort.observe(lambda _c: self.insp._guard(self._apply_order), names="value")
        # The grid takes the width beside the enlarged channel (as many columns as fit); its
        # tiles scroll inside the view, below its colour scale, which stays in sight.
        self.grid = ChannelGrid(np.zeros((1, 1, 1), np.float32), labels=["-"], tile_size=48,
                                layout=ipywidgets.Layout(flex="1 1 auto", width="auto", min_width="0"))
        self.grid.on_event("select", lambda msg: self.insp._guard(lambda: self.enlarge(int(msg["index"]))))
        self.enlarged: Any = None  # a Heatmap, made at the first click
        self.enlarged_box = ipywidgets.VBox([note_label("click a channel to see it enlarged over the input")],
                                            layout=ipywidgets.Layout(width=f"{ENLARGED_PX + 16}px", flex="0 0 auto"))
        self.grid_row = ipywidgets.HBox([self.grid, self.enlarged_box],
                                        layout=ipywidgets.Layout(grid_gap="12px", align_items="flex-start",
                                                                 width="100%"))
        self.dense_chart: BarChart | None = None
        self.dense_box = ipywidgets.VBox([], layout=ipywidgets.Layout(display="none"))
        self.note = note_label()
        self.hist = BarChart("activation value", "count", title="activation values", height=200, y_format=",d")
        self.stats = ipywidgets.Label("")
        self.stats.add_class("nbx-anatomy-act-stats")
        self.conv_controls = ipywidgets.HBox([self.sort])
        self.box.children = [self.conv_controls, self.grid_row, self.dense_box, self.note, self.hist.figure,
                             self.stats]

    def draw(self) -> None:
        from ...anatomy import activation_maps

        insp = self.insp
        layer, s = insp.layer, insp.sample
        shape = list(insp.node(layer).output_shape or [])
        size = grid_max_size(*shape[1:4]) if len(shape) == 4 else 64
        maps = insp.cached(("activations", layer, s),
                           lambda: activation_maps(insp.model, insp.x[s:s + 1], layer, max_size=size, sort="none"))
        counts, edges = insp.cached(("histogram", layer, s), lambda: maps.histogram(bins=HIST_BINS))
        self.maps = maps
        conv = maps.kind == "conv"
        self.conv_controls.layout.display = "flex" if conv else "none"
        self.grid_row.layout.display = "flex" if conv else "none"
        self.dense_box.layout.display = "none" if conv else "flex"
        notes = list(getattr(maps, "notes", None) or [])
        if conv:
            data = np.asarray(maps.maps, dtype=np.float32)
            full = list(getattr(maps, "full_shape", data.shape))
            if tuple(full[-2:]) != tuple(data.shape[-2:]):
                notes.append(f"maps averaged from {full[-2]}x{full[-1]} to {data.shape[1]}x{data.shape[2]} "
                             "(click a channel for full resolution)")
            tile = tile_size(len(data))
            word = "channel " if tile >= 56 else "ch " if tile >= 36 else ""  # the label fits under the tile
            self.grid.update(data, labels=[f"{word}{c}" for c in range(len(data))], order=self._order(),
                             tile_size=tile)
            self._reset_enlarged()
            mean = float(np.mean(maps.mean))
            hi = float(np.max(maps.max))
        else:
            values = np.asarray(maps.values, dtype=np.float64).reshape(-1)
            self._draw_dense(values)
            mean, hi = float(values.mean()), float(values.max())
        set_note(self.note, "; ".join(str(n) for n in notes))
        self.hist.set_histogram(counts, edges)
        lo = float(np.asarray(edges)[0])
        self.stats.value = f"min {lo:.4g}   mean {mean:.4g}   max {hi:.4g}   ({int(np.sum(counts)):,} values)"

    def _order(self) -> np.ndarray:
        maps = self.maps
        key = {"mean": np.asarray(maps.mean), "max": np.asarray(maps.max)}.get(self.sort.value)
        n = len(maps.mean)
        return np.arange(n) if key is None else np.argsort(-key.reshape(-1), kind="stable")

    def _apply_order(self) -> None:
        maps = getattr(self, "maps", None)
        if maps is not None and maps.kind == "conv":
            self.grid.order = self._order()

    def _draw_dense(self, values: np.ndarray) -> None:
        if self.dense_chart is None:
            self.dense_chart = BarChart("unit", "activation", title="activations of the units", height=220)
            self.dense_note = note_label()
            self.dense_box.children = [self.dense_chart.figure, self.dense_note]
        idx = np.arange(len(values))
        if len(values) > MAX_DENSE_BARS:
            idx = np.sort(np.argsort(-np.abs(values), kind="stable")[:MAX_DENSE_BARS])
            set_note(self.dense_note, f"the {MAX_DENSE_BARS} largest |activations| of {len(values)} units")
        else:
            set_note(self.dense_note, "")
        self.dense_chart.set(idx, values[idx])

    def _reset_enlarged(self) -> None:
        self.channel = -1
        if self.enlarged is not None:
            self.enlarged.layout.display = "none"
        self.enlarged_box.children[0].layout.display = "flex"

    def enlarge(self, channel: int) -> None:
        """Show ``channel`` of the current layer at full resolution over the input image.

        The map comes from ``channel_map``; when the input picture has another size than the
        layer's output, the map is resized to the picture (bilinear, by ``channel_map``'s
        ``size``), so it lines up with the image.
        """
        from ...anatomy import channel_map
        from ..views.heatmap import Heatmap

        insp = self.insp
        layer, s = insp.layer, insp.sample
        n = len(self.grid.maps)
        if not 0 <= channel < n:
            raise IndexError(f"channel {channel} is out of range: {layer} has {n} channels")
        image = insp.image(s)
        size = None if image is None else tuple(int(v) for v in image.shape[:2])
        full = tuple(self.maps.full_shape[-2:])
        if size is None or size == full:
            values = self.maps.channel(channel)  # full resolution already captured: no forward pass
        else:
            values = insp.cached(("channel", layer, s, channel),
                                 lambda: channel_map(insp.model, insp.x[s:s + 1], layer, channel, size=size))
        values = np.asarray(values, dtype=np.float32)
        title = f"{layer} channel {channel}"
        if self.enlarged is None:
            self.enlarged = Heatmap(values, image=image, title=title, show_controls=False, width=ENLARGED_PX,
                                    value_label="activation", opacity=0.7)
            self.enlarged_box.children = [self.enlarged_box.children[0], self.enlarged]
        else:
            self.enlarged.update(values=values, image=image, title=title)
        self.enlarged.layout.display = "flex"
        self.enlarged_box.children[0].layout.display = "none"
        self.channel = channel
        if self.grid.selected != channel:
            self.grid.selected = channel
