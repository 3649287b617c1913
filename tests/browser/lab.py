"""Helpers that drive a notebook in JupyterLab 4 or Notebook 7 from Playwright (sync API).

Typical use::

    errors = collect_console_errors(page)
    nb = open_notebook(page, jupyter_server, "heatmap.ipynb")
    run_all(nb)
    root = page.locator(".nbx-heatmap").first
    wait_for_draws(root, 0)
    state = execute_in_kernel(nb, "print(json.dumps({'sel': hm.selected}))")
    screenshot(page, "heatmap")
    assert_no_console_errors(errors)
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jupyter_client.blocking.client import BlockingKernelClient
from playwright.sync_api import ConsoleMessage, Error, Locator, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"

KERNEL_READY_TIMEOUT_MS = 60_000
RUN_ALL_TIMEOUT_MS = 120_000

# Console messages and page errors that are not ours, each with the reason it is harmless.
# Entries are regular expressions matched (re.search) against the message text.
ALLOWED_CONSOLE_ERRORS: list[tuple[str, str]] = [
    # Notebook 7.6 throws this once while opening any notebook, from its own (non-widget) code;
    # widgets still render (RECIPE.md, "JupyterLab 4 / Notebook 7 in tests").
    (r"Cannot read properties of undefined \(reading 'schema'\)", "Notebook 7 page error"),
    # The browser asks for /favicon.ico-like resources Jupyter does not serve under some paths.
    (r"Failed to load resource: the server responded with a status of 404 \(Not Found\)"
     r".*favicon", "missing favicon"),
]


@dataclass
class Notebook:
    """An open notebook: the page it is in, the server, its path under the server's root."""

    page: Page
    server: Any  # conftest.JupyterServer
    name: str
    _client: BlockingKernelClient | None = field(default=None, repr=False)

    @property
    def cells(self) -> Locator:
        return self.page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-CodeCell")

    def kernel_id(self) -> str:
        """The id of the kernel the server started for this notebook (from /api/sessions)."""
        response = self.page.request.get(f"{self.server.url}/api/sessions")
        assert response.ok, response.status
        for session in response.json():
            if session.get("path") == self.name and session.get("kernel"):
                return str(session["kernel"]["id"])
        raise AssertionError(f"no kernel session for {self.name}: {response.json()}")

    def client(self) -> BlockingKernelClient:
        """A second ZMQ client of the notebook's kernel (same namespace as the notebook)."""
        if self._client is None:
            kernel_id = self.kernel_id()
            connection_file = self.server.home / "runtime" / f"kernel-{kernel_id}.json"
            client = BlockingKernelClient(connection_file=str(connection_file))
            client.load_connection_file()
            client.start_channels()
            client.wait_for_ready(timeout=30)
            self._client = client
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.stop_channels()
            self._client = None


def open_notebook(page: Page, server: Any, name: str) -> Notebook:
    """Open ``name`` (Lab: /lab/tree/<name>, Notebook 7: /notebooks/<name>); wait for its kernel.

    The kernel indicator reads "idle" for a moment before any kernel exists, and a Run All
    issued then is silently dropped (RECIPE.md); so this waits for the indicator to read idle AND
    the toolbar kernel name to be a real kernel's name.
    """
    _shut_down_sessions(page, server, name)
    if server.app == "lab":
        # A fresh workspace per page, so Lab does not reopen what an earlier test had open.
        prefix = f"/lab/workspaces/t{uuid.uuid4().hex[:12]}/tree/"
    else:
        prefix = "/notebooks/"
    page.goto(f"{server.url}{prefix}{name}")
    panel = page.locator(".jp-NotebookPanel:visible")
    expect(panel).to_have_count(1, timeout=KERNEL_READY_TIMEOUT_MS)
    page.wait_for_function(
        """() => {
            const panel = [...document.querySelectorAll('.jp-NotebookPanel')]
                .find((p) => p.offsetParent !== null);
            if (!panel) return false;
            const ind = panel.querySelector('.jp-Notebook-ExecutionIndicator');
            const kn = panel.querySelector('.jp-Toolbar-kernelName, .jp-KernelName');
            const kname = kn ? kn.textContent.trim() : '';
            return ind && ind.dataset.status === 'idle' && kname !== '' && kname !== 'No Kernel';
        }""",
        timeout=KERNEL_READY_TIMEOUT_MS,
    )
    return Notebook(page, server, name)


