"""A resolved profile → its results: coverage by what is deployed, visibility by what
is collected, ranked priorities with their breakdown, and gaps per adversary.

Every number here can be recomputed by hand from the graph and the threat data, and the
results say how (`breakdown`): a priority list no one can explain is not acted on.

Coverage. Levels 0-3 per function (protect, detect, respond), from the mappings of the
*deployed* controls and capabilities (implemented: the mapping's value, significant 3,
partial 2, minimal 1, an unscored `mitigates` 2; partly implemented: one level less,
at least 1; planned: nothing) and, for detect, from deployed rules (any deployed rule
that names the technique: 2) and a DeTT&CT detection score (1-2 → 1, 3 → 2, 4-5 → 3).
A technique is *covered* at protect or detect level 2 or more, *partial* at any level
above 0, else *uncovered*.

Visibility. ATT&CK v18 analytics name the data components their log sources read. An
analytic (of the profile's platforms) is visible when one of its data components, or one
of its log sources by name (`data.log_sources`), is collected; a technique is `full` when all its analytics are, `partial` when some are,
`none` when none is, `unknown` without analytics. A deployed rule is *blind* when the data
it reads is not collected: by its Sigma log source category where the table below names
the data component, else when none of the techniques it names is visible.

Priority. score = Σ weightᵢ · valueᵢ / Σ weightᵢ over threat (Σ weights of the profile's
adversaries that use the technique / Σ weights of all of them), prevalence and choke
point (CTID's scores, reconciled), actionability (n / (n + 10), n = controls and
capabilities mapped to the technique with a protect, mitigate, detect or respond mapping
that are not deployed + rules of the enabled corpora that name it and are not deployed;
KEV's exploit/impact rows and VERIS's related rows name nothing to deploy). Ranked by
score, then id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping

import networkx as nx

from pipeline.graph.coverage import NON_COVERING
from pipeline.model.profile import STATUS_ORDER, WEIGHT_NAMES
from pipeline.profile.resolve import Resolved
from pipeline.profile.threat import CtidReconciled

VALUE = {"significant": 3, "partial": 2, "minimal": 1}
FUNCTION = {"protect": "protect", "mitigate": "protect", "detect": "detect", "respond": "respond"}
ACTIONABILITY_HALF = 10  # n at which actionability is 0.5
# Sigma logsource categories → the ATT&CK data components they are (names of v18).
SIGMA_CATEGORIES = {
    "process_creation": ("Process Creation",),
    "network_connection": ("Network Connection Creation",),
    "registry_add": ("Windows Registry Key Creation",),
    "registry_set": ("Windows Registry Key Modification",),
    "registry_delete": ("Windows Registry Key Deletion",),
    "registry_rename": ("Windows Registry Key Modification",),
    "registry_event": ("Windows Registry Key Creation", "Windows Registry Key Modification", "Windows Registry Key Deletion"),
    "file_event": ("File Creation",),
    "file_change": ("File Modification",),
    "file_rename": ("File Modification",),
    "file_delete": ("File Deletion",),
    "file_access": ("File Access",),
    "image_load": ("Module Load",),
    "driver_load": ("Driver Load",),
    "pipe_created": ("Named Pipe Metadata",),
    "process_access": ("Process Access",),
    "create_remote_thread": ("Process Access", "OS API Execution"),
    "ps_script": ("Script Execution",),
    "ps_module": ("Script Execution",),
    "ps_classic_start": ("Script Execution",),
    "wmi_event": ("WMI Creation",),
    "process_termination": ("Process Termination",),
    "raw_access_thread": ("Drive Access",),
    "dns_query": ("Active DNS",),
    "create_stream_hash": ("File Metadata",),
}


def _dettect_level(score: int | None, scale: dict[int, int]) -> int:
    return scale.get(score, 0) if score is not None else 0


DETECTION_SCALE = {1: 1, 2: 1, 3: 2, 4: 3, 5: 3}
VISIBILITY_SCALE = {1: 1, 2: 2, 3: 3, 4: 3}


def _techniques(g: nx.MultiDiGraph, domain: str) -> dict[str, dict]:
    out = {}
    for key, n in g.nodes(data=True):
        if n["kind"] == "technique" and not n["deprecated"] and domain in n["domains"]:
            rec = n["record"]
            out[n["id"]] = {"key": key, "name": n["name"], "platforms": tuple(rec.platforms)}
    return dict(sorted(out.items()))


def _analytics_of(g: nx.MultiDiGraph, key: str) -> list[str]:
    """Analytics of the detection strategies that detect a technique (adjacency dicts:
    edge views cost ten times more over the ~700 techniques of a domain)."""
    nodes, succ = g._node, g._succ  # networkx's plain dicts: its views cost more than the work
    out = set()
    for u, keyed in g._pred[key].items():
        if "detects" in keyed and nodes[u]["kind"] == "detection_strategy":
            out.update(a for a, ks in succ[u].items() if "has_analytic" in ks)
    return sorted(out)


@dataclass(frozen=True)
class _Estate:
    """What the profile says the team has, indexed for the per-technique rows."""

    platforms: frozenset[str]
    # DeTT&CT technique administration records by technique id.
    dettect: Mapping[str, object]
    # Data component keys collected.
    collected: frozenset[str]
    # The team's own rules (not in a corpus of the build) by the technique they name.
    own_rules: Mapping[str, tuple]

    @classmethod
    def of(cls, resolved: Resolved) -> "_Estate":
        p = resolved.profile
        own: dict[str, list] = defaultdict(list)
        for d in resolved.own_rules:
            for ref in d.techniques:
                if ref.target:
                    own[ref.target].append(d)
        return cls(
            platforms=frozenset(p.platforms),
            dettect={t.technique_id: t for t in (p.techniques.techniques if p.techniques else ())},
            collected=frozenset(resolved.components),
            own_rules={tid: tuple(rules) for tid, rules in own.items()},
        )


@dataclass(frozen=True)
class _Deployed:
    """What is mapped to one technique, split into what the team has and what it could add."""

    levels: dict[str, int]
    controls: list[dict]
    planned: list[str]
    available_controls: frozenset[str]
    rules: list[str]
    available_rules: int


def compute(g: nx.MultiDiGraph, resolved: Resolved, ctid: CtidReconciled, *, ctid_source: str = "") -> dict:
    """The results document of one profile (`results.json`): one straight sequence —
    each technique's row, the priorities ranked over the rows, then the per-adversary
    and summary views of those rows."""
    p = resolved.profile
    estate = _Estate.of(resolved)
    rows = {tid: _technique_row(g, resolved, estate, tid, info) for tid, info in _techniques(g, p.domain).items()}
    ranked = _ranked(rows, resolved, ctid)
    for rank, (score, tid, breakdown) in enumerate(ranked, 1):
        rows[tid]["priority"] = {"rank": rank, "score": score, "breakdown": breakdown}
    for row in rows.values():
        row.pop("_available")
        row.pop("_available_parts")
        row.setdefault("priority", None)
    top = [tid for _, tid, _ in ranked[: p.top_n]]
    blind = _blind_rules(g, resolved, rows, set(estate.collected))
    status_counts = {s: 0 for s in STATUS_ORDER}
    visibility_counts = {v: 0 for v in ("full", "partial", "none", "unknown")}
    for row in rows.values():
        status_counts[row["status"]] += 1
        visibility_counts[row["visibility"]] += 1
    return {
        "profile": {
            "name": p.name,
            "id": p.slug,
            "file": p.file,
            "digest": p.digest,
            "domain": p.domain,
            "platforms": list(p.platforms),
            "top_n": p.top_n,
            "weights": p.weights.as_dict() | {"resolved_group": p.weights.resolved_group},
        },
        "attack_version": g.graph.get("releases", {}).get(p.domain, ""),
        "summary": {
            "techniques": len(rows),
            "status": status_counts,
            "visibility": visibility_counts,
            "controls_deployed": sum(1 for s in resolved.controls.values() if s != "planned"),
            "controls_planned": sum(1 for s in resolved.controls.values() if s == "planned"),
            "rules_deployed": len(resolved.rules) + len(resolved.own_rules),
            "rules_blind": len(blind),
            "data_components": len(resolved.components),
            "adversaries": len(resolved.adversaries),
            "top_uncovered": sum(1 for tid in top if rows[tid]["status"] == "uncovered"),
        },
        "top": top,
        "techniques": rows,
        "adversaries": [_adversary(a, rows) for a in resolved.adversaries],
        "data_components": [{"key": k, "name": g.nodes[k]["name"], "as_named": v} for k, v in resolved.components.items()],
        "blind_rules": blind,
        "ctid": {"source": ctid_source, "outcome": {k: {"status": s, "target": t} for k, (s, t) in sorted(ctid.outcome.items()) if s != "live"}},
        "findings": [f.as_dict() for f in resolved.findings],
    }


def _technique_row(g: nx.MultiDiGraph, resolved: Resolved, estate: _Estate, tid: str, info: dict) -> dict:
    """Coverage and visibility of one technique; `_available*` (what could be deployed)
    is read by the ranking and then dropped."""
    key = info["key"]
    found = _deployed(g, resolved, key, estate.own_rules.get(tid, ()))
    levels = dict(found.levels)
    t_admin = estate.dettect.get(tid)
    d_score = t_admin.detection_score() if t_admin else None
    v_score = t_admin.visibility_score() if t_admin else None
    levels["detect"] = max(levels["detect"], _dettect_level(d_score, DETECTION_SCALE))
    best = max(levels["protect"], levels["detect"])
    status = "covered" if best >= 2 else ("partial" if any(levels.values()) else "uncovered")
    relevant = _relevant_analytics(g, resolved, estate, key)
    seen = sum(1 for _, _, ok in relevant if ok)
    if not relevant:
        visibility = "unknown"
    elif seen == len(relevant):
        visibility = "full"
    else:
        visibility = "partial" if seen else "none"
    missing = sorted({dc for _, needed, ok in relevant if not ok for dc in needed} - estate.collected)
    platforms = estate.platforms
    return {
        "id": tid,
        "name": info["name"],
        "platforms": list(info["platforms"]),
        "on_platforms": not platforms or not info["platforms"] or bool(platforms.intersection(info["platforms"])),
        "status": status,
        "levels": levels,
        "controls": sorted(found.controls, key=lambda c: (c["control"], c["function"], c["source"])),
        "planned": sorted(set(found.planned)),
        "rules": sorted(set(found.rules)),
        "dettect": {"detection": d_score, "visibility": v_score} if t_admin else None,
        "visibility": visibility,
        "analytics": {"relevant": len(relevant), "visible": seen},
        "missing_components": [g.nodes[k]["name"] for k in missing if k in g],
        "_available": len(found.available_controls) + found.available_rules,
        "_available_parts": {"controls": len(found.available_controls), "rules": found.available_rules},
    }


def _deployed(g: nx.MultiDiGraph, resolved: Resolved, key: str, own_rules: tuple) -> _Deployed:
    """The controls, capabilities and rules mapped to technique `key`: the levels of
    what is deployed (see the module's doc), and what could be deployed."""
    nodes = g._node  # networkx's plain dicts (see _analytics_of)
    levels = {"protect": 0, "detect": 0, "respond": 0}
    deployed: list[dict] = []
    planned: list[str] = []
    available_controls: set[str] = set()
    rules: list[str] = []
    available_rules = 0
    for u, d in _in_edges(g, key):
        n = nodes[u]
        kind = n["kind"]
        if kind in ("control", "capability"):
            function = FUNCTION.get(d.get("kind", ""))
            if function is None or d.get("relation") in NON_COVERING or not d.get("in_coverage", True) or n["deprecated"]:
                continue  # KEV's exploit/impact rows, VERIS's related rows: nothing to deploy
            status = resolved.controls.get(u)
            if status is None or status == "planned":
                available_controls.add(u)
                if status == "planned":
                    planned.append(f"{n['framework']}:{n['id']}")
                continue
            level = VALUE.get(d.get("score_value") or "", 2)
            if status == "partial":
                level = max(1, level - 1)
            levels[function] = max(levels[function], level)
            deployed.append(
                {"control": f"{n['framework']}:{n['id']}", "function": function, "level": level, "status": status, "source": d.get("source", "")}
            )
        elif kind == "detection" and d.get("relation") == "detects":
            if n["deprecated"]:
                continue
            if u in resolved.rules:
                rules.append(n["id"])
            else:
                available_rules += 1
    rules.extend(d.id for d in own_rules)
    if rules:
        levels["detect"] = max(levels["detect"], 2)
    return _Deployed(levels, deployed, planned, frozenset(available_controls), rules, available_rules)


def _relevant_analytics(g: nx.MultiDiGraph, resolved: Resolved, estate: _Estate, key: str) -> list[tuple[str, list[str], bool]]:
    """(analytic id, data components it reads, visible) for the analytics of technique
    `key` on the profile's platforms."""
    relevant = []
    for a in _analytics_of(g, key):
        rec = g.nodes[a]["record"]
        if estate.platforms and rec.platforms and not estate.platforms.intersection(rec.platforms):
            continue
        needed = sorted({f"datacomponent:{ls.data_component}" for ls in rec.log_sources if ls.data_component})
        seen_ls = bool(resolved.log_sources) and any(ls.name.casefold() in resolved.log_sources for ls in rec.log_sources)
        relevant.append((rec.attack_id, needed, seen_ls or bool(estate.collected.intersection(needed))))
    return relevant


def _ranked(rows: dict[str, dict], resolved: Resolved, ctid: CtidReconciled) -> list[tuple[float, str, dict]]:
    """(score, technique id, breakdown) of every technique on the profile's platforms,
    best first, then by id."""
    weights = resolved.profile.weights.as_dict()
    total_weight = sum(weights.values())
    adversary_weight = sum(a.weight for a in resolved.adversaries)
    users: dict[str, list] = defaultdict(list)
    for a in resolved.adversaries:
        for tid in a.techniques:
            users[tid].append(a)
    ranked = []
    for tid, row in rows.items():
        if not row["on_platforms"]:
            continue
        by = users.get(tid, [])
        threat = sum(a.weight for a in by) / adversary_weight if adversary_weight else 0.0
        c = ctid.scores.get(tid)
        n = row["_available"]
        values = {
            "threat": threat,
            "prevalence": c.prevalence if c else 0.0,
            "choke_point": c.choke_point if c else 0.0,
            "actionability": n / (n + ACTIONABILITY_HALF),
        }
        score = sum(weights[k] * values[k] for k in WEIGHT_NAMES) / total_weight
        breakdown = {
            k: {"value": round(values[k], 6), "weight": weights[k], "contribution": round(weights[k] * values[k] / total_weight, 6)}
            for k in WEIGHT_NAMES
        }
        breakdown["threat"]["adversaries"] = [a.attack_id or a.name for a in sorted(by, key=lambda a: a.key)]
        breakdown["prevalence"]["ctid_ids"] = list(c.published_ids) if c else []
        breakdown["actionability"]["available"] = dict(row["_available_parts"])
        ranked.append((round(score, 6), tid, breakdown))
    ranked.sort(key=lambda t: (-t[0], _id_order(t[1])))
    return ranked


def _adversary(a, rows: dict[str, dict]) -> dict:
    """One adversary of the profile: its techniques with their status and rank."""
    counts = {s: 0 for s in STATUS_ORDER}
    items = []
    for tid in a.techniques:
        row = rows.get(tid)
        if row is None:
            continue
        counts[row["status"]] += 1
        items.append({"id": tid, "name": row["name"], "status": row["status"], "visibility": row["visibility"], "rank": (row["priority"] or {}).get("rank")})
    return {"key": a.key, "kind": a.kind, "id": a.attack_id, "name": a.name, "weight": a.weight, "why": list(a.why), "counts": counts, "techniques": items}


def _blind_rules(g: nx.MultiDiGraph, resolved: Resolved, rows: dict, collected: set[str]) -> list[dict]:
    by_name = {}
    for key, n in g.nodes(data=True):
        if n["kind"] == "datacomponent" and not n["deprecated"]:
            by_name.setdefault(n["name"], key)
    records = [g.nodes[k]["record"] for k in resolved.rules] + list(resolved.own_rules)
    out = []
    for rec in records:
        needs = []
        for ds in rec.data_sources:
            for part in ds.split():
                head, _, value = part.partition(":")
                if head == "category" and value in SIGMA_CATEGORIES:
                    needs.extend(SIGMA_CATEGORIES[value])
        if needs:
            keys = {by_name[n] for n in needs if n in by_name}
            if keys and not keys & collected:
                out.append({"id": rec.id, "title": rec.title, "reason": f"reads {', '.join(sorted(set(needs)))} (Sigma log source), not collected"})
            continue
        targets = [ref.target for ref in rec.techniques if ref.target in rows]
        if targets and all(rows[t]["visibility"] == "none" for t in targets):
            out.append(
                {"id": rec.id, "title": rec.title, "reason": f"no data component that ATT&CK's analytics of {', '.join(sorted(set(targets)))} read is collected"}
            )
    return sorted(out, key=lambda r: r["id"])


def _in_edges(g: nx.MultiDiGraph, key: str):
    for u, keyed in g._pred[key].items():
        for d in keyed.values():
            yield u, d


def _id_order(tid: str) -> tuple:
    base, _, sub = tid.partition(".")
    return (base, int(sub) if sub.isdigit() else -1)
