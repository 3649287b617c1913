"""The one array codec between Python and the nbexplain front end.

Arrays cross the wire as a small dict plus one binary buffer, never as JSON lists
(see ``docs/PROTOCOL.md``). Every widget trait that holds an array uses
:func:`encode_array` to send and :func:`decode_array` to receive.

Example:
    >>> import numpy as np
    >>> enc = encode_array(np.array([[0.5, -1.0], [np.nan, 2.0]]), precision="float16")
    >>> enc["dtype"], enc["shape"], len(enc["data"])
    ('float16', [2, 2], 8)
    >>> decode_array(enc)
    array([[ 0.5, -1. ],
           [ nan,  2. ]], dtype=float32)
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

Precision = Literal["float32", "float16", "uint8"]
PRECISIONS: tuple[str, ...] = ("float32", "float16", "uint8")

#: Codes reserved in the 8-bit quantised form.
Q_NEG_INF, Q_POS_INF, Q_NAN, Q_MAX = 253, 254, 255, 252


def encode_array(array: Any, precision: Precision = "float32") -> dict[str, Any]:
    """Encode a numeric array as ``{dtype, shape, data, scale, offset, quantized}``.

    ``precision`` is ``"float32"`` (exact), ``"float16"`` (half the bytes; values are divided by
    the largest finite magnitude first, so nothing overflows) or ``"uint8"`` (a quarter of the
    bytes, 253 levels between min and max). NaN and +-inf survive every precision.
    ``uint8`` input arrays (images) are sent as raw bytes whatever the precision.

    Example:
        >>> enc = encode_array(np.arange(3, dtype=np.float32))
        >>> bytes(enc["data"]) == np.arange(3, dtype="<f4").tobytes()
        True
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    a = np.asarray(array)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"cannot encode an array of dtype {a.dtype}: pass numbers (float or int)")
    shape = [int(s) for s in a.shape]
    if a.dtype == np.uint8:
        return _pack(np.ascontiguousarray(a), "uint8", shape, 1.0, 0.0, False)
    a = a.astype(np.float64 if a.dtype == np.float64 else np.float32, copy=False)
    if precision == "float32":
        return _pack(a.astype("<f4"), "float32", shape, 1.0, 0.0, False)
    finite = np.isfinite(a)
    if precision == "float16":
        peak = float(np.abs(a[finite]).max()) if finite.any() else 0.0
        scale = peak if peak > 0 else 1.0
        out = np.where(finite, a / scale, a).astype("<f2")
        return _pack(out, "float16", shape, scale, 0.0, False)
    lo = float(a[finite].min()) if finite.any() else 0.0
    hi = float(a[finite].max()) if finite.any() else 0.0
    scale = (hi - lo) / Q_MAX if hi > lo else 1.0
    codes = np.zeros(a.shape, dtype=np.uint8)
    codes[finite] = np.clip(np.rint((a[finite] - lo) / scale), 0, Q_MAX).astype(np.uint8)
    codes[np.isnan(a)] = Q_NAN
    codes[np.isposinf(a)] = Q_POS_INF
    codes[np.isneginf(a)] = Q_NEG_INF
    return _pack(codes, "uint8", shape, scale, lo, True)


def decode_array(encoded: dict[str, Any]) -> np.ndarray:
    """Decode what :func:`encode_array` (or the JS ``encodeArray``) produced.

    Returns float32 for float encodings and quantised data, ``uint8`` for raw bytes.

    Example:
        >>> decode_array(encode_array(np.array([1.0, -np.inf]), "uint8"))
        array([  1., -inf], dtype=float32)
    """
    if not isinstance(encoded, dict):
        raise TypeError(f"encoded must be the dict encode_array returns, got {type(encoded).__name__}")
    missing = {"dtype", "shape", "data"} - set(encoded)
    if missing:
        raise ValueError(f"encoded array lacks {sorted(missing)}; expected keys dtype, shape, data")
    dtype = encoded["dtype"]
    if dtype not in PRECISIONS:
        raise ValueError(f"unknown encoded dtype {dtype!r}; expected one of {PRECISIONS}")
    try:
        shape = tuple(int(s) for s in encoded["shape"])
    except (TypeError, ValueError):
        raise ValueError(f"encoded shape must be a list of ints, got {encoded['shape']!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"encoded shape {list(shape)} has a negative size")
    try:
        buf = memoryview(encoded["data"]).cast("B")
    except TypeError:
        raise TypeError(f"encoded data must be a bytes-like buffer, got {type(encoded['data']).__name__}") from None
    width = {"float32": 4, "float16": 2, "uint8": 1}[dtype]
    need = int(np.prod(shape)) * width
    if buf.nbytes != need:
        state = "truncated" if buf.nbytes < need else "too long"
        raise ValueError(f"encoded data is {state}: {buf.nbytes} bytes, but shape {list(shape)} of {dtype} needs "
                         f"{need}; the buffer was cut in transit or the shape does not belong to it")
    raw = np.frombuffer(buf, dtype={"float32": "<f4", "float16": "<f2", "uint8": "u1"}[dtype])
    raw = raw.reshape(shape)
    scale = float(encoded.get("scale", 1.0))
    offset = float(encoded.get("offset", 0.0))
    if not (np.isfinite(scale) and np.isfinite(offset)):
        raise ValueError(f"encoded scale {scale!r} and offset {offset!r} must be finite numbers")
    if dtype == "uint8" and not encoded.get("quantized", False):
        return raw.copy()
    if dtype == "uint8":
        # np.asarray: for 0-d input the arithmetic yields a numpy scalar, which cannot be assigned into
        out = np.asarray(raw.astype(np.float32) * np.float32(scale) + np.float32(offset))
        out[raw == Q_NAN] = np.nan
        out[raw == Q_POS_INF] = np.inf
        out[raw == Q_NEG_INF] = -np.inf
        return out
    out = raw.astype(np.float32)
    if scale != 1.0 or offset != 0.0:
        out = np.asarray(out * np.float32(scale) + np.float32(offset))
    return out


def _pack(a: np.ndarray, dtype: str, shape: list[int], scale: float, offset: float, quantized: bool) -> dict[str, Any]:
    return {
        "dtype": dtype,
        "shape": shape,
        "data": memoryview(np.ascontiguousarray(a).tobytes()),
        "scale": float(scale),
        "offset": float(offset),
        "quantized": quantized,
    }
