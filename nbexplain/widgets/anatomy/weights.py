"""The Filters and Weights tabs of the layer inspector.

Example:
    >>> import torch
    >>> from nbexplain.widgets.anatomy.view import LayerInspector
    >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(256, 3))
    >>> inspector = LayerInspector(cnn, torch.rand(4, 1, 8, 8))    # inspects the convolution, "0"
    >>> inspector.tabs.selected_index = 2   # builds and draws the Weights tab
    >>> inspector.tab(2).shape.value
    'Conv2d weight [4, 1, 3, 3]: 40 parameters'
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np
from ipywidgets.widgets.widget_string import LabelStyle

from ..charts import show_in
from .charts import BarChart
from .tab_base import _Tab, note_label, set_note

__all__ = ["FiltersTab", "WeightsTab"]


class FiltersTab(_Tab):
    """The selected conv layer's filters (or the first conv's, with a note) as a ``ChannelGrid``."""

    css = "nbx-anatomy-filters"

    def key_now(self) -> Any:
        return self.insp.layer

    def build(self) -> None:
        from .channel_grid import ChannelGrid

        self.note = note_label()
        self.grid = ChannelGrid(np.zeros((1, 1, 1), np.float32), labels=["-"], tile_size=40,
                                layout=ipywidgets.Layout(width="100%", min_width="0"))
        self.box.children = [self.note, self.grid]

    def draw(self) -> None:
        from ...anatomy import filter_maps
        from ...keras_models import is_conv

        insp = self.insp
        module = insp.module(insp.layer)
        conv = is_conv(module, ranks=(2,))
        target = insp.layer if conv else None
        fm = insp.cached(("filters", target), lambda: filter_maps(insp.model, target))
        tiles = np.asarray(fm.tiles, dtype=np.float32)
        note = "" if conv else (f"{insp.layer} is not a convolution; showing the filters of the first "
                                f"convolution, {fm.layer}")
        extra = "RGB filters (each scaled so 0 is mid-grey)" if fm.rgb else "filters averaged over input channels"
        notes = [note, f"{fm.layer}: {len(tiles)} {extra}", *(str(n) for n in getattr(fm, "notes", []) or [])]
        set_note(self.note, "; ".join(t for t in notes if t))
        labels = list(getattr(fm, "labels", None) or [])
        if len(labels) != len(tiles):
            labels = [f"filter {i}" for i in range(len(tiles))]
        self.grid.update(tiles, labels=labels, order=None, tile_size=48 if tiles.shape[1] <= 7 else 64)


class WeightsTab(_Tab):
    """The layer's weight histogram and statistics, and a paged table of every layer's statistics.

    The table is a ``GridBox`` of ``PAGE_ROWS`` rows of Labels that are reused from page to page
    (a ResNet-50 has 161 layers with weights: one Label each would be thousands of widgets);
    it opens on the page of the selected layer, whose row is bold.
    """

    css = "nbx-anatomy-weights"
    COLUMNS = ("layer", "type", "shape", "params", "mean", "std", "|w| mean", "zeros")
    PAGE_ROWS = 16

    def key_now(self) -> Any:
        return self.insp.layer

    def build(self) -> None:
        self.note = note_label()
        self.hist = BarChart("weight value", "count", title="weights of the layer", height=200, y_format=",d")
        self.shape = ipywidgets.Label("")
        self.stats = ipywidgets.Label("")
        self.stats.add_class("nbx-anatomy-weight-stats")
        cell = ipywidgets.Layout(margin="0px")
        self._normal = LabelStyle()
        self._bold = LabelStyle(font_weight="bold")
        header = [ipywidgets.Label(c, layout=cell, style=self._bold) for c in self.COLUMNS]
        self.cells = [[ipywidgets.Label("", layout=cell, style=self._normal) for _ in self.COLUMNS]
                      for _ in range(self.PAGE_ROWS)]
        self.table = ipywidgets.GridBox(header + [c for row in self.cells for c in row], layout=ipywidgets.Layout(
            grid_template_columns=f"repeat({len(self.COLUMNS)}, auto)", grid_gap="0px 10px",
            width="fit-content", max_width="100%", overflow="auto"))
        self.table.add_class("nbx-anatomy-weight-table")
        self.prev = ipywidgets.Button(description="previous", layout=ipywidgets.Layout(width="90px"))
        self.next = ipywidgets.Button(description="next", layout=ipywidgets.Layout(width="90px"))
        self.prev.on_click(lambda _b: self.insp._guard(lambda: self.show_page(self.page - 1)))
        self.next.on_click(lambda _b: self.insp._guard(lambda: self.show_page(self.page + 1)))
        self.page_label = ipywidgets.Label("")
        self.page = 0
        from ..views.heatmap import Heatmap

        # The weight itself as a map (rows: outputs; columns: inputs, or input channel x kernel
        # position for a convolution), block-averaged to at most 256 x 256 cells.
        self.map = Heatmap([[0.0]], title="weight map", value_label="weight", show_controls=False, width=280,
                           opacity=1.0)
        self.map.add_class("nbx-anatomy-weight-map")
        self.map_note = ipywidgets.Label("")
        self.box.children = [self.note, self.shape, self.stats, self.hist.figure, self.map, self.map_note,
                             ipywidgets.HBox([ipywidgets.Label("all layers with weights:"), self.prev, self.next,
                                              self.page_label]), self.table]

    def _summary(self) -> list[Any]:
        from ...anatomy import weight_summary

        return self.insp.cached(("weights",), lambda: weight_summary(self.insp.model))

    def draw(self) -> None:
        summary = self._summary()
        layer = self.insp.layer
        names = [w.name for w in summary]
        self.show_page(names.index(layer) // self.PAGE_ROWS if layer in names else self.page)
        stats = next((w for w in summary if w.name == layer), None)
        if stats is None:
            own = [w.name for w in summary if w.name.startswith(layer + ".")] if layer else []
            hint = f" (its layers with weights: {', '.join(own[:6])}{' ...' if len(own) > 6 else ''})" if own else ""
            set_note(self.note, f"{layer} has no weights of its own{hint}")
            show_in(self.box, self.hist.figure, False)
            self.map.layout.display = "none"
            self.map_note.value = ""
            self.shape.value = self.stats.value = ""
            return
        set_note(self.note, "")
        show_in(self.box, self.hist.figure, True)
        self.hist.set_histogram(stats.counts, stats.edges)
        from ...anatomy import weight_map

        wm = self.insp.cached(("weight_map", layer), lambda: weight_map(self.insp.model, layer))
        self.map.values = wm.values
        self.map.layout.display = "flex"
        blocks = "" if wm.block == (1, 1) else f", each cell the mean of {wm.block[0]} x {wm.block[1]} weights"
        self.map_note.value = (f"rows: {wm.rows_are}; columns: {wm.cols_are}{blocks}" if wm.rows_are
                               else f"{wm.cols_are}{blocks}")
        self.shape.value = f"{stats.type} {stats.param} {list(stats.shape)}: {stats.n_params:,} parameters"
        self.stats.value = (f"mean {stats.mean:.4g}, std {stats.std:.4g}, min {stats.min:.4g}, max {stats.max:.4g}, "
                            f"|w| mean {stats.abs_mean:.4g}, zeros {100 * stats.zeros:.1f}%")

    def show_page(self, page: int) -> None:
        """Show rows ``page * PAGE_ROWS`` onwards of the table (clamped to the pages there are)."""
        summary = self._summary()
        pages = max(1, -(-len(summary) // self.PAGE_ROWS))
        self.page = min(max(0, int(page)), pages - 1)
        rows = summary[self.page * self.PAGE_ROWS:(self.page + 1) * self.PAGE_ROWS]
        with self.table.hold_sync():
            for k, cells in enumerate(self.cells):
                w = rows[k] if k < len(rows) else None
                values = [""] * len(cells) if w is None else [
                    w.name, w.type, "x".join(str(d) for d in w.shape), f"{w.n_params:,}", f"{w.mean:.3g}",
                    f"{w.std:.3g}", f"{w.abs_mean:.3g}", f"{100 * w.zeros:.1f}%"]
                style = self._bold if w is not None and w.name == self.insp.layer else self._normal
                for cell, value in zip(cells, values, strict=True):
                    cell.value = value
                    if cell.style is not style:
                        cell.style = style
        first = self.page * self.PAGE_ROWS
        self.page_label.value = f"rows {first + 1}-{first + len(rows)} of {len(summary)}"
        self.prev.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1
