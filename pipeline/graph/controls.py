"""Controls and capabilities → graph nodes, their mappings → edges to techniques.

Node keys: `control:nist_800_53/rev5:AC-4` (control frameworks keep their version:
`AC-4` of rev4 and rev5 are different texts) and `capability:azure:network_security_groups`.
Edges run control → technique (the technique of the *target* release, after
reconciliation) and carry what a page or layer needs: relation, score, comments,
references, the source and rows they come from, and the original id, name and
ATT&CK release. The same fact published on several rows of a source (a NIST
regex table names a pair once per mitigation) is one edge listing all its rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import networkx as nx

from pipeline.model.controls import Capability, Control, ControlCatalog, Mapping, control_family, control_parent
from pipeline.model.frameworks import framework as framework_info
from pipeline.model.vocabulary import relation_of
from pipeline.reconcile.mappings import ReconciledTable, Remapped


def _node(g: nx.MultiDiGraph, key: str, domain: str | None, **attrs) -> str:
    """Add a control or capability node once; later sightings only add their domain."""
    node = g.nodes.get(key)
    if node is None:
        g.add_node(key, deprecated=False, domains=(domain,) if domain else (), **attrs)
    elif domain and domain not in node["domains"]:
        node["domains"] = node["domains"] + (domain,)
    return key


def _control_node(g: nx.MultiDiGraph, c: Control, domain: str | None) -> str:
    return _node(
        g, c.key, domain,
        kind="control", id=c.control_id, name=c.name, framework=c.framework, framework_version=c.framework_version,
        family=c.family, family_name=c.family_name, text=c.text, record=c,
    )


def _capability_node(g: nx.MultiDiGraph, c: Capability, domain: str) -> str:
    return _node(
        g, c.key, domain,
        kind="capability", id=c.capability_id, name=c.name, framework=c.framework, framework_version=c.framework_version,
        group=c.group, group_name=c.group_name, description=c.description, platform=c.platform, record=c,
    )


def _subject(g: nx.MultiDiGraph, m: Mapping, catalogs: dict, capabilities: dict[str, Capability]) -> str:
    if m.subject_kind == "control":
        cat = catalogs.get((m.framework, m.framework_version))
        c = cat.controls.get(m.subject_id) if cat is not None else None
        if c is None:
            c = Control(
                framework=m.framework,
                framework_version=m.framework_version,
                control_id=m.subject_id or "",
                name=m.subject_name,
                family=m.group or control_family(m.subject_id or ""),
                family_name=m.group_name,
                parent=control_parent(m.subject_id or ""),
            )
        key = _control_node(g, c, m.domain)
        node = g.nodes[key]
        if not node["family_name"] and m.group_name and m.group == node["family"]:
            node["family_name"] = m.group_name
        if not node["name"] and m.subject_name:
            node["name"] = m.subject_name
        return key
    cap = capabilities.get(m.subject_id or "") or Capability(
        framework=m.framework,
        framework_version=m.framework_version,
        capability_id=m.subject_id or "",
        name=m.subject_name,
        group=m.group,
        group_name=m.group_name,
    )
    return _capability_node(g, cap, m.domain)


def _edge(g: nx.MultiDiGraph, src: str, dst: str, r: Remapped, table: ReconciledTable) -> None:
    m = r.mapping
    relation = relation_of(m.kind) or m.kind
    original = {
        "id": m.technique_id,
        "published_id": m.original_technique_id,
        "name": m.technique_name,
        "attack_version": m.attack_version,
    }
    base = f"{relation}:{m.source_id}:{m.score_category or '-'}:{m.score_value or '-'}"
    existing = g.get_edge_data(src, dst) or {}
    n = 0
    while True:
        key = base if n == 0 else f"{base}#{n}"
        found = existing.get(key)
        if found is None:
            break
        if found["comments"] == m.comments and found["references"] == m.references and found["original"] == original:
            if m.row not in found["rows"]:
                found["rows"] = found["rows"] + (m.row,)
            return
        n += 1
    g.add_edge(
        src,
        dst,
        key=key,
        relation=relation,
        kind=m.kind,
        mapping_type=m.mapping_type,
        framework=m.framework,
        framework_version=m.framework_version,
        score_category=m.score_category,
        score_value=m.score_value,
        comments=m.comments,
        references=m.references,
        related_score=m.related_score,
        source=m.source_id,
        file=m.file,
        rows=(m.row,),
        subject_published_id=m.original_subject_id,
        original=original,
        status=r.status,
        chain=r.chain,
        in_coverage=r.in_coverage,
        domain=m.domain,
    )


def add_catalog(g: nx.MultiDiGraph, cat: ControlCatalog) -> None:
    """Every control of a catalogue, mapped or not, with enhancement → control edges."""
    for c in cat.controls.values():
        _control_node(g, c, None)
    for c in cat.controls.values():
        if c.parent:
            parent = f"control:{c.framework}/{c.framework_version}:{c.parent}"
            if parent in g:
                g.add_edge(c.key, parent, key="enhancement_of", relation="enhancement_of")


def add_controls(g: nx.MultiDiGraph, controls) -> dict[str, dict]:
    """Add the catalogues and reconciled tables of a `ControlSet`; returns per-source counts."""
    catalogs = {(c.framework, c.framework_version): c for c in controls.catalogs}
    for cat in controls.catalogs:
        add_catalog(g, cat)
    summary: dict[str, dict] = {}
    for table in controls.tables:
        t = table.table
        capabilities = {c.capability_id: c for c in t.capabilities}
        counts: Counter[str] = Counter()
        for r in table.remapped:
            m = r.mapping
            if m.subject_id is None or r.technique_id is None:
                counts["not_in_graph:" + r.status] += 1
                continue
            tkey = f"technique:{r.technique_id}"
            if tkey not in g:
                counts["technique_not_loaded"] += 1
                continue
            _edge(g, _subject(g, m, catalogs, capabilities), tkey, r, table)
            counts["edges"] += 1
        summary[t.source_id] = {
            "framework": t.framework,
            "framework_version": t.framework_version,
            "framework_label": framework_info(t.framework).label,
            "domain": t.domain,
            "attack_version": t.attack_version,
            "mappings": len(table.remapped),
            "counts": dict(sorted(counts.items())),
        }
    g.graph.setdefault("control_sources", {}).update(summary)
    return summary


def controls_of_technique(g: nx.MultiDiGraph, key: str) -> dict[str, list[dict]]:
    """Controls and capabilities mapped to one technique, grouped by framework."""
    out: dict[str, list[dict]] = defaultdict(list)
    for u, _, d in g.in_edges(key, data=True):
        n = g.nodes[u]
        if n["kind"] not in ("control", "capability") or "source" not in d:
            continue
        out[n["framework"]].append(
            {
                "subject_kind": n["kind"],
                "id": n["id"],
                "name": n["name"],
                "framework_version": d["framework_version"],
                "group": n.get("family") or n.get("group") or "",
                "relation": d["relation"],
                "kind": d["kind"],
                "mapping_type": d["mapping_type"],
                "score_category": d["score_category"],
                "score_value": d["score_value"],
                "comments": d["comments"],
                "references": list(d["references"]),
                "source": d["source"],
                "rows": list(d["rows"]),
                "status": d["status"],
                "in_coverage": d["in_coverage"],
                "original": dict(d["original"]),
            }
        )
    for entries in out.values():
        entries.sort(key=lambda e: (e["framework_version"], e["subject_kind"], e["id"], e["relation"], e["score_category"] or "", e["score_value"] or "", e["source"], e["rows"]))
    return dict(sorted(out.items()))
