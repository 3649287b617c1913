"""Dashboard: browse, compare, what-if and diagnose a model inline, for tables, images and text.

One widget with tabs. **Explore**: filters and a paged sample table (only the page shown crosses
the wire; one navigation: the pager with a go-to box), the sample with its prediction, one to
four explanation methods side by side with their agreement, and what-if editing (table sliders
and dropdowns, image patches clicked away, text tokens clicked away) with live re-prediction.
**Global**: mean |attribution| bars, a beeswarm and PDP/ICE curves. **Errors & bias**: a
confusion matrix whose cells filter the explorer, train-vs-test and per-slice metrics.
**Surrogate** (tables only): the global linear surrogate and its fidelity. Computation runs on a
background worker (:class:`nbexplain.tasks.TaskRunner`): the notebook stays usable; a method
being computed says so in its own panel (with a cancel button) while the others stay drawn, and
the other long tasks show a progress bar with a cancel button.

The Dashboard is a container: a progress bar over a tab bar whose tabs are the classes of
:data:`TAB_CLASSES` offered for the kind of data, each a
:class:`~nbexplain.widgets.dashboard.tab.DashboardTab` over one shared
:class:`~nbexplain.widgets.dashboard.state.DashboardState` (see :mod:`nbexplain.widgets.dashboard`).

Example:
    >>> tab_names("table"), tab_names("image")
    (('Explore', 'Global', 'Errors & bias', 'Surrogate', 'Trust'), ('Explore', 'Global', 'Errors & bias', 'Trust'))
"""

from __future__ import annotations

from typing import Any, cast

import ipywidgets
import numpy as np
import traitlets

from ...session import ExplainSession
from ...tasks import TaskRunner
from .._base import ClosesTree, close_tree
from ..chart_layout import LazyTab
from ..progress import TaskProgress
from .errors_tab import ErrorsTab
from .explore import EXPLAIN_LABEL, ExploreTab
from .global_tab import GlobalTab
from .state import DashboardState
from .surrogate_tab import SurrogateTab
from .tab import DashboardTab
from .trust_tab import TrustTab

__all__ = ["TABS", "TAB_CLASSES", "Dashboard", "tab_names"]

#: The tabs, in the order shown; each is offered for the kinds of data in its ``kinds``.
#: Add a tab here (see :mod:`nbexplain.widgets.dashboard`); the Explore tab stays first.
TAB_CLASSES: list[type[DashboardTab]] = [ExploreTab, GlobalTab, ErrorsTab, SurrogateTab, TrustTab]


def tab_classes(kind: str) -> list[type[DashboardTab]]:
    """The tab classes of a Dashboard on ``kind`` data, in order.

    Example:
        >>> [c.__name__ for c in tab_classes("text")]
        ['ExploreTab', 'GlobalTab', 'ErrorsTab', 'TrustTab']
    """
    return [cls for cls in TAB_CLASSES if cls.offered_for(kind)]


def tab_names(kind: str) -> tuple[str, ...]:
    """The tab titles of a Dashboard on ``kind`` data (no Surrogate tab unless it is a table).

    Example:
        >>> tab_names("text")
        ('Explore', 'Global', 'Errors & bias', 'Trust')
    """
    return tuple(cls.title for cls in tab_classes(kind))


#: The tabs of a table Dashboard (images and texts have no Surrogate tab).
TABS = tab_names("table")


def _check_unique(classes: list[type[DashboardTab]]) -> None:
    """Refuse a tab without a title, or two tabs with one title or one name (the tab bar and
    ``dash.tab(name)`` tell them apart by these).

    Example:
        >>> class Untitled(DashboardTab):
        ...     pass
        >>> _check_unique([ExploreTab, Untitled])
        Traceback (most recent call last):
        ...
        ValueError: TAB_CLASSES: Untitled has no title; set title = "..." on the class
    """
    for cls in classes:
        if not cls.title:
            raise ValueError(f'TAB_CLASSES: {cls.__name__} has no title; set title = "..." on the class')
    for what, values in (("title", [c.title for c in classes]), ("name", [c.key() for c in classes])):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"TAB_CLASSES: the {what} {twice[0]!r} is used by more than one tab; "
                             f"give each tab class its own {what}")


def _part(tab: str, attr: str, doc: str, settable: bool = False) -> property:
    """An attribute of the Dashboard that is a tab's (None when the tab is not offered)."""

    def get(self: Dashboard) -> Any:
        found = self._by_key.get(tab)
        return None if found is None else getattr(found, attr)

    def set_(self: Dashboard, value: Any) -> None:
        setattr(self._by_key[tab], attr, value)

    return property(get, set_ if settable else None, doc=doc)


