"""The Dashboard's what-if editing and what the sample panel shows (a part of :class:`Dashboard`).

Tables are edited with the first method's sliders (and dropdowns), images by clicking a map
(a patch is hidden or restored), texts by clicking a word (dropped or restored). Every edit
re-predicts and re-explains the edited input on the worker; the panels keep showing the last
result, dimmed, until the new one arrives. Explanations of an edited text cover the words
kept; :func:`spread` puts them back on the full word list, prediction and baseline included.

Example:
    >>> dash.compare.views["kernel_shap"].sample = edited_row; dash.wait()   # doctest: +SKIP
    >>> dash.panel.note                                                       # doctest: +SKIP
    'edited: mean radius'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..explanation import Explanation
from ._explanation import pick_output, pick_scalar, require_single
from ._traits import to_display_image

__all__ = ["EditMixin", "spread"]

_EDIT_HINT = {
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


class EditMixin:
    """What-if editing and the sample panel's content; mixed into :class:`Dashboard`."""

    session: Any
    index: int
    kind: str
    images: Any
    patch: int | None
    _edit: Any
    _edited_input: Any

    # -- starting and applying edits --------------------------------------------------------------
    def _start_edit(self, i: int) -> None:
        s = self.session
        self._edited_input = None
        self.reset_button.disabled = True  # type: ignore[attr-defined]
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
            return str(self.session.texts[i]).split()
        return list(tok(self.session.texts[i]))

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
        self.reset_button.disabled = edited is None  # type: ignore[attr-defined]
        self._show(self.index, keep_edits=True)  # type: ignore[attr-defined]

    def _reset_edits(self) -> None:
        if self.index >= 0:
            self._start_edit(self.index)
            self._apply_edit(None)

    def _sync_whatif(self, i: int) -> None:
        """Give the first method's bars what-if sliders over the data's range (and category menus).

        Done when the sample (or its edit) is shown, also while its bars are recomputed, so a
        slider always starts from the sample shown, never from the previous one.
        """
        from ._whatif import category_lists, slider_ranges

        compare = self.compare  # type: ignore[attr-defined]
        view = compare.views.get(self.methods[0])  # type: ignore[attr-defined]
        s = self.session
        row = np.asarray(self._edited_input if self._edited_input is not None else s.X[i], dtype=np.float64)
        if view is None or view.values.size != row.size:
            return  # a view that has not drawn this table yet: synced once it has
        for other in compare.views.values():
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

    def _sync_categories(self) -> None:
        """Every table method view shows categorical values as their labels (a DataFrame's categories
        or ``categorical=``); the first view's what-if menus come with :meth:`_sync_whatif`."""
        from ._whatif import category_lists

        s = self.session
        if s.kind != "table" or not s.categorical:
            return
        cats = category_lists(s.categorical, len(s.feature_names))
        for view in self.compare.views.values():  # type: ignore[attr-defined]
            fits = "categories" in view.trait_names() and view.values.size == len(s.feature_names)
            if fits and view.categories != cats:
                view.categories = cats

    # -- what the sample panel shows ----------------------------------------------------------------
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
        if bad:  # a DataFrame's NaN is a missing value (handed to the model); inf was refused
            parts.append(f"{'missing' if s.encoding is not None else 'NaN or inf in'}: {', '.join(bad)}")
        elif s.kind == "image" and s.nan_rows()[i]:
            parts.append("this image has NaN or inf pixels")
        if self._edit is not None and np.any(self._edit.mask):
            n = int(np.sum(self._edit.mask))
            what = ("patch" if n == 1 else "patches") if s.kind == "image" else ("token" if n == 1 else "tokens")
            parts.append(f"edited: {n} {what} removed")
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
