"""Layers upgraded from an older build against the same layers built at the target
release: every difference, with the reason it must exist (used by the upgrade tests)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

# Layers of ATT&CK's own relationships (which techniques a group uses, and the gaps
# layer, whose scores count groups): release data, rebuilt on each release, not carried.
RELEASE_DATA = ("enterprise/groups/", "enterprise/gaps.json")
COMPARED = ("score", "color", "enabled")  # comments are generated text naming sub-techniques


def _entries(layer: dict, tactics) -> dict:
    """(technique, tactic) → entry; an entry without a tactic stands for every tactic of its
    technique in the target release (the Navigator applies it to each)."""
    out = {}
    for t in layer["techniques"]:
        for tactic in [t["tactic"]] if t.get("tactic") else (tactics(t["techniqueID"]) or [None]):
            out[(t["techniqueID"], tactic)] = t
    return out


def compare(upgraded: Path, built: Path, old, new) -> tuple[Counter, list]:
    """Counter of (what differs, why) over every layer of both folders, and the
    differences no reason explains (must stay empty)."""

    def tactics(tid: str) -> list[str]:
        e = new.techniques.get(tid)
        return [new.tactic_shortnames[t] for t in e.tactics] if e else []

    def added(tid: str) -> bool:
        return tid not in old.techniques or old.techniques[tid].deprecated

    revoked_into = {e.target for k, e in new.revoked.items() if k in old.techniques and e.target}
    up = {p.relative_to(upgraded).as_posix() for p in upgraded.rglob("*.json") if not p.name.endswith(".upgrade.json")}
    have = {p.relative_to(built).as_posix() for p in built.rglob("*.json")}
    found: Counter = Counter()
    unexplained: list = []
    for rel in sorted(up ^ have):
        if rel.startswith(RELEASE_DATA):
            found[("layer only in one", "ATT&CK release data")] += 1
            continue
        layer = json.loads((built / rel).read_text()) if rel in have else None
        if layer is not None and all(added(t["techniqueID"]) or any(
            added(s["techniqueID"]) and s["techniqueID"].startswith(t["techniqueID"] + ".") for s in layer["techniques"]
        ) for t in layer["techniques"]):
            found[("layer only in the target build", "every technique added after the old release")] += 1
        else:
            unexplained.append(("layer", rel))
    for rel in sorted(up & have):
        if rel.startswith(RELEASE_DATA):
            found[("layer compared", "skipped: ATT&CK release data")] += 1
            continue
        a = _entries(json.loads((upgraded / rel).read_text()), tactics)
        b = _entries(json.loads((built / rel).read_text()), tactics)
        for key in b.keys() - a.keys():
            tid = key[0]
            if added(tid):
                found[("entry only in the target build", "technique added after the old release")] += 1
            elif any(added(other) and other.startswith(tid + ".") for other, _ in b):
                found[("entry only in the target build", "parent of a sub-technique added after the old release")] += 1
            else:
                unexplained.append((rel, key, "only built"))
        for key in a.keys() - b.keys():
            unexplained.append((rel, key, "only upgraded"))
        for key in a.keys() & b.keys():
            for field in COMPARED:
                if a[key].get(field) != b[key].get(field):
                    if key[0] in revoked_into and field == "score":
                        found[("score differs", "revoked into this technique: upgrade keeps the highest score, the build counts both")] += 1
                    else:
                        unexplained.append((rel, key, field, a[key].get(field), b[key].get(field)))
        found[("layer compared", "agrees on every other entry")] += 1
    return found, unexplained
