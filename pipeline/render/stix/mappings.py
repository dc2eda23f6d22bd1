"""One bundle per mapped framework and version: controls and capabilities, their
hierarchy, and one relationship per mapping (graph edge) to an ATT&CK technique.

- Controls (NIST 800-53, CRI Profile, CSA CCM) and capabilities are `course-of-action`
  objects; KEV's CVEs are `vulnerability` objects (named by CVE id, as STIX does).
  Every control of the framework version is included, mapped or not; capabilities are
  those the tables map.
- Enhancements point at their base control with `subcontrol-of`, and controls at the
  controls their catalogue lists as related with `related-to` (as CTID's own STIX
  catalogues do).
- Each mapping edge of the graph becomes one relationship, typed by its kind
  (`pipeline.render.stix.vocabulary.RELATIONSHIP_TYPES`), carrying everything the edge
  carries as `x_` properties. Mappings whose technique is deprecated in the target
  release are left out (counted in the index); revoked techniques were already
  followed to their replacement by reconciliation.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from pipeline.model.frameworks import framework as framework_info
from pipeline.model.controls import Control
from pipeline.render.stix.bundle import Bundle, extension_definition, licence_statement
from pipeline.render.stix.ids import fallback_timestamp, from_us_date, stix_id
from pipeline.render.naming import bundle_stem
from pipeline.render.stix.rendered import Rendered, compact, technique_stamp
from pipeline.render.stix.vocabulary import MAPPING_PROPERTIES, RELATED_CONTROL, RELATIONSHIP_TYPES, SUBCONTROL

SUBJECT_KINDS = ("control", "capability")


def _dates(tables) -> tuple[str, str]:
    """(created, modified) of a framework's objects: its tables' creation and last-update
    dates where they publish them, else the fallback timestamp."""
    created = [d for t in tables if (d := from_us_date(t.table.metadata.get("creation_date")))]
    updated = [d for t in tables if (d := from_us_date(t.table.metadata.get("last_update")))]
    fallback = fallback_timestamp()
    modified = max(updated + created) if updated or created else fallback
    first = min(created) if created else modified
    return min(first, modified), modified


def _subject(key: str, node: dict, stamps: tuple[str, str]) -> dict:
    fw = node["framework"]
    label = framework_info(fw).label
    created, modified = stamps
    if node["kind"] == "control":
        rec = node["record"]
        withdrawn = isinstance(rec, Control) and rec.withdrawn
        return compact(
            {
                "type": "course-of-action",
                "id": stix_id("course-of-action", key),
                "created": created,
                "modified": modified,
                "name": node["name"] or node["id"],
                "description": node["text"],
                "external_references": [{"source_name": f"{label} {node['framework_version']}", "external_id": node["id"]}],
                "x_subject_kind": "control",
                "x_framework": fw,
                "x_framework_version": node["framework_version"],
                "x_family": node["family"],
                "x_family_name": node["family_name"],
                "x_discussion": rec.discussion if isinstance(rec, Control) else "",
                "x_priority": rec.priority if isinstance(rec, Control) else "",
                "x_baselines": list(rec.baselines) if isinstance(rec, Control) else [],
                "x_withdrawn": True if withdrawn else None,
            }
        )
    rec = node["record"]
    common = {
        "created": created,
        "modified": modified,
        "x_subject_kind": "capability",
        "x_framework": fw,
        "x_group": node["group"],
        "x_group_name": node["group_name"],
        "x_platform": node["platform"],
        "x_tags": list(getattr(rec, "tags", ())),
        "x_capability_comments": getattr(rec, "comments", ""),
        "x_capability_references": list(getattr(rec, "references", ())),
    }
    if fw == "kev":
        return compact(
            {
                "type": "vulnerability",
                "id": stix_id("vulnerability", key),
                "name": node["id"],
                "description": node["name"] or node["description"],
                "external_references": [{"source_name": "cve" if node["id"].startswith("CVE-") else label, "external_id": node["id"]}],
                **common,
            }
        )
    return compact(
        {
            "type": "course-of-action",
            "id": stix_id("course-of-action", key),
            "name": node["name"] or node["id"],
            "description": node["description"],
            "external_references": [{"source_name": label, "external_id": node["id"]}],
            **common,
        }
    )


def _mapping(subject_ref: str, u: str, v: str, edge_key: str, d: dict, tech: dict, stamps: tuple[str, str]) -> dict:
    rtype, reverse = RELATIONSHIP_TYPES.get(d["kind"], (RELATED_CONTROL, False))
    target = tech["record"].stix_id
    original = d["original"]
    return compact(
        {
            "type": "relationship",
            "id": stix_id("relationship", f"{u}|{rtype}|{v}|{edge_key}"),
            "created": stamps[0],
            "modified": technique_stamp(tech["record"], stamps[1]),
            "relationship_type": rtype,
            "source_ref": target if reverse else subject_ref,
            "target_ref": subject_ref if reverse else target,
            "description": d["comments"],
            "x_attack_id": tech["id"],
            "x_attack_domain": d["domain"],
            "x_mapping_kind": d["kind"],
            "x_mapping_type": d["mapping_type"],
            "x_score_category": d["score_category"],
            "x_score_value": d["score_value"],
            "x_related_score": d["related_score"],
            "x_comments": d["comments"],
            "x_references": list(d["references"]),
            "x_mapping_source": d["source"],
            "x_mapping_file": d["file"],
            "x_mapping_rows": list(d["rows"]),
            "x_published_subject_id": d["subject_published_id"],
            "x_source_technique_id": original["id"],
            "x_published_technique_id": original["published_id"],
            "x_published_technique_name": original["name"],
            "x_published_attack_version": original["attack_version"],
            "x_reconcile_status": d["status"],
            "x_revocation_chain": list(d["chain"]),
        }
    )


def _link(rtype: str, a: str, b: str, a_ref: str, b_ref: str, stamps: tuple[str, str]) -> dict:
    return {
        "type": "relationship",
        "id": stix_id("relationship", f"{a}|{rtype}|{b}"),
        "created": stamps[0],
        "modified": stamps[1],
        "relationship_type": rtype,
        "source_ref": a_ref,
        "target_ref": b_ref,
    }


def _subject_ref(key: str, node: dict) -> str:
    t = "vulnerability" if node["kind"] == "capability" and node["framework"] == "kev" else "course-of-action"
    return stix_id(t, key)


def _index(g) -> tuple[dict, dict]:
    """Mapping edges by (framework, version), and control nodes by (framework, version)."""
    edges: dict[tuple[str, str], list] = defaultdict(list)
    controls: dict[tuple[str, str], list[str]] = defaultdict(list)
    for n, node in g.nodes(data=True):
        kind = node.get("kind")
        if kind not in SUBJECT_KINDS:
            continue
        if kind == "control":
            controls[(node["framework"], node["framework_version"])].append(n)
        for v, keyed in g.succ[n].items():
            for k, d in keyed.items():
                if "source" in d:
                    edges[(d["framework"], d["framework_version"])].append((n, v, k, d))
    return edges, controls


def mapping_bundles(ctx, skip=None) -> list[Rendered]:
    """One bundle per framework version; `skip(framework, version)` true leaves one out
    (a build that takes it unchanged from the previous one)."""
    control_set = ctx.part("controls")
    edges, controls = _index(ctx.graph)
    tables_by: dict[tuple[str, str], list] = defaultdict(list)
    for rt in control_set.tables:
        tables_by[(rt.table.framework, rt.table.framework_version)].append(rt)
    catalog_by = {(c.framework, c.framework_version): c for c in control_set.catalogs}
    ext = extension_definition("mappings", MAPPING_PROPERTIES)
    out: list[Rendered] = []
    names: set[str] = set()
    for (fw, ver), tables in sorted(tables_by.items()):
        name = bundle_stem(fw, ver)
        if name.lower() in names:  # one file ignoring case (macOS, Windows)
            name = f"{name}-{stix_id('x', f'{fw}/{ver}')[-8:]}"
        names.add(name.lower())
        if skip is not None and skip(fw, ver):
            continue
        b = _FrameworkBundle(ctx, fw, ver, name, tables, catalog_by.get((fw, ver)), ext)
        b.add_controls(sorted(controls.get((fw, ver), ())))
        b.add_mappings(sorted(edges.get((fw, ver), ()), key=lambda e: (e[0], e[1], e[2])))
        b.add_links(sorted(controls.get((fw, ver), ())))
        out.append(b.finish())
    return out


class _FrameworkBundle:
    """The bundle of one framework version, filled in three passes (its controls and
    capabilities, the mappings, the links between controls); each object is marked
    with the licence of the table or catalogue it comes from."""

    def __init__(self, ctx, fw: str, ver: str, name: str, tables: list, catalog, ext) -> None:
        config = ctx.config
        self.ctx, self.g, self.fw, self.ver, self.tables, self.catalog = ctx, ctx.graph, fw, ver, tables, catalog
        self.label = framework_info(fw).label
        self.title = f"{self.label} {ver}".strip() + f" mappings to ATT&CK {ctx.attack_version}"
        self.b = Bundle(name=f"mappings/{name}", title=self.title, extension=ext)
        self.stamps = _dates(tables)
        self.table_marks = {rt.table.source_id: self.b.marking(licence_statement(config.source(rt.table.source_id), config.repositories)) for rt in tables}
        self.default_mark = self.table_marks[sorted(self.table_marks)[0]]
        self.catalog_mark = (
            self.b.marking(licence_statement(config.source(catalog.source_id), config.repositories)) if catalog else self.default_mark
        )
        self.refs: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.rendered = Rendered(path=f"mappings/{name}.json", bundle=self.b, grouping={}, summary={})

    def _mark(self, key: str) -> str:
        in_catalog = self.catalog is not None and self.g.nodes[key]["id"] in self.catalog.controls
        return self.catalog_mark if in_catalog else self.default_mark

    def _subject(self, key: str, mark: str) -> str:
        if key not in self.refs:
            self.refs[key] = self.b.add(_subject(key, self.g.nodes[key], self.stamps), mark)["id"]
        return self.refs[key]

    def add_controls(self, keys: list[str]) -> None:
        for key in keys:
            self._subject(key, self._mark(key))

    def add_mappings(self, edges: list) -> None:
        for u, v, k, d in edges:
            tech = self.g.nodes[v]
            if tech.get("kind") != "technique":
                continue
            if tech["deprecated"]:
                self.counts["deprecated_target"] += 1
                continue
            mark = self.table_marks.get(d["source"], self.default_mark)
            ref = self._subject(u, mark)
            self.b.add(_mapping(ref, u, v, k, d, tech, self.stamps), mark)
            self.rendered.techniques.add(tech["record"].stix_id)
            self.counts["mappings"] += 1

    def add_links(self, keys: list[str]) -> None:
        """Enhancement → its control, control → a related control (both in the bundle)."""
        refs, fw, ver = self.refs, self.fw, self.ver
        for key in keys:
            mark = self._mark(key)
            for parent, keyed in self.g.succ[key].items():
                if "enhancement_of" in keyed and parent in refs:
                    self.b.add(_link(SUBCONTROL, key, parent, refs[key], refs[parent], self.stamps), mark)
                    self.counts["subcontrol_of"] += 1
            for other in getattr(self.g.nodes[key]["record"], "related", ()):
                okey = f"control:{fw}/{ver}:{other}"
                if okey in refs and okey != key:
                    self.b.add(_link(RELATED_CONTROL, key, okey, refs[key], refs[okey], self.stamps), mark)
                    self.counts["related_to"] += 1

    def finish(self) -> Rendered:
        fw, ver, counts = self.fw, self.ver, self.counts
        domains = sorted({rt.table.domain for rt in self.tables})
        self.rendered.finish(
            self.ctx.attack_version,
            domains,
            {
                "description": f"{self.title}: controls and capabilities of {self.label} {ver}".strip()
                + f", with one relationship per mapping to an ATT&CK {', '.join(domains)} technique.",
                "x_framework": fw,
                "x_framework_version": ver,
                "x_mapping_sources": sorted(self.table_marks),
            },
            {
                "kind": "mappings",
                "framework": fw,
                "framework_version": ver,
                "sources": sorted(self.table_marks),
                "mappings": counts["mappings"],
                "subcontrol_of": counts["subcontrol_of"],
                "related_to": counts["related_to"],
                "left_out": {"deprecated_target": counts["deprecated_target"]},
            },
        )
        return self.rendered
