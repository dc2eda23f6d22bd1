"""Splunk security_content detections (YAML under `detections/`).

Techniques are `tags.mitre_attack_id`. The SPL `search` is kept exactly as written:
macros (`` `security_content_summariesonly` ``) and `$field$` tokens are Splunk's to
expand, and expanding them here would make the query differ from the published one.
`macros/` holds macro definitions, not detections, and is not read.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from pipeline.ingest.detections.common import (
    FileContext,
    decode_text,
    normalise_technique,
    shown,
    split_people,
    strings,
    technique_refs,
    text_of,
    yaml_mappings,
)
from pipeline.model.detections import Detection, Query

FORMAT = "splunk-yaml"
SUFFIXES = (".yml", ".yaml")


def wanted(relpath: str) -> bool:
    p = PurePosixPath(relpath)
    return p.suffix.lower() in SUFFIXES and p.parts[0] == "detections"


def parse(data: bytes, ctx: FileContext) -> list[Detection]:
    doc = yaml_mappings(decode_text(data, ctx), ctx, "a Splunk detection")[0]
    native = text_of(doc.get("id"))
    name = text_of(doc.get("name"))
    if not native:
        raise ctx.error("detection has no id; skipped", name or None)
    record = name or native
    tags = doc.get("tags") if isinstance(doc.get("tags"), dict) else {}
    found = []
    for value in strings(tags.get("mitre_attack_id")):
        tid = normalise_technique(value)
        if tid is None:
            ctx.issue("splunk-bad-technique", f"mitre_attack_id {shown(value)} is not an ATT&CK technique id; ignored", record)
        else:
            found.append((tid, "field"))
    search = doc.get("search")
    queries = (Query(language="spl", text=search.strip("\n")),) if isinstance(search, str) and search.strip() else ()
    if not queries:
        ctx.issue("splunk-no-search", "detection has no search", record)
    labels = [f"type:{t}" for t in strings(doc.get("type"))]
    labels += [f"analytic_story:{s}" for s in strings(tags.get("analytic_story"))]
    labels += [f"security_domain:{s}" for s in strings(tags.get("security_domain"))]
    return [
        ctx.record(
            FORMAT,
            native,
            title=name or native,
            description=text_of(doc.get("description")),
            queries=queries,
            techniques=technique_refs(found),
            tags=tuple(labels),
            authors=tuple(split_people(text_of(doc.get("author")))),
            references=strings(doc.get("references")),
            status=text_of(doc.get("status")).lower(),
            data_sources=strings(doc.get("data_source")) or strings(doc.get("data_sources")),
            # detections/<collection>/<file>.yml: endpoint, cloud, …, deprecated
            collection=ctx.relpath.split("/")[1] if ctx.relpath.count("/") >= 2 else ctx.collection,
        )
    ]
