"""`tables/`: the mappings and the coverage as spreadsheets and plain data.

    tables/<domain>/<framework>--<version>.xlsx   sheets: mappings, controls or capabilities, unmapped techniques
    tables/<domain>/<framework>--<version>.csv    the mappings sheet (UTF-8, RFC 4180, formula-safe)
    tables/<domain>/<framework>--<version>.json   Mappings Explorer unified format (and .yaml)
    tables/coverage.xlsx                          a row per live technique; a coloured matrix per domain
    tables/index.json                             every file above with its framework, domain and counts

One set of files per enabled framework version and domain (the unified format names
one domain per file). Workbooks go through `pipeline.excel.xlsx`: fixed timestamps,
text never a formula.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.render.tables.rows import (
    CAPABILITY_HEADER,
    CONTROL_HEADER,
    MAPPING_HEADER,
    UNMAPPED_HEADER,
    FrameworkTables,
    capability_rows,
    control_rows,
    group_tables,
    has_controls,
    live_techniques,
    mapping_rows,
    tactic_names,
    unmapped_rows,
)
from pipeline.core.writing import write_json
from pipeline.excel.xlsx import Sheet, write_workbook
from pipeline.render.naming import bundle_stem
from pipeline.render.naming import digest
from pipeline.render.tables.coverage_book import coverage_sheets
from pipeline.render.tables.csv_out import write_csv
from pipeline.render.tables.unified import document
from pipeline.render.tables.yaml_out import write_yaml

DIR = "tables"


def file_stem(framework: str, version: str | None) -> str:
    """`nist_800_53--rev5`, `azure--04.26.2025`: the names the STIX bundles use too."""
    return bundle_stem(framework, version)


def table_path(framework: str, version: str | None, domain: str, ext: str) -> str:
    """Where a framework's table of one domain is, relative to the output tree (pages link it)."""
    return f"{DIR}/{domain}/{file_stem(framework, version)}.{ext}"


def framework_files(ft: FrameworkTables, g, folder: Path, stem: str, attack_version: str, live: list[str], tactics: dict[str, str]) -> tuple[list[Path], dict]:
    """The four files of one framework version in one domain, and its index entry."""
    rows = mapping_rows(ft)
    if has_controls(ft):
        subjects = Sheet("controls", CONTROL_HEADER, control_rows(ft))
    else:
        subjects = Sheet("capabilities", CAPABILITY_HEADER, capability_rows(ft))
    unmapped = unmapped_rows(ft, g, live, tactics)
    sheets = [Sheet("mappings", MAPPING_HEADER, rows), subjects, Sheet("unmapped techniques", UNMAPPED_HEADER, unmapped)]
    title = f"{ft.framework} {ft.framework_version} mappings to ATT&CK {ft.domain} {attack_version}".replace("  ", " ")
    doc = document(ft, attack_version)
    written = [
        write_workbook(folder / f"{stem}.xlsx", sheets, title=title).path,
        write_csv(folder / f"{stem}.csv", MAPPING_HEADER, rows),
        write_json(folder / f"{stem}.json", doc),
        write_yaml(folder / f"{stem}.yaml", doc),
    ]
    entry = {
        "framework": ft.framework,
        "framework_version": ft.framework_version,
        "domain": ft.domain,
        "sources": [rt.table.source_id for rt in ft.tables],
        "mappings": len(rows),
        subjects.name: len(subjects.rows),
        "unmapped_techniques": len(unmapped),
        "files": [p.relative_to(folder.parent).as_posix() for p in written],
    }
    return written, entry


def render(ctx, out: Path) -> list[Path]:
    g = ctx.graph
    units = ctx.part("units")
    base = out / DIR
    domains = ctx.domains
    tactics = tactic_names(g)
    live = {d: live_techniques(g, d) for d in domains}
    written: list[Path] = []
    index = []
    stems: set[tuple[str, str]] = set()
    groups = [ft for ft in group_tables(ctx.part("controls")) if ft.domain in live]
    for ft in groups:
        stem = file_stem(ft.framework, ft.framework_version)
        if (ft.domain, stem.lower()) in stems:  # names that differ only in unsafe characters or case

            stem = f"{stem}-{digest(ft.framework + '/' + ft.framework_version)}"
        stems.add((ft.domain, stem.lower()))
        files, entry = units.run(
            f"tables/{ft.domain}/{ft.framework}/{ft.framework_version}",
            units.framework_sources(ft.framework),
            lambda ft=ft, stem=stem: framework_files(ft, g, base / ft.domain, stem, ctx.attack_version, live[ft.domain], tactics),
        )
        written += files
        index.append(entry)
    sheets, n = coverage_sheets(g, domains, {ft.framework for ft in groups}, tactics)
    written.append(write_workbook(base / "coverage.xlsx", sheets, title=f"ATT&CK {ctx.attack_version} coverage").path)
    written.append(
        write_json(base / "index.json", {"attack_version": ctx.attack_version, "tables": index, "coverage": {"file": "coverage.xlsx", "techniques": n}})
    )
    return written
