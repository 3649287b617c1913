"""The five tabs of the layer inspector; each builds its widgets when first shown.

A tab has ``.box`` (the ``VBox`` in the ``Tab``) and ``show()``, which draws the inspector's
current layer and sample. ``show()`` recomputes only when its key (layer, sample) changed, and
every computation goes through the inspector's cache (``LayerInspector.cached``), so switching
back and forth costs nothing. Errors raised here are caught by the inspector and shown in its
error line.

Example:
    >>> inspector.tabs.selected_index = 3   # builds and draws the Gradients tab  # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import ipywidgets
import numpy as np
from ipywidgets.widgets.widget_string import LabelStyle

from .anatomy_charts import HIGHLIGHT, BarChart, CurveChart

if TYPE_CHECKING:
    from .anatomy import LayerInspector

__all__ = ["EXPLODING", "TAB_CLASSES", "TAB_TITLES", "VANISHING", "grid_max_size"]

#: Gradient norms below this are flagged as vanishing, above ``EXPLODING`` as exploding.
VANISHING = 1e-7
EXPLODING = 1e3
VANISHING_COLOR = "#9467bd"
EXPLODING_COLOR = "#d62728"
NORMAL_COLOR = "#4c78a8"
#: Channel-map values sent for one layer at most (float16: 2 bytes each, so ~0.9 MB).
MAX_GRID_VALUES = 450_000
HIST_BINS = 50
MAX_DENSE_BARS = 512


def grid_max_size(channels: int, height: int, width: int, cap: int = 64) -> int:
    """The ``max_size`` for ``activation_maps`` so that ``channels`` maps stay under ``MAX_GRID_VALUES``.

    Example:
        >>> grid_max_size(256, 56, 56), grid_max_size(2048, 7, 7), grid_max_size(64, 112, 112)
        (41, 14, 64)
    """
    side = math.floor(math.sqrt(MAX_GRID_VALUES / max(1, channels)))
    return max(1, min(cap, side))


def _note(text: str = "") -> ipywidgets.Label:
    label = ipywidgets.Label(text, layout=ipywidgets.Layout(display="flex" if text else "none"))
    label.add_class("nbx-anatomy-note")
    return label


def _set_note(label: ipywidgets.Label, text: str) -> None:
    label.value = text
    label.layout.display = "flex" if text else "none"


class _Tab:
    """A lazily built tab: ``build()`` once, ``draw()`` when the key changed."""

    css = ""

    def __init__(self, insp: LayerInspector) -> None:
        self.insp = insp
        self.box = ipywidgets.VBox([], layout=ipywidgets.Layout(padding="6px 4px", grid_gap="6px"))
        self.box.add_class("nbx-anatomy-tab")
        if self.css:
            self.box.add_class(self.css)
        self.built = False
        self.key: Any = None

    def key_now(self) -> Any:
        return (self.insp.layer, self.insp.sample)

    def show(self) -> None:
        if not self.built:
            self.build()
            self.built = True
        key = self.key_now()
        if key != self.key:
            self.key = None  # a failure leaves the tab stale, so the next show retries
            self.draw()
            self.key = key

    def build(self) -> None:
        raise NotImplementedError

    def draw(self) -> None:
        raise NotImplementedError


class ActivationsTab(_Tab):
    """Channel maps (``ChannelGrid``) or dense bars, the enlarged channel, the value histogram."""

    css = "nbx-anatomy-activations"

    def build(self) -> None:
        from .channel_grid import ChannelGrid

        self.sort = ipywidgets.Dropdown(options=[("mean", "mean"), ("max", "max"), ("index", "index")],
                                        value="mean", description="sort by",
                                        layout=ipywidgets.Layout(width="190px"))
        self.sort.observe(lambda _c: self.insp._guard(self._apply_order), names="value")
        self.grid = ChannelGrid(np.zeros((1, 1, 1), np.float32), labels=["-"], tile_size=48,
                                layout=ipywidgets.Layout(max_height="520px", overflow="auto", flex="1 1 auto",
                                                         width="auto"))
        self.grid.on_event("select", lambda msg: self.insp._guard(lambda: self.enlarge(int(msg["index"]))))
        self.enlarged: Any = None  # a Heatmap, made at the first click
        self.enlarged_box = ipywidgets.VBox([_note("click a channel to see it enlarged over the input")],
                                            layout=ipywidgets.Layout(width="290px", flex="0 0 auto"))
        self.grid_row = ipywidgets.HBox([self.grid, self.enlarged_box],
                                        layout=ipywidgets.Layout(grid_gap="12px", align_items="flex-start"))
        self.dense_chart: BarChart | None = None
        self.dense_box = ipywidgets.VBox([], layout=ipywidgets.Layout(display="none"))
        self.note = _note()
        self.hist = BarChart("activation value", "count", title="activation values", height=200, y_format=",d")
        self.stats = ipywidgets.Label("")
        self.stats.add_class("nbx-anatomy-act-stats")
        self.conv_controls = ipywidgets.HBox([self.sort])
        self.box.children = [self.conv_controls, self.grid_row, self.dense_box, self.note, self.hist.figure,
                             self.stats]

    def draw(self) -> None:
        from ..anatomy import activation_maps

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
            tile = 64 if len(data) <= 16 else 48 if len(data) <= 128 else 32
            word = {64: "channel ", 48: "ch "}.get(tile, "")  # the label fits under the tile
            self.grid.update(data, labels=[f"{word}{c}" for c in range(len(data))], order=self._order(),
                             tile_size=tile)
            self._reset_enlarged()
            mean = float(np.mean(maps.mean))
            hi = float(np.max(maps.max))
        else:
            values = np.asarray(maps.values, dtype=np.float64).reshape(-1)
            self._draw_dense(values)
            mean, hi = float(values.mean()), float(values.max())
        _set_note(self.note, "; ".join(str(n) for n in notes))
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
            self.dense_note = _note()
            self.dense_box.children = [self.dense_chart.figure, self.dense_note]
        idx = np.arange(len(values))
        if len(values) > MAX_DENSE_BARS:
            idx = np.sort(np.argsort(-np.abs(values), kind="stable")[:MAX_DENSE_BARS])
            _set_note(self.dense_note, f"the {MAX_DENSE_BARS} largest |activations| of {len(values)} units")
        else:
            _set_note(self.dense_note, "")
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
        from ..anatomy import channel_map
        from .heatmap import Heatmap

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
            self.enlarged = Heatmap(values, image=image, title=title, show_controls=False, width=260,
                                    value_label="activation", opacity=0.7)
            self.enlarged_box.children = [self.enlarged_box.children[0], self.enlarged]
        else:
            self.enlarged.update(values=values, image=image, title=title)
        self.enlarged.layout.display = "flex"
        self.enlarged_box.children[0].layout.display = "none"
        self.channel = channel
        if self.grid.selected != channel:
            self.grid.selected = channel


class FiltersTab(_Tab):
    """The selected conv layer's filters (or the first conv's, with a note) as a ``ChannelGrid``."""

    css = "nbx-anatomy-filters"

    def key_now(self) -> Any:
        return self.insp.layer

    def build(self) -> None:
        from .channel_grid import ChannelGrid

        self.note = _note()
        self.grid = ChannelGrid(np.zeros((1, 1, 1), np.float32), labels=["-"], tile_size=40,
                                layout=ipywidgets.Layout(max_height="460px", overflow="auto"))
        self.box.children = [self.note, self.grid]

    def draw(self) -> None:
        import torch

        from ..anatomy import filter_maps

        insp = self.insp
        module = insp.module(insp.layer)
        conv = isinstance(module, torch.nn.Conv2d)
        target = insp.layer if conv else None
        fm = insp.cached(("filters", target), lambda: filter_maps(insp.model, target))
        tiles = np.asarray(fm.tiles, dtype=np.float32)
        note = "" if conv else (f"{insp.layer} is not a convolution; showing the filters of the first "
                                f"convolution, {fm.layer}")
        extra = "RGB filters (each scaled so 0 is mid-grey)" if fm.rgb else "filters averaged over input channels"
        notes = [note, f"{fm.layer}: {len(tiles)} {extra}", *(str(n) for n in getattr(fm, "notes", []) or [])]
        _set_note(self.note, "; ".join(t for t in notes if t))
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
        self.note = _note()
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
            grid_template_columns=f"repeat({len(self.COLUMNS)}, auto)", grid_gap="0px 14px",
            width="fit-content", max_width="100%", overflow="auto"))
        self.table.add_class("nbx-anatomy-weight-table")
        self.prev = ipywidgets.Button(description="previous", layout=ipywidgets.Layout(width="90px"))
        self.next = ipywidgets.Button(description="next", layout=ipywidgets.Layout(width="90px"))
        self.prev.on_click(lambda _b: self.insp._guard(lambda: self.show_page(self.page - 1)))
        self.next.on_click(lambda _b: self.insp._guard(lambda: self.show_page(self.page + 1)))
        self.page_label = ipywidgets.Label("")
        self.page = 0
        from .heatmap import Heatmap

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
        from ..anatomy import weight_summary

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
            _set_note(self.note, f"{layer} has no weights of its own{hint}")
            self.hist.figure.layout.display = "none"
            self.map.layout.display = "none"
            self.map_note.value = ""
            self.shape.value = self.stats.value = ""
            return
        _set_note(self.note, "")
        self.hist.figure.layout.display = "flex"
        self.hist.set_histogram(stats.counts, stats.edges)
        from ..anatomy import weight_map

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


class GradientsTab(_Tab):
    """Per-layer gradient norms (log scale option, vanishing/exploding coloured) and a histogram."""

    css = "nbx-anatomy-gradients"

    def key_now(self) -> Any:
        return (self.insp.layer, self.log.value if self.built else False)

    def build(self) -> None:
        self.log = ipywidgets.Checkbox(value=True, description="log scale", indent=False,
                                       layout=ipywidgets.Layout(width="110px"))
        self.log.observe(lambda _c: self.insp._guard(self.show), names="value")
        self.summary = ipywidgets.Label("")
        self.summary.add_class("nbx-anatomy-grad-summary")
        self.flags = ipywidgets.Label("")
        self.flags.add_class("nbx-anatomy-grad-flags")
        self.norms = self._norms_chart(True)
        self.note = _note()
        self.hist = BarChart("gradient value", "count", title="gradients of the layer", height=200, y_format=",d")
        self.box.children = [ipywidgets.HBox([self.log, self.summary], layout=ipywidgets.Layout(grid_gap="10px")),
                             self.flags, self.norms.figure, self.note, self.hist.figure]

    @staticmethod
    def _norms_chart(log: bool) -> BarChart:
        return BarChart("layer", "gradient norm", title="weight-gradient norm per layer", ordinal=True, height=280,
                        log=log)

    def report(self) -> Any:
        """The gradient report of the batch (computed once, cached)."""
        from ..anatomy import capture_gradients

        insp = self.insp
        return insp.cached(("gradients",), lambda: capture_gradients(insp.model, insp.x, insp.y, loss=insp.loss))

    def draw(self) -> None:
        insp = self.insp
        rep = self.report()
        layers = list(rep.layers)
        norms = np.asarray(rep.norms, dtype=np.float64).reshape(-1)
        colors = [EXPLODING_COLOR if v > EXPLODING else VANISHING_COLOR if v < VANISHING else NORMAL_COLOR
                  for v in norms]
        if insp.layer in layers:
            colors[layers.index(insp.layer)] = HIGHLIGHT
        self.norms.set_log(self.log.value)
        self.norms.set(layers, norms, colors)
        vanishing = [n for n, v in zip(layers, norms, strict=True) if v < VANISHING]
        exploding = [n for n, v in zip(layers, norms, strict=True) if v > EXPLODING]
        labels = "the labels given" if insp.y is not None else "the predicted labels"
        loss = insp.loss if isinstance(insp.loss, str) else getattr(insp.loss, "__name__", "custom")
        self.summary.value = f"{loss} loss {rep.loss:.4g} on {insp.n_samples} sample(s), {labels}"
        self.flags.value = (f"purple: vanishing (< {VANISHING:g}): {len(vanishing)}; red: exploding "
                            f"(> {EXPLODING:g}): {len(exploding)}; orange: this layer")
        if insp.layer in layers:
            counts, edges = insp.cached(("grad_hist", insp.layer), lambda: rep.histogram(insp.layer, bins=40))
            self.hist.figure.layout.display = "flex"
            self.hist.set_histogram(counts, edges)
            _set_note(self.note, "")
        else:
            self.hist.figure.layout.display = "none"
            _set_note(self.note, f"{insp.layer} has no parameters: no gradient histogram")


class ActivationFnTab(_Tab):
    """The layer's activation function (or the next one after it) and its derivative."""

    css = "nbx-anatomy-activation-fn"

    def key_now(self) -> Any:
        return self.insp.layer

    def build(self) -> None:
        self.note = _note()
        self.chart = CurveChart()
        self.box.children = [self.note, self.chart.figure]

    def draw(self) -> None:
        from ..anatomy import activation_curve, layer_activation

        insp = self.insp
        name, module = insp.layer, layer_activation(insp.model, insp.layer)
        note = ""
        if module is None:
            name, module = insp.next_activation(insp.layer)
            if module is None:
                _set_note(self.note, f"no activation function at or after {insp.layer}")
                self.chart.figure.layout.display = "none"
                return
            note = f"{insp.layer} is not an activation; showing the next one after it, {name} ({type(module).__name__})"
        curve = insp.cached(("curve", name), lambda: activation_curve(module))
        _set_note(self.note, note or f"{name}: {curve.name}")
        self.chart.figure.layout.display = "flex"
        self.chart.set(curve.x, curve.y, curve.dy, curve.name)


TAB_CLASSES: tuple[type[_Tab], ...] = (ActivationsTab, FiltersTab, WeightsTab, GradientsTab, ActivationFnTab)
TAB_TITLES: tuple[str, ...] = ("Activations", "Filters", "Weights", "Gradients", "Activation function")
