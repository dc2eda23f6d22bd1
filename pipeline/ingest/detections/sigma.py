"""Sigma rules (SigmaHQ YAML).

ATT&CK lives in `tags`: `attack.t1046` / `attack.t1003.001` are techniques, `attack.gNNNN`
groups, `attack.sNNNN` software, `attack.dsNNNN` data sources and any other
`attack.<word>` a tactic — in either spelling (`privilege-escalation`,
`privilege_escalation`) and including tactics newer than the target release
(`attack.stealth`), which the reconcile step reports instead of dropping. Every folder
of the repository is read (rules, rules-emerging-threats, rules-threat-hunting,
rules-placeholder, rules-compliance, deprecated, unsupported): the top folder is kept as
the record's `collection` so deprecated and unsupported rules are flagged, not lost.
A file may hold several YAML documents (`action: global` and its parts): one rule.
The rule text itself is the query, kept as written.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from pipeline.ingest.detections.common import (
    FileContext,
    decode_text,
    normalise_technique,
    path_id,
    shown,
    split_people,
    strings,
    tactic_shortname,
    technique_refs,
    text_of,
    yaml_mappings,
)
from pipeline.model.detections import Detection, Query, TacticRef

FORMAT = "sigma-yaml"
SUFFIXES = (".yml", ".yaml")
_OBJECT_TAG = re.compile(r"^(g|s|ds|c|m)\d{4}$")
_TACTIC_TAG = re.compile(r"^[a-z][a-z_-]*[a-z]$")


def wanted(relpath: str) -> bool:
    return PurePosixPath(relpath).suffix.lower() in SUFFIXES


def parse(data: bytes, ctx: FileContext) -> list[Detection]:
    text = decode_text(data, ctx)
    docs = yaml_mappings(text, ctx, "a Sigma rule")
    rule = docs[0]
    title = text_of(rule.get("title"))
    native = text_of(rule.get("id"))
    if not native:
        native = path_id(ctx.relpath)
        ctx.issue("sigma-no-id", f"Sigma rule has no id; a hash of its path is used ({native})", title or None)
    record = title or native
    if not title:
        ctx.issue("sigma-no-title", "Sigma rule has no title; its id is used", native)

    found: list[tuple[str, str]] = []
    tactics: dict[str, TacticRef] = {}
    objects: list[str] = []
    tags: list[str] = []
    raw_tags = rule.get("tags")
    if raw_tags is not None and not isinstance(raw_tags, list):
        ctx.issue("sigma-bad-tags", "tags is not a list; ignored", record)
        raw_tags = []
    for tag in raw_tags or ():
        if not isinstance(tag, str):
            ctx.issue("sigma-unknown-tag", f"tag {shown(tag)} is not a string; ignored", record)
            continue
        tag = tag.strip()
        namespace, _, value = tag.partition(".")
        if namespace.lower() != "attack":
            if tag not in tags:
                tags.append(tag)
            continue
        value = value.lower()
        tid = normalise_technique(value)
        if tid is not None:
            found.append((tid, "tag"))
        elif _OBJECT_TAG.match(value):
            if value.upper() not in objects:
                objects.append(value.upper())
        elif _TACTIC_TAG.match(value) and not re.match(r"^t\d", value):
            short = tactic_shortname(value)
            tactics.setdefault(short, TacticRef(shortname=short, how="tag"))
        else:
            ctx.issue("sigma-unknown-tag", f"unknown ATT&CK tag {shown(tag)}; kept as a tag", record)
            tags.append(tag)

    data_sources = []
    for doc in docs:
        logsource = doc.get("logsource") if isinstance(doc, dict) else None
        if isinstance(logsource, dict):
            parts = [f"{k}:{v}" for k in ("product", "category", "service") if isinstance((v := logsource.get(k)), str) and v]
            if parts and " ".join(parts) not in data_sources:
                data_sources.append(" ".join(parts))
    status = text_of(rule.get("status")).lower()
    severity = text_of(rule.get("level")).lower()
    return [
        ctx.record(
            FORMAT,
            native,
            title=title or native,
            description=text_of(rule.get("description")),
            queries=(Query(language="sigma", text=text.strip("\n"), label=""),),
            techniques=technique_refs(found),
            tactics=tuple(tactics.values()),
            attack_objects=tuple(objects),
            tags=tuple(tags),
            authors=tuple(split_people(text_of(rule.get("author")))),
            references=strings(rule.get("references")),
            status=status,
            severity=severity,
            data_sources=tuple(data_sources),
        )
    ]
