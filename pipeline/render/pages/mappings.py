"""Cells that describe one mapping (a control or capability → technique edge), the same
on technique pages and control pages. `e` is an edge's data (or an entry of
`controls_of_technique`, which has the same keys)."""

from __future__ import annotations

from pipeline.graph.coverage import NON_COVERING
from pipeline.render.pages.escape import Md, cell, link


def mapping_type(e: dict) -> Md:
    """The table's own word for the mapping, its score, and whether it counts."""
    kind = e["mapping_type"] or e["kind"]
    score = ", ".join(x for x in (e["score_category"], e["score_value"]) if x)
    out = kind + (f" ({score})" if score else "")
    if e["relation"] in NON_COVERING or not e["in_coverage"]:
        out += " — not counted as coverage"
    return cell(out)


def mapping_notes(e: dict, target_name: str, target_id: str) -> Md:
    """What reconciliation changed, the row's comments and its references."""
    notes = []
    original = e["original"]
    if e["status"] == "revoked":
        notes.append(cell(f"published for {original['published_id'] or original['id']}, revoked: mapped to {target_id}"))
    elif e["status"] == "deprecated":
        notes.append(cell(f"{target_id} is deprecated"))
    elif original["name"] and original["name"] != target_name:
        notes.append(cell(f"published as {original['name']} (ATT&CK {original['attack_version']}); now {target_name}"))
    if e["comments"]:
        notes.append(cell(e["comments"]))
    refs = [link(Md(str(i + 1)), u) for i, u in enumerate(e["references"])]
    if refs:
        notes.append(Md("References: " + ", ".join(refs)))
    return Md("<br>".join(notes))
