"""Containers that lay charts out for the width they get and draw a tab page only while it is open.

``ChartRow`` puts views side by side while they fit and stacks them when they do not (a
wrapping flex row), so a chart is never squeezed to nothing beside a wide neighbour.
``LazyTab`` is an ``ipywidgets.Tab`` whose pages are drawn only while selected: bqplot 0.13
lays out a figure that is rendered inside a closed tab at zero size (negative plot sizes, a
console error per rectangle); here a closed page is simply not rendered. The switch happens in
the browser (a ``jslink`` to an ``ipywidgets.Stack`` per page), so it works without a kernel too:
in a saved notebook and in the exported HTML.

Example:
    >>> import ipywidgets
    >>> tabs = LazyTab([ipywidgets.Label("a"), ipywidgets.Label("b")], titles=["A", "B"])
    >>> tabs.pages[1].value, tabs.children[1].selected_index
    ('b', 0)
    >>> tabs.selected_index = 1; tabs.children[1].selected_index
    1
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import ipywidgets

from ._base import ClosesTree

__all__ = ["ChartRow", "LazyTab"]


class ChartRow(ClosesTree, ipywidgets.HBox):  # type: ignore[misc]
    """Views side by side while the row is wide enough for them, one under the other when not.

    A wrapping flex row (``flex-flow: row wrap``; ``js/src/css/charts.css`` adds the gaps). Each
    view keeps its own minimum width (bqplot charts made by nbexplain set one), so a view moves to
    the next line instead of shrinking. CSS class ``nbx-chart-row``.

    Example:
        >>> import ipywidgets
        >>> row = ChartRow([ipywidgets.Label("bars"), ipywidgets.Label("swarm")])
        >>> row.layout.flex_flow, "nbx-chart-row" in row._dom_classes
        ('row wrap', True)
    """

    def __init__(self, children: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(list(children), **kwargs)
        self.layout.flex_flow = "row wrap"
        self.layout.align_items = "flex-start"
        self.layout.width = "100%"
        self.add_class("nbx-chart-row")


class LazyTab(ClosesTree, ipywidgets.Tab):  # type: ignore[misc]
    """A Tab that draws each page only while it is selected (pages in ``eager`` always).

    ``children``: the pages, as for ``ipywidgets.Tab``; they are kept as ``.pages``, and
    ``.children`` holds what the Tab shows: an eager page itself, or an ``ipywidgets.Stack`` that
    shows the page while its tab is selected and an empty box otherwise. Change what a page shows
    by changing the page's own children (the pages themselves are fixed). A page's views are
    created each time its tab is opened, at the size they get then. ``eager`` defaults to the
    first page, which is open when the Tab is first drawn.

    Example:
        >>> import ipywidgets
        >>> tabs = LazyTab(children=[ipywidgets.VBox(), ipywidgets.VBox()])
        >>> tabs.set_title(1, "Global")
        >>> tabs.children[0] is tabs.pages[0], type(tabs.children[1]).__name__
        (True, 'Stack')
    """

    def __init__(self, children: Sequence[Any] = (), *, eager: Iterable[int] = (0,), **kwargs: Any) -> None:
        pages = tuple(children)
        eager_pages = {int(i) for i in eager}
        index = kwargs.get("selected_index", 0 if pages else None)
        self.pages = pages
        #: The empty box a closed lazy page shows (one, shared by every page).
        self.placeholder = ipywidgets.Box()
        stacks: dict[int, ipywidgets.Stack] = {}
        shown: list[Any] = []
        for i, page in enumerate(pages):
            if i in eager_pages:
                shown.append(page)
                continue
            slots = [page if j == i else self.placeholder for j in range(len(pages))]
            stack = ipywidgets.Stack(slots, selected_index=index, layout=ipywidgets.Layout(flex_flow="column"))
            stack.add_class("nbx-lazy-page")
            stacks[i] = stack
            shown.append(stack)
        self._stacks = stacks
        super().__init__(children=shown, **kwargs)
        # In the browser: each Stack follows the Tab's selection at once (no kernel round trip).
        self._links = [ipywidgets.jslink((self, "selected_index"), (s, "selected_index")) for s in stacks.values()]
        # In Python: the same, so a selection set here (or with no browser at all) is saved consistently.
        self.observe(self._follow, names="selected_index")

    def _follow(self, change: dict[str, Any]) -> None:
        for stack in self._stacks.values():
            if stack.selected_index != change["new"]:
                stack.selected_index = change["new"]
