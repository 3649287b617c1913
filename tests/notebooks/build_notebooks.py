"""Writes the test notebooks in this folder from the cell sources below.

The notebooks are checked in; edit the sources here and rerun
``python tests/notebooks/build_notebooks.py`` so every notebook stays unexecuted and tidy.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

NOTEBOOKS: dict[str, list[str]] = {
    "smoke_anywidget.ipynb": [
        '''import anywidget
import traitlets


class W(anywidget.AnyWidget):
    _esm = "export default { render({ model, el }) { el.classList.add('smoke'); el.textContent = 'hello ' + model.get('n'); } }"
    n = traitlets.Int(3).tag(sync=True)


w = W()
w''',
    ],
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        for i, cell in enumerate(nb.cells):
            cell.id = f"cell-{i}"
        nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    main()
