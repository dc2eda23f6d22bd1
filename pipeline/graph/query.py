"""Questions every renderer asks of the graph, answered in one place."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import networkx as nx

from pipeline.model.attack import Revocation

_TECHNIQUE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")


@dataclass(frozen=True, slots=True)
class Lookup:
    """A node found by id; `redirect` says how a revoked id led there."""

    key: str
    redirect: Revocation | None = None


def normalise_technique_id(text: str) -> str | None:
    """`t1046`, `T1046`, `technique:T1046`, `T1003/001` → canonical id, or None."""
    value = text.strip().removeprefix("technique:").upper().replace("/", ".")
    return value if _TECHNIQUE_ID.match(value) else None


def technique(g: nx.MultiDiGraph, text: str) -> Lookup | None:
    """Technique by id; a revoked id answers with the technique it was revoked for."""
    tid = normalise_technique_id(text)
    if tid is None:
        return None
    key = f"technique:{tid}"
    if key in g:
        return Lookup(key)
    rev = g.graph.get("revoked", {}).get(key)
    if rev is not None and rev.target and f"technique:{rev.target}" in g:
        return Lookup(f"technique:{rev.target}", rev)
    if rev is not None:
        return Lookup(key, rev)
    return None


def node(g: nx.MultiDiGraph, key: str):
    return g.nodes[key]["record"]


def neighbours(
    g: nx.MultiDiGraph, key: str, relation: str | None = None, direction: str = "both"
) -> list[tuple[str, str, dict]]:
    """(neighbour key, direction "out"/"in", edge attrs), sorted by key for stable output."""
    out = []
    if direction in ("out", "both"):
        out.extend((v, "out", d) for _, v, d in g.out_edges(key, data=True) if relation in (None, d["relation"]))
    if direction in ("in", "both"):
        out.extend((u, "in", d) for u, _, d in g.in_edges(key, data=True) if relation in (None, d["relation"]))
    return sorted(out, key=lambda t: (t[0], t[1], t[2].get("relation", ""), t[2].get("name", "")))


def subtechniques(g: nx.MultiDiGraph, key: str) -> list[str]:
    return sorted(u for u, _, d in g.in_edges(key, data=True) if d["relation"] == "subtechnique_of")


def tactic_order(g: nx.MultiDiGraph, domain: str) -> tuple[str, ...]:
    return g.graph.get("tactics", {}).get(domain, ())


def techniques_of_tactic(
    g: nx.MultiDiGraph, tactic: str, *, include_subtechniques: bool = False, include_deprecated: bool = False
) -> list[str]:
    """As the matrix column shows them: techniques by name, each followed by its sub-techniques."""
    key = tactic if tactic.startswith("tactic:") else f"tactic:{tactic.upper()}"
    if key not in g:
        return []
    parents = []
    for u, _, d in g.in_edges(key, data=True):
        if d["relation"] != "in_tactic":
            continue
        n = g.nodes[u]
        if n["subtechnique"] or (n["deprecated"] and not include_deprecated):
            continue
        parents.append(u)
    parents.sort(key=lambda k: (g.nodes[k]["name"].lower(), k))
    if not include_subtechniques:
        return parents
    out = []
    for p in parents:
        out.append(p)
        for s in subtechniques(g, p):
            n = g.nodes[s]
            if key in g[s] and (include_deprecated or not n["deprecated"]):
                out.append(s)
    return out


def stats(g: nx.MultiDiGraph) -> dict:
    """Counts of live and deprecated nodes per kind, edges per relation, revocations by outcome."""
    live: Counter[str] = Counter()
    deprecated: Counter[str] = Counter()
    per_domain: dict[str, Counter[str]] = {}
    for _, n in g.nodes(data=True):
        kind = "subtechnique" if n.get("subtechnique") else n["kind"]
        (deprecated if n["deprecated"] else live)[kind] += 1
        if not n["deprecated"]:
            for d in n["domains"]:
                per_domain.setdefault(d, Counter())[kind] += 1
    edges: Counter[str] = Counter(d["relation"] for _, _, d in g.edges(data=True))
    revoked: Counter[str] = Counter(r.status for r in g.graph.get("revoked", {}).values())
    return {
        "releases": dict(sorted(g.graph.get("releases", {}).items())),
        "nodes": dict(sorted(live.items())),
        "deprecated": dict(sorted(deprecated.items())),
        "nodes_by_domain": {d: dict(sorted(c.items())) for d, c in sorted(per_domain.items())},
        "edges": dict(sorted(edges.items())),
        "revoked": dict(sorted(revoked.items())),
        "total_nodes": g.number_of_nodes(),
        "total_edges": g.number_of_edges(),
    }
