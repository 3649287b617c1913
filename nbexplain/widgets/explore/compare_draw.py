"""Drawing one method's result into its view, for :class:`~nbexplain.widgets.CompareView` (no layout).

``draw_result`` puts an explanation (or an array) into a Heatmap, FeatureBars or TextTokens;
``draw_empty`` gives a failed method zeros shaped like the others under its error banner (never a
stale result); ``caption_of`` says in words what the view shows: the prediction it explains
(``"malignant, P = 0.97"``), the output it explains when that is not the probability (a
logit), and the base value.

Example:
    >>> import numpy as np
    >>> from nbexplain.explanation import Explanation
    >>> e = Explanation(np.array([[0.2, -0.1]]), base_values=[0.44], outputs=[0.97], target=[0])[0]
    >>> caption_of(e, kind="table", probability=0.97, target_name="malignant")
    'malignant, P = 0.97 · base value 0.44'
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...diagnostics.agreement import agreement
from .._explanation import pick_output, pick_scalar, require_single
from .._format import format_number, prediction_phrase, probability_phrase
from .._traits import to_display_image, to_numpy
from ..views.feature_bars import errors_of
from ..views.heatmap import Heatmap, guess_image

__all__ = ["agreement_rows", "caption_of", "draw_empty", "draw_result", "values_of"]


def single_of(result: Any) -> Any:
    """The single-sample Explanation in ``result``, or None for an array."""
    return require_single(result, "CompareView.show") if hasattr(result, "feature_shape") else None


def values_of(result: Any) -> np.ndarray:
    """One sample's attributions from an Explanation (e[i], or a batch of one) or an array."""
    if hasattr(result, "values") and hasattr(result, "feature_shape"):
        single = require_single(result, "CompareView.show")
        values = pick_output(single)
        if getattr(single, "layout", None) in ("HW", "CHW", "HWC"):
            values = single.image_values(values)  # the producer's layout, channels-first for the heatmap
        return np.asarray(values, dtype=np.float64)
    return np.asarray(to_numpy(result), dtype=np.float64)


def caption_of(result: Any, *, kind: str, probability: float | None, target_name: str | None) -> str:
    """What a method's view shows, in words: ``"<class>, P = p · base value b"``.

    ``probability`` is the model's probability of the explained class for the sample shown (the
    sample panel's); when the explanation explains another output (a logit), that output is
    named too (``"explains output 1.83"``). Text calls the base value "all words dropped", or
    what the explanation says it is (``diagnostics["base_label"]``, e.g. "every word [PAD]").
    Empty when there is no probability (the view's own prediction line then stays).

    Example:
        >>> caption_of(np.zeros(3), kind="table", probability=None, target_name=None)
        ''
    """
    if probability is None:
        return ""
    p = float(probability)
    parts = [prediction_phrase(target_name, p) if target_name else probability_phrase(p)]
    single = single_of(result)
    if single is not None:
        out = pick_scalar(single, "outputs")
        explains_p = out is not None and math.isclose(out, p, rel_tol=1e-4, abs_tol=1e-6)
        if out is not None and not explains_p:
            parts.append(f"explains output {format_number(out)}")
        base = pick_scalar(single, "base_values")
        if base is not None:
            own = (getattr(single, "diagnostics", None) or {}).get("base_label")  # e.g. "every word [PAD]"
            label = str(own) if own else ("all words dropped" if kind == "text" else "base value")
            if explains_p and kind == "text":
                parts.append(f"{label}: {probability_phrase(base)}")
            else:
                parts.append(f"{label} {format_number(base)}")
    return " · ".join(parts)


def agreement_rows(order: list[str], good: dict[str, np.ndarray], failed: dict[str, BaseException], *,
                   k: int, reduce_channels: bool) -> tuple[Any, list[str]]:
    """The agreement report of the methods that worked and one line per pair: the numbers for
    two current results, "n/a (B failed)", or "waiting for B" while B computes (never the
    numbers of an earlier sample).

    Example:
        >>> agreement_rows(["a", "b"], {"a": np.arange(3.0)}, {}, k=2, reduce_channels=True)[1]
        ['a vs b: waiting for b']
    """
    ok = {m: good[m] for m in order if m in good}
    rows: list[str] = []
    report = None
    if len(ok) >= 2:
        try:
            report = agreement(ok, k=k, reduce_channels=reduce_channels)
            rows = report.summary()
        except ValueError as exc:
            rows = [f"agreement n/a: {exc}"]
    pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1:]]
    for a, b in pairs:
        if a in failed or b in failed:
            rows.append(f"{a} vs {b}: n/a ({a if a in failed else b} failed)")
    for a, b in pairs:
        if a not in failed and b not in failed and not (a in ok and b in ok):
            rows.append(f"{a} vs {b}: waiting for {' and '.join(m for m in (a, b) if m not in ok)}")
    return report, rows


