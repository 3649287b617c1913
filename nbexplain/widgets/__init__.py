"""The nbexplain widgets: heatmaps, feature bars, explorers, the Dashboard and the model anatomy.

All nbexplain views are drawn by one offline front-end bundle; arrays travel as binary buffers.
The standard charts of the global views (bars, lines) are bqplot figures.

Example:
    >>> from nbexplain.widgets import Dashboard, Heatmap, FeatureBars
    >>> import numpy as np
    >>> from nbexplain import Explanation
    >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] > 0).astype(int)
    >>> model = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # class probabilities
    >>> dash = Dashboard(model, X, y, methods=["kernel_shap"], sync=True)
    >>> dash.index, dash.explanations()["kernel_shap"].values.shape
    (0, (3,))
    >>> e = Explanation(np.arange(8.0).reshape(2, 2, 2))                 # two 2x2 attribution maps
    >>> Heatmap.from_explanation(e[0]).values
    array([[0., 1.],
           [2., 3.]])
    >>> bars = FeatureBars.what_if(model, X[0], data=X, explainer="kernel_shap")
    >>> bars.sample = np.array([2.0, 0.0, 0.0])     # what a slider does: re-predict and re-explain
    >>> round(bars.prediction, 2), round(float(bars.values[0]), 2)    # P(class 1) and feature 0's share
    (0.88, 0.37)
"""

from ._rerun import set_close_on_rerun
from .anatomy.channel_grid import ChannelGrid
from .anatomy.model_graph import ModelGraphView
from .anatomy.view import LayerInspector, ModelAnatomy
from .dashboard import Dashboard
from .explore.compare_view import CompareView
from .explore.sample_browser import SampleBrowser
from .explore.sample_explorer import SampleExplorer
from .overview import BiasView, ImportanceBars, PDPView, SurrogateView
from .progress import TaskProgress
from .teaching.gradcam_layers_view import GradCAMLayersView
from .teaching.ig_path_view import IGPathView
from .teaching.lime_neighbourhood_view import LimeNeighbourhoodView
from .teaching.shapley_view import ShapleyView
from .trust.view import TrustView
from .views.attention_view import AttentionView
from .views.beeswarm import Beeswarm
from .views.confusion_matrix import ConfusionMatrix
from .views.feature_bars import FeatureBars
from .views.heatmap import CMAPS, Heatmap
from .views.sample_panel import SamplePanel
from .views.sample_table import SampleTable
from .views.text_tokens import TextTokens

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
