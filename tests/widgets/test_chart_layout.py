"""Chart building blocks in Python: round and integer ticks, theme colours, bar chart sizing,
labels that name the class, standardised surrogate coefficients, and the lazy tab / wrapping row."""

from __future__ import annotations

import ipywidgets
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from nbexplain.explainers.global_methods.partial_dependence import partial_dependence
from nbexplain.explainers.global_methods.surrogates import GlobalSurrogate
from nbexplain.widgets import charts
from nbexplain.widgets.chart_layout import ChartRow, LazyTab
from nbexplain.widgets.charts import HBarChart, nice_domain, nice_ticks, tick_format
from nbexplain.widgets.overview import ImportanceBars, PDPView, SurrogateView


def _contrast(a: str, b: str) -> float:
    def lum(h: str) -> float:
        c = [int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_round_ticks_and_formats() -> None:
    assert nice_ticks(0.0, 1.0, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(2.345, 3.8, 7).tolist() == [2.5, 2.75, 3.0, 3.25, 3.5, 3.75]
    assert nice_ticks(-0.0083, 3.0, 7, integer=True).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert nice_ticks(0, 2, 9, integer=True).tolist() == [0.0, 1.0, 2.0]  # never 0.5 for integer data
    assert nice_ticks(0, 40, 5, integer=True).tolist() == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert nice_ticks(1, 1).tolist() == [1.0] and nice_ticks(0, np.inf).size == 0
    assert nice_domain(0.0, 0.93, 5)[:2] == (0.0, 1.0)
    lo, hi, _ = nice_domain(0.2, 0.2)  # one value: a range around it
    assert lo < 0.2 < hi
    assert tick_format(np.array([0.0, 0.25])) == ".2f" and tick_format(np.array([400.0, 600.0])) == ".0f"
    for lo, hi in [(0, 1e-4), (-3.3, 7.1), (250.0, 4254.0), (0.0, 0.0123)]:
        t = nice_ticks(lo, hi, 6)
        assert 2 <= t.size <= 6 and t.min() >= lo - 1e-12 and t.max() <= hi + 1e-12, (lo, hi, t)
        fmt = tick_format(t)
        if fmt.endswith("f"):  # every tick printed exactly, and no two alike
            texts = [f"{v:{fmt}}" for v in t]
            assert len(set(texts)) == len(texts)


def test_data_colours_read_in_light_and_dark() -> None:
    for name in ("BAR_COLOR", "MUTED_COLOR", "POSITIVE_COLOR", "NEGATIVE_COLOR", "PDP_COLOR", "HIGHLIGHT_COLOR"):
        colour = getattr(charts, name)
        assert _contrast(colour, "#ffffff") >= 3 and _contrast(colour, "#111111") >= 3, name


def test_axes_and_figures_use_the_theme() -> None:
    chart = HBarChart("value")
    chart.set(["a", "long name " * 3], np.array([0.3, 0.93]))
    for axis in (chart.names_axis, chart.value_axis):
        assert axis.label_color.startswith("var(--jp-ui-font-color1") and axis.grid_color.startswith("var(--jp-")
    assert chart.value_axis.color.startswith("var(--jp-ui-font-color2") and chart.names_axis.grid_lines == "none"
    assert "nbx-chart" in chart.figure._dom_classes and chart.bars.stroke.startswith("var(--jp-layout-color0")
    # The axis ends on round ticks (set as values: bqplot's num_ticks would space them from the minimum).
    assert chart.value_axis.num_ticks is None and chart.value_axis.tick_values.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    left = chart.figure.fig_margin["left"]
    assert chart.figure.layout.min_width == f"{left + chart.figure.fig_margin['right'] + charts.MIN_PLOT_PX}px"
    signed = HBarChart("coefficient", zero_based=False)
    signed.set(["a", "b"], np.array([-18.6, 3.0]))
    assert (signed.value_scale.min, signed.value_scale.max) == (-20.0, 20.0)
    assert signed.value_axis.tick_values.tolist() == [-20.0, -10.0, 0.0, 10.0, 20.0]


def test_importance_title_is_a_label() -> None:
    w = ImportanceBars(np.ones((2, 3)), ["a", "b", "c"], title="x" * 200)
    assert w.children[0] is w.title and w.title.value == "x" * 200 and not w.figure.title
    assert ImportanceBars(np.ones((1, 2))).title.layout.display == "none"


def test_pdp_names_the_class_and_ticks_integers() -> None:
    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(0, 4, 100), rng.normal(size=100)].astype(float)
    model = lambda A: np.c_[1 - 1 / (1 + np.exp(-A[:, 0])), 1 / (1 + np.exp(-A[:, 0]))]  # noqa: E731
    r = partial_dependence(model, X, 0, target=1, sample=10, feature_names=["nodes", "z"])
    v = PDPView(r, ["nodes", "z"], class_names=["no", "yes"])
    assert v.y_axis.label == "P(yes)" and v.x_axis.label == "nodes"
    assert v.x_axis.tick_values.tolist() == [0.0, 1.0, 2.0, 3.0] and v.x_axis.tick_format == ".0f"
    assert PDPView(r, ["nodes", "z"]).y_axis.label == "P(class 1)"
    assert PDPView(r, ["nodes", "z"], y_label="risk").y_axis.label == "risk"
    r2 = partial_dependence(model, X, 1, target=1, sample=10, grid_resolution=9)
    v.show(r2)
    ticks = v.x_axis.tick_values
    assert v.feature.value == 1 and not np.all(ticks == np.round(ticks))  # a float feature: fractional ticks
    v.highlight_line(np.full(len(r2.grid[0]), 0.99))  # the y axis grows to show the highlighted line
    assert v.y_scale.max >= 0.99 and v.y_axis.tick_values.max() <= v.y_scale.max


def test_surrogate_standardised_and_named() -> None:
    X, y = load_iris(return_X_y=True)
    X = X * [1.0, 1.0, 100.0, 1.0]  # petal length in other units
    names = ["sl", "sw", "pl", "pw"]
    lin = GlobalSurrogate(lambda A: A[:, 0] + A[:, 2] / 100, feature_names=names).fit(X)
    raw = SurrogateView(lin)
    assert raw.scale is None and raw.chart.value_axis.label == "change in the model output per unit of the feature"
    std = SurrogateView(lin, class_names=["a", "b"], data=X)
    np.testing.assert_allclose(std.scale, X.std(axis=0))
    by_name = dict(zip(std.chart.bars.x.tolist(), std.chart.bars.y.tolist(), strict=True))
    np.testing.assert_allclose([by_name["sl"], by_name["pl"]], [X[:, 0].std(), X[:, 2].std() / 100], rtol=1e-6)
    assert std.chart.value_axis.label == "change in P(a) per +1 SD of the feature"
    assert "linear surrogate of P(a)" in std.fidelity.value
    with pytest.raises(ValueError, match="data has 2 features but the surrogate has 4"):
        SurrogateView(lin, data=X[:, :2])
    # A logistic fit that only ever sees classes 0 and 2: its one row of coefficients is class 2's.
    keep = y != 1
    model = LogisticRegression(max_iter=500).fit(X[keep], y[keep])
    log = GlobalSurrogate(lambda A: np.eye(3)[np.where(model.predict(A) == 0, 0, 2)], kind="logistic").fit(X)
    v = SurrogateView(log, names, class_names=["setosa", "versicolor", "virginica"], data=X)
    assert v.output.layout.display == "none"
    assert v.chart.value_axis.label == "log-odds of virginica per +1 SD of the feature"


def test_lazy_tab_shows_a_page_only_while_selected() -> None:
    pages = [ipywidgets.VBox([ipywidgets.Label(str(i))]) for i in range(3)]
    tabs = LazyTab(children=pages)
    assert tabs.pages == tuple(pages) and tabs.children[0] is pages[0]
    stacks = tabs.children[1:]
    assert [type(s).__name__ for s in stacks] == ["Stack", "Stack"]
    assert stacks[0].children[1] is pages[1] and stacks[1].children[2] is pages[2]
    assert all(s.selected_index == 0 for s in stacks)  # pages 1 and 2 show the empty box
    assert {(link.source[0], link.target[0]) for link in tabs._links} == {(tabs, s) for s in stacks}
    tabs.selected_index = 2
    assert [s.selected_index for s in stacks] == [2, 2]
    tabs.set_title(1, "Global")
    assert tabs.titles[1] == "Global"
    tabs.close()
    assert all(w.comm is None for w in [*pages, *stacks, *tabs._links, tabs.placeholder])


def test_chart_row_wraps() -> None:
    row = ChartRow([ImportanceBars(np.ones((1, 2)), ["a", "b"])])
    assert row.layout.flex_flow == "row wrap" and "nbx-chart-row" in row._dom_classes
    assert row.children[0].layout.flex == "1 1 360px"
