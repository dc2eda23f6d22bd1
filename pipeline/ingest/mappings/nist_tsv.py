"""NIST 800-53 mapping tables of attack-control-framework-mappings → `MappingTable`.

Two layouts share the `nist-mappings-tsv` format:

- ATT&CK 8.2–10.1: `date delivered, mitigationID, techniqueID, controlID, description`,
  where both ids may be regular expressions (expanded by `expand.Universe` against the
  table's ATT&CK release and the control catalogue; one row yields many mappings);
- ATT&CK 12.1: `controlID, controlName, mitigates, techniqueID, techniqueName`, one
  literal mapping per row.

Columns are found by header name, so either layout (and the xlsx workbook, which
reuses `NistRows`) reads through the same row logic.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Callable

from pipeline.ingest.mappings.common import TableBuilder, TableSpec
from pipeline.ingest.mappings.expand import Universe, is_pattern
from pipeline.ingest.mappings.ids import normalise_control_id, normalise_technique_id
from pipeline.ingest.mappings.tsv import tsv_rows
from pipeline.model.controls import Mapping, MappingTable

REQUIRED = ("controlid", "techniqueid")
# Normalised header → field; "mitigates" is the 12.1 tables' mapping-type column.
COLUMNS = {
    "controlid": "control",
    "techniqueid": "technique",
    "controlname": "control_name",
    "techniquename": "technique_name",
    "mitigationid": "mitigation",
    "mappingtype": "mapping_type",
    "mitigates": "mapping_type",
    "description": "description",
    "datedelivered": "date",
}
DEFAULT_TYPE = "mitigates"
_FIELDS = tuple(f for f in Mapping.__dataclass_fields__ if f not in ("subject_id", "technique_id"))


def header_key(cell: object) -> str:
    return re.sub(r"[\s_\-]+", "", str(cell or "")).lower()


def cell_text(value: object) -> str:
    """A cell as text: xlsx cells may be numbers or empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class NistRows:
    """Turns rows of either layout into mappings, expanding patterns where needed."""

    def __init__(self, b: TableBuilder, techniques: Universe | None, controls: Universe | None) -> None:
        self.b = b
        self.universes = {"technique": techniques, "control": controls}
        self.columns: dict[str, int] = {}
        self._lines: dict[tuple, str] = {}

    def header(self, cells: list, where: str, file: str | None = None) -> bool:
        """Read the header; False (with an issue) when a required column is missing."""
        keys = [header_key(c) for c in cells]
        self.columns = {}
        for i, k in enumerate(keys):
            field = COLUMNS.get(k)
            if field is not None and field not in self.columns:
                self.columns[field] = i
        missing = [k for k in REQUIRED if COLUMNS[k] not in self.columns]
        if missing:
            names = ", ".join({"controlid": "controlID", "techniqueid": "techniqueID"}[k] for k in missing)
            self.b.issue("missing-column", f"required column {names} not in the header; nothing read", where, file)
            return False
        return True

    def _ids(self, side: str, cell: str, where: str, file: str | None) -> tuple[str, ...] | None:
        literal = normalise_technique_id(cell) if side == "technique" else normalise_control_id(cell)
        if literal is not None:
            return (literal,)
        label = "ATT&CK technique" if side == "technique" else "control"
        if not cell:
            self.b.issue("missing-id", f"row has no {label} id; skipped", where, file)
            return None
        if not is_pattern(cell):
            self.b.issue("bad-id", f"malformed {label} id {cell!r}; skipped", where, file)
            return None
        universe = self.universes[side]
        if universe is None:
            self.b.issue("bad-regex", f"{label} pattern {cell!r} cannot be expanded: no {label} list to expand it against; skipped", where, file)
            return None
        try:
            found = universe.expand(cell)
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            self.b.issue("bad-regex", f"{label} pattern {cell!r} does not compile ({exc}); skipped", where, file)
            return None
        if not found:
            self.b.issue("no-match", f"{label} pattern {cell!r} matches no {label} id; skipped", where, file)
            return None
        return found

    def row(self, cells: list, where: str, file: str | None = None) -> None:
        get: Callable[[str], str] = lambda f: cell_text(cells[self.columns[f]]) if f in self.columns and self.columns[f] < len(cells) else ""
        values = {f: get(f) for f in self.columns}
        if not any(values.values()):
            return  # a blank line is not a row
        self.b.rows += 1
        line = tuple(sorted(values.items()))
        first = self._lines.get(line)
        if first is not None:
            self.b.skip("duplicate-row", f"duplicates {first}; dropped", where, file)
            return
        self._lines[line] = where
        before = len(self.b.issues)
        techniques = self._ids("technique", values.get("technique", ""), where, file)
        controls = self._ids("control", values.get("control", ""), where, file)
        if techniques is None or controls is None:
            self.b.count_dropped(self.b.issues[before].code)  # one row, however many sides were bad
            return
        self.b.expanded += len(controls) * len(techniques) - 1
        extra = tuple((k, values[k]) for k in ("mitigation", "date") if values.get(k))
        # Names describe a literal id only; a pattern's expansions get theirs from ATT&CK.
        literal_control = not is_pattern(values["control"])
        literal_technique = not is_pattern(values["technique"])
        first = None
        for control in controls:
            for technique in techniques:
                if first is not None:
                    # Same row, other ids: already checked, only the pair differs.
                    self.b.add(Mapping(**first, subject_id=control, technique_id=technique))
                    continue
                made = self.b.row(
                    where,
                    file=file,
                    subject=control,
                    technique=technique,
                    mapping_type=values.get("mapping_type") or DEFAULT_TYPE,
                    subject_name=values.get("control_name", "") if literal_control else "",
                    technique_name=values.get("technique_name", "") if literal_technique else "",
                    comments=values.get("description", ""),
                    extra=extra,
                    original_subject=values["control"],
                    original_technique=values["technique"],
                )
                if made is not None:
                    first = {f: getattr(made, f) for f in _FIELDS}


def read_nist_tsv(
    path: Path,
    spec: TableSpec,
    *,
    file: str | None = None,
    techniques: Universe | None = None,
    controls: Universe | None = None,
) -> MappingTable:
    """`techniques`/`controls`: the ids patterns expand to (the table's release, the catalogue)."""
    b, data = spec.open(path, file)
    if data is None:
        return b.table()
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        b.issue("bad-encoding", f"not UTF-8 text: {exc.reason} at byte {exc.start}")
        return b.table()
    try:
        lines, cut = tsv_rows(content)
    except csv.Error as exc:
        b.issue("bad-format", f"unreadable TSV: {exc}")
        return b.table()
    if cut is not None:  # a table cut short is not read at all: no silent half table
        b.issue("truncated", cut)
        return b.table()
    rows = NistRows(b, techniques, controls)
    if not lines or not rows.header(lines[0][1], "line 1"):
        return b.table()
    for line, cells in lines[1:]:
        rows.row(cells, f"line {line}")
    return b.table()
