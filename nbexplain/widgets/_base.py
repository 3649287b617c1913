"""The base class of every nbexplain widget: the front end, common traits, safe recomputes.

Every view is drawn by the same ES module (``nbexplain/static/widget.js``, built by
``npm run build`` or at ``pip install`` time), which travels once per kernel in a hidden
:class:`~nbexplain.widgets._bundle.FrontEnd` model; each view carries only the 1 KB stub
``static/loader.js`` and a reference to the front end (see :mod:`nbexplain.widgets._bundle`).
The synced trait ``_view`` picks the view (see ``docs/PROTOCOL.md``).

Nothing leaks over a notebook session. :func:`close_tree` closes a widget with every widget it
made (children, layouts, styles, bqplot marks, links), never the shared front end, and
:func:`replace_children` closes the children a box drops, so closed and replaced widgets leave
ipywidgets' registry and can be freed.

Example:
    >>> from nbexplain.widgets import Heatmap
    >>> w = Heatmap([[0.0, 1.0], [-1.0, 0.5]], title="toy")
    >>> w.error, w.busy
    ('', False)
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

import anywidget
import ipywidgets
import traitlets

from ._bundle import (
    CSS_PATH,
    ESM_PATH,
    LOADER_PATH,
    STATIC_DIR,
    BundleMissingError,
    bundle_built,
    bundle_error,
    bundle_text,
    front_end,
    is_shared,
)
from ._rerun import track

__all__ = [
    "CSS_PATH",
    "ESM_PATH",
    "LOADER_PATH",
    "STATIC_DIR",
    "BundleMissingError",
    "ClosesTree",
    "NbxWidget",
    "close_tree",
    "error_line",
    "replace_children",
    "widget_closure",
]

def error_line(exc: BaseException) -> str:
    """An exception as the one line views show: ``"<Type>: <message on one line>"``.

    Example:
        >>> error_line(ValueError("bad   input"))
        'ValueError: bad input'
        >>> error_line(RuntimeError())
        'RuntimeError: (no message)'
    """
    return f"{type(exc).__name__}: {' '.join(str(exc).split()) or '(no message)'}"


#: Traits that are not constructor arguments (ipywidgets internals; state Python sets itself).
_NOT_KWARGS = frozenset({"comm", "keys", "log", "busy", "error"})


class NbxWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Base of the nbexplain views: the bundle, ``_view``, ``error``, ``busy``, ``title`` and ``blank``.

    Subclasses set ``_view``. Unknown keyword arguments raise ``TypeError`` (ipywidgets would
    silently accept them). :meth:`_computing` wraps a recompute triggered from the browser so
    that a failure in user code becomes a message in ``error`` instead of a dead widget.

    Example:
        >>> class Toy(NbxWidget):
        ...     _view = traitlets.Unicode("heatmap").tag(sync=True)
        >>> Toy(title="toy").title
        'toy'
        >>> Toy(titel="toy")
        Traceback (most recent call last):
        ...
        TypeError: Toy() got unexpected keyword argument(s) 'titel'; valid ones are: blank, layout, tabbable, title, tooltip
    """

    if bundle_built():  # the stub's text, never a Path (see nbexplain.widgets._bundle)
        _esm = bundle_text(LOADER_PATH)

    #: The kernel's FrontEnd model, which carries the bundle; set by the constructor.
    _nbx_front = anywidget.WidgetTrait().tag(sync=True)
    _nbx_self = traitlets.Unicode(
        "", help="str: this widget's own model id, so the stub can tell whether its kernel is live."
    ).tag(sync=True)

    _view = traitlets.Unicode("", help="str, which view draws this model; set by each subclass.").tag(
        sync=True
    )
    error = traitlets.Unicode(
        "",
        help='str, default "": a message shown in a banner inside the widget; "" = no error.',
    ).tag(sync=True)
    busy = traitlets.Bool(
        False, help="bool, default False: Python is computing; the view shows an indicator."
    ).tag(sync=True)
    title = traitlets.Unicode("", help='str, default "": an optional heading.').tag(sync=True)
    blank = traitlets.Bool(
        False,
        help="bool, default False: the view has nothing to show yet and draws nothing. Set it "
        "in the same update as the content that ends it (``with w.hold_sync():``), so the "
        "browser never shows the old or empty content in between.",
    ).tag(sync=True)

    #: Extra keyword arguments a subclass' __init__ accepts besides traits.
    _extra_kwargs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **kwargs: Any) -> None:
        self._check_kwargs(kwargs)
        _ensure_bundle()
        model_id = uuid.uuid4().hex  # known before the comm opens: sent with the first state
        super().__init__(model_id=model_id, _nbx_front=front_end(), _nbx_self=model_id, **kwargs)
        self._event_handlers: dict[str, list[Callable[[dict[str, Any]], None]]] = {}
        self.on_msg(self._dispatch_event)
        track(self)  # a re-run of this cell closes this widget (see nbexplain.widgets._rerun)

    def close(self) -> None:
        """Close this widget and the widgets it refers to (its layout, for one).

        Example:
            >>> from nbexplain.widgets import Heatmap
            >>> w = Heatmap([[0.0, 1.0]]); layout = w.layout
            >>> w.close(); w.comm is None, layout.comm is None
            (True, True)
        """
        close_tree(self)

    # -- browser events -------------------------------------------------------------------------
    def on_event(self, name: str, callback: Callable[[dict[str, Any]], None], remove: bool = False) -> None:
        """Call ``callback(message)`` when the browser sends ``{"event": name, ...}``.

        Views send events for actions that must reach Python even when no trait changes (a
        second click on the same cell, a token toggled twice). The callback runs inside
        :meth:`_computing`, so an exception becomes this widget's ``error`` and the kernel and
        the widget keep working. ``remove=True`` unregisters it.

        Example:
            >>> from nbexplain.widgets import Heatmap
            >>> hm = Heatmap([[0.0, 1.0], [-1.0, 0.5]])
            >>> hm.on_event("click", lambda msg: print(msg["row"], msg["col"]))
            >>> hm._handle_custom_msg({"event": "click", "row": 1, "col": 0}, [])   # as the browser sends it
            1 0
            >>> hm.on_event("click", lambda msg: 1 / 0)   # a failing callback: a message, not a dead widget
            >>> hm._handle_custom_msg({"event": "click", "row": 0, "col": 0}, []); hm.error
            0 0
            'ZeroDivisionError: division by zero'
        """
        handlers = self._event_handlers.setdefault(str(name), [])
        if remove:
            if callback in handlers:
                handlers.remove(callback)
        elif callback not in handlers:
            handlers.append(callback)

    def _dispatch_event(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("event"), str):
            return
        for callback in list(self._event_handlers.get(content["event"], ())):
            with self._computing():
                callback(content)

    @classmethod
    def valid_kwargs(cls) -> list[str]:
        """The keyword arguments the constructor accepts (public traits, sorted).

        Example:
            >>> "title" in NbxWidget.valid_kwargs()
            True
        """
        names = {n for n in cls.class_trait_names() if not n.startswith("_")} - _NOT_KWARGS
        return sorted(names | set(cls._extra_kwargs))

    def _check_kwargs(self, kwargs: dict[str, Any]) -> None:
        valid = self.valid_kwargs()
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s) "
                f"{', '.join(map(repr, unknown))}; valid ones are: {', '.join(valid)}"
            )

    @contextlib.contextmanager
    def _computing(self, hint: str = "") -> Iterator[None]:
        """Run a recompute: set ``busy``, turn an exception into a one-line ``error``.

        On success ``error`` is cleared; on failure it reads
        ``"<ExceptionType>: <message> (<hint>)"`` and the exception is swallowed, so the kernel,
        the widget and its previous state stay as they were.

        Example:
            >>> from nbexplain.widgets import Heatmap
            >>> widget = Heatmap([[0.0, 1.0]])
            >>> with widget._computing("check the model"):
            ...     raise ValueError("model returned NaN")
            >>> widget.error, widget.busy
            ('ValueError: model returned NaN (check the model)', False)
        """
        self.busy = True
        try:
            with self.hold_sync():
                try:
                    yield
                except Exception as exc:
                    self.error = error_line(exc) + (f" ({hint})" if hint else "")
                else:
                    self.error = ""
        finally:
            self.busy = False


