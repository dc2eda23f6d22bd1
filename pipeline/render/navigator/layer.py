"""ATT&CK Navigator layers (format 4.5) as frozen values with one serialisation.

Every layer the pipeline writes goes through `Layer.to_dict`, so the format version,
the field order and the no-fields-outside-the-format rule live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import networkx as nx

LAYER_FORMAT = "4.5"
NAVIGATOR_VERSION = "5.1.0"
DOMAIN_NAMES = {"enterprise": "enterprise-attack", "mobile": "mobile-attack", "ics": "ics-attack"}

DIVIDER = {"divider": True}
# Characters a spreadsheet sheet title cannot hold: mitreattack-python's ToExcel names the
# sheet after the layer and fails on them (`04/26/2025`, `Network Watcher: Traffic …`).
_NOT_IN_NAMES = str.maketrans({"/": "-", "\\": "-", ":": "", "?": "", "*": "", "[": "(", "]": ")"})
NOT_IN_NAMES = "/\\:?*[]"


def layer_name(name: str) -> str:
    return " ".join(name.translate(_NOT_IN_NAMES).split())


@dataclass(frozen=True, slots=True)
class Meta:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Mark:
    """What a layer says about one technique (before it is spread over tactics)."""

    technique: str
    score: float | None = None
    color: str | None = None
    comment: str = ""
    enabled: bool = True
    metadata: tuple[tuple[Meta, ...], ...] = ()
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class Gradient:
    colors: tuple[str, ...]
    min_value: float
    max_value: float

    def to_dict(self) -> dict:
        return {"colors": list(self.colors), "minValue": self.min_value, "maxValue": self.max_value}


@dataclass(frozen=True, slots=True)
class TechniqueIndex:
    """What layers need to know about each technique, read from the graph once.

    A layer entry needs its technique's tactics and sub-techniques; looking them up in
    the graph for every entry of every layer walks each technique's in-edges (thousands
    of control and detection edges on popular techniques) again and again, so a build
    that writes many layers makes one index and passes it along.
    """

    tactics: Mapping[str, tuple[str, ...]]
    subtechniques: Mapping[str, tuple[str, ...]]
    parents: Mapping[str, str]
    platforms: Mapping[str, tuple[str, ...]]
    live: Mapping[str, tuple[str, ...]]  # technique id -> domains where it is live

    @classmethod
    def of(cls, g: nx.MultiDiGraph) -> "TechniqueIndex":
        tactics: dict[str, tuple[str, ...]] = {}
        subs: dict[str, list[str]] = {}
        parents: dict[str, str] = {}
        platforms: dict[str, tuple[str, ...]] = {}
        live: dict[str, tuple[str, ...]] = {}
        for key, n in g.nodes(data=True):
            if n["kind"] != "technique":
                continue
            tid = n["id"]
            names = []
            for v, d in g.succ[key].items():
                if "in_tactic" in d and g.nodes[v]["kind"] == "tactic":
                    names.append(g.nodes[v]["record"].shortname)
                elif "subtechnique_of" in d:
                    subs.setdefault(g.nodes[v]["id"], []).append(tid)
                    parents[tid] = g.nodes[v]["id"]
            tactics[tid] = tuple(names)
            platforms[tid] = tuple(getattr(n.get("record"), "platforms", ()))
            live[tid] = () if n["deprecated"] else tuple(n["domains"])
        return cls(tactics, {k: tuple(v) for k, v in subs.items()}, parents, platforms, live)

    def is_live(self, technique_id: str, domain: str) -> bool:
        return domain in self.live.get(technique_id, ())


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    description: str
    domain: str
    attack_version: str
    marks: tuple[Mark, ...]
    gradient: Gradient | None = None
    legend: tuple[tuple[str, str], ...] = ()
    sorting: int = 0
    metadata: tuple[Meta, ...] = ()
    links: tuple[Link, ...] = field(default=())
    # Navigator's platform filter (`filters.platforms`); empty: every platform.
    platforms: tuple[str, ...] = ()

    def to_dict(self, g: nx.MultiDiGraph, index: TechniqueIndex | None = None) -> dict:
        """The layer as Navigator reads it. `g` (or its `index`) supplies each technique's
        tactics, so that a technique in several tactics gets one entry per tactic (`tactic`
        set), and whether a parent has marked sub-techniques (`showSubtechniques`)."""
        index = index or TechniqueIndex.of(g)
        marked = {m.technique for m in self.marks if m.score is not None or m.color}
        techniques = []
        for mark in sorted(self.marks, key=lambda m: _id_order(m.technique)):
            shortnames = index.tactics.get(mark.technique, ())
            entry: dict = {"techniqueID": mark.technique}
            if mark.score is not None:
                entry["score"] = mark.score
            if mark.color:
                entry["color"] = mark.color
            entry["comment"] = mark.comment
            entry["enabled"] = mark.enabled
            if mark.metadata:
                entry["metadata"] = _blocks(mark.metadata)
            if mark.links:
                entry["links"] = [{"label": link.label, "url": link.url} for link in mark.links]
            subs = index.subtechniques.get(mark.technique, ())
            if subs:
                entry["showSubtechniques"] = any(s in marked for s in subs)
            if len(shortnames) > 1:
                techniques.extend({"techniqueID": mark.technique, "tactic": t} | _rest(entry) for t in shortnames)
            else:
                techniques.append(entry)
        out: dict = {
            "name": layer_name(self.name),
            "versions": {
                "attack": self.attack_version.split(".")[0],
                "navigator": NAVIGATOR_VERSION,
                "layer": LAYER_FORMAT,
            },
            "domain": DOMAIN_NAMES[self.domain],
            "description": self.description,
        }
        if self.platforms:
            out["filters"] = {"platforms": list(self.platforms)}
        out |= {
            "sorting": self.sorting,
            "layout": {
                "layout": "side",
                "showID": True,
                "showName": True,
                "showAggregateScores": False,
                "countUnscored": False,
                "aggregateFunction": "average",
                "expandedSubtechniques": "annotated",
            },
            "hideDisabled": False,
            "techniques": techniques,
        }
        if self.gradient is not None:
            out["gradient"] = self.gradient.to_dict()
        out["legendItems"] = [{"label": label, "color": color} for label, color in self.legend]
        out["showTacticRowBackground"] = False
        out["selectTechniquesAcrossTactics"] = True
        out["selectSubtechniquesWithParent"] = False
        out["selectVisibleTechniques"] = False
        if self.metadata:
            out["metadata"] = [{"name": m.name, "value": m.value} for m in self.metadata]
        if self.links:
            out["links"] = [{"label": link.label, "url": link.url} for link in self.links]
        return out


def _rest(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "techniqueID"}


def _blocks(blocks: tuple[tuple[Meta, ...], ...]) -> list[dict]:
    out: list[dict] = []
    for i, block in enumerate(blocks):
        if i:
            out.append(dict(DIVIDER))
        out += [{"name": m.name, "value": m.value} for m in block]  # no generator: 494,222 entries a build
    return out


def _id_order(technique_id: str) -> tuple:
    base, _, sub = technique_id.partition(".")
    return (base, int(sub) if sub.isdigit() else -1)