class Dashboard(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """The nbexplain dashboard for one model and one data set.

    ``model``: a torch module, an estimator with ``predict_proba`` or a callable returning class
    probabilities or logits; for text, an object whose ``predict_proba(list[str])`` works (see
    :func:`nbexplain.text.train_text_classifier`), or a ``transformers`` classifier with its
    ``tokenizer=`` (Integrated Gradients on its embeddings beside token SHAP, on the same words).
    ``preprocess=``: for images a model expects normalised, the normalisation (the model and every
    method get ``preprocess(x)``; the pictures, maps and patch what-if stay as ``X`` shows them).
    ``store=``: a dataset-wide explanation of ``X`` (``nbx.explain_dataset``): its method comes
    first, its explanations and the Global tab's views are read from the store, not computed.
    ``X``: a table ``(n, F)``, images
    ``(n, C, H, W)`` / ``(n, H, W)`` or a list of texts; ``y``: class indices (enables the
    misclassified filter, the confusion matrix and the bias view). ``methods``: one to four
    registry names shown side by side (``"auto"`` picks two for the kind of data).
    ``images``: display pictures for image data (uint8, same H, W), else ``X`` min-max scaled.
    ``patch``: side in pixels of the square an image click hides (default about 1/8 of the image).
    ``categorical``: ``{feature: [values]}`` or ``{feature: {value: label}}``: what-if dropdowns.
    A pandas DataFrame ``X`` (with a scikit-learn Pipeline as the model, say) is explained in its
    own columns: names from the frame, its string / categorical / bool columns shown as strings
    and offered as what-if menus of their categories, missing values kept for the model
    (:class:`~nbexplain.session.ExplainSession`).
    ``global_samples``: samples explained for the global views (seeded subsample).
    ``sync=True`` computes in the calling thread (scripts, doctests); the default runs a
    background worker, and :meth:`wait` blocks until it is idle.

    The tabs share ``dash.state`` (:class:`~nbexplain.widgets.dashboard.state.DashboardState`);
    ``dash.tab(name)`` is one tab. The parts of the tabs are attributes here too: ``browser``,
    ``panel``, ``compare``, ``method_picker``, ``reset_button`` (Explore), ``importance``,
    ``beeswarm``, ``pdp``, ``global_map`` (Global), ``confusion``, ``bias`` (Errors & bias),
    ``surrogate_view`` (Surrogate; None for images and texts).

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
        >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # P(class 1) rises with x0
        >>> dash = Dashboard(f, X, y, methods=["kernel_shap"], class_names=["no", "yes"], sync=True, global_samples=8)
        >>> dash.index    # the first sample is shown
        0
        >>> dash.select(2); dash.index
        2
        >>> _ = dash.browser.set_filter(misclassified=True); dash.index      # now the first misclassified one
        0
        >>> dash.session.predicted[0], y[0]
        (np.int64(1), np.int64(0))
        >>> dash.compute_global(); dash.wait()     # every tab's global views (sync=True: already done)
        True
        >>> type(dash.beeswarm).__name__, type(dash.confusion).__name__
        ('Beeswarm', 'ConfusionMatrix')
    """

    index = traitlets.Int(-1, help="int: the sample shown (-1 before the first is shown); follows state.index.")

    def __init__(
        self,
        model: Any,
        X: Any,
        y: Any = None,
        *,
        methods: Any = "auto",
        feature_names: Any = None,
        class_names: Any = None,
        background: Any = None,
        X_train: Any = None,
        y_train: Any = None,
        categorical: dict[Any, Any] | None = None,
        images: Any = None,
        patch: int | None = None,
        global_samples: int = 500,
        page_size: int = 15,
        index: int | None = None,
        title: str = "",
        sync: bool = False,
        seed: int = 0,
        tokenizer: Any = None,
        preprocess: Any = None,
        store: Any = None,
    ) -> None:
        if not isinstance(global_samples, int) or global_samples < 1:
            raise ValueError(f"global_samples must be a positive int, got {global_samples!r}")
        self.session = ExplainSession(
            model, X, y, methods=methods, feature_names=feature_names, class_names=class_names,
            background=background, X_train=X_train, y_train=y_train, categorical=categorical, seed=seed,
            tokenizer=tokenizer, preprocess=preprocess, store=store,
        )
        s = self.session
        self.kind = s.kind
        classes = tab_classes(s.kind)
        _check_unique(classes)  # before anything is built
        self.global_samples = global_samples
        if patch is not None and (not isinstance(patch, int) or patch < 1):
            raise ValueError(f"patch must be a positive int (pixels per side of a what-if patch), got {patch!r}")
        self.patch = patch
        self.images = None if images is None else np.asarray(images)
        if self.images is not None and self.images.shape[0] != s.n_samples:
            raise ValueError(f"images has {self.images.shape[0]} pictures but X has {s.n_samples} samples")
        s.probabilities()  # every sample's prediction, once (failures isolated per sample)
        self.runner = TaskRunner(sync=sync)
        # The sample's explanations show their progress in their own panels, not in this bar.
        self.progress = TaskProgress(self.runner,
                                     ignore=lambda task: str(task["label"]).startswith(EXPLAIN_LABEL))
        #: What the tabs share: the sample shown, its edit, the filter, the methods, the tab shown.
        self.state = DashboardState(s, self.runner, global_samples=global_samples, images=self.images,
                                    patch=patch, page_size=page_size)
        self._tabs: list[DashboardTab] = [cls(self.state) for cls in classes]
        self._by_key = {t.key(): t for t in self._tabs}
        self.state.titles = tuple(t.title for t in self._tabs)
        self.state.tab = self._tabs[0].title
        # a closed tab's bqplot charts wait for its first open (see LazyTab)
        self.tabs = LazyTab(children=[t.widget for t in self._tabs])
        for i, t in enumerate(self._tabs):
            self.tabs.set_title(i, t.title)
        self.tabs.observe(self._on_tab, names=["selected_index"])
        self.state.observe(self._on_state_tab, names=["tab"])
        header = [ipywidgets.Label(title)] if title else []
        super().__init__([*header, self.progress, self.tabs])
        self.add_class("nbx-dashboard")
        self._index_link = traitlets.dlink((self.state, "index"), (self, "index"))
        start = int(self.browser.selected) if index is None else int(index)
        if index is not None:
            self.select(index)
        elif start >= 0:
            self.state.select(start)

    # -- the tabs' parts, as attributes ---------------------------------------------------------------
    browser = _part("explore", "browser", "SampleBrowser: the filters and the paged sample table.")
    panel = _part("explore", "panel", "SamplePanel: the sample shown and its prediction.")
    compare = _part("explore", "compare", "CompareView: the methods side by side.")
    method_picker = _part("explore", "method_picker", "MethodPicker: the methods shown.")
    reset_button = _part("explore", "reset_button", "Button: undo the what-if edits.")
    edit_hint = _part("explore", "edit_hint", "Label: how to edit the sample.")
    explore = _part("explore", "widget", "The Explore tab's page.")
    timings = _part("explore", "timings", "deque of (what, milliseconds) of recent kernel-side work: \"select\" "
                    "(a sample shown), \"explain\" (a worker explanation), for benchmarks; the last 200.",
                    settable=True)
    global_box = _part("global", "widget", "The Global tab's page.")
    importance = _part("global", "importance", "ImportanceBars of the Global tab (None before it is computed).")
    beeswarm = _part("global", "beeswarm", "Beeswarm of the Global tab (tables; None before it is computed).")
    pdp = _part("global", "pdp", "PDPView of the Global tab (tables; None before it is computed).")
    global_map = _part("global", "global_map", "Heatmap of mean |attribution| (images; None until computed).")
    _pdp_result = _part("global", "pdp_result", "The partial dependence drawn in the Global tab.")
    errors_box = _part("errors", "widget", "The Errors & bias tab's page.")
    confusion = _part("errors", "confusion", "ConfusionMatrix (None without labels).")
    bias = _part("errors", "bias", "BiasView (None before it is computed).")
    surrogate_box = _part("surrogate", "widget", "The Surrogate tab's page (None unless the data is a table).")
    surrogate_view = _part("surrogate", "surrogate_view", "SurrogateView (None before it is fitted).")

    # -- public ---------------------------------------------------------------------------------
    def tab(self, name: str) -> DashboardTab:
        """The tab named ``name`` (its ``name``, e.g. ``"global"``, or its title).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # P(class 1) rises with x0
            >>> dash = Dashboard(f, X, y, methods=["kernel_shap"], sync=True, global_samples=8)
            >>> [t.title for t in dash._tabs]
            ['Explore', 'Global', 'Errors & bias', 'Surrogate', 'Trust']
            >>> dash.tab("global").beeswarm is None     # not computed before the tab is opened
            True
            >>> dash.tab("Global") is dash.tab("global")
            True
        """
        found = self._by_key.get(name) or next((t for t in self._tabs if t.title == name), None)
        if found is None:
            raise KeyError(f"this Dashboard has no tab {name!r}; its tabs are {list(self._by_key)}")
        return found

    def select(self, i: int) -> None:
        """Show sample ``i`` (clears filters that hide it).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # P(class 1) rises with x0
            >>> dash = Dashboard(f, X, y, methods=["kernel_shap"], sync=True, global_samples=8)
            >>> dash.select(12); dash.index
            12
        """
        i = int(i)
        if not 0 <= i < self.session.n_samples:
            raise IndexError(f"sample {i} is out of range: 0..{self.session.n_samples - 1}")
        self.browser.select(i)
        self.state.select(i)

    @property
    def methods(self) -> list[str]:
        """The methods shown side by side (set to change them; one to four).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # P(class 1) rises with x0
            >>> dash = Dashboard(f, X, y, methods=["kernel_shap"], sync=True, global_samples=8)
            >>> dash.methods
            ['kernel_shap']
            >>> dash.methods = ["kernel_shap", "lime_batched"]; sorted(dash.explanations())
            ['kernel_shap', 'lime_batched']
        """
        return list(self.state.methods)

    @methods.setter
    def methods(self, names: Any) -> None:
        names = [names] if isinstance(names, str) else list(names)
        try:
            self.method_picker.value = tuple(names)  # validated by the picker; the state follows it
        except traitlets.TraitError as exc:
            raise ValueError(f"methods: {exc}") from None

    def explanations(self) -> dict[str, Any]:
        """The explanations shown now, by method (exceptions for methods that failed); a method
        still computing is absent until it is done (:meth:`wait`).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # P(class 1) rises with x0
            >>> dash = Dashboard(f, X, y, methods=["kernel_shap"], sync=True, global_samples=8)
            >>> dash.explanations()["kernel_shap"].values.shape    # one value per feature
            (3,)
        """
        return self._explore_tab.explanations()

    def wait(self, timeout: float | None = 120.0) -> bool:
        """Block until the background worker is idle (for scripts, tests and notebooks run top to bottom).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # P(class 1) rises with x0
            >>> dash = Dashboard(f, X, y, methods=["kernel_shap"], global_samples=8)
            >>> dash.select(3); dash.wait()     # a background worker computes; wait() blocks until it is idle
            True
            >>> dash.explanations()["kernel_shap"].values.shape
            (3,)
            >>> dash.close()
        """
        return bool(self.runner.wait(timeout))

    def compute_global(self) -> None:
        """Start every tab's computation on the worker (the global views, errors and bias, the surrogate).

        Opening a tab starts its own computation too; call this (then :meth:`wait`) before a
        notebook is saved or exported, so the saved page holds every tab.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # P(class 1) rises with x0
            >>> dash = Dashboard(f, X, y, methods=["kernel_shap"], sync=True, global_samples=8)
            >>> dash.importance is None
            True
            >>> dash.compute_global(); dash.wait()
            True
            >>> type(dash.importance).__name__, type(dash.surrogate_view).__name__
            ('ImportanceBars', 'SurrogateView')
        """
        for t in self._tabs:
            t.compute()

    def close(self) -> None:
        """Stop the worker and close every widget the dashboard made (layouts and styles too).

        Afterwards nothing refers to the dashboard any more (ipywidgets' registry, the worker
        thread), so it is freed with its data once the notebook drops its last reference.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # P(class 1) rises with x0
            >>> dash = Dashboard(f, X, y, methods=["kernel_shap"], sync=True, global_samples=8)
            >>> dash.close(); dash.comm is None, dash.browser.comm is None
            (True, True)
        """
        close_tree(self)

    def _release(self) -> None:
        """Called by :func:`close_tree` before the widget closes: stop the worker, close the tabs."""
        runner = self.__dict__.get("runner")
        if runner is not None:
            runner.close()
        for t in self.__dict__.get("_tabs", ()):
            t.close()
        link = self.__dict__.get("_index_link")
        if link is not None:
            link.unlink()
        state = self.__dict__.get("state")
        if state is not None:
            state.unobserve_all()

    # -- the tabs' event handlers under their old names (tests and notebooks call them) ---------------
    @property
    def _explore_tab(self) -> ExploreTab:
        return cast(ExploreTab, self._by_key["explore"])

    @property
    def _edit(self) -> Any:
        return self._explore_tab.whatif.mask

    @property
    def _edited_input(self) -> Any:
        return self.state.edited

    def _tokens(self, i: int) -> list[str]:
        return self._explore_tab.whatif.tokens(i)

    def _on_patch_click(self, msg: dict[str, Any]) -> None:
        self._explore_tab.whatif.on_patch_click(msg)

    def _on_token_toggle(self, msg: dict[str, Any]) -> None:
        self._explore_tab.whatif.on_token_toggle(msg)

    def _on_cell(self, msg: dict[str, Any]) -> None:
        cast(ErrorsTab, self._by_key["errors"]).on_cell(msg)

    # -- the tab bar and the state ------------------------------------------------------------------
    def _on_tab(self, change: Any) -> None:
        i = int(change["new"] or 0)
        if 0 <= i < len(self._tabs):
            self.state.tab = self._tabs[i].title
            self._tabs[i].on_open()

    def _on_state_tab(self, change: Any) -> None:
        i = self.state.titles.index(change["new"])
        if self.tabs.selected_index != i:
            self.tabs.selected_index = i
