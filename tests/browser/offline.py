"""Opening exported pages offline: a loopback server, a network block that records, page checks.

Shared by the export browser tests (``test_html_export_browser.py``, ``test_ig_path_browser.py``,
``test_notebooks_export_browser.py``). A page is served from ``http://127.0.0.1:<port>``
(:func:`serve_folder`); :func:`go_offline` aborts every request to another host and records it.
:data:`CHECK_VISIBLE_ROOTS` is the in-page check :func:`check_visible_roots` runs on every
nbexplain view now on screen: that it has a size and drew something, that its client-side controls
redraw it without a kernel, and that its controls that need a kernel are disabled and say so.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` serving ``folder`` (quietly) while the block runs."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@dataclass
class Offline:
    """Requests the page made: the ones to other hosts (aborted), and local failures."""

    external: list[str] = field(default_factory=list)
    local_failures: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)


def go_offline(page: Page) -> Offline:
    """Abort (and record) every request whose host is not loopback; record local 4xx/failures."""
    seen = Offline()

    def route(r: Route) -> None:
        url = r.request.url
        parts = urlsplit(url)
        if parts.scheme in {"file", "data", "blob"} or (parts.hostname or "") in LOOPBACK_HOSTS:
            seen.local.append(url)
            r.continue_()
        else:
            seen.external.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda req: (urlsplit(req.url).hostname or "") in LOOPBACK_HOSTS
            and seen.local_failures.append(f"{req.url}: {req.failure}"))
    page.on("response", lambda resp: resp.status >= 400 and seen.local_failures.append(f"{resp.url}: {resp.status}"))
    return seen


def wait_all_drawn(page: Page, n: int, timeout_ms: int = 60_000) -> None:
    """Wait until ``n`` nbexplain roots are on the page and each has drawn at least once."""
    page.wait_for_function(
        """(n) => {
            const roots = [...document.querySelectorAll('.nbx-root')];
            return roots.length >= n && roots.every((r) => Number(r.dataset.draws || 0) > 0);
        }""",
        arg=n,
        timeout=timeout_ms,
    )


def saved_state(html: Path) -> dict:
    """The widget state embedded in an exported page: model id -> saved model."""
    text = html.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', text, re.S)
    assert m, "no widget state in the page"
    return json.loads(m.group(1))["state"]


#: True when every nbexplain root on screen has drawn (or holds nothing yet: ``nbx-blank``).
VISIBLE_ROOTS_DRAWN = """() => [...document.querySelectorAll('.nbx-root')]
    .filter((r) => r.getClientRects().length > 0)
    .every((r) => Number(r.dataset.draws || 0) > 0 || r.classList.contains('nbx-blank'))"""

#: Checks each nbexplain root on screen that no earlier call checked (it marks them
#: ``data-nbx-checked``) and returns one report per root: its view, size and content (painted
#: canvases, SVG shapes, text), its kernel-only controls (how many still enabled, the note),
#: whether its drawing holds still untouched, and the client-side controls it tried, in order
#: (the IGPathView alpha slider first, then sliders, drop-downs, buttons) until one changed the
#: drawing: canvas pixels or the view's markup outside its controls and their readouts.
CHECK_VISIBLE_ROOTS = """async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const shown = (el) => el.getClientRects().length > 0 && el.getBoundingClientRect().width > 0;
  const fnv = (h, s) => {
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
    return h;
  };
  const pixels = (c) => {
    if (!c.width || !c.height) return null;
    try { return c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? null; } catch { return null; }
  };
  const painted = (c) => {
    const d = pixels(c);
    if (!d) return false;
    let first = -1;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue;
      const v = d[i] | (d[i + 1] << 8) | (d[i + 2] << 16);
      if (first < 0) first = v; else if (v !== first) return true;
    }
    return false;
  };
  const CONTROLS = 'input, select, button, label.nbx-control, .nbx-control-value';
  const signature = (root) => {
    const clone = root.cloneNode(true);
    clone.querySelectorAll(CONTROLS).forEach((e) => e.remove());
    let h = fnv(2166136261, clone.innerHTML);
    for (const c of root.querySelectorAll('canvas')) {
      const d = pixels(c);
      if (!d) continue;
      for (let i = 0; i < d.length; i += 4) {
        h ^= d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24);
        h = Math.imul(h, 16777619) >>> 0;
      }
    }
    return h;
  };
  const formControl = (c) => c instanceof HTMLInputElement || c instanceof HTMLSelectElement || c instanceof HTMLButtonElement;
  const nameOf = (c) => `${c.tagName.toLowerCase()}.${[...c.classList].join('.')}`;
  const rank = (c) => (c.classList.contains('nbx-igp-alpha') ? 0 : c.type === 'range' ? 1 : c.tagName === 'SELECT' ? 2 : 3);
  const exercise = async (root) => {
    const controls = [...root.querySelectorAll('input[type=range], select, button')]
      .filter((c) => shown(c) && !c.disabled && !c.classList.contains('nbx-needs-kernel')
                     && !c.closest('.nbx-save-hint'))
      .sort((a, b) => rank(a) - rank(b));
    const tried = [];
    for (const c of controls) {
      const before = signature(root);
      if (c.tagName === 'BUTTON') {
        c.click();
      } else {
        if (c.type === 'range') {
          if (Number(c.min) >= Number(c.max)) continue;
          c.value = c.value === c.max ? c.min : c.max;
        } else {
          if (c.options.length < 2) continue;
          c.selectedIndex = (c.selectedIndex + 1) % c.options.length;
        }
        c.dispatchEvent(new Event('input', { bubbles: true }));
        c.dispatchEvent(new Event('change', { bubbles: true }));
      }
      let changed = false;
      for (let t = 0; t < 25 && !changed; t++) {
        await frame();
        await sleep(20);
        changed = signature(root) !== before;
      }
      tried.push(nameOf(c));
      if (changed) return { controls: controls.length, tried, changed_by: nameOf(c) };
    }
    return { controls: controls.length, tried, changed_by: null };
  };
  const reports = [];
  const roots = [...document.querySelectorAll('.nbx-root:not([data-nbx-checked])')].filter(shown);
  for (const root of roots) {
    root.dataset.nbxChecked = '1';
    root.scrollIntoView({ block: 'center' });
    await frame();
    const box = root.getBoundingClientRect();
    const canvases = [...root.querySelectorAll('canvas')].filter(shown);
    const needs = [...root.querySelectorAll('.nbx-needs-kernel')];
    const report = {
      view: root.dataset.view ?? '?',
      title: (root.querySelector('.nbx-title')?.textContent ?? '').slice(0, 80),
      width: box.width,
      height: box.height,
      blank: root.classList.contains('nbx-blank'),
      draws: Number(root.dataset.draws || 0),
      canvases: canvases.length,
      painted: canvases.filter(painted).length,
      shapes: root.querySelectorAll('svg path, svg rect, svg circle, svg line, svg polyline, svg polygon, svg text').length,
      text: ((root.querySelector('.nbx-body') ?? root).innerText ?? '').trim().length,
      errors: [...root.querySelectorAll('.nbx-render-error, .nbx-error')].filter(shown).map((e) => e.textContent),
      kernel: root.dataset.kernel ?? null,
      kernel_controls: needs.length,
      kernel_enabled: needs.filter((c) => (formControl(c) ? !c.disabled : c.getAttribute('aria-disabled') !== 'true')).map(nameOf),
      kernel_note: root.querySelector('.nbx-kernel-note')?.textContent ?? '',
      dark: root.classList.contains('nbx-theme-dark'),
    };
    const still = signature(root);
    await frame();
    await sleep(30);
    report.stable = signature(root) === still;  // else a change would prove nothing about a control
    Object.assign(report, await exercise(root));
    reports.push(report);
  }
  return reports;
}"""

#: Marks the first tab on screen that is neither current nor clicked before with
#: ``data-nbx-tab="<n>"`` and returns ``n`` (``null`` when every tab on screen was clicked).
NEXT_TAB = """(n) => {
  const tab = [...document.querySelectorAll('.lm-TabBar-tab')].find((t) =>
    !t.dataset.nbxTab && !t.classList.contains('lm-mod-current') && t.getClientRects().length > 0);
  if (!tab) return null;
  tab.dataset.nbxTab = String(n);
  return n;
}"""


def root_problems(report: dict[str, Any]) -> list[str]:
    """What is wrong with one root's report from :data:`CHECK_VISIBLE_ROOTS` (empty when nothing)."""
    name = f"{report['view']} {report['title']!r}"
    problems = []
    if report["errors"]:
        problems.append(f"{name} shows an error: {report['errors']}")
    if not report["blank"]:
        if report["width"] <= 0 or report["height"] <= 0:
            problems.append(f"{name} has no size ({report['width']} x {report['height']})")
        if report["draws"] <= 0:
            problems.append(f"{name} never drew")
        if report["canvases"] and not report["painted"]:
            problems.append(f"{name}: none of its {report['canvases']} canvases is painted")
        if not report["canvases"] and not report["shapes"] and not report["text"]:
            problems.append(f"{name} is empty (no canvas, SVG shape or text)")
    if report["kernel"] != "none":
        problems.append(f"{name} thinks a kernel is connected (data-kernel={report['kernel']!r})")
    if report["kernel_enabled"]:
        problems.append(f"{name}: controls that need a kernel are enabled: {report['kernel_enabled']}")
    if report["kernel_controls"] and "needs a running kernel" not in report["kernel_note"]:
        problems.append(f"{name}: kernel-only controls but no 'needs a running kernel' note ({report['kernel_note']!r})")
    if report["controls"] and not report["stable"]:
        problems.append(f"{name} changes its drawing by itself: its controls cannot be checked")
    if report["controls"] and report["changed_by"] is None:
        problems.append(f"{name}: none of its {report['controls']} client-side controls changed the drawing "
                        f"(tried {report['tried']})")
    if report["view"] == "ig_path" and not report["blank"] and report["changed_by"] != "input.nbx-igp-alpha":
        problems.append(f"{name}: the alpha slider did not scrub offline (changed by {report['changed_by']})")
    return problems


