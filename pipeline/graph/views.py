"""Everything the graph knows about one node, as plain data (for `show`, JSON and pages)."""

from __future__ import annotations

from dataclasses import asdict

import networkx as nx

from pipeline.graph.controls import controls_of_technique
from pipeline.graph.query import Lookup, neighbours, subtechniques
from pipeline.model.attack import Analytic, DetectionStrategy
from pipeline.graph.detections import detections_of

USED_BY_KINDS = ("group", "software", "campaign")


def _brief(g: nx.MultiDiGraph, key: str) -> dict:
    n = g.nodes[key]
    out = {"id": n["id"], "name": n["name"]}
    if n["deprecated"]:
        out["deprecated"] = True
    return out


def _record(g: nx.MultiDiGraph, key: str) -> dict:
    data = asdict(g.nodes[key]["record"])
    data["kind"] = g.nodes[key]["kind"]
    return data


def _analytic(g: nx.MultiDiGraph, key: str) -> dict:
    rec: Analytic = g.nodes[key]["record"]
    return {
        "id": rec.attack_id,
        "name": rec.name,
        "platforms": list(rec.platforms),
        "description": rec.description,
        "log_sources": [
            {"data_component": ls.data_component, "name": ls.name, "channel": ls.channel} for ls in rec.log_sources
        ],
    }


def technique_view(g: nx.MultiDiGraph, found: Lookup) -> dict:
    """Tactics, hierarchy, mitigations, ATT&CK detections and users of one technique."""
    key = found.key
    view: dict = {"query_redirect": None}
    if found.redirect is not None:
        r = found.redirect
        view["query_redirect"] = {"revoked": r.attack_id, "status": r.status, "chain": list(r.chain), "reason": r.reason}
    if key not in g:
        return view
    n = g.nodes[key]
    view["technique"] = _record(g, key)
    view["domains"] = list(n["domains"])
    view["tactics"] = [_brief(g, v) | {"shortname": g.nodes[v]["record"].shortname} for v, _, _ in neighbours(g, key, "in_tactic", "out")]
    parent = [v for v, _, _ in neighbours(g, key, "subtechnique_of", "out")]
    view["parent"] = _brief(g, parent[0]) if parent else None
    view["subtechniques"] = [_brief(g, s) for s in subtechniques(g, key)]
    view["mitigations"] = [
        _brief(g, u) | {"how": d.get("description", "")}
        for u, _, d in neighbours(g, key, "mitigates", "in")
        if g.nodes[u]["kind"] == "mitigation"
    ]
    strategies = []
    components = []
    for u, _, d in neighbours(g, key, "detects", "in"):
        kind = g.nodes[u]["kind"]
        if kind == "detection_strategy":
            rec: DetectionStrategy = g.nodes[u]["record"]
            analytics = [_analytic(g, f"analytic:{a}") for a in rec.analytics if f"analytic:{a}" in g]
            strategies.append(_brief(g, u) | {"analytics": analytics})
        elif kind == "datacomponent":
            components.append(_brief(g, u) | {"how": d.get("description", "")})
    view["detection_strategies"] = strategies
    view["data_components"] = components
    used_by: dict[str, list] = {k: [] for k in USED_BY_KINDS}
    for u, _, _ in neighbours(g, key, "uses", "in"):
        kind = g.nodes[u]["kind"]
        if kind in used_by:
            used_by[kind].append(_brief(g, u))
    view["used_by"] = used_by
    view["targets"] = [_brief(g, v) for v, _, _ in neighbours(g, key, "targets", "out")]
    view["controls"] = controls_of_technique(g, key)

    view["detections"] = detections_of(g, key)
    return view
