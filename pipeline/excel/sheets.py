"""One ATT&CK release as tables: the sheets mitreattack-python's attackToExcel writes,
built from our records instead of a stix2 MemoryStore.

Column names and the row selection follow attackToExcel (live objects only, sorted by
name; relationships between live objects, without `subtechnique-of`), so a user of its
spreadsheets finds the same columns. Where attackToExcel depends on set or row order
(citation lists, de-duplication) this module sorts, so the tables are deterministic.
The departures are listed in docs/output-formats.md ("ATT&CK as Excel workbooks").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Sequence

from pipeline.model.attack import (
    Analytic,
    AttackObject,
    AttackRelease,
    Campaign,
    DataComponent,
    DetectionStrategy,
    Group,
    Relationship,
    Technique,
)

# Our record kinds → the type names attackToExcel writes in `source type` / `target type`.
TYPE_TERM = {
    "technique": "technique",
    "tactic": "tactic",
    "software": "software",
    "group": "group",
    "campaign": "campaign",
    "asset": "asset",
    "mitigation": "mitigation",
    "datacomponent": "datacomponent",
    "datasource": "datasource",
    "detection_strategy": "detectionstrategy",
    "analytic": "analytic",
}
RELATIONSHIP_COLUMNS = (
    "source ID", "source name", "source ref", "source type", "mapping type",
    "target ID", "target name", "target ref", "target type", "mapping description",
    "STIX ID", "created", "last modified",
)  # fmt: skip
CITATION_COLUMNS = ("reference", "citation", "url")
DEFENSIVE_MAPPING_COLUMNS = (
    "detection_strategy_attack_id", "detection_strategy_id", "detection_strategy_name",
    "analytic_id", "analytic_name", "platforms", "log_source_name", "channel",
    "data_component_id", "data_component_name", "data_component_attack_id",
)  # fmt: skip
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
_CITATION = re.compile(r"\(Citation: (.*?)\)")

Row = tuple
Getter = Callable[[AttackObject], object]


@dataclass(frozen=True)
class Table:
    """Header and rows of one sheet, before it becomes a workbook sheet."""

    name: str
    header: tuple[str, ...]
    rows: list[Row]


@dataclass(frozen=True)
class Column:
    header: str
    get: Getter
    optional: bool = True  # left out when no row has a value, as attackToExcel's DataFrames do


@lru_cache(maxsize=None)
def format_date(stamp: str) -> str:
    """`2017-05-31T21:31:12.675Z` → `31 May 2017` (attackToExcel's format, locale-free)."""
    try:
        year, month, day = int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10])
        return f"{day:02d} {MONTHS[month - 1]} {year}"
    except (ValueError, IndexError):
        return stamp


def attack_id(obj: AttackObject) -> str:
    """The ATT&CK id, blank for pre-v18 data components (whose key is `DS0009/slug`)."""
    return "" if "/" in obj.attack_id else obj.attack_id


def _joined(values: Iterable[str], sep: str = ", ") -> str:
    return sep.join(sorted(values))


BASE_COLUMNS: tuple[Column, ...] = (
    Column("ID", attack_id, optional=False),
    Column("STIX ID", lambda o: o.stix_id, optional=False),
    Column("name", lambda o: o.name, optional=False),
    Column("description", lambda o: o.description),
    Column("url", lambda o: o.url),
    Column("created", lambda o: format_date(o.created)),
    Column("last modified", lambda o: format_date(o.modified)),
    Column("domain", lambda o: ",".join(f"{d}-attack" for d in o.domains)),
    Column("version", lambda o: o.version),
)
CONTRIBUTORS = Column("contributors", lambda o: "; ".join(sorted(o.contributors)))


def object_table(name: str, objects: Iterable[AttackObject], columns: Sequence[Column]) -> Table:
    """Rows sorted by name (then id); optional columns no row fills are left out."""
    ordered = sorted(objects, key=lambda o: (o.name, o.attack_id, o.stix_id))
    cols = [[c.get(o) for o in ordered] for c in columns]
    keep = [i for i, c in enumerate(columns) if not c.optional or any(v not in (None, "") for v in cols[i])]
    rows = [tuple(cols[i][r] for i in keep) for r in range(len(ordered))]
    return Table(name, tuple(columns[i].header for i in keep), rows)


def live(release: AttackRelease, kind: str) -> list[AttackObject]:
    return release.of_kind(kind)


