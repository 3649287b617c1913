"""CompareView: one to four attribution methods side by side, with how much they agree.

Images get one :class:`~nbexplain.widgets.Heatmap` per method over the same picture, tables one
:class:`~nbexplain.widgets.FeatureBars` per method (each sorted by its own magnitudes, the same
``top_k`` for all), text one ``TextTokens`` per method (``nbexplain.widgets.text_tokens``). A
method that failed shows its exception in its own view's ``error``; the others draw. Below, one
label per pair of methods: ``"A vs B: rank corr 0.83, top-5 overlap 4/5"``
(:func:`nbexplain.diagnostics.agreement.agreement`).

Example:
    >>> from nbexplain.widgets.compare_view import CompareView
    >>> cv = CompareView(k=5)                                                      # doctest: +SKIP
    >>> cv.show({"saliency": e_sal[0], "grad_cam": RuntimeError("no conv layer")},
    ...         image=digits.images[0])                                           # doctest: +SKIP
    >>> cv.views["saliency"].on_event("click", on_click)   # image what-if         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets
import numpy as np

from ..diagnostics.agreement import agreement
from ._base import ClosesTree, close_tree, replace_children
from ._explanation import pick_output, pick_scalar, require_single
from ._traits import to_display_image, to_numpy
from .feature_bars import FeatureBars
from .heatmap import Heatmap, guess_image

__all__ = ["MAX_METHODS", "CompareView"]

#: The most methods shown side by side.
MAX_METHODS = 4
KINDS = ("image", "table", "text")


def _error_text(exc: BaseException) -> str:
    msg = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {msg}"


def _values_of(result: Any) -> np.ndarray:
    """One sample's attributions from an Explanation (e[i], or a batch of one) or an array."""
    if hasattr(result, "values") and hasattr(result, "feature_shape"):
        single = require_single(result, "CompareView.show")
        values = pick_output(single)
        if getattr(single, "layout", None) in ("HW", "CHW", "HWC"):
            values = single.image_values(values)  # the producer's layout, channels-first for the heatmap
        return np.asarray(values, dtype=np.float64)
    return np.asarray(to_numpy(result), dtype=np.float64)


