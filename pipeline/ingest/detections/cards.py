"""Hunting-query cards (Markdown in the seed's format) and raw KQL `.txt` files.

A card is loosely structured prose: a title, a description, fenced queries, a Category
table whose rows are tactics *and* other labels (Vulnerability, Ransomware), and a
contributor block. Published cards vary (15–20 table rows, marks v/V/x/X/y, tables
without a leading pipe, names on the line after their label, queries left unfenced), so
this reader takes each part where it finds it and warns only when a part is missing.
Technique ids are rare in cards: they come from the title, attack.mitre.org links and
bare ids in the text, and each keeps how it was found.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from pipeline.ingest.detections.common import (
    KNOWN_TACTICS,
    FileContext,
    decode_text,
    linked_objects,
    linked_techniques,
    mentioned_techniques,
    path_id,
    split_people,
    tactic_shortname,
    technique_refs,
)
from pipeline.model.detections import Detection, Query, TacticRef

FORMAT = "hunting-cards"
SUFFIXES = (".md", ".txt")

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([^`\s]*)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SECTIONS = {"query", "queries", "category", "see also", "contributor info", "contributors info", "contributor", "references"}
_MARKS = {"v", "x", "y", "yes", "\u2713", "\u2714", "true"}
_SEPARATOR = re.compile(r"^:?-*:?$")
_CONTRIBUTOR = re.compile(r"^\W*contributors?\s*:?\**\s*:?\s*(.*)$", re.IGNORECASE)
_LABEL_LINE = re.compile(r"^\**\s*[A-Za-z][A-Za-z ]{0,30}:\**\s*:?")
_URL = re.compile(r"https?://[^\s)>\]|\"'`]+")
_ATTACK_ROOT = re.compile(r"^https?://attack\.mitre\.org/?$")
# Advanced Hunting tables: what a KQL query reads is its data source.
_HUNTING_TABLE = re.compile(
    r"\b(Device(?:Tvm)?\w*(?:Events|Info|Inventory|Assessment\w*|Kb|Kbs)|Email\w*(?:Events|Info)|Identity\w*(?:Events|Info)"
    r"|Alert(?:Info|Evidence)|CloudAppEvents|UrlClickEvents|AADS\w*SignInEventsBeta|BehaviorInfo|BehaviorEntities)\b"
)
_KQL_INFO = {"", "kusto", "kql", "csl"}


def wanted(relpath: str) -> bool:
    p = PurePosixPath(relpath)
    return p.suffix.lower() in SUFFIXES and p.name.lower() != "readme.md"


def parse(data: bytes, ctx: FileContext) -> list[Detection]:
    text = decode_text(data, ctx)
    if ctx.relpath.lower().endswith(".txt"):
        return _parse_txt(text, ctx)
    return _parse_card(text, ctx)


def _blocks(lines: list[str], ctx: FileContext) -> tuple[list[tuple[str, list[str]]], list[tuple[int, str]]]:
    """Fenced blocks (info string, lines) and the prose lines outside them (with line numbers)."""
    blocks: list[tuple[str, list[str]]] = []
    prose: list[tuple[int, str]] = []
    fence: str | None = None
    start = 0
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence, start = m.group(1), i
                blocks.append((m.group(2).lower(), []))
            else:
                prose.append((i, line))
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2):
            fence = None
        else:
            blocks[-1][1].append(line)
    if fence is not None:
        ctx.issue("card-unclosed-fence", "code block is never closed; read to the end of the file", f"line {start + 1}")
    return blocks, prose


def _sections(prose: list[tuple[int, str]]) -> tuple[list[tuple[int, int, str]], dict[str, list[str]]]:
    headings: list[tuple[int, int, str]] = []
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for i, line in prose:
        m = _HEADING.match(line)
        if m:
            headings.append((i, len(m.group(1)), m.group(2).strip()))
            current = sections.setdefault(m.group(2).strip().lower().rstrip(":"), [])
        elif current is not None:
            current.append(line)
    return headings, sections


def _title(headings: list[tuple[int, int, str]]) -> tuple[int, str] | None:
    for i, level, text in headings:
        if level == 1 and text:
            return i, text
    for i, _level, text in headings:
        if text and text.lower().rstrip(":") not in _SECTIONS:
            return i, text
    return None


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    return [c.strip() for c in body.split("|")]


def _category(prose: list[tuple[int, str]]) -> tuple[list[TacticRef], list[str], list[str]]:
    """Marked tactic rows, marked non-tactic rows (tags), and every notes cell."""
    tactics: dict[str, TacticRef] = {}
    tags: list[str] = []
    notes: list[str] = []
    rows = None
    for _i, line in prose:
        if rows is None:
            if "|" in line and "technique, tactic, or state" in line.lower():
                rows = []
            continue
        if "|" not in line:
            if line.strip() or rows:
                break
            continue
        cells = _cells(line)
        if all(_SEPARATOR.match(c) for c in cells):
            continue
        rows.append(cells)
    for cells in rows or ():
        label = cells[0]
        mark = cells[1].lower() if len(cells) > 1 else ""
        note = " | ".join(c for c in cells[2:] if c)
        if note:
            notes.append(note)
        if not label or mark not in _MARKS:
            continue
        short = tactic_shortname(label)
        if short in KNOWN_TACTICS:
            if short not in tactics:
                tactics[short] = TacticRef(shortname=short, how="table", note=note)
        elif label not in tags:
            tags.append(label)
    return list(tactics.values()), tags, notes


def _contributors(sections: dict[str, list[str]], prose: list[tuple[int, str]]) -> list[str]:
    """`**Contributor:** Name`, a label with the name on the next line, or a bare name
    under the Contributor info heading."""
    lines = [line for _i, line in prose]
    section = next((sections[k] for k in ("contributor info", "contributors info", "contributor") if k in sections), None)
    for scope in (section or [], lines):
        for n, line in enumerate(scope):
            m = _CONTRIBUTOR.match(line.strip())
            if not m or line.strip().startswith("#"):
                continue
            value = m.group(1).strip().strip("*").strip()
            while value.lower().startswith("contributor:"):
                value = value[len("contributor:"):].strip()
            if not value:
                value = next((s.strip() for s in scope[n + 1:] if s.strip()), "")
                if _LABEL_LINE.match(value):
                    value = ""
            if value:
                return split_people(value)
    for line in section or []:
        value = line.strip()
        if value and not _LABEL_LINE.match(value):
            return split_people(value)
    return []


def _query_label(lines: list[str]) -> str:
    first = next((s.strip() for s in lines if s.strip()), "")
    return first.lstrip("/").strip() if first.startswith("//") else ""


def _language(info: str) -> str:
    return "kql" if info in _KQL_INFO else info


def _folder_tactic(ctx: FileContext) -> list[TacticRef]:
    short = tactic_shortname(ctx.collection)
    return [TacticRef(shortname=short, how="folder")] if ctx.collection and short in KNOWN_TACTICS else []


def _record(ctx: FileContext, **kwargs) -> Detection:
    return ctx.record(FORMAT, path_id(ctx.relpath), **kwargs)


def _parse_card(text: str, ctx: FileContext) -> list[Detection]:
    lines = text.splitlines()
    blocks, prose = _blocks(lines, ctx)
    headings, sections = _sections(prose)
    found = _title(headings)
    if found is None:
        title_line, title = -1, PurePosixPath(ctx.relpath).stem
        ctx.issue("card-no-title", "card has no title heading; its file name is used as title")
    else:
        title_line, title = found
    if re.fullmatch(r"<.*>", title):
        return []  # the submission template, not a card
    next_heading = next((i for i, _l, _t in headings if i > title_line), len(lines))
    description = "\n".join(
        line for i, line in prose if title_line < i < next_heading and line.strip() not in ("---", "***", "___")
    ).strip()

    queries = [
        Query(language=_language(info), text="\n".join(body).strip("\n"), label=_query_label(body))
        for info, body in blocks
        if "\n".join(body).strip()
    ]
    if not queries:
        body = "\n".join(sections.get("query", []) or sections.get("queries", [])).strip()
        if body:
            queries.append(Query(language="kql", text=body, label=""))
        else:
            ctx.issue("card-no-query", "card has no query (no fenced code block and no text under a Query heading)")

    tactics, tags, notes = _category(prose)
    if not tactics:
        tactics = _folder_tactic(ctx)
    prose_text = "\n".join(line for _i, line in prose)
    query_text = "\n".join(q.text for q in queries)
    found_ids = [(t, "title") for t in mentioned_techniques(title)]
    found_ids += [(t, "link") for t in linked_techniques(prose_text + "\n" + query_text)]
    found_ids += [(t, "text") for t in mentioned_techniques(prose_text + "\n" + query_text)]
    references = []
    for key in ("see also", "references"):
        for url in _URL.findall("\n".join(sections.get(key, []))):
            if url not in references:
                references.append(url)
    for url in _URL.findall(description + "\n" + "\n".join(notes)):
        if url not in references and not _ATTACK_ROOT.match(url):
            references.append(url)
    tables = sorted(set(_HUNTING_TABLE.findall(query_text)))
    return [
        _record(
            ctx,
            title=title,
            description=description,
            queries=tuple(queries),
            techniques=technique_refs(found_ids),
            tactics=tuple(tactics),
            attack_objects=tuple(linked_objects(prose_text)),
            tags=tuple(tags),
            authors=tuple(_contributors(sections, prose)),
            references=tuple(references),
            data_sources=tuple(tables),
        )
    ]


def _parse_txt(text: str, ctx: FileContext) -> list[Detection]:
    """Raw KQL whose leading `//` comment lines are its description."""
    if not text.strip():
        ctx.issue("card-no-query", "query file is empty; skipped")
        return []
    header: list[str] = []
    tags: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("//"):
            if stripped:
                break
            continue
        comment = stripped.lstrip("/").strip()
        if comment.lower().startswith("tags:"):
            tags.extend(t.strip().lstrip("#") for t in comment[5:].split(",") if t.strip().lstrip("#"))
        elif comment:
            header.append(comment)
    comments = "\n".join(line.split("//", 1)[1] for line in text.splitlines() if "//" in line)
    found_ids = [(t, "link") for t in linked_techniques(comments)] + [(t, "text") for t in mentioned_techniques(comments)]
    references = []
    for url in _URL.findall("\n".join(header)):
        if url not in references:
            references.append(url)
    return [
        _record(
            ctx,
            title=PurePosixPath(ctx.relpath).stem,
            description="\n".join(header),
            queries=(Query(language="kql", text=text.strip("\n"), label=""),),
            techniques=technique_refs(found_ids),
            tactics=tuple(_folder_tactic(ctx)),
            attack_objects=tuple(linked_objects(comments)),
            tags=tuple(tags),
            references=tuple(references),
            data_sources=tuple(sorted(set(_HUNTING_TABLE.findall(text)))),
        )
    ]
