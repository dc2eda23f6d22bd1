"""NIST 800-53 control catalogues → `ControlCatalog` (control text for control nodes).

Three layouts:

- rev5 TSV: `Control Identifier, Control (or Control Enhancement) Name, Control (or
  Control Enhancement), Discussion, Related Controls`, one row per control or
  enhancement (`AC-2(1)`);
- rev4 TSV: `FAMILY, NAME, TITLE, PRIORITY, BASELINE-IMPACT, DESCRIPTION, SUPPLEMENTAL
  GUIDANCE, RELATED`, where enhancements are written `AC-2 (1)` and the statement's
  parts (`AC-1a.`, `AC-2 (7)(a)`) follow their control on rows of their own; the parts
  are joined into the control's text;
- STIX 2.0 bundles (`course-of-action` per control, `subcontrol-of` relationships).

Ids are normalised (`AC-2 (1)` → `AC-2(1)`); an enhancement's `parent` is its base
control.
"""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

from pipeline.core.errors import Issue
from pipeline.ingest.mappings.common import TableSpec, parse_json, read_bytes, text
from pipeline.ingest.mappings.ids import control_family, control_parent, normalise_control_id
from pipeline.ingest.mappings.tsv import tsv_rows
from pipeline.model.controls import Control, ControlCatalog

# A catalogue id, then the label of a statement part if the row is one: `a.`, `a.1.`
# after a control, `(a)`, `(a)(1)` after an enhancement.
_ID_AND_PART = re.compile(r"^\s*([A-Za-z]{2}-\d+(?:\s*\(\d+\))?)\s*((?:[a-z]\.(?:\d+\.)?)|(?:\([a-z]\)(?:\(\d+\))?))?\s*$")


class _Collector:
    def __init__(self, spec: TableSpec, file: str) -> None:
        self.spec = spec
        self.file = file
        self.controls: dict[str, Control] = {}
        self.issues: list[Issue] = []

    def issue(self, code: str, problem: str, record: str | None = None, file: str | None = None) -> None:
        self.issues.append(Issue(code=code, problem=problem, file=file or self.file, record=record))

    def add(self, control: Control, where: str) -> None:
        if control.control_id in self.controls:
            self.issue("duplicate-row", f"control {control.control_id} is listed twice; the first is kept", where)
            return
        self.controls[control.control_id] = control

    def catalog(self) -> ControlCatalog:
        return ControlCatalog(
            source_id=self.spec.source_id,
            file=self.file,
            framework=self.spec.framework,
            framework_version=self.spec.framework_version,
            controls=dict(sorted(self.controls.items())),
            issues=tuple(self.issues),
        )

    def control(self, cid: str, **fields) -> Control:
        return Control(
            framework=self.spec.framework,
            framework_version=self.spec.framework_version,
            control_id=cid,
            family=control_family(cid),
            parent=control_parent(cid),
            **fields,
        )


def _related(cell: str) -> tuple[str, ...]:
    out = []
    for part in re.split(r"[,;\s]+", cell):
        cid = normalise_control_id(part) if part else None
        if cid and cid not in out:
            out.append(cid)
    return tuple(out)


def _withdrawn(statement: str) -> bool:
    return statement.lstrip().startswith("[Withdrawn")


