"""Geometry and colour checks for bqplot charts in the browser: plot size, clipped or colliding
text, and WCAG contrast against the page behind the chart.

Typical use::

    fig = root.locator(".bqplot").first
    assert plot_size(fig)["width"] > 0
    assert_ticks_apart(fig)
    assert contrast(text_colour(fig.locator("text.axislabel").first), background_of(fig)) >= 3
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator

# Boxes of the visible text of a figure: tick labels, axis labels, the heading.
_TEXT_BOXES = """(fig) => {
    const svg = fig.querySelector('svg');
    const s = svg.getBoundingClientRect();
    const out = [];
    for (const t of fig.querySelectorAll('g.axis .tick text, text.axislabel, text.mainheading')) {
        const b = t.getBoundingClientRect();
        if (!t.textContent.trim() || b.width === 0 || getComputedStyle(t).visibility === 'hidden') continue;
        const tick = t.closest('.tick');
        if (tick && getComputedStyle(tick).opacity === '0') continue;
        out.push({text: t.textContent, kind: t.classList.contains('axislabel') ? 'label' : 'tick',
                  x: b.x, y: b.y, w: b.width, h: b.height,
                  inside: b.left >= s.left - 0.5 && b.right <= s.right + 0.5 && b.top >= s.top - 0.5
                          && b.bottom <= s.bottom + 0.5});
    }
    return out;
}"""


def plot_size(figure: Locator) -> dict[str, float]:
    """Width and height (CSS px) of a bqplot figure's plot area (its background rect)."""
    return figure.evaluate(
        "(fig) => { const r = fig.querySelector('rect.plotarea_background').getBoundingClientRect();"
        " return {width: r.width, height: r.height}; }"
    )


def text_boxes(figure: Locator) -> list[dict[str, Any]]:
    """The figure's visible tick labels, axis labels and heading: text, kind, box, inside the svg."""
    return figure.evaluate(_TEXT_BOXES)


def _overlap(a: dict[str, Any], b: dict[str, Any], tol: float = 0.5) -> bool:
    return (a["x"] + tol < b["x"] + b["w"] and b["x"] + tol < a["x"] + a["w"]
            and a["y"] + tol < b["y"] + b["h"] and b["y"] + tol < a["y"] + a["h"])


def assert_ticks_apart(figure: Locator, what: str = "chart") -> list[dict[str, Any]]:
    """Fail when two text boxes of the figure overlap or one is cut by the svg's edge."""
    boxes = text_boxes(figure)
    assert boxes, f"{what}: no axis text drawn"
    clipped = [b["text"] for b in boxes if not b["inside"]]
    assert not clipped, f"{what}: text cut by the figure's edge: {clipped}"
    hits = [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if _overlap(a, b)]
    assert not hits, f"{what}: overlapping text: {hits}"
    return boxes


def parse_rgb(css: str) -> tuple[float, float, float, float]:
    """``rgb(...)`` / ``rgba(...)`` / ``#rrggbb`` as (r, g, b, alpha) with r, g, b in 0..255."""
    css = css.strip()
    if css.startswith("#"):
        h = css[1:]
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0
    nums = [float(v) for v in re.findall(r"[\d.]+", css)]
    if len(nums) < 3:
        raise ValueError(f"not a colour: {css!r}")
    return nums[0], nums[1], nums[2], nums[3] if len(nums) > 3 else 1.0


def _luminance(rgb: tuple[float, float, float]) -> float:
    def lin(c: float) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of colour ``fg`` (alpha composited over ``bg``) against opaque ``bg``."""
    fr, fgg, fb, fa = parse_rgb(fg)
    br, bgg, bb, _ = parse_rgb(bg)
    mix = (fr * fa + br * (1 - fa), fgg * fa + bgg * (1 - fa), fb * fa + bb * (1 - fa))
    hi, lo = sorted((_luminance(mix), _luminance((br, bgg, bb))), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def background_of(el: Locator) -> str:
    """The first opaque background colour behind ``el`` (walking up its ancestors)."""
    return el.evaluate(
        """(e) => {
            for (let n = e; n; n = n.parentElement) {
                const c = getComputedStyle(n).backgroundColor;
                const m = c.match(/[\\d.]+/g);
                if (m && (m.length < 4 || Number(m[3]) > 0.99)) return c;
            }
            return 'rgb(255, 255, 255)';
        }"""
    )


def paint(el: Locator, prop: str = "fill") -> str:
    """The computed ``fill`` / ``stroke`` / ``color`` of an element, with its opacity folded into alpha."""
    return el.evaluate(
        """(e, prop) => {
            const s = getComputedStyle(e);
            const m = s[prop].match(/[\\d.]+/g).map(Number);
            const own = prop === 'stroke' ? Number(s.strokeOpacity) : prop === 'fill' ? Number(s.fillOpacity) : 1;
            const a = (m.length > 3 ? m[3] : 1) * own * Number(s.opacity);
            return `rgba(${m[0]}, ${m[1]}, ${m[2]}, ${a})`;
        }""",
        prop,
    )
