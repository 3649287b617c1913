"""SampleExplorer: step through a data set and see each sample, its prediction and its explanation.

Example:
    >>> from nbexplain.widgets import SampleExplorer
    >>> import numpy as np, torch
    >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, 1, 1), torch.nn.Flatten(), torch.nn.Linear(128, 3))
    >>> X_digits, y_digits = torch.rand(6, 1, 8, 8), np.array([0, 1, 2, 0, 1, 2])    # six 8x8 "digits"
    >>> ex = SampleExplorer(cnn, X_digits, y_digits, class_names=["zero", "one", "two"])
    >>> ex.kind, ex.method, ex.heatmap.spatial_shape
    ('image', 'saliency', (8, 8))
    >>> X_table = np.random.default_rng(0).normal(size=(20, 3))
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Softmax(-1))
    >>> ex = SampleExplorer(mlp, X_table, feature_names=["age", "dose", "bmi"])   # what-if bars for tables
    >>> ex.method, ex.bars.feature_names, ex.bars.whatif
    ('kernel_shap', ['age', 'dose', 'bmi'], True)
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import ipywidgets
import numpy as np
import traitlets

from ...models import is_torch_module
from .._base import ClosesTree, close_tree
from .._explanation import pick_output
from .._traits import to_display_image, to_numpy
from .._whatif import make_explainer, predict_probabilities
from ..views.feature_bars import FeatureBars
from ..views.heatmap import Heatmap
from ..views.sample_panel import SamplePanel

__all__ = ["IMAGE_METHODS", "TABLE_METHODS", "SampleExplorer"]

#: Registry names the method dropdown offers for images (gradient methods; torch models).
IMAGE_METHODS = ("saliency", "gradient_x_input", "smoothgrad", "integrated_gradients", "deeplift", "grad_cam")
#: Registry names the method dropdown offers for tables (model-agnostic).
TABLE_METHODS = ("kernel_shap", "shap", "lime_batched", "lime")


class SampleExplorer(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """A sample selector, the sample with its top predicted classes, and its explanation.

    ``X``: images ``(n, C, H, W)`` or ``(n, H, W)`` (shown as a :class:`Heatmap` over the image;
    the display image comes from ``images``, drawn under the map when its H, W match, or from
    ``X`` min-max scaled) or a table ``(n, F)``
    (shown as what-if :class:`FeatureBars`). ``method``: ``"auto"`` (saliency for images, which
    needs a torch model; our batched KernelSHAP for tables), a registry name, or an object with
    ``.explain(X, target=None)``. Each sample is explained for its predicted class.

    A dropdown in the selector row picks the method: for images the gradient methods of
    :data:`IMAGE_METHODS` (torch models), for tables :data:`TABLE_METHODS`; an explainer
    object passed as ``method`` is offered first, under its ``method`` name plus ``" (given)"``.
    Switching re-explains the sample shown; ``ex.method`` is the dropdown's value.

    Predictions are computed lazily, one sample at a time, and kept (K floats per sample);
    explanations are computed on first show and kept in an LRU cache of ``cache_size``
    (method, sample) pairs. Failures (of the model, of a method on a sample, of building a
    method) show in the panel's or the view's ``error`` and the explorer keeps working. The same
    :class:`SamplePanel` and explanation widget are reused for every sample and method.

    Example:
        >>> import torch
        >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] > 0).astype(int)
        >>> mlp = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Softmax(-1))
        >>> ex = SampleExplorer(mlp, X, y, class_names=["malignant", "benign"])
        >>> ex.index = 12              # or move the slider
        >>> ex.explanation(12).values.shape, ex.cache_info()["size"]    # samples 0 and 12 explained
        ((3,), 2)
        >>> ex.method = "lime_batched"         # or pick it in the dropdown
        >>> ex.cache_info()["size"]
        3
    """

    index = traitlets.Int(0, help="int, default 0: the sample shown (0-based); linked to the slider.")
    method = traitlets.Unicode(
        "", help="str: the method shown, one of the dropdown's options; linked to the dropdown."
    )

    def __init__(
        self,
        model: Any,
        X: Any,
        y: Any = None,
        *,
        method: Any = "auto",
        images: Any = None,
        feature_names: Any = None,
        class_names: Any = None,
        background: Any = None,
        index: int = 0,
        cache_size: int = 256,
        layout: Any = None,
    ) -> None:
        self.model = model
        self.X = to_numpy(X)
        n = self.n_samples = int(self.X.shape[0]) if self.X.ndim else 0
        if n == 0:
            raise ValueError(f"no samples: X has shape {list(self.X.shape)}; pass at least one sample")
        if self.X.ndim not in (2, 3, 4):
            raise ValueError(f"X must be a table (n, F) or images (n, H, W) / (n, C, H, W); got shape {list(self.X.shape)}")
        self.kind = "table" if self.X.ndim == 2 else "image"
        self.y = None if y is None else to_numpy(y)
        if self.y is not None and (self.y.ndim != 1 or self.y.shape[0] != n):
            raise ValueError(f"y has {self.y.shape[0] if self.y.ndim else 0} labels but X has {n} samples")
        self.images = None if images is None else to_numpy(images)
        if self.images is not None and (self.images.ndim == 0 or self.images.shape[0] != n):
            raise ValueError(f"images has {len(self.images) if self.images.ndim else 0} entries but X has {n} samples")
        if not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"cache_size must be a positive int, got {cache_size!r}")
        self.cache_size = cache_size
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self._cache: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._probs: dict[int, np.ndarray] = {}
        self._hits = self._misses = 0
        self._background = background
        self._explainers: dict[str, Any] = {}
        initial = self._initial_method(method)
        options = self._method_options(initial)

        names = None if feature_names is None else [str(f) for f in feature_names]
        self.slider = ipywidgets.IntSlider(0, min=0, max=n - 1, description="sample", continuous_update=False)
        self.number = ipywidgets.BoundedIntText(0, min=0, max=n - 1, layout={"width": "7em"})
        self._number_link = ipywidgets.jslink((self.slider, "value"), (self.number, "value"))  # kept: closed with us
        self.cached_label = ipywidgets.Label("0 cached")
        self.panel = SamplePanel(kind=self.kind, n_samples=n)
        self.heatmap: Heatmap | None = None
        self.bars: FeatureBars | None = None
        self.method_choice = ipywidgets.Dropdown(options=options, value=initial, description="method",
                                                 layout={"width": "16em"})
        self.set_trait("method", initial)
        if self.kind == "image":
            self.heatmap = Heatmap(np.zeros(self.X.shape[-2:]), value_label=self._value_label(initial))
        else:
            self.bars = FeatureBars(np.zeros(self.X.shape[1]), names)
        view = self.heatmap if self.heatmap is not None else self.bars
        row = ipywidgets.HBox([self.slider, self.number, self.method_choice, self.cached_label])
        super().__init__([row, ipywidgets.HBox([self.panel, view])], **({"layout": layout} if layout else {}))
        self.add_class("nbx-kernel-scope")  # its slider row re-explains in Python: disabled with the reason without a kernel
        self._check_class_names(index)
        self.set_trait("index", index)
        self.slider.value = index
        traitlets.link((self.slider, "value"), (self, "index"))
        traitlets.link((self.method_choice, "value"), (self, "method"))
        self.observe(self._on_index, names=["index"])
        self.observe(self._on_method, names=["method"])
        self._show(self.index)

    # -- set-up helpers -----------------------------------------------------------------------
    def _initial_method(self, method: Any) -> str:
        """The dropdown value for the constructor's ``method`` (an explainer object is kept as given)."""
        if method == "auto":
            if self.kind == "table":
                return "kernel_shap"
            if is_torch_module(self.model):
                return "saliency"
            raise ValueError(
                f"method='auto' explains images with saliency, which needs a torch.nn.Module; got a "
                f"{type(self.model).__name__}. Pass method= an object with .explain(X, target=None)."
            )
        if isinstance(method, str):
            self._explainer_for(method)  # a bad name or missing data fails here, with its message
            return method
        explainer = make_explainer(method, self.model)  # TypeError for what is neither
        label = f"{getattr(explainer, 'method', '') or 'explainer'} (given)"
        self._explainers[label] = explainer
        return label

    def _method_options(self, initial: str) -> list[str]:
        if self.kind == "table":
            names = list(TABLE_METHODS)
        else:
            names = list(IMAGE_METHODS) if is_torch_module(self.model) else []
        return [initial, *(n for n in names if n != initial)] if initial not in names else names

    def _explainer_for(self, name: str) -> Any:
        """The explainer behind dropdown option ``name`` (built on first use, then kept)."""
        if name not in self._explainers:
            if self._background is not None:
                data = self._background
            else:
                data = self.X if self.kind == "table" else None
            self._explainers[name] = make_explainer(name, self.model, data=data)
        return self._explainers[name]

    @property
    def explainer(self) -> Any:
        """The explainer of the method shown (``ex.method``).

        Example:
            >>> import torch
            >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, 1, 1), torch.nn.Flatten(), torch.nn.Linear(128, 3))
            >>> X = torch.rand(6, 1, 8, 8); ex = SampleExplorer(cnn, X)
            >>> ex.explainer.explain(X[:1]).method
            'saliency'
        """
        return self._explainer_for(self.method)

    @staticmethod
    def _value_label(method: str) -> str:
        return method.removesuffix(" (given)") or "attribution"

    @traitlets.validate("method")
    def _valid_method(self, proposal: Any) -> str:
        name = str(proposal["value"])
        options = list(self.method_choice.options)
        if name not in options:
            raise traitlets.TraitError(f"method {name!r} is not offered here; choose one of {options}")
        return name

    def _check_class_names(self, index: int) -> None:
        if not 0 <= index < self.n_samples:
            raise ValueError(f"index {index} is out of range for {self.n_samples} samples")
        k = self.probabilities(index).size
        if self.class_names is not None and len(self.class_names) != k:
            raise ValueError(f"class_names has {len(self.class_names)} names but the model gives {k} outputs")

    @traitlets.validate("index")
    def _valid_index(self, proposal: Any) -> int:
        i = int(proposal["value"])
        if not 0 <= i < self.n_samples:
            raise traitlets.TraitError(f"index {i} is out of range: 0..{self.n_samples - 1}")
        return i

    # -- public computation -------------------------------------------------------------------
    def probabilities(self, i: int) -> np.ndarray:
        """Predicted class probabilities of sample ``i`` (computed once, then kept).

        Example:
            >>> import torch
            >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, 1, 1), torch.nn.Flatten(), torch.nn.Linear(128, 3))
            >>> X = torch.rand(6, 1, 8, 8); ex = SampleExplorer(cnn, X)
            >>> p = ex.probabilities(0); p.shape, round(float(p.sum()), 6)
            ((3,), 1.0)
        """
        if i not in self._probs:
            self._probs[i] = predict_probabilities(self.model, self.X[i : i + 1])[0]
        return self._probs[i]

    def explanation(self, i: int, method: str | None = None) -> Any:
        """The single-sample Explanation of sample ``i`` for its predicted class (LRU-cached).

        ``method``: a dropdown option; default the one shown. The cache key is (method, sample).

        Example:
            >>> import torch
            >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, 1, 1), torch.nn.Flatten(), torch.nn.Linear(128, 3))
            >>> X = torch.rand(6, 1, 8, 8); ex = SampleExplorer(cnn, X)
            >>> bool(ex.explanation(3).target == ex.probabilities(3).argmax())
            True
            >>> ex.explanation(3, "deeplift").method
            'deeplift'
        """
        if not 0 <= int(i) < self.n_samples:
            raise IndexError(f"sample {i} is out of range: 0..{self.n_samples - 1}")
        i = int(i)
        name = self.method if method is None else str(method)
        if name not in self.method_choice.options:
            raise ValueError(f"method {name!r} is not offered here; choose one of {list(self.method_choice.options)}")
        key = (name, i)
        if key in self._cache:
            self._hits += 1
            self._cache.move_to_end(key)
            return self._cache[key]
        explainer = self._explainer_for(name)
        self._misses += 1
        target = int(np.argmax(self.probabilities(i)))
        e = explainer.explain(self.X[i : i + 1], target=np.array([target]))[0]
        self._cache[key] = e
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return e

    def cache_info(self) -> dict[str, int]:
        """``{"hits", "misses", "size", "maxsize"}`` of the explanation cache.

        Example:
            >>> import torch
            >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, 1, 1), torch.nn.Flatten(), torch.nn.Linear(128, 3))
            >>> X = torch.rand(6, 1, 8, 8); ex = SampleExplorer(cnn, X)
            >>> e = ex.explanation(3); e = ex.explanation(3)
            >>> ex.cache_info()    # samples 0 (shown) and 3 computed once, then 3 found in the cache
            {'hits': 1, 'misses': 2, 'size': 2, 'maxsize': 256}
        """
        return {"hits": self._hits, "misses": self._misses, "size": len(self._cache), "maxsize": self.cache_size}

    def display_image(self, i: int) -> np.ndarray:
        """The uint8 picture shown for image sample ``i`` (``images[i]``, else ``X[i]`` scaled).

        Example:
            >>> import torch
            >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, 1, 1), torch.nn.Flatten(), torch.nn.Linear(128, 3))
            >>> X = torch.rand(6, 1, 8, 8); ex = SampleExplorer(cnn, X)
            >>> ex.display_image(0).dtype, ex.display_image(0).shape
            (dtype('uint8'), (8, 8))
        """
        if self.images is not None:
            return to_display_image(self.images[i])
        x = self.X[i]
        if x.ndim == 3:  # C x H x W: RGB or grey as is, other channel counts as their mean
            x = np.moveaxis(x, 0, -1) if x.shape[0] in (1, 3) else x.mean(axis=0)
        return to_display_image(x, normalize=True)

    def close(self) -> None:
        """Close the explorer and every widget it made (links, layouts and styles too).

        Example:
            >>> import torch
            >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, 1, 1), torch.nn.Flatten(), torch.nn.Linear(128, 3))
            >>> X = torch.rand(6, 1, 8, 8); ex = SampleExplorer(cnn, X)
            >>> ex.close(); ex.comm is None, ex.heatmap.comm is None, ex.slider.comm is None
            (True, True, True)
        """
        close_tree(self)

    # -- showing a sample ---------------------------------------------------------------------
    def _on_index(self, change: Any) -> None:
        self._show(change["new"])

    def _on_method(self, change: Any) -> None:
        if self.heatmap is not None:
            self.heatmap.value_label = self._value_label(change["new"])
        self._show(self.index)

    def _show(self, i: int) -> None:
        probs = None
        with self.panel._computing("the model failed on this sample"):
            probs = self.probabilities(i)
            fields: dict[str, Any] = {"index": i, "probabilities": probs, "true_label": self._true_label(i)}
            fields["class_names"] = self.class_names or [f"class {j}" for j in range(probs.size)]
            if self.kind == "image":
                fields["image"] = self.display_image(i)
            else:
                fields.update(row_values=self.X[i], row_names=self.bars.feature_names)  # type: ignore[union-attr]
            self.panel.update(**fields)
        view = self.heatmap if self.heatmap is not None else self.bars
        with view._computing("the explainer failed on this sample"):  # type: ignore[union-attr]
            e = self.explanation(i)
            if self.heatmap is not None:
                values = e.image_values(pick_output(e))  # the producer's layout (HWC, CHW, HW)
                image: np.ndarray | None = self.display_image(i)
                with self.heatmap.hold_sync():
                    if image is None or tuple(image.shape[:2]) != tuple(values.shape[-2:]):
                        image = self.heatmap.image = None  # no picture of the map's size
                    self.heatmap.update(values=values, image=image, title=self._map_title(i, e))
            else:
                self.bars.enable_what_if(  # type: ignore[union-attr]
                    self.model, self.X[i], explainer=self.explainer, data=self.X, target=int(np.argmax(probs)),
                    class_names=self.class_names, explanation=e, probabilities=probs,
                )
        self.cached_label.value = f"{len(self._cache)} cached"

    def _map_title(self, i: int, e: Any) -> str:
        """``"sample 3: saliency for class '7'"`` (the method and the explained class)."""
        target = getattr(e, "target", None)
        if target is None:
            return f"sample {i}: {e.method}"
        t = int(np.asarray(target).reshape(-1)[0])
        name = self.class_names[t] if self.class_names and 0 <= t < len(self.class_names) else f"class {t}"
        return f"sample {i}: {e.method} for {name!r}"

    def _true_label(self, i: int) -> str:
        if self.y is None:
            return ""
        label = self.y[i]
        if self.class_names is not None and np.issubdtype(np.asarray(label).dtype, np.integer):
            if 0 <= int(label) < len(self.class_names):
                return self.class_names[int(label)]
        return str(label.item() if hasattr(label, "item") else label)
