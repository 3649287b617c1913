"""Heatmap: trait validation messages, updates, the browser's click, from_explanation, the bundle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets

from nbexplain.explainers import get_explainer
from nbexplain.widgets import Heatmap, _base

pytestmark = pytest.mark.usefixtures("nbx_bundle")


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"reduce": "mean"}, r"'reduce'.*\['sum', 'abs_sum', 'max_abs', 'l2'\].*'mean'"),
        ({"sign": "neg"}, r"'sign'.*\['both', 'positive', 'negative', 'absolute'\]"),
        ({"cmap": "jet"}, r"'cmap'.*'RdBu_r'.*'Greys'.*'jet'"),
        ({"precision": "float64"}, r"'precision'.*'float16'"),
        ({"opacity": 1.5}, r"'opacity'.*should not be greater than 1.0"),
        ({"opacity": -0.1}, r"'opacity'.*should not be less than 0.0"),
        ({"clip_percentile": 40.0}, r"'clip_percentile'.*should not be less than 50.0"),
        ({"threshold": 2.0}, r"'threshold'.*greater than 1.0"),
        ({"width": 0}, r"'width'.*less than 16"),
    ],
)
def test_bad_settings_raise_trait_errors(kwargs: dict[str, object], pattern: str) -> None:
    with pytest.raises(traitlets.TraitError, match=pattern):
        Heatmap(np.zeros((4, 4)), **kwargs)


def test_values_must_be_2d_or_3d() -> None:
    with pytest.raises(traitlets.TraitError, match=r"'values' of Heatmap must be 2-D or 3-D; got shape \[2, 3, 4, 5\]"):
        Heatmap(np.zeros((2, 3, 4, 5)))
    with pytest.raises(traitlets.TraitError, match=r"got shape \[7\]"):
        Heatmap(np.zeros(7))


def test_image_shape_must_match_values() -> None:
    with pytest.raises(traitlets.TraitError, match=r"image spatial shape \[5, 6\].*values' H, W \[4, 4\].*\[3, 4, 4\]"):
        Heatmap(np.zeros((3, 4, 4)), image=np.zeros((5, 6, 3), np.uint8))
    w = Heatmap(np.zeros((4, 4)), image=np.zeros((4, 4)))
    with pytest.raises(traitlets.TraitError, match=r"\[8, 8\]"):
        w.values = np.zeros((8, 8))
    assert w.values.shape == (4, 4)  # unchanged after the failed assignment


def test_unknown_keyword_is_a_type_error_listing_valid_ones() -> None:
    with pytest.raises(TypeError, match=r"Heatmap\(\) got unexpected keyword argument\(s\) 'colormap'; valid ones are: .*cmap.*opacity"):
        Heatmap(np.zeros((4, 4)), colormap="viridis")
    w = Heatmap(np.zeros((4, 4)))
    with pytest.raises(TypeError, match="'alpha'"):
        w.update(alpha=0.5)


def test_defaults_follow_the_protocol() -> None:
    w = Heatmap(torch.zeros(2, 3))
    assert (w.reduce, w.sign, w.cmap, w.opacity, w.clip_percentile, w.threshold) == ("sum", "both", "auto", 0.6, 99.0, 0.0)
    assert (w.width, w.show_controls, w.selected, w.value_label, w.precision) == (280, True, None, "attribution", "float16")
    assert (w._view, w.error, w.busy, w.title, w.image, w.note) == ("heatmap", "", False, "", None, "")


def test_note_comes_from_the_explainer_and_is_text() -> None:
    from nbexplain.explanation import Explanation
    from nbexplain.widgets.views.heatmap import explanation_note

    e = Explanation(np.zeros((2, 3, 3)), diagnostics={"note": ["all 0 <b>here</b>", ""]})
    assert explanation_note(e[0]) == "all 0 <b>here</b>" and explanation_note(e[1]) == ""
    assert explanation_note(Explanation(np.zeros((1, 3, 3)))) == ""
    assert Heatmap.from_explanation(e[0]).note == "all 0 <b>here</b>"
    w = Heatmap(np.zeros((3, 3)), note="why")
    w.update(note="")
    assert w.note == ""


def test_update_changes_shape_together_and_clears_selection() -> None:
    w = Heatmap(np.zeros((4, 4)), image=np.zeros((4, 4)))
    w.set_state({"selected": [1, 2]})  # what a click in the browser does
    assert w.selected == [1, 2]
    w.update(values=np.ones((3, 6, 6)), image=np.ones((6, 6, 3)), sign="absolute")
    assert w.spatial_shape == (6, 6) and w.image.shape == (6, 6, 3) and w.selected is None
    w.update(values=np.zeros((3, 6, 6)), opacity=0.1)
    assert w.opacity == 0.1
    with pytest.raises(traitlets.TraitError):
        w.update(values=np.zeros((5, 5)))  # the image is still 6 x 6
    assert w.spatial_shape == (6, 6)


def test_from_explanation_with_real_saliency() -> None:
    torch.manual_seed(0)
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(2 * 64, 3))
    x = torch.rand(2, 1, 8, 8)
    e = get_explainer("saliency", cnn).explain(x, target=np.array([2, 0]))
    w = Heatmap.from_explanation(e[1], title="s")
    np.testing.assert_array_equal(w.values, e[1].values[0])  # the single channel is squeezed
    assert w.values.shape == (8, 8) and w.image.shape == (8, 8) and w.value_label == "saliency"
    with pytest.raises(ValueError, match=r"single-sample Explanation.*2 samples"):
        Heatmap.from_explanation(e)
    assert Heatmap.from_explanation(e[:1], image=np.zeros((8, 8))).values.shape == (8, 8)


def test_missing_bundle_says_how_to_build(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from nbexplain.widgets import _bundle

    monkeypatch.delattr(_base.NbxWidget, "_esm")
    monkeypatch.setattr(_bundle, "ESM_PATH", _base.STATIC_DIR / "no-such-bundle.js")
    with pytest.raises(_base.BundleMissingError, match=r"pip install.*npm run build"):
        Heatmap(np.zeros((2, 2)))


def test_single_channel_maps_are_squeezed_to_two_dimensions():
    """(1, H, W) maps (a grey image's attribution) need no channel reduction."""
    from nbexplain.widgets import Heatmap

    w = Heatmap(np.arange(12.0).reshape(1, 3, 4), image=np.zeros((3, 4), dtype=np.uint8))
    assert w.values.shape == (3, 4)
    w.close()
