"""compact_widget_state: what it drops from a saved notebook's widget state, and what it keeps."""

from __future__ import annotations

import ipywidgets
import nbformat
from ipywidgets.embed import dependency_state

from nbexplain._notebook_run import WIDGET_STATE_MIME, compact_widget_state


def _saved(*widgets: ipywidgets.Widget) -> tuple[nbformat.NotebookNode, dict]:
    state = dependency_state(list(widgets), drop_defaults=False)
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {WIDGET_STATE_MIME: {"state": state, "version_major": 2, "version_minor": 0}}
    return nb, nb.metadata["widgets"][WIDGET_STATE_MIME]["state"]


def test_layouts_and_styles_lose_their_unset_values() -> None:
    box = ipywidgets.VBox([ipywidgets.Button(description="go")], layout=ipywidgets.Layout(width="10px"))
    nb, state = _saved(box)
    before = len(str(state))
    assert compact_widget_state(nb) > 0
    layout = state[box.layout.model_id]["state"]
    assert layout["width"] == "10px" and "height" not in layout and layout["_model_name"] == "LayoutModel"
    style = state[box.children[0].style.model_id]["state"]
    assert "button_color" not in style and style["_model_name"] == "ButtonStyleModel"
    assert len(str(state)) < 0.7 * before


def test_values_whose_javascript_default_differs_are_kept() -> None:
    """FloatRangeSlider's Python value defaults to (0, 1) and its JavaScript one to 0: a dropped
    value made the html-manager fail to draw the slider ("Could not create a view")."""
    slider = ipywidgets.FloatRangeSlider(value=(0.0, 1.0), min=0.0, max=1.0)
    pick = ipywidgets.Dropdown(options=["a", "b"])
    nb, state = _saved(slider, pick)
    compact_widget_state(nb)
    assert state[slider.model_id]["state"]["value"] == [0.0, 1.0]
    assert state[pick.model_id]["state"]["index"] == 0
