"""PatchMask and TokenMask: the patch grid, toggling by pixel, and exact occluded arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nbexplain.perturb import PatchMask, TokenMask, default_patch_size


def test_default_patch_size_and_grid() -> None:
    assert default_patch_size(28, 28) == 3
    assert default_patch_size(5, 100) == 1
    m = PatchMask((1, 28, 28))
    assert m.patch == 3 and m.grid_shape == (10, 10)  # 9 full patches and a last one of 1 pixel
    assert m.patch_bounds(9, 9) == (27, 28, 27, 28)
    assert PatchMask((5, 7), patch=2).grid_shape == (3, 4)


def test_toggle_at_toggles_the_patch_holding_the_pixel() -> None:
    m = PatchMask((5, 5), patch=2)
    assert m.toggle_at(4, 3) is True  # last row of patches (1 pixel high), column 1
    expected = np.zeros((3, 3), bool)
    expected[2, 1] = True
    np.testing.assert_array_equal(m.mask, expected)
    assert m.toggle_at(4, 2) is False  # same patch again: back off
    assert not m.mask.any()
    with pytest.raises(IndexError, match="outside the 5 x 5 image"):
        m.toggle_at(5, 0)


def test_apply_number_fill_exact() -> None:
    m = PatchMask((5, 5), patch=2)
    m.toggle_at(0, 0)
    m.toggle_at(4, 4)
    x = np.arange(25.0).reshape(5, 5)
    expected = x.copy()
    expected[0:2, 0:2] = -1.0
    expected[4:5, 4:5] = -1.0
    np.testing.assert_array_equal(m.apply(x, fill=-1.0), expected)
    np.testing.assert_array_equal(x, np.arange(25.0).reshape(5, 5))  # input untouched


def test_apply_mean_fill_is_per_channel_on_chw_and_batch() -> None:
    m = PatchMask((2, 2), patch=1)
    m.toggle_at(1, 0)
    x = np.array([[[1.0, 2.0], [3.0, 6.0]], [[10.0, 10.0], [10.0, 30.0]]])  # means 3 and 15
    out = m.apply(x, fill="mean")
    np.testing.assert_array_equal(out, [[[1.0, 2.0], [3.0, 6.0]], [[10.0, 10.0], [15.0, 30.0]]])
    out4 = m.apply(torch.tensor(x[None], dtype=torch.float32), fill="mean")
    assert out4.dtype == np.float32 and out4.shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(out4[0, :, 1, 0], [3.0, 15.0])


def test_apply_baseline_image_fill() -> None:
    m = PatchMask((4, 4), patch=2)
    m.toggle_at(1, 3)
    x = np.zeros((4, 4))
    base = np.arange(16.0).reshape(4, 4)
    expected = np.zeros((4, 4))
    expected[0:2, 2:4] = base[0:2, 2:4]
    np.testing.assert_array_equal(m.apply(x, fill=base), expected)
    with pytest.raises(ValueError, match="baseline fill must have the image's shape"):
        m.apply(x, fill=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="fill must be a number"):
        m.apply(x, fill="median")
    with pytest.raises(ValueError, match="mask is for 4 x 4 images"):
        m.apply(np.zeros((3, 3)))


def test_uint8_image_becomes_float_and_reset() -> None:
    m = PatchMask((2, 2), patch=1)
    m.toggle_at(0, 1)
    out = m.apply(np.full((2, 2), 200, np.uint8), fill=0.5)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[200.0, 0.5], [200.0, 200.0]])
    m.reset()
    assert not m.mask.any()
    np.testing.assert_array_equal(m.pixel_mask(), np.zeros((2, 2), bool))


def test_bad_shapes_and_patch() -> None:
    with pytest.raises(ValueError, match="must end with"):
        PatchMask((7,))
    with pytest.raises(ValueError, match="patch must be at least 1"):
        PatchMask((4, 4), patch=0)


def test_token_mask() -> None:
    t = TokenMask(4)
    assert t.toggle(1) is True and t.toggle(3) is True
    np.testing.assert_array_equal(t.dropped, [False, True, False, True])
    assert t.apply(["this", "is", "not", "good"]) == "this not"
    assert t.kept(["a", "b", "c", "d"]) == ["a", "c"]
    assert t.toggle(1) is False
    assert t.apply(["a", "b", "c", "d"], sep="") == "abc"
    with pytest.raises(IndexError, match="there are 4 tokens"):
        t.toggle(4)
    with pytest.raises(ValueError, match="mask is for 4"):
        t.apply(["a"])
    t.reset()
    assert not t.mask.any()
