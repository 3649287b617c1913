"""Explanation: validation, shap-like slicing, shap round trips both ways."""

import numpy as np
import pytest

from nbexplain import Explanation

shap = pytest.importorskip("shap")


def make(n: int = 5, f: int = 4) -> Explanation:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(n, f))
    base = rng.normal(size=n)
    return Explanation(values, base, rng.normal(size=(n, f)), feature_names=[f"f{i}" for i in range(f)],
                       output_names=["neg", "pos"], target=np.arange(n) % 2, outputs=base + values.sum(1),
                       method="demo", params={"p": 1},
                       diagnostics={"score": np.arange(n) / 10, "global": "kept", "table": np.zeros((3, 2))})


def test_shape_facts_and_repr():
    e = make()
    assert len(e) == e.n_samples == 5 and e.feature_shape == (4,) and not e.has_output_axis
    assert repr(e) == "Explanation(method='demo', n=5, feature_shape=(4,), base_values=yes)"
    m = Explanation(np.zeros((2, 3, 8, 8)))
    assert m.feature_shape == (3, 8, 8) and m.base_values is None
    k = Explanation(np.zeros((2, 4, 3)), base_values=np.zeros((2, 3)))
    assert k.has_output_axis and k.feature_shape == (4,) and "outputs_axis=3" in repr(k)


def test_int_index_gives_single_sample():
    e = make()
    s = e[3]
    assert s.is_single and s.values.shape == (4,)
    np.testing.assert_array_equal(s.values, e.values[3])
    assert s.base_values == e.base_values[3] and s.target == 1 and s.outputs == e.outputs[3]
    assert s.diagnostics["score"] == pytest.approx(0.3) and s.diagnostics["global"] == "kept"
    np.testing.assert_array_equal(e[-1].values, e.values[4])
    with pytest.raises(TypeError, match="no len"):
        len(s)
    with pytest.raises(TypeError):
        s[0]


@pytest.mark.parametrize("index, rows", [(slice(1, 4), [1, 2, 3]), ([0, 2], [0, 2]), (np.array([4, -5]), [4, 0]),
                                         (np.array([True, False, True, False, True]), [0, 2, 4]),
                                         (slice(None, None, -2), [4, 2, 0])])
def test_batch_selections_keep_the_axis(index, rows):
    e = make()
    sub = e[index]
    assert not sub.is_single and len(sub) == len(rows)
    np.testing.assert_array_equal(sub.values, e.values[rows])
    np.testing.assert_array_equal(sub.data, e.data[rows])
    np.testing.assert_array_equal(sub.target, e.target[rows])
    np.testing.assert_array_equal(sub.diagnostics["score"], e.diagnostics["score"][rows])
    assert sub.diagnostics["table"].shape == (3, 2)  # not per-sample: kept as is
    assert sub.feature_names == e.feature_names and sub.method == "demo"


def test_index_errors_name_n():
    e = make()
    with pytest.raises(IndexError, match="n=5"):
        e[5]
    with pytest.raises(IndexError, match="n=5"):
        e[-6]
    with pytest.raises(IndexError, match="n=5"):
        e[np.array([True, False])]
    with pytest.raises(IndexError, match="no samples"):
        e[2:2]
    with pytest.raises(TypeError, match="sample axis"):
        e[0, 1]


def test_construction_errors_name_the_problem():
    with pytest.raises(ValueError, match="empty explanation"):
        Explanation(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"n=3"):
        Explanation(np.zeros((3, 2)), base_values=np.zeros(4))
    with pytest.raises(ValueError, match=r"n=3"):
        Explanation(np.zeros((3, 2)), target=[0, 1])
    with pytest.raises(ValueError, match=r"3 feature_names.*2 features"):
        Explanation(np.zeros((3, 2)), feature_names=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"5 feature_names.*4 features"):
        Explanation(np.zeros((3, 2, 2)), feature_names=list("abcde"))
    with pytest.raises(TypeError, match="numeric"):
        Explanation(np.array([["a", "b"]], dtype=object))
    with pytest.raises(ValueError, match=r"\(n, \*feature_shape, 3\)"):
        Explanation(np.zeros((2, 4)), base_values=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="2 output_names"):
        Explanation(np.zeros((2, 4, 3)), base_values=np.zeros((2, 3)), output_names=["a", "b"])
    with pytest.raises(ValueError, match="outside output_names"):
        Explanation(np.zeros((2, 4)), target=[0, 2], output_names=["a", "b"])
    with pytest.raises(TypeError, match="integer"):
        Explanation(np.zeros((2, 4)), target=[0.5, 1.0])


