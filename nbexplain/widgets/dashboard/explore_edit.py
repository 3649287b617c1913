"""The Explore tab's what-if editing, and what the sample panel says about the sample and its edit.

Tables are edited with the first method's sliders (and dropdowns), images by clicking a map
(a patch is hidden or restored), texts by clicking a word (dropped or restored). An edit is
the edited input, set as ``state.edited`` (:class:`~nbexplain.widgets.dashboard.state.DashboardState`);
the Explore tab re-predicts and re-explains it on the worker, the Global tab moves the sample's
ICE line. Explanations of an edited text cover the words kept; :func:`spread` puts them back on
the full word list, prediction and baseline included.

Example:
    >>> import numpy as np
    >>> picture(np.array([[-1.0, 1.0], [0.0, 1.0]])).tolist()    # standardised values: min-max scaled
    [[0, 255], [128, 255]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...explanation import Explanation
from .._explanation import pick_output, pick_scalar, require_single
from .._traits import to_display_image
from .._whatif import category_lists, slider_ranges

__all__ = ["EDIT_HINT", "WhatIf", "picture", "spread"]

#: The line under the method picker that says how to edit, per kind of data.
EDIT_HINT = {
    "table": "what-if: move a slider in the first method's bars",
    "image": "what-if: click a map to hide or restore a patch",
    "text": "what-if: click a token to drop or restore it",
}


def spread(e: Any, dropped: np.ndarray, tokens: list[str]) -> Explanation:
    """An explanation of the kept tokens, placed on the full token list (0 where dropped).

    The prediction (``outputs``), the baseline (``base_values``, every word dropped) and the
    target stay, so the view shows them for the edited text.

    Example:
        >>> import numpy as np
        >>> e = Explanation(np.array([[0.5, -0.2]]), base_values=[0.3], outputs=[0.6], target=[1])[0]
        >>> s = spread(e, np.array([False, True, False]), ["good", "not", "film"])
        >>> s.values.tolist(), s.outputs, s.base_values, s.feature_names
        ([0.5, 0.0, -0.2], 0.6, 0.3, ['good', 'not', 'film'])
    """
    single = require_single(e, "the text what-if")
    values = np.asarray(pick_output(single), dtype=np.float64).reshape(-1)
    kept = np.flatnonzero(~dropped)
    if values.size != kept.size:
        raise ValueError(f"the edited text has {values.size} tokens but {kept.size} were kept; "
                         "the model's tokenizer does not round-trip its own output")
    full = np.zeros(dropped.size)
    full[kept] = values
    base, out = pick_scalar(single, "base_values"), pick_scalar(single, "outputs")
    target = getattr(single, "target", None)
    return Explanation(
        full[None], base_values=None if base is None else [base], outputs=None if out is None else [out],
        target=None if target is None else [int(np.asarray(target).reshape(-1)[0])],
        feature_names=list(tokens), method=getattr(single, "method", ""),
    )[0]


def picture(x: Any, image: Any = None) -> np.ndarray:
    """An image sample as it is shown (uint8): ``image`` (a display picture) if given, else ``x``
    min-max scaled (``(C, H, W)`` with 1 or 3 channels as grey or RGB, other channel counts averaged).

    Example:
        >>> picture(np.zeros((1, 2, 2)), image=np.full((2, 2), 200, dtype=np.uint8)).tolist()
        [[200, 200], [200, 200]]
    """
    if image is not None:
        return to_display_image(image)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3:
        x = np.moveaxis(x, 0, -1) if x.shape[0] in (1, 3) else x.mean(axis=0)
        if x.ndim == 3 and x.shape[-1] == 1:
            x = x[..., 0]
    return to_display_image(x, normalize=True)


class WhatIf:
    """The edit of the sample shown: its mask (image patches, text tokens), the events that change
    it, the what-if sliders of the first method's bars, and what the sample panel says of it.

    ``state``: the DashboardState (``state.edited`` is set to each new edit); ``compare``: the
    Explore tab's CompareView; ``redraw()``: called when an edit equals the one shown (the same
    object, None after None), which the state does not report as a change.

    Example:
        >>> from nbexplain.session import ExplainSession
        >>> from nbexplain.tasks import TaskRunner
        >>> from nbexplain.widgets.dashboard.state import DashboardState
        >>> X = np.random.default_rng(0).normal(size=(20, 3))
        >>> f = lambda A: np.c_[1 / (1 + np.exp(A[:, 0])), 1 - 1 / (1 + np.exp(A[:, 0]))]
        >>> state = DashboardState(ExplainSession(f, X, methods=["kernel_shap"]), TaskRunner(sync=True))
        >>> w = WhatIf(state, compare=None, redraw=lambda: None); state.select(2)
        >>> w.on_row_edit({"new": X[2] + 1.0}); np.array_equal(state.edited, X[2] + 1.0), w.note(2, state.edited)
        (True, 'edited: feature 0, feature 1, feature 2')
        >>> w.on_row_edit({"new": X[2].copy()}); state.edited is None      # back to the data: no edit
        True
    """

    def __init__(self, state: Any, compare: Any, redraw: Callable[[], None]) -> None:
        self.state = state
        self.compare = compare
        self.redraw = redraw
        #: The PatchMask / TokenMask of the sample shown (None for tables).
        self.mask: Any = None
        self._syncing = False

    # -- starting and applying edits --------------------------------------------------------------
    def start(self, i: int) -> None:
        """A fresh, empty mask for sample ``i``."""
        s = self.state.session
        if s.kind == "image":
            from ...perturb import PatchMask

            patch = self.state.patch
            self.mask = PatchMask(np.asarray(s.X[i]).shape[-2:], **({"patch": patch} if patch else {}))
        elif s.kind == "text":
            from ...perturb import TokenMask

            self.mask = TokenMask(len(self.tokens(i)))
        else:
            self.mask = None

    def tokens(self, i: int) -> list[str]:
        """Text sample ``i``'s tokens (the model's ``tokenize`` if it has one, else words)."""
        s = self.state.session
        tok = getattr(s.model, "tokenize", None)
        if tok is None:
            return str(s.texts[i]).split()
        return list(tok(s.texts[i]))

    def hook_view(self, _name: str, view: Any) -> None:
        """Wire a method view the CompareView made to the what-if edit of the kind of data."""
        kind = self.state.session.kind
        if kind == "image":
            view.on_event("click", self.on_patch_click)
        elif kind == "text":
            view.on_event("toggle", self.on_token_toggle)
        else:
            view.observe(self.on_row_edit, names=["sample"])

    def on_patch_click(self, msg: dict[str, Any]) -> None:
        """A click on an image map: hide or restore the patch there."""
        i = self.state.index
        if i < 0 or self.mask is None:
            return
        self.mask.toggle_at(int(msg["row"]), int(msg["col"]))
        x = np.asarray(self.state.session.X[i])
        self.apply(None if not np.any(self.mask.mask) else self.mask.apply(x, fill="mean"))

    def on_token_toggle(self, msg: dict[str, Any]) -> None:
        """A click on a token: drop or restore it."""
        i = self.state.index
        if i < 0 or self.mask is None:
            return
        self.mask.toggle(int(msg["index"]))
        kept = self.mask.kept(self.tokens(i))
        join = getattr(self.state.session.model, "detokenize", None)
        text = join(kept) if callable(join) else " ".join(kept)
        self.apply(None if not np.any(self.mask.mask) else text)

    def on_row_edit(self, change: Any) -> None:
        """A slider or dropdown of the what-if bars moved (the view's ``sample`` changed)."""
        i = self.state.index
        if i < 0 or change["new"] is None or self._syncing:
            return
        row = np.asarray(change["new"], dtype=np.float64)
        same = np.array_equal(row, np.asarray(self.state.session.X[i], dtype=np.float64), equal_nan=True)
        self.apply(None if same else row)

    def apply(self, edited: Any) -> None:
        """Make ``edited`` (or None: no edit) the edit shown."""
        if self.state.edited is edited:
            self.redraw()
        else:
            self.state.edited = edited

    def reset(self) -> None:
        """Undo every edit of the sample shown."""
        if self.state.index >= 0:
            self.start(self.state.index)
            self.apply(None)

    # -- the what-if bars ---------------------------------------------------------------------------
    def sync_whatif(self, i: int, edited: Any) -> None:
        """Give the first method's bars what-if sliders over the data's range (and category menus).

        Done when the sample (or its edit) is shown, also while its bars are recomputed, so a
        slider always starts from the sample shown, never from the previous one.
        """
        s = self.state.session
        view = self.compare.views.get(self.state.methods[0])
        row = np.asarray(edited if edited is not None else s.X[i], dtype=np.float64)
        if view is None or view.values.size != row.size:
            return  # a view that has not drawn this table yet: synced once it has
        for other in self.compare.views.values():
            if other is not view and other.whatif:
                other.whatif = False
        lo, hi, step = slider_ranges(row, s.feature_range)  # the data's range (computed once), widened to the row
        self._syncing = True
        try:
            with view.hold_sync():
                fields: dict[str, Any] = {"slider_min": lo, "slider_max": hi, "slider_step": step, "sample": row,
                                          "whatif": True}
                if s.categorical and "categories" in view.trait_names():
                    fields["categories"] = category_lists(s.categorical, row.size)
                if s.encoding is not None:  # an integer column's slider steps by whole numbers
                    ints = s.encoding.integer_indices
                    step[ints] = np.maximum(1.0, np.ceil(step[ints]))
                for k, v in fields.items():
                    setattr(view, k, v)
        finally:
            self._syncing = False

    def sync_categories(self) -> None:
        """Every table method view shows categorical values as their labels (a DataFrame's categories
        or ``categorical=``); the first view's what-if menus come with :meth:`sync_whatif`."""
        s = self.state.session
        if s.kind != "table" or not s.categorical:
            return
        cats = category_lists(s.categorical, len(s.feature_names))
        for view in self.compare.views.values():
            fits = "categories" in view.trait_names() and view.values.size == len(s.feature_names)
            if fits and view.categories != cats:
                view.categories = cats

    # -- what the sample panel shows ----------------------------------------------------------------
    def display_image(self, i: int) -> np.ndarray:
        """Image sample ``i`` as shown, its hidden patches mid grey."""
        images = self.state.images
        img = picture(self.state.session.X[i], None if images is None else images[i])
        if self.mask is not None and self.state.session.kind == "image" and np.any(self.mask.mask):
            img = np.array(img, copy=True)
            hidden = self.mask.pixel_mask() if hasattr(self.mask, "pixel_mask") else None
            if hidden is not None:
                img[hidden] = 128  # occluded patches show as mid grey
        return img

    def note(self, i: int, edited: Any) -> str:
        """The panel's note: missing or non-finite values, and what the edit changed."""
        s = self.state.session
        parts = []
        bad = s.nan_features(i)
        if bad:  # a DataFrame's NaN is a missing value (handed to the model); inf was refused
            parts.append(f"{'missing' if s.encoding is not None else 'NaN or inf in'}: {', '.join(bad)}")
        elif s.kind == "image" and s.nan_rows()[i]:
            parts.append("this image has NaN or inf pixels")
        if self.mask is not None and np.any(self.mask.mask):
            n = int(np.sum(self.mask.mask))
            what = ("patch" if n == 1 else "patches") if s.kind == "image" else ("token" if n == 1 else "tokens")
            parts.append(f"edited: {n} {what} removed")
        elif s.kind == "table" and edited is not None:
            changed = np.flatnonzero(~np.isclose(np.asarray(edited, dtype=np.float64),
                                                 np.asarray(s.X[i], dtype=np.float64), equal_nan=True))
            parts.append("edited: " + ", ".join(s.feature_names[j] for j in changed[:5]) +
                         (" ..." if changed.size > 5 else ""))
        return "; ".join(parts)
