"""The NIST 800-53 mapping workbook (`nist800-53-rN-mappings.xlsx`) → `MappingTable`.

The workbook holds the 12.1 table (`Control ID, Control Name, Mapping Type, Technique
ID, Technique Name`); rows go through the same `NistRows` logic as the TSVs. Read with
openpyxl in read-only mode: cells stream instead of building the whole sheet.
Every sheet whose header names the required columns is read; a workbook in which no
sheet does is reported once per sheet.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
import io
import warnings

from pipeline.ingest.mappings.common import TableBuilder, TableSpec
from pipeline.ingest.mappings.expand import Universe
from pipeline.ingest.mappings.nist_tsv import NistRows
from pipeline.model.controls import MappingTable

# What a damaged workbook raises from zipfile, zlib and the XML parser under openpyxl:
# SyntaxError covers ElementTree's and lxml's parse errors; zipfile raises
# NotImplementedError for unknown compression or versions and RuntimeError for an
# encrypted member.
_DAMAGED = (zipfile.BadZipFile, zlib.error, KeyError, ValueError, TypeError, OSError, EOFError, SyntaxError,
            NotImplementedError, RuntimeError)


def read_nist_xlsx(
    path: Path,
    spec: TableSpec,
    *,
    file: str | None = None,
    techniques: Universe | None = None,
    controls: Universe | None = None,
) -> MappingTable:
    """openpyxl reports a damaged workbook part (relationships, styles) with a Python
    warning printed as two lines on stderr: those become issues of the table instead."""
    b, data = spec.open(path, file)
    if data is None:
        return b.table()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _read(b, data, techniques, controls)
    for problem in dict.fromkeys(str(w.message) for w in caught):
        b.issue("xlsx-warning", f"workbook: {problem}")
    return b.table()


def _read(b: TableBuilder, data: bytes, techniques: Universe | None, controls: Universe | None) -> None:
    """The rows of the workbook into `b` (what `read_nist_xlsx` returns, minus warnings)."""
    # lazy: openpyxl costs ~0.3 s to import; only reading an .xlsx table needs it
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException  # lazy: as above

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, *_DAMAGED) as exc:
        b.issue("bad-format", f"not a readable xlsx workbook: {exc}")
        return
    try:
        for ws in wb.worksheets:
            rows = NistRows(b, techniques, controls)
            it = ws.iter_rows(values_only=True)
            header = next(it, None)
            sheet = f"sheet {ws.title!r}"
            if header is None:
                b.issue("empty-file", "sheet is empty; nothing read", sheet)
                continue
            if not rows.header(list(header), f"{sheet} row 1"):
                continue
            for n, cells in enumerate(it, start=2):
                rows.row(list(cells), f"{sheet} row {n}")
    except _DAMAGED as exc:
        b.issue("bad-format", f"unreadable xlsx content: {exc}")
    finally:
        wb.close()
