"""The Dashboard: one tab bar over a shared state, one module per tab.

- :mod:`~nbexplain.widgets.dashboard.dashboard`: :class:`Dashboard`, the container (the progress
  bar, the tab bar, the public API) and :data:`TAB_CLASSES`, the tabs in the order shown.
- :mod:`~nbexplain.widgets.dashboard.state`: :class:`DashboardState`, what the tabs share: the
  sample shown (``index``), its what-if edit (``edited``), the explorer's ``filter``, the chosen
  ``methods``, the ``tab`` shown, and the handles every tab needs (``session``, ``runner``,
  ``global_samples``). A ``traitlets.HasTraits``, not a widget: nothing of it is synced.
- :mod:`~nbexplain.widgets.dashboard.tab`: :class:`DashboardTab`, the protocol of a tab.
- The tabs: :mod:`~nbexplain.widgets.dashboard.explore` (with
  :mod:`~nbexplain.widgets.dashboard.explore_edit`, the what-if edits),
  :mod:`~nbexplain.widgets.dashboard.global_tab`, :mod:`~nbexplain.widgets.dashboard.errors_tab`,
  :mod:`~nbexplain.widgets.dashboard.surrogate_tab`.

Tabs never call each other: each observes the state (``self.watch(handler, names=[...])``) and
sets it (``state.select(i)`` shows a sample, ``state.filter = ...`` filters the explorer,
``state.tab = "Explore"`` brings a tab forward).

**Adding a tab** takes one module and one line. The module holds a :class:`DashboardTab`
subclass: ``title`` (the tab bar's text), ``name`` (``dash.tab(name)`` finds it), ``kinds``
(the kinds of data it is offered for: ``"table"``, ``"image"``, ``"text"``), ``build()`` (the
page: a cheap box, made once), ``on_open()`` (called each time the tab is selected: make the
charts and submit the work to ``self.runner`` the first time), optionally ``compute()`` (what
``Dashboard.compute_global()`` starts; default ``on_open()``) and ``close()`` (call
``super().close()``). Then add the class to ``TAB_CLASSES`` in
:mod:`~nbexplain.widgets.dashboard.dashboard`. A tab that shows the prediction of the sample
shown, as it is edited:

    >>> import ipywidgets, numpy as np
    >>> from nbexplain.session import ExplainSession
    >>> from nbexplain.tasks import TaskRunner
    >>> class PredictionTab(DashboardTab):
    ...     title, name, kinds = "Prediction", "prediction", ("table",)
    ...     def build(self):
    ...         self.label = ipywidgets.Label("open this tab to see the prediction")
    ...         self.watch(lambda _change: self.on_open(), names=["index", "edited"])
    ...         return ipywidgets.VBox([self.label])
    ...     def on_open(self):
    ...         i, edited = self.state.index, self.state.edited
    ...         row = self.session.X[i] if edited is None else edited
    ...         p = self.session.predict(np.asarray(row)[None])[0]
    ...         self.label.value = f"sample {i}{' (edited)' if edited is not None else ''}: P = {p[1]:.2f}"
    >>> X = np.array([[0.0, 1.0], [2.0, -1.0]])
    >>> f = lambda A: np.c_[1 / (1 + np.exp(A[:, 0])), 1 - 1 / (1 + np.exp(A[:, 0]))]
    >>> state = DashboardState(ExplainSession(f, X, methods=["kernel_shap"], background=X), TaskRunner(sync=True))
    >>> tab = PredictionTab(state); page = tab.widget
    >>> state.select(1); tab.label.value
    'sample 1: P = 0.88'
    >>> state.edited = np.array([0.0, 0.0]); tab.label.value
    'sample 1 (edited): P = 0.50'
    >>> PredictionTab.offered_for("image"), tab_names("table")[-1]
    (False, 'Trust')

and in ``dashboard.py``: ``TAB_CLASSES = [ExploreTab, GlobalTab, ErrorsTab, SurrogateTab, TrustTab, PredictionTab]``.
"""

from .dashboard import TAB_CLASSES, TABS, Dashboard, tab_classes, tab_names
from .state import EXPLORE, DashboardState
from .tab import KINDS, DashboardTab

__all__ = [
    "EXPLORE",
    "KINDS",
    "TABS",
    "TAB_CLASSES",
    "Dashboard",
    "DashboardState",
    "DashboardTab",
    "tab_classes",
    "tab_names",
]