def draw_result(kind: str, w: Any, result: Any, values: np.ndarray, inputs: dict[str, Any]) -> None:
    """Draw ``values`` (of ``result``) into the view ``w``; ``inputs`` holds image, feature_values,
    feature_names, tokens and dropped (each may be None)."""
    single = single_of(result)
    if kind == "image":
        if values.ndim not in (2, 3):
            raise ValueError(f"an image method must give an H x W or C x H x W map; got shape {list(values.shape)}")
        image = inputs.get("image")
        pic = image if image is not None else guess_image(getattr(single, "data", None), values.shape[-2:])
        set_map(w, values, pic)
        w.value_label = getattr(single, "method", "") or "attribution"
    elif kind == "table":
        flat = values.reshape(-1)
        fv = inputs.get("feature_values")
        fv = fv if fv is not None else getattr(single, "data", None)
        fv = None if fv is None or np.size(fv) != flat.size else np.asarray(to_numpy(fv), dtype=np.float64).reshape(-1)
        names = inputs.get("feature_names")
        names = names if names is not None else getattr(single, "feature_names", None)
        names = [f"feature {i}" for i in range(flat.size)] if names is None else [str(n) for n in names]
        base = pick_scalar(single, "base_values") if single is not None else None
        pred = pick_scalar(single, "outputs") if single is not None else None
        errors = errors_of(single) if single is not None else None  # whiskers of sampled methods
        errors = errors if errors is not None and errors.size == flat.size else None
        w.update(values=flat, feature_names=names, feature_values=fv, base_value=base, prediction=pred, errors=errors)
    else:
        tokens = inputs.get("tokens")
        toks = [str(t) for t in (tokens if tokens is not None else getattr(single, "feature_names", None) or [])]
        flat = values.reshape(-1)
        if len(toks) != flat.size:
            raise ValueError(f"{flat.size} token attributions for {len(toks)} tokens: pass tokens=")
        dropped = inputs.get("dropped")
        drop = np.zeros(flat.size) if dropped is None else np.asarray(dropped, dtype=np.float64)
        base = pick_scalar(single, "base_values") if single is not None else None
        pred = pick_scalar(single, "outputs") if single is not None else None
        from ..views.text_tokens import token_extras

        extras = token_extras(single) if single is not None else {"details": [], "note": ""}
        extras.setdefault("base_label", "all tokens dropped")
        w.update(tokens=toks, values=flat, dropped=drop, base_value=base, prediction=pred, **extras)


def draw_empty(kind: str, w: Any, like: Any, inputs: dict[str, Any]) -> None:
    """Zeros under a failed method's error banner, shaped like a method that worked (``like``)
    or like the inputs, so a stale result never shows."""
    image, feature_names, tokens = inputs.get("image"), inputs.get("feature_names"), inputs.get("tokens")
    try:
        if kind == "image":
            if like is not None:
                set_map(w, np.zeros(like.spatial_shape), like.image)
            else:
                disp = None if image is None else to_display_image(to_numpy(image), normalize=True)
                set_map(w, np.zeros(w.spatial_shape if disp is None else disp.shape[:2]), disp)
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


def set_map(w: Heatmap, values: np.ndarray, image: Any) -> None:
    """Set a heatmap's map and picture together (their shapes are checked together)."""
    with w.hold_sync(), w.hold_trait_notifications():
        old = w.spatial_shape
        w.image = image
        w.values = values
        if w.spatial_shape != old:
            w.selected = None


def text_tokens_class() -> Any:
    """:class:`~nbexplain.widgets.TextTokens` (imported on first use)."""
    try:
        from ..views.text_tokens import TextTokens
    except ImportError as exc:
        raise ImportError(
            "comparing text methods needs nbexplain.widgets.views.text_tokens (TextTokens), which this "
            f"installation lacks ({exc}); update nbexplain"
        ) from exc
    return TextTokens
