"""ArrayTrait and image coercion: what goes in, what comes out, and the error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets

from nbexplain.codec import decode_array, encode_array
from nbexplain.widgets._traits import ArrayTrait, array_from_json, array_to_json, to_display_image


class Holder(traitlets.HasTraits):
    vec = ArrayTrait(ndims=(1,), help="a vector")
    maps = ArrayTrait(ndims=(2, 3), allow_none=True, help="a map")
    img = ArrayTrait(kind="image", allow_none=True, help="an image")


def test_coerces_numpy_torch_and_lists() -> None:
    h = Holder(vec=[1, 2, 3])
    assert h.vec.dtype == np.float64 and h.vec.tolist() == [1.0, 2.0, 3.0]
    t = torch.arange(4, dtype=torch.float32, requires_grad=True) * 2
    h.vec = t
    assert h.vec.dtype == np.float32 and h.vec.tolist() == [0.0, 2.0, 4.0, 6.0]
    h.vec = np.array([True, False])
    assert h.vec.tolist() == [1.0, 0.0]


def test_values_are_read_only_copies() -> None:
    src = np.zeros(3)
    h = Holder(vec=src)
    assert not h.vec.flags.writeable
    assert src.flags.writeable  # the caller's array is untouched
    with pytest.raises(ValueError):
        h.vec[0] = 1.0


def test_wrong_ndim_names_shape_and_expectation() -> None:
    with pytest.raises(traitlets.TraitError, match=r"'maps' of Holder must be 2-D or 3-D; got shape \[4\] \(1-D\)"):
        Holder(vec=[1.0], maps=np.zeros(4))
    with pytest.raises(traitlets.TraitError, match=r"must hold numbers"):
        Holder(vec=np.array(["a", "b"]))
    with pytest.raises(traitlets.TraitError, match="must be an array"):
        Holder(vec=[[1, 2], [3]])


def test_none_only_when_allowed() -> None:
    h = Holder(vec=[1.0])
    assert h.maps is None and h.img is None
    with pytest.raises(traitlets.TraitError):
        h.vec = None


def test_accepts_an_encoded_dict() -> None:
    h = Holder(vec=encode_array(np.array([1.5, -2.0])))
    assert h.vec.tolist() == [1.5, -2.0]


def test_to_json_uses_widget_precision_and_from_json_decodes() -> None:
    class W:
        precision = "float16"

    a = np.linspace(-3, 3, 12).reshape(3, 4)
    enc = array_to_json(a, W())
    assert enc["dtype"] == "float16" and len(enc["data"]) == a.size * 2
    assert array_to_json(a, object())["dtype"] == "float32"
    assert array_to_json(None, object()) is None
    np.testing.assert_allclose(array_from_json(enc, None), a, atol=3e-3)
    assert array_from_json(None, None) is None


@pytest.mark.parametrize(
    ("given", "shape"),
    [
        (np.full((4, 5), 0.5), (4, 5)),  # float [0, 1]
        (np.full((4, 5), 128.0), (4, 5)),  # float [0, 255]
        (np.zeros((3, 4, 5)), (4, 5, 3)),  # C x H x W
        (np.zeros((1, 4, 5)), (4, 5)),  # 1 x H x W
        (np.zeros((4, 5, 1)), (4, 5)),  # H x W x 1
        (np.zeros((4, 5, 4), np.uint8), (4, 5, 3)),  # RGBA
        (torch.rand(3, 6, 7), (6, 7, 3)),
    ],
)
def test_image_coercion_shapes(given: object, shape: tuple[int, ...]) -> None:
    img = Holder(vec=[0.0], img=given).img
    assert img.dtype == np.uint8 and img.shape == shape


def test_image_value_scaling() -> None:
    assert to_display_image(np.array([[0.0, 0.5, 1.0]])).tolist() == [[0, 128, 255]]
    assert to_display_image(np.array([[0.0, 100.0, 255.0]])).tolist() == [[0, 100, 255]]
    assert to_display_image(np.array([[-1.0, 0.0, 1.0]]), normalize=True).tolist() == [[0, 128, 255]]


def test_image_errors_name_the_shape() -> None:
    with pytest.raises(traitlets.TraitError, match=r"'img' of Holder: an image must be .*got shape \[2, 3, 4, 5\]"):
        Holder(vec=[0.0], img=np.zeros((2, 3, 4, 5)))
    with pytest.raises(traitlets.TraitError, match=r"got shape \[4, 5, 2\]"):
        Holder(vec=[0.0], img=np.zeros((4, 5, 2)))
    with pytest.raises(traitlets.TraitError, match=r"\[0, 1\] or \[0, 255\]; got \[-2, 3\]"):
        Holder(vec=[0.0], img=np.array([[-2.0, 3.0]]))


def test_decoded_sample_is_float32() -> None:
    enc = {"dtype": "float32", "shape": [2], "data": memoryview(np.array([1, 2], "<f4").tobytes())}
    assert decode_array(enc).dtype == np.float32
    assert Holder(vec=enc).vec.tolist() == [1.0, 2.0]
