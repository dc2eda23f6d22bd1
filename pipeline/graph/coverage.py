"""Coverage of each live technique by controls and by detections.

A technique is covered by a control when a control or capability node has an edge to it,
and by a detection when a detection node does. ATT&CK's own detection strategies are
guidance that exists for nearly every technique, not a team's content, so they do not
count as detections here (they would make every technique "detected"); nor do
deprecated rules and controls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import networkx as nx

CONTROL_KINDS = frozenset({"control", "capability"})
DETECTION_KINDS = frozenset({"detection"})
# Mapping relations that do not claim any protection or detection.
NON_COVERING = frozenset({"non_mappable", "related", "related_to"})  # kinds and their edge relations

CLASSES = ("both", "controls", "detections", "neither")
CLASS_LABELS = {
    "both": "controls and detections",
    "controls": "controls only",
    "detections": "detections only",
    "neither": "neither (gap)",
}


@dataclass(frozen=True, slots=True)
class Coverage:
    technique: str
    controls: dict[str, int] = field(default_factory=dict)
    detections: dict[str, int] = field(default_factory=dict)

    @property
    def n_controls(self) -> int:
        return sum(self.controls.values())

    @property
    def n_detections(self) -> int:
        return sum(self.detections.values())

    @property
    def klass(self) -> str:
        if self.n_controls and self.n_detections:
            return "both"
        if self.n_controls:
            return "controls"
        return "detections" if self.n_detections else "neither"


def technique_coverage(g: nx.MultiDiGraph, key: str) -> Coverage:
    controls: Counter[str] = Counter()
    detections: Counter[str] = Counter()
    seen: set[str] = set()
    for u, _, d in g.in_edges(key, data=True):
        n = g.nodes[u]
        if d.get("relation") in NON_COVERING or u in seen or n.get("deprecated"):
            continue  # a deprecated rule or control protects nothing
        if n["kind"] in CONTROL_KINDS:
            controls[n.get("framework", n["kind"])] += 1
            seen.add(u)
        elif n["kind"] in DETECTION_KINDS:
            detections[n.get("source", n["kind"])] += 1
            seen.add(u)
    return Coverage(key, dict(sorted(controls.items())), dict(sorted(detections.items())))


def coverage_by_technique(g: nx.MultiDiGraph, domain: str | None = None) -> dict[str, Coverage]:
    """Every live technique and sub-technique (of one domain, or all), by node key."""
    out = {}
    for key, n in g.nodes(data=True):
        if n["kind"] != "technique" or n["deprecated"]:
            continue
        if domain is not None and domain not in n["domains"]:
            continue
        out[key] = technique_coverage(g, key)
    return dict(sorted(out.items()))
