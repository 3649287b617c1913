"""SampleTable: one page of a (filtered) data set as a table; only that page crosses the wire.

Columns: ``#`` (the sample index), true class, predicted class, confidence, then the feature
values (tables, horizontally scrollable) or a text snippet (text data); rows holding NaN are
flagged. Clicking a row selects the sample; the arrow keys move the selection.

Example:
    >>> import numpy as np
    >>> from nbexplain.widgets.views.sample_table import SampleTable
    >>> P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    >>> t = SampleTable(P, [0, 0, 1], class_names=["no", "yes"], page_size=2)
    >>> t.indices.tolist(), t.labels    # page 0: samples 0 and 1; true and predicted class of each row
    ([0.0, 1.0], ['no', 'no', 'no', 'yes'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from ...diagnostics.browse import class_labels, nan_rows, top_class
from .._base import NbxWidget
from .._traits import ArrayTrait, to_numpy
from .feature_bars import _check_categories

__all__ = ["SampleTable"]

#: Characters of a text shown in the table's snippet column.
SNIPPET_CHARS = 160


class SampleTable(NbxWidget):
    """A paged table of samples: index, true and predicted class, confidence, features or text.

    The table holds the whole data set in Python and the current filtered order
    (:attr:`order`, set with :meth:`show`); the synced traits describe one page only, so a
    100,000-sample set costs one page of bytes per update. ``probabilities`` is ``(n, K)``;
    ``y`` the labels as class indices (optional); ``X`` a table ``(n, F)`` (its columns are
    shown) or any ``(n, ...)`` array (only its NaN flags are used); ``texts`` one string per
    sample (a snippet is shown). ``categories``: per feature None or ``[{value, label}]`` (as
    FeatureBars'), shown as the labels (a DataFrame's strings). Events from the browser: ``{"event": "select", "index": i}``
    (a row click; also sets ``selected``), ``{"event": "page", "page": p}``,
    ``{"event": "step", "delta": +-1}`` (arrow keys past the page's edge) and
    ``{"event": "goto", "index": i}`` (the pager's go-to box, see :meth:`goto`).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> P, y, X = rng.dirichlet([1, 1], size=50), rng.integers(0, 2, 50), rng.normal(size=(50, 2))
        >>> t = SampleTable(P, y, X=X, feature_names=["a", "b"], page_size=10)
        >>> t.n_pages, t.columns
        (5, ['confidence', 'a', 'b'])
        >>> t.show(np.flatnonzero(y == 1)); t.n_pages, t.indices[:3].tolist()    # only class 1
        (3, [0.0, 3.0, 4.0])
        >>> t.step(1), t.page    # the first of them selected
        (0, 0)
    """

    _view = traitlets.Unicode("sample_table").tag(sync=True)

    columns = traitlets.List(
        traitlets.Unicode(), help='list of str: names of the columns of `values` ("confidence", then features).'
    ).tag(sync=True)
    values = ArrayTrait(
        ndims=(2,), allow_none=True, help="float array (page rows, len(columns)) or None: the page's numbers."
    ).tag(sync=True)
    indices = ArrayTrait(ndims=(1,), allow_none=True, help="float array (page rows,): sample index of each row.").tag(
        sync=True
    )
    labels = traitlets.List(
        traitlets.Unicode(), help='list of 2 x page rows str: true, predicted class name per row ("" unknown).'
    ).tag(sync=True)
    snippets = traitlets.List(traitlets.Unicode(), help="list of str: text snippet per row (text data; else []).").tag(
        sync=True
    )
    categories = traitlets.Any(
        None,
        allow_none=True,
        help=(
            "list (one entry per column of `columns`) or None: per column None (a number) or a list of "
            '{"value": float, "label": str}; a categorical column shows its values as their labels.'
        ),
    ).tag(sync=True)
    nan_flags = ArrayTrait(ndims=(1,), allow_none=True, help="float array (page rows,): 1 where the row has NaN.").tag(
        sync=True
    )
    page = traitlets.Int(0, min=0, help="int >= 0, default 0: the page shown (0-based).").tag(sync=True)
    page_size = traitlets.Int(15, min=1, max=1000, help="int in 1..1000, default 15: rows per page.").tag(sync=True)
    total = traitlets.Int(0, min=0, help="int: samples in the filtered order (all pages).").tag(sync=True)
    n_samples = traitlets.Int(0, min=0, help="int: samples in the data set.").tag(sync=True)
    selected = traitlets.Int(-1, min=-1, help="int, default -1: the selected sample index (-1 none).").tag(sync=True)

    def __init__(
        self,
        probabilities: Any,
        y: Any = None,
        *,
        X: Any = None,
        texts: Sequence[str] | None = None,
        feature_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        categories: Any = None,
        **kwargs: Any,
    ) -> None:
        P = to_numpy(probabilities)
        self.pred, self.conf = top_class(P)
        n, k = P.shape
        self.y = None if y is None else class_labels(to_numpy(y), n, k)
        self.class_names = [f"class {i}" for i in range(k)] if class_names is None else [str(c) for c in class_names]
        if len(self.class_names) != k:
            raise ValueError(f"class_names has {len(self.class_names)} names but probabilities has {k} columns")
        self.X = None if X is None else to_numpy(X)
        if self.X is not None and (self.X.ndim == 0 or self.X.shape[0] != n):
            raise ValueError(f"X has {self.X.shape[0] if self.X.ndim else 0} rows but probabilities has {n} samples")
        self.texts = None if texts is None else [str(t) for t in texts]
        if self.texts is not None and len(self.texts) != n:
            raise ValueError(f"texts has {len(self.texts)} entries but probabilities has {n} samples")
        self.nan = np.zeros(n, bool) if self.X is None else nan_rows(self.X)
        features = self.X is not None and self.X.ndim == 2
        f = self.X.shape[1] if features and self.X is not None else 0
        names = [f"feature {i}" for i in range(f)] if feature_names is None else [str(s) for s in feature_names]
        if features and len(names) != f:
            raise ValueError(f"feature_names has {len(names)} names but X has {f} columns")
        self._features = features
        self.order = np.arange(n, dtype=np.int64)
        kwargs.setdefault("columns", ["confidence", *(names if features else [])])
        if categories is not None and features:  # per feature, as FeatureBars': aligned here to `columns`
            cats = _check_categories(categories)
            if cats is None or len(cats) != f:
                raise ValueError(f"categories has {len(cats or [])} entries but X has {f} columns (one per feature)")
            kwargs["categories"] = [None, *cats]
        super().__init__(n_samples=n, **kwargs)
        self.on_event("select", self._on_select_event)
        self.on_event("page", lambda msg: setattr(self, "page", self._clamp_page(int(msg.get("page", 0)))))
        self.on_event("step", lambda msg: self.step(int(msg.get("delta", 0))))
        self.on_event("goto", lambda msg: self.goto(int(msg.get("index", -1))))
        #: Called with a sample index before :meth:`goto` selects a sample that is not among the
        #: rows (``order``); a browser clears its filter there. None: such a goto is an error.
        self.reveal: Any = None
        self.observe(self._on_page, names=["page", "page_size"])
        self.observe(self._on_selected, names=["selected"])
        self._refresh()

    # -- public API ---------------------------------------------------------------------------
    @property
    def n_pages(self) -> int:
        """Pages of the current order (at least 1, an empty order shows one empty page).

        Example:
            >>> SampleTable([[1.0]] * 31, page_size=15).n_pages
            3
        """
        return max(1, -(-len(self.order) // self.page_size))

    def show(self, order: Any) -> None:
        """Show the samples ``order`` (sample indices, e.g. from ``filter_samples``) from page 0,
        or from the page holding the selected sample when it is among them.

        Example:
            >>> from nbexplain.diagnostics.browse import SampleFilter, filter_samples
            >>> P = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]]); y = [0, 0, 1]
            >>> t = SampleTable(P, y)
            >>> t.show(filter_samples(P, y, filter=SampleFilter(misclassified=True)))
            >>> t.total, t.indices.tolist()
            (2, [1.0, 2.0])
        """
        a = np.asarray(order, dtype=np.int64).reshape(-1)
        if a.size and (a.min() < 0 or a.max() >= self.n_samples):
            raise ValueError(f"order holds sample indices outside 0..{self.n_samples - 1}")
        self.order = a
        page = self._page_of(self.selected)
        with self.hold_sync():
            self.total = len(a)
            if page is None or page == self.page:
                self.page = self._clamp_page(0 if page is None else page)
                self._refresh()
            else:
                self.page = page  # refreshes

    def step(self, delta: int) -> int:
        """Select the next (``delta=1``) or previous (``-1``) sample of the order; turn the page
        when it is on another. From a sample outside the order, goes to the nearest one after
        (or before) it. Returns the new selection (-1 when the order is empty).

        Example:
            >>> P = np.random.default_rng(0).dirichlet([1, 1], size=50)    # 50 samples, 2 classes
            >>> t = SampleTable(P, page_size=10)
            >>> t.selected = 9; t.step(1), t.page    # past the page's edge: the next page
            (10, 1)
        """
        if not len(self.order):
            self.selected = -1
            return -1
        cur = self.selected
        pos = int(np.searchsorted(self.order, cur)) if cur >= 0 else -1
        present = 0 <= pos < len(self.order) and self.order[pos] == cur
        if cur < 0:
            target = 0 if delta >= 0 else len(self.order) - 1
        elif present:
            target = pos + int(delta)
        else:  # pos is the first index after cur
            target = pos + int(delta) - (1 if delta > 0 else 0)
        target = min(max(target, 0), len(self.order) - 1)
        self.selected = int(self.order[target])
        return self.selected

    def goto(self, index: int) -> int:
        """Select sample ``index`` and turn to its page (the pager's go-to box). A sample that is
        not among the rows is first passed to ``reveal`` (a filter hiding it is cleared); without
        ``reveal`` that is a ``ValueError``. Returns the selection.

        Example:
            >>> P = np.random.default_rng(0).dirichlet([1, 1], size=50)    # 50 samples, 2 classes
            >>> t = SampleTable(P, page_size=10)
            >>> t.goto(42), t.page
            (42, 4)
        """
        i = int(index)
        if not 0 <= i < self.n_samples:
            raise IndexError(f"sample {i} is out of range: 0..{self.n_samples - 1}")
        if self._page_of(i) is None:
            if self.reveal is None:
                raise ValueError(f"sample {i} is not among the {len(self.order)} rows of this table")
            self.reveal(i)
        self.selected = i
        return i

    # -- internals ----------------------------------------------------------------------------
    @traitlets.validate("selected")
    def _valid_selected(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if value >= self.n_samples:
            raise traitlets.TraitError(f"selected={value} is out of range: there are {self.n_samples} samples (or -1)")
        return value

    def _clamp_page(self, page: int) -> int:
        return min(max(int(page), 0), self.n_pages - 1)

    def _page_of(self, index: int) -> int | None:
        if index < 0:
            return None
        pos = int(np.searchsorted(self.order, index))
        if pos < len(self.order) and self.order[pos] == index:
            return pos // self.page_size
        hits = np.flatnonzero(self.order == index)  # an order that is not ascending
        return int(hits[0]) // self.page_size if hits.size else None

    def _on_select_event(self, msg: dict[str, Any]) -> None:
        self.selected = int(msg.get("index", -1))

    def _on_selected(self, change: dict[str, Any]) -> None:
        page = self._page_of(change["new"])
        if page is not None and page != self.page:
            self.page = page

    def _on_page(self, change: dict[str, Any]) -> None:
        clamped = self._clamp_page(self.page)
        if clamped != self.page:
            self.page = clamped  # observed again
            return
        self._refresh()

    def _refresh(self) -> None:
        """Set the page traits from ``order``, ``page`` and ``page_size`` (one message)."""
        start = self.page * self.page_size
        rows = self.order[start : start + self.page_size]
        cols = [self.conf[rows, None]]
        if self._features and self.X is not None:
            cols.append(self.X[rows].astype(np.float64, copy=False))
        values = np.concatenate(cols, axis=1) if len(cols) > 1 else cols[0]
        true = [""] * len(rows) if self.y is None else [self.class_names[c] for c in self.y[rows]]
        pred = [self.class_names[c] if np.isfinite(self.conf[i]) else "(no prediction)"
                for i, c in zip(rows, self.pred[rows], strict=True)]
        with self.hold_sync():
            self.total = len(self.order)
            self.values = values.astype(np.float32)
            self.indices = rows.astype(np.float64)
            self.labels = [s for pair in zip(true, pred, strict=True) for s in pair]
            self.snippets = [] if self.texts is None else [_snippet(self.texts[i]) for i in rows]
            self.nan_flags = self.nan[rows].astype(np.float32)


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The text on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"
