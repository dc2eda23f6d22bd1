"""One layer's technique entries → the target release's entries, and why each changed.

Per entry, in this order:

- the id: carried over (same id, same name), renamed (same id, new name), revoked →
  its replacement (followed through revoked-by relationships), deprecated (kept, with
  `enabled: false`: the Navigator would hide it anyway, and the user's score and
  comment stay in the file), or unknown / revoked without replacement (left out of the
  layer, the whole entry kept in the report: a person has to decide);
- the tactic, when the entry names one: kept if the technique is in it in the target
  release; else re-tagged to the tactic that took it over — the same tactic id under a
  new shortname (a renamed tactic), else the one tactic the technique gained, else the
  technique's only tactic; when none of these is unique the tactic is dropped (the
  entry then applies to every tactic of the technique) and the entry needs a decision;
- entries landing on one technique and tactic are merged by MERGE_RULE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.reconcile.release_index import ReleaseIndex
from pipeline.upgrade.releases import DomainReleases, Landing

MERGE_RULE = (
    "entries landing on one technique and tactic are merged: the highest score (a technique "
    "is covered as well as its best-covered predecessor) with that entry's colour; enabled "
    "if any is; comments, metadata and links of all, in layer order, duplicates dropped"
)
NEEDS_DECISION = ("unknown", "dead_end")


@dataclass(frozen=True, slots=True)
class Change:
    """What happened to one input entry (`index` in the input `techniques` list)."""

    index: int
    technique: str
    tactic: str | None
    status: str  # carried | renamed | revoked | deprecated | unknown | dead_end
    new_technique: str | None = None
    new_tactic: str | None = None
    retag: str = ""  # '' | renamed-tactic | moved | only-tactic | ambiguous
    old_name: str = ""
    new_name: str = ""
    detail: str = ""
    merged_with: tuple[int, ...] = ()
    decision: bool = False

    @property
    def changed(self) -> bool:
        return self.status != "carried" or bool(self.retag) or bool(self.merged_with)

    def as_json(self) -> dict:
        return {
            "index": self.index,
            "technique": self.technique,
            "tactic": self.tactic,
            "status": self.status,
            "new_technique": self.new_technique,
            "new_tactic": self.new_tactic,
            "retag": self.retag or None,
            "old_name": self.old_name or None,
            "new_name": self.new_name or None,
            "detail": self.detail or None,
            "merged_with": list(self.merged_with),
            "needs_decision": self.decision,
        }


@dataclass
class UpgradedEntries:
    entries: list[dict]
    changes: list[Change]
    left_out: list[dict] = field(default_factory=list)  # the input entries not written


def _tactics(index: ReleaseIndex, technique: str) -> list[str]:
    entry = index.techniques.get(technique)
    if entry is None:
        return []
    return [index.tactic_shortnames[t] for t in entry.tactics if t in index.tactic_shortnames]


def _retag(tactic: str, technique: str, old_technique: str, source: ReleaseIndex, target: ReleaseIndex) -> tuple[str | None, str, str]:
    """(new tactic or None, how, detail) for an entry whose tactic the technique is not in."""
    now = _tactics(target, technique)
    by_short = {s: tid for tid, s in source.tactic_shortnames.items()}
    by_short.update({s: tid for tid, s in target.tactic_shortnames.items() if s not in by_short})
    tactic_id = by_short.get(tactic)
    renamed = target.tactic_shortnames.get(tactic_id or "")
    if renamed and renamed in now:
        return renamed, "renamed-tactic", f"tactic {tactic!r} ({tactic_id}) is {renamed!r} in {target.version}"
    before = source.techniques.get(old_technique)
    had = set(before.tactics) if before is not None else set()
    entry = target.techniques.get(technique)
    gained = [target.tactic_shortnames[t] for t in (entry.tactics if entry else ()) if t not in had and t in target.tactic_shortnames]
    if len(gained) == 1:
        return gained[0], "moved", f"{technique} is not in {tactic!r} in {target.version}; re-tagged {gained[0]!r}, the tactic it gained"
    if len(now) == 1:
        return now[0], "only-tactic", f"{technique} is not in {tactic!r} in {target.version}; re-tagged {now[0]!r}, its only tactic"
    where = ", ".join(repr(t) for t in now) or "no tactic"
    return None, "ambiguous", f"{technique} is not in {tactic!r} in {target.version} but in {where}: tactic dropped, decide where it belongs"


def upgrade_entries(techniques: list[dict], releases: DomainReleases, source_version: str) -> UpgradedEntries:
    source = releases.index(source_version)
    target = releases.target
    placed: dict[tuple[str, str | None], list[tuple[int, dict]]] = {}
    changes: dict[int, Change] = {}
    left_out: list[dict] = []
    for i, entry in enumerate(techniques):
        tid = entry["techniqueID"]
        tactic = entry.get("tactic")
        landing: Landing = releases.land(tid, source_version)
        old_name = source.techniques[tid].name if tid in source.techniques else ""
        if landing.status in NEEDS_DECISION:
            detail = (
                f"{tid} is revoked in {landing.via} with no replacement"
                if landing.status == "dead_end"
                else f"{tid} is not a technique of ATT&CK {releases.domain} {source_version} or {releases.target_version}"
            )
            changes[i] = Change(i, tid, tactic, landing.status, old_name=old_name, detail=detail + "; left out of the layer", decision=True)
            left_out.append(entry)
            continue
        new_id = landing.target
        new_name = target.techniques[new_id].name
        if landing.status == "revoked":
            status = "revoked"
            via = " → ".join(landing.chain) if len(landing.chain) > 2 else f"{tid} → {new_id}"
            detail = f"revoked in {landing.via}: {via}"
            if landing.target_deprecated:
                detail += f"; {new_id} is deprecated (kept disabled)"
        elif landing.status == "deprecated":
            status, detail = "deprecated", f"{tid} is deprecated in {releases.target_version}; kept disabled"
        elif old_name and old_name != new_name:
            status, detail = "renamed", ""
        else:
            status, detail = "carried", ""
        new_tactic, retag, decision = tactic, "", False
        if tactic is not None and tactic not in _tactics(target, new_id):
            new_tactic, retag, how = _retag(tactic, new_id, tid, source, target)
            detail = "; ".join(p for p in (detail, how) if p)
            decision = retag == "ambiguous"
        out = {k: v for k, v in entry.items() if k not in ("techniqueID", "tactic")}
        out = {"techniqueID": new_id, **({"tactic": new_tactic} if new_tactic else {}), **out}
        if landing.target_deprecated:
            out["enabled"] = False
        changes[i] = Change(
            i, tid, tactic, status, new_id, new_tactic, retag, old_name, new_name if new_name != old_name or status == "revoked" else "", detail, decision=decision
        )
        placed.setdefault((new_id, new_tactic), []).append((i, out))
    entries = []
    order = {s: n for n, s in enumerate(target.tactic_shortnames.values())}
    for (new_id, new_tactic), group in sorted(placed.items(), key=lambda kv: (_id_order(kv[0][0]), order.get(kv[0][1] or "", -1))):
        if len(group) == 1:
            entries.append(group[0][1])
            continue
        entries.append(merge([e for _, e in group], [techniques[i]["techniqueID"] for i, _ in group], new_id))
        ids = tuple(i for i, _ in group)
        for i in ids:
            c = changes[i]
            changes[i] = Change(
                c.index, c.technique, c.tactic, c.status, c.new_technique, c.new_tactic, c.retag, c.old_name, c.new_name,
                c.detail, tuple(j for j in ids if j != i), c.decision,
            )
    return UpgradedEntries(entries=entries, changes=[changes[i] for i in sorted(changes)], left_out=left_out)


def merge(group: list[dict], origins: list[str], new_id: str) -> dict:
    """Entries that land on one technique and tactic → one entry (see MERGE_RULE)."""
    scored = [e for e in group if "score" in e]
    best = max(scored, key=lambda e: e["score"]) if scored else None  # max keeps the first on a tie
    out: dict = {"techniqueID": new_id}
    if "tactic" in group[0]:
        out["tactic"] = group[0]["tactic"]
    if best is not None:
        out["score"] = best["score"]
    colour = (best or {}).get("color") or next((e["color"] for e in group if e.get("color")), None)
    if colour:
        out["color"] = colour
    comments: list[str] = []
    for e, origin in zip(group, origins):
        text = (e.get("comment") or "").strip()
        if text:
            line = text if origin == new_id else f"{origin}: {text}"
            if line not in comments:
                comments.append(line)
    if comments or any("comment" in e for e in group):
        out["comment"] = "\n".join(comments)
    if any("enabled" in e for e in group):
        out["enabled"] = any(e.get("enabled", True) for e in group)
    metadata: list[dict] = []
    for e in group:
        block = [m for m in e.get("metadata", ()) if m not in metadata or m.get("divider")]
        if block and metadata and not metadata[-1].get("divider"):
            metadata.append({"divider": True})
        metadata.extend(block)
    while metadata and metadata[-1].get("divider"):
        metadata.pop()
    if metadata:
        out["metadata"] = metadata
    links: list[dict] = []
    seen: set[str] = set()
    for e in group:
        for link in e.get("links", ()):
            if link.get("url") not in seen:
                seen.add(link.get("url"))
                links.append(link)
    if links:
        out["links"] = links
    if any("showSubtechniques" in e for e in group):
        out["showSubtechniques"] = any(e.get("showSubtechniques", False) for e in group)
    return out


def _id_order(technique_id: str) -> tuple:
    base, _, sub = technique_id.partition(".")
    return (base, int(sub) if sub.isdigit() else -1)
