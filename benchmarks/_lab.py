"""The JupyterLab + Chromium harness the browser benchmarks share.

``lab_notebook(name, cells)`` writes a notebook of ``cells``, serves it from a fresh JupyterLab
(the browser tests' server, ``tests/browser/conftest.py``), opens it in headless Chromium,
runs every cell and yields ``(page, notebook, tmp)``; everything is stopped on exit. The
browser tests' helpers (``tests/browser/lab.py``) are importable as ``browser.lab`` once this
module is imported.

Example:
    >>> with lab_notebook("bench.ipynb", ["x = 1"]) as (page, nb, tmp):   # doctest: +SKIP
    ...     execute_in_kernel(nb, "print(x)")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def write_notebook(path: Path, cells: list[str]) -> None:
    """An unexecuted notebook of code ``cells`` at ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)


@contextlib.contextmanager
def lab_notebook(name: str, cells: list[str], *, viewport: tuple[int, int] = (1400, 1000),
                 server_config: str | None = None) -> Iterator[tuple[Any, Any, Path]]:
    """Serve, open and run a notebook of ``cells`` in JupyterLab; yield ``(page, notebook, tmp)``.

    ``server_config``: Python source of a ``jupyter_server_config.py`` the server loads (found
    through ``JUPYTER_CONFIG_PATH``), e.g. to patch the server for a comparison run.
    """
    import browser.conftest as conf  # type: ignore[import-not-found]
    from browser.lab import open_notebook, run_all  # type: ignore[import-not-found]
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix=f"nbx-{Path(name).stem}-"))
    src = tmp / "src"
    src.mkdir()
    write_notebook(src / name, cells)
    conf.NOTEBOOKS_DIR = src
    if server_config is not None:
        extra = tmp / "extra-config"
        extra.mkdir()
        (extra / "jupyter_server_config.py").write_text(server_config)
        os.environ["JUPYTER_CONFIG_PATH"] = str(extra)
    servers = conf._start_server("lab", tmp / "lab")
    with contextlib.closing(servers), sync_playwright() as p:
        server = next(servers)
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=conf.CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            nb = open_notebook(page, server, name)
            run_all(nb)
            yield page, nb, tmp
        finally:
            browser.close()
