"""The pipeline's own STIX mapping bundles (`stix/mappings/*.json`) → `MappingTable`.

Format `stix-mappings`: a bundle written by `build` is a mapping source again, so
mappings curated in a threat-intel platform and exported as STIX come back into the
graph. Each mapping relationship carries what its table row published (ids as
written, mapping type, score, comments, references, the row's ATT&CK release) as
documented `x_` properties; it is read back as that row, and reconciliation then
does its work again, so the same sources give the same graph edges.

A bundle may hold several ATT&CK domains (VERIS): a source reads the relationships of
its own `domain` only, so such a bundle is listed once per domain. Relationships
without `x_mapping_kind` (hierarchy, related controls) and objects of other types
are not mappings and are ignored; a mapping whose subject is not in the bundle is a
bad row, reported and skipped.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pipeline.ingest.mappings.common import TableSpec, text, texts
from pipeline.model.controls import MappingTable

SUBJECT_TYPES = ("course-of-action", "vulnerability")


def _external_id(obj: dict) -> str:
    refs = obj.get("external_references")
    if isinstance(refs, list) and refs and isinstance(refs[0], dict):
        return text(refs[0].get("external_id"))
    return ""


def _subject_name(obj: dict) -> str:
    """A vulnerability is named by its CVE id; its table's name is the description."""
    return text(obj.get("description")) if obj.get("type") == "vulnerability" else text(obj.get("name"))


def read_stix_mappings(path: Path, spec: TableSpec, *, file: str | None = None) -> MappingTable:
    b, ok, doc = spec.open_json(path, file)
    if not ok:
        return b.table()
    if not isinstance(doc, dict) or doc.get("type") != "bundle" or not isinstance(doc.get("objects"), list):
        b.issue("bad-format", "not a STIX bundle: no \"objects\" list in an object of type \"bundle\"")
        return b.table()
    objects = [o for o in doc["objects"] if isinstance(o, dict) and isinstance(o.get("id"), str)]
    subjects = {o["id"]: o for o in objects if o.get("type") in SUBJECT_TYPES and isinstance(o.get("x_subject_kind"), str)}
    grouping = next((o for o in objects if o.get("type") == "grouping" and isinstance(o.get("x_framework"), str)), None)
    if grouping is not None:
        declared = {"framework": (grouping.get("x_framework"), spec.framework), "framework_version": (grouping.get("x_framework_version"), spec.framework_version)}
        found = {}
        for field_, (value, expected) in declared.items():
            if not isinstance(value, str) or not value:
                continue
            if expected and value != expected:
                b.issue("metadata-mismatch", f"the bundle's {field_} is {value!r}, the sources file says {expected!r}; the bundle's value is used", grouping["id"])
            found[field_] = value
        b.declare(**found)
    rels = sorted(
        (o for o in objects if o.get("type") == "relationship" and isinstance(o.get("x_mapping_kind"), str)),
        key=lambda o: o["id"],
    )
    rels = [r for r in rels if text(r.get("x_attack_domain")) in ("", b.domain)]
    releases = Counter(text(r.get("x_published_attack_version")) for r in rels)
    releases.pop("", None)
    if releases:
        b.declare(attack_version=sorted(releases.items(), key=lambda kv: (-kv[1], kv[0]))[0][0])
    for rel in rels:
        b.rows += 1
        where = rel["id"]
        subject = subjects.get(text(rel.get("source_ref"))) or subjects.get(text(rel.get("target_ref")))
        if subject is None:
            b.skip("bad-row", "mapping relationship points at no control, capability or vulnerability of the bundle; skipped", where)
            continue
        published_subject = text(rel.get("x_published_subject_id")) or _external_id(subject)
        group = text(subject.get("x_family")) or text(subject.get("x_group"))
        group_name = text(subject.get("x_family_name")) or text(subject.get("x_group_name"))
        m = b.row(
            where,
            subject=published_subject,
            technique=rel.get("x_source_technique_id") or rel.get("x_attack_id"),
            mapping_type=rel.get("x_mapping_type") or "",
            subject_name=_subject_name(subject),
            technique_name=rel.get("x_published_technique_name"),
            score_category=rel.get("x_score_category"),
            score_value=rel.get("x_score_value"),
            related_score=rel.get("x_related_score"),
            comments=rel.get("x_comments"),
            references=texts(rel.get("x_references")),
            group=group,
            group_name=group_name,
            original_subject=published_subject,
            original_technique=text(rel.get("x_published_technique_id")) or None,
            attack_version=text(rel.get("x_published_attack_version")) or None,
        )
        b.add_capability(
            m,
            description=text(subject.get("description")) if subject.get("type") != "vulnerability" else "",
            platform=text(subject.get("x_platform")),
            tags=texts(subject.get("x_tags")),
            references=texts(subject.get("x_capability_references")),
            comments=text(subject.get("x_capability_comments")),
        )
    return b.table(metadata={"stix_bundle": text(doc.get("id"))})
