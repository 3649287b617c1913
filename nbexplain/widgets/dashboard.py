"""Dashboard: browse, compare, what-if and diagnose a model inline, for tables, images and text.

One widget with tabs. **Explore**: filters and a paged sample table (only the page shown crosses
the wire; one navigation: the pager with a go-to box), the sample with its prediction, one to
four explanation methods side by side with their agreement, and what-if editing (table sliders
and dropdowns, image patches clicked away, text tokens clicked away) with live re-prediction.
**Global**: mean |attribution| bars, a beeswarm and PDP/ICE curves. **Errors & bias**: a
confusion matrix whose cells filter the explorer, train-vs-test and per-slice metrics.
**Surrogate** (tables only): the global linear surrogate and its fidelity. Computation runs on a
background worker (:class:`nbexplain.tasks.TaskRunner`): the notebook stays usable; a method
being computed says so in its own panel (with a cancel button) while the others stay drawn, and
the other long tasks show a progress bar with a cancel button.

The parts: :mod:`~nbexplain.widgets.dashboard_explain` (the sample shown and its method panels),
:mod:`~nbexplain.widgets.dashboard_edit` (what-if editing) and
:mod:`~nbexplain.widgets.dashboard_tabs` (the other tabs).

Example:
    >>> from nbexplain import Dashboard
    >>> dash = Dashboard(mlp, X_test, y_test, feature_names=names, class_names=["no", "yes"],
    ...                  X_train=X_train, y_train=y_train)     # doctest: +SKIP
    >>> dash                                                   # doctest: +SKIP
    >>> dash.select(12); dash.wait(); dash.explanations()["kernel_shap"].values.shape   # doctest: +SKIP
    (12,)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import ipywidgets
import numpy as np
import traitlets

from ..models import is_torch_module
from ..session import ExplainSession
from ..tasks import TaskRunner
from ..text.hf import is_text_explainer
from ._base import ClosesTree, close_tree
from ._whatif import category_lists
from .dashboard_edit import _EDIT_HINT, EditMixin
from .dashboard_explain import EXPLAIN_LABEL, ExplainMixin
from .dashboard_tabs import TabsMixin, tab_names
from .method_picker import MethodPicker
from .progress import TaskProgress
from .sample_panel import SamplePanel

__all__ = ["TABS", "Dashboard"]

#: The tabs of a table Dashboard (images and texts have no Surrogate tab).
TABS = tab_names("table")

#: Methods the picker offers besides the ones passed, per kind (fast enough to run per sample).
_METHOD_MENU = {
    "table": ("kernel_shap", "lime_batched", "shap", "lime"),
    "image": ("saliency", "gradient_x_input", "smoothgrad", "integrated_gradients", "deeplift", "grad_cam"),
    "text": ("token_shap", "token_occlusion"),
}
#: Methods offered for texts when the model is a transformers classifier with its tokenizer.
_TRANSFORMER_TEXT_METHODS = ("integrated_gradients", "gradient_x_input", "token_shap", "token_occlusion", "lime_text")
#: Gradient methods offered for tables when the model is a torch module.
_TORCH_TABLE_METHODS = ("integrated_gradients", "gradient_x_input", "deeplift", "saliency")


class Dashboard(ExplainMixin, EditMixin, TabsMixin, ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """The nbexplain dashboard for one model and one data set.

    ``model``: a torch module, an estimator with ``predict_proba`` or a callable returning class
    probabilities or logits; for text, an object whose ``predict_proba(list[str])`` works (see
    :func:`nbexplain.text.train_text_classifier`), or a ``transformers`` classifier with its
    ``tokenizer=`` (Integrated Gradients on its embeddings beside token SHAP, on the same words).
    ``preprocess=``: for images a model expects normalised, the normalisation (the model and every
    method get ``preprocess(x)``; the pictures, maps and patch what-if stay as ``X`` shows them).
    ``X``: a table ``(n, F)``, images
    ``(n, C, H, W)`` / ``(n, H, W)`` or a list of texts; ``y``: class indices (enables the
    misclassified filter, the confusion matrix and the bias view). ``methods``: one to four
    registry names shown side by side (``"auto"`` picks two for the kind of data).
    ``images``: display pictures for image data (uint8, same H, W), else ``X`` min-max scaled.
    ``patch``: side in pixels of the square an image click hides (default about 1/8 of the image).
    ``categorical``: ``{feature: [values]}`` or ``{feature: {value: label}}``: what-if dropdowns.
    A pandas DataFrame ``X`` (with a scikit-learn Pipeline as the model, say) is explained in its
    own columns: names from the frame, its string / categorical / bool columns shown as strings
    and offered as what-if menus of their categories, missing values kept for the model
    (:class:`~nbexplain.session.ExplainSession`).
    ``global_samples``: samples explained for the global views (seeded subsample).
    ``sync=True`` computes in the calling thread (scripts, doctests); the default runs a
    background worker, and :meth:`wait` blocks until it is idle.

    Example:
        >>> dash = Dashboard(cnn, X_digits, y_digits, class_names=list("0123456789"))   # doctest: +SKIP
        >>> dash.browser.set_filter(misclassified=True); dash.index                      # doctest: +SKIP
        >>> dash.compute_global(); dash.wait()                                           # doctest: +SKIP
    """

    index = traitlets.Int(-1, help="int: the sample shown (-1 when the filter matches none).")

    def __init__(
        self,
        model: Any,
        X: Any,
        y: Any = None,
        *,
        methods: Any = "auto",
        feature_names: Any = None,
        class_names: Any = None,
        background: Any = None,
        X_train: Any = None,
        y_train: Any = None,
        categorical: dict[Any, Any] | None = None,
        images: Any = None,
        patch: int | None = None,
        global_samples: int = 500,
        page_size: int = 15,
        index: int | None = None,
        title: str = "",
        sync: bool = False,
        seed: int = 0,
        tokenizer: Any = None,
        preprocess: Any = None,
    ) -> None:
        if not isinstance(global_samples, int) or global_samples < 1:
            raise ValueError(f"global_samples must be a positive int, got {global_samples!r}")
        self.session = ExplainSession(
            model, X, y, methods=methods, feature_names=feature_names, class_names=class_names,
            background=background, X_train=X_train, y_train=y_train, categorical=categorical, seed=seed,
            tokenizer=tokenizer, preprocess=preprocess,
        )
        s = self.session
        self.kind = s.kind
        self.global_samples = global_samples
        if patch is not None and (not isinstance(patch, int) or patch < 1):
            raise ValueError(f"patch must be a positive int (pixels per side of a what-if patch), got {patch!r}")
        self.patch = patch
        self.images = None if images is None else np.asarray(images)
        if self.images is not None and self.images.shape[0] != s.n_samples:
            raise ValueError(f"images has {self.images.shape[0]} pictures but X has {s.n_samples} samples")
        s.probabilities()  # every sample's prediction, once (failures isolated per sample)
        self.runner = TaskRunner(sync=sync)
        # The sample's explanations show their progress in their own panels, not in this bar.
        self.progress = TaskProgress(self.runner, ignore=lambda state: str(state["label"]).startswith(EXPLAIN_LABEL))
        self._lock = threading.RLock()  # the worker's deliveries and the sample shown change together
        self._generation = 0
        self._edit: Any = None  # PatchMask / TokenMask / edited row of the sample shown
        self._edited_input: Any = None
        self._edit_probs: tuple[int, Any, Any] = (-1, None, None)
        self._shown_probs: Any = None
        self._render_inputs: dict[str, Any] = {}
        self._global_started: set[str] = set()
        self._results: dict[str, Any] = {}
        self._results_for: tuple[int, Any] = (-1, None)
        #: (what, milliseconds) of recent kernel-side work: "select" (a sample shown), "explain"
        #: (a worker explanation), for benchmarks; the last 200 are kept.
        self.timings: deque[tuple[str, float]] = deque(maxlen=200)

        self._build_explore(page_size)
        self._build_tabs()
        header = [ipywidgets.Label(title)] if title else []
        super().__init__([*header, self.progress, self.tabs])
        self.add_class("nbx-dashboard")
        self.browser.observe(self._on_selected, names=["selected"])
        start = int(self.browser.selected) if index is None else int(index)
        if index is not None:
            self.select(index)
        elif start >= 0:
            self._show(start)

    # -- building ---------------------------------------------------------------------------------
    def _build_explore(self, page_size: int) -> None:
        from ..explainers.registry import available_explainers
        from .compare_view import CompareView
        from .sample_browser import SampleBrowser

        s = self.session
        self.browser = SampleBrowser(
            s.probabilities(), s.y, X=s.X if s.kind == "table" else None, texts=s.texts,
            feature_names=s.feature_names or None, class_names=s.class_names, page_size=page_size,
            stepper=False,  # one navigation: the table's pager and its go-to box
            categories=category_lists(s.categorical, len(s.feature_names)) if s.kind == "table" else None,
        )
        self.panel = SamplePanel(kind=s.kind, n_samples=s.n_samples)
        self.compare = CompareView(s.kind)
        self.compare.on_new_view(self._hook_view)
        self.compare.on_action(self._on_slot_action)
        self.compare.set_methods(list(s.methods))
        menu = _METHOD_MENU[s.kind] + (_TORCH_TABLE_METHODS if s.kind == "table" and is_torch_module(s.model) else ())
        if s.kind == "text" and is_text_explainer(s.model):
            menu = _TRANSFORMER_TEXT_METHODS
        offered = [m for m in menu if m in available_explainers(s.kind)]
        if s.encoding is not None and s.encoding.categorical_indices:
            offered = [m for m in offered if m != "lime"]  # the lime package perturbs categories as numbers
        self.method_picker = MethodPicker([*s.methods, *offered], s.methods)
        self.method_picker.observe(self._on_methods, names=["value"])
        self.reset_button = ipywidgets.Button(description="undo edits", disabled=True,  # no icon: its font is not offline
                                              tooltip="restore the sample as it is in the data set")
        self.reset_button.add_class("nbx-reset-edits")
        self.reset_button.on_click(lambda _b: self._reset_edits())
        self.edit_hint = ipywidgets.Label(_EDIT_HINT[s.kind])
        self.edit_hint.add_class("nbx-edit-hint")
        edits = ipywidgets.HBox([self.reset_button, self.edit_hint], layout={"align_items": "center"})
        controls = ipywidgets.VBox([self.method_picker, edits])
        controls.add_class("nbx-explore-controls")
        right = ipywidgets.VBox([self.panel, controls, self.compare], layout={"flex": "1 1 auto"})
        self.explore = ipywidgets.HBox([self.browser, right], layout={"flex_flow": "row wrap"})

    # -- public ---------------------------------------------------------------------------------
    def select(self, i: int) -> None:
        """Show sample ``i`` (clears filters that hide it).

        Example:
            >>> dash.select(40); dash.index      # doctest: +SKIP
            40
        """
        i = int(i)
        if not 0 <= i < self.session.n_samples:
            raise IndexError(f"sample {i} is out of range: 0..{self.session.n_samples - 1}")
        self.browser.select(i)
        if self.index != i:
            self._show(i)

    @property
    def methods(self) -> list[str]:
        """The methods shown side by side (set to change them; one to four).

        Example:
            >>> dash.methods = ["kernel_shap", "lime_batched", "shap"]    # doctest: +SKIP
        """
        return list(self.method_picker.value)

    @methods.setter
    def methods(self, names: Any) -> None:
        names = [names] if isinstance(names, str) else list(names)
        try:
            self.method_picker.value = tuple(names)
        except traitlets.TraitError as exc:
            raise ValueError(f"methods: {exc}") from None

    def explanations(self) -> dict[str, Any]:
        """The explanations shown now, by method (exceptions for methods that failed); a method
        still computing is absent until it is done (:meth:`wait`).

        Example:
            >>> dash.explanations()["kernel_shap"].values.shape    # doctest: +SKIP
            (12,)
        """
        with self._lock:
            return dict(self._results)

    def wait(self, timeout: float | None = 120.0) -> bool:
        """Block until the background worker is idle (for scripts, tests and notebooks run top to bottom).

        Example:
            >>> dash.select(3); dash.wait()     # doctest: +SKIP
            True
        """
        return bool(self.runner.wait(timeout))

    def compute_global(self) -> None:
        """Start the global views (and the errors/bias and surrogate views) on the worker.

        Opening a tab starts its own computation too; call this (then :meth:`wait`) before a
        notebook is saved or exported, so the saved page holds every tab.

        Example:
            >>> dash.compute_global(); dash.wait()    # doctest: +SKIP
            True
        """
        self._start_global()
        self._start_errors()
        self._start_surrogate()

    def close(self) -> None:
        """Stop the worker and close every widget the dashboard made (layouts and styles too).

        Afterwards nothing refers to the dashboard any more (ipywidgets' registry, the worker
        thread), so it is freed with its data once the notebook drops its last reference.

        Example:
            >>> dash.close()    # doctest: +SKIP
        """
        close_tree(self)

    def _release(self) -> None:
        """Called by :func:`close_tree` before the widget closes: stop the worker."""
        runner = self.__dict__.get("runner")
        if runner is not None:
            runner.close()

    # -- changes from the controls ----------------------------------------------------------------
    def _on_selected(self, change: Any) -> None:
        i = int(change["new"])
        if i >= 0 and i != self.index:
            start = time.perf_counter()
            self._show(i)
            self.timings.append(("select", 1000 * (time.perf_counter() - start)))

    def _on_methods(self, change: Any) -> None:
        names = list(change["new"])
        with self._lock:
            self.session.methods = names
            self.compare.set_methods(names)  # the methods that stay keep their panels as drawn
            if self.index >= 0:
                self._show(self.index, keep_edits=True)
