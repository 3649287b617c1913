"""Every user-facing notebook in notebooks/ runs top to bottom and stores an nbexplain widget.

Each notebook is executed once per test session by the shared ``notebook_runs`` fixture
(tests/notebook_runs.py: nbclient on this interpreter's kernel, as ``python -m nbexplain.export``
runs it, 120 s per cell, in a temporary copy of the folder); the offline-export browser test
(tests/browser/apps/test_notebooks_export_browser.py) reuses the same run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from notebook_runs import ROOT, USER_NOTEBOOKS, NotebookRuns, nbexplain_views, widget_state


def test_notebooks_folder_is_not_empty() -> None:
    if not (ROOT / "notebooks").is_dir():
        pytest.skip("no notebooks/ folder")
    if not USER_NOTEBOOKS:
        pytest.skip("notebooks/ holds no .ipynb yet")


@pytest.mark.slow
@pytest.mark.parametrize("path", USER_NOTEBOOKS, ids=[p.name for p in USER_NOTEBOOKS])
def test_notebook_executes(path: Path, notebook_runs: NotebookRuns) -> None:
    run = notebook_runs.run(path)  # raises, naming the cell, on the first error output
    nb = run.read()
    errors = [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, errors
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code" and c.source.strip()), (
        f"{path.name}: a code cell did not run"
    )
    views = nbexplain_views(widget_state(nb))
    assert views, f"{path.name}: no nbexplain widget model in the stored widget state"
