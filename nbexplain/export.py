"""Save a notebook with its nbexplain widgets as an HTML page that draws offline.

``export_html`` runs the notebook with nbclient (which stores every widget's state in the notebook
metadata), or uses the state saved by Jupyter, and converts it with nbconvert's ``HTMLExporter``.
nbconvert's page would load require.js, the widget HTML manager and anywidget from public CDNs; this
page loads local copies instead, written into a folder beside it::

    quickstart.html
    quickstart_files/require.js      # npm requirejs, shipped in nbexplain/static/vendor/
    quickstart_files/embed-amd.js    # npm @jupyter-widgets/html-manager@1 (ipywidgets base and
                                     # controls are bundled in it), shipped beside require.js
    quickstart_files/anywidget.js    # anywidget's AMD build, from the installed anywidget
    quickstart_files/bqplot.js       # only when the notebook shows bqplot charts: bqplot's and
    quickstart_files/bqscales.js     # bqscales' AMD builds (share/jupyter/nbextensions/<name>/)

Open ``quickstart.html`` in a browser (keep the folder beside it, e.g. zip both): every widget
draws from its saved state, and the controls that run in the browser (a heatmap's opacity, colour
map, clip and threshold; FeatureBars' top-k and mode; linked ipywidgets) keep working without a
kernel. What needs Python does not: what-if sliders, a SampleExplorer's slider row and the other
controls that call Python are disabled and say "needs a running kernel". MathJax is not loaded (it lives on a CDN): LaTeX in Markdown cells shows as its source.

Example (a one-cell notebook in a temporary folder, run on this Python's kernel):
    >>> import nbformat, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    >>> nbformat.write(nb, folder / "hello.ipynb")
    >>> page = export_html(folder / "hello.ipynb")                   # runs it, writes hello.html
    >>> page.name, "42" in page.read_text()
    ('hello.html', True)
    >>> export_html(folder / "hello.ipynb", folder / "site/saved.html", execute=False).name   # as saved
    'saved.html'

From a shell::

    python -m nbexplain.export notebooks/quickstart.ipynb               # -> notebooks/quickstart.html
    python -m nbexplain.export saved.ipynb -o site/saved.html --no-execute
"""

from __future__ import annotations

import argparse
import importlib.resources
import re
import shutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ._notebook_run import (
    WIDGET_STATE_MIME,
    ExportError,
    MissingWidgetStateError,
    NotebookExecutionError,
    VendoredFilesMissingError,
    check_widget_state,
    save_notebook,
)
from ._notebook_run import execute as run_notebook

__all__ = [
    "ExportError",
    "MissingWidgetStateError",
    "NotebookExecutionError",
    "VendoredFilesMissingError",
    "export_html",
    "main",
    "save_notebook",
    "vendored_files",
]

#: Where ``npm run build`` puts require.js and the html-manager embed (shipped in the wheel).
VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
#: The vendored files: name in the ``<name>_files/`` folder -> file in ``VENDOR_DIR``.
_VENDORED = {"require.js": "require.js", "embed-amd.js": "embed-amd.js"}
#: anywidget's AMD build inside the installed anywidget package.
_ANYWIDGET_AMD = ("nbextension", "index.js")
#: Widget libraries whose AMD build (``share/jupyter/nbextensions/<name>/index.js``) is copied
#: beside the page when the notebook's widget state uses them; each needs only
#: ``@jupyter-widgets/base``, which the html-manager embed defines.
AMD_WIDGET_MODULES = {"bqplot": "pip install bqplot", "bqscales": "pip install bqplot (it installs bqscales)"}


# nbconvert's "lab" page, changed: require.js is followed by a require.config that maps `anywidget`
# (and `bqplot` / `bqscales` when used) to the local AMD files; the require.js tag names a local folder that does not exist as the widget
# CDN (embed-amd.js reads `data-jupyter-widgets-cdn` from any script tag), so a widget module that
# is not vendored fails here instead of being fetched from jsDelivr; ipywidgets get the UI font;
# MathJax and Mermaid (CDN-only) are left out.
_TEMPLATE_NAME = "nbexplain_offline.html.j2"
_TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}
<script src="{{ resources.require_js_url | e }}" data-jupyter-widgets-cdn="{{ resources.nbexplain.no_cdn_url | e }}"></script>
<script>
require.config({paths: {{ resources.nbexplain.amd_paths | tojson }}});
</script>
{%- endblock html_head_js_requirejs -%}
{%- block extra_css -%}
<style type="text/css">
/* JupyterLab gives its body the UI font; this page's body has none, so ipywidgets' labels and
   readouts would fall back to the browser's serif font. */
