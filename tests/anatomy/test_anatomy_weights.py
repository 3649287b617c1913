"""weight_summary statistics and filter_maps tiles, with exact answers on fixed weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch_models import mlp, resnet, small_cnn

from nbexplain.anatomy import NoConvError, filter_maps, parameterised_layers, weight_summary


def test_weight_summary_exact_statistics() -> None:
    lin = nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.0, 1.0, -2.0], [4.0, 0.0, 3.0]]))
    model = nn.Sequential(lin, nn.ReLU(), nn.BatchNorm1d(2))
    stats = weight_summary(model)
    assert [(s.name, s.type, s.param, s.shape, s.n_params) for s in stats] == [
        ("0", "Linear", "weight", (2, 3), 8), ("2", "BatchNorm1d", "weight", (2,), 4)]
    s = stats[0]
    w = np.array([0.0, 1.0, -2.0, 4.0, 0.0, 3.0])
    assert (s.mean, s.min, s.max, s.zeros) == (1.0, -2.0, 4.0, pytest.approx(1 / 3))
    assert s.std == pytest.approx(w.std()) and s.abs_mean == pytest.approx(10 / 6)
    assert s.counts.shape == (40,) and s.counts.sum() == 6 and (s.edges[0], s.edges[-1]) == (-2.0, 4.0)
    assert s.counts[0] == 1 and s.counts[-1] == 1  # -2 in the first bin, 4 in the last
    d = s.to_dict()
    assert d["shape"] == [2, 3] and len(d["edges"]) == 41


def test_weight_summary_covers_every_parameter_of_resnet18() -> None:
    model = resnet("18")
    stats = weight_summary(model)
    assert [s.name for s in stats] == parameterised_layers(model)
    assert sum(s.n_params for s in stats) == sum(p.numel() for p in model.parameters())
    conv1 = stats[0]
    assert (conv1.name, conv1.shape) == ("conv1", (64, 3, 7, 7))
    assert conv1.std == pytest.approx(model.conv1.weight.detach().double().std(unbiased=False).item())


def test_filter_maps_rgb_tiles_are_scaled_symmetrically() -> None:
    model = resnet("18")
    f = filter_maps(model)
    assert (f.layer, f.rgb, f.tiles.shape, f.n_filters, f.notes) == ("conv1", True, (64, 7, 7, 3), 64, [])
    w = model.conv1.weight.detach().numpy()
    scale = np.abs(w).reshape(64, -1).max(1)
    np.testing.assert_allclose(f.tiles, 0.5 + 0.5 * np.transpose(w, (0, 2, 3, 1)) / scale[:, None, None, None],
                               rtol=1e-6)
    assert f.tiles.min() >= 0 and f.tiles.max() <= 1
    per_tile = np.abs(f.tiles - 0.5).reshape(64, -1).max(1)
    np.testing.assert_allclose(per_tile, 0.5, rtol=1e-6)  # each tile's largest |w| reaches 0 or 1
    few = filter_maps(model, "conv1", max_filters=8)
    assert few.tiles.shape == (8, 7, 7, 3) and few.notes == ["showing the first 8 of 64 filters"]
    one = filter_maps(model, "conv1", input_channel=2)
    assert not one.rgb and one.tiles.shape == (64, 7, 7)
    np.testing.assert_array_equal(one.tiles, w[:, 2])


def test_filter_maps_grey_tiles_are_the_mean_over_input_channels() -> None:
    model = small_cnn()
    f = filter_maps(model, "2")
    w = model[2].weight.detach().numpy()
    assert (f.layer, f.rgb, f.tiles.shape, f.labels[3]) == ("2", False, (16, 3, 3), "filter 3")
    np.testing.assert_allclose(f.tiles, w.mean(1), rtol=1e-6)
    assert filter_maps(model).layer == "0" and filter_maps(model).tiles.shape == (8, 3, 3)


def test_filter_maps_errors_name_the_layers() -> None:
    with pytest.raises(NoConvError, match=r"Sequential has no convolutional layer; filter maps need nn\.Conv2d "
                                          r"\(layers with weights: \['0', '2', '4'\]\)"):
        filter_maps(mlp())
    with pytest.raises(NoConvError, match=r"layer '7' is a Linear, not a Conv2d.*conv layers: \['0', '2'\]"):
        filter_maps(small_cnn(), "7")
    with pytest.raises(ValueError, match="input_channel 8 is out of range"):
        filter_maps(small_cnn(), "2", input_channel=8)
    with pytest.raises(ValueError, match="closest names"):
        filter_maps(resnet("tiny"), "conv")


def test_containers_holding_parameters_are_covered() -> None:
    model = nn.Sequential(nn.MultiheadAttention(8, 2), nn.Linear(8, 2))
    stats = weight_summary(model)
    assert [(s.name, s.param, s.shape) for s in stats] == [
        ("0", "in_proj_weight", (24, 8)), ("0.out_proj", "weight", (8, 8)), ("1", "weight", (2, 8))]
    assert sum(s.n_params for s in stats) == sum(p.numel() for p in model.parameters())


def test_weight_map_is_the_weight_reshaped_and_block_averaged() -> None:
    import numpy as np
    import torch

    from nbexplain.anatomy import weight_map

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 2), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(12, 5))
    conv = weight_map(model, "0")
    w = model[0].weight.detach().numpy()
    np.testing.assert_allclose(conv.values, w.reshape(3, 8), rtol=1e-6)
    assert conv.shape == (3, 2, 2, 2) and conv.block == (1, 1) and conv.rows_are == "output channels"
    lin = weight_map(model, "3", max_size=4)  # (5, 12) -> blocks of (2, 3): 3 x 4 cells
    W = model[3].weight.detach().double().numpy()
    assert lin.values.shape == (3, 4) and lin.block == (2, 3)
    np.testing.assert_allclose(lin.values[0, 0], W[0:2, 0:3].mean())
    np.testing.assert_allclose(lin.values[2, 3], W[4:5, 9:12].mean())  # the last, smaller block
    with pytest.raises(ValueError, match="has no weights of its own"):
        weight_map(model, "1")
    with pytest.raises(ValueError, match="has no layer named '4'"):
        weight_map(model, "4")
