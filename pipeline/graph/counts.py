"""The counts of `stats --attack-only` straight from ATT&CK releases, without networkx.

`pipeline.graph.query.stats(build_graph(releases))` answers the same question, but
importing networkx (~0.2 s) and building the MultiDiGraph (~0.15 s for Enterprise) cost
more than parsing the release itself, for a command that only counts. This module
follows `pipeline.graph.build.add_release` step by step over plain dicts: one node per
key (an object shared by domains is one node, live once any domain has it live), one
edge per (source, target, key), an edge only when both ends were already added. The
relation tables live here so that the graph builder and this count share them;
tests/graph/test_counts.py checks that both give the same counts on every domain.

Kept out of `pipeline.graph`, whose package import pulls in networkx.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from pipeline.model.attack import Analytic, AttackRelease, DataComponent, DetectionStrategy, Technique

# STIX relationship_type → graph relation (edges keep the STIX direction).
RELATIONS = {
    "uses": "uses",
    "mitigates": "mitigates",
    "detects": "detects",
    "attributed-to": "attributed_to",
    "targets": "targets",
}
STRUCTURAL = frozenset({"subtechnique-of", "revoked-by"})


def attack_stats(releases: Iterable[AttackRelease]) -> dict:
    """What `query.stats` returns for the graph `build_graph(releases)` would build."""
    # node key -> [kind as counted, deprecated, domains]
    nodes: dict[str, list] = {}
    # (source, target, edge key) -> relation
    edges: dict[tuple[str, str, str], str] = {}
    versions: dict[str, str] = {}
    revoked: dict = {}

    def edge(src: str, dst: str, relation: str, key: str | None = None) -> None:
        if src in nodes and dst in nodes:
            edges[(src, dst, key or relation)] = relation

    for release in releases:
        domain = release.domain
        for obj in sorted(release.objects.values(), key=lambda o: o.key):
            key = obj.key
            node = nodes.get(key)
            if node is None:
                kind = "subtechnique" if isinstance(obj, Technique) and obj.is_subtechnique else obj.kind
                nodes[key] = [kind, obj.deprecated, [domain]]
            elif domain not in node[2]:
                node[2].append(domain)
                if node[1] and obj.live:
                    node[1] = False
        versions[domain] = release.version
        revoked.update(release.revocations)

        for obj in release.objects.values():
            key = obj.key
            if isinstance(obj, Technique):
                for tactic in obj.tactics:
                    edge(key, f"tactic:{tactic}", "in_tactic")
                if obj.parent:
                    edge(key, f"technique:{obj.parent}", "subtechnique_of")
            elif isinstance(obj, DataComponent) and obj.data_source:
                edge(key, f"datasource:{obj.data_source}", "component_of")
            elif isinstance(obj, DetectionStrategy):
                for analytic in obj.analytics:
                    edge(key, f"analytic:{analytic}", "has_analytic")
            elif isinstance(obj, Analytic):
                for i, ls in enumerate(obj.log_sources):
                    if ls.data_component:
                        edge(key, f"datacomponent:{ls.data_component}", "log_source", key=f"log_source:{i}")

        objects = release.objects
        for rel in release.relationships:
            if rel.relation in STRUCTURAL:
                continue
            relation = RELATIONS.get(rel.relation)
            src, dst = objects.get(rel.source_ref), objects.get(rel.target_ref)
            if relation is not None and src is not None and dst is not None:
                edge(src.key, dst.key, relation)

    live: Counter[str] = Counter()
    deprecated: Counter[str] = Counter()
    per_domain: dict[str, Counter[str]] = {}
    for kind, is_deprecated, domains in nodes.values():
        (deprecated if is_deprecated else live)[kind] += 1
        if not is_deprecated:
            for d in domains:
                per_domain.setdefault(d, Counter())[kind] += 1
    by_relation: Counter[str] = Counter(edges.values())
    outcomes: Counter[str] = Counter(r.status for r in revoked.values())
    return {
        "releases": dict(sorted(versions.items())),
        "nodes": dict(sorted(live.items())),
        "deprecated": dict(sorted(deprecated.items())),
        "nodes_by_domain": {d: dict(sorted(c.items())) for d, c in sorted(per_domain.items())},
        "edges": dict(sorted(by_relation.items())),
        "revoked": dict(sorted(outcomes.items())),
        "total_nodes": len(nodes),
        "total_edges": len(edges),
    }
