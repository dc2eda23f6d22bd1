"""CSV with the guarantees of the workbooks: UTF-8, RFC 4180 quoting, no formulas.

A CSV cell has no "this is text" flag, so a cell a spreadsheet would read as a
formula or a DDE call (first character `=`, `+`, `-`, `@`, tab, CR, LF: the triggers
of `pipeline.excel.xlsx`) gets a leading apostrophe, the usual defence; the value
itself is unchanged in the JSON and YAML exports. The byte-order mark lets Excel
detect UTF-8 (without it, it reads the file in the local code page).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Sequence

from pipeline.excel.xlsx import FORMULA_TRIGGERS


def safe_cell(value: object) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "TRUE" if value else "FALSE"
    text = str(value)
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([safe_cell(h) for h in header])
    w.writerows([safe_cell(v) for v in row] for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return path
