"""DashboardState: what the Dashboard's tabs share (the sample shown, its edit, the filter, the methods).

One small ``traitlets.HasTraits`` object (not a widget: nothing of it crosses the wire) that
every tab of :class:`~nbexplain.widgets.dashboard.Dashboard` reads and observes
(``state.observe(handler, names=[...])``) instead of calling the other tabs. A tab changes
what is shown by setting the state: the confusion matrix sets ``filter`` and brings the Explore
tab forward with ``tab``; the beeswarm calls :meth:`DashboardState.select`; the Explore tab
shows whatever ``index`` and ``edited`` say, and the Global tab draws that sample's ICE line.

Besides the traits, the state carries the handles every tab needs: the
:class:`~nbexplain.session.ExplainSession` (the model, the data and every computation), the
background :class:`~nbexplain.tasks.TaskRunner` and the Dashboard's options
(``global_samples``, ``images``, ``patch``, ``page_size``).

Example:
    >>> import numpy as np
    >>> from nbexplain.session import ExplainSession
    >>> from nbexplain.tasks import TaskRunner
    >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 - 1 / (1 + np.exp(X[:, 0]))]
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> state = DashboardState(ExplainSession(f, X, methods=["kernel_shap"]), TaskRunner(sync=True))
    >>> seen = []
    >>> state.observe(lambda c: seen.append((c["name"], c["new"])), names=["index"])
    >>> state.select(4); state.index, state.edited, seen
    (4, None, [('index', 4)])
    >>> state.edited = X[4] + 1.0; state.select(7); state.edited is None   # a new sample drops the edit
    True
"""

from __future__ import annotations

from typing import Any

import traitlets

from ...diagnostics.browse import SampleFilter

__all__ = ["EXPLORE", "DashboardState", "Edit"]

#: The title of the tab that shows one sample; a tab that jumps to a sample brings it forward
#: with ``state.tab = EXPLORE``.
EXPLORE = "Explore"


class Edit(traitlets.Any):
    """A trait compared by identity: every new object is a change, also one equal to the last.

    An edit is made anew by each click or slider move; two edits of equal value (the same text
    after different words were dropped) are still two edits, and observers must hear of both.

    Example:
        >>> class T(traitlets.HasTraits):
        ...     e = Edit(None)
        >>> t, seen = T(), []
        >>> t.observe(lambda c: seen.append(c["new"]), names=["e"])
        >>> a = "x y"; t.e = a; t.e = "".join(["x", " y"]); t.e = t.e; len(seen)
        2
    """

    def set(self, obj: Any, value: Any) -> None:
        new = self._validate(obj, value)
        old = obj._trait_values.get(self.name, self.default_value)
        obj._trait_values[self.name] = new
        if new is not old:
            obj._notify_trait(self.name, old, new)


class DashboardState(traitlets.HasTraits):
    """The state the Dashboard's tabs share; observe its traits, set them to change what is shown.

    ``session``: the :class:`~nbexplain.session.ExplainSession`; ``runner``: the background
    :class:`~nbexplain.tasks.TaskRunner` (submit long work there: it shows in the Dashboard's
    progress bar with a cancel button); ``global_samples``: how many samples the global views
    explain; ``images``: display pictures for image data (or None); ``patch``: the side of a
    what-if patch in pixels (or None); ``page_size``: rows per page of the sample table.
    ``methods`` is set by the Explore tab's method picker (``dash.methods = [...]`` validates the
    names; ``session.methods`` follows); ``filter`` is the Explore tab's browser filter, both ways.

    Example:
        >>> import numpy as np
        >>> from nbexplain.session import ExplainSession
        >>> from nbexplain.tasks import TaskRunner
        >>> X = np.random.default_rng(0).normal(size=(20, 3))
        >>> f = lambda A: np.c_[1 / (1 + np.exp(A[:, 0])), 1 - 1 / (1 + np.exp(A[:, 0]))]
        >>> state = DashboardState(ExplainSession(f, X, methods=["kernel_shap"]), TaskRunner(sync=True))
        >>> state.kind, state.index, state.methods, state.tab, state.filter.misclassified
        ('table', -1, ('kernel_shap',), 'Explore', False)
        >>> state.titles = ("Explore", "Global"); state.tab = "Global"; state.tab
        'Global'
        >>> state.tab = "Trust"
        Traceback (most recent call last):
        ...
        traitlets.traitlets.TraitError: tab 'Trust' is not a tab of this Dashboard; its tabs are ['Explore', 'Global']
    """

    index = traitlets.Int(-1, help="int: the sample shown (-1 before the first is shown); see select().")
    edited = Edit(None, help="the edited input of the sample shown (a row, an image or a text), or None: "
                             "the sample as it is in the data set.")
    filter = traitlets.Instance(SampleFilter, args=(), help="SampleFilter: the explorer's filter of the samples.")
    methods = traitlets.Tuple(help="tuple of str: the methods shown side by side, in order (the first is the "
                                   "what-if method and the one the global views use).")
    tab = traitlets.Unicode(EXPLORE, help="str: the title of the tab shown; set it to bring a tab forward.")
    badges = traitlets.Dict(help="dict: the Trust tab's badges for one sample, {'index': i, 'texts': {method: "
                                 "text}}; the Explore tab shows them while that sample is shown unedited.")

    def __init__(self, session: Any, runner: Any, *, global_samples: int = 500, images: Any = None,
                 patch: int | None = None, page_size: int = 15) -> None:
        super().__init__()
        #: The ExplainSession: the model, the data and every computation of the Dashboard.
        self.session = session
        #: The background TaskRunner every tab submits its long work to.
        self.runner = runner
        self.global_samples = int(global_samples)
        self.images = images
        self.patch = patch
        self.page_size = int(page_size)
        #: The titles of the Dashboard's tabs (``tab`` must be one of them); set by the Dashboard.
        self.titles: tuple[str, ...] = ()
        self.methods = tuple(session.methods)

    @property
    def kind(self) -> str:
        """``"table"``, ``"image"`` or ``"text"``: the kind of data (the session's)."""
        return str(self.session.kind)

    def select(self, i: int) -> None:
        """Show sample ``i``: ``edited`` goes back to None and ``index`` becomes ``i`` together.

        Selecting the sample already shown keeps its edit and tells the observers of ``index``
        again (the Explore tab then reveals it in the table, clearing a filter that hides it).

        Example:
            >>> import numpy as np
            >>> from nbexplain.session import ExplainSession
            >>> from nbexplain.tasks import TaskRunner
            >>> X = np.random.default_rng(0).normal(size=(20, 3))
            >>> f = lambda A: np.c_[1 / (1 + np.exp(A[:, 0])), 1 - 1 / (1 + np.exp(A[:, 0]))]
            >>> state = DashboardState(ExplainSession(f, X, methods=["kernel_shap"]), TaskRunner(sync=True))
            >>> state.select(2); state.edited = X[2] * 2; state.select(2); state.edited is None   # kept
            False
            >>> state.select(5); state.index, state.edited
            (5, None)
        """
        i = int(i)
        if i == self.index:
            self.notify_change(traitlets.Bunch(name="index", old=i, new=i, owner=self, type="change"))
            return
        with self.hold_trait_notifications():
            self.edited = None
            self.index = i

    @traitlets.validate("tab")
    def _valid_tab(self, proposal: dict[str, Any]) -> str:
        title = str(proposal["value"])
        if self.titles and title not in self.titles:
            raise traitlets.TraitError(f"tab {title!r} is not a tab of this Dashboard; "
                                       f"its tabs are {list(self.titles)}")
        return title

    @traitlets.observe("index")
    def _drop_edit(self, change: dict[str, Any]) -> None:
        if change["new"] != change["old"]:
            self.edited = None  # an edit belongs to the sample it was made on

    @traitlets.observe("methods")
    def _session_methods(self, change: dict[str, Any]) -> None:
        self.session.methods = list(change["new"])