# --- relationships -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelRow:
    """A relationship between two live objects, with its sheet row and the citation
    names its description uses, both computed once: every relationship appears on
    several sheets."""

    rel: Relationship
    source: AttackObject
    target: AttackObject
    source_type: str
    target_type: str
    cells: Row
    cites: tuple[str, ...]

    @classmethod
    def of(cls, rel: Relationship, s: AttackObject, t: AttackObject) -> "RelRow":
        cells = (
            attack_id(s), s.name, s.stix_id, TYPE_TERM[s.kind], rel.relation,
            attack_id(t), t.name, t.stix_id, TYPE_TERM[t.kind], rel.description,
            rel.stix_id, format_date(rel.created), format_date(rel.modified),
        )  # fmt: skip
        return cls(rel, s, t, TYPE_TERM[s.kind], TYPE_TERM[t.kind], cells, tuple(cited_names(rel.description)))


def relationship_rows(release: AttackRelease) -> list[RelRow]:
    """Relationships whose both ends are live objects of the release, except the
    structural ones (`subtechnique-of` is a techniques column; `revoked-by` leads
    from revoked objects), in attackToExcel's sort order, then by STIX id."""
    objects = release.objects
    out = []
    for rel in release.relationships:
        if rel.relation in ("subtechnique-of", "revoked-by"):
            continue
        source, target = objects.get(rel.source_ref), objects.get(rel.target_ref)
        if source is None or target is None or not (source.live and target.live):
            continue
        out.append(RelRow.of(rel, source, target))
    out.sort(
        key=lambda x: (
            x.rel.relation, x.source_type, x.target_type, x.source.name, x.target.name,
            x.source.stix_id, x.target.stix_id, x.rel.created, x.rel.modified, x.rel.stix_id,
        )
    )  # fmt: skip
    return out


def relationship_table(name: str, rows: Iterable[RelRow]) -> Table:
    return Table(name, RELATIONSHIP_COLUMNS, [r.cells for r in rows])


def _in(value: str, *options: str) -> bool:
    return value in options


# Which relationship sheets each object type's workbook has, and their names there:
# (predicate, sheet name by related type, default name). Mirrors attackToExcel.
_RELATION_SHEETS: tuple[tuple[Callable[[RelRow], bool], dict[str, str], str], ...] = (
    (
        lambda r: r.rel.relation == "uses" and _in(r.source_type, "group", "software") and _in(r.target_type, "group", "software"),
        {"group": "associated software"},
        "associated groups",
    ),
    (
        lambda r: r.rel.relation == "uses" and _in(r.source_type, "campaign", "software") and _in(r.target_type, "campaign", "software"),
        {"campaign": "associated software"},
        "associated campaigns",
    ),
    (lambda r: r.rel.relation == "uses" and r.target_type == "technique", {"technique": "procedure examples"}, "techniques used"),
    (
        lambda r: r.rel.relation == "attributed-to" and r.target_type == "group",
        {"campaign": "attributed groups", "group": "attributed campaigns"},
        "associated campaigns",
    ),
    (lambda r: r.rel.relation == "mitigates", {"technique": "associated mitigations"}, "techniques addressed"),
    (lambda r: r.rel.relation == "targets" and r.target_type == "asset", {"technique": "targeted assets"}, "associated techniques"),
    (
        lambda r: r.rel.relation == "detects" and r.source_type == "detectionstrategy",
        {"detectionstrategy": "techniques detected"},
        "associated detection strategies",
    ),
)


def related_sheets(rows: Sequence[RelRow], related_type: str) -> dict[str, list[RelRow]]:
    """The relationship sheets of one object type's workbook (attackToExcel's
    `relationshipsToDf(relatedType=…)`), name → rows, empty ones left out."""
    mine = [r for r in rows if related_type in (r.source_type, r.target_type)]
    sheets: dict[str, list[RelRow]] = {}
    for predicate, names, default in _RELATION_SHEETS:
        chosen = [r for r in mine if predicate(r)]
        if chosen:
            sheets[names.get(related_type, default)] = chosen
    return sheets


def cited_names(text: str) -> list[str]:
    return _CITATION.findall(text) if "(Citation:" in text else []


