"""What LIME's samples of an image or a document looked like, for :class:`~nbexplain.widgets.LimeNeighbourhoodView`.

:class:`ImageStrip`: a strip of the masked images the model saw (the instance first, then
samples from the nearest to the farthest), each labelled with its kernel weight and the model's
output, as one :class:`~nbexplain.widgets.ChannelGrid` (arrays through the codec, float16;
labels are text), beside a :class:`~nbexplain.widgets.Heatmap` of the surrogate's coefficients
painted on their superpixels. :class:`TextStrip`: the kept words of a few samples, one
:class:`~nbexplain.widgets.TextTokens` each (removed words struck through, every word coloured by
its coefficient; words are text, never HTML). Which samples are shown does not depend on the
kernel width (they are picked by distance), so a refit only changes their labels and colours.

Example:
    >>> import numpy as np
    >>> from nbexplain.explainers.teaching.lime_neighbourhood import NeighbourhoodSession
    >>> f = lambda d: np.array([[0.2, 0.8] if "good" in t else [0.9, 0.1] for t in d])
    >>> nb = NeighbourhoodSession.for_text(f, "a good day", num_samples=30, n_seeds=1).run()
    >>> strip = TextStrip(count=3); strip.show(nb, "P(class 1)")
    >>> len(strip.views), strip.views[0].tokens
    (3, ['a', 'good', 'day'])
    >>> strip.close()
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from ...explainers.teaching.lime_samples import kept_words, masked_images, strip_indices
from .._base import ClosesTree, replace_children
from .._format import format_number
from ..charts import chart_title

__all__ = ["ImageStrip", "TextStrip", "sample_label"]

TILE_PX = 64  # longest side of a masked image in the strip (every k-th pixel kept)
TILE_CSS_PX = 84  # the tile's width on the page: room for its label


def sample_label(nb: Any, i: int, short: bool = True) -> str:
    """A sample's label: kernel weight and the model's output (short, under a tile: the instance is
    "instance"), or its number, kernel weight and the model's output.

    Example:
        >>> from types import SimpleNamespace
        >>> nb = SimpleNamespace(weights=np.array([1.0, 0.4213]), y=np.array([0.9, 0.31]))
        >>> sample_label(nb, 0), sample_label(nb, 1), sample_label(nb, 1, short=False)
        ('instance', 'w 0.42 · 0.31', 'sample 1 · kernel weight 0.421 · model 0.31')
    """
    if short:
        return "instance" if i == 0 else f"w {nb.weights[i]:.2f} · {nb.y[i]:.2f}"
    w, y = format_number(nb.weights[i]), format_number(nb.y[i])
    return f"{'instance' if i == 0 else f'sample {i}'} · kernel weight {w} · model {y}"


def _display_range(nb: Any) -> tuple[float, float]:
    both = np.concatenate([np.ravel(nb.extra["image"]), np.ravel(nb.extra["hidden"])])
    lo, hi = float(np.min(both)), float(np.max(both))
    return lo, (hi if hi > lo else lo + 1.0)


class ImageStrip(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """The masked images of ``count`` samples (a :class:`ChannelGrid`, ``.grid``; a tile's label: kernel
    weight ``w`` and the model's output) and, in ``.coefficients_box`` (for the view to place beside
    the fit), the coefficients on the superpixels (a :class:`Heatmap`, ``.coefficients``).
    ``indices`` are the samples shown. CSS class ``nbx-lime-strip``.

    Example:
        >>> from nbexplain.explainers.teaching.lime_neighbourhood import NeighbourhoodSession
        >>> img = np.zeros((8, 8, 3)); img[:, 4:] = 1.0
        >>> f = lambda B: np.stack([1 - B[..., 0].mean((1, 2)), B[..., 0].mean((1, 2))], 1)
        >>> nb = NeighbourhoodSession.for_image(f, img, segmentation=lambda im: (im[..., 0] > 0.5).astype(int),
        ...                                     hide_color=0.0, num_samples=30, n_seeds=1).run()
        >>> strip = ImageStrip(count=4); strip.show(nb, "P(class 1)")
        >>> strip.grid.maps.shape, strip.grid.labels[0]
        ((4, 8, 8, 3), 'instance')
        >>> strip.close()
    """

    def __init__(self, count: int = 24) -> None:
        self.count = int(count)
        self.indices = np.zeros(1, dtype=np.int64)
        self.grid: Any = None
        self.coefficients: Any = None
        self.title = chart_title("The images LIME showed the model (superpixels switched off: hidden)")
        self.note = ipywidgets.Label("")
        self.note.add_class("nbx-chart-note")
        self.grid_box = ipywidgets.Box([], layout=ipywidgets.Layout(width="100%"))
        self.coefficients_box = ipywidgets.VBox([chart_title("The coefficients on the superpixels")],
                                                layout=ipywidgets.Layout(flex="1 1 300px", min_width="280px"))
        self.coefficients_box.add_class("nbx-lime-coefficients")
        super().__init__([self.title, self.note, self.grid_box], layout=ipywidgets.Layout(width="100%"))
        self.add_class("nbx-lime-strip")

    def show(self, nb: Any, output_name: str) -> None:
        """Draw the samples of ``nb`` (new tiles only when the samples changed; labels always)."""
        from ..anatomy.channel_grid import ChannelGrid
        from ..views.heatmap import Heatmap

        lo, hi = _display_range(nb)
        indices = strip_indices(nb, self.count)
        labels = [sample_label(nb, int(i)) for i in indices]
        coef_map = nb.coef[nb.extra["segments"]]
        same = self.grid is not None and np.array_equal(indices, self.indices) and getattr(self, "_key", None) == (
            nb.seed, nb.num_samples)
        image = np.clip((nb.extra["image"] - lo) / (hi - lo), 0.0, 1.0)
        if self.grid is None:
            tiles = np.clip((masked_images(nb, indices, TILE_PX) - lo) / (hi - lo), 0.0, 1.0)
            self.grid = ChannelGrid(tiles, labels=labels, tile_size=TILE_CSS_PX,
                                    layout=ipywidgets.Layout(width="100%"))  # the tiles wrap at the row's width
            self.coefficients = Heatmap(coef_map, image=image, cmap="RdBu_r", opacity=0.7, clip_percentile=100.0,
                                        width=260, value_label="coefficient", show_controls=False)
            replace_children(self.grid_box, [self.grid])
            replace_children(self.coefficients_box, [*self.coefficients_box.children[:1], self.coefficients])
        elif same:
            self.grid.labels = labels
            self.coefficients.update(values=coef_map)
        else:
            tiles = np.clip((masked_images(nb, indices, TILE_PX) - lo) / (hi - lo), 0.0, 1.0)
            self.grid.update(tiles, labels=labels)
            self.coefficients.update(values=coef_map, image=image)
        self.indices, self._key = indices, (nb.seed, nb.num_samples)
        step = max(1, int(np.ceil(max(nb.extra["segments"].shape) / TILE_PX)))
        scale = f", every {step}th pixel" if step > 1 else ""
        self.note.value = (f"{len(indices)} of {nb.num_samples:,} samples, the instance first, then from the nearest "
                           f"to the farthest (label: kernel weight w · the model's {output_name}{scale}).")


class TextStrip(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """The kept words of ``count`` samples, one :class:`TextTokens` each (``.views``): removed words struck
    through, each word coloured by its coefficient, the model's output as the prediction, the
    sample's kernel weight in its note. ``indices`` are the samples shown. CSS class ``nbx-lime-strip``."""

    def __init__(self, count: int = 8) -> None:
        self.count = int(count)
        self.indices = np.zeros(1, dtype=np.int64)
        self.views: list[Any] = []
        self.title = chart_title("The documents LIME showed the model (struck through: words removed)")
        self.note = ipywidgets.Label("")
        self.note.add_class("nbx-chart-note")
        self.box = ipywidgets.VBox([])
        super().__init__([self.title, self.note, self.box], layout=ipywidgets.Layout(width="100%", max_width="880px"))
        self.add_class("nbx-lime-strip")

    def show(self, nb: Any, output_name: str) -> None:
        """Draw the samples of ``nb`` (the same TextTokens views updated when only the fit changed)."""
        from ..views.text_tokens import TextTokens

        indices = strip_indices(nb, self.count)
        rebuild = len(self.views) != len(indices) or getattr(self, "_key", None) != (nb.seed, nb.num_samples)
        views = []
        words = [k for k, (_w, t) in enumerate(nb.extra["pieces"]) if t >= 0]  # the pieces that are words
        tokens = [nb.extra["pieces"][k][0] for k in words]
        word_ids = np.array([nb.extra["pieces"][k][1] for k in words], dtype=np.int64)
        for j, i in enumerate(indices):
            _pieces, dropped = kept_words(nb, int(i))
            traits = {"values": nb.coef[word_ids], "dropped": dropped[words], "prediction": float(nb.y[i]),
                      "prediction_label": output_name, "note": sample_label(nb, int(i), short=False)}
            if rebuild:
                views.append(TextTokens(tokens, **traits))
            else:
                self.views[j].update(**traits)
        if rebuild:
            replace_children(self.box, views)
            self.views = views
        self.indices, self._key = indices, (nb.seed, nb.num_samples)
        self.note.value = (f"{len(indices)} of {nb.num_samples:,} samples, the instance first, then from the nearest "
                           "to the farthest; each word coloured by its coefficient in the surrogate.")
