"""The diff document → a Markdown report and an ATT&CK Navigator layer (format 4.5).

The layer can only show what the Navigator can place: live techniques of NEW, under
tactics they belong to (it silently drops anything else). Revoked techniques therefore
show through their replacement, and deprecated ones are only counted in the layer's
description and listed in the Markdown report.
"""

from __future__ import annotations

import networkx as nx

from pipeline.diff.attack import KINDS, SECTIONS, ReleaseDiff
from pipeline.diff.tactics import markdown as tactic_sections
from pipeline.render.navigator.layer import Layer, Mark, Meta

KIND_TITLES = {
    "technique": "Techniques",
    "tactic": "Tactics",
    "mitigation": "Mitigations",
    "group": "Groups",
    "software": "Software",
    "campaign": "Campaigns",
    "detection_strategy": "Detection strategies",
    "analytic": "Analytics",
    "datasource": "Data sources",
    "datacomponent": "Data components",
    "asset": "Assets",
}
SECTION_TITLES = {
    "additions": "Added",
    "major_version_changes": "Major version changes",
    "minor_version_changes": "Minor version changes",
    "other_version_changes": "Other version changes",
    "patches": "Patches",
    "revocations": "Revoked",
    "deprecations": "Deprecated",
    "deletions": "Deleted",
}
SHORT = {
    "additions": "added",
    "major_version_changes": "major",
    "minor_version_changes": "minor",
    "other_version_changes": "other",
    "patches": "patches",
    "revocations": "revoked",
    "deprecations": "deprecated",
    "deletions": "deleted",
    "unchanged": "unchanged",
}
DOMAIN_TITLES = {"enterprise": "Enterprise", "mobile": "Mobile", "ics": "ICS"}


def _cell(text) -> str:
    return str(text).replace("|", "\\|")


def _tactics(ids, names: dict[str, str]) -> str:
    return ", ".join(f"{names.get(t, t)} ({t})" for t in ids)


def _line(kind: str, section: str, e: dict, names: dict[str, str]) -> str:
    out = f"- {e['id']} {e['name']}"
    if kind == "technique" and e.get("subtechnique_of"):
        out += f" (sub-technique of {e['subtechnique_of']})"
    if section == "revocations":
        r = e["replaced_by"]
        out += f" → {r['id']} {r['name']}" + (" (deprecated)" if r["status"] == "deprecated" else "") if r else " → no replacement"
        if e.get("reason"):
            out += f": {e['reason']}"
        return out
    if section == "additions":
        if kind == "technique" and e["tactics"]:
            out += f": {_tactics(e['tactics'], names)}"
        if e.get("status_in_new"):
            out += f" [{e['status_in_new']} in this release]"
        return out
    if "old_version" in e:
        if e["old_version"] != e["version"]:
            out += f" (v{e['old_version'] or '—'} → v{e['version'] or '—'})"
        if e.get("old_id"):
            out += f" (was {e['old_id']})"
        out += f": {', '.join(e['changed_fields'])}" if e["changed_fields"] else ": no compared field changed (references, dates)"
    return out


