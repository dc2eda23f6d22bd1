"""Tactic shortnames of an older release that the target release no longer has.

Rules and layers name tactics by shortname. When a release renames a tactic under its
id (v19: TA0005 `defense-evasion` → `stealth`) or retires one, content tagged with the
old shortname must land somewhere: on the tactic that kept the id, and on the tactics
that took over the techniques which left it (v19: `defense-impairment`, TA0112, which
took the Impair Defenses family under new ids). Both come from comparing two release
indexes, never from a table of names.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.reconcile.release_index import ReleaseIndex


@dataclass(frozen=True, slots=True)
class Succession:
    """What became of an old tactic shortname in the target release."""

    shortname: str
    attack_id: str  # the tactic's id in the older release
    kind: str  # renamed | retired
    successors: tuple[str, ...]  # shortnames in the target release, the kept id first
    older: str  # the release the old shortname was read from

    def describe(self, target: str) -> str:
        names = ", ".join(repr(s) for s in self.successors) or "no tactic"
        if self.kind == "renamed":
            return f"tactic {self.shortname!r} ({self.attack_id}) is {self.successors[0]!r} in {target}; its successors: {names}"
        return f"tactic {self.shortname!r} ({self.attack_id}) is retired in {target}; its techniques went to {names}"


def successions(old: ReleaseIndex, new: ReleaseIndex) -> dict[str, Succession]:
    """Old shortname → Succession, for every live tactic of OLD whose shortname NEW lacks."""
    current = set(new.tactic_shortnames.values())
    out: dict[str, Succession] = {}
    for ta, short in old.tactic_shortnames.items():
        if short in current:
            continue
        found: list[str] = []
        kept = new.tactic_shortnames.get(ta)
        if kept:
            found.append(kept)
        for tech, entry in old.techniques.items():
            if entry.deprecated or ta not in entry.tactics:
                continue
            now = tech if tech in new.techniques else (new.revoked[tech].target if tech in new.revoked else None)
            if now is None or now not in new.techniques or ta in new.techniques[now].tactics:
                continue  # gone, or still in the tactic: nothing to follow
            found += [new.tactic_shortnames[t] for t in new.techniques[now].tactics if t in new.tactic_shortnames]
        out[short] = Succession(
            shortname=short,
            attack_id=ta,
            kind="renamed" if kept else "retired",
            successors=tuple(dict.fromkeys(found)),
            older=old.version,
        )
    return out