def test_nan_values_are_allowed_and_images_take_flat_names():
    e = Explanation(np.full((2, 2, 2), np.nan), feature_names=list("abcd"))
    assert np.isnan(e.values).all()


def _assert_shap_equal(a, b):
    for key in ("values", "base_values", "data"):
        x, y = getattr(a, key), getattr(b, key)
        assert (x is None) == (y is None), key
        if x is not None:
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=key)
    for key in ("feature_names", "output_names", "instance_names"):
        x, y = getattr(a, key), getattr(b, key)
        assert (None if x is None else list(np.atleast_1d(x))) == (None if y is None else list(np.atleast_1d(y))), key


def test_ours_to_shap_to_ours_keeps_everything_both_hold():
    e = make()
    back = Explanation.from_shap(e.to_shap(), method="demo")
    for key in ("values", "base_values", "data"):
        np.testing.assert_array_equal(getattr(back, key), getattr(e, key))
    assert back.feature_names == e.feature_names
    # shap's output_names name an output axis; this map has none, so they are not passed on
    # (passing them breaks shap's own slicing of base_values)
    assert e.to_shap().output_names is None and back.output_names is None
    k = Explanation(np.ones((2, 3, 2)), base_values=np.zeros((2, 2)), output_names=["a", "b"])
    assert Explanation.from_shap(k.to_shap()).output_names == ["a", "b"]
    np.testing.assert_allclose(back.outputs, e.outputs)  # recomputed by additivity


def test_shap_to_ours_to_shap_multi_output_with_extras():
    rng = np.random.default_rng(1)
    se = shap.Explanation(rng.normal(size=(3, 4, 2)), base_values=rng.normal(size=(3, 2)), data=rng.normal(size=(3, 4)),
                          feature_names=list("abcd"), output_names=["x", "y"], instance_names=["i", "j", "k"],
                          lower_bounds=rng.normal(size=(3, 4, 2)), error_std=rng.normal(size=(3, 4, 2)),
                          clustering=rng.normal(size=(3, 3, 4)))
    ours = Explanation.from_shap(se)
    assert ours.has_output_axis and len(ours) == 3 and ours.feature_shape == (4,)
    back = ours.to_shap()
    _assert_shap_equal(back, se)
    for key in ("lower_bounds", "error_std", "clustering"):
        np.testing.assert_array_equal(getattr(back, key), getattr(se, key))
    # slicing ours then converting equals slicing shap
    _assert_shap_equal(ours[1:].to_shap(), se[1:])
    np.testing.assert_array_equal(ours[[0, 2]].to_shap().clustering, se[[0, 2]].clustering)


def test_shap_single_sample_round_trips():
    se = shap.Explanation(np.arange(4.0), base_values=0.5, data=np.ones(4), feature_names=list("abcd"))
    ours = Explanation.from_shap(se)
    assert ours.is_single and ours.values.shape == (4,) and ours.base_values == 0.5 and ours.outputs == 6.5
    _assert_shap_equal(ours.to_shap(), se)
    multi = shap.Explanation(np.ones((3, 4, 2)), base_values=np.zeros((3, 2)), instance_names=["i", "j", "k"],
                             output_names=["x", "y"])[1]
    ours = Explanation.from_shap(multi)
    assert ours.is_single and ours.has_output_axis and ours.values.shape == (4, 2)
    _assert_shap_equal(ours.to_shap(), multi)


def test_our_single_sample_to_shap():
    e = make()
    _assert_shap_equal(e[2].to_shap(), e.to_shap()[2])


def test_from_shap_rejects_other_objects():
    with pytest.raises(TypeError, match=r"shap\.Explanation"):
        Explanation.from_shap(np.zeros((2, 2)))
