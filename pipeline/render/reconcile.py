"""`reports/reconcile/`: one reconciliation report per mapping source, JSON and Markdown.

Every mapping source of the sources file is reported, enabled or not, so that a user
can see what switching a table on would bring before doing it. File names come from
source ids (validated by the sources file: letters, digits, `._-/`), with `/` → `--`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.writing import write_json
from pipeline.reconcile import accounting
from pipeline.reconcile.accounting import reasons
from pipeline.render.naming import report_stem

DIR = ("reports", "reconcile")


def file_stem(source_id: str) -> str:
    return report_stem(source_id)


def unit(source, units, config) -> tuple[str, list[str]]:
    """The render unit of one source's report: its name and the sources it reads (the
    table and its framework's catalogues). The gatherer takes the units it can from the
    previous build before reading anything (`pipeline.gather.mapping_reports`)."""
    catalogs = [sid for sid in units.framework_sources(source.framework) if config.source(sid).kind == "catalog"]
    return f"reconcile/{source.id}", [source.id, *catalogs]


def render(ctx, out: Path) -> list[Path]:
    units = ctx.part("units")
    base = out.joinpath(*DIR)
    written: list[Path] = []
    entries = []
    for found in ctx.part("mapping_reports"):  # reconciled while gathering (pipeline.gather)
        if found.taken is not None:  # the previous build's report, taken by the gatherer
            entries.append(found.taken[0])
            continue
        files, entry = _one(found, base)
        units.record(unit(found.source, units, ctx.config)[0], files, entry)
        written += files
        entries.append(entry)
    read = sorted((e for e in entries if "report" in e), key=lambda e: e["report"]["source"])
    index = [e["report"] for e in read]
    skipped = [e["skipped"] for e in entries if "skipped" in e]
    books: dict[str, list] = {"mappings": [e["books"] for e in read], "detections": []}
    if not ctx.attack_only:
        books["detections"] = accounting.detection_books(ctx.part("detection_loads"), ctx.graph)
        books["queries"] = accounting.query_books(ctx.graph)
    written.append(write_json(base / "accounting.json", books))
    (base / "accounting.md").write_text(accounting.markdown(books), encoding="utf-8")
    written.append(base / "accounting.md")
    written.append(write_json(base / "index.json", {"target_attack_version": ctx.attack_version, "sources": index, "skipped": skipped}))
    return written


def _one(found, base: Path) -> tuple[list[Path], dict]:
    """The report of one mapping source (a `MappingReport`) with its books (rows read,
    dropped, in the graph), or why it could not be read."""
    rep = found.report
    if rep is None:
        source = found.source
        return [], {"skipped": {"source": source.id, "enabled": source.enabled, "problem": found.problem}}
    stem = file_stem(rep["source"])
    path = base / f"{stem}.md"
    written = [write_json(base / f"{stem}.json", rep)]
    path.write_text(markdown(rep), encoding="utf-8")
    written.append(path)
    entry = {
        "source": rep["source"],
        "enabled": rep["enabled"],
        "framework": rep["framework"],
        "framework_version": rep["framework_version"],
        "domain": rep["domain"],
        "declared_attack_version": rep["declared_attack_version"],
        "name_check_release": rep["name_check"]["release"],
        "rows": rep["rows"],
        "mappings": rep["mappings"],
        "in_coverage": rep["in_coverage"],
        "status": rep["status"],
        "issues": len(rep["issues"]),
        "balanced": rep["accounting"]["balanced"],
        "report": f"{stem}.json",
    }
    return written, {"report": entry, "books": rep["accounting"]}


def _accounting_rows(books: dict | None) -> list[list[object]]:
    if books is None:
        return []
    return [
        ["Pairs added by pattern rows", books["expanded"]],
        ["Rows dropped at read", reasons(books["dropped_at_read"])],
        ["Mappings in the graph (out of coverage)", f"{books['in_graph']} ({books['in_graph_out_of_coverage']})"],
        ["Mappings kept out of the graph", reasons(books["not_in_graph"])],
        ["Every row accounted for", "yes" if books["balanced"] else "no"],
    ]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def markdown(rep: dict) -> str:
    """The report as a Markdown page (deterministic: no dates, sorted lists)."""
    nc = rep["name_check"]
    lines = [
        f"# Reconciliation of `{rep['source']}`",
        "",
        *_table(
            ["", ""],
            [
                ["File", f"`{rep['file']}`"],
                ["Framework", f"{rep['framework']} {rep['framework_version']}".strip()],
                ["Domain", rep["domain"]],
                ["Declared ATT&CK release", rep["declared_attack_version"]],
                ["Target ATT&CK release", rep["target_attack_version"]],
                ["Names checked against", nc["release"] or "—"],
                ["Enabled", "yes" if rep["enabled"] else "no"],
                ["Rows read / mappings / in coverage", f"{rep['rows']} / {rep['mappings']} / {rep['in_coverage']}"],
                *_accounting_rows(rep.get("accounting")),
            ],
        ),
        "",
    ]
    if nc["note"]:
        lines += [f"> {nc['note']}", ""]
    lines += ["## Status", "", *_table(["Status", "Mappings"], [[k, v] for k, v in rep["status"].items()]), ""]
    sections = [
        ("Revoked techniques", ["Technique", "Published name", "Now", "Name", "Chain", "Mappings"],
         [[r["technique"], r["published_name"], (r["target"] or "dead end") + (" (deprecated)" if r["target_deprecated"] else ""), r["target_name"], " → ".join(r["chain"]), r["mappings"]] for r in rep["revoked"]]),
        ("Renamed techniques", ["Technique", "Old name", "Name", "Mappings"],
         [[r["technique"], r["old_name"], r["name"], r["mappings"]] for r in rep["renamed"]]),
        ("Deprecated techniques (out of coverage)", ["Technique", "Name", "Mappings"],
         [[r["technique"], r["name"], r["mappings"]] for r in rep["deprecated"]]),
        ("Unknown in the target release", ["Technique", "Published name", "Rows"],
         [[r["technique"], r["published_name"], ", ".join(r["rows"][:10]) + (" …" if len(r["rows"]) > 10 else "")] for r in rep["unknown"]]),
        ("Tactic changes", ["Technique", "Now", f"Tactics in {nc['release']}", f"Tactics in {rep['target_attack_version']}"],
         [[r["technique"], r["target"], ", ".join(r["declared_tactics"]), ", ".join(r["target_tactics"])] for r in rep["tactic_changes"]]),
        (f"Names that disagree with ATT&CK {nc['release']}", ["Technique", "Published name", "Problem", "Mappings"],
         [[r["technique"], r["published_name"], r["problem"], r["mappings"]] for r in rep["name_mismatches"]]),
        ("Issues", ["File", "Record", "Code", "Problem"],
         [[i["file"], i["record"], i["code"], i["problem"]] for i in rep["issues"]]),
    ]
    for title, headers, rows in sections:
        lines += [f"## {title} ({len(rows)})", ""]
        lines += (_table(headers, rows) if rows else ["None."]) + [""]
    return "\n".join(lines)