def _xsrf_headers(page: Page, server: Any) -> dict[str, str]:
    """The ``X-XSRFToken`` header state-changing REST calls need (echo of the _xsrf cookie)."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies(server.url)}
    if "_xsrf" not in cookies:
        page.request.get(f"{server.url}/tree" if server.app == "notebook" else f"{server.url}/lab")
        cookies = {c["name"]: c["value"] for c in page.context.cookies(server.url)}
    return {"X-XSRFToken": cookies["_xsrf"]}


def _shut_down_sessions(page: Page, server: Any, name: str) -> None:
    """Delete any kernel session left on ``name`` by an earlier test: every test starts fresh."""
    response = page.request.get(f"{server.url}/api/sessions")
    assert response.ok, response.status
    stale = [s for s in response.json() if s.get("path") == name]
    if not stale:
        return
    headers = _xsrf_headers(page, server)
    for session in stale:
        deleted = page.request.delete(f"{server.url}/api/sessions/{session['id']}", headers=headers)
        assert deleted.ok, (deleted.status, deleted.text())


def _prompts(nb: Notebook) -> list[str]:
    return nb.page.eval_on_selector_all(
        ".jp-NotebookPanel .jp-Notebook .jp-CodeCell .jp-InputArea-prompt",
        "(els) => els.filter((e) => e.offsetParent !== null).map((e) => e.textContent.trim())",
    )


def _click_menu(page: Page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def wait_kernel_idle(nb: Notebook, timeout_ms: int = RUN_ALL_TIMEOUT_MS) -> None:
    """Wait until the execution indicator reads idle and no cell shows a ``[*]`` prompt."""
    nb.page.wait_for_function(
        """() => {
            const panel = [...document.querySelectorAll('.jp-NotebookPanel')]
                .find((p) => p.offsetParent !== null);
            const ind = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
            if (!ind || ind.dataset.status !== 'idle') return false;
            const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            return prompts.every((p) => !p.textContent.includes('*'));
        }""",
        timeout=timeout_ms,
    )


def run_all(nb: Notebook, timeout_ms: int = RUN_ALL_TIMEOUT_MS) -> None:
    """Run > Run All Cells; check the first cell got ``[1]``; wait until every cell has run."""
    _click_menu(nb.page, "Run", "Run All Cells")
    # A dropped Run All leaves "[ ]:"; a taken one shows "[*]:" at once (a heavy first cell may
    # run long, so "[1]:" itself is checked once everything ran).
    first_prompt = nb.cells.first.locator(".jp-InputArea-prompt")
    expect(first_prompt).to_have_text(re.compile(r"^\[(\*|1)\]:$"), timeout=30_000)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        wait_kernel_idle(nb, timeout_ms=max(1000, int((deadline - time.monotonic()) * 1000)))
        prompts = _prompts(nb)
        _raise_on_traceback(nb)  # Run All stops at an error: fail now, not at the deadline
        if all(re.fullmatch(r"\[\d+\]:", p) for p in prompts):
            assert prompts[0] == "[1]:", f"the first cell ran as {prompts[0]}, not first: {prompts}"
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"not every cell ran: prompts {prompts}")
        nb.page.wait_for_timeout(200)
    _raise_on_traceback(nb)


def _raise_on_traceback(nb: Notebook) -> None:
    """Fail with the traceback text when any output is a Python error."""
    # Lab renders errors with the stderr mime type, like warnings: tell them apart by the text.
    stderr = nb.page.locator(
        ".jp-NotebookPanel:visible .jp-OutputArea-output"
        "[data-mime-type='application/vnd.jupyter.stderr']"
    ).all_inner_texts()
    tracebacks = [t for t in stderr if "Traceback" in t]
    if tracebacks:
        raise AssertionError("a cell raised:\n" + "\n".join(tracebacks))


def run_cell_async(nb: Notebook, code: str) -> None:
    """Append a code cell with ``code`` at the end and start it (Shift+Enter); do not wait."""
    last = nb.cells.last
    last.locator(".jp-InputArea-prompt").click()  # command mode, this cell active
    nb.page.keyboard.press("Escape")
    nb.page.keyboard.press("b")  # insert a cell below
    editor = nb.cells.last.locator(".cm-content")
    editor.click()
    editor.fill(code)
    nb.page.keyboard.press("Shift+Enter")


def interrupt_kernel(nb: Notebook) -> None:
    """Kernel > Interrupt Kernel from the menu."""
    _click_menu(nb.page, "Kernel", "Interrupt Kernel")


@dataclass
class ConsoleErrors:
    """Console errors and page errors seen on a page, minus the allow-listed ones."""

    messages: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        for pattern, _why in ALLOWED_CONSOLE_ERRORS:
            if re.search(pattern, text):
                self.ignored.append(text)
                return
        self.messages.append(text)

    def assert_none(self) -> None:
        assert not self.messages, "console errors:\n" + "\n".join(self.messages)


def collect_console_errors(page: Page) -> ConsoleErrors:
    """Record the page's console errors and uncaught page errors from now on."""
    errors = ConsoleErrors()

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            loc = msg.location or {}
            errors.add(f"console.error: {msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})")

    def on_page_error(exc: Error) -> None:
        errors.add(f"page error: {exc.message}\n{exc.stack or ''}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return errors


def screenshot(page: Page, name: str, locator: Locator | None = None) -> Path:
    """Save a PNG of the page (or of one element) to test-artifacts/screenshots/<name>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    if locator is not None:
        locator.scroll_into_view_if_needed()
        locator.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path))
    return path


def draws(locator: Locator) -> int:
    """The root's ``data-draws`` counter (0 when absent)."""
    return int(locator.get_attribute("data-draws") or 0)


def wait_for_draws(locator: Locator, greater_than: int, timeout_ms: int = 60_000) -> int:
    """Wait until the root's ``data-draws`` counter exceeds ``greater_than``; return it."""
    locator.first.wait_for(state="attached", timeout=timeout_ms)
    locator.page.wait_for_function(
        "([el, n]) => Number(el.dataset.draws || 0) > n",
        arg=[locator.first.element_handle(), greater_than],
        timeout=timeout_ms,
    )
    return draws(locator.first)


def execute_in_kernel(nb: Notebook, code: str, timeout_s: float = 60.0) -> Any:
    """Run ``code`` in the notebook's kernel (same namespace) and return the last stdout line,
    parsed as JSON when it parses (else the raw text). Raises on an error reply.

    This goes to the kernel over a second ZMQ client (the connection file in the server's
    runtime dir), so no cell is added to the notebook; the browser ignores replies that are not
    its own. ``import json`` is done for you.
    """
    client = nb.client()
    msg_id = client.execute("import json as json\n" + code, store_history=False, allow_stdin=False)
    out: list[str] = []
    error: str | None = None
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"kernel did not finish {code!r} in {timeout_s} s")
        try:
            msg = client.get_iopub_msg(timeout=remaining)
        except Exception as exc:  # queue.Empty
            raise TimeoutError(f"kernel did not finish {code!r} in {timeout_s} s") from exc
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "error":
            error = "\n".join(content["traceback"])
        elif kind == "status" and content["execution_state"] == "idle":
            break
    if error is not None:
        raise AssertionError(f"kernel raised running {code!r}:\n{error}")
    lines = "".join(out).strip().splitlines()
    if not lines:
        return None
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        return lines[-1]