def _tsv_rows(path: Path, c: _Collector) -> list[list[str]] | None:
    data = read_bytes(path, c.issue, limits=c.spec.limits)
    if data is None:
        return None
    try:
        lines, cut = tsv_rows(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        c.issue("bad-encoding", f"not UTF-8 text: {exc.reason} at byte {exc.start}")
    except csv.Error as exc:
        c.issue("bad-format", f"unreadable TSV: {exc}")
    else:
        if cut is None:
            return [cells for _, cells in lines]
        c.issue("truncated", cut)  # a catalogue cut short is not read at all
    return None


def read_nist_catalog_tsv(path: Path, spec: TableSpec, *, file: str | None = None) -> ControlCatalog:
    """Either TSV layout, told apart by its header."""
    c = _Collector(spec, file or str(path))
    rows = _tsv_rows(path, c)
    if not rows:
        if rows is not None:
            c.issue("empty-file", "file is empty; nothing read")
        return c.catalog()
    header = [h.strip().upper() for h in rows[0]]
    if "CONTROL IDENTIFIER" in header:
        _rev5(rows, header, c)
    elif "NAME" in header and "TITLE" in header:
        _rev4(rows, header, c)
    else:
        c.issue("missing-column", "header has neither `Control Identifier` (rev5) nor `NAME`/`TITLE` (rev4); nothing read", "line 1")
    return c.catalog()


def _cells(row: list[str], index: dict[str, int], *names: str) -> list[str]:
    return [row[index[n]].strip() if n in index and index[n] < len(row) else "" for n in names]


def _rev5(rows: list[list[str]], header: list[str], c: _Collector) -> None:
    index = {h: i for i, h in enumerate(header)}
    name_col = next((h for h in header if h.startswith("CONTROL (OR CONTROL ENHANCEMENT) NAME")), "")
    text_col = next((h for h in header if h.startswith("CONTROL (OR CONTROL ENHANCEMENT)") and h != name_col), "")
    for n, row in enumerate(rows[1:], start=2):
        raw, name, statement, discussion, related = _cells(row, index, "CONTROL IDENTIFIER", name_col, text_col, "DISCUSSION", "RELATED CONTROLS")
        if not any((raw, name, statement)):
            continue
        cid = normalise_control_id(raw)
        if cid is None:
            c.issue("bad-id", f"malformed control id {raw!r}; skipped", f"line {n}")
            continue
        c.add(
            c.control(cid, name=name, text=statement, discussion=discussion, related=_related(related), withdrawn=_withdrawn(statement)),
            f"line {n}",
        )


def _rev4(rows: list[list[str]], header: list[str], c: _Collector) -> None:
    index = {h: i for i, h in enumerate(header)}
    parts: dict[str, list[str]] = {}
    for n, row in enumerate(rows[1:], start=2):
        family, raw, title, priority, impact, statement, guidance, related = _cells(
            row, index, "FAMILY", "NAME", "TITLE", "PRIORITY", "BASELINE-IMPACT", "DESCRIPTION", "SUPPLEMENTAL GUIDANCE", "RELATED"
        )
        if not any((raw, title, statement)):
            continue
        m = _ID_AND_PART.match(raw)
        cid = normalise_control_id(m.group(1)) if m else None
        if cid is None:
            c.issue("bad-id", f"malformed control id {raw!r}; skipped", f"line {n}")
            continue
        part = m.group(2) or ""
        if part:
            parts.setdefault(cid, []).append(f"{part} {statement}".strip())
            continue
        c.add(
            c.control(
                cid,
                name=title.title() if title.isupper() else title,
                family_name=family.title() if family.isupper() else family,
                text=statement,
                discussion=guidance,
                related=_related(related),
                priority=priority,
                baselines=tuple(b.strip() for b in impact.split(",") if b.strip()),
                withdrawn=_withdrawn(statement),
            ),
            f"line {n}",
        )
    for cid, lines in parts.items():
        control = c.controls.get(cid)
        if control is None:
            c.issue("bad-row", f"statement part of {cid}, which is not in the catalogue; ignored")
            continue
        c.controls[cid] = replace(control, text="\n".join([control.text, *lines]).strip())


def read_nist_catalog_stix(path: Path, spec: TableSpec, *, file: str | None = None) -> ControlCatalog:
    """Controls as `course-of-action` objects of a STIX 2.0 bundle."""
    c = _Collector(spec, file or str(path))
    data = read_bytes(path, c.issue, limits=c.spec.limits)
    if data is None:
        return c.catalog()
    ok, doc = parse_json(data, c.issue, limits=c.spec.limits)
    if not ok:
        return c.catalog()
    objects = doc.get("objects") if isinstance(doc, dict) else None
    if not isinstance(objects, list):
        c.issue("bad-format", "not a STIX bundle: no \"objects\" list")
        return c.catalog()
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or obj.get("type") != "course-of-action":
            continue
        where = text(obj.get("id")) or f"objects[{i}]"
        refs = obj.get("external_references")
        raw = ""
        if isinstance(refs, list) and refs and isinstance(refs[0], dict):
            raw = text(refs[0].get("external_id"))
        cid = normalise_control_id(raw) if raw else None
        if cid is None:
            c.issue("bad-id", f"course-of-action without a control id (external_id {raw!r}); skipped", where)
            continue
        impact = obj.get("x_mitre_impact")
        description = text(obj.get("description"))
        c.add(
            c.control(
                cid,
                name=text(obj.get("name")),
                family_name=text(obj.get("x_mitre_family")),
                text=description,
                priority=text(obj.get("x_mitre_priority")),
                baselines=tuple(v for v in impact if isinstance(v, str)) if isinstance(impact, list) else (),
                withdrawn=_withdrawn(description),
            ),
            where,
        )
    return c.catalog()