def relationship_citations(sheets: dict[str, list[RelRow]]) -> Callable[[AttackObject], str]:
    """Per object: every `(Citation: …)` named in the descriptions of its relationships
    on those sheets, sorted and unique (attackToExcel lists them in set order)."""
    by_object: dict[str, set[str]] = {}
    for rows in sheets.values():
        for r in rows:
            if r.cites:
                for end in (r.source.stix_id, r.target.stix_id):
                    by_object.setdefault(end, set()).update(r.cites)
    return lambda o: ",".join(f"(Citation: {n})" for n in sorted(by_object.get(o.stix_id, ())))


# --- citations -----------------------------------------------------------------------


def citations_of(items: Iterable[AttackObject | Relationship]) -> dict[str, tuple[str, str, str]]:
    """reference name → (reference, citation, url) for external references that are
    citations (no external id, a description that is not itself a `(Citation: …)`);
    the first one met wins, as in attackToExcel."""
    out: dict[str, tuple[str, str, str]] = {}
    for item in items:
        for ref in item.references:
            if not ref.external_id and ref.description and not ref.description.startswith("(Citation: "):
                out.setdefault(ref.source_name, (ref.source_name, ref.description, ref.url))
    return out


def citation_table(found: dict[str, tuple[str, str, str]]) -> Table:
    return Table("citations", CITATION_COLUMNS, [found[k] for k in sorted(found)])


def used_citations(sheets: dict[str, list[RelRow]], known: dict[str, tuple[str, str, str]]) -> dict[str, tuple[str, str, str]]:
    """The citations (from `known`, the relationships' own) that the descriptions of
    the relationships on these sheets use."""
    used = {n for rows in sheets.values() for r in rows for n in r.cites}
    return {n: known[n] for n in sorted(used) if n in known}


# --- object columns ------------------------------------------------------------------


def _alias_citations(obj: Group | Campaign) -> str:
    found = []
    for alias in sorted(obj.aliases[1:]):
        for ref in obj.references:
            if ref.source_name == alias:
                found.append(ref.description)
                break
    return ", ".join(found)


def technique_columns(release: AttackRelease) -> list[Column]:
    tactic_names = {t.attack_id: t.name for t in live(release, "tactic")}
    shortnames = {t.attack_id: t.shortname for t in live(release, "tactic")}

    def full_name(t: Technique) -> str:
        parent = release.get(f"technique:{t.parent}") if t.parent else None
        return f"{parent.name}: {t.name}" if parent is not None else t.name

    def in_tactic(t: Technique, shortname: str) -> bool:
        return any(shortnames.get(x) == shortname for x in t.tactics)

    # A domain without sub-techniques (ICS) gets no sub-technique columns.
    has_subs = any(isinstance(t, Technique) and t.parent for t in live(release, "technique"))

    def refs(t: Technique, source: str) -> str:
        return ", ".join(r.external_id for r in t.references if r.source_name == source and r.external_id)

    return [
        Column("ID", attack_id, optional=False),
        Column("STIX ID", lambda t: t.stix_id, optional=False),
        Column("name", full_name, optional=False),
        *BASE_COLUMNS[3:],
        Column("tactics", lambda t: _joined(tactic_names.get(x, x) for x in t.tactics)),
        Column("detection", lambda t: t.detection, optional=False),
        Column("platforms", lambda t: _joined(t.platforms)),
        Column("data sources", lambda t: _joined(t.data_sources)),
        Column("is sub-technique", lambda t: t.is_subtechnique if has_subs else None),
        Column("sub-technique of", lambda t: t.parent or ""),
        CONTRIBUTORS,
        Column("system requirements", lambda t: _joined(t.system_requirements)),
        Column("permissions required", lambda t: ", ".join(sorted(t.permissions_required, key=str.lower))),
        Column("effective permissions", lambda t: ", ".join(sorted(t.effective_permissions, key=str.lower))),
        Column("defenses bypassed", lambda t: _joined(t.defense_bypassed) if in_tactic(t, "defense-evasion") else ""),
        Column("supports remote", lambda t: t.remote_support if in_tactic(t, "execution") else None),
        Column("impact type", lambda t: _joined(t.impact_type) if in_tactic(t, "impact") else ""),
        Column("CAPEC ID", lambda t: refs(t, "capec")),
        Column("tactic type", lambda t: _joined(t.tactic_type)),
        Column("MTC ID", lambda t: refs(t, "NIST Mobile Threat Catalogue")),
    ]


