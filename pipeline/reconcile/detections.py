"""Detection technique ids and tactics → the target ATT&CK release.

Rules name techniques as they were when written: a card may say T1170 (revoked for
T1218.005) or T1436 (a deprecated Mobile technique), a Sigma rule `attack.stealth` (a
tactic newer than the release). Nothing is dropped: a revoked id is followed to its
replacement, a deprecated one is kept and flagged, an unknown one is kept unresolved,
and each case is reported once per source and id. Tactics a detection does not state
are derived from its techniques.

A tactic the target release renamed or retired (v19: `defense-evasion` → `stealth`,
with part of its techniques in the new `defense-impairment`) is never kept under its old
shortname, which would now name another domain's tactic or none: the rule's techniques
decide (it is re-tagged with the successors its techniques are in), and a rule that names
the tactic alone is kept under every successor. Both are reported once per source and name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

from pipeline.core.errors import Issue
from pipeline.model.attack import AttackRelease, Revocation, Tactic, Technique
from pipeline.model.detections import Detection, TacticRef
from pipeline.reconcile.tactics import Succession

STALE = ("deprecated", "revoked", "dead_end", "unknown")


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where one published technique id leads in the target release."""

    status: str  # live | deprecated | revoked | dead_end | unknown
    target: str = ""
    chain: tuple[str, ...] = ()


@dataclass
class ReleaseIndex:
    """Technique and tactic lookups over the loaded domains of the target release."""

    version: str
    domains: tuple[str, ...]
    techniques: dict[str, Technique] = field(default_factory=dict)
    revocations: dict[str, Revocation] = field(default_factory=dict)
    tactic_ids: dict[str, str] = field(default_factory=dict)
    tactic_shortnames: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, releases: Iterable[AttackRelease]) -> "ReleaseIndex":
        releases = list(releases)
        index = cls(version=releases[0].version if releases else "", domains=tuple(r.domain for r in releases))
        for release in releases:
            for obj in release.of_kind("technique", live_only=False):
                known = index.techniques.get(obj.attack_id)
                if known is None or (not known.live and obj.live):
                    index.techniques[obj.attack_id] = obj  # type: ignore[assignment]
            for obj in release.of_kind("tactic", live_only=False):
                assert isinstance(obj, Tactic)
                if obj.live or obj.shortname not in index.tactic_ids:
                    index.tactic_ids.setdefault(obj.shortname, obj.attack_id)
                    index.tactic_shortnames.setdefault(obj.attack_id, obj.shortname)
            for key, rev in release.revocations.items():
                if rev.kind == "technique":
                    index.revocations.setdefault(rev.attack_id, rev)
        return index

    def resolve(self, attack_id: str) -> Resolution:
        tech = self.techniques.get(attack_id)
        if tech is not None:
            return Resolution("deprecated" if tech.deprecated else "live", attack_id)
        rev = self.revocations.get(attack_id)
        if rev is not None:
            if rev.status == "dead_end" or not rev.target:
                return Resolution("dead_end", "", rev.chain)
            return Resolution("revoked", rev.target, rev.chain)
        return Resolution("unknown")


@dataclass(frozen=True)
class Reconciled:
    detections: tuple[Detection, ...]
    issues: tuple[Issue, ...]
    # source → status → published id → detection ids (stale ids only), for reports.
    stale: dict[str, dict[str, dict[str, list[str]]]]
    # source → tactic shortname → number of detections naming it, for tactics the release lacks.
    unknown_tactics: dict[str, dict[str, int]]
    targets: dict[str, str]


def _title(d: Detection) -> str:
    return " ".join(d.title.split())


def _where(d: Detection) -> str:
    return f"{d.source}/{d.path}" if d.path else d.source


def _succession(t: TacticRef, index: ReleaseIndex, successions: Mapping[str, Succession]) -> Succession | None:
    """What became of a tactic the target release no longer names this way, or None.

    From the older release (`successions`), else from the ref's own tactic id when the
    target has that id under another shortname (Elastic states `TA0005` with its name)."""
    found = successions.get(t.shortname)
    if found is not None:
        return found
    short = index.tactic_shortnames.get(t.attack_id, "") if t.attack_id else ""
    if short and short != t.shortname:
        return Succession(shortname=t.shortname, attack_id=t.attack_id, kind="renamed", successors=(short,), older="")
    return None


