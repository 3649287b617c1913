"""Model anatomy: the graph of a torch model next to an inspector of one layer.

:class:`ModelAnatomy` shows the :class:`~nbexplain.widgets.anatomy.model_graph.ModelGraphView` on the
left and a :class:`LayerInspector` on the right; clicking a module in the graph inspects it.
The inspector has a layer dropdown, a sample dropdown (when the input holds several samples)
and five tabs -- Activations, Filters, Weights, Gradients, Activation function -- each
computed only when it is shown, and cached per (layer, sample).

Size bound: no single widget sends more than 1 MB for one layer. Channel maps are averaged
down (``activation_maps(max_size=...)``) so that one layer's maps hold at most
``MAX_GRID_VALUES`` (450,000) values, sent as float16; the enlarged channel is one map at
the input's resolution; charts hold at most a few hundred bars.

Example:
    >>> from nbexplain.widgets.anatomy.view import ModelAnatomy
    >>> import torch
    >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
    ...                          torch.nn.Conv2d(4, 4, 3, padding=1),
    ...                          torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(256, 3))
    >>> anatomy = ModelAnatomy(cnn, torch.rand(4, 1, 8, 8), y=torch.tensor([0, 1, 2, 0]))
    >>> anatomy.inspector.layer, anatomy.graph_view.selected    # the last convolution
    ('2', '2')
    >>> anatomy.inspector.layer = "0"; anatomy.graph_view.selected    # the graph follows
    '0'
    >>> anatomy.inspector.tabs.selected_index = 3                 # gradients
    >>> anatomy.inspector.computed[-1]
    ('grad_hist', '0')
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets
import numpy as np

from .._base import ClosesTree, error_line
from .._traits import to_display_image, to_numpy
from .tabs import TAB_CLASSES, TAB_TITLES

__all__ = ["LayerInspector", "ModelAnatomy"]

CACHE_SIZE = 32


def _as_batch(example_input: Any) -> Any:
    import torch

    if isinstance(example_input, torch.Tensor):
        x = example_input.detach()
    else:
        try:
            x = torch.as_tensor(np.asarray(example_input, dtype=np.float32))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"example_input must be a torch tensor or an array of numbers (a batch, the "
                            f"first dimension indexing samples), got {type(example_input).__name__}") from exc
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError(f"example_input must be a batch with at least one sample (shape N x ...), got shape "
                         f"{list(x.shape)}; add the batch dimension with x[None]")
    return x


class LayerInspector(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """One layer of a torch model: activations, filters, weights, gradients, activation function.

    ``model``: a ``torch.nn.Module``; ``example_input``: a batch (N x ...), tensor or array;
    ``images``: pictures to draw under enlarged channels (N x H x W (x 3), or None: derived
    from an image-shaped input, min-max scaled); ``y``: labels for the gradients (None: the
    predicted classes); ``layer``: a module or its dotted name (None: the last convolution, else
    the first layer); ``class_names`` names the labels in the sample dropdown; ``loss`` goes to
    ``capture_gradients``. A bad ``layer`` or input raises here; later failures (a layer that
    never ran, a model that raises) show in :attr:`error_label` and the widget keeps working.

    Attributes: ``layer_picker`` and ``sample_picker`` (Dropdowns), ``tabs`` (the ``Tab``),
    ``tab(i)`` (the tab objects), ``computed`` (the cache keys computed so far, in order), CSS
    class ``nbx-anatomy-inspector``. Size bound: see the module docstring (1 MB per widget).

    Example:
        >>> import torch
        >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
        ...                          torch.nn.Conv2d(4, 4, 3, padding=1),
        ...                          torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(256, 3))
        >>> insp = LayerInspector(cnn, torch.rand(4, 1, 8, 8), layer="2")
        >>> insp.computed    # only what the first tab shows
        [('activations', '2', 0), ('histogram', '2', 0)]
        >>> insp.sample = 2; insp.tabs.selected_index = 1    # sample 2, the Filters tab
        >>> insp.computed[2:]
        [('activations', '2', 2), ('histogram', '2', 2), ('filters', '2')]
    """

    def __init__(self, model: Any, example_input: Any, *, images: Any = None, y: Any = None, layer: Any = None,
                 class_names: Sequence[str] | None = None, loss: Any = "cross_entropy", graph: Any = None,
                 **kwargs: Any) -> None:
        import torch

        from ...anatomy import model_graph

        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model, self.loss = model, loss
        self.x = _as_batch(example_input)
        self.n_samples = int(self.x.shape[0])
        self.y = None if y is None else to_numpy(y).reshape(-1)
        if self.y is not None and len(self.y) != self.n_samples:
            raise ValueError(f"y has {len(self.y)} labels for {self.n_samples} samples; pass one label per sample")
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self._images = self._display_images(images)
        self.graph = graph if graph is not None else model_graph(model, self.x[:1])
        self._nodes = {n.name: n for n in self.graph.nodes}
        self.layers = [n.name for n in self.graph.nodes if n.name and n.is_leaf and n.output_shape is not None]
        if not self.layers:
            raise ValueError("the model has no layer that produced an output; inspect a model with submodules")
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.computed: list[tuple[Any, ...]] = []
        self._listeners: list[Callable[[str], None]] = []
        self._layer = self._check_layer(layer) if layer is not None else self._default_layer()
        self._sample = 0
        self._quiet = False

        self.heading = ipywidgets.Label("")
        self.heading.add_class("nbx-anatomy-heading")
        self.layer_picker = ipywidgets.Dropdown(options=self._layer_options(), value=self._layer,
                                                description="layer", layout=ipywidgets.Layout(width="320px"))
        self.layer_picker.observe(self._on_picker, names="value")
        self.sample_picker = ipywidgets.Dropdown(options=self._sample_options(), value=0, description="sample",
                                                 layout=ipywidgets.Layout(width="240px",
                                                                          display="flex" if self.n_samples > 1
                                                                          else "none"))
        self.sample_picker.observe(self._on_sample_picker, names="value")
        self.error_label = ipywidgets.Label("", layout=ipywidgets.Layout(display="none"))
        self.error_label.add_class("nbx-anatomy-error")
        self.error_label.style.text_color = "#b3261e"
        self._tabs = [cls(self) for cls in TAB_CLASSES]
        self.tabs = ipywidgets.Tab(children=[t.box for t in self._tabs], titles=list(TAB_TITLES), selected_index=0)
        self.tabs.observe(lambda _c: self._guard(self._show_tab), names="selected_index")
        controls = ipywidgets.HBox([self.layer_picker, self.sample_picker], layout=ipywidgets.Layout(grid_gap="8px"))
        super().__init__([self.heading, controls, self.error_label, self.tabs], **kwargs)
        self.add_class("nbx-anatomy-inspector")
        self.add_class("nbx-kernel-scope")  # its controls call Python: disabled with the reason without a kernel
        self._update_heading()
        self._show_tab(raise_errors=True)

    # -- public ---------------------------------------------------------------------------------
    @property
    def layer(self) -> str:
        """The dotted name of the layer shown; set it (a name or a module) to show another.

        Setting an unknown name or a layer that never ran raises ``ValueError``.
        """
        return self._layer

    @layer.setter
    def layer(self, layer: Any) -> None:
        self._select(layer=self._check_layer(layer))

    @property
    def sample(self) -> int:
        """The index of the sample shown (0 .. N - 1); set it to show another."""
        return self._sample

    @sample.setter
    def sample(self, i: int) -> None:
        self._select(sample=self._check_sample(i))

    @property
    def error(self) -> str:
        """The message shown in the error line ("" when the last update worked)."""
        return str(self.error_label.value)

    def tab(self, i: int) -> Any:
        """The tab object ``i`` (0 Activations, 1 Filters, 2 Weights, 3 Gradients, 4 Activation function)."""
        return self._tabs[i]

    def show_layer(self, layer: Any) -> bool:
        """Show ``layer`` as a click would: a failure goes to the error line; returns success.

        Example:
            >>> import torch
            >>> insp = LayerInspector(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU()), torch.rand(2, 3))
            >>> insp.show_layer("never_used"), insp.error.split(";")[0]    # the message goes on to list the names
            (False, "UnknownLayerError: the model has no layer named 'never_used'")
            >>> insp.show_layer("1"), insp.layer, insp.error
            (True, '1', '')
        """
        return self._guard(lambda: self._select(layer=self._check_layer(layer)))

    def on_layer_change(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(name)`` after the inspector switched to another layer."""
        self._listeners.append(callback)

    def cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``key`` (the last ``CACHE_SIZE`` results are kept)."""
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        value = compute()
        self.computed.append(key)
        self._cache[key] = value
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return value

    def node(self, name: str) -> Any:
        """The graph node (``LayerNode``) of module ``name``."""
        return self._nodes[name]

    def module(self, name: str) -> Any:
        """The ``torch.nn.Module`` named ``name`` (a Keras model's layers by their Keras names)."""
        from ...keras_models import named_layers

        return dict(named_layers(self.model))[name]

    def image(self, i: int) -> np.ndarray | None:
        """The picture of sample ``i`` (uint8 H x W (x 3)) or None for inputs that are not images."""
        return None if self._images is None else self._images[i]

    def next_activation(self, layer: str) -> tuple[str, Any]:
        """``(name, module)`` of the first activation module after ``layer`` in data-flow order."""
        from ...anatomy import layer_activation

        order = [n.name for n in self.graph.nodes if n.is_leaf and n.order >= 0]
        start = order.index(layer) + 1 if layer in order else 0
        for name in order[start:]:
            module = layer_activation(self.model, name)
            if module is not None:
                return name, module
        return "", None

    # -- internals ------------------------------------------------------------------------------
    def _display_images(self, images: Any) -> list[np.ndarray] | None:
        if images is not None:
            arr = to_numpy(images)
            if len(arr) != self.n_samples:
                raise ValueError(f"images holds {len(arr)} pictures for {self.n_samples} samples; pass one per sample")
            return [to_display_image(a, normalize=True) for a in arr]
        from ...keras_models import channels_last

        x = self.x.detach().cpu().numpy()
        if x.ndim == 4 and channels_last(self.model) and x.shape[-1] in (1, 3):
            x = np.moveaxis(x, -1, 1)  # a channels-last Keras model's (N, H, W, C) pictures
        if x.ndim == 4 and x.shape[1] in (1, 3):
            return [to_display_image(a, normalize=True) for a in x]
        return None

    def _check_layer(self, layer: Any) -> str:
        from ...explainers.gradients.layers import resolve_layer

        whole = layer is self.model or (isinstance(layer, str) and not layer.strip(" .[]"))
        _module, name = ("", "") if whole else resolve_layer(self.model, layer)
        if name == "":
            raise ValueError("that is the whole model; pick one of its layers (e.g. "
                             f"{self.layers[0]!r})")
        node = self._nodes.get(name)
        if node is None or node.output_shape is None:
            raise ValueError(f"the layer {name!r} never ran in the forward pass of the example input, so it has no "
                             f"activations to show; pick a layer that runs, e.g. {self.layers[0]!r}")
        return name

    def _check_sample(self, i: Any) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) < self.n_samples:
            raise IndexError(f"sample must be an int in 0..{self.n_samples - 1}, got {i!r}")
        return int(i)

    def _default_layer(self) -> str:
        from ...keras_models import is_conv

        convs = [n for n in self.layers if is_conv(self.module(n), ranks=(2,))]
        return convs[-1] if convs else self.layers[0]

    def _layer_options(self) -> list[tuple[str, str]]:
        names = list(self.layers)
        if self._layer not in names:  # a non-leaf module picked in the graph
            names.append(self._layer)
            names.sort(key=lambda n: self._nodes[n].order)
        return [(f"{n} ({self._nodes[n].type})", n) for n in names]

    def _sample_options(self) -> list[tuple[str, int]]:
        out = []
        for i in range(self.n_samples):
            label = f"{i}"
            if self.y is not None:
                c = int(self.y[i]) if float(self.y[i]).is_integer() else self.y[i]
                name = self.class_names[c] if self.class_names and isinstance(c, int) and 0 <= c < len(
                    self.class_names) else str(c)
                label += f" (label {name})"
            out.append((label, i))
        return out

    def _on_picker(self, change: Any) -> None:
        if not self._quiet and change["new"] is not None and change["new"] != self._layer:
            self.show_layer(change["new"])

    def _on_sample_picker(self, change: Any) -> None:
        if not self._quiet and change["new"] is not None and change["new"] != self._sample:
            self._guard(lambda: self._select(sample=int(change["new"])))

    def _guard(self, action: Callable[[], Any]) -> bool:
        try:
            action()
        except Exception as exc:  # shown in the widget; the kernel and the widget keep working
            self._set_error(error_line(exc))
            return False
        return True

    def _set_error(self, text: str) -> None:
        self.error_label.value = text
        self.error_label.layout.display = "flex" if text else "none"

    def _select(self, layer: str | None = None, sample: int | None = None) -> None:
        changed_layer = layer is not None and layer != self._layer
        if layer is not None:
            self._layer = layer
        if sample is not None:
            self._sample = sample
        self._quiet = True  # the pickers follow; their observers must not select again
        try:
            with self.hold_sync():
                if (changed_layer and self._layer not in self.layers) or len(self.layer_picker.options) != len(
                        self.layers):
                    self.layer_picker.options = self._layer_options()
                if self.layer_picker.value != self._layer:
                    self.layer_picker.value = self._layer
                if self.sample_picker.value != self._sample:
                    self.sample_picker.value = self._sample
                self._update_heading()
        finally:
            self._quiet = False
        self._set_error("")
        if changed_layer:
            for callback in list(self._listeners):
                callback(self._layer)
        self._show_tab()

    def _show_tab(self, raise_errors: bool = False) -> None:
        tab = self._tabs[int(self.tabs.selected_index or 0)]
        if raise_errors:
            tab.show()
        elif self._guard(tab.show):
            self._set_error("")

    def _update_heading(self) -> None:
        node = self._nodes[self._layer]
        shape = "x".join(str(d) for d in (node.output_shape or []))
        calls = f"; it runs {node.calls} times, its first call is shown" if getattr(node, "calls", 1) > 1 else ""
        self.heading.value = f"{node.name} ({node.type}): output {shape}, {node.n_params_total:,} parameters{calls}"