#: True once the page holds at least one nbexplain root and their number held for 400 ms (views
#: render asynchronously, and those in a tab only once it is first opened).
ROOTS_SETTLED = """() => {
  const n = document.querySelectorAll('.nbx-root').length;
  const now = performance.now();
  const s = (window.__nbxRoots ??= { n: -1, since: now });
  if (n !== s.n) { s.n = n; s.since = now; return false; }
  return n > 0 && now - s.since > 400;
}"""


def wait_roots_settled(page: Page, timeout_ms: int = 60_000) -> None:
    """Wait until the page's nbexplain roots stopped appearing, then until those on screen drew."""
    page.evaluate("() => { window.__nbxRoots = undefined; }")
    page.wait_for_function(ROOTS_SETTLED, timeout=timeout_ms)
    page.wait_for_function(VISIBLE_ROOTS_DRAWN, timeout=timeout_ms)


def check_visible_roots(page: Page, timeout_ms: int = 60_000) -> list[dict[str, Any]]:
    """Wait until the roots settled and those on screen drew, then check the ones not checked before."""
    wait_roots_settled(page, timeout_ms)
    return list(page.evaluate(CHECK_VISIBLE_ROOTS))


def check_every_root(page: Page) -> tuple[list[dict[str, Any]], int]:
    """Check the roots on screen, then click every tab (nested ones too, as they appear) and check
    the roots each one shows; return the reports and how many tabs were clicked."""
    reports = check_visible_roots(page)
    clicked = 0
    while (n := page.evaluate(NEXT_TAB, clicked)) is not None:
        tab = page.locator(f'.lm-TabBar-tab[data-nbx-tab="{n}"]')
        tab.click()
        page.wait_for_function("(t) => t.classList.contains('lm-mod-current')", arg=tab.element_handle(),
                               timeout=10_000)
        clicked += 1
        reports += check_visible_roots(page)
    return reports, clicked
