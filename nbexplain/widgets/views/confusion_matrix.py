"""ConfusionMatrix: counts of true versus predicted classes, per-class recall and accuracy; click a cell.

Rows are true classes, columns predicted ones. Cells are coloured by their share of the row (the
true class), so a strong diagonal reads as good recall whatever the class sizes. A click on a cell
sets ``selected`` and sends ``{"event": "select", "true": t, "pred": p}``; clicking the selected
cell again clears ``selected`` and sends the event too.

Example:
    >>> from nbexplain.widgets.views.confusion_matrix import ConfusionMatrix
    >>> cm = ConfusionMatrix.from_predictions([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"])
    >>> cm.matrix.tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from ...codec import encode_array
from ...diagnostics._metrics import confusion_matrix
from .._base import NbxWidget
from .._traits import ArrayTrait, to_numpy

__all__ = ["ConfusionMatrix", "confusion_counts"]


def _exact(value: np.ndarray | None, _widget: Any) -> dict[str, Any] | None:
    return None if value is None else encode_array(value, precision="float32")


def confusion_counts(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """The ``(K, K)`` confusion matrix of integer labels (rows true, columns predicted).

    ``K`` is ``n_classes``, or one more than the largest label. Labels must be integers in
    ``0..K-1``.

    Example:
        >>> confusion_counts([0, 1, 1], [0, 0, 1]).tolist()
        [[1, 0], [1, 1]]
    """
    t = to_numpy(y_true).reshape(-1)
    p = to_numpy(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}: pass one prediction per sample")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (not np.all(np.isfinite(a)) or np.any(a != np.round(a)) or np.any(a < 0)):
            raise ValueError(f"{name} must hold class indices 0..K-1 (non-negative integers); "
                             "map string labels to indices first")
    t, p = t.astype(np.int64), p.astype(np.int64)
    top = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    k = top if n_classes is None else int(n_classes)
    if k < top:
        raise ValueError(f"labels go up to {top - 1} but n_classes is {k}: pass n_classes > {top - 1}")
    if k < 1:
        raise ValueError("no labels and no n_classes: pass n_classes")
    return confusion_matrix(t, p, k)


class ConfusionMatrix(NbxWidget):
    """A clickable confusion matrix (K x K counts, rows = true class, columns = predicted class).

    ``class_names`` default to ``"0" ... "K-1"``. ``normalize="true"`` shows each cell's share
    of its row instead of the count (the colour is the row share either way).

    Example:
        >>> cm = ConfusionMatrix([[5, 1], [2, 7]], class_names=["cat", "dog"])
        >>> cm.on_event("select", lambda m: print(m["true"], m["pred"]))
        >>> cm._handle_custom_msg({"event": "select", "true": 1, "pred": 0}, [])   # a click on (dog, cat)
        1 0
    """

    _view = traitlets.Unicode("confusion_matrix").tag(sync=True)
    _extra_kwargs = ("class_names",)

    matrix = ArrayTrait(ndims=(2,), help="array (K, K) of counts, required: rows true class, columns predicted.").tag(
        sync=True, to_json=_exact
    )
    class_names = traitlets.List(
        traitlets.Unicode(), help='list of K str, default ["0", ...]: class names, shown as text.'
    ).tag(sync=True)
    normalize = traitlets.Enum(
        ("none", "true"), "none", help='str, default "none": "none" shows counts, "true" the share of each row.'
    ).tag(sync=True)
    cmap = traitlets.Enum(
        ("viridis", "cividis", "magma", "Greys"),
        "viridis",
        help='str, default "viridis": sequential colour map of the row share.',
    ).tag(sync=True)
    selected = traitlets.List(
        traitlets.Int(min=0),
        default_value=None,
        allow_none=True,
        minlen=2,
        maxlen=2,
        help="[true, pred] or None, default None: the cell last selected in the browser.",
    ).tag(sync=True)

    def __init__(self, matrix: Any, class_names: Any = None, **kwargs: Any) -> None:
        shape = np.shape(to_numpy(matrix))
        k = shape[0] if len(shape) == 2 else 0
        names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
        self._deferred = True
        super().__init__(matrix=matrix, class_names=names, **kwargs)
        self._deferred = False
        self._check(self.matrix, self.class_names, self.selected)

    @classmethod
    def from_predictions(cls, y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None,
                         **kwargs: Any) -> ConfusionMatrix:
        """Count true versus predicted class indices (``K`` = number of class names, or the largest label + 1).

        Example:
            >>> ConfusionMatrix.from_predictions([0, 1], [1, 1], ["no", "yes"]).matrix
            array([[0., 1.],
                   [0., 1.]])
        """
        k = None if class_names is None else len(class_names)
        return cls(confusion_counts(y_true, y_pred, k), class_names=class_names, **kwargs)

    @classmethod
    def from_report(cls, report: Any, **kwargs: Any) -> ConfusionMatrix:
        """The confusion matrix of an :class:`~nbexplain.diagnostics.errors.ErrorReport` (classification).

        Example:
            >>> from nbexplain.diagnostics.errors import error_analysis
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]
            >>> cm = ConfusionMatrix.from_report(error_analysis(model, X, y))
            >>> cm.matrix.tolist(), cm.accuracy
            ([[8.0, 3.0], [1.0, 8.0]], 0.8)
        """
        if getattr(report, "confusion", None) is None:
            raise ValueError(f"the report is for {getattr(report, 'task', '?')}; a confusion matrix needs classification")
        kwargs.setdefault("class_names", report.class_names)
        return cls(report.confusion, **kwargs)

    def update(self, matrix: Any, class_names: Any = None, **traits: Any) -> None:
        """Replace the matrix (K may change) and optionally the names: one message, checked together.

        ``selected`` is cleared when it falls outside the new matrix. Unknown names raise ``TypeError``.

        Example:
            >>> cm = ConfusionMatrix([[5, 1], [2, 7]]); cm.selected = [1, 1]
            >>> cm.update([[1, 0, 0], [0, 2, 0], [0, 0, 3]], class_names=["a", "b", "c"])
            >>> cm.class_names, cm.selected    # (1, 1) is still inside
            (['a', 'b', 'c'], [1, 1])
            >>> cm.update([[4]], class_names=["a"]); cm.selected is None
            True
        """
        self._check_kwargs(traits)
        m = to_numpy(matrix)
        k = m.shape[0] if m.ndim == 2 else 0
        names = [str(c) for c in class_names] if class_names is not None else (
            list(self.class_names) if len(self.class_names) == k else [str(i) for i in range(k)])
        old = (self.matrix, list(self.class_names), self.selected)
        self._deferred = True
        try:
            with self.hold_sync():
                try:
                    self.matrix = m
                    self.class_names = names
                    if self.selected is not None and k and max(self.selected) >= k:
                        self.selected = None
                    for name, value in traits.items():
                        setattr(self, name, value)
                    self._check(self.matrix, self.class_names, self.selected)
                except Exception:
                    self.matrix, self.class_names, self.selected = old
                    raise
        finally:
            self._deferred = False

    # -- derived numbers (the view shows the same) --------------------------------------------------
    @property
    def recall(self) -> np.ndarray:
        """Per-class recall, ``diag / row sum`` (NaN for a class with no samples).

        Example:
            >>> ConfusionMatrix([[3, 1], [0, 0]]).recall
            array([0.75,  nan])
        """
        m = self.matrix
        rows = m.sum(axis=1)
        return np.divide(np.diag(m), rows, out=np.full(len(rows), np.nan), where=rows > 0)

    @property
    def accuracy(self) -> float:
        """Share of samples on the diagonal (NaN when the matrix is empty).

        Example:
            >>> ConfusionMatrix([[3, 1], [0, 4]]).accuracy
            0.875
        """
        total = float(self.matrix.sum())
        return float(np.trace(self.matrix)) / total if total > 0 else float("nan")

    # -- validation ---------------------------------------------------------------------------------
    def _check(self, m: np.ndarray, names: list[str], selected: list[int] | None) -> None:
        if m.shape[0] != m.shape[1] or m.shape[0] == 0:
            raise traitlets.TraitError(
                f"matrix must be square K x K (rows true class, columns predicted), got shape {list(m.shape)}"
            )
        if not np.all(np.isfinite(m)) or np.any(m < 0):
            raise traitlets.TraitError("matrix must hold finite, non-negative counts")
        if np.any(m != np.round(m)) or m.max() >= 2**24:
            raise traitlets.TraitError("matrix must hold whole counts below 2**24 (normalize in the view with normalize='true')")
        if len(names) != m.shape[0]:
            raise traitlets.TraitError(f"class_names has {len(names)} names but the matrix has {m.shape[0]} classes")
        if selected is not None and max(selected) >= m.shape[0]:
            raise traitlets.TraitError(f"selected {selected} is outside the {m.shape[0]} x {m.shape[0]} matrix")

    @traitlets.validate("matrix")
    def _valid_matrix(self, proposal: Any) -> np.ndarray:
        m = proposal["value"]
        if getattr(self, "_deferred", True):
            return m
        self._check(m, self.class_names if m.shape[0] == len(self.class_names) else [str(i) for i in range(m.shape[0])], None)
        return m

    @traitlets.observe("matrix")
    def _on_matrix(self, change: Any) -> None:
        if getattr(self, "_deferred", True):
            return  # __init__ and update() set the names and check everything together
        k = change["new"].shape[0]
        if len(self.class_names) != k:
            self.class_names = [str(i) for i in range(k)]
        if self.selected is not None and max(self.selected) >= k:
            self.selected = None

    @traitlets.validate("class_names")
    def _valid_names(self, proposal: Any) -> list[str]:
        if not getattr(self, "_deferred", True):
            self._check(self.matrix, proposal["value"], None)
        return proposal["value"]

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: Any) -> list[int] | None:
        if not getattr(self, "_deferred", True):
            self._check(self.matrix, self.class_names, proposal["value"])
        return proposal["value"]
