"""The array codec: exact float32, float16 without overflow, 8-bit quantisation, offsets."""

import numpy as np
import pytest

from nbexplain.codec import Q_MAX, decode_array, encode_array

SPECIAL = np.array([0.0, -1.5, 2.25, np.nan, np.inf, -np.inf, 3.0e-3], dtype=np.float32)


def _same(a: np.ndarray, b: np.ndarray, atol: float) -> None:
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isposinf(a), np.isposinf(b))
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
    fin = np.isfinite(a)
    np.testing.assert_allclose(a[fin], b[fin], rtol=0, atol=atol)


def test_float32_round_trip_is_exact_with_nan_and_inf():
    out = decode_array(encode_array(SPECIAL, "float32"))
    assert out.dtype == np.float32
    _same(out, SPECIAL, 0.0)


@pytest.mark.parametrize("precision", ["float32", "float16", "uint8"])
@pytest.mark.parametrize("shape", [(), (7,), (2, 3, 4)])
def test_round_trip_shapes(precision, shape):
    rng = np.random.default_rng(0)
    a = rng.normal(size=shape).astype(np.float32)
    enc = encode_array(a, precision)
    assert enc["shape"] == list(shape)
    out = decode_array(enc)
    assert isinstance(out, np.ndarray) and out.shape == shape
    peak = float(np.abs(a).max()) if a.size else 1.0
    tol = {"float32": 0.0, "float16": peak * 1e-3, "uint8": enc["scale"] / 2 + 1e-6}[precision]
    _same(out, a, tol)


@pytest.mark.parametrize("precision", ["float16", "uint8"])
def test_special_values_survive_lossy_precisions(precision):
    _same(decode_array(encode_array(SPECIAL, precision)), SPECIAL, 0.02)


def test_float16_scale_never_overflows_large_values():
    a = np.array([1e6, -3e6, 5.0, np.nan], dtype=np.float64)
    enc = encode_array(a, "float16")
    raw = np.frombuffer(bytes(enc["data"]), dtype="<f2")
    assert np.isfinite(raw[:3]).all(), "finite values must stay finite in float16"
    assert enc["scale"] == pytest.approx(3e6)
    out = decode_array(enc)
    # float16 keeps about 1e-3 of the largest magnitude (docs/PROTOCOL.md): an absolute bound
    np.testing.assert_allclose(out[:3], a[:3], rtol=0, atol=3e6 * 1e-3)
    assert np.isnan(out[3])


def test_float16_halves_the_bytes_on_the_wire():
    a = np.random.default_rng(1).normal(size=(64, 64)).astype(np.float32)
    assert len(encode_array(a, "float16")["data"]) * 2 == len(encode_array(a, "float32")["data"]) == a.nbytes


def test_uint8_quantisation_error_is_at_most_half_a_step():
    a = np.random.default_rng(2).uniform(-7, 11, size=5000).astype(np.float32)
    enc = encode_array(a, "uint8")
    assert enc["quantized"] is True
    assert enc["scale"] == pytest.approx((a.max() - a.min()) / Q_MAX)
    err = np.abs(decode_array(enc) - a)
    assert err.max() <= enc["scale"] / 2 + 1e-5
    assert len(enc["data"]) == a.size


def test_uint8_constant_array_decodes_exactly():
    a = np.full((3, 3), 4.5)
    np.testing.assert_array_equal(decode_array(encode_array(a, "uint8")), a)


@pytest.mark.parametrize("precision", ["float32", "float16", "uint8"])
def test_raw_uint8_images_pass_through_unchanged(precision):
    img = np.random.default_rng(3).integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    enc = encode_array(img, precision)
    assert enc["dtype"] == "uint8" and enc["quantized"] is False and len(enc["data"]) == img.size
    out = decode_array(enc)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize("precision", ["float32", "float16", "uint8"])
def test_decodes_a_memoryview_slice_at_an_offset(precision):
    a = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    enc = encode_array(a, precision)
    payload = bytes(enc["data"])
    big = bytearray(b"\xaa" * 3) + bytearray(payload) + bytearray(b"\xbb" * 5)  # odd offset on purpose
    view = memoryview(bytes(big))[3:3 + len(payload)]
    expected = decode_array(enc)
    np.testing.assert_array_equal(decode_array({**enc, "data": view}), expected)


def test_wrong_buffer_length_is_a_value_error_naming_the_shape():
    enc = encode_array(np.zeros((2, 3), dtype=np.float32))
    enc["shape"] = [2, 4]
    with pytest.raises(ValueError, match=r"\[2, 4\]"):
        decode_array(enc)


def test_buffer_not_a_multiple_of_the_item_size_is_a_value_error():
    enc = encode_array(np.zeros(4, dtype=np.float32))
    enc["data"] = memoryview(bytes(enc["data"])[:-1])
    with pytest.raises(ValueError):
        decode_array(enc)


def test_object_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="object"):
        encode_array(np.array([1, "a"], dtype=object))


def test_unknown_precision_and_missing_keys_are_named():
    with pytest.raises(ValueError, match="precision"):
        encode_array(np.zeros(2), "float8")
    with pytest.raises(ValueError, match="data"):
        decode_array({"dtype": "float32", "shape": [2]})


def test_integer_and_bool_arrays_encode_as_float():
    out = decode_array(encode_array(np.array([[1, -2], [3, 40000]], dtype=np.int32)))
    np.testing.assert_array_equal(out, [[1, -2], [3, 40000]])
    np.testing.assert_array_equal(decode_array(encode_array(np.array([True, False]))), [1.0, 0.0])
