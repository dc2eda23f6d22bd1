"""What a release change does to a team's coverage: controls and detections per technique.

Coverage is read from the graphs of both releases, generically: any edge from a
control or capability node (grouped by its `framework` attribute) or from a detection
node (grouped by its `source` attribute) to a technique node of the domain counts.
Nothing here knows a mapping format, so every framework and detection source that a
graph holds is covered the day it is added to the graph.

Per group it answers: techniques covered before and after; mappings whose technique
was revoked (remapped to the replacement, or lost when NEW has no such edge); mappings
that point at a technique deprecated in NEW; and, across all groups, the techniques
new in NEW that nothing covers (the mapping team's to-do list).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from pipeline.diff.attack import ReleaseDiff
from pipeline.graph.coverage import NON_COVERING

# Node kind → the node attribute that names its group, and the group family.
COVERER_KINDS: dict[str, tuple[str, str]] = {
    "control": ("framework", "framework"),
    "capability": ("framework", "framework"),
    "detection": ("source", "detection_source"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Remap:
    """A mapping of `mapper` to a technique revoked in NEW; `kept` if NEW maps it to the replacement."""

    mapper: str
    old_technique: str
    new_technique: str | None
    kept: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupImpact:
    family: str  # framework | detection_source
    name: str
    covered_before: int
    covered_after: int
    remapped: tuple[Remap, ...] = ()
    on_deprecated: tuple[tuple[str, str], ...] = ()  # (mapper node key, technique id)

    @property
    def change(self) -> int:
        return self.covered_after - self.covered_before


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageImpact:
    groups: tuple[GroupImpact, ...]
    uncovered_new: tuple[tuple[str, str], ...]  # (technique id, name), sorted
    techniques_before: int
    techniques_after: int

    @property
    def has_sources(self) -> bool:
        return bool(self.groups)


def group_of(g: nx.MultiDiGraph, node: str) -> tuple[str, str] | None:
    """(family, name) of a control/capability/detection node, else None.

    The attribute wins; a node without it is grouped by its key
    (`control:<framework>/<version>:<id>`, `capability:<framework>:<id>`, `detection:<source>:<id>`)."""
    data = g.nodes[node]
    spec = COVERER_KINDS.get(data.get("kind", ""))
    if spec is None:
        return None
    attr, family = spec
    name = data.get(attr)
    if not name:
        name = node.split(":")[1].split("/")[0] if node.count(":") >= 2 else "unknown"
    return family, str(name)


def _domain_techniques(g: nx.MultiDiGraph, domain: str) -> set[str]:
    return {
        n
        for n, d in g.nodes(data=True)
        if d.get("kind") == "technique" and not d.get("deprecated") and domain in d.get("domains", (domain,))
    }


def _mappings(g: nx.MultiDiGraph, covering_only: bool = False) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """group → {(mapper node, technique node)} for every edge from a coverer to a technique;
    `covering_only` keeps the edges that count as coverage (pipeline.graph.coverage rules:
    no `related_to`/`non_mappable` rows, no deprecated rules or controls)."""
    out: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for u, v, d in g.edges(data=True):
        if g.nodes[v].get("kind") != "technique":
            continue
        if covering_only and (d.get("relation") in NON_COVERING or g.nodes[u].get("deprecated")):
            continue
        grp = group_of(g, u)
        if grp is not None:
            out.setdefault(grp, set()).add((u, v))
    return out


def coverage_impact(diff: ReleaseDiff, old_graph: nx.MultiDiGraph, new_graph: nx.MultiDiGraph) -> CoverageImpact:
    domain = diff.domain
    before_techniques = _domain_techniques(old_graph, domain)
    after_techniques = _domain_techniques(new_graph, domain)
    old_maps, new_maps = _mappings(old_graph), _mappings(new_graph)
    old_cover, new_cover = _mappings(old_graph, covering_only=True), _mappings(new_graph, covering_only=True)

    revoked: dict[str, str | None] = {}
    for c in diff.section("technique", "revocations"):
        target = c.replacement_record
        revoked[f"technique:{c.attack_id}"] = None if target is None or target.deprecated else f"technique:{target.attack_id}"
    newly_deprecated = {f"technique:{c.attack_id}" for c in diff.section("technique", "deprecations")}
    newly_deprecated |= {
        f"technique:{c.attack_id}"
        for c in diff.section("technique", "revocations")
        if c.replacement_record is not None and c.replacement_record.deprecated
    }

    groups = []
    for grp in sorted(old_maps.keys() | new_maps.keys()):
        olds, news = old_maps.get(grp, set()), new_maps.get(grp, set())
        remapped = tuple(
            sorted(
                (
                    Remap(
                        mapper=u,
                        old_technique=v.split(":", 1)[1],
                        new_technique=revoked[v].split(":", 1)[1] if revoked[v] else None,
                        kept=revoked[v] is not None and (u, revoked[v]) in news,
                    )
                    for u, v in olds
                    if v in revoked
                ),
                key=lambda r: (r.mapper, r.old_technique),
            )
        )
        on_deprecated = {(u, v) for u, v in olds if v in newly_deprecated}
        on_deprecated |= {(u, v) for u, v in news if new_graph.nodes[v].get("deprecated")}
        groups.append(
            GroupImpact(
                family=grp[0],
                name=grp[1],
                covered_before=len({v for _, v in old_cover.get(grp, ())} & before_techniques),
                covered_after=len({v for _, v in new_cover.get(grp, ())} & after_techniques),
                remapped=remapped,
                on_deprecated=tuple(sorted((u, v.split(":", 1)[1]) for u, v in on_deprecated)),
            )
        )

    covered_now = {v for pairs in new_cover.values() for _, v in pairs}
    uncovered = []
    for c in diff.section("technique", "additions"):
        key = f"technique:{c.attack_id}"
        if key in after_techniques and key not in covered_now:
            uncovered.append((c.attack_id, c.name))
    return CoverageImpact(
        groups=tuple(groups),
        uncovered_new=tuple(sorted(uncovered)),
        techniques_before=len(before_techniques),
        techniques_after=len(after_techniques),
    )