def _summary(doc: dict) -> list[str]:
    cols = [*SECTIONS, "unchanged"]
    out = ["| | " + " | ".join(SHORT[c] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for kind in KINDS:
        counts = doc["counts"][kind]
        if any(counts.values()):
            out.append(f"| {KIND_TITLES[kind]} | " + " | ".join(str(counts[c]) for c in cols) + " |")
    return out


def _technique_facets(doc: dict, names: dict[str, str]) -> list[str]:
    facets = doc["techniques"]
    out = [f"### Renamed ({len(facets['renamed'])})", ""]
    out += [f"- {r['attack_id']}: {r['old_name']} → {r['new_name']}" for r in facets["renamed"]] or ["None."]
    out += ["", f"### Moved between tactics ({len(facets['moved_between_tactics'])})", ""]
    for m in facets["moved_between_tactics"]:
        parts = [f"+ {_tactics([t], names)}" for t in m["added"]] + [f"− {_tactics([t], names)}" for t in m["removed"]]
        out.append(f"- {m['attack_id']} {m['name']}: {'; '.join(parts)}")
    if not facets["moved_between_tactics"]:
        out.append("None.")
    out += ["", f"### Sub-technique conversions ({len(facets['subtechnique_conversions'])})", ""]
    for c in facets["subtechnique_conversions"]:
        what = "became a sub-technique" if c["direction"] == "to_subtechnique" else "became a technique"
        out.append(f"- {c['old_attack_id']} → {c['attack_id']} {c['name']}: {what} ({c['via']})")
    if not facets["subtechnique_conversions"]:
        out.append("None.")
    return out + [""]


def _coverage(doc: dict) -> list[str]:
    cov = doc["coverage"]
    out = ["## Coverage impact", ""]
    if not cov["sources_in_graph"]:
        out += [
            "No control mappings or detection content are in the graph of either release: nothing "
            "was remapped, and every new technique below has no control and no detection.",
            "",
        ]
    for family, title in (("frameworks", "Framework"), ("detection_sources", "Detection source")):
        groups = cov[family]
        if not groups:
            continue
        out += [
            f"| {title} | techniques covered {doc['old']} | {doc['new']} | change | remapped | lost | on deprecated |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, g in groups.items():
            kept = sum(r["kept"] for r in g["remapped"])
            out.append(
                f"| {_cell(name)} | {g['covered_before']} | {g['covered_after']} | {g['change']:+d} | {kept} "
                f"| {len(g['remapped']) - kept} | {len(g['on_deprecated'])} |"
            )
        out.append("")
        for name, g in groups.items():
            for r in g["remapped"]:
                to = r["to"] or "nothing (no live replacement)"
                out.append(f"- {name}: {r['mapper']} {r['from']} → {to}{'' if r['kept'] else ' — not mapped in ' + doc['new']}")
            out += [f"- {name}: {d['mapper']} maps deprecated {d['technique']}" for d in g["on_deprecated"]]
        out.append("")
    todo = cov["new_techniques_without_control_or_detection"]
    out += [f"### New techniques with no control and no detection ({len(todo)})", ""]
    out += [f"- {t['id']} {t['name']}" for t in todo] or ["None."]
    return out + [""]


def markdown(doc: dict) -> str:
    names = doc["tactic_names"]
    title = f"# ATT&CK {DOMAIN_TITLES.get(doc['domain'], doc['domain'])} {doc['old']} → {doc['new']}"
    out = [title, "", doc["method"], "", "## Summary", "", *_summary(doc), ""]

    tactic_lines = tactic_sections(doc.get("tactics", {}), names)
    for kind in KINDS:
        sections = doc["changes"][kind]
        if not any(sections.values()) and kind != "technique" and not (kind == "tactic" and tactic_lines):
            continue
        out += [f"## {KIND_TITLES[kind]}", ""]
        if kind == "technique":
            out += _technique_facets(doc, names)
        if kind == "tactic":
            out += tactic_lines
        for section in SECTIONS:
            entries = sections[section]
            if entries:
                out += [f"### {SECTION_TITLES[section]} ({len(entries)})", ""]
                out += [_line(kind, section, e, names) for e in entries]
                out.append("")
    out += _coverage(doc)
    return "\n".join(out).rstrip("\n") + "\n"


# Layer colours, in precedence order: a technique takes the colour of its first category.
LAYER_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("added", "#a1d99b", "added"),
    ("conversion", "#9e9ac8", "technique ↔ sub-technique conversion"),
    ("replaces_revoked", "#ff9000", "replaces a revoked technique"),
    ("moved", "#6baed6", "moved between tactics"),
    ("renamed", "#fdae6b", "renamed"),
    ("major", "#fcf3a2", "major version change"),
    ("minor", "#c7c4e0", "minor version change"),
    ("other", "#b5e5cf", "other version change"),
)
_VERSION_CATEGORY = {"major_version_changes": "major", "minor_version_changes": "minor", "other_version_changes": "other"}


def _technique_categories(diff: ReleaseDiff) -> dict[str, dict[str, str]]:
    """technique id → {category: detail} for every technique the layer colours."""
    cats: dict[str, dict[str, str]] = {}

    def put(tid: str, cat: str, detail: str) -> None:
        cats.setdefault(tid, {})[cat] = detail

    for c in diff.section("technique", "additions"):
        put(c.attack_id, "added", f"new in {diff.new_version}")
    for c in diff.section("technique", "revocations"):
        if c.replacement_record is not None:
            put(c.replacement_record.attack_id, "replaces_revoked", f"{c.attack_id} {c.name}")
    for conv in diff.conversions:
        what = "became a sub-technique" if conv.direction == "to_subtechnique" else "became a technique"
        put(conv.attack_id, "conversion", f"{conv.old_attack_id} {what} ({conv.via})")
    for m in diff.moved:
        parts = [f"+{diff.tactic_names.get(t, t)}" for t in m.added] + [f"−{diff.tactic_names.get(t, t)}" for t in m.removed]
        put(m.attack_id, "moved", " ".join(parts))
    for r in diff.renamed:
        put(r.attack_id, "renamed", f"was {r.old_name}")
    for section, cat in _VERSION_CATEGORY.items():
        for c in diff.section("technique", section):
            assert c.old is not None and c.new is not None
            fields = ", ".join(c.field_names) or "no compared field"
            put(c.attack_id, cat, f"v{c.old.version} → v{c.new.version}: {fields}")
    return cats


def layer(diff: ReleaseDiff, new_graph: nx.MultiDiGraph, name: str) -> dict:
    """A Navigator 4.5 layer colouring the technique changes of `diff` (live techniques of NEW only)."""
    labels = {key: label for key, _, label in LAYER_CATEGORIES}
    colours = {key: colour for key, colour, _ in LAYER_CATEGORIES}
    order = [key for key, _, _ in LAYER_CATEGORIES]
    marks, used = [], set()
    for tid, detail in sorted(_technique_categories(diff).items()):
        node = new_graph.nodes.get(f"technique:{tid}")
        if node is None or node["deprecated"] or diff.domain not in node["domains"]:
            continue
        keys = sorted(detail, key=order.index)
        used.add(keys[0])
        marks.append(
            Mark(
                technique=tid,
                color=colours[keys[0]],
                comment="; ".join(labels[k] for k in keys),
                metadata=(tuple(Meta(labels[k], detail[k]) for k in keys),),
            )
        )
    hidden = len(diff.section("technique", "deprecations")) + sum(
        1 for c in diff.section("technique", "revocations") if c.replacement_record is None
    )
    domain_title = DOMAIN_TITLES.get(diff.domain, diff.domain)
    description = f"Technique changes in ATT&CK {domain_title} from {diff.old_version} to {diff.new_version}."
    if hidden:
        description += f" {hidden} deprecated or unreplaced revoked technique(s) cannot be shown here; see {name}.md."
    return Layer(
        name=f"ATT&CK {domain_title} {diff.old_version} → {diff.new_version}",
        description=description,
        domain=diff.domain,
        attack_version=diff.new_version,
        marks=tuple(marks),
        legend=tuple((labels[k], colours[k]) for k in order if k in used),
        metadata=(Meta("old release", diff.old_version), Meta("new release", diff.new_version)),
    ).to_dict(new_graph)