class ModelAnatomy(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """The model's graph (left) and a :class:`LayerInspector` of the layer clicked in it (right).

    Arguments as :class:`LayerInspector`. ``.graph_view`` is the ``ModelGraphView``,
    ``.inspector`` the inspector, ``.graph`` the ``ModelGraph``. CSS class ``nbx-anatomy``.

    Example:
        >>> import torch
        >>> mlp = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        >>> a = ModelAnatomy(mlp, torch.randn(4, 3))
        >>> a.graph_view.module_names, a.inspector.layer    # no convolution: the first layer
        (['', '0', '1', '2'], '0')
    """

    def __init__(self, model: Any, example_input: Any, *, images: Any = None, y: Any = None, layer: Any = None,
                 class_names: Sequence[str] | None = None, loss: Any = "cross_entropy", **kwargs: Any) -> None:
        from .model_graph import ModelGraphView

        self.inspector = LayerInspector(model, example_input, images=images, y=y, layer=layer,
                                        class_names=class_names, loss=loss)
        self.graph = self.inspector.graph
        self.graph_view = ModelGraphView(graph=self.graph.to_wire())
        self._layer_changed(self.inspector.layer)
        gl = self.graph_view.layout  # set on its own Layout: a replaced one would stay open (a leak)
        gl.width, gl.min_width, gl.flex = "380px", "300px", "0 0 auto"
        self.graph_view.on_event("select", lambda msg: self.inspector.show_layer(str(msg.get("name", ""))))
        self.inspector.on_layer_change(self._layer_changed)
        self.inspector.layout.flex = "1 1 auto"
        self.inspector.layout.min_width = "0"
        row = ipywidgets.HBox([self.graph_view, self.inspector],
                              layout=ipywidgets.Layout(grid_gap="16px", align_items="flex-start", width="100%"))
        super().__init__([row], **kwargs)
        self.add_class("nbx-anatomy")
        self.add_class("nbx-kernel-scope")  # its controls call Python: disabled with the reason without a kernel

    def _layer_changed(self, layer: str) -> None:
        with self.graph_view.hold_sync():
            self.graph_view.expand(layer)  # its ancestors, so the selected box shows
            self.graph_view.selected = layer

    def widgets(self) -> list[Any]:
        """Every widget model under this one (for measuring what is sent)."""
        from .size import widget_tree

        return widget_tree(self)
