"""The compact badge of a method's panel in :class:`~nbexplain.widgets.CompareView`: can I trust it?

:func:`trust_badges` turns a :class:`~nbexplain.metrics.TrustReport` into one short text per
method (``"deletion AUC 0.21 vs random 0.45 · sanity passed"``) for
:meth:`CompareView.set_badges <nbexplain.widgets.CompareView.set_badges>`; :func:`standard_error_text`
says how uncertain a sampled explanation is (``"± SE ≤ 0.004"``, from its
``diagnostics["std_error"]``), which the CompareView adds by itself. Text only, nothing computed.

Example:
    >>> import numpy as np
    >>> from nbexplain.explanation import Explanation
    >>> e = Explanation(np.ones((1, 3)), diagnostics={"std_error": np.array([[0.001, 0.004, 0.002]])})
    >>> standard_error_text(e[0]), standard_error_text(Explanation(np.ones((1, 3)))[0])
    ('± SE ≤ 0.004', '')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._format import format_number

__all__ = ["BADGE_TOOLTIP", "SE_TOOLTIP", "BadgesMixin", "badge_text", "standard_error_text", "trust_badges"]

#: What a badge from a trust report means (the badge's tooltip).
BADGE_TOOLTIP = ("deletion AUC: the prediction's area as the units this method ranks first are removed (lower is "
                 "better; compare with a random order); sanity: whether the map changes when the model's weights "
                 "are randomised (it should).")
#: What the standard-error part means.
SE_TOOLTIP = ("± SE: the largest standard error of this explanation's values (they come from sampling; a value "
              "smaller than about two of them may be noise).")


def badge_text(report: Any, method: str) -> str | None:
    """One method's badge from a TrustReport: the deletion AUC against the random floor and the sanity verdict.

    None when the report holds neither for ``method``.

    Example:
        >>> from nbexplain.metrics.report import Ranking, TrustReport
        >>> r = TrustReport("table", ["a"], ("deletion",), np.arange(2), None, {})
        >>> r.rankings["deletion"] = Ranking("deletion", "lower", "", ["a"], {"a": 0.213}, floor={"a": 0.45})
        >>> badge_text(r, "a"), badge_text(r, "b")
        ('deletion AUC 0.213 vs random 0.45', None)
    """
    parts: list[str] = []
    deletion = report.rankings.get("deletion")
    if deletion is not None and method in deletion.mean:
        text = f"deletion AUC {format_number(deletion.mean[method])}"
        floor = deletion.floor.get(method)
        parts.append(text if floor is None else f"{text} vs random {format_number(floor)}")
    verdict = report.verdict(method)
    if verdict is not None:
        parts.append(f"sanity {verdict.label}")
    return " · ".join(parts) or None


def trust_badges(report: Any) -> dict[str, str | None]:
    """``{method: badge text or None}`` for every method of ``report`` (for ``CompareView.set_badges``).

    Example:
        >>> from nbexplain.metrics.report import Ranking, TrustReport
        >>> r = TrustReport("table", ["a", "b"], ("deletion",), np.arange(2), None, {})
        >>> r.rankings["deletion"] = Ranking("deletion", "lower", "", ["a"], {"a": 0.2}, floor={"a": 0.45})
        >>> trust_badges(r)
        {'a': 'deletion AUC 0.2 vs random 0.45', 'b': None}
    """
    return {m: badge_text(report, m) for m in report.methods}


def standard_error_text(result: Any) -> str:
    """``"± SE ≤ <largest standard error>"`` for a single-sample Explanation whose values carry standard errors
    (``diagnostics["std_error"]``, not all 0); ``""`` for anything else (arrays, exact values, None)."""
    from ..views.feature_bars import errors_of

    if result is None or not (hasattr(result, "diagnostics") and hasattr(result, "feature_shape")):
        return ""
    try:
        se = errors_of(result)
    except ValueError:  # more than one sample: not what a panel shows
        return ""
    if se is None:
        return ""
    finite = se[np.isfinite(se)]
    return f"± SE ≤ {format_number(float(finite.max()))}" if finite.size else ""


class BadgesMixin:
    """The badges of :class:`~nbexplain.widgets.CompareView`'s method headers (mixed into it).

    Uses the view's ``slots`` (``{method: MethodSlot}``), ``_shown`` (the result drawn per method),
    ``_failed`` and ``_badges`` (``{}`` at first); the view calls :meth:`_apply_badge` when a
    method's slot or result changes.
    """

    slots: dict[str, Any]
    _badges: dict[str, str]
    _shown: dict[str, Any]
    _failed: dict[str, BaseException]

    def set_badges(self, badges: dict[str, str | None]) -> None:
        """Put a badge in each method's header: ``{method: text or None}`` (None or ``""`` removes it).

        The text says what is known about the method's trustworthiness, e.g. from a
        :class:`~nbexplain.metrics.TrustReport` (:func:`~nbexplain.widgets.trust.badges.trust_badges`
        builds it: ``"deletion AUC 0.21 vs random 0.45 · sanity passed"``). Badges stay when the
        sample changes and belong to their method (one not shown now appears once it is). Nothing is
        computed here. An explanation that carries standard errors (``diagnostics["std_error"]``)
        adds ``"± SE ≤ <largest>"`` to its method's badge by itself.

        Example:
            >>> from nbexplain.widgets import CompareView
            >>> cv = CompareView(kind="table"); cv.set_methods(["shap", "lime"])
            >>> cv.set_badges({"shap": "sanity passed", "lime": None})
            >>> cv.slots["shap"].badge.value, cv.badges
            ('sanity passed', {'shap': 'sanity passed'})
            >>> cv.close()
        """
        if not isinstance(badges, dict):
            raise TypeError(f"badges must be a dict {{method name: text or None}}, got {type(badges).__name__}")
        for name, text in badges.items():
            if text is not None and not isinstance(text, str):
                raise TypeError(f"the badge of {name!r} must be a str or None, got {type(text).__name__}")
            if text:
                self._badges[str(name)] = text
            else:
                self._badges.pop(str(name), None)
        for name in self.slots:
            self._apply_badge(name)

    @property
    def badges(self) -> dict[str, str]:
        """The badge text of each method shown (those with one), as drawn.

        """
        return {name: slot.badge.value for name, slot in self.slots.items() if slot.badge.value}

    def _apply_badge(self, name: str) -> None:
        slot = self.slots.get(name)
        if slot is None:
            return
        given = self._badges.get(name, "")
        se = "" if name in self._failed else standard_error_text(self._shown.get(name))
        tips = ([BADGE_TOOLTIP] if given else []) + ([SE_TOOLTIP] if se else [])
        slot.set_badge(" · ".join(t for t in (given, se) if t), tooltip=" ".join(tips))