def _ensure_bundle() -> None:
    """Attach the stub to :class:`NbxWidget` if the bundle was built after import; else raise."""
    if "_esm" in NbxWidget.__dict__:
        return
    if not bundle_built():
        raise bundle_error()
    setattr(NbxWidget, "_esm", bundle_text(LOADER_PATH))  # noqa: B010 (built after import)


# -- closing widget trees ------------------------------------------------------------------------
#: Instance attributes never searched for widgets (traitlets' bookkeeping, the comm).
_SKIP_ATTRS = frozenset({"comm", "_trait_notifiers", "_trait_validators", "_event_handlers",
                         "_display_callbacks", "_msg_callbacks", "_property_lock", "_states_to_send"})


def _widgets_in(value: Any, out: list[Any], depth: int = 0) -> None:
    """Append the widgets in ``value`` (a widget, or lists, tuples and dicts of them)."""
    if isinstance(value, ipywidgets.Widget):
        if not is_shared(value):  # the front end belongs to every view, never to one tree
            out.append(value)
    elif depth < 4 and isinstance(value, (list, tuple)):
        for v in value:
            if isinstance(v, (ipywidgets.Widget, list, tuple, dict)):
                _widgets_in(v, out, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for v in value.values():
            if isinstance(v, (ipywidgets.Widget, list, tuple, dict)):
                _widgets_in(v, out, depth + 1)


def widget_closure(roots: Iterable[Any]) -> list[Any]:
    """``roots`` and every widget they refer to, through traits and instance attributes.

    Found: children, layouts, styles, bqplot figures' marks, scales and axes, and widgets a
    composite keeps as attributes (``dash.compare``, ``cv.views``); each widget once, roots first.

    Example:
        >>> import ipywidgets
        >>> box = ipywidgets.VBox([ipywidgets.Label("a")])
        >>> sorted(type(w).__name__ for w in widget_closure([box]))
        ['Label', 'LabelStyle', 'Layout', 'Layout', 'VBox']
    """
    seen: dict[int, Any] = {}
    stack: list[Any] = []
    _widgets_in(list(roots), stack)
    stack.reverse()
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen[id(w)] = w
        found: list[Any] = []
        for name, value in list(vars(w).items()):
            if name not in _SKIP_ATTRS:
                _widgets_in(value, found, 1)
        stack.extend(x for x in reversed(found) if id(x) not in seen)
    return list(seen.values())


def close_tree(*roots: Any, keep: Iterable[Any] = ()) -> int:
    """Close ``roots`` and every widget they refer to, except what ``keep`` still refers to.

    Each widget's ``_release()`` (a composite's own clean-up: stop a worker, unsubscribe)
    runs first, then ipywidgets' ``Widget.close``, which takes the widget out of the registry
    so it can be freed. Widgets already closed are skipped; returns how many were closed.

    Example:
        >>> import ipywidgets
        >>> close_tree(ipywidgets.VBox([ipywidgets.Label("a")]))
        5
    """
    kept = {id(w) for w in widget_closure(keep)}
    closed = 0
    for w in widget_closure(roots):
        if id(w) in kept or getattr(w, "comm", None) is None:
            continue
        release = getattr(w, "_release", None)
        if callable(release):
            release()
        ipywidgets.Widget.close(w)
        closed += 1
    return closed


class ClosesTree:
    """Mixin for composite widgets: :meth:`close` closes every widget the composite made.

    Example:
        >>> import ipywidgets
        >>> class Pair(ClosesTree, ipywidgets.VBox):
        ...     pass
        >>> p = Pair([ipywidgets.Label("a")]); p.close(); p.children[0].comm is None
        True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        track(self)  # a re-run of this cell closes this widget (see nbexplain.widgets._rerun)

    def close(self) -> None:
        """Close this widget, its children and every widget it refers to (layouts, styles, charts)."""
        close_tree(self)


def replace_children(box: Any, children: Iterable[Any]) -> None:
    """Set ``box.children`` and close the old children (and their widgets) no longer shown.

    Example:
        >>> import ipywidgets
        >>> box = ipywidgets.VBox([ipywidgets.Label("old")])
        >>> old = box.children[0]
        >>> replace_children(box, [ipywidgets.Label("new")])
        >>> old.comm is None, box.children[0].value
        (True, 'new')
    """
    old = tuple(box.children)
    box.children = tuple(children)
    close_tree(*old, keep=[box])
