"""The front end travels once: one hidden model per kernel carries the bundle; views load from it.

anywidget syncs a widget's ``_esm`` and ``_css`` as ordinary state, so a bundle given to every
view is stored once per view in a saved notebook and in an exported page (a Dashboard notebook
was 5.9 MB, 92.5 % of it the same 120 KB bundle and 19 KB CSS repeated in 38 models). Here the
bundle and the CSS live in one :class:`FrontEnd` model per kernel; every nbexplain view carries
the 1 KB stub ``static/loader.js`` as its ``_esm`` and names the front end in its
``_nbx_front`` trait (anywidget's ``WidgetTrait``: ``"anywidget:<model id>"`` on the wire). The
stub asks anywidget's host for the front end's exports (``host.getWidget``, anywidget >= 0.11)
and lets the bundle draw. The CSS is loaded once, by the front end's model.

The front end is never closed by a view's ``close()`` (:func:`is_shared` tells
``close_tree`` to leave it) and is made again if something closed it (``Widget.close_all()``).

Example:
    >>> from nbexplain.widgets._bundle import front_end, is_shared
    >>> fe = front_end()
    >>> fe is front_end(), is_shared(fe)
    (True, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ESM_PATH = STATIC_DIR / "widget.js"
CSS_PATH = STATIC_DIR / "widget.css"
LOADER_PATH = STATIC_DIR / "loader.js"

#: Bundle texts by file path, read once per process (every widget shares the same str object).
_BUNDLE_TEXT: dict[str, str] = {}

#: The live front end of this kernel (see :func:`front_end`).
_FRONT: list[Any] = []


class BundleMissingError(RuntimeError):
    """The front-end bundle ``nbexplain/static/widget.js`` was not built."""


def bundle_error() -> BundleMissingError:
    """The error raised when the bundle files are missing, with how to build them."""
    return BundleMissingError(
        f"the nbexplain front-end bundle is missing ({ESM_PATH}). Install the package with "
        "`pip install nbexplain` (or `pip install -e .` in a checkout, which builds it), or run "
        "`npm install && npm run build` in the repository root."
    )


def bundle_built() -> bool:
    """True when the bundle, its CSS and the view stub are all built."""
    return ESM_PATH.is_file() and CSS_PATH.is_file() and LOADER_PATH.is_file()


def bundle_text(path: Path) -> str:
    """The text of a bundle file, read once and cached; always holds a newline.

    Text, never a ``pathlib.Path``: with a path anywidget keeps every widget instance alive in
    its file-watching registry (manzt/anywidget#929). anywidget takes a one-line string that
    ends like a file name for a path; a newline makes sure the text is taken as source.

    Example:
        >>> bundle_text(LOADER_PATH) is bundle_text(LOADER_PATH)   # read once
        True
        >>> bundle_text(LOADER_PATH).endswith("\\n")    # a newline: anywidget takes it as source, not a path
        True
    """
    key = str(path)
    text = _BUNDLE_TEXT.get(key)
    if text is None:
        text = path.read_text(encoding="utf-8")
        if "\n" not in text:
            text += "\n"
        text = _BUNDLE_TEXT.setdefault(key, text)
    return text


class FrontEnd(anywidget.AnyWidget):  # type: ignore[misc]
    """The hidden model that carries nbexplain's bundle and CSS, once per kernel.

    Never displayed: its ``initialize`` exports the bundle's ``render``, which every view's
    stub calls. ``version`` lets a page tell two bundles apart.
    """

    _nbx_shared = True
    version = traitlets.Unicode("", help="str: the nbexplain version whose bundle this is.").tag(sync=True)

    def __init__(self) -> None:
        from nbexplain import __version__

        cls = type(self)
        if "_esm" not in cls.__dict__:
            if not bundle_built():
                raise bundle_error()
            cls._esm = bundle_text(ESM_PATH)
            cls._css = bundle_text(CSS_PATH)
        super().__init__(version=__version__)


def front_end() -> FrontEnd:
    """This kernel's :class:`FrontEnd`, made on first use and again if it was closed.

    Example:
        >>> front_end() is front_end()
        True
    """
    if _FRONT and getattr(_FRONT[0], "comm", None) is not None:
        return _FRONT[0]
    fe = FrontEnd()
    _FRONT[:] = [fe]
    return fe


def is_shared(widget: Any) -> bool:
    """True for widgets every view shares (the front end): ``close_tree`` never closes them."""
    return getattr(type(widget), "_nbx_shared", False) is True
