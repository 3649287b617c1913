"""The base class of every nbexplain widget: one front-end bundle, common traits, safe recomputes.

Every view is drawn by the same ES module (``nbexplain/static/widget.js``, built by
``npm run build`` or at ``pip install`` time); the synced trait ``_view`` picks the view
(see ``docs/PROTOCOL.md``).

Example:
    >>> from nbexplain.widgets import Heatmap
    >>> w = Heatmap([[0.0, 1.0], [-1.0, 0.5]], title="toy")   # doctest: +SKIP
    >>> w.error, w.busy                                      # doctest: +SKIP
    ('', False)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ESM_PATH = STATIC_DIR / "widget.js"
CSS_PATH = STATIC_DIR / "widget.css"

#: Traits that are not constructor arguments (ipywidgets internals; state Python sets itself).
_NOT_KWARGS = frozenset({"comm", "keys", "log", "busy", "error"})


class BundleMissingError(RuntimeError):
    """The front-end bundle ``nbexplain/static/widget.js`` was not built."""


def _bundle_error() -> BundleMissingError:
    return BundleMissingError(
        f"the nbexplain front-end bundle is missing ({ESM_PATH}). Install the package with "
        "`pip install nbexplain` (or `pip install -e .` in a checkout, which builds it), or run "
        "`npm install && npm run build` in the repository root."
    )


class NbxWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Base of the nbexplain views: the bundle, ``_view``, ``error``, ``busy`` and ``title``.

    Subclasses set ``_view``. Unknown keyword arguments raise ``TypeError`` (ipywidgets would
    silently accept them). :meth:`_computing` wraps a recompute triggered from the browser so
    that a failure in user code becomes a message in ``error`` instead of a dead widget.

    Example:
        >>> class Toy(NbxWidget):                       # doctest: +SKIP
        ...     _view = traitlets.Unicode("heatmap").tag(sync=True)
    """

    if ESM_PATH.is_file() and CSS_PATH.is_file():
        _esm = ESM_PATH
        _css = CSS_PATH

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

    #: Extra keyword arguments a subclass' __init__ accepts besides traits.
    _extra_kwargs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **kwargs: Any) -> None:
        self._check_kwargs(kwargs)
        _ensure_bundle()
        super().__init__(**kwargs)
        self._event_handlers: dict[str, list[Callable[[dict[str, Any]], None]]] = {}
        self.on_msg(self._dispatch_event)

    # -- browser events -------------------------------------------------------------------------
    def on_event(self, name: str, callback: Callable[[dict[str, Any]], None], remove: bool = False) -> None:
        """Call ``callback(message)`` when the browser sends ``{"event": name, ...}``.

        Views send events for actions that must reach Python even when no trait changes (a
        second click on the same cell, a token toggled twice). The callback runs inside
        :meth:`_computing`, so an exception becomes this widget's ``error`` and the kernel and
        the widget keep working. ``remove=True`` unregisters it.

        Example:
            >>> hm.on_event("click", lambda msg: print(msg["row"], msg["col"]))   # doctest: +SKIP
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
            >>> with widget._computing("check the model"):   # doctest: +SKIP
            ...     widget.values = recompute()
        """
        self.busy = True
        try:
            with self.hold_sync():
                try:
                    yield
                except Exception as exc:
                    msg = " ".join(str(exc).split()) or "(no message)"
                    self.error = f"{type(exc).__name__}: {msg}" + (f" ({hint})" if hint else "")
                else:
                    self.error = ""
        finally:
            self.busy = False


def _ensure_bundle() -> None:
    """Attach the bundle to :class:`NbxWidget` if it was built after import; else raise."""
    if "_esm" in NbxWidget.__dict__:
        return
    if not (ESM_PATH.is_file() and CSS_PATH.is_file()):
        raise _bundle_error()
    setattr(NbxWidget, "_esm", ESM_PATH.read_text(encoding="utf-8"))  # noqa: B010 (built after import)
    setattr(NbxWidget, "_css", CSS_PATH.read_text(encoding="utf-8"))  # noqa: B010