.jupyter-widgets { font-family: var(--jp-ui-font-family); }
</style>
{%- endblock extra_css -%}
{%- block html_head_js_mathjax -%}
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}
{%- endblock html_head_js_mermaidjs -%}
"""

_EXTERNAL_SCRIPT = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+""", re.I)


def vendored_files() -> dict[str, Path]:
    """The JavaScript files an exported page loads: name beside the HTML -> installed file.

    Raises :class:`VendoredFilesMissingError` (saying how to reinstall) when one is missing.

    Example:
        >>> sorted(vendored_files())
        ['anywidget.js', 'embed-amd.js', 'require.js']
    """
    files = {name: VENDOR_DIR / src for name, src in _VENDORED.items()}
    missing = [path for path in files.values() if not path.is_file()]
    if missing:
        raise VendoredFilesMissingError(
            "the offline HTML export needs JavaScript files that are not installed: "
            + ", ".join(str(p) for p in missing)
            + ". Reinstall nbexplain (`pip install --force-reinstall nbexplain`), or in a checkout "
            "run `npm install && npm run build` in the repository root (it copies them from "
            "node_modules/requirejs and node_modules/@jupyter-widgets/html-manager)."
        )
    files["anywidget.js"] = _anywidget_amd()
    return files


def _anywidget_amd() -> Path:
    try:
        root = importlib.resources.files("anywidget")
    except ModuleNotFoundError as err:
        raise VendoredFilesMissingError(
            "anywidget is not installed; the offline HTML export needs its AMD build: "
            "`pip install anywidget`"
        ) from err
    path = Path(str(root.joinpath(*_ANYWIDGET_AMD)))
    if not path.is_file():
        import anywidget

        raise VendoredFilesMissingError(
            f"anywidget {getattr(anywidget, '__version__', '?')} at {Path(str(root))} has no AMD "
            f"build ({'/'.join(_ANYWIDGET_AMD)}), which the offline HTML export loads. Reinstall "
            "it from its wheel: `pip install --force-reinstall anywidget`."
        )
    return path


def export_html(
    notebook_path: str | Path,
    output_path: str | Path | None = None,
    *,
    execute: bool = True,
    timeout: int = 120,
    kernel_name: str | None = None,
) -> Path:
    """Write ``notebook_path`` as an HTML page whose widgets draw without a network; return its path.

    Args:
        notebook_path: the ``.ipynb`` file.
        output_path: the ``.html`` to write; default: the notebook's path with ``.html``. The
            JavaScript it loads is written to ``<stem>_files/`` beside it (keep them together).
        execute: run every cell first (nbclient, in the notebook's folder, storing the widget
            state). With ``False`` the outputs and widget state saved in the notebook are used
            (in JupyterLab: turn on Settings > Save Widget State Automatically before saving).
        timeout: seconds each cell may run.
        kernel_name: the kernel to run; default: the notebook's kernelspec.

    Raises:
        FileNotFoundError: the notebook does not exist.
        VendoredFilesMissingError: require.js, the html-manager embed or anywidget's AMD build is
            not installed (the message says how to reinstall).
        NotebookExecutionError: a cell raised, timed out or killed the kernel (the message names
            the cell and shows its first line).
        MissingWidgetStateError: the notebook shows widgets but holds no state for them.

    Example:
        >>> import nbformat, pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> nbformat.write(nbformat.v4.new_notebook(), folder / "empty.ipynb")
        >>> page = export_html(folder / "empty.ipynb", folder / "q.html", execute=False)
        >>> sorted(p.name for p in page.with_name("q_files").iterdir())
        ['anywidget.js', 'embed-amd.js', 'require.js']
    """
    import nbformat

    notebook_path = Path(notebook_path)
    if not notebook_path.is_file():
        raise FileNotFoundError(f"no notebook at {notebook_path}")
    out = Path(output_path) if output_path is not None else notebook_path.with_suffix(".html")
    if out.suffix.lower() not in {".html", ".htm"}:
        out = out.with_name(out.name + ".html")
    files = vendored_files()  # fail before running anything

    nb = nbformat.read(notebook_path, as_version=4)
    if execute:
        run_notebook(nb, notebook_path, timeout=timeout, kernel_name=kernel_name)
    check_widget_state(nb, notebook_path, executed=execute)

    modules = {name: _amd_module(name) for name in sorted(_used_modules(nb) & AMD_WIDGET_MODULES.keys())}
    files.update({f"{name}.js": path for name, path in modules.items()})
    files_dir = out.parent / f"{out.stem}_files"
    files_url = quote(files_dir.name)
    body = _convert(
        nb,
        name=notebook_path.stem,
        files_url=files_url,
        modules=sorted(modules),
    )
    external = sorted(set(m.group(0) for m in _EXTERNAL_SCRIPT.finditer(body)))
    if external:
        warnings.warn(
            f"{notebook_path.name}: the notebook's own outputs load scripts from the network, which "
            "will not draw offline: " + "; ".join(external),
            stacklevel=2,
        )

    files_dir.mkdir(parents=True, exist_ok=True)
    for name, src in files.items():
        shutil.copyfile(src, files_dir / name)
    out.write_text(body, encoding="utf-8")
    return out


