"""Two releases of one ATT&CK domain → what changed, object by object, keyed by STIX id.

Why the STIX id and not the ATT&CK id: an object keeps its STIX id when its ATT&CK id
changes (a technique turned into a sub-technique in place), and a revoked object keeps
its own ATT&CK id while a new object takes over. Keying by STIX id is also what
mitreattack-python's changelog (`diffStix`) does, so the counts of both tools can be
compared category by category.

Every object present in both releases lands in exactly one section, tested in the
order diffStix uses:

1. revoked in NEW but not in OLD                   → `revocations` (with the replacement)
2. deprecated in NEW but not in OLD                → `deprecations`
3. otherwise, by its `x_mitre_version` change      → `major_version_changes` (1.2 → 2.0),
   `minor_version_changes` (1.2 → 1.3), `other_version_changes` (any other change)
4. same version but a new `modified` date or a new description → `patches`
5. otherwise unchanged (only counted).

Objects revoked (or deprecated) in both releases are in no section, as in diffStix. A
tactic renamed under its id is in no section either: `pipeline.diff.tactics` reports it
(with the tactics added and retired) in a section of its own.
Objects only in NEW are `additions` (even if NEW already revokes them), objects only in
OLD `deletions`. On top of the sections, techniques get facets that cut across them:
renamed, moved between tactics, and sub-technique conversions (in place, or through a
revocation whose replacement is on the other side of the technique/sub-technique line).

Where the counts still differ from diffStix (a revocation without a usable revoked-by
relationship: diffStix logs it and drops it, this module lists it with no replacement;
objects with no ATT&CK id at all: the ingest stage skips them), docs/output-formats.md's "Release
diff" section says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime

from pipeline.model.attack import AttackObject, AttackRelease, Revocation, Tactic, Technique

SECTIONS: tuple[str, ...] = (
    "additions",
    "major_version_changes",
    "minor_version_changes",
    "other_version_changes",
    "patches",
    "revocations",
    "deprecations",
    "deletions",
)
# Node kinds compared, in report order; all but `tactic` are diffStix object types too.
KINDS: tuple[str, ...] = (
    "technique",
    "tactic",
    "mitigation",
    "group",
    "software",
    "campaign",
    "detection_strategy",
    "analytic",
    "datasource",
    "datacomponent",
    "asset",
)
# Record fields that change with every edit or follow from another field.
# Bookkeeping, not content: `references` follows `url` and the description's citations,
# `created` never changes for one STIX id.
_IGNORED_FIELDS = frozenset({"stix_id", "version", "modified", "url", "revoked", "deprecated", "references", "created"})
# Long prose: a diff says that it changed, not both texts.
TEXT_FIELDS = frozenset({"description", "detection"})
_VERSION = re.compile(r"^\s*(\d+)\.(\d+)\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldChange:
    """One record field that differs; `old`/`new` are None for prose fields."""

    field: str
    old: object = None
    new: object = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One object in one section. `new` is None for deletions, `old` for additions."""

    kind: str
    section: str
    old: AttackObject | None = None
    new: AttackObject | None = None
    fields: tuple[FieldChange, ...] = ()
    replacement: Revocation | None = None
    replacement_record: AttackObject | None = None

    @property
    def record(self) -> AttackObject:
        rec = self.new or self.old
        assert rec is not None
        return rec

    @property
    def attack_id(self) -> str:
        return self.record.attack_id

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def stix_id(self) -> str:
        return self.record.stix_id

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.field for f in self.fields)


@dataclass(frozen=True, slots=True, kw_only=True)
class Renamed:
    attack_id: str
    old_name: str
    new_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TacticMove:
    """Tactic ids a technique gained (`added`) and lost (`removed`)."""

    attack_id: str
    name: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversion:
    """A technique that became a sub-technique (`to_subtechnique`) or the reverse.

    `via` is `same object` (the STIX object changed its parent) or `revocation` (the
    old object was revoked by one on the other side)."""

    old_attack_id: str
    attack_id: str
    name: str
    direction: str
    via: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseDiff:
    domain: str
    old_version: str
    new_version: str
    changes: dict[str, dict[str, tuple[Change, ...]]]
    unchanged: dict[str, int]
    renamed: tuple[Renamed, ...]
    moved: tuple[TacticMove, ...]
    conversions: tuple[Conversion, ...]
    tactic_names: dict[str, str]

    def section(self, kind: str, section: str) -> tuple[Change, ...]:
        return self.changes.get(kind, {}).get(section, ())

    def counts(self) -> dict[str, dict[str, int]]:
        """Objects per kind and section (zeros included), plus `unchanged`."""
        return {
            kind: {s: len(self.section(kind, s)) for s in SECTIONS} | {"unchanged": self.unchanged.get(kind, 0)}
            for kind in KINDS
        }


def parse_version(text: str) -> tuple[int, int]:
    """`x_mitre_version` as (major, minor); absent or malformed counts as 0.0 (as diffStix
    does for ICS objects that predate versioning)."""
    m = _VERSION.match(text or "")
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def version_section(old: str, new: str) -> str | None:
    """`major_version_changes`, `minor_version_changes`, `other_version_changes`, or None
    when the version did not move."""
    o, n = parse_version(old), parse_version(new)
    if n == o:
        return None
    if n == (o[0] + 1, 0):
        return "major_version_changes"
    if n == (o[0], o[1] + 1):
        return "minor_version_changes"
    return "other_version_changes"


def _instant(text: str) -> datetime | str:
    """A STIX timestamp at millisecond precision, the precision STIX gives `modified`:
    10.1 writes `09:30:48.697559Z` where 12.1 writes `09:30:48.697Z` for the same
    instant (stix2, and so diffStix, truncate both to milliseconds)."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return text
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def _description_lines(text: str) -> frozenset[str]:
    # diffStix joins paragraphs and compares the remaining lines as sets.
    return frozenset(text.replace("\n", " ").splitlines())


def is_patch(old: AttackObject, new: AttackObject) -> bool:
    """Same version, but a new `modified` instant or a different description."""
    if _instant(old.modified) != _instant(new.modified):
        return True
    return _description_lines(old.description) != _description_lines(new.description)


def changed_fields(old: AttackObject, new: AttackObject) -> tuple[FieldChange, ...]:
    """Every record field (but the bookkeeping ones) whose value differs."""
    out = []
    for f in fields(new):
        if f.name in _IGNORED_FIELDS:
            continue
        a, b = getattr(old, f.name, None), getattr(new, f.name, None)
        if a != b:
            text = f.name in TEXT_FIELDS
            out.append(FieldChange(field=f.name, old=None if text else a, new=None if text else b))
    return tuple(out)


def _all_objects(release: AttackRelease) -> dict[str, AttackObject]:
    return release.objects | release.revoked_objects


def _sort_key(change: Change) -> tuple[str, str]:
    return (change.attack_id, change.stix_id)


class _Differ:
    def __init__(self, old: AttackRelease, new: AttackRelease) -> None:
        self.old, self.new = old, new
        self.sections: dict[str, dict[str, list[Change]]] = {k: {s: [] for s in SECTIONS} for k in KINDS}
        self.unchanged: dict[str, int] = {k: 0 for k in KINDS}
        self.renamed: list[Renamed] = []
        self.moved: list[TacticMove] = []
        self.conversions: list[Conversion] = []

    def add(self, kind: str, change: Change) -> None:
        self.sections.setdefault(kind, {s: [] for s in SECTIONS})[change.section].append(change)

    def run(self) -> None:
        old_all, new_all = _all_objects(self.old), _all_objects(self.new)
        for sid in sorted(new_all.keys() - old_all.keys()):
            obj = new_all[sid]
            self.add(obj.kind, Change(kind=obj.kind, section="additions", new=obj))
        for sid in sorted(old_all.keys() - new_all.keys()):
            obj = old_all[sid]
            self.add(obj.kind, Change(kind=obj.kind, section="deletions", old=obj))
        for sid in sorted(old_all.keys() & new_all.keys()):
            self.compare(old_all[sid], new_all[sid])

    def compare(self, old: AttackObject, new: AttackObject) -> None:
        kind = new.kind
        if new.revoked:
            if not old.revoked:
                self.revoked(old, new)
            return
        if new.deprecated:
            if not old.deprecated:
                self.add(kind, Change(kind=kind, section="deprecations", old=old, new=new, fields=changed_fields(old, new)))
            return
        if isinstance(old, Tactic) and isinstance(new, Tactic) and (old.name, old.shortname) != (new.name, new.shortname):
            return  # a renamed tactic has a section of its own (pipeline.diff.tactics), not a patch
        section = version_section(old.version, new.version) or ("patches" if is_patch(old, new) else None)
        if section is None:
            self.unchanged[kind] = self.unchanged.get(kind, 0) + 1
        else:
            self.add(kind, Change(kind=kind, section=section, old=old, new=new, fields=changed_fields(old, new)))
        if isinstance(old, Technique) and isinstance(new, Technique):
            self.technique_facets(old, new)

    def revoked(self, old: AttackObject, new: AttackObject) -> None:
        rev = self.new.revocations.get(new.key)
        if rev is not None and rev.attack_id != new.attack_id:
            rev = None
        target = self.new.get(f"{new.kind}:{rev.target}") if rev is not None and rev.target else None
        self.add(new.kind, Change(kind=new.kind, section="revocations", old=old, new=new, replacement=rev, replacement_record=target))
        if new.kind == "technique" and target is not None:
            was_sub, is_sub = getattr(old, "parent", None) is not None, getattr(target, "parent", None) is not None
            if was_sub != is_sub:
                self.conversions.append(
                    Conversion(
                        old_attack_id=old.attack_id,
                        attack_id=target.attack_id,
                        name=target.name,
                        direction="to_subtechnique" if is_sub else "to_technique",
                        via="revocation",
                    )
                )

    def technique_facets(self, old: Technique, new: Technique) -> None:
        if old.name != new.name:
            self.renamed.append(Renamed(attack_id=new.attack_id, old_name=old.name, new_name=new.name))
        if set(old.tactics) != set(new.tactics):
            self.moved.append(
                TacticMove(
                    attack_id=new.attack_id,
                    name=new.name,
                    added=tuple(t for t in new.tactics if t not in old.tactics),
                    removed=tuple(t for t in old.tactics if t not in new.tactics),
                )
            )
        if (old.parent is None) != (new.parent is None):
            self.conversions.append(
                Conversion(
                    old_attack_id=old.attack_id,
                    attack_id=new.attack_id,
                    name=new.name,
                    direction="to_subtechnique" if new.parent else "to_technique",
                    via="same object",
                )
            )


def diff_releases(old: AttackRelease, new: AttackRelease) -> ReleaseDiff:
    """Compare two releases of the same domain (OLD first)."""
    if old.domain != new.domain:
        raise ValueError(f"cannot compare {old.domain} {old.version} with {new.domain} {new.version}")
    d = _Differ(old, new)
    d.run()
    tactic_names = {o.attack_id: o.name for r in (old, new) for o in r.objects.values() if o.kind == "tactic"}
    return ReleaseDiff(
        domain=new.domain,
        old_version=old.version,
        new_version=new.version,
        changes={k: {s: tuple(sorted(v, key=_sort_key)) for s, v in secs.items()} for k, secs in d.sections.items()},
        unchanged=d.unchanged,
        renamed=tuple(sorted(d.renamed, key=lambda r: r.attack_id)),
        moved=tuple(sorted(d.moved, key=lambda m: m.attack_id)),
        conversions=tuple(sorted(d.conversions, key=lambda c: (c.attack_id, c.old_attack_id))),
        tactic_names=dict(sorted(tactic_names.items())),
    )
