"""Cells that describe one mapping (a control or capability → technique edge), the same
on technique pages and control pages. `e` is an edge's data (or an entry of
`controls_of_technique`, which has the same keys).

Each cell is said once (`_type_words`, `_note_parts`) and written two ways: as Markdown
for the tables of the pages, and as HTML for the framework tables of the technique card
(which are raw HTML: foldable, and one table per framework without Markdown to convert).
"""

from __future__ import annotations

from html import escape

from pipeline.graph.coverage import NON_COVERING
from pipeline.core.escape import Md, cell, link, safe_url


def _type_words(e: dict) -> str:
    kind = e["mapping_type"] or e["kind"]
    score = ", ".join(x for x in (e["score_category"], e["score_value"]) if x)
    out = kind + (f" ({score})" if score else "")
    if e["relation"] in NON_COVERING or not e["in_coverage"]:
        out += " — not counted as coverage"
    return out


def _note_parts(e: dict, target_name: str, target_id: str) -> tuple[list[str], list[str]]:
    """(lines of text, reference URLs) of a mapping's notes."""
    notes = []
    original = e["original"]
    if e["status"] == "revoked":
        notes.append(f"published for {original['published_id'] or original['id']}, revoked: mapped to {target_id}")
    elif e["status"] == "deprecated":
        notes.append(f"{target_id} is deprecated")
    elif original["name"] and original["name"] != target_name:
        notes.append(f"published as {original['name']} (ATT&CK {original['attack_version']}); now {target_name}")
    if e["comments"]:
        notes.append(e["comments"])
    return notes, list(e["references"])


def mapping_type(e: dict) -> Md:
    """The table's own word for the mapping, its score, and whether it counts."""
    return cell(_type_words(e))


def mapping_notes(e: dict, target_name: str, target_id: str) -> Md:
    """What reconciliation changed, the row's comments and its references."""
    lines, urls = _note_parts(e, target_name, target_id)
    notes = [cell(x) for x in lines]
    refs = [link(Md(str(i + 1)), u) for i, u in enumerate(urls)]
    if refs:
        notes.append(Md("References: " + ", ".join(refs)))
    return Md("<br>".join(notes))


def _html_text(value: str) -> str:
    """Plain text as HTML: escaped, blank-line paragraphs kept as line breaks."""
    paragraphs = [" ".join(p.split()) for p in str(value).replace("\r\n", "\n").split("\n\n")]
    return "<br>".join(escape(p) for p in paragraphs if p)


def mapping_type_html(e: dict) -> str:
    return escape(_type_words(e))


def mapping_notes_html(e: dict, target_name: str, target_id: str) -> str:
    lines, urls = _note_parts(e, target_name, target_id)
    notes = [_html_text(x) for x in lines]
    refs = []
    for i, u in enumerate(urls):
        safe = safe_url(u)
        refs.append(f'<a href="{escape(safe)}">{i + 1}</a>' if safe else str(i + 1))
    if refs:
        notes.append("References: " + ", ".join(refs))
    return "<br>".join(n for n in notes if n)
