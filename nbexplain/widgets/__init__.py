"""The nbexplain widgets: attribution heatmaps, feature bars, a sample panel and a sample explorer.

All views are drawn by one offline front-end bundle; arrays travel as binary buffers.

Example:
    >>> from nbexplain.widgets import Heatmap, FeatureBars, SamplePanel, SampleExplorer
    >>> Heatmap.from_explanation(e[0])                      # doctest: +SKIP
    >>> FeatureBars.what_if(model, X[0], data=X)            # doctest: +SKIP
"""

from .feature_bars import FeatureBars
from .heatmap import CMAPS, Heatmap
from .sample_explorer import SampleExplorer
from .sample_panel import SamplePanel

__all__ = ["CMAPS", "FeatureBars", "Heatmap", "SampleExplorer", "SamplePanel"]
