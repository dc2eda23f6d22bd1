"""The ATT&CK matrix as a heatmap: one column per tactic, one cell per technique,
sub-techniques folded under their technique (`<details>`: open and closed without
JavaScript), every cell coloured by its class and linking its technique's page, and a
legend with the number of techniques of each class.

`heatmap` takes the class of each technique as a mapping (technique key → class), so
any view of the matrix is one call: coverage classes on the home page, mapping
categories on a framework page, the coverage of a group's techniques on its page.
A technique without a class is drawn pale (`Palette.outside`), or left out with
`only_classified` (a group page shows only what the group uses).

The output is one line of HTML (a raw HTML block to Markdown): nothing in it is read as
Markdown, and every source string is escaped with `html.escape`. The outer element is a
`<figure>`, never nested inside: material's search indexer forgets an exclusion when
an element of the same tag as the excluded one closes inside it.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Callable, Mapping

from pipeline.render.pictures.matrix import Cell, Matrix
from pipeline.render.pictures.palette import OUTSIDE_COLOR, Palette, text_color

Href = Callable[[str], "str | None"]


def _a(text: str, href: str | None, cls: str, extra: str = "") -> str:
    if href:
        return f'<a class="{cls}" href="{escape(href)}"{extra}>{text}</a>'
    return f'<span class="{cls}"{extra}>{text}</span>'


def _cell(c: Cell, klass: str | None, palette: Palette, href: Href, notes: Mapping[str, str], sub: bool) -> str:
    color = palette.color(klass)
    label = palette.label(klass)
    title = f"{c.id} {c.name}" + (f": {label}" if label else "") + (f"; {notes[c.key]}" if notes.get(c.key) else "")
    extra = (
        f' data-technique="{escape(c.id)}" data-class="{escape(klass or "")}"'
        f' style="background:{color};color:{text_color(color)}" title="{escape(title)}"'
    )
    return _a(escape(c.name), href(c.key), "atk-cell atk-sub" if sub else "atk-cell", extra)


def legend(palette: Palette, counts: Mapping[str | None, int], *, outside: bool = True) -> str:
    items = []
    for s in palette.swatches:
        items.append(f'<span class="atk-key"><span class="atk-swatch" style="background:{s.color}"></span>{escape(s.label)} <b>{counts.get(s.klass, 0)}</b></span>')
    if outside and palette.outside and counts.get(None):
        items.append(f'<span class="atk-key"><span class="atk-swatch" style="background:{OUTSIDE_COLOR}"></span>{escape(palette.outside)} <b>{counts[None]}</b></span>')
    return f'<div class="atk-legend">{"".join(items)}</div>'


def heatmap(
    matrix: Matrix,
    classes: Mapping[str, str],
    palette: Palette,
    href: Href,
    *,
    notes: Mapping[str, str] | None = None,
    only_classified: bool = False,
    caption: str = "",
) -> str:
    """The heatmap of `matrix`: `classes` maps technique keys to a class of `palette`;
    `href(key)` is the link of a technique's or tactic's page (None: not linked);
    `notes` add a line to a cell's tooltip."""
    notes = notes or {}
    counts: Counter[str | None] = Counter()
    for key in matrix.keys():
        counts[classes.get(key)] += 1
    columns = []
    for col in matrix.columns:
        cells = []
        for t, subs in col.techniques:
            shown_subs = [s for s in subs if not only_classified or s.key in classes]
            if only_classified and t.key not in classes and not shown_subs:
                continue
            cell = _cell(t, classes.get(t.key), palette, href, notes, False)
            if shown_subs:
                inner = "".join(_cell(s, classes.get(s.key), palette, href, notes, True) for s in shown_subs)
                cells.append(f'<details class="atk-parent"><summary>{cell}<span class="atk-n" title="sub-techniques">{len(shown_subs)}</span></summary>{inner}</details>')
            else:
                cells.append(cell)
        if only_classified and not cells:
            continue
        head = _a(escape(col.tactic.name), href(col.tactic.key), "atk-tactic-name", f' title="{escape(col.tactic.id)} {escape(col.tactic.name)}"')
        columns.append(f'<div class="atk-col"><div class="atk-tactic">{head}<span class="atk-count">{len(col.techniques)}</span></div>{"".join(cells)}</div>')
    cap = f'<p class="atk-caption">{escape(caption)}</p>' if caption else ""
    body = "".join(columns) or '<p class="atk-empty">No technique to show.</p>'
    return (
        f'<figure class="atk-heatmap" data-domain="{escape(matrix.domain)}" data-search-exclude="true">{cap}'
        f"{legend(palette, counts, outside=not only_classified)}"
        f'<div class="atk-matrix">{body}</div></figure>'
    )
