"""DashboardTab: the protocol of one Dashboard tab (a page over the shared DashboardState).

A tab is a plain object (not a widget) made with the Dashboard's
:class:`~nbexplain.widgets.dashboard.state.DashboardState` and nothing else. The Dashboard asks
for its page (:attr:`DashboardTab.widget`, made once by :meth:`DashboardTab.build`), calls
:meth:`DashboardTab.on_open` each time the tab is selected, :meth:`DashboardTab.compute` from
``Dashboard.compute_global()`` and :meth:`DashboardTab.close` when it closes. A tab never calls
another tab: it observes the state (:meth:`DashboardTab.watch`) and sets it.

Keep the page cheap to make (a box with a line of text); make the charts and start the work in
``on_open`` (the tab bar draws a page in the browser only while it is open, see
:class:`~nbexplain.widgets.chart_layout.LazyTab`). Long work goes to ``self.runner`` (it shows in
the Dashboard's progress bar, with a cancel button) and is drawn from its ``on_done``.

Example:
    >>> import ipywidgets, numpy as np
    >>> from nbexplain.session import ExplainSession
    >>> from nbexplain.tasks import TaskRunner
    >>> from nbexplain.widgets.dashboard.state import DashboardState
    >>> class Shown(DashboardTab):
    ...     title = "Shown"
    ...     def build(self):
    ...         self.label = ipywidgets.Label("no sample yet")
    ...         self.watch(lambda _c: setattr(self.label, "value", f"sample {self.state.index}"), names=["index"])
    ...         return ipywidgets.VBox([self.label])
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> f = lambda A: np.c_[1 / (1 + np.exp(A[:, 0])), 1 - 1 / (1 + np.exp(A[:, 0]))]
    >>> state = DashboardState(ExplainSession(f, X, methods=["kernel_shap"]), TaskRunner(sync=True))
    >>> tab = Shown(state); page = tab.widget; state.select(3); tab.label.value
    'sample 3'
    >>> tab.close(); state.select(4); tab.label.value, page.comm is None    # closed: no longer follows
    ('sample 3', True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from .._base import close_tree

__all__ = ["KINDS", "DashboardTab"]

#: The kinds of data a Dashboard shows.
KINDS = ("table", "image", "text")


class DashboardTab:
    """One tab of the Dashboard: its title, the kinds of data it is offered for, its page.

    Subclasses set :attr:`title` (and :attr:`name`, :attr:`kinds`), implement :meth:`build`, and
    override :meth:`on_open` (start the tab's work the first time it is opened; it is called on
    every opening, so keep it idempotent) and, if they hold more than their page, :meth:`close`
    (calling ``super().close()``). ``state``: the Dashboard's
    :class:`~nbexplain.widgets.dashboard.state.DashboardState`.

    Example:
        >>> class Notes(DashboardTab):
        ...     title, name, kinds = "Notes", "notes", ("table",)
        ...     def build(self):
        ...         import ipywidgets
        ...         return ipywidgets.Label("open me")
        >>> Notes.offered_for("table"), Notes.offered_for("image")
        (True, False)
    """

    #: The title in the tab bar (unique within a Dashboard).
    title: ClassVar[str] = ""
    #: A short lowercase identifier: ``dash.tab(name)`` returns the tab (default: the title, lowercased).
    name: ClassVar[str] = ""
    #: The kinds of data (of :data:`KINDS`) the tab is offered for.
    kinds: ClassVar[tuple[str, ...]] = KINDS

    def __init__(self, state: Any) -> None:
        #: The DashboardState shared by every tab of the Dashboard.
        self.state = state
        self._page: Any = None
        self._watching: list[tuple[Callable[[Any], Any], list[str]]] = []
        self._closed = False

    # -- the protocol ------------------------------------------------------------------------------
    @classmethod
    def offered_for(cls, kind: str) -> bool:
        """Whether a Dashboard on ``kind`` data (``"table"``, ``"image"``, ``"text"``) has this tab.

        Example:
            >>> DashboardTab.offered_for("text")
            True
        """
        return kind in cls.kinds

    @classmethod
    def key(cls) -> str:
        """The tab's identifier: :attr:`name`, or the title lowercased.

        Example:
            >>> type("T", (DashboardTab,), {"title": "Errors & bias"}).key()
            'errors & bias'
        """
        return cls.name or cls.title.lower()

    @property
    def widget(self) -> Any:
        """The tab's page: made by :meth:`build` on first access, the same widget afterwards.

        Example:
            >>> import ipywidgets
            >>> class One(DashboardTab):
            ...     def build(self):
            ...         return ipywidgets.Label("page")
            >>> tab = One(state=None); tab.widget is tab.widget
            True
        """
        if self._page is None:
            if self._closed:
                raise RuntimeError(f"the {self.title or type(self).__name__} tab is closed")
            self._page = self.build()
        return self._page

    def build(self) -> Any:
        """Make the tab's page (a widget, cheap: a box whose content :meth:`on_open` fills)."""
        raise NotImplementedError(f"{type(self).__name__} must implement build() -> widget")

    def on_open(self) -> None:
        """The tab was selected: start what it shows (called on every opening; default: nothing)."""

    def compute(self) -> None:
        """``Dashboard.compute_global()``: compute what the tab shows, opened or not (default: :meth:`on_open`)."""
        self.on_open()

    def close(self) -> None:
        """Stop observing the state and close the page with every widget in it.

        Example:
            >>> import ipywidgets
            >>> class One(DashboardTab):
            ...     def build(self):
            ...         return ipywidgets.VBox([ipywidgets.Label("page")])
            >>> tab = One(state=None); page = tab.widget; tab.close(); page.children[0].comm is None
            True
        """
        self._closed = True
        for handler, names in self._watching:
            self.state.unobserve(handler, names=names)
        self._watching.clear()
        if self._page is not None:
            close_tree(self._page)

    # -- helpers for subclasses --------------------------------------------------------------------
    def watch(self, handler: Callable[[Any], Any], names: Sequence[str]) -> None:
        """``state.observe(handler, names=names)``, undone by :meth:`close`.

        Example:
            >>> import traitlets
            >>> class S(traitlets.HasTraits):
            ...     index = traitlets.Int(-1)
            >>> s = S(); tab = DashboardTab(s); tab.watch(lambda c: print("now", c["new"]), names=["index"])
            >>> s.index = 2
            now 2
            >>> tab.close(); s.index = 3      # no longer watched
        """
        names = list(names)
        self.state.observe(handler, names=names)
        self._watching.append((handler, names))

    @property
    def session(self) -> Any:
        """The ExplainSession (``state.session``): the model, the data, every computation."""
        return self.state.session

    @property
    def runner(self) -> Any:
        """The background TaskRunner (``state.runner``)."""
        return self.state.runner
