"""The Dashboard's Trust tab: measures the methods shown when opened, badges in the Explore tab.

Nothing is measured before the tab is opened; opening it measures the methods on the sample shown
(the numbers are trust_report's on the session's explanations), sets the badges of that sample in
the method headers, and the badges go when another sample is shown; the subsample scope averages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nbexplain.metrics import trust_report
from nbexplain.widgets.dashboard import Dashboard

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def _proba(X: np.ndarray) -> np.ndarray:
    z = 1.5 * X[:, 0] - X[:, 1] + 0.2 * X[:, 2]
    p = 1 / (1 + np.exp(-z))
    return np.c_[1 - p, p]


@pytest.fixture
def dash() -> Any:
    X = np.random.default_rng(4).normal(size=(60, 4))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    d = Dashboard(_proba, X, y, methods=["kernel_shap", "lime_batched"], sync=True, global_samples=20)
    yield d
    d.close()


def test_the_trust_tab_measures_the_sample_shown_when_opened_and_badges_follow(dash: Any) -> None:
    d, s = dash, dash.session
    d.select(5)
    tab = d.tab("trust")
    assert tab.view is None and d.compare.badges == {}  # nothing measured (nor drawn) before it is opened
    d.state.tab = "Trust"
    report = tab.view.report
    assert report is not None and list(report.samples) == [5] and report.methods == ["kernel_shap", "lime_batched"]
    values = {m: np.stack([s.explain(5, m).values]) for m in report.methods}
    ref = trust_report(s.model_input, s.X[[5]], values, kind="table", background=s.background, seed=s.seed)
    for metric in ("deletion", "insertion"):
        assert report.ranking(metric).mean == pytest.approx(ref.ranking(metric).mean)
    badges = d.compare.badges
    assert set(badges) == {"kernel_shap", "lime_batched"} and all("deletion AUC" in t for t in badges.values())
    assert d.compare.slots["kernel_shap"].badge.value == badges["kernel_shap"]
    d.state.tab = "Explore"
    d.select(6)  # another sample: the badges were about sample 5
    assert all(not slot.badge.value or "deletion" not in slot.badge.value for slot in d.compare.slots.values())
    d.state.tab = "Trust"  # the tab in view follows the sample shown
    assert list(tab.view.report.samples) == [6]


def test_the_subsample_scope_averages_and_sets_no_badges(dash: Any) -> None:
    d = dash
    d.select(1)
    tab = d.tab("trust")
    _ = tab.widget
    tab.scope.value = tab.scope.options[1]
    tab.measure()
    report = tab.view.report
    assert report.n_samples == 8 and d.compare.badges == {}
    d.select(2)
    d.compare.views["kernel_shap"].sample = np.asarray(d.session.X[2]) + 1.0  # an edit
    tab.scope.value = tab.scope.options[0]
    tab.measure()
    assert "edited" in tab.status.value
