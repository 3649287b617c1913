"""The five tabs of the layer inspector; each builds its widgets when first shown.

The tabs live in :mod:`.activations` (Activations), :mod:`.weights` (Filters, Weights)
and :mod:`.gradients` (Gradients, Activation function); what they share is in
:mod:`.tab_base`. This module lists them in display order with their titles.

Example:
    >>> TAB_TITLES[3]
    'Gradients'
    >>> import torch
    >>> from nbexplain.widgets.anatomy.view import LayerInspector
    >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(256, 3))
    >>> inspector = LayerInspector(cnn, torch.rand(4, 1, 8, 8))    # inspects the convolution, "0"
    >>> [inspector.tabs.get_title(i) for i in range(5)] == list(TAB_TITLES)
    True
    >>> inspector.tabs.selected_index = 3   # builds and draws the Gradients tab
    >>> type(inspector.tab(3)).__name__, inspector.tab(3).built
    ('GradientsTab', True)
"""

from __future__ import annotations

from .activations import ActivationsTab
from .gradients import EXPLODING, VANISHING, ActivationFnTab, GradientsTab
from .tab_base import MAX_GRID_VALUES, _Tab, grid_max_size
from .weights import FiltersTab, WeightsTab

__all__ = ["EXPLODING", "MAX_GRID_VALUES", "TAB_CLASSES", "TAB_TITLES", "VANISHING", "grid_max_size"]

TAB_CLASSES: tuple[type[_Tab], ...] = (ActivationsTab, FiltersTab, WeightsTab, GradientsTab, ActivationFnTab)
TAB_TITLES: tuple[str, ...] = ("Activations", "Filters", "Weights", "Gradients", "Activation function")
