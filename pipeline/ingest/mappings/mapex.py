"""Mappings Explorer unified JSON (`mapex-unified-data-schema.json`) → `MappingTable`.

One format serves NIST 800-53, the cloud security stacks, M365, CRI Profile, CSA CCM,
Intel vPro, KEV and VERIS, but the files vary within the schema: nulls where strings
are expected, `non_mappable` rows whose mapping type is null, `related_score` empty
or missing, control ids padded (`AC-04`). The file's own metadata (framework, ATT&CK
release, domain) is read and compared with the sources file.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.ingest.mappings.common import TableSpec, text
from pipeline.model.controls import MappingTable

_VERSION = re.compile(r"^\d+\.\d+$")


def _string_dict(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else "" for k, v in value.items()}


def _mapping_types(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for name, body in value.items():
        out[str(name)] = text(body.get("description")) if isinstance(body, dict) else ""
    return out


def read_mapex(path: Path, spec: TableSpec, *, file: str | None = None) -> MappingTable:
    b, ok, doc = spec.open_json(path, file)
    if not ok:
        return b.table()
    if not isinstance(doc, dict) or not isinstance(doc.get("mapping_objects"), list):
        b.issue("bad-format", "not a Mappings Explorer file: no \"mapping_objects\" list at the top level")
        return b.table()

    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        b.issue("bad-format", "no \"metadata\" object; the sources file's framework and release are used", "metadata")
        meta = {}
    declared = {
        "attack_version": ("attack_version", spec.attack_version),
        "technology_domain": ("domain", spec.domain),
        "mapping_framework": ("framework", spec.framework),
        "mapping_framework_version": ("framework_version", spec.framework_version),
    }
    overrides = {}
    for key, (field_, expected) in declared.items():
        value = meta.get(key)
        if not isinstance(value, str) or not value:
            continue
        if key == "attack_version" and not _VERSION.match(value):
            b.issue("metadata-mismatch", f"metadata attack_version {value!r} is not a release number; {expected!r} used", "metadata")
            continue
        if expected and value != expected:
            b.issue("metadata-mismatch", f"metadata {key} is {value!r}, the sources file says {expected!r}; the file's value is used", "metadata")
        overrides[field_] = value
    b.declare(**overrides)

    groups = _string_dict(meta.get("capability_groups"))
    metadata = {
        k: v
        for k in ("mapping_version", "author", "contact", "organization", "creation_date", "last_update")
        if isinstance((v := meta.get(k)), str) and v
    }
    for i, obj in enumerate(doc["mapping_objects"]):
        b.rows += 1
        where = f"mapping_objects[{i}]"
        if not isinstance(obj, dict):
            b.skip("bad-row", "not a JSON object; skipped", where)
            continue
        group = text(obj.get("capability_group"))
        m = b.row(
            where,
            subject=obj.get("capability_id"),
            technique=obj.get("attack_object_id"),
            mapping_type=obj.get("mapping_type"),
            subject_name=obj.get("capability_description"),
            technique_name=obj.get("attack_object_name"),
            score_category=obj.get("score_category"),
            score_value=obj.get("score_value"),
            related_score=obj.get("related_score"),
            comments=obj.get("comments"),
            references=obj.get("references"),
            status=obj.get("status"),
            group=group,
            group_name=groups.get(group, ""),
        )
        b.add_capability(m)
    return b.table(metadata=metadata, mapping_types=_mapping_types(meta.get("mapping_types")), groups=groups)

