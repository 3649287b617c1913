"""ChannelGrid: validation, float16 wire format, update, dependent traits, events."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from nbexplain.codec import decode_array
from nbexplain.widgets.anatomy.channel_grid import ChannelGrid

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def test_scalar_maps_travel_as_float16() -> None:
    maps = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4) - 5
    g = ChannelGrid(maps, order=[1, 0], cmap="coolwarm")
    assert g.labels == ["0", "1"]
    assert (g.selected, g.scale, g.tile_size) == (-1, "grid", 48)
    state, _paths, buffers = _remove_buffers(g.get_state())
    assert state["maps"]["dtype"] == "float16"
    assert state["maps"]["shape"] == [2, 3, 4]
    assert state["order"]["dtype"] == "float32"
    decoded = decode_array(dict(state["maps"], data=buffers[0]))
    np.testing.assert_allclose(decoded, maps, atol=18 * 1e-3)
    assert g.nbytes == 2 * 24
    assert len(buffers[0]) == 2 * 24


def test_rgb_maps_and_errors() -> None:
    rgb = np.random.default_rng(0).random((4, 5, 5, 3))
    assert ChannelGrid(rgb, labels=list("abcd")).maps.shape == (4, 5, 5, 3)
    with pytest.raises(traitlets.TraitError, match=r"RGB maps must lie in \[0, 1\]"):
        ChannelGrid(rgb * 2)
    with pytest.raises(traitlets.TraitError, match="4-D maps must be RGB"):
        ChannelGrid(np.zeros((2, 3, 5, 5)))
    with pytest.raises(traitlets.TraitError, match=r"use maps\[None\]"):
        ChannelGrid(np.zeros((5, 5)))
    with pytest.raises(traitlets.TraitError, match="labels has 2 entries but there are 4 maps"):
        ChannelGrid(rgb, labels=["a", "b"])
    with pytest.raises(traitlets.TraitError, match=r"order must list distinct tile indices in 0\.\.3"):
        ChannelGrid(rgb, order=[0, 0])
    with pytest.raises(traitlets.TraitError, match="order must list distinct"):
        ChannelGrid(rgb, order=[4])
    with pytest.raises(traitlets.TraitError, match="selected 4 is outside the 4 maps"):
        ChannelGrid(rgb, selected=4)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        ChannelGrid(rgb, colormap="viridis")


def test_update_and_dependent_traits() -> None:
    g = ChannelGrid(np.zeros((4, 2, 2)), order=[3, 2], selected=3)
    g.update(np.ones((2, 3, 3)), labels=["x", "y"])
    assert g.maps.shape == (2, 3, 3) and g.labels == ["x", "y"] and g.order is None and g.selected == -1
    with pytest.raises(traitlets.TraitError, match="labels has 1 entries"):
        g.update(np.ones((2, 3, 3)), labels=["x"])
    assert g.labels == ["x", "y"]  # rolled back
    g.maps = np.ones((3, 2, 2))  # direct assignment: labels follow
    assert g.labels == ["0", "1", "2"]
    with pytest.raises(traitlets.TraitError, match="selected 3 is outside"):
        g.selected = 3
    with pytest.raises(traitlets.TraitError, match="labels has 1 entries"):
        g.labels = ["a"]
    got: list[int] = []
    g.on_event("select", lambda m: got.append(m["index"]))
    g._dispatch_event(g, {"event": "select", "index": 2}, [])
    assert got == [2]
