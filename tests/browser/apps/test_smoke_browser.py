"""The browser infrastructure itself: an inline anywidget renders in JupyterLab 4 and Notebook 7."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ..lab import (
    collect_console_errors,
    execute_in_kernel,
    open_notebook,
    run_all,
    screenshot,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_inline_anywidget_renders(app: str, page: Page, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("jupyter_server" if app == "lab" else "notebook_server")
    errors = collect_console_errors(page)
    nb = open_notebook(page, server, "smoke_anywidget.ipynb")
    try:
        run_all(nb)
        widget = page.locator(".smoke")
        expect(widget).to_have_text("hello 3", timeout=20_000)
        # The kernel the page runs is the one execute_in_kernel reaches: same namespace.
        assert execute_in_kernel(nb, "print(json.dumps(w.n))") == 3
        execute_in_kernel(nb, "w.n = 7")
        screenshot(page, f"smoke_anywidget_{app}")
        errors.assert_none()
    finally:
        nb.close()
