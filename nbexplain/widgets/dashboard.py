"""Dashboard: browse, compare, what-if and diagnose a model inline, for tables, images and text.

One widget, four tabs. **Explore**: filters and a paged sample table (only the page shown
crosses the wire), the sample with its prediction, one to four explanation methods side by side
with their agreement, and what-if editing (table sliders and dropdowns, image patches clicked
away, text tokens clicked away) with live re-prediction. **Global**: mean |attribution| bars, a
beeswarm and PDP/ICE curves. **Errors & bias**: a confusion matrix whose cells filter the
explorer, train-vs-test and per-slice metrics. **Surrogate**: the global linear surrogate and
its fidelity. Computation runs on a background worker (:class:`nbexplain.tasks.TaskRunner`):
the notebook stays usable, anything that takes longer than half a second shows progress in
the widget with a cancel button.

Example:
    >>> from nbexplain import Dashboard
    >>> dash = Dashboard(mlp, X_test, y_test, feature_names=names, class_names=["no", "yes"],
    ...                  X_train=X_train, y_train=y_train)     # doctest: +SKIP
    >>> dash                                                   # doctest: +SKIP
    >>> dash.select(12); dash.wait(); dash.explanations()["kernel_shap"].values.shape   # doctest: +SKIP
    (12,)
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import ipywidgets
import numpy as np
import traitlets

from ..models import is_torch_module
from ..session import ExplainSession
from ..tasks import Cancelled, TaskRunner
from ._base import ClosesTree, close_tree, replace_children
from ._explanation import pick_output
from ._traits import to_display_image
from .progress import TaskProgress
from .sample_panel import SamplePanel

__all__ = ["Dashboard"]

TABS = ("Explore", "Global", "Errors & bias", "Surrogate")


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split()) or '(no message)'}"


class Dashboard(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """The nbexplain dashboard for one model and one data set.

    ``model``: a torch module, an estimator with ``predict_proba`` or a callable returning class
    probabilities or logits; for text, an object whose ``predict_proba(list[str])`` works (see
    :func:`nbexplain.text.train_text_classifier`). ``X``: a table ``(n, F)``, images
    ``(n, C, H, W)`` / ``(n, H, W)`` or a list of texts; ``y``: class indices (enables the
    misclassified filter, the confusion matrix and the bias view). ``methods``: one to four
    registry names shown side by side (``"auto"`` picks two for the kind of data).
    ``images``: display pictures for image data (uint8, same H, W), else ``X`` min-max scaled.
    ``patch``: side in pixels of the square an image click hides (default about 1/8 of the image).
    ``categorical``: ``{feature: [values]}`` or ``{feature: {value: label}}``: what-if dropdowns.
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
    ) -> None:
        if not isinstance(global_samples, int) or global_samples < 1:
            raise ValueError(f"global_samples must be a positive int, got {global_samples!r}")
        self.session = ExplainSession(
            model, X, y, methods=methods, feature_names=feature_names, class_names=class_names,
            background=background, X_train=X_train, y_train=y_train, categorical=categorical, seed=seed,
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
        self.progress = TaskProgress(self.runner)
        self._edit: Any = None  # PatchMask / TokenMask / edited row of the sample shown
        self._edited_input: Any = None
        self._global_started: set[str] = set()
        self._results: dict[str, Any] = {}
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
        from .compare_view import CompareView
        from .sample_browser import SampleBrowser

        s = self.session
        self.browser = SampleBrowser(
            s.probabilities(), s.y, X=s.X if s.kind == "table" else None, texts=s.texts,
            feature_names=s.feature_names or None, class_names=s.class_names, page_size=page_size,
        )
        self.panel = SamplePanel(kind=s.kind, n_samples=s.n_samples)
        self.compare = CompareView(s.kind)
        self.compare.on_new_view(self._hook_view)
        self.compare.set_methods(list(s.methods))
        from ..explainers.registry import available_explainers

        menu = _METHOD_MENU[s.kind] + (_TORCH_TABLE_METHODS if s.kind == "table" and is_torch_module(s.model) else ())
        offered = [m for m in menu if m in available_explainers(s.kind)]
        offered = list(dict.fromkeys([*s.methods, *offered]))
        self.method_picker = ipywidgets.SelectMultiple(
            options=offered, value=tuple(s.methods), rows=min(6, len(offered)), description="methods",
            layout={"width": "18em"},
        )
        self.method_picker.observe(self._on_methods, names=["value"])
        self.reset_button = ipywidgets.Button(description="undo edits", disabled=True,  # no icon: its font is not offline
                                              tooltip="restore the sample as it is in the data set")
        self.reset_button.add_class("nbx-reset-edits")
        self.reset_button.on_click(lambda _b: self._reset_edits())
        self.edit_hint = ipywidgets.Label(_EDIT_HINT[s.kind])
        n = s.n_samples
        self.index_box = ipywidgets.BoundedIntText(0, min=0, max=n - 1, description="go to #",
                                                   layout={"width": "11em"})
        self.index_box.add_class("nbx-goto")
        self.position = ipywidgets.IntSlider(0, min=0, max=max(0, n - 1), description="position",
                                             continuous_update=False, readout=False, layout={"width": "26em"})
        self.position.add_class("nbx-position")
        self.position_label = ipywidgets.Label("")
        self.index_box.observe(self._on_index_box, names=["value"])
        self.position.observe(self._on_position, names=["value"])
        self.browser.observe(lambda _c: self._sync_position(), names=["filter"])
        nav = ipywidgets.HBox([self.position, self.position_label, self.index_box])
        controls = ipywidgets.HBox([self.method_picker, ipywidgets.VBox([self.reset_button, self.edit_hint])])
        right = ipywidgets.VBox([nav, self.panel, controls, self.compare], layout={"flex": "1 1 auto"})
        self.explore = ipywidgets.HBox([self.browser, right], layout={"flex_flow": "row wrap"})

    def _build_tabs(self) -> None:
        s = self.session
        self.global_box = ipywidgets.VBox([ipywidgets.Label("Open this tab to compute the global views.")])
        self.errors_box = ipywidgets.VBox([])
        self.surrogate_box = ipywidgets.VBox([ipywidgets.Label(
            "The global surrogate needs a table." if s.kind != "table" else "Open this tab to fit the surrogate.")])
        self.confusion = None
        if s.y is not None:
            from .confusion_matrix import ConfusionMatrix

            pred = s.predicted
            ok = pred >= 0
            k = s.n_classes
            matrix = np.zeros((k, k), dtype=np.int64)
            np.add.at(matrix, (s.y[ok].astype(np.int64), pred[ok]), 1)
            self.confusion = ConfusionMatrix(matrix, class_names=s.class_names, title="confusion matrix")
            self.confusion.on_event("select", self._on_cell)
            self.errors_box.children = [self.confusion]
        else:
            self.errors_box.children = [ipywidgets.Label("Pass y (true labels) to see errors and bias.")]
        self.tabs = ipywidgets.Tab(children=[self.explore, self.global_box, self.errors_box, self.surrogate_box])
        for i, name in enumerate(TABS):
            self.tabs.set_title(i, name)
        self.tabs.observe(self._on_tab, names=["selected_index"])

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
        if i not in set(self.browser.indices.tolist()):
            self.browser.clear_filter()
        self.browser.selected = i
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
        self.method_picker.value = tuple([names] if isinstance(names, str) else names)

    def explanations(self) -> dict[str, Any]:
        """The explanations shown now, by method (exceptions for methods that failed).

        Example:
            >>> dash.explanations()["kernel_shap"].values.shape    # doctest: +SKIP
            (12,)
        """
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

    # -- the sample shown -------------------------------------------------------------------------
    def _on_selected(self, change: Any) -> None:
        i = int(change["new"])
        if i >= 0 and i != self.index:
            start = time.perf_counter()
            self._show(i)
            self.timings.append(("select", 1000 * (time.perf_counter() - start)))

    def _on_index_box(self, change: Any) -> None:
        i = int(change["new"])
        if i != self.index:
            self.select(i)

    def _on_position(self, change: Any) -> None:
        idx = self.browser.indices
        pos = int(change["new"])
        if 0 <= pos < idx.size and int(idx[pos]) != self.index:
            self.browser.selected = int(idx[pos])

    def _sync_position(self) -> None:
        """Slider and label follow the filtered set and the sample shown."""
        idx = self.browser.indices
        pos = int(np.searchsorted(idx, self.index)) if self.index >= 0 else 0
        inside = 0 <= pos < idx.size and int(idx[pos]) == self.index
        with self.position.hold_trait_notifications():
            self.position.max = max(0, idx.size - 1)
            self.position.disabled = idx.size <= 1
            if inside:
                self.position.value = pos
        self.position_label.value = (f"{pos + 1} of {idx.size} shown" if inside else f"{idx.size} shown")
        if self.index >= 0 and self.index_box.value != self.index:
            self.index_box.value = self.index

    def _on_methods(self, change: Any) -> None:
        names = list(change["new"])
        if not names:
            self.method_picker.value = tuple(change["old"])  # at least one method
            return
        if len(names) > 4:
            self.method_picker.value = tuple(names[:4])
            return
        self.session.methods = names
        self.compare.set_methods(names)
        if self.index >= 0:
            self._show(self.index, keep_edits=True)

    def _show(self, i: int, keep_edits: bool = False) -> None:
        s = self.session
        self.index = i
        self._sync_position()
        if not keep_edits:
            self._start_edit(i)
        self._highlight_pdp()
        edited = self._edited_input
        with self.panel.hold_sync():
            self.panel.error = s.errors.get(i, "")
            probs = s.probabilities()[i]
            fields: dict[str, Any] = {"index": i, "true_label": self._true_label(i), "class_names": s.class_names,
                                      "note": self._note(i)}
            if edited is None:  # an edited sample keeps its shown prediction until the new one arrives
                fields["probabilities"] = probs if np.all(np.isfinite(probs)) else None
            if s.kind == "image":
                fields["image"] = self._display_image(i)
            elif s.kind == "table":
                row = s.X[i] if edited is None else edited
                fields.update(row_values=np.asarray(row, dtype=np.float64), row_names=s.feature_names)
            else:
                fields["text"] = s.texts[i] if edited is None else str(edited)  # type: ignore[index]
            self.panel.update(**fields)
        if i in s.errors:
            self._results = {m: RuntimeError(f"the model failed on this sample: {s.errors[i]}") for m in self.methods}
            self._render(i, self._results)
            return
        cached = {m: s.cached(i, m) for m in self.methods}
        if all(v is not None for v in cached.values()) and self._edited_input is None:
            self._results = cached
            self._render(i, cached)  # a cached sample repaints at once, no worker round trip
            return
        self.runner.submit(lambda ctl: self._explain_all(i, edited, ctl), label=f"explaining sample {i}",
                           on_done=lambda res: self._render_if_current(i, edited, res), replace="explain")

    def _explain_all(self, i: int, edited: Any, control: Any) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            return self._explain_methods(i, edited, control)
        finally:
            self.timings.append(("explain", 1000 * (time.perf_counter() - start)))

    def _explain_methods(self, i: int, edited: Any, control: Any) -> dict[str, Any]:
        s = self.session
        results: dict[str, Any] = {}
        names = self.methods
        probs = None
        if edited is not None:
            probs = s.predict([edited] if s.kind == "text" else np.asarray(edited)[None])[0]
        for n, m in enumerate(names):
            control.check()
            try:
                if edited is None:
                    results[m] = s.explain(i, m)
                else:
                    results[m] = s.explain_input(edited, m, s.target_of(i))
            except Exception as exc:  # one method failing leaves the others shown
                results[m] = exc
            control.progress(n + 1, len(names), m)
        if probs is not None:
            results["__probabilities__"] = probs
        return results

    def _render_if_current(self, i: int, edited: Any, results: dict[str, Any]) -> None:
        if i != self.index or edited is not self._edited_input:
            return  # a newer sample or edit replaced this one
        probs = results.pop("__probabilities__", None)
        if probs is not None:
            self.panel.probabilities = probs
        self._results = results
        self._render(i, results)

    def _render(self, i: int, results: dict[str, Any]) -> None:
        s = self.session
        kwargs: dict[str, Any] = {}
        if s.kind == "image":
            kwargs["image"] = self._display_image(i)
        elif s.kind == "table":
            row = self._edited_input if self._edited_input is not None else s.X[i]
            kwargs.update(feature_values=np.asarray(row, dtype=np.float64), feature_names=s.feature_names)
        else:
            tokens = self._tokens(i)
            mask = np.zeros(len(tokens), dtype=bool) if self._edit is None else np.asarray(self._edit.mask, dtype=bool)
            if mask.any():  # explanations of the edited text: put their values back on the full token list
                results = {m: r if isinstance(r, BaseException) else _spread(r, mask) for m, r in results.items()}
            kwargs.update(tokens=tokens, dropped=mask)
        first = self.compare.views.get(self.methods[0]) if s.kind == "table" else None
        if first is None:
            self.compare.show(results, **kwargs)
            return
        with first.hold_sync():  # the bars and their what-if sliders reach the browser in one message
            self.compare.show(results, **kwargs)
            self._sync_whatif(i)

    # -- what-if editing --------------------------------------------------------------------------
    def _start_edit(self, i: int) -> None:
        s = self.session
        self._edited_input = None
        self.reset_button.disabled = True
        if s.kind == "image":
            from ..perturb import PatchMask

            x = np.asarray(s.X[i])
            self._edit = PatchMask(x.shape[-2:], **({"patch": self.patch} if self.patch else {}))
        elif s.kind == "text":
            from ..perturb import TokenMask

            self._edit = TokenMask(len(self._tokens(i)))
        else:
            self._edit = None

    def _tokens(self, i: int) -> list[str]:
        tok = getattr(self.session.model, "tokenize", None)
        if tok is None:
            return str(self.session.texts[i]).split()  # type: ignore[index]
        return list(tok(self.session.texts[i]))  # type: ignore[index]

    def _hook_view(self, _name: str, view: Any) -> None:
        """Wire a method view the CompareView made to the what-if edit of the kind of data."""
        if self.session.kind == "image":
            view.on_event("click", self._on_patch_click)
        elif self.session.kind == "text":
            view.on_event("toggle", self._on_token_toggle)
        else:
            view.observe(self._on_row_edit, names=["sample"])

    def _on_patch_click(self, msg: dict[str, Any]) -> None:
        if self.index < 0 or self._edit is None:
            return
        self._edit.toggle_at(int(msg["row"]), int(msg["col"]))
        x = np.asarray(self.session.X[self.index])
        self._apply_edit(None if not np.any(self._edit.mask) else self._edit.apply(x, fill="mean"))

    def _on_token_toggle(self, msg: dict[str, Any]) -> None:
        if self.index < 0 or self._edit is None:
            return
        self._edit.toggle(int(msg["index"]))
        kept = self._edit.kept(self._tokens(self.index))
        join = getattr(self.session.model, "detokenize", None)
        text = join(kept) if callable(join) else " ".join(kept)
        self._apply_edit(None if not np.any(self._edit.mask) else text)

    def _on_row_edit(self, change: Any) -> None:
        if self.index < 0 or change["new"] is None or getattr(self, "_syncing", False):
            return
        row = np.asarray(change["new"], dtype=np.float64)
        same = np.array_equal(row, np.asarray(self.session.X[self.index], dtype=np.float64), equal_nan=True)
        self._apply_edit(None if same else row)

    def _apply_edit(self, edited: Any) -> None:
        self._edited_input = edited
        self.reset_button.disabled = edited is None
        self._show(self.index, keep_edits=True)

    def _reset_edits(self) -> None:
        if self.index >= 0:
            self._start_edit(self.index)
            self._apply_edit(None)

    def _sync_whatif(self, i: int) -> None:
        """Give the first method's bars what-if sliders over the data's range (and category menus)."""
        from ._whatif import slider_ranges

        view = self.compare.views.get(self.methods[0])
        if view is None:
            return
        for other in self.compare.views.values():
            if other is not view and other.whatif:
                other.whatif = False
        s = self.session
        row = np.asarray(self._edited_input if self._edited_input is not None else s.X[i], dtype=np.float64)
        lo, hi, step = slider_ranges(row, s.feature_range)  # the data's range (computed once), widened to the row
        self._syncing = True
        try:
            with view.hold_sync():
                fields: dict[str, Any] = {"slider_min": lo, "slider_max": hi, "slider_step": step, "sample": row,
                                          "whatif": True}
                if s.categorical and "categories" in view.trait_names():
                    fields["categories"] = [
                        [{"value": v, "label": lab} for v, lab in s.categorical[j]] if j in s.categorical else None
                        for j in range(row.size)
                    ]
                for k, v in fields.items():
                    setattr(view, k, v)
                probs = self.panel.probabilities
                if probs is not None:
                    t = s.target_of(i)
                    view.prediction = float(np.asarray(probs)[t])
                    view.prediction_label = f"P({s.class_names[t]})"
        finally:
            self._syncing = False

    # -- panel helpers ----------------------------------------------------------------------------
    def _display_image(self, i: int) -> np.ndarray:
        s = self.session
        if self.images is not None:
            img = to_display_image(self.images[i])
        else:
            x = np.asarray(s.X[i], dtype=np.float64)
            if x.ndim == 3:
                x = np.moveaxis(x, 0, -1) if x.shape[0] in (1, 3) else x.mean(axis=0)
                if x.ndim == 3 and x.shape[-1] == 1:
                    x = x[..., 0]
            img = to_display_image(x, normalize=True)
        if self._edit is not None and self.kind == "image" and np.any(self._edit.mask):
            img = np.array(img, copy=True)
            hidden = self._edit.pixel_mask() if hasattr(self._edit, "pixel_mask") else None
            if hidden is not None:
                img[hidden] = 128  # occluded patches show as mid grey
        return img

    def _note(self, i: int) -> str:
        s = self.session
        parts = []
        bad = s.nan_features(i)
        if bad:
            parts.append(f"NaN or inf in: {', '.join(bad)}")
        elif s.kind == "image" and s.nan_rows()[i]:
            parts.append("this image has NaN or inf pixels")
        if self._edit is not None and np.any(self._edit.mask):
            n = int(np.sum(self._edit.mask))
            parts.append(f"edited: {n} {'patch' if s.kind == 'image' else 'token'}{'es' if n > 1 and s.kind == 'image' else ('s' if n > 1 else '')} removed")
        elif s.kind == "table" and self._edited_input is not None:
            changed = np.flatnonzero(~np.isclose(np.asarray(self._edited_input, dtype=np.float64),
                                                 np.asarray(s.X[i], dtype=np.float64), equal_nan=True))
            parts.append("edited: " + ", ".join(s.feature_names[j] for j in changed[:5]) +
                         (" ..." if changed.size > 5 else ""))
        return "; ".join(parts)

    def _true_label(self, i: int) -> str:
        s = self.session
        if s.y is None:
            return ""
        t = int(s.y[i])
        names = s.class_names
        return names[t] if 0 <= t < len(names) else str(t)

    # -- tabs: global, errors, surrogate ----------------------------------------------------------
    def _on_tab(self, change: Any) -> None:
        {1: self._start_global, 2: self._start_errors, 3: self._start_surrogate}.get(int(change["new"] or 0),
                                                                                    lambda: None)()

    def _start_global(self) -> None:
        if "global" in self._global_started:
            return
        self._global_started.add("global")
        s = self.session
        method = s.methods[0]
        replace_children(self.global_box, [ipywidgets.Label(f"computing {method} on up to {self.global_samples} samples...")])
        def compute(ctl: Any) -> Any:
            try:
                if s.kind == "text":
                    return s.token_importance(method, self.global_samples, ctl)
                return s.global_attributions(method, self.global_samples, ctl)
            except Cancelled:
                self._global_cancelled()
                raise

        done = self._show_token_importance if s.kind == "text" else self._show_global
        self.runner.submit(compute, label=f"global {method}", on_done=done, on_error=self._global_failed)

    def _global_cancelled(self) -> None:
        self._global_started.discard("global")
        again = ipywidgets.Button(description="compute again")
        again.add_class("nbx-compute-again")
        again.on_click(lambda _b: self._start_global())
        replace_children(self.global_box, [ipywidgets.Label("cancelled; the global views were not computed."), again])

    def _global_failed(self, exc: BaseException) -> None:
        self._global_started.discard("global")
        retry = ipywidgets.Button(description="compute again")
        retry.on_click(lambda _b: self._start_global())
        replace_children(self.global_box, [ipywidgets.Label(f"the global views failed: {_short(exc)}"), retry])

    def _show_global(self, result: tuple[np.ndarray, np.ndarray]) -> None:
        idx, values = result
        s = self.session
        parts: list[Any] = []
        if s.kind == "table":
            from .beeswarm import Beeswarm
            from .global_views import ImportanceBars, PDPView

            self.importance = ImportanceBars(values, s.feature_names, title=f"mean |{s.methods[0]}|")
            self.beeswarm = Beeswarm(values, feature_values=np.asarray(s.X[idx], dtype=np.float64),
                                     feature_names=s.feature_names, sample_indices=idx)
            self.beeswarm.on_event("select", lambda msg: self._jump(int(msg["index"])))
            self.pdp = PDPView(None, s.feature_names, on_feature=self._start_pdp)
            parts = [ipywidgets.HBox([self.importance, self.beeswarm]), self.pdp]
            self._start_pdp(0)
        else:
            from .heatmap import Heatmap

            mean_abs = np.mean(np.abs(values), axis=0)
            self.global_map = Heatmap(mean_abs, title=f"mean |{s.methods[0]}| over {idx.size} images",
                                      value_label=f"mean |{s.methods[0]}|")
            parts = [self.global_map]
        replace_children(self.global_box, parts)

    def _show_token_importance(self, result: tuple[list[str], np.ndarray]) -> None:
        from .global_views import ImportanceBars

        tokens, means = result
        self.importance = ImportanceBars(means[None, :], tokens, title=f"tokens with the largest mean |{self.session.methods[0]}|")
        replace_children(self.global_box, [self.importance])

    def _start_pdp(self, feature: int) -> None:
        s = self.session
        self.runner.submit(lambda ctl: s.partial_dependence(int(feature)), label="partial dependence",
                           on_done=self._show_pdp, on_error=lambda exc: setattr(self.pdp, "error", _short(exc))
                           if hasattr(self.pdp, "error") else None, replace="pdp")

    def _show_pdp(self, r: Any) -> None:
        ice = r.ice if r.ice is not None else np.zeros((0, r.grid[0].size))
        self.pdp.update(r.grid[0], r.average, ice, r.feature_names[0])
        self._pdp_result = r
        self._highlight_pdp()

    def _highlight_pdp(self) -> None:
        """Draw the ICE line of the sample shown (with its what-if edits) over the PDP."""
        r = getattr(self, "_pdp_result", None)
        if r is None or self.index < 0 or not r.features:
            return
        row = self._edited_input if self._edited_input is not None else self.session.X[self.index]
        try:
            line = self.session.ice_line(row, r.features[0], r.grid[0], r.target)
            self.pdp.highlight_line(line)
        except Exception:  # e.g. the model fails on this sample: no line, the panel says why
            self.pdp.highlight(None)

    def _start_errors(self) -> None:
        if "errors" in self._global_started or self.session.y is None:
            return
        self._global_started.add("errors")
        s = self.session

        def compute(_ctl: Any) -> tuple[Any, Any]:
            split = s.split_comparison()
            slices = s.slices(0) if s.kind == "table" else None
            return split, slices

        self.runner.submit(compute, label="bias analysis", on_done=self._show_bias, on_error=self._bias_failed)

    def _show_bias(self, result: tuple[Any, Any]) -> None:
        from .global_views import BiasView

        split, slices = result
        s = self.session
        self.bias = BiasView(split, slices, feature_names=s.feature_names or None, on_feature=self._start_slices)
        replace_children(self.errors_box, [c for c in (self.confusion, self.bias) if c is not None])

    def _bias_failed(self, exc: BaseException) -> None:
        self._global_started.discard("errors")
        replace_children(self.errors_box, [c for c in (self.confusion,) if c is not None] + [
            ipywidgets.Label(f"bias analysis failed: {_short(exc)}")])

    def _start_slices(self, feature: int) -> None:
        s = self.session
        self.runner.submit(lambda ctl: s.slices(int(feature)), label="slice metrics",
                           on_done=lambda r: self.bias.update_slices(r), replace="slices")

    def _start_surrogate(self) -> None:
        if "surrogate" in self._global_started or self.session.kind != "table":
            return
        self._global_started.add("surrogate")
        s = self.session

        def done(fit: Any) -> None:
            from .global_views import SurrogateView

            self.surrogate_view = SurrogateView(fit, s.feature_names)
            replace_children(self.surrogate_box, [self.surrogate_view])

        def failed(exc: BaseException) -> None:
            self._global_started.discard("surrogate")
            replace_children(self.surrogate_box, [ipywidgets.Label(f"the surrogate could not be fitted: {_short(exc)}")])

        replace_children(self.surrogate_box, [ipywidgets.Label("fitting the global surrogate...")])
        self.runner.submit(lambda ctl: s.surrogate(), label="global surrogate", on_done=done, on_error=failed)

    def _on_cell(self, msg: dict[str, Any]) -> None:
        t, p = int(msg["true"]), int(msg["pred"])
        f = self.browser.filter
        if msg.get("selected") is False or (f.true_class == t and f.predicted_class == p):
            self.browser.clear_filter()
            if self.confusion is not None:
                self.confusion.selected = None
        else:
            self.browser.set_filter(true_class=t, predicted_class=p)
        self.tabs.selected_index = 0

    def _jump(self, i: int) -> None:
        self.select(i)
        self.tabs.selected_index = 0


def _spread(e: Any, dropped: np.ndarray) -> np.ndarray:
    """Token values of an explanation of the kept tokens, placed on the full token list (0 where dropped)."""
    values = np.asarray(pick_output(e), dtype=np.float64).reshape(-1)
    full = np.zeros(dropped.size)
    kept = np.flatnonzero(~dropped)
    if values.size != kept.size:
        raise ValueError(f"the edited text has {values.size} tokens but {kept.size} were kept; "
                         "the model's tokenizer does not round-trip its own output")
    full[kept] = values
    return full


#: Methods the picker offers besides the ones passed, per kind (fast enough to run per sample).
_METHOD_MENU = {
    "table": ("kernel_shap", "lime_batched", "shap", "lime"),
    "image": ("saliency", "gradient_x_input", "smoothgrad", "integrated_gradients", "deeplift", "grad_cam"),
    "text": ("token_shap", "token_occlusion", "integrated_gradients_text"),
}
#: Gradient methods offered for tables when the model is a torch module.
_TORCH_TABLE_METHODS = ("integrated_gradients", "gradient_x_input", "deeplift", "saliency")
_EDIT_HINT = {
    "table": "what-if: move a slider in the first method's bars",
    "image": "what-if: click a map to hide or restore a patch",
    "text": "what-if: click a token to drop or restore it",
}
