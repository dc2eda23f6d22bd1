"""Elastic detection-rules TOML: detection rules, building-block rules and hunting queries.

Techniques come from `[[rule.threat]]` blocks (technique and sub-technique ids, the
tactic's TA id and name) of the `MITRE ATT&CK` framework, or from a hunting file's
`mitre = [...]`. Machine-learning rules carry no query: they keep their job id as a
label-only record. `rules/_deprecated/` and `maturity = "deprecated"` are flagged.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# tomli is the parser the standard library's tomllib was taken from, with the same
# messages and limits; its compiled wheel reads the 2,332 rule files in 0.47 s of CPU
# against tomllib's 1.20 s (a cold build parses every one).
import tomli

from pipeline.ingest.detections.common import (
    FileContext,
    decode_text,
    normalise_technique,
    shown,
    strings,
    tactic_shortname,
    technique_refs,
    text_of,
)
from pipeline.model.detections import Detection, Query, TacticRef

FORMAT = "elastic-toml"
SUFFIXES = (".toml",)
FOLDERS = ("rules", "rules_building_block", "hunting")
_LANGUAGES = {"es|ql": "esql", "esql": "esql", "eql": "eql", "kuery": "kuery", "kql": "kuery", "lucene": "lucene", "sql": "sql"}
_TACTIC_ID = re.compile(r"^TA\d{4}$")


def wanted(relpath: str) -> bool:
    p = PurePosixPath(relpath)
    return p.suffix.lower() in SUFFIXES and p.parts[0] in FOLDERS


def _load(text: str, ctx: FileContext) -> dict:
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"line {m.group(1)}" if m else None
        problem = message[: m.start()].strip() if m else message
        raise ctx.error(f"not valid TOML: {problem}; skipped", where) from None
    except RecursionError:
        raise ctx.error("TOML nesting too deep; skipped") from None


def parse(data: bytes, ctx: FileContext) -> list[Detection]:
    doc = _load(decode_text(data, ctx), ctx)
    if isinstance(doc.get("rule"), dict):
        return [_rule(doc, ctx)]
    if isinstance(doc.get("hunt"), dict):
        return [_hunt(doc["hunt"], ctx)]
    raise ctx.error("neither a [rule] nor a [hunt] table; skipped")


def rule_from_json(rule: dict, ctx: FileContext) -> Detection:
    """One rule of a Kibana export of detection rules (NDJSON, one rule object a line):
    the same fields as the `[rule]` table of the TOML files."""
    return _rule({"rule": rule}, ctx)


def _technique(block, found: list[tuple[str, str]], ctx: FileContext, record: str, *, nested: bool = False) -> None:
    if not isinstance(block, dict):
        return
    tid = normalise_technique(text_of(block.get("id")))
    if tid is None:
        ctx.issue("elastic-bad-technique", f"technique id {shown(block.get('id'))} is not an ATT&CK technique id; ignored", record)
        return
    found.append((tid, "field"))
    subs = block.get("subtechnique") or []
    if not nested and isinstance(subs, list):
        for sub in subs:
            _technique(sub, found, ctx, record, nested=True)


def _threats(rule: dict, ctx: FileContext, record: str) -> tuple[list[tuple[str, str]], dict[str, TacticRef]]:
    found: list[tuple[str, str]] = []
    tactics: dict[str, TacticRef] = {}
    threats = rule.get("threat") or []
    if not isinstance(threats, list):
        ctx.issue("elastic-bad-threat", "rule.threat is not an array of tables; ignored", record)
        return found, tactics
    for threat in threats:
        if not isinstance(threat, dict) or threat.get("framework") != "MITRE ATT&CK":
            continue
        tactic = threat.get("tactic")
        if isinstance(tactic, dict) and text_of(tactic.get("name")):
            short = tactic_shortname(text_of(tactic.get("name")))
            tid = text_of(tactic.get("id"))
            tactics.setdefault(short, TacticRef(shortname=short, how="field", attack_id=tid if _TACTIC_ID.match(tid) else ""))
        techniques = threat.get("technique") or []
        for block in techniques if isinstance(techniques, list) else ():
            _technique(block, found, ctx, record)
    return found, tactics


def _tag_values(tags: tuple[str, ...], prefix: str) -> list[str]:
    return [t.split(":", 1)[1].strip() for t in tags if t.startswith(prefix + ":")]


def _rule(doc: dict, ctx: FileContext) -> Detection:
    rule = doc["rule"]
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    native = text_of(rule.get("rule_id"))
    name = text_of(rule.get("name"))
    if not native:
        raise ctx.error("rule has no rule_id; skipped", name or None)
    record = name or native
    found, tactics = _threats(rule, ctx, record)
    language = text_of(rule.get("language")).lower()
    query = rule.get("query")
    queries = []
    if isinstance(query, str) and query.strip():
        queries.append(Query(language=_LANGUAGES.get(language, language or "kuery"), text=query.strip("\n")))
    elif text_of(rule.get("type")) == "machine_learning":
        for job in strings(rule.get("machine_learning_job_id")):
            queries.append(Query(language="machine-learning", text="", label=job))
    else:
        ctx.issue("elastic-no-query", "rule has no query", record)
    tags = strings(rule.get("tags"))
    data_sources = _tag_values(tags, "Data Source") or list(strings(metadata.get("integration")))
    status = text_of(metadata.get("maturity")).lower()
    if rule.get("building_block_type"):
        status = status or "production"
    return ctx.record(
        FORMAT,
        native,
        title=name or native,
        description=text_of(rule.get("description")),
        queries=tuple(queries),
        techniques=technique_refs(found),
        tactics=tuple(tactics.values()),
        tags=tuple(t for t in tags if not t.startswith(("Data Source:", "Tactic:"))),
        authors=strings(rule.get("author")),
        references=strings(rule.get("references")),
        status=status,
        severity=text_of(rule.get("severity")).lower(),
        data_sources=tuple(dict.fromkeys(data_sources)),
    )


def _hunt_language(text: str, declared: list[str]) -> str:
    """A hunting file lists its languages, not which query is which: ES|QL starts with
    FROM, osquery SQL with SELECT; otherwise the first declared language."""
    head = text.lstrip().split(None, 1)[0].upper() if text.strip() else ""
    if head == "FROM" and "esql" in declared:
        return "esql"
    if head in ("SELECT", "WITH") and "sql" in declared:
        return "sql"
    return declared[0] if declared else "esql"


def _hunt(hunt: dict, ctx: FileContext) -> Detection:
    native = text_of(hunt.get("uuid"))
    name = text_of(hunt.get("name"))
    if not native:
        raise ctx.error("hunting query has no uuid; skipped", name or None)
    record = name or native
    declared = [_LANGUAGES.get(lang.lower(), lang.lower()) for lang in strings(hunt.get("language"))]
    raw = hunt.get("query")
    texts = [raw] if isinstance(raw, str) else [q for q in raw if isinstance(q, str)] if isinstance(raw, list) else []
    queries = tuple(Query(language=_hunt_language(q, declared), text=q.strip("\n")) for q in texts if q.strip())
    if not queries:
        ctx.issue("elastic-no-query", "hunting file has no query", record)
    found = []
    atlas = []
    for value in strings(hunt.get("mitre")):
        tid = normalise_technique(value)
        if value.upper().startswith("AML."):
            atlas.append(f"atlas:{value}")  # MITRE ATLAS (AI systems), not ATT&CK
        elif tid is None:
            ctx.issue("elastic-bad-technique", f"mitre entry {shown(value)} is not an ATT&CK technique id; ignored", record)
        else:
            found.append((tid, "field"))
    return ctx.record(
        FORMAT,
        native,
        title=name or native,
        description=text_of(hunt.get("description")),
        queries=queries,
        techniques=technique_refs(found),
        tags=tuple(atlas),
        authors=strings(hunt.get("author")),
        references=strings(hunt.get("references")),
        data_sources=strings(hunt.get("integration")),
    )