class CompareView(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Up to four methods' explanations of one sample, side by side, plus their agreement.

    Parameters:
        kind: ``"image"``, ``"table"``, ``"text"`` or None (decided by :meth:`show`: ``tokens``
            means text, ``image`` or 2-D/3-D values mean image, else table).
        k: the ``k`` of the top-k overlap in the agreement read-out (default 5).
        width: CSS pixels of each heatmap (images).
        controls: show each heatmap's control row (default False, so the maps fit side by side).
        top_k: bars shown per method (tables; 0 = all).
        reduce_channels: sum C x H x W maps over channels before comparing them (default True,
            like the heatmap's default ``reduce="sum"``); with False the maps are flattened.

    Attributes:
        views: ``{method name: widget}`` in display order (Heatmap, FeatureBars or TextTokens),
            so a caller can hook events (``views[m].on_event("click", ...)``).
        report: the last :class:`~nbexplain.diagnostics.agreement.AgreementReport` (or None).
        agreement_labels: the ``ipywidgets.Label`` per pair of methods.

    Example:
        >>> cv = CompareView(kind="table", top_k=5)                              # doctest: +SKIP
        >>> cv.show({"shap": e_shap[0], "lime": e_lime[0]}, feature_values=X[0])  # doctest: +SKIP
        >>> [l.value for l in cv.agreement_labels]                                # doctest: +SKIP
        ['shap vs lime: rank corr 0.83, top-5 overlap 4/5']
    """

    def __init__(
        self,
        kind: str | None = None,
        *,
        k: int = 5,
        width: int = 220,
        controls: bool = False,
        top_k: int = 10,
        reduce_channels: bool = True,
        **kwargs: Any,
    ) -> None:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be None, 'image', 'table' or 'text'; got {kind!r}")
        if int(k) < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.kind = kind
        self.k = int(k)
        self.width = int(width)
        self.controls = bool(controls)
        self.top_k = int(top_k)
        self.reduce_channels = bool(reduce_channels)
        self.views: dict[str, Any] = {}
        self.report: Any = None
        self.agreement_labels: list[ipywidgets.Label] = []
        self._view_kind: str | None = None
        self._new_view_callbacks: list[Callable[[str, Any], None]] = []
        self.row = ipywidgets.Box(layout=ipywidgets.Layout(display="flex", flex_flow="row wrap"))
        self.row.add_class("nbx-compare-views")
        self.agreement_box = ipywidgets.VBox()
        self.agreement_box.add_class("nbx-compare-agreement")
        super().__init__([self.row, self.agreement_box], **kwargs)
        self.add_class("nbx-compare")

    # -- method views -----------------------------------------------------------------------------
    @property
    def methods(self) -> list[str]:
        """The method names shown, in order.

        Example:
            >>> CompareView().methods
            []
        """
        return list(self.views)

    def on_new_view(self, callback: Callable[[str, Any], None]) -> None:
        """Call ``callback(method_name, widget)`` for every method widget created from now on.

        Widgets are reused when the number of methods stays the same (only their titles
        change), so a hook added here stays on its widget; use :meth:`name_of` inside a hook to
        learn which method the widget shows now.

        Example:
            >>> cv.on_new_view(lambda name, hm: hm.on_event("click", on_click))   # doctest: +SKIP
        """
        self._new_view_callbacks.append(callback)

    def name_of(self, widget: Any) -> str | None:
        """The method name ``widget`` currently shows, or None.

        Example:
            >>> cv.name_of(cv.views["shap"])    # doctest: +SKIP
            'shap'
        """
        return next((name for name, w in self.views.items() if w is widget), None)

    def set_methods(self, names: list[str], kind: str | None = None) -> None:
        """Show ``names`` (1 to 4 methods); the widgets are kept when their number and kind stay.

        Example:
            >>> cv.set_methods(["saliency", "integrated_gradients"], kind="image")   # doctest: +SKIP
        """
        names = [str(n) for n in names]
        if not 1 <= len(names) <= MAX_METHODS:
            raise ValueError(f"CompareView shows 1 to {MAX_METHODS} methods; got {len(names)}: {names}")
        if len(set(names)) != len(names):
            raise ValueError(f"method names must be unique; got {names}")
        kind = kind or self.kind or self._view_kind
        if kind not in KINDS:
            raise ValueError("set_methods needs kind='image', 'table' or 'text' before the first show()")
        widgets = list(self.views.values())
        if len(widgets) == len(names) and kind == self._view_kind:
            self.views = dict(zip(names, widgets, strict=True))
            for name, w in self.views.items():
                w.title = name
            return
        self._view_kind = kind
        self.views = {name: self._make_view(kind, name) for name in names}
        replace_children(self.row, self.views.values())  # the views replaced are closed
        for name, w in self.views.items():
            for callback in self._new_view_callbacks:
                callback(name, w)

    def close(self) -> None:
        """Close the view, its method widgets and agreement labels (layouts and styles too).

        Example:
            >>> cv.close()    # doctest: +SKIP
        """
        close_tree(self)

    def _make_view(self, kind: str, name: str) -> Any:
        if kind == "image":
            return Heatmap(np.zeros((1, 1)), title=name, width=self.width, show_controls=self.controls)
        if kind == "table":
            return FeatureBars(np.zeros(1), title=name, top_k=self.top_k)
        return _text_tokens_class()([""], np.zeros(1), title=name)

    # -- showing results --------------------------------------------------------------------------
    def show(
        self,
        results: dict[str, Any],
        *,
        image: Any = None,
        feature_values: Any = None,
        tokens: Any = None,
        feature_names: Any = None,
        dropped: Any = None,
    ) -> None:
        """Draw each method's result (an :class:`~nbexplain.explanation.Explanation` of one
        sample, an array, or the ``Exception`` it raised) and the agreement of those that worked.

        ``image``: the picture under every heatmap (default: the first explanation's ``data``
        when it is an image). ``feature_values`` / ``feature_names``: the table row and names
        (default: from the explanations). ``tokens`` (and ``dropped``, one flag per token): text.

        Example:
            >>> cv.show({"shap": e[0], "lime": ValueError("no data")}, feature_values=X[0])  # doctest: +SKIP
        """
        if not isinstance(results, dict) or not results:
            raise ValueError("results must be a non-empty dict {method name: Explanation or Exception}")
        kind = self._infer_kind(results, image, tokens)
        self.set_methods(list(results), kind=kind)
        good: dict[str, np.ndarray] = {}
        failed: dict[str, BaseException] = {}
        with self.hold_sync():
            for name, result in results.items():
                w = self.views[name]
                try:
                    if isinstance(result, BaseException):
                        raise result
                    values = _values_of(result)
                    self._draw(kind, w, result, values, image, feature_values, feature_names, tokens, dropped)
                    w.error = ""
                    good[name] = values
                except Exception as exc:  # one method's failure stays in its own view
                    failed[name] = exc
            like = self.views[next(iter(good))] if good else None
            for name, exc in failed.items():
                w = self.views[name]
                _draw_empty(kind, w, like, image, feature_names, tokens)
                w.error = _error_text(exc)
        self._show_agreement(list(results), good)

    def _infer_kind(self, results: dict[str, Any], image: Any, tokens: Any) -> str:
        if self.kind is not None:
            return self.kind
        if tokens is not None:
            return "text"
        if image is not None:
            return "image"
        for result in results.values():
            if not isinstance(result, BaseException):
                try:
                    return "image" if _values_of(result).ndim >= 2 else "table"
                except Exception:
                    continue
        return self._view_kind or "table"

    def _draw(self, kind: str, w: Any, result: Any, values: np.ndarray, image: Any,
              feature_values: Any, feature_names: Any, tokens: Any, dropped: Any) -> None:
        single = require_single(result, "CompareView.show") if hasattr(result, "feature_shape") else None
        if kind == "image":
            if values.ndim not in (2, 3):
                raise ValueError(f"an image method must give an H x W or C x H x W map; got shape {list(values.shape)}")
            pic = image if image is not None else guess_image(getattr(single, "data", None), values.shape[-2:])
            _set_map(w, values, pic)
            w.value_label = getattr(single, "method", "") or "attribution"
        elif kind == "table":
            flat = values.reshape(-1)
            fv = feature_values if feature_values is not None else getattr(single, "data", None)
            fv = None if fv is None or np.size(fv) != flat.size else np.asarray(to_numpy(fv), dtype=np.float64).reshape(-1)
            names = feature_names if feature_names is not None else getattr(single, "feature_names", None)
            names = [f"feature {i}" for i in range(flat.size)] if names is None else [str(n) for n in names]
            base = pick_scalar(single, "base_values") if single is not None else None
            pred = pick_scalar(single, "outputs") if single is not None else None
            w.update(values=flat, feature_names=names, feature_values=fv, base_value=base, prediction=pred)
        else:
            toks = [str(t) for t in (tokens if tokens is not None else getattr(single, "feature_names", None) or [])]
            flat = values.reshape(-1)
            if len(toks) != flat.size:
                raise ValueError(f"{flat.size} token attributions for {len(toks)} tokens: pass tokens=")
            drop = np.zeros(flat.size) if dropped is None else np.asarray(dropped, dtype=np.float64)
            base = pick_scalar(single, "base_values") if single is not None else None
            pred = pick_scalar(single, "outputs") if single is not None else None
            w.update(tokens=toks, values=flat, dropped=drop, base_value=base, prediction=pred)

    def _show_agreement(self, order: list[str], good: dict[str, np.ndarray]) -> None:
        rows: list[str] = []
        self.report = None
        if len(good) >= 2:
            try:
                self.report = agreement(good, k=self.k, reduce_channels=self.reduce_channels)
                rows = self.report.summary()
            except ValueError as exc:
                rows = [f"agreement n/a: {exc}"]
        failed = [m for m in order if m not in good]
        for i, a in enumerate(order):
            for b in order[i + 1:]:
                if a in failed or b in failed:
                    who = a if a in failed else b
                    rows.append(f"{a} vs {b}: n/a ({who} failed)")
        if len(self.agreement_labels) != len(rows):
            self.agreement_labels = [ipywidgets.Label() for _ in rows]
            replace_children(self.agreement_box, self.agreement_labels)
        for label, text in zip(self.agreement_labels, rows, strict=True):
            label.value = text


def _draw_empty(kind: str, w: Any, like: Any, image: Any, feature_names: Any, tokens: Any) -> None:
    """Zeros under a failed method's error banner, shaped like a method that worked (``like``)
    or like the inputs, so a stale result never shows."""
    try:
        if kind == "image":
            if like is not None:
                _set_map(w, np.zeros(like.spatial_shape), like.image)
            else:
                disp = None if image is None else to_display_image(to_numpy(image), normalize=True)
                _set_map(w, np.zeros(w.spatial_shape if disp is None else disp.shape[:2]), disp)
        elif kind == "table":
            names = list(like.feature_names) if like is not None else (
                [str(f) for f in feature_names] if feature_names is not None else list(w.feature_names))
            fv = like.feature_values if like is not None else None
            w.update(values=np.zeros(len(names)), feature_names=names, feature_values=fv,
                     base_value=None, prediction=None)
        else:
            toks = list(like.tokens) if like is not None else (
                [str(t) for t in tokens] if tokens is not None else list(w.tokens))
            drop = like.dropped if like is not None else np.zeros(len(toks))
            w.update(tokens=toks, values=np.zeros(len(toks)), dropped=drop, base_value=None, prediction=None)
    except Exception:  # keep what was drawn; the error banner says what failed
        pass


def _set_map(w: Heatmap, values: np.ndarray, image: Any) -> None:
    """Set a heatmap's map and picture together (their shapes are checked together)."""
    with w.hold_sync(), w.hold_trait_notifications():
        old = w.spatial_shape
        w.image = image
        w.values = values
        if w.spatial_shape != old:
            w.selected = None


def _text_tokens_class() -> Any:
    try:
        from .text_tokens import TextTokens
    except ImportError as exc:
        raise ImportError(
            "comparing text methods needs nbexplain.widgets.text_tokens (TextTokens), which this "
            f"installation lacks ({exc}); update nbexplain"
        ) from exc
    return TextTokens