def poll_kernel(nb: Notebook, code: str, predicate: Any, timeout_s: float = 30.0) -> Any:
    """Repeat :func:`execute_in_kernel` until ``predicate(result)`` holds; return the result."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = execute_in_kernel(nb, code)
        if predicate(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"kernel state never matched; last result {result!r}")
        time.sleep(0.25)


def canvas_pixels(locator: Locator) -> dict[str, Any]:
    """``{width, height, data}`` of a canvas element, ``data`` the flat RGBA list."""
    return locator.evaluate(
        """(c) => {
            const ctx = c.getContext('2d');
            const img = ctx.getImageData(0, 0, c.width, c.height);
            return { width: c.width, height: c.height, data: Array.from(img.data) };
        }"""
    )


def canvas_array(locator: Locator) -> np.ndarray:
    """A canvas element's pixels as an H x W x 4 uint8 array."""
    px = canvas_pixels(locator)
    return np.asarray(px["data"], dtype=np.uint8).reshape(px["height"], px["width"], 4)


def set_range(locator: Locator, value: float | str) -> None:
    """Set an ``<input type=range>`` as a user drag would: new value, then input and change events.

    ``value`` may be a number or ``"min"`` / ``"max"``.
    """
    locator.evaluate(
        """(el, v) => {
            el.value = v === 'min' ? el.min : v === 'max' ? el.max : String(v);
            el.dispatchEvent(new Event('input', { bubbles: true }));
            el.dispatchEvent(new Event('change', { bubbles: true }));
        }""",
        value,
    )


def cell_center(canvas: Locator, row: int, col: int) -> tuple[float, float]:
    """Page coordinates of the centre of map cell (row, col) of a CSS-scaled canvas."""
    box = canvas.bounding_box()
    assert box is not None, "canvas not visible"
    size = canvas.evaluate("(c) => [c.width, c.height]")
    return (box["x"] + (col + 0.5) * box["width"] / size[0],
            box["y"] + (row + 0.5) * box["height"] / size[1])


def set_checked(box: Locator, checked: bool, timeout_ms: int = 15_000) -> None:
    """Tick or clear an ipywidgets checkbox and wait until the page shows it.

    Playwright's ``check()`` reads the box right after its click and fails ("did not change its
    state") when, under load, the repaint comes later (CI, stop 17); this clicks once when needed
    and then waits for the state.
    """
    if box.is_checked() != checked:
        box.click()
    expect(box).to_be_checked(checked=checked, timeout=timeout_ms)
