"""Detections → graph nodes `detection:<source>:<id>` with `detects` edges.

An edge goes to the technique a detection's id resolves to in the target release and
carries how the id was found and what it was as published, so a page can say "via
T1170 (revoked)". A detection that names only tactics is linked to those tactics.
ATT&CK's own analytics are already `analytic:` nodes under their detection strategy
and are not added twice.
"""

from __future__ import annotations

from typing import Iterable

import networkx as nx

from pipeline.model.detections import ATTACK_ANALYTICS_SOURCE as ATTACK_SOURCE
from pipeline.model.detections import Detection


def node_key(detection: Detection) -> str:
    return f"detection:{detection.id}"


def add_detections(g: nx.MultiDiGraph, detections: Iterable[Detection]) -> dict[str, int]:
    """Add detection nodes and edges; returns how many edges went to techniques and tactics."""
    counts = {"technique": 0, "tactic": 0, "unlinked": 0}
    for d in detections:
        if d.source == ATTACK_SOURCE:
            continue
        key = node_key(d)
        edges = []
        for ref in d.techniques:
            target = f"technique:{ref.target}" if ref.target else None
            if target and target in g:
                attrs = {"how": ref.how, "published_id": ref.attack_id, "status": ref.status}
                edges.append((target, f"detects:{ref.target}", attrs))
        if not edges:
            for t in d.tactics:
                target = f"tactic:{t.attack_id}" if t.attack_id else None
                if target and target in g and t.how != "derived":
                    edges.append((target, f"detects:{t.attack_id}", {"how": t.how}))
        domains: list[str] = []
        for target, _k, _a in edges:
            for dom in g.nodes[target].get("domains", ()):
                if dom not in domains:
                    domains.append(dom)
        g.add_node(
            key,
            kind="detection",
            id=d.id,
            name=d.title,
            deprecated=d.deprecated,
            domains=tuple(domains),
            record=d,
            source=d.source,
            language=d.languages[0],
            status=d.status,
        )
        for target, edge_key, attrs in edges:
            g.add_edge(key, target, key=edge_key, relation="detects", **attrs)
            counts[target.split(":", 1)[0]] += 1
        if not edges:
            counts["unlinked"] += 1
    g.graph.setdefault("detection_edges", {}).update(counts)
    return counts


def detections_of(g: nx.MultiDiGraph, key: str) -> list[dict]:
    """Detections with a `detects` edge to one technique or tactic node, as plain data."""
    out = []
    for u, _v, data in g.in_edges(key, data=True):
        if data.get("relation") != "detects" or g.nodes[u].get("kind") != "detection":
            continue
        d: Detection = g.nodes[u]["record"]
        item = {
            "id": d.id,
            "title": d.title,
            "source": d.source,
            "languages": list(d.languages),
            "queries": len(d.queries),
            "status": d.status,
            "flags": list(d.flags),
            "how": data.get("how", ""),
            "path": d.path,
        }
        published = data.get("published_id")
        if published and data.get("status") != "live":
            item["published_id"] = published
            item["published_status"] = data.get("status", "")
        out.append(item)
    return sorted(out, key=lambda i: (i["source"], i["title"].lower(), i["id"]))
