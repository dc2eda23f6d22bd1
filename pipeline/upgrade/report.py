"""The report of one upgraded layer: counts and every changed entry, as JSON and Markdown.

The JSON is the record (every changed entry, the entries left out in full so nothing of
the user's layer is lost); the Markdown is the same content for a person. Both are
deterministic: no dates, entries in layer order.
"""

from __future__ import annotations

from pipeline.upgrade.entries import MERGE_RULE, Change

COUNTED = ("carried", "renamed", "retagged", "revoked", "merged", "deprecated", "unknown", "needs_decision")
STATUS_WORDS = {
    "carried": "carried over",
    "renamed": "renamed",
    "revoked": "revoked → replacement",
    "deprecated": "deprecated (kept disabled)",
    "unknown": "unknown (left out)",
    "dead_end": "revoked without replacement (left out)",
}


def counts(changes: list[Change]) -> dict[str, int]:
    out = dict.fromkeys(COUNTED, 0)
    for c in changes:
        out["unknown" if c.status == "dead_end" else c.status] += 1
        out["retagged"] += bool(c.retag) and c.retag != "ambiguous"
        out["merged"] += bool(c.merged_with)
        out["needs_decision"] += c.decision
    return out


def document(*, label: str, output: str, domain: str, source, target: str, changes: list[Change], left_out: list[dict],
             entries_out: int, layer_notes: list[str], decisions: list[str]) -> dict:
    return {
        "layer": label,
        "output": output,
        "domain": domain,
        "source_release": {"version": source.version, "declared": source.declared or None, "how": source.how, "note": source.note or None},
        "target_release": target,
        "entries_in": len(changes),
        "entries_out": entries_out,
        "counts": counts(changes),
        "merge_rule": MERGE_RULE,
        "layer_changes": layer_notes,
        "needs_decision": decisions + [f"techniques[{c.index}] {c.technique}: {c.detail}" for c in changes if c.decision],
        "changes": [c.as_json() for c in changes if c.changed],
        "left_out": left_out,
    }


def _entry(c: dict) -> str:
    old = c["technique"] + (f" ({c['tactic']})" if c["tactic"] else "")
    new = (c["new_technique"] or "—") + (f" ({c['new_tactic']})" if c["new_tactic"] else "")
    text = f"| {c['index']} | {old} | {new} | {STATUS_WORDS[c['status']]}"
    names = f"{c['old_name']} → {c['new_name']}" if c["old_name"] and c["new_name"] else (c["new_name"] or c["old_name"] or "")
    notes = [n for n in (names, c["detail"]) if n]
    if c["merged_with"]:
        others = c["merged_with"]
        notes.append(f"merged with entr{'y' if len(others) == 1 else 'ies'} " + ", ".join(str(i) for i in others))
    flag = " **decide**" if c["needs_decision"] else ""
    return f"{text}{flag} | {_cell('; '.join(notes))} |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(doc: dict) -> str:
    src = doc["source_release"]
    lines = [
        f"# Layer upgrade: {_cell(doc['layer'])}",
        "",
        f"- domain: {doc['domain']}",
        f"- from ATT&CK {src['version']}" + (f" (versions.attack {src['declared']!r})" if src["declared"] else " (no versions.attack)"),
        f"- to ATT&CK {doc['target_release']}, layer format 4.5: `{doc['output']}`",
        f"- entries: {doc['entries_in']} in, {doc['entries_out']} out",
    ]
    if src["note"]:
        lines.append(f"- note: {src['note']}")
    lines += ["", "| " + " | ".join(k.replace("_", " ") for k in COUNTED) + " |", "|---" * len(COUNTED) + "|"]
    lines.append("| " + " | ".join(str(doc["counts"][k]) for k in COUNTED) + " |")
    lines += ["", f"Merging: {doc['merge_rule']}.", ""]
    if doc["layer_changes"]:
        lines += ["## Layer", ""] + [f"- {_cell(n)}" for n in doc["layer_changes"]] + [""]
    lines += [f"## Needs a decision ({len(doc['needs_decision'])})", ""]
    lines += [f"- {_cell(n)}" for n in doc["needs_decision"]] or ["None."]
    lines += ["", f"## Changed entries ({len(doc['changes'])})", ""]
    if doc["changes"]:
        lines += ["| # | entry | now | what | notes |", "|---|---|---|---|---|"]
        lines += [_entry(c) for c in doc["changes"]]
    else:
        lines.append("None: every entry carried over unchanged.")
    return "\n".join(lines) + "\n"
