"""The bundle travels once per kernel (nbexplain/widgets/_bundle.py), never once per view.

Checked here without a browser, on the state ipywidgets would save: one FrontEnd model holds the
bundle and the CSS; each view holds the 1 KB stub, a reference to the front end and its own
model id; closing views (alone, in trees, on re-run) never closes the front end, and a closed
front end is made again. ``tests/browser/dashboard/test_saved_notebook_browser.py`` proves it in a notebook
JupyterLab saved and reopened.
"""

from __future__ import annotations

import json
from typing import Any

import ipywidgets
import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers

from nbexplain.widgets import FeatureBars, Heatmap, _base, _bundle
from nbexplain.widgets._bundle import FrontEnd, front_end

pytestmark = pytest.mark.usefixtures("nbx_bundle")


def _live_front_ends() -> list[Any]:
    return [w for w in ipywidgets.Widget.widgets.values() if isinstance(w, FrontEnd)]


def test_views_carry_a_stub_and_name_the_one_front_end() -> None:
    views = [Heatmap(np.zeros((4, 4))) for _ in range(5)] + [FeatureBars([0.1, -0.2], ["a", "b"])]
    try:
        fe = front_end()
        states = [v.get_state() for v in views]
        assert len(_live_front_ends()) == 1
        for v, s in zip(views, states, strict=True):
            assert s["_nbx_front"] == f"anywidget:{fe.model_id}"
            assert s["_nbx_self"] == v.model_id  # the stub checks its own model's comm
            assert len(s["_esm"]) < 4000 and "_css" not in s
        fe_state = fe.get_state()
        assert len(fe_state["_esm"]) > 50_000 and len(fe_state["_css"]) > 5_000
        # Everything the six views save together is smaller than one copy of the bundle.
        total = sum(len(json.dumps(_remove_buffers(s)[0])) for s in states)
        assert total < len(fe_state["_esm"]) / 4, total
    finally:
        for v in views:
            v.close()


def test_stub_and_bundle_are_the_built_files() -> None:
    assert _base.NbxWidget._esm == _bundle.LOADER_PATH.read_text(encoding="utf-8") + (
        "" if "\n" in _bundle.LOADER_PATH.read_text(encoding="utf-8") else "\n")
    stub = _base.NbxWidget._esm
    assert "getWidget" in stub and "_nbx_front" in stub and "comm_live" in stub
    assert "export default" in FrontEnd._esm or "initialize" in FrontEnd._esm


def test_closing_views_and_trees_never_closes_the_front_end() -> None:
    fe = front_end()
    box = ipywidgets.VBox([Heatmap(np.zeros((2, 2))), FeatureBars([1.0], ["x"])])
    assert fe not in _base.widget_closure([box])
    _base.close_tree(box)
    assert fe.comm is not None and front_end() is fe
    Heatmap(np.zeros((2, 2))).close()
    assert fe.comm is not None and front_end() is fe


def test_a_closed_front_end_is_made_again() -> None:
    old = front_end()
    ipywidgets.Widget.close_all()
    assert old.comm is None
    h = Heatmap(np.zeros((2, 2)))
    try:
        new = front_end()
        assert new is not old and new.comm is not None
        assert h.get_state()["_nbx_front"] == f"anywidget:{new.model_id}"
    finally:
        h.close()


def test_missing_stub_is_reported_like_a_missing_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(_base.NbxWidget, "_esm")
    monkeypatch.setattr(_bundle, "LOADER_PATH", _bundle.STATIC_DIR / "no-such-loader.js")
    with pytest.raises(_base.BundleMissingError, match=r"npm run build"):
        Heatmap(np.zeros((2, 2)))