def _used_modules(nb: Any) -> set[str]:
    """The widget JavaScript modules the notebook's saved widget state names."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    used = set()
    for model in state.values():
        for key in ("model_module", "view_module"):
            if model.get(key):
                used.add(str(model[key]))
        inner = model.get("state", {})
        for key in ("_model_module", "_view_module"):
            if inner.get(key):
                used.add(str(inner[key]))
    return used


def _amd_module(name: str) -> Path:
    """The AMD build of widget library ``name`` in the Jupyter data path (share/jupyter/nbextensions)."""
    from jupyter_core.paths import jupyter_path

    for root in jupyter_path("nbextensions"):
        path = Path(root) / name / "index.js"
        if path.is_file():
            return path
    raise VendoredFilesMissingError(
        f"the notebook shows {name} widgets but {name}'s AMD build (nbextensions/{name}/index.js) is not in "
        f"the Jupyter data path ({', '.join(jupyter_path('nbextensions'))}), so they cannot draw offline: "
        f"{AMD_WIDGET_MODULES[name]} into this environment"
    )


def _convert(nb: Any, *, name: str, files_url: str, modules: Sequence[str] = ()) -> str:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        require_js_url=f"{files_url}/require.js",
        widget_renderer_url=f"{files_url}/embed-amd.js",
        mathjax_url="",
    )
    resources = {
        "metadata": {"name": name},
        "nbexplain": {
            # requirejs resolves paths against the page's folder and adds ".js" itself.
            "amd_paths": {m: f"{files_url}/{m}" for m in ("anywidget", *modules)},
            "no_cdn_url": f"{files_url}/no-cdn/",
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return str(body)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m nbexplain.export NOTEBOOK [--to html|notebook] [-o OUT] [--no-execute]``.

    ``--to html`` (the default) writes the offline page; ``--to notebook`` runs the notebook and
    writes it with every widget's state (default ``<stem>.saved.ipynb``; ``-o NOTEBOOK`` for in
    place). Prints what it wrote and returns 0; prints the error and returns 1 on failure.

    Example:
        >>> import nbformat, pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> nbformat.write(nbformat.v4.new_notebook(), folder / "empty.ipynb")
        >>> main([str(folder / "empty.ipynb"), "-o", str(folder / "q.html"), "--no-execute"])  # doctest: +ELLIPSIS
        /...q.html (and /...q_files/)
        0
    """
    parser = argparse.ArgumentParser(
        prog="python -m nbexplain.export",
        description="Save a notebook with its nbexplain views: as an HTML page that draws "
        "offline (the JavaScript it needs goes into <name>_files/ beside it), or with --to notebook "
        "as a notebook run afresh that keeps every view's state (whatever JupyterLab's Save Widget "
        "State setting).",
    )
    parser.add_argument("notebook", type=Path, help="the .ipynb to export")
    parser.add_argument("--to", choices=("html", "notebook"), default="html",
                        help="html (default): an offline page; notebook: the notebook with its views")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="the file to write (default: <name>.html, or <name>.saved.ipynb with --to notebook)")
    parser.add_argument("--no-execute", action="store_true",
                        help="do not run the notebook; use its saved outputs and widget state")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    parser.add_argument("--kernel", default=None, help="kernel name (default: the notebook's)")
    args = parser.parse_args(argv)
    if args.to == "notebook":
        if args.no_execute:
            parser.error("--no-execute has no meaning with --to notebook (the notebook is run to store its views)")
        try:
            saved = save_notebook(args.notebook, args.output, timeout=args.timeout, kernel_name=args.kernel)
        except (ExportError, FileNotFoundError) as err:
            print(f"nbexplain.export: error: {err}", file=sys.stderr)
            return 1
        print(f"{saved} (with the state of every widget)")
        return 0
    try:
        out = export_html(args.notebook, args.output, execute=not args.no_execute,
                          timeout=args.timeout, kernel_name=args.kernel)
    except (ExportError, FileNotFoundError) as err:
        print(f"nbexplain.export: error: {err}", file=sys.stderr)
        return 1
    print(f"{out} (and {out.parent / (out.stem + '_files')}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
