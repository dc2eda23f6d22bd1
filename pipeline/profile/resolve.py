"""A `Profile` against the graph: which nodes it deploys, collects and fears.

Everything a profile names by id or name is looked up in the graph of the target
release here, once. What cannot be found, or is found only through a revocation, is a
`Finding` (one line: the profile file, the key, the problem); `check` fails on the ones
whose severity is `error`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from typing import Callable

import networkx as nx

from pipeline.model.detections import Detection
from pipeline.model.profile import Profile
from pipeline.profile.threat import ThreatData, resolve_technique
from pipeline.ingest.mappings.ids import normalise_subject_id

STALE = ("revoked", "deprecated", "dead_end", "unknown")


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str  # error | warning
    subject: str  # the profile key or rule the finding is about
    problem: str

    def one_line(self, file: str) -> str:
        return f"{file}: {self.subject}: {self.problem}"

    def as_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "subject": self.subject, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class Adversary:
    key: str  # graph node key (group:G0006), or emulation:<name>/<campaign>
    kind: str  # group | campaign | software | emulation
    attack_id: str
    name: str
    weight: float
    why: tuple[str, ...]
    techniques: tuple[str, ...]  # technique ids of the target release


@dataclass(frozen=True)
class Resolved:
    profile: Profile
    controls: dict[str, str] = field(default_factory=dict)  # node key -> status
    rules: dict[str, str] = field(default_factory=dict)  # detection node key -> why deployed
    own_rules: tuple[Detection, ...] = ()  # team rules not in any corpus, reconciled
    components: dict[str, str] = field(default_factory=dict)  # datacomponent key -> as the profile named it
    log_sources: frozenset[str] = frozenset()  # log source names collected, case-folded
    adversaries: tuple[Adversary, ...] = ()
    findings: tuple[Finding, ...] = ()


def _index(g: nx.MultiDiGraph, domain: str):
    controls: dict[tuple[str, str], list[str]] = {}
    by_source: dict[str, list[str]] = {}
    components: dict[str, str] = {}
    named: dict[str, dict[str, str]] = {"group": {}, "campaign": {}, "software": {}}
    for key, n in g.nodes(data=True):
        kind = n["kind"]
        if kind in ("control", "capability"):
            controls.setdefault((n["framework"], n["id"].casefold()), []).append(key)
        elif kind == "detection":
            by_source.setdefault(n["source"], []).append(key)
        elif kind == "datacomponent" and not n["deprecated"] and domain in n["domains"]:
            components[n["id"].casefold()] = key
            components.setdefault(n["name"].casefold(), key)
        elif kind in named and not n["deprecated"]:
            table = named[kind]
            table[n["id"].casefold()] = key
            table.setdefault(n["name"].casefold(), key)
            for alias in getattr(n["record"], "aliases", ()):
                table.setdefault(alias.casefold(), key)
    return controls, by_source, components, named


def _uses(g: nx.MultiDiGraph, key: str, domain: str) -> tuple[str, ...]:
    out = set()
    for _, v, d in g.out_edges(key, data=True):
        if d.get("relation") != "uses":
            continue
        n = g.nodes[v]
        if n["kind"] == "technique" and not n["deprecated"] and domain in n["domains"]:
            out.add(n["id"])
    return tuple(sorted(out))


def _reconcile_rule(g: nx.MultiDiGraph, d: Detection) -> Detection:
    refs = []
    for ref in d.techniques:
        status, target = resolve_technique(g, ref.attack_id)
        refs.append(replace(ref, status=status, target=target if status in ("live", "revoked", "deprecated") else ""))
    return replace(d, techniques=tuple(refs))


def resolve(g: nx.MultiDiGraph, profile: Profile, threat: ThreatData | None = None) -> Resolved:
    """The profile's names resolved against the build's graph, section by section (the
    findings keep that order: platforms, controls, rules, data, adversaries)."""
    domain = profile.domain
    controls_ix, by_source, components_ix, named = _index(g, domain)
    findings: list[Finding] = []

    def finding(code: str, subject: str, problem: str, severity: str = "error") -> None:
        findings.append(Finding(code, severity, subject, problem))

    _check_platforms(g, profile, domain, finding)
    controls = _controls(g, profile, controls_ix, finding)
    rules, own = _rules(g, profile, by_source, finding)
    components, log_sources = _data(g, profile, domain, components_ix, finding)
    adversaries: dict[str, Adversary] = {}
    _listed_adversaries(g, profile, named, domain, adversaries, finding)
    _targeting_adversaries(g, profile, threat, domain, adversaries, finding)
    _emulated_adversaries(g, profile, adversaries, finding)
    ordered = sorted(adversaries.values(), key=lambda a: (a.kind, a.attack_id or a.name))
    return Resolved(
        profile=profile,
        controls=dict(sorted(controls.items())),
        rules=dict(sorted(rules.items())),
        own_rules=tuple(own),
        components=dict(sorted(components.items())),
        log_sources=frozenset(log_sources),
        adversaries=tuple(ordered),
        findings=tuple(findings),
    )


def _check_platforms(g: nx.MultiDiGraph, profile: Profile, domain: str, finding: Callable[..., None]) -> None:
    """Every listed platform is one of a live technique of the domain."""
    if profile.platforms:
        known = set()
        for n in g._node.values():  # networkx's plain dict: a pass over 16,000 nodes
            if n["kind"] == "technique" and not n["deprecated"] and domain in n["domains"]:
                known.update(n["record"].platforms)
        for i, p in enumerate(profile.platforms):
            if p not in known:
                finding("unknown-platform", f"profile.platforms[{i}]", f"{p!r} is not a platform of any live {domain} technique (known: {', '.join(sorted(known))})")


def _controls(g: nx.MultiDiGraph, profile: Profile, controls_ix: dict, finding: Callable[..., None]) -> dict[str, str]:
    """Control and capability node keys → their status; a control mapped to a revoked id is a finding."""
    frameworks = {fw for fw, _ in controls_ix}
    controls: dict[str, str] = {}
    for i, c in enumerate(profile.controls):
        subject = f"controls.{c.framework}.{c.status}"
        if c.framework not in frameworks:
            finding("unknown-framework", subject, f"framework {c.framework!r} has no control in the build (known: {', '.join(sorted(frameworks))})")
            continue
        cid = normalise_subject_id(c.control_id, c.framework) or c.control_id
        keys = controls_ix.get((c.framework, cid.casefold()), [])
        if c.version:
            keys = [k for k in keys if g.nodes[k].get("framework_version") == c.version]
        if not keys:
            where = f"{c.framework} {c.version}".strip()
            finding("unknown-control", subject, f"{c.control_id!r} is not a control or capability of {where} in the build")
            continue
        for k in keys:
            controls[k] = c.status
            for _, v, d in g.out_edges(k, data=True):
                if d.get("status") == "revoked" and c.status != "planned":
                    chain = " → ".join(d.get("chain") or ())
                    finding(
                        "control-on-revoked-id",
                        subject,
                        f"{c.control_id} is mapped ({d.get('source')}) to revoked {d['original']['id']}, followed to {g.nodes[v]['id']} ({chain})",
                    )
    return controls


def _rules(g: nx.MultiDiGraph, profile: Profile, by_source: dict, finding: Callable[..., None]) -> tuple[dict[str, str], list[Detection]]:
    """Deployed rule node keys → why they are deployed, and the team's own rules the
    build does not hold (reconciled here); deprecated rules and stale ids are findings."""
    rules: dict[str, str] = {}
    for i, sel in enumerate(profile.rules):
        subject = f"detections[{i}]"
        keys = by_source.get(sel.source)
        if keys is None:
            finding("unknown-rule-source", subject, f"no detection source {sel.source!r} in the build (known: {', '.join(sorted(by_source))})")
            continue
        if sel.all:
            for k in keys:
                if not g.nodes[k]["deprecated"]:
                    rules[k] = f"{sel.source}: all"
        if sel.ids:
            native = {g.nodes[k]["record"].native_id.casefold(): k for k in keys}
            for rid in sel.ids:
                k = native.get(rid.casefold()) or native.get(rid.casefold().removeprefix(f"{sel.source}:"))
                if k is None:
                    finding("unknown-rule", subject, f"no rule {rid!r} in detection source {sel.source!r}")
                else:
                    rules[k] = f"{sel.source}: id"
        for pattern in sel.paths:
            hit = [k for k in keys if fnmatch.fnmatchcase(g.nodes[k]["record"].path, pattern)]
            if not hit:
                finding("rule-glob-empty", subject, f"path glob {pattern!r} matches no rule of {sel.source!r}", "warning")
            for k in hit:
                rules[k] = f"{sel.source}: {pattern}"
    own: list[Detection] = []
    for d in profile.own_rules:
        corpus = "elastic" if d.format.startswith("elastic") else "sigma"
        k = f"detection:{corpus}:{d.native_id}"
        if k in g:
            rules[k] = f"{corpus}: imported ({d.path or d.native_id})"
        else:
            own.append(_reconcile_rule(g, d))
    for k in sorted(rules):
        rec = g.nodes[k]["record"]
        if g.nodes[k]["deprecated"]:
            finding("deprecated-rule", rec.id, f"deployed rule {rec.title!r} is deprecated in its corpus")
        for ref in rec.techniques:
            if ref.status in STALE:
                to = f", followed to {ref.target}" if ref.target else ""
                finding("rule-on-stale-id", rec.id, f"deployed rule {rec.title!r} names {ref.status} technique {ref.attack_id}{to}")
    for d in own:
        for ref in d.techniques:
            if ref.status in STALE:
                to = f", followed to {ref.target}" if ref.target else ""
                finding("rule-on-stale-id", f"own rule {d.native_id}", f"{d.title!r} ({d.path}) names {ref.status} technique {ref.attack_id}{to}")
    return rules, own


def _data(
    g: nx.MultiDiGraph, profile: Profile, domain: str, components_ix: dict, finding: Callable[..., None]
) -> tuple[dict[str, str], set[str]]:
    """Collected data component keys → their names, and the log sources (case-folded)."""
    components: dict[str, str] = {}
    for i, name in enumerate(profile.data_components):
        k = components_ix.get(name.casefold())
        if k is None:
            finding("unknown-data-component", f"data.components[{i}]", f"{name!r} is not a {domain} data component of the release")
        else:
            components[k] = name
    log_sources: set[str] = set()
    if profile.log_sources:
        known_ls = {ls.name.casefold() for n in g._node.values() if n["kind"] == "analytic" for ls in n["record"].log_sources}
        for i, name in enumerate(profile.log_sources):
            if name.casefold() not in known_ls:
                finding("unknown-log-source", f"data.log_sources[{i}]", f"{name!r} is not the log source of any ATT&CK analytic of the release (e.g. WinEventLog:Security, auditd:SYSCALL)")
            else:
                log_sources.add(name.casefold())
    if profile.data_sources is not None:
        for name in profile.data_sources.collected():
            k = components_ix.get(name.casefold())
            if k is not None:
                components.setdefault(k, name)
            elif "[dettect data source]" not in name.casefold():
                finding("unknown-data-component", "data.dettect_data_sources", f"data source {name!r} is not a {domain} data component of the release", "warning")
    if profile.techniques is not None:
        for t in profile.techniques.techniques:
            status, target = resolve_technique(g, t.technique_id)
            if status != "live":
                to = f", followed to {target}" if target else ""
                finding("dettect-stale-technique", f"data.dettect_techniques: {t.technique_id}", f"technique is {status} in the release{to}", "error" if status != "revoked" else "warning")
    return components, log_sources


def _add(adversaries: dict[str, Adversary], g: nx.MultiDiGraph, domain: str, key: str, kind: str, weight: float, why: str) -> None:
    """A listed adversary keeps its own weight; one found several ways the highest."""
    n = g.nodes[key]
    known = adversaries.get(key)
    if known is None:
        adversaries[key] = Adversary(key, kind, n["id"], n["name"], weight, (why,), _uses(g, key, domain))
        return
    if why in known.why:
        return
    if why != "listed" and "listed" in known.why:
        weight = known.weight
    elif why != "listed":
        weight = max(known.weight, weight)
    adversaries[key] = replace(known, weight=weight, why=known.why + (why,))


def _listed_adversaries(
    g: nx.MultiDiGraph, profile: Profile, named: dict, domain: str, adversaries: dict[str, Adversary], finding: Callable[..., None]
) -> None:
    """The groups, campaigns and software the profile lists (a revoked one followed)."""
    for i, ref in enumerate(profile.threats):
        table = named[ref.kind]
        key = table.get(ref.ref.casefold())
        if key is None:
            rev = g.graph.get("revoked", {}).get(f"{ref.kind}:{ref.ref.upper()}")
            target = f"{ref.kind}:{rev.target}" if rev is not None and rev.target else None
            if target in g:
                finding("threat-revoked", f"threat.{ref.kind}s", f"{ref.ref} is revoked; using {rev.target}", "warning")
                key = target
        if key is None:
            plural = "software" if ref.kind == "software" else f"{ref.kind}s"
            finding(f"unknown-{ref.kind}", f"threat.{plural}", f"{ref.ref!r} is not a live ATT&CK {ref.kind} (id, name or alias)")
            continue
        _add(adversaries, g, domain, key, ref.kind, ref.weight, "listed")


def _targeting_adversaries(
    g: nx.MultiDiGraph, profile: Profile, threat: ThreatData | None, domain: str, adversaries: dict[str, Adversary], finding: Callable[..., None]
) -> None:
    """Groups of the MISP threat actors that target the profile's sectors and countries."""
    if (profile.sectors or profile.countries) and threat is not None:
        if not threat.actors:
            finding("no-threat-actors", "threat.sectors", "sectors or countries are set but no MISP galaxy threat-actor source is enabled")
        sectors = {s.casefold() for s in profile.sectors}
        countries = {s.casefold() for s in profile.countries}
        matched_sectors: set[str] = set()
        matched_countries: set[str] = set()
        for actor in threat.actors:
            hit_s = sorted({s for s in actor.sectors if s.casefold() in sectors})
            hit_c = sorted({s for s in actor.countries if s.casefold() in countries})
            if (sectors and not hit_s) or (countries and not hit_c):
                continue
            matched_sectors.update(s.casefold() for s in hit_s)
            matched_countries.update(s.casefold() for s in hit_c)
            for gid in actor.groups:
                key = f"group:{gid}"
                if key not in g or g.nodes[key]["deprecated"]:
                    continue
                said = ", ".join(hit_s + hit_c)
                _add(adversaries, g, domain, key, "group", profile.weights.resolved_group, f"MISP threat actor {actor.name} targets {said}")
        for s in profile.sectors:
            if s.casefold() not in matched_sectors:
                finding("sector-matches-nothing", "threat.sectors", f"no MISP threat actor with an ATT&CK group targets sector {s!r}", "warning")
        for s in profile.countries:
            if s.casefold() not in matched_countries:
                finding("country-matches-nothing", "threat.countries", f"no MISP threat actor with an ATT&CK group targets country {s!r}", "warning")


def _emulated_adversaries(g: nx.MultiDiGraph, profile: Profile, adversaries: dict[str, Adversary], finding: Callable[..., None]) -> None:
    """The enabled groups of a DeTT&CT group file, as emulation plans."""
    if profile.groups_file is not None:
        for grp in profile.groups_file.groups:
            if not grp.enabled:
                continue
            techniques = set()
            for tid in grp.technique_id:
                status, target = resolve_technique(g, tid.strip().upper())
                if status in ("live", "revoked"):
                    techniques.add(target)
                else:
                    finding("dettect-stale-technique", f"threat.dettect_groups: {grp.group_name}", f"technique {tid} is {status} in the release")
            name = f"{grp.group_name} / {grp.campaign}" if grp.campaign else grp.group_name
            key = f"emulation:{name}"
            adversaries[key] = Adversary(key, "emulation", "", name, 1.0, ("DeTT&CT group file",), tuple(sorted(techniques)))

