"""CompareView badges: a compact line per method panel from a TrustReport (faithfulness against the random
floor, the sanity verdict) and "± SE" when an explanation carries standard errors; nothing computed."""

from __future__ import annotations

import numpy as np
import pytest

from nbexplain.explanation import Explanation
from nbexplain.metrics.report import Ranking, TrustReport
from nbexplain.metrics.sanity import SanityResult, SanityVerdict
from nbexplain.widgets.explore.compare_slot import MethodSlot
from nbexplain.widgets.explore.compare_view import PENDING, CompareView
from nbexplain.widgets.trust.badges import SE_TOOLTIP, badge_text, standard_error_text, trust_badges

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def _report() -> TrustReport:
    r = TrustReport("table", ["shap", "lime", "grad"], ("deletion", "sanity"), np.arange(4), None, {})
    r.rankings["deletion"] = Ranking("deletion", "lower", "", ["shap", "lime"], {"shap": 0.2134, "lime": 0.51},
                                     floor={"shap": 0.45, "lime": 0.45})
    sanity = SanityResult(layers=["fc"], layer_types=["Linear"], methods=["grad"], measures=("spearman",),
                          cascading=True)
    sanity.verdicts["grad"] = SanityVerdict("grad", False, 0.9, 0, "rule", "The map barely changes.")
    r.sanity["grad"] = sanity
    return r


def _row(values, se=None) -> Explanation:
    diag = {} if se is None else {"std_error": np.asarray(se, dtype=float)[None]}
    return Explanation(np.asarray(values, dtype=float)[None], base_values=[0.5], outputs=[0.9], target=[1],
                       diagnostics=diag)[0]


def test_badge_texts_from_a_trust_report() -> None:
    r = _report()
    assert trust_badges(r) == {"shap": "deletion AUC 0.213 vs random 0.45", "lime": "deletion AUC 0.51 vs random 0.45",
                               "grad": "sanity failed"}
    assert badge_text(r, "other") is None


def test_set_badges_shows_them_in_the_headers_and_they_follow_their_method(recorded: None) -> None:
    cv = CompareView(kind="table")
    cv.show({"shap": _row([0.3, -0.1, 0.2]), "lime": _row([0.2, 0.1, 0.0])}, probability=0.9, target_name="yes")
    assert cv.badges == {} and all(s.badge.layout.display == "none" for s in cv.slots.values())
    cv.set_badges(trust_badges(_report()))
    shap = cv.slots["shap"]
    assert shap.badge.value == "deletion AUC 0.213 vs random 0.45" and shap.badge.layout.display == ""
    assert "nbx-method-badge" in shap.badge._dom_classes and shap.header.children[1] is shap.badge
    assert "lower is better" in shap.badge.tooltip
    # A new sample keeps the badges (they are about the method); a method removed takes its badge along.
    cv.show({"shap": _row([0.1, 0.1, 0.2]), "lime": PENDING})
    assert cv.badges == {"shap": "deletion AUC 0.213 vs random 0.45", "lime": "deletion AUC 0.51 vs random 0.45"}
    cv.show({"shap": _row([0.1, 0.1, 0.2]), "grad": _row([0.0, 1.0, 0.0])})
    assert cv.slots["grad"].badge.value == "sanity failed"  # the reused slot shows its new method's badge
    cv.set_badges({"grad": None, "shap": ""})
    assert cv.badges == {}
    cv.show({"lime": _row([0.2, 0.1, 0.0])})  # a badge given while its method was not shown appears with it
    assert cv.badges == {"lime": "deletion AUC 0.51 vs random 0.45"}
    with pytest.raises(TypeError, match="dict"):
        cv.set_badges(["shap"])
    with pytest.raises(TypeError, match="must be a str or None"):
        cv.set_badges({"shap": 0.2})
    cv.close()


def test_standard_errors_add_a_plus_minus_part_by_themselves() -> None:
    sampled = _row([0.3, -0.1, 0.2], se=[0.004, 0.0123, 0.002])
    exact = _row([0.3, -0.1, 0.2], se=[0.0, 0.0, 0.0])
    assert standard_error_text(sampled) == "± SE ≤ 0.0123"
    assert standard_error_text(exact) == "" and standard_error_text(np.ones(3)) == "" and standard_error_text(None) == ""
    cv = CompareView(kind="table")
    cv.show({"kernel_shap": sampled, "exact": exact, "broken": ValueError("no")})
    assert cv.badges == {"kernel_shap": "± SE ≤ 0.0123"}
    assert cv.slots["kernel_shap"].badge.tooltip == SE_TOOLTIP
    cv.set_badges({"kernel_shap": "sanity passed"})
    assert cv.badges == {"kernel_shap": "sanity passed · ± SE ≤ 0.0123"}
    cv.show({"kernel_shap": PENDING, "exact": exact})  # the older result's errors are not this one's
    assert cv.badges == {"kernel_shap": "sanity passed"}
    cv.update("kernel_shap", _row([0.1, 0.2, 0.3], se=[0.001, 0.001, 0.002]))
    assert cv.badges["kernel_shap"] == "sanity passed · ± SE ≤ 0.002"
    cv.close()


def test_a_slot_badge_is_hidden_while_empty_and_cleared_on_rename() -> None:
    import ipywidgets

    slot = MethodSlot("a", ipywidgets.Label("view"))
    assert slot.badge.layout.display == "none" and slot.badge.value == ""
    slot.set_badge("sanity passed", tooltip="why")
    assert (slot.badge.value, slot.badge.layout.display, slot.badge.tooltip) == ("sanity passed", "", "why")
    slot.rename("b")
    assert slot.badge.value == "" and slot.badge.layout.display == "none"
