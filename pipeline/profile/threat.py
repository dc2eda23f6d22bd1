"""Threat data for profiles: read once per workspace, reconciled to the graph's release.

CTID's Top ATT&CK Techniques publishes ids of ATT&CK 12–13. They are followed to the
target release through the release's own revoked-by chains (the graph's `revoked` map,
the one every mapping table and detection corpus is reconciled with): a live id stays,
a revoked one lands on its replacement (where two old ids land on one technique, the
higher score is kept and both ids are named), a deprecated or unknown one is reported
and left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from pipeline.core.errors import Issue
from pipeline.ingest.profiles.threat import read_ctid_techniques, read_misp_actors

CTID_FORMAT = "ctid-top-techniques-json"
MISP_FORMAT = "misp-galaxy-cluster"


@dataclass(frozen=True)
class ThreatData:
    ctid: tuple = ()  # CtidTechnique, as published
    actors: tuple = ()  # MispActor
    ctid_file: str = ""
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True)
class CtidScores:
    """CTID's scores of one technique of the target release and the ids they came from."""

    prevalence: float
    choke_point: float
    actionability: float
    published_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class CtidReconciled:
    scores: dict[str, CtidScores] = field(default_factory=dict)  # target technique id -> scores
    # published id -> (status, target or "")
    outcome: dict[str, tuple[str, str]] = field(default_factory=dict)


def load_threat(ws) -> ThreatData:
    """The enabled `threat` sources of the workspace (kept in `ws.cache`)."""
    memo = ws.cache.setdefault("profile-threat", {})
    if "data" in memo:
        return memo["data"]

    ctid: tuple = ()
    ctid_file = ""
    actors: tuple = ()
    cluster_paths = {}
    for source in ws.config.enabled("threat"):
        path = ws.resolve(source).path
        if source.format == CTID_FORMAT:
            ctid = read_ctid_techniques(path, limits=ws.config.limits)
            ctid_file = source.id
        elif source.format == MISP_FORMAT:
            cluster_paths[path.name] = path
    if "threat-actor.json" in cluster_paths:
        actors = read_misp_actors(cluster_paths["threat-actor.json"], cluster_paths.get("mitre-intrusion-set.json"), limits=ws.config.limits)
    memo["data"] = ThreatData(ctid=ctid, actors=actors, ctid_file=ctid_file)
    return memo["data"]


def resolve_technique(g: nx.MultiDiGraph, attack_id: str) -> tuple[str, str]:
    """(status, target id) of a published technique id in the graph's release:
    live, deprecated, revoked (followed), dead_end or unknown."""
    key = f"technique:{attack_id}"
    node = g.nodes.get(key)
    if node is not None and node.get("kind") == "technique":
        return ("deprecated", attack_id) if node["deprecated"] else ("live", attack_id)
    rev = g.graph.get("revoked", {}).get(key)
    if rev is not None:
        target = rev.target
        if target and f"technique:{target}" in g:
            return ("revoked", target) if rev.status == "live" else ("deprecated", target)
        return ("dead_end", "")
    return ("unknown", "")


def reconcile_ctid(g: nx.MultiDiGraph, ctid: tuple) -> CtidReconciled:
    scores: dict[str, CtidScores] = {}
    outcome: dict[str, tuple[str, str]] = {}
    for t in ctid:
        status, target = resolve_technique(g, t.attack_id)
        outcome[t.attack_id] = (status, target if status in ("live", "revoked") else "")
        if status not in ("live", "revoked"):
            continue
        before = scores.get(target)
        if before is None:
            scores[target] = CtidScores(t.prevalence, t.choke_point, t.actionability, (t.attack_id,), (status,))
        else:
            scores[target] = CtidScores(
                max(before.prevalence, t.prevalence),
                max(before.choke_point, t.choke_point),
                max(before.actionability, t.actionability),
                before.published_ids + (t.attack_id,),
                before.statuses + (status,),
            )
    return CtidReconciled(scores, outcome)
