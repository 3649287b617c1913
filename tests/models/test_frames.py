"""The DataFrame encoding (nbexplain.frames, nbexplain.frame_inputs) and the Explanation round trips.

One feature per user column; codes and back with the user's names, order and dtypes; missing
values as a category or NaN; named errors for sparse, empty, infinite and uncodable inputs; shap
and pandas round trips that keep names and dtypes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from frames_support import frame, pipeline

import nbexplain as nbx
from nbexplain.frame_inputs import SparseInputError, frame_model, table_input
from nbexplain.frames import MISSING_LABEL, FrameEncoding
from nbexplain.validate import NonFiniteError


def mixed() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [30.0, 41.5, None, 50.0],
        "n": np.array([1, 2, 3, 4], dtype=np.int64),
        "kids": pd.array([1, None, 2, 3], dtype="Int64"),
        "city": pd.Categorical(["Oslo", None, "Bergen", "Oslo"], categories=["Oslo", "Bergen", "Tromsø"]),
        "s": pd.Series(["x", None, "y", "x"]),
        "o": pd.Series(["p", None, "q", None], dtype=object),
        "b": [True, False, True, True],
        "bn": pd.array([True, None, False, True], dtype="boolean"),
        "f32": np.array([1, 2, 3, 4], dtype=np.float32),
    })


def test_round_trip_keeps_names_order_dtypes_and_missing_values():
    df = mixed()
    copy = df.copy()
    enc = FrameEncoding.fit(df)
    codes = enc.encode(df)
    assert codes.shape == (4, 9) and codes.dtype == np.float64
    assert enc.kinds == ["number", "number", "number", "category", "category", "category", "category",
                         "category", "number"]
    back = enc.decode(codes)
    pd.testing.assert_frame_equal(back, df)
    pd.testing.assert_frame_equal(df, copy)  # the caller's frame is never changed


def test_categories_codes_and_missing_category():
    enc = FrameEncoding.fit(mixed())
    assert enc.labels(3) == ["Oslo", "Bergen", "Tromsø", MISSING_LABEL]  # the categorical dtype's own order
    assert enc.labels(4) == ["x", "y", MISSING_LABEL]  # strings sorted, missing last
    assert enc.labels(6) == ["False", "True"]
    codes = enc.encode(mixed())
    assert codes[:, 3].tolist() == [0.0, 3.0, 1.0, 0.0]
    assert np.isnan(codes[2, 0]) and np.isnan(codes[1, 2])  # numeric missing values stay NaN
    assert enc.choices()[4] == [(0.0, "x"), (1.0, "y"), (2.0, MISSING_LABEL)]


def test_new_categories_are_appended_and_codes_never_change():
    enc = FrameEncoding.fit(pd.DataFrame({"s": ["b", "a"]}))
    before = enc.encode(pd.DataFrame({"s": ["a", "b"]})).ravel().tolist()
    assert enc.encode(pd.DataFrame({"s": ["c", None, "a"]})).ravel().tolist() == [2.0, 3.0, 0.0]
    assert enc.encode(pd.DataFrame({"s": ["a", "b"]})).ravel().tolist() == before
    assert enc.labels(0) == ["a", "b", "c", MISSING_LABEL]
    with pytest.raises(ValueError, match=r"column 's' holds 'zz'.*include such rows in the background"):
        enc.encode(pd.DataFrame({"s": ["zz"]}), extend=False)


def test_integer_columns_come_back_as_integers_only_when_whole():
    enc = FrameEncoding.fit(pd.DataFrame({"n": np.array([1, 2], dtype=np.int64)}))
    assert enc.decode([[2.0], [3.0]])["n"].dtype == np.int64
    frac = enc.decode([[2.5], [3.0]])["n"]
    assert frac.dtype == np.float64 and frac.tolist() == [2.5, 3.0]  # never rounded silently
    assert enc.integer_indices == [0]


def test_decode_refuses_a_code_that_is_no_category():
    enc = FrameEncoding.fit(pd.DataFrame({"s": ["a", "b"]}))
    with pytest.raises(ValueError, match=r"column 's' got 1.5, which is not one of its 2 category codes"):
        enc.decode([[1.5]])


def test_forced_categorical_and_uncodable_dtypes():
    enc = FrameEncoding.fit(pd.DataFrame({"zip": [5000, 4000, 5000]}), categorical=["zip"])
    assert enc.labels(0) == ["4000", "5000"]
    assert enc.decode(enc.encode(pd.DataFrame({"zip": [5000]})))["zip"].tolist() == [5000]
    with pytest.raises(TypeError, match=r"column 'when' has dtype datetime64.*convert it to numbers"):
        FrameEncoding.fit(pd.DataFrame({"when": pd.to_datetime(["2024-01-01"])}))
    with pytest.raises(ValueError, match=r"column name 'a' twice"):
        FrameEncoding.fit(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_table_input_errors_are_named():
    df = mixed()
    with pytest.raises(NonFiniteError, match=r"X holds inf at row 1, feature 'age'"):
        table_input(df.assign(age=[1.0, np.inf, 2.0, 3.0]), "X")
    with pytest.raises(ValueError, match=r"background is empty \(0 rows, 9 columns\)"):
        table_input(df.iloc[:0], "background")
    with pytest.raises(SparseInputError, match=r"X is a scipy.sparse csr_matrix of shape \(2, 3\).*X.toarray\(\)"):
        table_input(sp.csr_matrix(np.ones((2, 3))), "X")
    enc = FrameEncoding.fit(df)
    codes = enc.encode(df)
    codes[0, 3] = 7.0
    with pytest.raises(ValueError, match=r"X column 'city' holds 7.0 at row 0, not a category code"):
        table_input(codes, "X", enc)
    with pytest.raises(ValueError, match=r"X has the columns of the training data in another order"):
        enc.encode(df[df.columns[::-1]])


@pytest.mark.parametrize("bad", [sp.csr_matrix(np.ones((5, 4))), sp.csr_matrix((0, 4)), [], np.zeros((0, 4)),
                                 pd.DataFrame(columns=list("abcd")), pd.DataFrame()])
def test_kernel_shap_names_sparse_and_empty_backgrounds(bad):
    f = lambda X: np.asarray(X, dtype=float)[:, :1]  # noqa: E731
    with pytest.raises((ValueError, TypeError)) as info:
        nbx.KernelShap(f, bad)
    msg = str(info.value)
    assert "dtype object" not in msg
    if sp.issparse(bad) and bad.shape[0]:
        assert "scipy.sparse" in msg and "toarray()" in msg
    else:
        assert "empty" in msg


def test_sparse_is_refused_by_every_tabular_entry():
    S = sp.csr_matrix(np.ones((20, 3)))
    y = np.zeros(20, dtype=int)
    f = lambda X: np.c_[np.ones(len(X)) * 0.5, np.ones(len(X)) * 0.5]  # noqa: E731
    calls = [lambda: nbx.LimeTabularBatched(f, S), lambda: nbx.permutation_importance(f, S, y),
             lambda: nbx.partial_dependence(f, S, 0), lambda: nbx.GlobalSurrogate(f).fit(S),
             lambda: nbx.LocalSurrogate(f, S), lambda: nbx.ShapTabular(f, S),
             lambda: nbx.KernelShap(f, np.ones((3, 3))).explain(S[:1]), lambda: nbx.ExplainSession(f, S, y)]
    for call in calls:
        with pytest.raises(SparseInputError, match=r"scipy.sparse csr_matrix.*toarray\(\)"):
            call()


def test_frame_model_decodes_to_the_users_frame_and_names_its_failures():
    df, y = frame(80)
    pipe = pipeline(df, y)
    enc = FrameEncoding.fit(df)
    seen = []
    wrapped = frame_model(lambda d: seen.append(d) or pipe.predict_proba(d), enc)
    out = wrapped(enc.encode(df))
    np.testing.assert_allclose(out, pipe.predict_proba(df))
    pd.testing.assert_frame_equal(seen[0], df)  # names, order, dtypes and missing values as given
    no_imputer = make_lr(df.dropna(), y[df.notna().all(axis=1).to_numpy()])
    with pytest.raises(ValueError, match=r"missing values in \['mean texture', 'size'\].*SimpleImputer"):
        frame_model(no_imputer, enc).predict_proba(enc.encode(df))


def make_lr(df: pd.DataFrame, y: np.ndarray):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["size", "grade"]),
                                  remainder="passthrough")
    return make_pipeline(pre, LogisticRegression(max_iter=500)).fit(df, y)


def test_shap_round_trip_keeps_names_dtypes_and_column_indexing():
    df, y = frame(120)
    pipe = pipeline(df, y)
    e = nbx.KernelShap(pipe, df.iloc[:20]).explain(df.iloc[40:46])
    assert e.feature_names == list(df.columns)
    sv = e.to_shap()
    np.testing.assert_allclose(sv[:, "visits"].values, e.values[:, 4])  # shap users index by column name
    assert list(sv[:, "size"].display_data) == df["size"].iloc[40:46].tolist()
    assert sv.data.dtype.kind == "f"  # numbers for shap's colours, strings in display_data
    back = nbx.Explanation.from_shap(sv)
    pd.testing.assert_frame_equal(back.data_frame(), df.iloc[40:46].reset_index(drop=True))
    np.testing.assert_allclose(back.values, e.values)
    part = nbx.Explanation.from_shap(sv[1:3])  # shap's slicing drops our encoding: rebuilt from display_data
    assert part.feature_names == list(df.columns)
    assert part.data_frame()["size"].tolist() == df["size"].iloc[41:43].tolist()
    assert part.data_frame()["mean radius"].tolist() == df["mean radius"].iloc[41:43].tolist()
    one = e[2].to_shap()
    assert one.values.shape == (5,)
    pd.testing.assert_series_equal(pd.Series(list(one.display_data), dtype=object), pd.Series(df.iloc[42].tolist(),
                                                                                             dtype=object))


def test_pandas_round_trip_keeps_names_and_dtypes():
    df = mixed()
    enc = FrameEncoding.fit(df)
    e = nbx.Explanation(np.arange(36.0).reshape(4, 9), base_values=np.zeros(4), data=enc.encode(df),
                        feature_names=enc.names, encoding=enc)
    values = e.to_pandas()
    assert values.columns.tolist() == list(df.columns) and values.shape == (4, 9)
    pd.testing.assert_frame_equal(e.data_frame(), df)
    back = nbx.Explanation.from_pandas(values, base_values=e.base_values, data=e.data_frame())
    pd.testing.assert_frame_equal(back.data_frame(), df)
    np.testing.assert_array_equal(back.values, e.values)
    pd.testing.assert_frame_equal(e[1:3].data_frame(), df.iloc[1:3].reset_index(drop=True))  # slicing keeps it
    with pytest.raises(ValueError, match=r"data has columns"):
        nbx.Explanation.from_pandas(values, data=df.rename(columns={"age": "AGE"}))
