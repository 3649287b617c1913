"""SampleBrowser: filter a data set by its predictions and page through it, one sample selected.

Filter controls (misclassified, true and predicted class, confidence range, text search, NaN
rows), a :class:`~nbexplain.widgets.views.sample_table.SampleTable` of the current page with its pager
and go-to box, and (optional) a previous/next stepper over the filtered samples. Only one page
is ever sent to the browser.

Example:
    >>> import numpy as np
    >>> from nbexplain.widgets.explore.sample_browser import SampleBrowser
    >>> P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    >>> b = SampleBrowser(P, [0, 0, 1], class_names=["no", "yes"])
    >>> _ = b.set_filter(misclassified=True); b.indices.tolist(), b.selected
    ([1, 2], 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets
import numpy as np
import traitlets

from ...diagnostics.browse import FULL_RANGE, SampleFilter, fold_texts, select
from .._base import ClosesTree
from ..views.sample_table import SampleTable

__all__ = ["SampleBrowser"]

#: The class dropdowns' value for "any class" (ipywidgets reads a None value as "nothing selected").
ANY = -1


class SampleBrowser(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Filter controls, a paged :class:`SampleTable` and a sample stepper, over one data set.

    ``probabilities``: ``(n, K)``; ``y``: labels as class indices (enables the misclassified and
    true-class filters); ``X``: a table ``(n, F)`` (columns shown) or any ``(n, ...)`` array
    (NaN rows flagged); ``texts``: one string per sample (snippets and a search box);
    ``categories``: per feature None or ``[{value, label}]`` (categorical columns shown as labels).

    ``selected`` is the selected sample (-1 none); when a new filter drops it, the first match
    is selected (-1 when nothing matches). :meth:`select` (and the pager's go-to box) selects
    any sample, clearing a filter that hides it. ``stepper=False`` leaves out the previous/next
    buttons (the Dashboard: one navigation, the pager). ``filter`` is the current :class:`SampleFilter`; change
    it with :meth:`set_filter` (the controls follow) or with the controls. A confusion-matrix
    click maps to ``set_filter(true_class=t, predicted_class=p)``.

    Example:
        >>> P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6]])    # predicted: 0 1 0 1 1
        >>> y, X = [0, 0, 1, 1, 0], np.arange(10.0).reshape(5, 2)
        >>> b = SampleBrowser(P, y, X=X, feature_names=["a", "b"], class_names=["no", "yes"])
        >>> _ = b.set_filter(true_class=0, predicted_class=1); b.indices.tolist(), b.selected
        ([1, 4], 1)
        >>> b.step(1); b.selected
        4
        4
    """

    selected = traitlets.Int(-1, help="int, default -1: the selected sample index (-1 none).")
    filter = traitlets.Instance(SampleFilter, help="SampleFilter: the current filter; see set_filter().")

    def __init__(
        self,
        probabilities: Any,
        y: Any = None,
        *,
        X: Any = None,
        texts: Sequence[str] | None = None,
        feature_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        page_size: int = 15,
        stepper: bool = True,
        layout: Any = None,
        categories: Any = None,
    ) -> None:
        self.table = t = SampleTable(
            probabilities, y, X=X, texts=texts, feature_names=feature_names, class_names=class_names,
            page_size=page_size, categories=categories,
        )
        self.n_samples = n = t.n_samples
        self._folded = None if t.texts is None else fold_texts(t.texts, n)
        self._has_nan = bool(t.nan.any())
        self._syncing = False
        any_class = [("any", ANY), *((name, i) for i, name in enumerate(t.class_names))]
        no_y = t.y is None
        self.misclassified = ipywidgets.Checkbox(False, description="misclassified", indent=False, disabled=no_y,
                                                 layout={"width": "auto"})
        self.true_class = ipywidgets.Dropdown(options=any_class, value=ANY, description="true", disabled=no_y,
                                              layout={"width": "13em"}, style={"description_width": "3em"})
        self.predicted_class = ipywidgets.Dropdown(options=any_class, value=ANY, description="predicted",
                                                   layout={"width": "15em"}, style={"description_width": "5em"})
        self.confidence = ipywidgets.FloatRangeSlider(value=FULL_RANGE, min=0.0, max=1.0, step=0.01,
                                                      description="confidence", continuous_update=False,
                                                      readout_format=".2f", style={"description_width": "initial"},
                                                      layout={"width": "22em"})
        self.search = ipywidgets.Text("", placeholder="search the texts", description="search",
                                      layout={"width": "18em", "display": "" if t.texts is not None else "none"},
                                      style={"description_width": "initial"})
        self.nan_only = ipywidgets.Checkbox(False, description="NaN rows only", indent=False,
                                            layout={"width": "auto", "display": "" if self._has_nan else "none"})
        self.count = ipywidgets.Label("")
        self.clear_button = ipywidgets.Button(description="clear filter", layout={"width": "7em"})
        for widget, cls in [
            (self.misclassified, "nbx-browse-misclassified"), (self.true_class, "nbx-browse-true"),
            (self.predicted_class, "nbx-browse-pred"), (self.confidence, "nbx-browse-confidence"),
            (self.search, "nbx-browse-search"), (self.nan_only, "nbx-browse-nan"), (self.count, "nbx-browse-count"),
            (self.clear_button, "nbx-browse-clear"),
        ]:
            widget.add_class(cls)
        row1 = ipywidgets.HBox([self.misclassified, self.true_class, self.predicted_class, self.nan_only],
                               layout={"flex_flow": "row wrap", "align_items": "center"})
        row2 = ipywidgets.HBox([self.confidence, self.search, self.clear_button, self.count],
                               layout={"flex_flow": "row wrap", "align_items": "center"})
        self.prev_button: ipywidgets.Button | None = None
        self.next_button: ipywidgets.Button | None = None
        self.step_info: ipywidgets.Label | None = None
        self.stepper: ipywidgets.HBox | None = None
        if stepper:
            self._build_stepper()
        parts = [row1, row2, t] + ([self.stepper] if self.stepper is not None else [])
        super().__init__(parts, **({"layout": layout} if layout else {}))
        self.add_class("nbx-sample-browser")
        self.add_class("nbx-kernel-scope")  # its controls call Python: disabled with the reason without a kernel
        self.indices = np.arange(n, dtype=np.int64)
        self._matches: tuple[SampleFilter | None, np.ndarray] = (None, self.indices)
        self.set_trait("filter", SampleFilter())
        traitlets.link((t, "selected"), (self, "selected"))
        t.reveal = lambda _i: self.clear_filter()  # the pager's go-to box reaches samples the filter hides
        for control in (self.misclassified, self.true_class, self.predicted_class, self.confidence,
                        self.search, self.nan_only):
            control.observe(self._on_control, names=["value"])
        self.clear_button.on_click(lambda _b: self.clear_filter())
        self.observe(self._on_filter, names=["filter"])
        self.observe(lambda _c: self._update_labels(), names=["selected"])
        self.selected = 0 if n else -1
        self._update_labels()

    # -- public API ---------------------------------------------------------------------------
    def set_filter(self, **fields: Any) -> SampleFilter:
        """Change some filter fields (the others stay); returns the new filter.

        Fields: ``misclassified``, ``true_class``, ``predicted_class``, ``confidence``, ``text``,
        ``nan_only`` (see :class:`SampleFilter`). Bad values raise ``ValueError`` and change
        nothing.

        Example:
            >>> P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6]])    # predicted: 0 1 0 1 1
            >>> b = SampleBrowser(P, [0, 0, 1, 1, 0], class_names=["no", "yes"])
            >>> b.set_filter(true_class=0, predicted_class=1)   # a confusion-matrix cell
            SampleFilter(misclassified=False, true_class=0, predicted_class=1, confidence=(0.0, 1.0), text='', nan_only=False)
            >>> b.indices.tolist()
            [1, 4]
            >>> b.set_filter(true_class=5)
            Traceback (most recent call last):
            ...
            ValueError: true_class=5 is out of range: there are 2 classes (0..1)
        """
        self.filter = self.filter.replace(**fields)  # validated (and matched) by _valid_filter
        return self.filter

    def clear_filter(self) -> None:
        """Show every sample again (the selection stays).

        Example:
            >>> P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6]])    # predicted: 0 1 0 1 1
            >>> b = SampleBrowser(P, [0, 0, 1, 1, 0], class_names=["no", "yes"])
            >>> _ = b.set_filter(misclassified=True); len(b.indices)
            3
            >>> b.clear_filter(); len(b.indices) == b.n_samples
            True
        """
        self.filter = SampleFilter()

    def select(self, index: int) -> int:
        """Select sample ``index``; a filter that hides it is cleared first. Returns it.

        Example:
            >>> P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6]])    # predicted: 0 1 0 1 1
            >>> b = SampleBrowser(P, [0, 0, 1, 1, 0], class_names=["no", "yes"])
            >>> _ = b.set_filter(misclassified=True); b.indices.tolist()
            [1, 2, 4]
            >>> b.select(3); b.selected, b.filter.misclassified    # 3 is predicted right: the filter is cleared
            3
            (3, False)
        """
        return self.table.goto(index)

    def step(self, delta: int) -> int:
        """Select the next (``1``) or previous (``-1``) sample of the filtered set; the table turns
        the page when needed. Returns the new selection.

        Example:
            >>> P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6]])    # predicted: 0 1 0 1 1
            >>> b = SampleBrowser(P, [0, 0, 1, 1, 0], class_names=["no", "yes"])
            >>> b.step(1), b.step(1), b.step(-1)
            (1, 2, 1)
        """
        return self.table.step(delta)

    # -- internals ----------------------------------------------------------------------------
    def _build_stepper(self) -> None:
        self.prev_button = ipywidgets.Button(description="\u25c0 prev", tooltip="previous sample of the filter",
                                             layout={"width": "6em"})
        self.next_button = ipywidgets.Button(description="next \u25b6", tooltip="next sample of the filter",
                                             layout={"width": "6em"})
        self.step_info = ipywidgets.Label("")
        for widget, cls in [(self.prev_button, "nbx-step-prev"), (self.next_button, "nbx-step-next"),
                            (self.step_info, "nbx-step-info")]:
            widget.add_class(cls)
        self.prev_button.on_click(lambda _b: self.step(-1))
        self.next_button.on_click(lambda _b: self.step(1))
        self.stepper = ipywidgets.HBox([self.prev_button, self.next_button, self.step_info],
                                       layout={"align_items": "center"})

    def _check(self, f: SampleFilter) -> np.ndarray:
        t = self.table
        return select(t.pred, t.conf, len(t.class_names), f, y=t.y, folded_texts=self._folded,
                      nan=None if t.X is None else t.nan)

    @traitlets.validate("filter")
    def _valid_filter(self, proposal: dict[str, Any]) -> SampleFilter:
        f = proposal["value"]
        self._matches = (f, self._check(f))  # raises on a bad filter before anything changes
        return f

    def _on_control(self, _change: dict[str, Any]) -> None:
        if self._syncing:
            return
        lo, hi = self.confidence.value
        self.filter = self.filter.replace(
            misclassified=self.misclassified.value, true_class=_class(self.true_class.value),
            predicted_class=_class(self.predicted_class.value), confidence=(lo, hi), text=self.search.value,
            nan_only=self.nan_only.value,
        )

    def _on_filter(self, change: dict[str, Any]) -> None:
        f: SampleFilter = change["new"]
        self.indices = self._matches[1] if self._matches[0] is f else self._check(f)
        self._syncing = True
        try:
            self.misclassified.value = f.misclassified
            self.true_class.value = ANY if f.true_class is None else f.true_class
            self.predicted_class.value = ANY if f.predicted_class is None else f.predicted_class
            if tuple(self.confidence.value) != f.confidence:
                self.confidence.value = f.confidence
            self.search.value = f.text
            self.nan_only.value = f.nan_only
        finally:
            self._syncing = False
        t = self.table
        with t.hold_sync():
            t.show(self.indices)
            if not _contains(self.indices, self.selected):
                t.selected = int(self.indices[0]) if len(self.indices) else -1
        self._update_labels()

    def _update_labels(self) -> None:
        k, n = len(self.indices), self.n_samples
        self.count.value = f"{k} of {n} samples"
        if self.prev_button is None or self.next_button is None or self.step_info is None:
            return
        sel = self.selected
        pos = int(np.searchsorted(self.indices, sel)) if sel >= 0 else -1
        inside = 0 <= pos < k and self.indices[pos] == sel
        if sel < 0:
            self.step_info.value = "no sample selected"
        elif inside:
            self.step_info.value = f"sample {sel} ({pos + 1} of {k})"
        else:
            self.step_info.value = f"sample {sel} (not in the filter)"
        self.prev_button.disabled = k == 0 or (inside and pos == 0) or (sel >= 0 and not inside and pos == 0)
        self.next_button.disabled = k == 0 or (inside and pos == k - 1) or (sel >= 0 and not inside and pos >= k)


def _class(value: int) -> int | None:
    return None if value == ANY else int(value)


def _contains(indices: np.ndarray, value: int) -> bool:
    """Whether ``value`` is among the ascending ``indices``."""
    pos = int(np.searchsorted(indices, value))
    return pos < len(indices) and bool(indices[pos] == value)
