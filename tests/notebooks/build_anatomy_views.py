"""Writes the anatomy-views test notebook (ModelGraphView and ChannelGrid) in this folder.

The notebook is checked in; edit the sources here and rerun
``python tests/notebooks/build_anatomy_views.py`` so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

# The tiny ResNet of tests/torch_models.py (the kernel has the repository on PYTHONPATH): two
# stages of one BasicBlock each, so the graph has residual edges (maxpool -> layer1.0.relu).
GRAPH = '''import torch

from nbexplain.anatomy import model_graph
from nbexplain.widgets.anatomy.model_graph import ModelGraphView
from tests.torch_models import resnet

net = resnet("tiny")
view = ModelGraphView(model_graph(net, torch.zeros(1, 3, 32, 32)), title="tiny ResNet")
events = []
view.on_event("select", events.append)
view'''

# A hand-made graph whose module and type names are markup: they must show as literal text.
MARKUP = '''def node(name, typ, parent, leaf, own, order):
    return {"name": name, "type": typ, "parent": parent, "depth": 0 if parent is None else 1,
            "is_leaf": leaf, "output_shape": [1, 10], "n_params": own, "n_params_total": own if leaf else 60,
            "order": order, "calls": 1}

markup = ModelGraphView({
    "nodes": [node("", "Net", None, False, 0, 0), node("<img src=x onerror=alert(1)>", "<b>Linear</b>", "", True, 50, 1),
              node("head", "Linear", "", True, 10, 2)],
    "edges": [["input", "<img src=x onerror=alert(1)>"], ["<img src=x onerror=alert(1)>", "head"], ["head", "output"]],
    "method": "hooks",
}, title="markup names")
markup'''

# ResNet-50 fully expanded (about 180 module boxes): the draw time is read from data-draw-ms.
BIG = '''big = ModelGraphView(model_graph(resnet("50"), torch.zeros(1, 3, 64, 64)), title="ResNet-50")
big.expand_all()
big'''

# Three signed 4 x 5 maps with values in {-1, -0.5, 0, 0.5, 1} * 3 (exact in float16), so the
# colour positions are 0, 0.25, 0.5, 0.75, 1 on RdBu_r; one NaN (grey). Shown in order 2, 0, 1.
GRID = '''import numpy as np

from nbexplain.widgets.anatomy.channel_grid import ChannelGrid

steps = np.array([-1.0, -0.5, 0.0, 0.5, 1.0]) * 3
maps = np.stack([np.tile(np.roll(steps, k), (4, 1)) for k in range(3)])
maps[1, 3, 4] = np.nan
grid = ChannelGrid(maps, labels=["ch0", "<i>ch1</i>", "ch2"], order=[2, 0, 1], tile_size=60, title="channels")
grid_events = []
grid.on_event("select", grid_events.append)
grid'''

RGB = '''rgb_maps = np.zeros((2, 3, 3, 3))
rgb_maps[0, :, :, 0] = 1.0          # red
rgb_maps[1, :, :, 2] = 0.5          # half blue
rgb_maps[1, 1, 1] = [1.0, 1.0, 1.0]  # white centre
rgb = ChannelGrid(rgb_maps, title="filters")
rgb'''

# ResNet-18 (torchvision's layout, random weights), collapsed to its stages, and a model torch.fx
# cannot trace (a branch on the data): its graph comes from forward hooks, with a note saying so.
MORE = '''r18 = ModelGraphView(model_graph(resnet("18"), torch.zeros(1, 3, 64, 64)), title="ResNet-18")


class Gate(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.head = torch.nn.Linear(4, 8), torch.nn.Linear(4, 8), torch.nn.Linear(8, 2)

    def forward(self, x):
        h = self.a(x) if x.sum() > 0 else self.b(x)   # data-dependent control flow
        return self.head(torch.relu(h))


gate_graph = model_graph(Gate(), torch.ones(1, 4))
gate = ModelGraphView(gate_graph, title="untraceable")
display(r18)
gate'''

NOTEBOOKS: dict[str, list[str]] = {"anatomy_views.ipynb": [GRAPH, MARKUP, BIG, GRID, RGB, MORE]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
