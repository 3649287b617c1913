"""The Dashboard's tabs over their shared state: adding a tab is one class in TAB_CLASSES, tabs talk
only through the DashboardState, and closing the Dashboard closes every tab.

The rest of the Dashboard's behaviour is in tests/dashboard/test_widgets_dashboard.py and
tests/dashboard/test_widgets_dashboard_use.py (unchanged by the split into one module per tab).
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np
import pytest
import torch
import traitlets
from torch_models import small_cnn

import nbexplain.widgets.dashboard.dashboard as container
from nbexplain.diagnostics.browse import SampleFilter
from nbexplain.widgets.dashboard import Dashboard, DashboardTab

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def _proba(X: np.ndarray) -> np.ndarray:
    z = 1.2 * X[:, 0] - X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
    p = 1 / (1 + np.exp(-z))
    return np.c_[1 - p, p]


@pytest.fixture
def table() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(3).normal(size=(120, 5))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    y[:10] = 1 - y[:10]
    return X, y


class ProbeTab(DashboardTab):
    """A fifth tab, as another module would add it: it shows the model's output for the input shown."""

    title, name, kinds = "Probe", "probe", ("table",)

    def __init__(self, state: Any) -> None:
        super().__init__(state)
        self.opened = self.computed = 0
        self.seen: list[tuple[int, bool]] = []

    def build(self) -> Any:
        self.label = ipywidgets.Label("open me")
        self.watch(self._on_sample, names=["index", "edited"])
        return ipywidgets.VBox([self.label])

    def _on_sample(self, _change: Any) -> None:
        i, edited = self.state.index, self.state.edited
        self.seen.append((i, edited is not None))
        row = self.session.X[i] if edited is None else edited
        self.label.value = f"{self.session.predict(np.asarray(row)[None])[0, 1]:.6f}"

    def on_open(self) -> None:
        self.opened += 1

    def compute(self) -> None:
        self.computed += 1


@pytest.fixture
def with_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(container, "TAB_CLASSES", [*container.TAB_CLASSES, ProbeTab])


def test_a_tab_is_one_class_added_to_TAB_CLASSES(table: Any, with_probe: None) -> None:
    X, y = table
    d = Dashboard(_proba, X, y, methods=["kernel_shap"], sync=True, global_samples=30)
    try:
        titles = [d.tabs.get_title(i) for i in range(len(d.tabs.children))]
        assert titles == ["Explore", "Global", "Errors & bias", "Surrogate", "Trust", "Probe"]
        probe = d.tab("probe")
        assert isinstance(probe, ProbeTab) and d.tab("Probe") is probe and d.tabs.pages[5] is probe.widget
        assert probe.seen == [(0, False)]  # the first sample shown reached it through the state
        d.select(7)
        assert float(probe.label.value) == pytest.approx(_proba(X[7:8])[0, 1], abs=1e-6)
        row = X[7].copy()
        row[0] += 2.0
        d.compare.views["kernel_shap"].sample = row  # a what-if edit in the Explore tab
        assert probe.seen[-1] == (7, True)
        assert float(probe.label.value) == pytest.approx(_proba(row[None])[0, 1], abs=1e-6)
        assert probe.opened == 0
        d.tabs.selected_index = 5
        assert probe.opened == 1 and d.state.tab == "Probe"
        d.compute_global()
        assert probe.computed == 1 and d.surrogate_view is not None
        with pytest.raises(KeyError, match="no tab 'nowhere'"):
            d.tab("nowhere")
    finally:
        d.close()
    assert probe.widget.comm is None and probe.label.comm is None
    n = len(probe.seen)
    d.state.select(3)  # closed: the tab no longer observes the state
    assert len(probe.seen) == n


def test_a_tab_is_offered_for_its_kinds_only(with_probe: None) -> None:
    torch.manual_seed(0)
    images = Dashboard(small_cnn(n_out=3), torch.rand(6, 1, 8, 8).numpy(), methods=["saliency"], sync=True)
    try:
        assert [images.tabs.get_title(i) for i in range(len(images.tabs.children))] == [
            "Explore", "Global", "Errors & bias", "Trust"]
        assert container.tab_names("table")[-1] == "Probe" and "Probe" not in container.tab_names("image")
    finally:
        images.close()


def test_tabs_talk_through_the_state(table: Any) -> None:
    X, y = table
    d = Dashboard(_proba, X, y, methods=["kernel_shap"], sync=True, global_samples=30)
    try:
        s = d.state
        assert (s.index, s.methods, s.tab) == (0, ("kernel_shap",), "Explore")
        d.tabs.selected_index = 2  # the errors tab; a confusion cell sets the filter and shows Explore
        d._on_cell({"true": 1, "pred": 0})
        assert (s.filter.true_class, s.filter.predicted_class) == (1, 0) and d.browser.filter is s.filter
        assert s.tab == "Explore" and d.tabs.selected_index == 0 and s.index in set(d.browser.indices.tolist())
        s.filter = SampleFilter()  # the state drives the browser too
        assert d.browser.indices.size == X.shape[0]
        s.tab = "Global"  # bringing a tab forward opens it: the global views compute
        assert d.tabs.selected_index == 1 and d.beeswarm is not None
        with pytest.raises(traitlets.TraitError, match="not a tab of this Dashboard"):
            s.tab = "Nowhere"
        d.method_picker.value = ("lime_batched",)
        assert s.methods == ("lime_batched",) and d.session.methods == ["lime_batched"]
        assert list(d.explanations()) == ["lime_batched"]
        d.select(12)
        row = X[12].copy()
        row[1] -= 1.0
        d.compare.views["lime_batched"].sample = row
        assert s.edited is not None and d._edited_input is s.edited
        d.select(12)  # the sample shown again: its edit stays
        assert s.edited is not None and "edited" in d.panel.note
        d.tab("global")._jump(30)  # a beeswarm click: another sample, no edit, the Explore tab
        assert (d.index, s.edited, s.tab, d.panel.index) == (30, None, "Explore", 30)
    finally:
        d.close()


def test_tab_classes_need_their_own_title_and_name(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Twin(ProbeTab):
        name = "twin"

    monkeypatch.setattr(container, "TAB_CLASSES", [*container.TAB_CLASSES, ProbeTab, Twin])
    X, y = table
    with pytest.raises(ValueError, match="the title 'Probe' is used by more than one tab"):
        Dashboard(_proba, X, y, methods=["kernel_shap"], sync=True)
