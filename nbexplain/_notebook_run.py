"""Run a notebook with nbclient, keeping its widget state; the errors of :mod:`nbexplain.export`.

JupyterLab saves no widget state unless "Save Widget State Automatically" is on (it is off by
default), so a notebook saved with Ctrl+S reopens without its views. A notebook run by nbclient
always holds them: :func:`save_notebook` (``python -m nbexplain.export NOTEBOOK --to notebook``)
runs one and writes it with every widget's state, and :func:`nbexplain.export.export_html`
uses the same run for its HTML page.

Example:
    >>> import tempfile, nbformat
    >>> from pathlib import Path
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import ipywidgets; ipywidgets.IntSlider(3)")])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     nbformat.write(nb, Path(folder, "quickstart.ipynb"))
    ...     out = save_notebook(Path(folder, "quickstart.ipynb"))    # runs it in a kernel
    ...     state = nbformat.read(out, as_version=4).metadata["widgets"][WIDGET_STATE_MIME]["state"]
    >>> out.name, sorted(m["model_name"] for m in state.values())    # the slider, its layout and style
    ('quickstart.saved.ipynb', ['IntSliderModel', 'LayoutModel', 'SliderStyleModel'])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "ExportError",
    "MissingWidgetStateError",
    "NotebookExecutionError",
    "VendoredFilesMissingError",
    "check_widget_state",
    "compact_widget_state",
    "execute",
    "save_notebook",
]

WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


class ExportError(RuntimeError):
    """The notebook could not be exported (run, saved with its views, or written as HTML)."""


class VendoredFilesMissingError(ExportError, FileNotFoundError):
    """A JavaScript file the offline page needs is not installed."""


class NotebookExecutionError(ExportError):
    """A cell failed (raised, timed out or killed its kernel) while the notebook was executed.

    ``cell_index`` counts every cell from 0, Markdown included, as nbformat does.
    """

    def __init__(self, message: str, cell_index: int | None = None) -> None:
        super().__init__(message)
        self.cell_index = cell_index


class MissingWidgetStateError(ExportError):
    """The notebook shows widgets but holds no saved state for them (nothing could draw)."""


def execute(nb: Any, notebook_path: Path, *, timeout: int, kernel_name: str | None) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    current: dict[str, int] = {}

    def on_cell_start(cell: Any, cell_index: int) -> None:
        current["index"] = cell_index

    kwargs: dict[str, Any] = {}
    if kernel_name:
        kwargs["kernel_name"] = kernel_name
    client = NotebookClient(
        nb,
        timeout=timeout,
        store_widget_state=True,
        resources={"metadata": {"path": str(notebook_path.parent.resolve())}},
        on_cell_start=on_cell_start,
        **kwargs,
    )
    try:
        client.execute()
        compact_widget_state(nb)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        index = current.get("index")
        where = "before any cell ran" if index is None else _describe_cell(nb, index)
        if isinstance(err, CellExecutionError):
            what = f"{err.ename}: {err.evalue}"
        elif isinstance(err, CellTimeoutError):
            what = f"it ran longer than {timeout} s (raise `timeout`)"
        else:
            what = f"the kernel died ({err})"
        message = f"executing {notebook_path} failed in {where}: {what}"
        if isinstance(err, CellExecutionError):
            message += "\n\n" + str(err).strip()
        raise NotebookExecutionError(message, index) from err


def _describe_cell(nb: Any, index: int) -> str:
    cell = nb.cells[index]
    n_code = sum(1 for c in nb.cells[: index + 1] if c.cell_type == "code")
    lines = [line for line in str(cell.source).splitlines() if line.strip()]
    first = lines[0].strip() if lines else ""
    if len(first) > 80:
        first = first[:77] + "..."
    return f"cell {index + 1} of {len(nb.cells)} (code cell {n_code}, starting {first!r})"


def check_widget_state(nb: Any, notebook_path: Path, *, executed: bool) -> None:
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    views = [
        output["data"][WIDGET_VIEW_MIME].get("model_id")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if WIDGET_VIEW_MIME in output.get("data", {})
    ]
    missing = [model_id for model_id in views if model_id not in state]
    if not missing:
        return
    if executed:
        hint = "the kernel's widget state was not stored (is ipywidgets installed in the kernel?)"
    else:
        hint = (
            "save it with the widget state (JupyterLab: Settings > Save Widget State "
            "Automatically, then save; or export without --no-execute to run it afresh)"
        )
    raise MissingWidgetStateError(
        f"{notebook_path}: {len(missing)} of {len(views)} widget outputs have no saved state, so "
        f"they cannot draw in HTML: {hint}"
    )


#: ipywidgets' own model modules.
_CORE_MODULES = frozenset({"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"})


def _compactable(name: str) -> bool:
    """Whether a core model's Python defaults may stand for its JavaScript defaults.

    Only for layouts and styles: every JavaScript default there is ``null`` or ``""`` ("not
    set"), which is what their Python defaults mean too. Elsewhere the two sides can differ and
    a dropped value would be read back wrong: ``FloatRangeSlider``'s Python ``value`` defaults to
    ``(0.0, 1.0)`` but its JavaScript model to ``0``, and the html-manager then cannot draw it.
    """
    return name == "LayoutModel" or name.endswith("StyleModel")
_SCALAR = (str, bool, int, float, type(None))


def _core_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """The JSON defaults of an ipywidgets core model's plain (non-widget) synced traits.

    ``values``: the model's saved state, whose ``_model_*`` / ``_view_*`` keys name its class
    in ipywidgets' registry.
    """
    from ipywidgets.widgets.widget import _registry

    keys = ("_model_module", "_model_module_version", "_model_name",
            "_view_module", "_view_module_version", "_view_name")
    try:
        klass = _registry.get(*(values.get(k) for k in keys))
    except (KeyError, TypeError):
        return {}
    out: dict[str, Any] = {}
    for name, trait in klass.class_traits(sync=True).items():
        if name.startswith(("_model_", "_view_")):
            continue
        try:
            value = trait.default()
        except Exception:  # a trait without a static default: keep it
            continue
        if isinstance(value, _SCALAR):
            out[name] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, _SCALAR) for v in value):
            out[name] = list(value)
    return out


def compact_widget_state(nb: Any) -> int:
    """Drop the values ipywidgets' own models hold at their defaults; return the bytes saved.

    nbclient stores every attribute of every model; JupyterLab stores only what differs from
    the front end's defaults (``drop_defaults``). This does what Lab does, for ipywidgets' layout
    and style models, whose JavaScript defaults are their Python defaults (see
    :func:`_compactable`): a Dashboard's ~200 ``Layout`` models shrink from ~1.1 KB to ~0.2 KB each.

    Example:
        >>> import nbformat
        >>> nb = nbformat.v4.new_notebook()
        >>> keys = {"_model_module": "@jupyter-widgets/base", "_model_module_version": "2.0.0",
        ...         "_model_name": "LayoutModel", "_view_module": "@jupyter-widgets/base",
        ...         "_view_module_version": "2.0.0", "_view_name": "LayoutView"}
        >>> nb.metadata["widgets"] = {WIDGET_STATE_MIME: {"state": {"a": {
        ...     "model_module": "@jupyter-widgets/base", "model_name": "LayoutModel",
        ...     "state": {**keys, "width": None, "height": "10px"}}}}}
        >>> compact_widget_state(nb) > 0
        True
        >>> saved = nb.metadata["widgets"][WIDGET_STATE_MIME]["state"]["a"]["state"]
        >>> "width" in saved, saved["height"], saved["_model_name"]
        (False, '10px', 'LayoutModel')
    """
    import json

    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    cache: dict[str, dict[str, Any]] = {}
    saved = 0
    for model in state.values():
        name = str(model.get("model_name", ""))
        if model.get("model_module") not in _CORE_MODULES or not _compactable(name):
            continue
        values = model.get("state", {})
        if name not in cache:
            cache[name] = _core_defaults(values)
        defaults = cache[name]
        for key in [k for k, v in values.items() if k in defaults and v == defaults[k]]:
            saved += len(json.dumps({key: values.pop(key)})) - 2
    return saved


def save_notebook(
    notebook_path: str | Path,
    output_path: str | Path | None = None,
    *,
    timeout: int = 120,
    kernel_name: str | None = None,
) -> Path:
    """Run ``notebook_path`` and write it with every widget's state; return the written path.

    The reliable way to keep a notebook's views: the written notebook reopens with every
    nbexplain view drawn (JupyterLab, Notebook 7, VS Code, nbviewer-like renderers), whatever
    Lab's "Save Widget State Automatically" setting. The bundle is stored once
    (``nbexplain.widgets._bundle``), so a Dashboard notebook stays a few hundred KB plus its data.

    Args:
        notebook_path: the ``.ipynb`` to run (in its own folder).
        output_path: where to write; default ``<stem>.saved.ipynb`` beside it. Pass the
            notebook's own path to overwrite it.
        timeout: seconds each cell may run.
        kernel_name: the kernel to run; default: the notebook's kernelspec.

    Raises:
        FileNotFoundError: the notebook does not exist.
        NotebookExecutionError: a cell raised, timed out or killed the kernel (names the cell).
        MissingWidgetStateError: the kernel stored no state for the widgets it showed.

    Example:
        >>> save_notebook("no/such/lab.ipynb", "lab.ipynb")    # a run: see the module docstring
        Traceback (most recent call last):
        ...
        FileNotFoundError: no notebook at no/such/lab.ipynb
    """
    import nbformat

    notebook_path = Path(notebook_path)
    if not notebook_path.is_file():
        raise FileNotFoundError(f"no notebook at {notebook_path}")
    out = Path(output_path) if output_path is not None else notebook_path.with_name(f"{notebook_path.stem}.saved.ipynb")
    nb = nbformat.read(notebook_path, as_version=4)
    execute(nb, notebook_path, timeout=timeout, kernel_name=kernel_name)
    check_widget_state(nb, notebook_path, executed=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out
