"""The nbexplain widgets: heatmaps, feature bars, explorers, the Dashboard and the model anatomy.

All nbexplain views are drawn by one offline front-end bundle; arrays travel as binary buffers.
The standard charts of the global views (bars, lines) are bqplot figures.

Example:
    >>> from nbexplain.widgets import Dashboard, Heatmap, FeatureBars
    >>> Dashboard(model, X_test, y_test)                    # doctest: +SKIP
    >>> Heatmap.from_explanation(e[0])                      # doctest: +SKIP
    >>> FeatureBars.what_if(model, X[0], data=X)            # doctest: +SKIP
"""

from ._rerun import set_close_on_rerun
from .anatomy import LayerInspector, ModelAnatomy
from .attention_view import AttentionView
from .beeswarm import Beeswarm
from .channel_grid import ChannelGrid
from .compare_view import CompareView
from .confusion_matrix import ConfusionMatrix
from .dashboard import Dashboard
from .feature_bars import FeatureBars
from .global_views import BiasView, ImportanceBars, PDPView, SurrogateView
from .gradcam_layers_view import GradCAMLayersView
from .heatmap import CMAPS, Heatmap
from .ig_path_view import IGPathView
from .lime_neighbourhood_view import LimeNeighbourhoodView
from .model_graph import ModelGraphView
from .progress import TaskProgress
from .sample_browser import SampleBrowser
from .sample_explorer import SampleExplorer
from .sample_panel import SamplePanel
from .sample_table import SampleTable
from .shapley_view import ShapleyView
from .text_tokens import TextTokens
from .trust_view import TrustView

__all__ = [
    "CMAPS",
    "AttentionView",
    "Beeswarm",
    "BiasView",
    "ChannelGrid",
    "CompareView",
    "ConfusionMatrix",
    "Dashboard",
    "FeatureBars",
    "GradCAMLayersView",
    "Heatmap",
    "IGPathView",
    "ImportanceBars",
    "LayerInspector",
    "LimeNeighbourhoodView",
    "ModelAnatomy",
    "ModelGraphView",
    "PDPView",
    "SampleBrowser",
    "SampleExplorer",
    "SamplePanel",
    "SampleTable",
    "ShapleyView",
    "SurrogateView",
    "TaskProgress",
    "TextTokens",
    "TrustView",
    "set_close_on_rerun",
]