class _Found:
    """What reconciling a corpus found, gathered for its issues and reports (one per
    source and id or tactic, naming the first detection and counting the others)."""

    def __init__(self) -> None:
        # source → status → published id → detection ids, for stale technique ids.
        self.stale: dict[str, dict[str, dict[str, list[str]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
        self.first: dict[tuple[str, str], Detection] = {}
        self.targets: dict[str, str] = {}
        # source → tactic shortname the release lacks → detections naming it.
        self.tactic_counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.tactic_first: dict[tuple[str, str], Detection] = {}
        # (source, old shortname) → [re-tagged by techniques, kept under successors], and the first detection.
        self.moved: dict[tuple[str, str], list[int]] = {}
        self.moved_first: dict[tuple[str, str], tuple[Detection, Succession]] = {}


def reconcile_detections(
    detections: Iterable[Detection], index: ReleaseIndex, successions: Mapping[str, Succession] | None = None
) -> Reconciled:
    successions = successions or {}
    found = _Found()
    out: list[Detection] = []
    for d in detections:
        refs, derived = _techniques(d, index, found)
        out.append(replace(d, techniques=refs, tactics=_tactics(d, derived, index, successions, found)))
    release = f"ATT&CK {index.version} ({', '.join(index.domains)})"
    issues = [*_technique_issues(found, release), *_tactic_issues(found, release)]
    return Reconciled(
        detections=tuple(out),
        issues=tuple(issues),
        stale={s: {k: {i: list(v) for i, v in sorted(m.items())} for k, m in st.items()} for s, st in found.stale.items()},
        unknown_tactics={s: dict(sorted(c.items())) for s, c in found.tactic_counts.items()},
        targets=found.targets,
    )


def _techniques(d: Detection, index: ReleaseIndex, found: _Found) -> tuple[tuple, list[str]]:
    """The detection's technique refs resolved in the release, and the tactic ids of the
    techniques they lead to (in order, repeated)."""
    refs = []
    derived: list[str] = []
    for ref in d.techniques:
        res = index.resolve(ref.attack_id)
        refs.append(replace(ref, target=res.target, status=res.status))
        if res.status in STALE:
            found.stale[d.source][res.status][ref.attack_id].append(d.id)
            found.first.setdefault((d.source, ref.attack_id), d)
            if res.target:
                found.targets[ref.attack_id] = res.target
        tech = index.techniques.get(res.target) if res.target else None
        if tech is not None:
            derived.extend(tech.tactics)
    return tuple(refs), derived


def _tactics(d: Detection, derived: list[str], index: ReleaseIndex, successions: Mapping[str, Succession], found: _Found) -> tuple[TacticRef, ...]:
    """The detection's tactics in the release: as stated (a renamed or retired one
    replaced by its successors, see the module's doc), then those its techniques add."""
    tactics: list[TacticRef] = []
    seen: set[str] = set()
    for t in d.tactics:
        succession = _succession(t, index, successions)
        if succession is not None and index.tactic_ids.get(t.shortname, "") not in derived:
            # Renamed or retired: the techniques decide; a rule naming only the tactic
            # is kept under every successor.
            key = (d.source, t.shortname)
            counts = found.moved.setdefault(key, [0, 0])
            found.moved_first.setdefault(key, (d, succession))
            ids = {index.tactic_ids.get(s, "") for s in succession.successors}
            chosen = [tid for tid in dict.fromkeys(derived) if tid in ids] if derived else [index.tactic_ids.get(s, "") for s in succession.successors]
            counts[0 if derived else 1] += 1
            for tid in chosen:
                short = index.tactic_shortnames.get(tid, "")
                if short and short not in seen:
                    tactics.append(TacticRef(shortname=short, how=t.how, attack_id=tid, note=f"was {t.shortname}"))
                    seen.add(short)
            continue
        tid = index.tactic_ids.get(t.shortname, "")
        if not tid and not t.attack_id:
            found.tactic_counts[d.source][t.shortname] += 1
            found.tactic_first.setdefault((d.source, t.shortname), d)
        if t.shortname in seen:
            continue
        tactics.append(replace(t, attack_id=tid or t.attack_id))
        seen.add(t.shortname)
    for tid in dict.fromkeys(derived):
        short = index.tactic_shortnames.get(tid, "")
        if short and short not in seen:
            tactics.append(TacticRef(shortname=short, how="derived", attack_id=tid))
            seen.add(short)
    return tuple(tactics)


def _technique_issues(found: _Found, release: str) -> list[Issue]:
    """One issue per source and stale technique id."""
    issues = []
    for source in sorted(found.stale):
        for status in STALE:
            for attack_id, ids in sorted(found.stale[source].get(status, {}).items()):
                d = found.first[(source, attack_id)]
                more = f" and {len(ids) - 1} more detection(s) of {source}" if len(ids) > 1 else ""
                if status == "revoked":
                    problem = f"technique {attack_id} is revoked in {release}; mapped to {found.targets[attack_id]}{more}"
                elif status == "deprecated":
                    problem = f"technique {attack_id} is deprecated in {release}; kept and flagged{more}"
                elif status == "dead_end":
                    problem = f"technique {attack_id} is revoked in {release} with no replacement; kept unresolved{more}"
                else:
                    problem = f"technique {attack_id} is not in {release}; kept unresolved{more}"
                issues.append(Issue(code=f"detection-technique-{status.replace('_', '-')}", problem=problem, file=_where(d), record=_title(d)))
    return issues


def _tactic_issues(found: _Found, release: str) -> list[Issue]:
    """One issue per source and unknown tactic, then per source and renamed or retired tactic."""
    issues = []
    for source in sorted(found.tactic_counts):
        for short, count in sorted(found.tactic_counts[source].items()):
            d = found.tactic_first[(source, short)]
            more = f" and {count - 1} more detection(s) of {source}" if count > 1 else ""
            issues.append(
                Issue(code="detection-tactic-unknown", problem=f"tactic {short!r} is not in {release}; kept as published{more}", file=_where(d), record=_title(d))
            )
    for (source, short), (retagged, kept) in sorted(found.moved.items()):
        d, succession = found.moved_first[(source, short)]
        parts = []
        if retagged:
            parts.append(f"{retagged} detection(s) of {source} re-tagged by their techniques")
        if kept:
            parts.append(f"{kept} naming no technique kept under {', '.join(succession.successors) or 'no tactic'}")
        issues.append(
            Issue(code=f"detection-tactic-{succession.kind}", problem=f"{succession.describe(release)}: {'; '.join(parts)}", file=_where(d), record=_title(d))
        )
    return issues