SOFTWARE_COLUMNS = (
    *BASE_COLUMNS,
    CONTRIBUTORS,
    Column("platforms", lambda s: _joined(s.platforms)),
    Column("aliases", lambda s: _joined(s.aliases[1:])),
    Column("type", lambda s: s.software_type, optional=False),
)
GROUP_COLUMNS = (
    *BASE_COLUMNS,
    CONTRIBUTORS,
    Column("associated groups", lambda g: _joined(g.aliases[1:]), optional=False),
    Column("associated groups citations", _alias_citations, optional=False),
)
CAMPAIGN_COLUMNS = (
    *BASE_COLUMNS,
    Column("associated campaigns", lambda c: _joined(c.aliases[1:]), optional=False),
    Column("associated campaigns citations", _alias_citations, optional=False),
    Column("first seen", lambda c: format_date(c.first_seen) if c.first_seen else ""),
    Column("first seen citation", lambda c: c.first_seen_citation),
    Column("last seen", lambda c: format_date(c.last_seen) if c.last_seen else ""),
    Column("last seen citation", lambda c: c.last_seen_citation),
    CONTRIBUTORS,
)
ASSET_COLUMNS = (
    *BASE_COLUMNS,
    CONTRIBUTORS,
    Column("platforms", lambda a: _joined(a.platforms)),
    Column("sectors", lambda a: _joined(a.sectors)),
    Column("related assets", lambda a: "; ".join(r.name for r in a.related_assets)),
    Column("related assets sectors", lambda a: "; ".join(", ".join(r.sectors) for r in a.related_assets)),
    Column("related assets description", lambda a: "; ".join(r.description for r in a.related_assets)),
)
PLAIN_COLUMNS = (*BASE_COLUMNS, CONTRIBUTORS)


def detection_strategy_columns(release: AttackRelease) -> tuple[Column, ...]:
    def refs(ds: DetectionStrategy) -> str:
        found = (release.get(f"analytic:{a}") for a in ds.analytics)
        return "; ".join(a.stix_id for a in found if a is not None)

    return (*PLAIN_COLUMNS, Column("analytic_refs", refs))


def datasource_table(release: AttackRelease) -> Table:
    """Before ATT&CK 18: data sources and their components on one sheet (attackToExcel's
    `datasources`); a component is named `<data source>: <component>`."""

    def name(o: AttackObject) -> str:
        if isinstance(o, DataComponent):
            parent = release.get(f"datasource:{o.data_source}")
            return f"{parent.name}: {o.name}" if parent is not None and parent.live else o.name
        return o.name

    columns = (
        Column("name", name, optional=False),
        Column("ID", attack_id, optional=False),
        Column("STIX ID", lambda o: o.stix_id, optional=False),
        Column("description", lambda o: o.description, optional=False),
        Column("collection layers", lambda o: _joined(getattr(o, "collection_layers", ()))),
        Column("platforms", lambda o: _joined(getattr(o, "platforms", ()))),
        Column("created", lambda o: format_date(o.created), optional=False),
        Column("last modified", lambda o: format_date(o.modified), optional=False),
        Column("type", lambda o: o.kind, optional=False),
        Column("version", lambda o: o.version, optional=False),
        Column("url", lambda o: o.url, optional=False),
        Column("contributors", CONTRIBUTORS.get, optional=False),
    )
    objects = live(release, "datasource") + live(release, "datacomponent")
    table = object_table("datasources", objects, columns)
    # attackToExcel sorts this sheet by its display name, which object_table cannot know.
    table.rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return table


def defensive_mappings(release: AttackRelease) -> Table:
    """Detection strategy → analytic → log source, one row per log source."""
    rows = []
    for ds in sorted(live(release, "detection_strategy"), key=lambda d: (d.name, d.attack_id)):
        assert isinstance(ds, DetectionStrategy)
        for analytic_id in ds.analytics:
            analytic = release.get(f"analytic:{analytic_id}")
            if not isinstance(analytic, Analytic) or not analytic.live:
                continue
            platforms = _joined(analytic.platforms)
            for ls in analytic.log_sources:
                dc = release.get(f"datacomponent:{ls.data_component}") if ls.data_component else None
                rows.append((
                    ds.attack_id, ds.stix_id, ds.name, analytic.stix_id, analytic.attack_id, platforms,
                    ls.name, ls.channel, dc.stix_id if dc else "", dc.name if dc else "",
                    attack_id(dc) if dc else "",
                ))  # fmt: skip
    return Table("defensive mappings", DEFENSIVE_MAPPING_COLUMNS, rows)
