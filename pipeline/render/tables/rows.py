"""The rows of a framework's tables: its mappings as reconciled, its controls or
capabilities, and the live techniques it does not map.

One function per sheet, shared by the workbook, the CSV and the coverage workbook, so
that every format of one framework says the same thing. Rows keep the order of the
mapping table (the publisher's order, deterministic); lists are sorted.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from pipeline.model.controls import ControlCatalog
from pipeline.reconcile.mappings import ReconciledTable, Remapped
from pipeline.render.navigator.refs import natural_key

# The columns of a Mappings Explorer page (the first six), then what a reconciled row adds.
MAPPING_HEADER = (
    "Capability ID",
    "Capability Description",
    "Mapping Type",
    "ATT&CK ID",
    "ATT&CK Name",
    "Notes",
    "Score Category",
    "Score Value",
    "Comments",
    "References",
    "Capability Group",
    "Original Capability ID",
    "Original ATT&CK ID",
    "Original ATT&CK Name",
    "Original ATT&CK Release",
    "Reconciliation Status",
    "Revocation Chain",
    "Source",
    "Source Row",
)
CONTROL_HEADER = (
    "Control ID", "Name", "Family", "Family Name", "Text", "Discussion", "Parent", "Baselines", "Withdrawn", "Mapped Techniques",
)
CAPABILITY_HEADER = (
    "Capability ID", "Name", "Group", "Group Name", "Description", "Platform", "Tags", "References", "Mapped Techniques",
)
UNMAPPED_HEADER = ("ATT&CK ID", "ATT&CK Name", "Tactics", "Platforms", "Sub-technique Of")


@dataclass(frozen=True, slots=True)
class FrameworkTables:
    """One framework version in one domain: its reconciled tables and catalogue."""

    framework: str
    framework_version: str
    domain: str
    tables: tuple[ReconciledTable, ...]
    catalog: ControlCatalog | None

    @property
    def remapped(self) -> list[Remapped]:
        return [r for rt in self.tables for r in rt.remapped]


def group_tables(control_set) -> list[FrameworkTables]:
    """The enabled tables by (framework, version, domain), in that order."""
    by: dict[tuple[str, str, str], list[ReconciledTable]] = {}
    for rt in control_set.tables:
        t = rt.table
        by.setdefault((t.framework, t.framework_version, t.domain), []).append(rt)
    catalogs = {(c.framework, c.framework_version): c for c in control_set.catalogs}
    return [
        FrameworkTables(fw, ver, dom, tuple(sorted(tables, key=lambda rt: rt.table.source_id)), catalogs.get((fw, ver)))
        for (fw, ver, dom), tables in sorted(by.items())
    ]


def notes(comments: str, references: tuple[str, ...]) -> str:
    """What the Notes cell of a Mappings Explorer page holds: the comments, then the references."""
    parts = [comments] if comments else []
    if references:
        parts.append("References:\n" + "\n".join(references))
    return "\n\n".join(parts)


def mapping_row(r: Remapped) -> tuple:
    m = r.mapping
    return (
        m.subject_id or "",
        m.subject_name,
        m.mapping_type,
        r.technique_id or "",
        r.technique_name,
        notes(m.comments, m.references),
        m.score_category or "",
        m.score_value or "",
        m.comments,
        "\n".join(m.references),
        m.group,
        m.original_subject_id,
        m.original_technique_id or (m.technique_id or ""),
        m.technique_name,
        m.attack_version,
        r.status,
        " → ".join(r.chain),
        m.source_id,
        m.row,
    )


def mapping_rows(ft: FrameworkTables) -> list[tuple]:
    return [mapping_row(r) for r in ft.remapped]


def _mapped_techniques(ft: FrameworkTables) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in ft.remapped:
        if r.in_coverage:
            out.setdefault(r.mapping.subject_id or "", set()).add(r.technique_id or "")
    return out


def _by_id(ids) -> list[str]:
    """`AC-2` before `AC-10` (the order of the catalogue), the same on every run."""
    return sorted(ids, key=lambda i: (natural_key(i), i))


def control_rows(ft: FrameworkTables) -> list[tuple]:
    """Every control of the catalogue (mapped or not), then mapped ids it does not list."""
    mapped = _mapped_techniques(ft)
    families = {k: v for rt in reversed(ft.tables) for k, v in rt.table.groups.items() if v}  # the catalogue may not name them
    rows = []
    listed = ft.catalog.controls if ft.catalog is not None else {}
    for cid in _by_id(listed):
        c = listed[cid]
        rows.append((
            c.control_id, c.name, c.family, c.family_name or families.get(c.family, ""), c.text, c.discussion, c.parent or "",
            ", ".join(c.baselines), c.withdrawn, len(mapped.get(cid, ())),
        ))
    names: dict[str, tuple[str, str, str]] = {}
    for r in ft.remapped:
        m = r.mapping
        if m.subject_kind == "control" and m.subject_id and m.subject_id not in listed:
            names.setdefault(m.subject_id, (m.subject_name, m.group, m.group_name))
    for cid in _by_id(names):
        name, group, group_name = names[cid]
        rows.append((cid, name, group, group_name or families.get(group, ""), "", "", "", "", False, len(mapped.get(cid, ()))))
    return rows


def capability_rows(ft: FrameworkTables) -> list[tuple]:
    """The capabilities the tables list, by id (the first table's record wins)."""
    mapped = _mapped_techniques(ft)
    caps = {}
    for rt in ft.tables:
        for c in rt.table.capabilities:
            caps.setdefault(c.capability_id, c)
    rows = []
    for cid in _by_id(caps):
        c = caps[cid]
        rows.append((
            c.capability_id, c.name, c.group, c.group_name, c.description, c.platform,
            ", ".join(c.tags), "\n".join(c.references), len(mapped.get(cid, ())),
        ))
    return rows


def has_controls(ft: FrameworkTables) -> bool:
    return ft.catalog is not None or any(r.mapping.subject_kind == "control" for r in ft.remapped)


def live_techniques(g: nx.MultiDiGraph, domain: str) -> list[str]:
    """Node keys of the live techniques and sub-techniques of one domain, by ATT&CK id."""
    keys = [
        k for k, n in g.nodes(data=True)
        if n["kind"] == "technique" and not n["deprecated"] and domain in n["domains"]
    ]
    return sorted(keys, key=lambda k: g.nodes[k]["id"])


def tactic_names(g: nx.MultiDiGraph) -> dict[str, str]:
    """Tactic id → name (`TA0007` → `Discovery`)."""
    return {n["id"]: n["name"] for _, n in g.nodes(data=True) if n["kind"] == "tactic"}


def unmapped_rows(ft: FrameworkTables, g: nx.MultiDiGraph, live: list[str], tactics: dict[str, str]) -> list[tuple]:
    """Live techniques of the domain that no row of the framework maps (in coverage)."""
    mapped = {r.technique_id for r in ft.remapped if r.in_coverage}
    rows = []
    for key in live:
        n = g.nodes[key]
        if n["id"] in mapped:
            continue
        rec = n["record"]
        rows.append((
            n["id"], n["name"], ", ".join(tactics.get(t, t) for t in rec.tactics), ", ".join(rec.platforms), rec.parent or "",
        ))
    return rows
