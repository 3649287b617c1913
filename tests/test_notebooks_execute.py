"""Every user-facing notebook in notebooks/ runs top to bottom and stores an nbexplain widget.

Executed with nbclient on this interpreter's kernel (a kernelspec in a temporary JUPYTER_PATH
points at ``sys.executable``), 120 s per cell, in a temporary copy of the folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NBX_VIEWS = {"heatmap", "feature_bars", "sample_panel", "sample_table", "text_tokens", "beeswarm", "confusion_matrix",
             "model_graph", "channel_grid", "attention"}
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"


def _nbexplain_models(nb: nbformat.NotebookNode) -> list[str]:
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    return [
        model["state"]["_view"]
        for model in state.values()
        if model.get("state", {}).get("_view") in NBX_VIEWS
    ]


def test_notebooks_folder_is_not_empty() -> None:
    if not (ROOT / "notebooks").is_dir():
        pytest.skip("no notebooks/ folder")
    if not NOTEBOOKS:
        pytest.skip("notebooks/ holds no .ipynb yet")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path: Path, venv_kernel: str, nbx_bundle: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "notebooks"
    shutil.copytree(path.parent, workdir)
    nb = nbformat.read(workdir / path.name, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=venv_kernel,
        timeout=120,
        store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError on the first error output

    errors = [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, errors
    views = _nbexplain_models(nb)
    assert views, f"{path.name}: no nbexplain widget model in the stored widget state"
