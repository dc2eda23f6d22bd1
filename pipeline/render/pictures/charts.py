"""Horizontal bar charts as inline SVG: a stacked bar per row (coverage per tactic) and
a plain bar per row (techniques covered per framework).

Fixed geometry in a `viewBox` scaled to the column's width, text in the SVG (no
font but the page's), a `<title>` on every bar for its numbers, labels linking their
pages where a link is given. Every label is HTML-escaped, so a hostile name stays text
(`</title><script>` included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Mapping

from pipeline.render.pictures.palette import Palette, text_color

WIDTH = 720
LABEL = 210  # label column
NUMBER = 70  # number column at the right
ROW = 22
BAR = 16
TOP = 4


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    href: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)  # class → number (stacked)
    value: int = 0  # plain bars
    total: int = 0  # what `value` is a part of (plain bars: shown as "value / total")


def _label(b: Bar, y: float) -> str:
    text = escape(b.label if len(b.label) <= 34 else b.label[:33] + "…")
    t = f'<text x="{LABEL - 8}" y="{y + BAR / 2}" text-anchor="end" dominant-baseline="central" class="atk-chart-label"><title>{escape(b.label)}</title>{text}</text>'
    return f'<a href="{escape(b.href)}">{t}</a>' if b.href else t


def _svg(height: int, title: str, body: str) -> str:
    return (
        f'<svg class="atk-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="12"><title>{escape(title)}</title>{body}</svg>'
    )


def stacked_bars(bars: list[Bar], palette: Palette, title: str) -> str:
    """One bar per row, its parts in the palette's order, as shares of the row's total
    (the number at the right), and a legend of the palette under the chart."""
    span = WIDTH - LABEL - NUMBER
    parts = []
    for i, b in enumerate(bars):
        y = TOP + i * ROW
        total = sum(b.counts.values())
        parts.append(_label(b, y))
        x = float(LABEL)
        for s in palette.swatches:
            n = b.counts.get(s.klass, 0)
            if not n:
                continue
            w = span * n / total
            tip = f"{b.label}: {s.label} {n} of {total}"
            number = f'<text x="{x + w / 2:.1f}" y="{y + BAR / 2}" text-anchor="middle" dominant-baseline="central" fill="{text_color(s.color)}">{n}</text>' if w >= 22 else ""
            parts.append(f'<g><title>{escape(tip)}</title><rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR}" fill="{s.color}" data-class="{escape(s.klass)}"/>{number}</g>')
            x += w
        parts.append(f'<text x="{WIDTH - NUMBER + 6}" y="{y + BAR / 2}" dominant-baseline="central">{total}</text>')
    y = TOP + len(bars) * ROW + 6
    x = float(LABEL)
    for s in palette.swatches:
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{s.color}"/><text x="{x + 16:.1f}" y="{y + 6}" dominant-baseline="central">{escape(s.label)}</text>')
        x += 22 + 6.5 * len(s.label)
    return _svg(y + 18, title, "".join(parts))


def bars(bars: list[Bar], color: str, title: str) -> str:
    """One bar per row for `value`, on one scale (the largest `total`), with
    "value / total" at the right."""
    span = WIDTH - LABEL - NUMBER
    scale = max((b.total or b.value for b in bars), default=0) or 1
    parts = []
    for i, b in enumerate(bars):
        y = TOP + i * ROW
        parts.append(_label(b, y))
        if b.total:
            parts.append(f'<rect x="{LABEL}" y="{y}" width="{span * b.total / scale:.1f}" height="{BAR}" fill="#e0e0e0"/>')
        w = span * b.value / scale
        tip = f"{b.label}: {b.value}" + (f" of {b.total} ({100 * b.value / b.total:.0f} %)" if b.total else "")
        parts.append(f'<g><title>{escape(tip)}</title><rect x="{LABEL}" y="{y}" width="{w:.1f}" height="{BAR}" fill="{color}"/></g>')
        shown = f"{b.value} / {b.total}" if b.total else str(b.value)
        parts.append(f'<text x="{WIDTH - NUMBER + 6}" y="{y + BAR / 2}" dominant-baseline="central">{shown}</text>')
    return _svg(TOP + len(bars) * ROW + 4, title, "".join(parts))


def strip(cells: list[tuple[str, str, str | None]], title: str, size: int = 14) -> str:
    """A row of small squares (label, colour, href): a technique's sub-techniques at a
    glance on its card."""
    parts = []
    for i, (label, color, href) in enumerate(cells):
        rect = f'<rect x="{i * (size + 3)}" y="0" width="{size}" height="{size}" rx="2" fill="{color}"><title>{escape(label)}</title></rect>'
        parts.append(f'<a href="{escape(href)}">{rect}</a>' if href else rect)
    width = max(len(cells) * (size + 3), 1)
    return (
        f'<svg class="atk-strip" viewBox="0 0 {width} {size}" width="{width}" height="{size}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )
