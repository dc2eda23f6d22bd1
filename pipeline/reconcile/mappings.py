"""Reconcile mapping tables, written against many ATT&CK releases, to one target release.

Each row's technique is looked up in the target release:

- `unchanged` — live there under the name the row gives (or its own release gives);
- `renamed` — live there under another name (the row's name is kept as the old one);
- `revoked` — revoked there; the row moves to the end of the revoked-by chain
  (`AttackRelease.revocations`), which may be deprecated or a dead end;
- `deprecated` — deprecated there: kept and flagged, out of coverage by default;
- `unknown` — not in the target release at all: reported as an issue;
- `non_mappable` — the table says the row maps nothing.

Independently, the names a table publishes are checked against the release the table
declares (or the nearest release available when that one is not in the sources), and
tactic changes between that release and the target are listed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from pipeline.core.config import version_key
from pipeline.core.errors import Issue
from pipeline.model.controls import Mapping, MappingTable
from pipeline.reconcile.release_index import ReleaseIndex

STATUSES = ("unchanged", "renamed", "revoked", "deprecated", "unknown", "non_mappable")
COVERED = frozenset({"unchanged", "renamed", "revoked"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Remapped:
    """A mapping as it stands in the target release."""

    mapping: Mapping
    status: str
    technique_id: str | None
    technique_name: str = ""
    chain: tuple[str, ...] = ()
    target_deprecated: bool = False

    @property
    def in_coverage(self) -> bool:
        """Counted in coverage by default: a live technique and a mapped subject."""
        return (
            self.status in COVERED
            and not self.target_deprecated
            and self.technique_id is not None
            and self.mapping.subject_id is not None
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class NameCheck:
    """Which release a table's names were checked against, and why that one."""

    declared: str
    used: str | None
    note: str = ""

    @property
    def fallback(self) -> bool:
        return self.used != self.declared


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconciledTable:
    table: MappingTable
    enabled: bool
    target_version: str
    name_check: NameCheck
    remapped: tuple[Remapped, ...]
    tactic_changes: tuple[dict, ...] = ()
    name_mismatches: tuple[dict, ...] = ()
    issues: tuple[Issue, ...] = ()

    @property
    def all_issues(self) -> tuple[Issue, ...]:
        return self.table.issues + self.issues


def nearest_release(available: list[str], declared: str) -> str | None:
    """The release a table's names are checked against when its own is not available:
    the closest by (major, minor) distance, the older one on a tie (10.0 → 10.1,
    17.1 between 16.1 and 18.1 → 16.1)."""
    if declared in available:
        return declared
    try:
        want = version_key(declared)
    except ValueError:
        want = None
    if not available:
        return None
    if want is None or len(want) != 2:
        return sorted(available, key=version_key)[-1]

    def distance(v: str) -> tuple[int, tuple[int, ...]]:
        major, minor = version_key(v)[:2]
        return (abs((major * 1000 + minor) - (want[0] * 1000 + want[1])), version_key(v))

    return min(available, key=distance)


def _same(a: str, b: str) -> bool:
    """Names equal up to blanks (tables wrap and double-space names)."""
    return a == b or " ".join(a.split()) == " ".join(b.split())


def _remap(m: Mapping, target: ReleaseIndex, declared: ReleaseIndex | None) -> Remapped:
    tid = m.technique_id
    if tid is None or m.status == "non_mappable":
        return Remapped(mapping=m, status="non_mappable", technique_id=None)
    entry = target.techniques.get(tid)
    if entry is not None:
        if entry.deprecated:
            return Remapped(mapping=m, status="deprecated", technique_id=tid, technique_name=entry.name, target_deprecated=True)
        old = m.technique_name
        if not old and declared is not None and tid in declared.techniques:
            old = declared.techniques[tid].name
        status = "renamed" if old and not _same(old, entry.name) else "unchanged"
        return Remapped(mapping=m, status=status, technique_id=tid, technique_name=entry.name)
    rev = target.revoked.get(tid)
    if rev is not None:
        to = rev.target
        found = target.techniques.get(to) if to else None
        return Remapped(
            mapping=m,
            status="revoked",
            technique_id=to if found is not None else None,
            technique_name=found.name if found is not None else "",
            chain=rev.chain,
            target_deprecated=rev.status == "deprecated" or (found is not None and found.deprecated),
        )
    return Remapped(mapping=m, status="unknown", technique_id=None)


def reconcile_table(
    table: MappingTable,
    target: ReleaseIndex,
    declared: ReleaseIndex | None,
    name_check: NameCheck,
    *,
    enabled: bool = True,
) -> ReconciledTable:
    """`declared`: the index of the release the names are checked against (`name_check.used`)."""
    remapped = tuple(_remap(m, target, declared) for m in table.mappings)
    issues: list[Issue] = []
    dead_ends: set[str] = set()
    for r in remapped:
        m = r.mapping
        if r.status == "unknown":
            problem = f"technique {m.technique_id} is not in ATT&CK {target.domain} {target.version}"
            issues.append(Issue(code="unknown-technique", problem=problem, file=m.file, record=m.row))
        elif r.status == "revoked" and r.technique_id is None and m.technique_id not in dead_ends:
            dead_ends.add(m.technique_id or "")
            why = target.revoked[m.technique_id or ""].reason or "no live replacement"
            problem = f"technique {m.technique_id} is revoked in ATT&CK {target.version} and leads nowhere ({why})"
            issues.append(Issue(code="revocation-dead-end", problem=problem, file=m.file, record=m.row))
    return ReconciledTable(
        table=table,
        enabled=enabled,
        target_version=target.version,
        name_check=name_check,
        remapped=remapped,
        tactic_changes=_tactic_changes(remapped, target, declared),
        name_mismatches=_name_mismatches(table.mappings, declared, name_check),
        issues=tuple(issues),
    )


def _tactic_changes(remapped: tuple[Remapped, ...], target: ReleaseIndex, declared: ReleaseIndex | None) -> tuple[dict, ...]:
    if declared is None:
        return ()
    pairs = {(r.mapping.technique_id, r.technique_id) for r in remapped if r.technique_id and r.mapping.technique_id}
    out = []
    for old, new in sorted(pairs):
        before = declared.techniques.get(old)
        after = target.techniques.get(new)
        if before is None or after is None or before.tactics == after.tactics:
            continue
        out.append(
            {
                "technique": old,
                "target": new,
                "declared_tactics": [_tactic(declared, t) for t in before.tactics],
                "target_tactics": [_tactic(target, t) for t in after.tactics],
            }
        )
    return tuple(out)


def _tactic(index: ReleaseIndex, tactic_id: str) -> str:
    name = index.tactic_names.get(tactic_id)
    return f"{tactic_id} {name}" if name else tactic_id


def _name_mismatches(mappings: tuple[Mapping, ...], declared: ReleaseIndex | None, check: NameCheck) -> tuple[dict, ...]:
    """Rows whose technique name disagrees with the release they were checked against."""
    if declared is None:
        return ()
    rows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for m in mappings:
        if m.technique_id and m.technique_name:
            rows[(m.technique_id, m.technique_name)].append(m.row if m.file == mappings[0].file else f"{m.file}: {m.row}")
    out = []
    for (tid, published), where in sorted(rows.items()):
        entry = declared.techniques.get(tid)
        if entry is not None:
            if _same(entry.name, published):
                continue
            problem = f"ATT&CK {check.used} calls it {entry.name!r}"
            release_name = entry.name
        elif tid in declared.revoked:
            problem, release_name = f"revoked in ATT&CK {check.used}", ""
        else:
            problem, release_name = f"not in ATT&CK {check.used}", ""
        out.append(
            {"technique": tid, "published_name": published, "release_name": release_name, "problem": problem,
             "mappings": len(where), "rows": where}
        )
    return tuple(out)


def report(rt: ReconciledTable) -> dict:
    """The per-source reconciliation report (JSON-ready, deterministic)."""
    t = rt.table
    counts = Counter(r.status for r in rt.remapped)
    by: dict[str, dict[tuple, int]] = defaultdict(Counter)
    for r in rt.remapped:
        m = r.mapping
        if r.status == "renamed":
            by["renamed"][(m.technique_id, m.technique_name or "", r.technique_name)] += 1
        elif r.status == "revoked":
            by["revoked"][(m.technique_id, m.technique_name, r.technique_id or "", r.technique_name, r.chain, r.target_deprecated)] += 1
        elif r.status == "deprecated":
            by["deprecated"][(m.technique_id, r.technique_name)] += 1
    unknown: dict[str, dict] = {}
    for r in rt.remapped:
        if r.status == "unknown":
            m = r.mapping
            u = unknown.setdefault(m.technique_id or "", {"technique": m.technique_id, "published_name": m.technique_name, "rows": []})
            u["rows"].append(m.row)
    issues = sorted(
        (i.as_dict() for i in rt.all_issues),
        key=lambda d: (d["file"] or "", d["record"] or "", d["code"], d["problem"]),
    )
    nc = rt.name_check
    return {
        "source": t.source_id,
        "enabled": rt.enabled,
        "format": t.format,
        "file": t.file,
        "framework": t.framework,
        "framework_version": t.framework_version,
        "domain": t.domain,
        "declared_attack_version": t.attack_version,
        "target_attack_version": rt.target_version,
        "name_check": {"declared": nc.declared, "release": nc.used, "fallback": nc.fallback, "note": nc.note},
        "rows": t.rows,
        "mappings": len(rt.remapped),
        "status": {s: counts.get(s, 0) for s in STATUSES},
        "in_coverage": sum(1 for r in rt.remapped if r.in_coverage),
        "renamed": [
            {"technique": tid, "old_name": old, "name": new, "mappings": n}
            for (tid, old, new), n in sorted(by["renamed"].items())
        ],
        "revoked": [
            {
                "technique": tid,
                "published_name": name,
                "target": to or None,
                "target_name": to_name,
                "chain": list(chain),
                "target_deprecated": dep,
                "mappings": n,
            }
            for (tid, name, to, to_name, chain, dep), n in sorted(by["revoked"].items())
        ],
        "deprecated": [{"technique": tid, "name": name, "mappings": n} for (tid, name), n in sorted(by["deprecated"].items())],
        "unknown": [unknown[k] for k in sorted(unknown)],
        "tactic_changes": list(rt.tactic_changes),
        "name_mismatches": list(rt.name_mismatches),
        "issues": issues,
    }
