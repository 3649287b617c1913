"""ExplainSession and Dashboard on a scikit-learn Pipeline over a DataFrame (strings, categories, NaN).

The session keeps the frame's encoding (names, categories for the what-if menus), calls the
Pipeline with the user's DataFrame, explains samples with missing values, and the Dashboard's
sample panel, table and bars show categories as their strings; the what-if menu offers them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from frames_support import frame, pipeline

from nbexplain import Dashboard, ExplainSession, FeatureBars, KernelShap
from nbexplain.codec import encode_array


@pytest.fixture(scope="module")
def data():
    df, y = frame(200)
    return df, y, pipeline(df.iloc[:150], y[:150])


def test_session_explains_in_the_users_columns(data):
    df, y, pipe = data
    copy = df.copy()
    s = ExplainSession(pipe, df.iloc[150:], y[150:], X_train=df.iloc[:150], y_train=y[:150])
    assert s.feature_names == list(df.columns) and s.encoding is not None
    assert s.categorical[2] == [(0.0, "large"), (1.0, "medium"), (2.0, "small"), (3.0, "(missing)")]
    assert [lab for _, lab in s.categorical[3]] == ["I", "II", "III"]
    np.testing.assert_allclose(s.probabilities(), pipe.predict_proba(df.iloc[150:]), atol=1e-12)
    i = int(np.flatnonzero(s.nan_rows())[0])  # a sample with a missing value is explained (the model imputes)
    e = s.explain(i, "kernel_shap")
    assert e.feature_names == list(df.columns)
    np.testing.assert_allclose(e.values.sum() + e.base_values, s.probabilities()[i, s.target_of(i)], atol=1e-10)
    assert e.encoding.decode(e.data[None])["size"].tolist() == [df["size"].iloc[150 + i]]
    assert s.explain(3, "lime_batched").values.shape == (5,)
    with pytest.raises(ValueError, match=r"'lime' \(the lime package\).*use 'lime_batched'"):
        s.explain(3, "lime")
    r = s.partial_dependence(2)
    assert r.grid_labels[0][:3] == ["large", "medium", "small"]
    assert [sl.label for sl in s.slices(3).slices] == ["grade = I", "grade = II", "grade = III"]
    fit = s.surrogate()
    assert fit.feature_names == list(df.columns) and "grade" in fit.category_values
    pd.testing.assert_frame_equal(df, copy)


def test_session_categorical_given_wins_and_inf_is_still_refused(data):
    df, y, pipe = data
    s = ExplainSession(pipe, df.iloc[150:], y[150:], categorical={"visits": {0: "none", 1: "one"}})
    assert s.categorical[4] == [(0.0, "none"), (1.0, "one")] and 2 in s.categorical
    bad = df.iloc[150:].copy()
    bad.iloc[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"X holds inf at row 0, feature 'mean radius'"):
        ExplainSession(pipe, bad, y[150:])


def test_dashboard_shows_strings_and_offers_categories(data):
    df, y, pipe = data
    copy = df.copy()
    d = Dashboard(pipe, df.iloc[150:], y[150:], X_train=df.iloc[:150], y_train=y[:150], sync=True, page_size=5)
    try:
        d.select(2)
        d.wait()
        labels = ["large", "medium", "small", "(missing)"]
        assert [c["label"] for c in d.panel.categories[2]] == labels and d.panel.categories[0] is None
        table = d.browser.table
        assert table.columns[3] == "size" and [c["label"] for c in table.categories[3]] == labels
        assert table.categories[0] is None  # confidence
        bars = d.compare.views["kernel_shap"]
        assert [c["label"] for c in bars.categories[2]] == labels and bars.whatif
        assert d.compare.views["lime_batched"].categories == bars.categories  # every method's bars
        assert bars.slider_step[4] == 1.0  # an integer column steps by whole numbers
        assert "lime" not in d.method_picker.options  # the lime package perturbs categories as numbers
        row = bars.sample.copy()
        row[2] = 0.0 if row[2] != 0.0 else 2.0  # the what-if menu: another size
        bars.sample = row
        d.wait()
        assert d.panel.note.startswith("edited: size")
        edited = d.session.encoding.decode(row[None].astype(np.float64))
        np.testing.assert_allclose(d.panel.probabilities, pipe.predict_proba(edited)[0], atol=1e-6)
        assert d.explanations()["kernel_shap"].feature_names == list(df.columns)
    finally:
        d.close()
    pd.testing.assert_frame_equal(df, copy)


def test_feature_bars_from_explanation_of_a_frame_shows_labels(data):
    df, _y, pipe = data
    e = KernelShap(pipe, df.iloc[:10]).explain(df.iloc[[20]])
    w = FeatureBars.from_explanation(e[0])
    try:
        code = int(e.data[0, 3])
        assert w.categories[3][code]["label"] == str(df["grade"].iloc[20]) and w.categories[0] is None
    finally:
        w.close()


def test_a_browser_sample_with_a_code_outside_the_menu_is_rejected(data):
    df, y, pipe = data
    d = Dashboard(pipe, df.iloc[150:], y[150:], sync=True)
    try:
        d.select(0)
        d.wait()
        bars = d.compare.views["kernel_shap"]
        before = bars.sample.copy()
        row = np.asarray(bars.sample, dtype=np.float32).copy()
        row[3] = 1.5  # no grade has this code
        enc = encode_array(row, precision="float32")
        buf = enc.pop("data")  # as the front end sends it: an update message with a binary buffer
        bars._handle_msg({"content": {"data": {"method": "update", "state": {"sample": enc},
                                                "buffer_paths": [["sample", "data"]]}},
                          "buffers": [memoryview(bytes(buf))]})
        np.testing.assert_array_equal(bars.sample, before)  # refused by the bars (their error says so)
        assert d.panel.note == "" and d._edited_input is None  # nothing reached the model
    finally:
        d.close()
