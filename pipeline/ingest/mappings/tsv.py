"""Tab-separated tables read whole, and told apart from tables cut short.

A TSV carries no length and no closing mark, so a file cut in the middle of a row
(a copy interrupted, a disk filled) parses into fewer rows without an error: one
table would silently lose most of its mappings. Two traces of a cut are certain
enough to refuse the file on (the published tables show neither):

- the text ends inside a quoted cell: the closing quote never came (a cut inside a
  long quoted description, or quotes unbalanced from there on — either way the rows
  after it were swallowed into one cell);
- the last line has no line end and fewer cells than the line before it.

A cut that falls exactly on a line end, or inside a last cell of free text, leaves
no trace in the file itself: `fetch` catches those, as it checks every copy against
the digests of `data/sources.lock`.
"""

from __future__ import annotations

import csv
import io

# A line after the text: if a quoted cell is still open at the end, the reader
# swallows it into that cell instead of returning it as a row of its own.
_SENTINEL = "\uffff"


def tsv_rows(content: str) -> tuple[list[tuple[int, list[str]]], str | None]:
    """Each row with the (physical) line it ends on, and why the text looks cut short
    (None when it does not). Raises csv.Error as the csv module does."""
    ended = content.endswith(("\n", "\r"))
    reader = csv.reader(io.StringIO(content + ("" if ended else "\n") + _SENTINEL, newline=""), delimiter="\t")
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        rows.append((reader.line_num, cells))
    last_line, last = rows.pop() if rows else (0, [])
    if last != [_SENTINEL]:
        opened = rows[-1][0] + 1 if rows else 1
        cells = [c.removesuffix(_SENTINEL).removesuffix("\n") for c in last]
        rows.append((last_line - 1, cells))
        return rows, f"ends inside a quoted cell opened on line {opened}: the file is cut short (or a quote is never closed)"
    if not ended and len(rows) >= 2 and len(rows[-1][1]) < len(rows[-2][1]):
        line, cells = rows[-1]
        return rows, (
            f"the last line (line {line}) has no line end and {len(cells)} cells where the line before has "
            f"{len(rows[-2][1])}: the file is cut short"
        )
    return rows, None
