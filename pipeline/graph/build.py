"""ATT&CK releases → one MultiDiGraph.

Node keys are stable strings (`technique:T1046`, `tactic:TA0007`) so that every later
stage, layer and page can name a node without holding the graph. Edge keys are the
relation name, so adding the same fact twice (an object shared by two domains) is a
no-op instead of a duplicate edge.
"""

from __future__ import annotations

from typing import Iterable

import networkx as nx

from pipeline.graph.counts import RELATIONS, STRUCTURAL  # shared with the networkx-free count of `stats`
from pipeline.model.attack import AttackObject, AttackRelease, DataComponent, DetectionStrategy, Technique, Analytic


def _add_node(g: nx.MultiDiGraph, obj: AttackObject, domain: str) -> None:
    key = obj.key
    node = g.nodes.get(key)
    if node is None:
        g.add_node(
            key,
            kind=obj.kind,
            id=obj.attack_id,
            name=obj.name,
            deprecated=obj.deprecated,
            domains=(domain,),
            record=obj,
        )
        if isinstance(obj, Technique):
            g.nodes[key]["subtechnique"] = obj.is_subtechnique
    elif domain not in node["domains"]:
        # An object shared by domains (a group, a mitigation) is one node.
        node["domains"] = node["domains"] + (domain,)
        if node["deprecated"] and obj.live:
            node.update(deprecated=False, record=obj, name=obj.name)


def _add_edge(g: nx.MultiDiGraph, src: str, dst: str, relation: str, key: str | None = None, **attrs) -> None:
    if src in g and dst in g:
        g.add_edge(src, dst, key=key or relation, relation=relation, **attrs)


def add_release(g: nx.MultiDiGraph, release: AttackRelease) -> dict[str, int]:
    """Add one domain of a release; returns the relationships it could not place, by reason."""
    domain = release.domain
    for obj in sorted(release.objects.values(), key=lambda o: o.key):
        _add_node(g, obj, domain)
    g.graph.setdefault("releases", {})[domain] = release.version
    g.graph.setdefault("tactics", {})[domain] = release.tactics
    g.graph.setdefault("matrices", {})[domain] = release.matrix
    g.graph.setdefault("revoked", {}).update(release.revocations)

    for obj in release.objects.values():
        key = obj.key
        if isinstance(obj, Technique):
            for tactic in obj.tactics:
                _add_edge(g, key, f"tactic:{tactic}", "in_tactic", domain=domain)
            if obj.parent:
                _add_edge(g, key, f"technique:{obj.parent}", "subtechnique_of", domain=domain)
        elif isinstance(obj, DataComponent) and obj.data_source:
            _add_edge(g, key, f"datasource:{obj.data_source}", "component_of", domain=domain)
        elif isinstance(obj, DetectionStrategy):
            for analytic in obj.analytics:
                _add_edge(g, key, f"analytic:{analytic}", "has_analytic", domain=domain)
        elif isinstance(obj, Analytic):
            for i, ls in enumerate(obj.log_sources):
                if ls.data_component:
                    _add_edge(
                        g, key, f"datacomponent:{ls.data_component}", "log_source",
                        key=f"log_source:{i}", domain=domain, name=ls.name, channel=ls.channel,
                    )

    skipped: dict[str, int] = {}
    objects = release.objects
    for rel in release.relationships:
        if rel.relation in STRUCTURAL:
            continue
        relation = RELATIONS.get(rel.relation)
        src, dst = objects.get(rel.source_ref), objects.get(rel.target_ref)
        if relation is None:
            reason = f"unknown relation {rel.relation}"
        elif src is None or dst is None:
            reason = "endpoint revoked or missing"
        else:
            _add_edge(g, src.key, dst.key, relation, domain=domain, description=rel.description, stix_id=rel.stix_id)
            continue
        skipped[reason] = skipped.get(reason, 0) + 1
    g.graph.setdefault("skipped_relationships", {})[domain] = skipped
    return skipped


def build_graph(releases: Iterable[AttackRelease]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for release in releases:
        add_release(g, release)
    return g
