"""The ATT&CK matrix of one domain as the pictures draw it: tactics in the release's
order, each tactic's techniques by name, each technique with its sub-techniques of
that tactic (the order of ATT&CK's own matrix and of `techniques_of_tactic`)."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from pipeline.graph.query import subtechniques


@dataclass(frozen=True, slots=True)
class Cell:
    key: str  # graph node key
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Column:
    tactic: Cell
    techniques: tuple[tuple[Cell, tuple[Cell, ...]], ...]  # (technique, its sub-techniques)


@dataclass(frozen=True, slots=True)
class Matrix:
    domain: str
    label: str
    columns: tuple[Column, ...]

    def keys(self) -> set[str]:
        """Every technique and sub-technique drawn, by node key."""
        return {c.key for col in self.columns for t, subs in col.techniques for c in (t, *subs)}


def _cell(g: nx.MultiDiGraph, key: str) -> Cell:
    n = g.nodes[key]
    return Cell(key=key, id=n["id"], name=n["name"])


def matrix_of(g: nx.MultiDiGraph, domain: str) -> Matrix:
    """The live techniques of `domain`, as its matrix shows them."""
    columns = []
    for tactic in g.graph.get("tactics", {}).get(domain, ()):
        tkey = f"tactic:{tactic}"
        if tkey not in g or g.nodes[tkey]["deprecated"]:
            continue
        parents = []
        for u, _, d in g.in_edges(tkey, data=True):
            n = g.nodes[u]
            if d["relation"] == "in_tactic" and n["kind"] == "technique" and not n["subtechnique"] and not n["deprecated"] and domain in n["domains"]:
                parents.append(u)
        parents.sort(key=lambda k: (g.nodes[k]["name"].lower(), k))
        techniques = []
        for p in parents:
            subs = tuple(_cell(g, s) for s in subtechniques(g, p) if tkey in g[s] and not g.nodes[s]["deprecated"])
            techniques.append((_cell(g, p), subs))
        columns.append(Column(tactic=_cell(g, tkey), techniques=tuple(techniques)))
    label = g.graph.get("matrices", {}).get(domain) or domain
    return Matrix(domain=domain, label=label, columns=tuple(columns))
