"""An ATT&CK release as workbooks, laid out as attackToExcel lays them out.

`<out>/<domain>-attack-v<version>/<domain>-attack-v<version>.xlsx` holds every sheet;
beside it one workbook per object type (`…-techniques.xlsx` with the technique sheet,
its relationship sheets and citations; `…-matrices.xlsx` with the matrix and one per
platform; …), so existing users of attackToExcel's files find the same names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from pipeline.model.attack import AttackRelease
from pipeline.excel import sheets as s
from pipeline.excel.matrix import build_matrix, matrix_sheet_name, platform_views
from pipeline.excel.xlsx import Sheet, SheetCache, WorkbookReport, write_workbook

# Object types with relationship sheets in their own workbook (attackToExcel's relatedType).
RELATED_TYPE = {
    "techniques": "technique",
    "software": "software",
    "groups": "group",
    "campaigns": "campaign",
    "assets": "asset",
    "mitigations": "mitigation",
}


@dataclass
class Workbooks:
    """Sheets of the release workbook and of each per-type workbook, in writing order."""

    prefix: str
    master: list[Sheet] = field(default_factory=list)
    per_type: dict[str, list[Sheet]] = field(default_factory=dict)
    relationship_rows: int = 0


def _sheet(table: s.Table) -> Sheet:
    return Sheet(table.name, table.header, table.rows)


def file_prefix(release: AttackRelease) -> str:
    return f"{release.domain}-attack-v{release.version}"


def major_version(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 0


def build_workbooks(release: AttackRelease) -> Workbooks:
    """Every sheet, computed once; writing them is a separate step."""
    out = Workbooks(prefix=file_prefix(release))
    rel_rows = s.relationship_rows(release)
    out.relationship_rows = len(rel_rows)
    rel_citations = s.citations_of(r.rel for r in rel_rows)
    master_citations: dict[str, tuple[str, str, str]] = {}

    def add_type(name: str, kind: str, columns, *, table_name: str | None = None) -> None:
        objects = s.live(release, kind)
        if not objects:
            return
        sheets_rel: dict[str, list[s.RelRow]] = {}
        cols = list(columns)
        related = RELATED_TYPE.get(name)
        if related is not None:
            sheets_rel = s.related_sheets(rel_rows, related)
            cols.append(s.Column("relationship citations", s.relationship_citations(sheets_rel), optional=False))
        table = s.object_table(table_name or name, objects, cols)
        citations = s.citations_of(objects)
        for k, v in s.used_citations(sheets_rel, rel_citations).items():
            citations.setdefault(k, v)
        sheets = [_sheet(table)]
        sheets += [_sheet(s.relationship_table(n, rows)) for n, rows in sheets_rel.items()]
        if citations:
            sheets.append(_sheet(s.citation_table(citations)))
        out.per_type[name] = sheets
        out.master.append(sheets[0])
        for k, v in citations.items():
            master_citations.setdefault(k, v)

    add_type("techniques", "technique", s.technique_columns(release))
    add_type("tactics", "tactic", s.BASE_COLUMNS)
    add_type("software", "software", s.SOFTWARE_COLUMNS)
    add_type("groups", "group", s.GROUP_COLUMNS)
    add_type("campaigns", "campaign", s.CAMPAIGN_COLUMNS)
    add_type("assets", "asset", s.ASSET_COLUMNS)
    add_type("mitigations", "mitigation", s.BASE_COLUMNS)

    main = build_matrix(release, "matrix")
    if main is not None:
        platform_matrices = [
            build_matrix(release, matrix_sheet_name(name), platforms) for name, platforms in platform_views(release)
        ]
        if any(platform_matrices):  # attackToExcel names the main matrix after the release's when there are several
            main = replace(main, name=matrix_sheet_name(release.matrix or release.domain))
        out.master.append(main.sheet())
        out.per_type["matrices"] = [main.sheet()] + [m.sheet() for m in platform_matrices if m is not None]

    relationships = [_sheet(s.relationship_table("relationships", rel_rows))]
    if rel_citations:
        relationships.append(_sheet(s.citation_table(rel_citations)))
    out.per_type["relationships"] = relationships
    out.master.append(relationships[0])

    if major_version(release.version) >= 18:
        mappings = s.defensive_mappings(release)
        extra = [_sheet(mappings)] if mappings.rows else []
        for name, kind, columns in (
            ("datacomponents", "datacomponent", s.PLAIN_COLUMNS),
            ("analytics", "analytic", s.PLAIN_COLUMNS),
            ("detectionstrategies", "detection_strategy", s.detection_strategy_columns(release)),
        ):
            add_type(name, kind, columns)
            if name in out.per_type:
                out.per_type[name] += extra
        if extra:
            out.master.append(extra[0])
    else:
        table = s.datasource_table(release)
        if table.rows:
            objects = s.live(release, "datasource") + s.live(release, "datacomponent")
            citations = s.citations_of(objects)
            out.per_type["datasources"] = [_sheet(table)] + ([_sheet(s.citation_table(citations))] if citations else [])
            out.master.append(_sheet(table))
            for k, v in citations.items():
                master_citations.setdefault(k, v)

    out.master.append(_sheet(s.citation_table(master_citations)))
    return out


def write_release(
    release: AttackRelease,
    out_dir: Path,
    *,
    per_type: bool = True,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[WorkbookReport]:
    """Write the release workbook (and the per-type ones) under `out_dir/<prefix>/`."""
    books = build_workbooks(release)
    folder = Path(out_dir) / books.prefix
    title = f"MITRE ATT&CK {release.domain} {release.version}"
    jobs = [(folder / f"{books.prefix}.xlsx", books.master, title)]
    if per_type:
        jobs += [
            (folder / f"{books.prefix}-{name}.xlsx", sheets, f"{title}: {name}") for name, sheets in books.per_type.items()
        ]
    reports = []
    cache = SheetCache()
    for path, sheets, book_title in jobs:
        progress(f"writing {path.name}")
        reports.append(write_workbook(path, sheets, title=book_title, cache=cache))
    return reports
