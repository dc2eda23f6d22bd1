"""Tactics renamed, added and retired between two releases, and what each does to coverage.

A tactic that keeps its id under a new name or shortname (v19's TA0005 Defense Evasion →
Stealth, `defense-evasion` → `stealth`) is a rename a user must act on — layers,
rule tags and dashboards name tactics by shortname — not a patch among patches, so the
diff reports it in a section of its own with the techniques it carries. A new tactic
(TA0112 Defense Impairment) lists its techniques and the tactics they came from; a
retired one its techniques and where they went. Coverage is counted as in
`pipeline.diff.coverage`: techniques with at least one covering control or detection edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from pipeline.model.attack import AttackRelease, Tactic, Technique
from pipeline.diff.coverage import _mappings


@dataclass(frozen=True, slots=True, kw_only=True)
class TacticChange:
    """`kind` renamed | added | retired. `techniques`: the live members in NEW (renamed,
    added) or in OLD (retired). `moved`: other tactic id → members that went there (renamed,
    retired) or came from there (added). `covered`: family → members covered (in NEW for
    renamed and added, in OLD for retired); `covered_lost`: retired members covered in OLD
    whose technique in NEW (itself or its replacement) nothing covers."""

    kind: str
    attack_id: str
    old_name: str = ""
    old_shortname: str = ""
    name: str = ""
    shortname: str = ""
    techniques: tuple[str, ...] = ()
    moved: tuple[tuple[str, tuple[str, ...]], ...] = ()
    covered: tuple[tuple[str, int], ...] = ()
    covered_lost: tuple[tuple[str, int], ...] = ()


def _live_tactics(release: AttackRelease) -> dict[str, Tactic]:
    return {o.attack_id: o for o in release.of_kind("tactic") if isinstance(o, Tactic)}


def _members(release: AttackRelease) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for o in release.of_kind("technique"):
        assert isinstance(o, Technique)
        for t in o.tactics:
            out.setdefault(t, set()).add(o.attack_id)
    return out


def _covered(g: nx.MultiDiGraph | None) -> dict[str, set[str]]:
    """family (framework | detection_source) → technique ids with a covering edge."""
    out: dict[str, set[str]] = {"framework": set(), "detection_source": set()}
    if g is None:
        return out
    for (family, _name), pairs in _mappings(g, covering_only=True).items():
        out.setdefault(family, set()).update(g.nodes[v]["id"] for _u, v in pairs)
    return out


def _where_now(new: AttackRelease, tid: str) -> str | None:
    """A technique id of OLD in NEW: itself if live, its live replacement if revoked."""
    obj = new.get(f"technique:{tid}")
    if obj is not None:
        return tid if obj.live else None
    rev = new.revocations.get(f"technique:{tid}")
    return rev.target if rev is not None and rev.status == "live" else None


def tactic_changes(old: AttackRelease, new: AttackRelease, old_graph=None, new_graph=None) -> tuple[TacticChange, ...]:
    before, after = _live_tactics(old), _live_tactics(new)
    old_members, new_members = _members(old), _members(new)
    cov_old, cov_new = _covered(old_graph), _covered(new_graph)
    # Where each OLD member went: its NEW tactics (through its replacement when revoked).
    new_tactics = {o.attack_id: o.tactics for o in new.of_kind("technique") if isinstance(o, Technique)}

    def counts(ids, cov) -> tuple[tuple[str, int], ...]:
        return tuple((family, len(set(ids) & cov[family])) for family in ("framework", "detection_source"))

    out: list[TacticChange] = []
    for tid in sorted(before.keys() & after.keys()):
        o, n = before[tid], after[tid]
        if (o.name, o.shortname) == (n.name, n.shortname):
            continue
        members = sorted(new_members.get(tid, ()))
        went: dict[str, list[str]] = {}
        for tech in sorted(old_members.get(tid, ())):
            now = _where_now(new, tech)
            if now is not None and tid not in new_tactics.get(now, ()):
                for t in new_tactics.get(now, ()):
                    went.setdefault(t, []).append(now)
        out.append(
            TacticChange(
                kind="renamed", attack_id=tid, old_name=o.name, old_shortname=o.shortname, name=n.name, shortname=n.shortname,
                techniques=tuple(members), moved=tuple((t, tuple(v)) for t, v in sorted(went.items())), covered=counts(members, cov_new),
            )
        )
    for tid in sorted(after.keys() - before.keys()):
        n = after[tid]
        members = sorted(new_members.get(tid, ()))
        came: dict[str, list[str]] = {}
        for tech in members:
            sources = [tech] if old.get(f"technique:{tech}") is not None else []
            sources += [r.attack_id for r in old_revoked_into(old, new, tech)]
            for src in sources:
                obj = old.get(f"technique:{src}")
                for t in getattr(obj, "tactics", ()):
                    came.setdefault(t, []).append(tech)
        out.append(
            TacticChange(
                kind="added", attack_id=tid, name=n.name, shortname=n.shortname, techniques=tuple(members),
                moved=tuple((t, tuple(dict.fromkeys(v))) for t, v in sorted(came.items())), covered=counts(members, cov_new),
            )
        )
    for tid in sorted(before.keys() - after.keys()):
        o = before[tid]
        members = sorted(old_members.get(tid, ()))
        went = {}
        lost = {family: 0 for family in ("framework", "detection_source")}
        for tech in members:
            now = _where_now(new, tech)
            for t in new_tactics.get(now or "", ()):
                went.setdefault(t, []).append(now)
            for family in lost:
                if tech in cov_old[family] and (now is None or now not in cov_new[family]):
                    lost[family] += 1
        out.append(
            TacticChange(
                kind="retired", attack_id=tid, old_name=o.name, old_shortname=o.shortname, techniques=tuple(members),
                moved=tuple((t, tuple(v)) for t, v in sorted(went.items())), covered=counts(members, cov_old),
                covered_lost=tuple(lost.items()),
            )
        )
    return tuple(out)


def old_revoked_into(old: AttackRelease, new: AttackRelease, tech: str):
    """Revocations of NEW that lead to `tech` from an id that was live in OLD."""
    for rev in new.revocations.values():
        if rev.kind == "technique" and rev.status == "live" and rev.target == tech:
            obj = old.get(f"technique:{rev.attack_id}")
            if obj is not None and obj.live:
                yield rev


def as_document(changes: tuple[TacticChange, ...]) -> dict:
    out: dict[str, list[dict]] = {"renamed": [], "added": [], "retired": []}
    for c in changes:
        out[c.kind].append(
            {
                "id": c.attack_id,
                "old_name": c.old_name or None,
                "old_shortname": c.old_shortname or None,
                "name": c.name or None,
                "shortname": c.shortname or None,
                "techniques": list(c.techniques),
                ("came_from" if c.kind == "added" else "moved_to"): {t: list(v) for t, v in c.moved},
                "covered": dict(c.covered),
                **({"covered_lost": dict(c.covered_lost)} if c.kind == "retired" else {}),
            }
        )
    return out


def markdown(doc: dict, names: dict[str, str]) -> list[str]:
    """The tactic sections of the Markdown report; nothing when no tactic changed."""
    if not any(doc.values()):
        return []

    def tactics(moved: dict) -> str:
        return "; ".join(f"{names.get(t, t)} ({t}): {len(v)} ({', '.join(v)})" for t, v in moved.items())

    def cover(c: dict) -> str:
        return f"{c['framework']} covered by controls, {c['detection_source']} by detections"

    out: list[str] = []
    for kind, title in (("renamed", "Renamed tactics"), ("added", "Added tactics"), ("retired", "Retired tactics")):
        entries = doc[kind]
        if not entries:
            continue
        out += [f"### {title} ({len(entries)})", ""]
        for e in entries:
            n = len(e["techniques"])
            if kind == "renamed":
                out.append(
                    f"- {e['id']} {e['old_name']} (`{e['old_shortname']}`) → {e['name']} (`{e['shortname']}`): "
                    f"carries {n} technique(s), {cover(e['covered'])}; layers, rule tags and dashboards naming "
                    f"`{e['old_shortname']}` must name `{e['shortname']}`"
                )
                if e["moved_to"]:
                    out.append(f"  - techniques that left it, by tactic: {tactics(e['moved_to'])}")
            elif kind == "added":
                out.append(f"- {e['id']} {e['name']} (`{e['shortname']}`): {n} technique(s), {cover(e['covered'])}")
                if e["came_from"]:
                    out.append(f"  - previously in: {tactics(e['came_from'])}")
            else:
                lost = e["covered_lost"]
                out.append(
                    f"- {e['id']} {e['old_name']} (`{e['old_shortname']}`): had {n} technique(s), {cover(e['covered'])}; "
                    f"coverage lost: {lost['framework']} by controls, {lost['detection_source']} by detections"
                )
                if e["moved_to"]:
                    out.append(f"  - its techniques are now in: {tactics(e['moved_to'])}")
            out.append(f"  - techniques: {', '.join(e['techniques']) or 'none'}")
        out.append("")
    return out
