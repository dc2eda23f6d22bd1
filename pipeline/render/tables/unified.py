"""A framework's reconciled mappings in the Mappings Explorer unified format.

Mappings Explorer (`mapex-unified-data-schema.json`) is what CTID's tools and many
users read, so the JSON and YAML exports are that format: the same `metadata` and
`mapping_objects`, with ATT&CK ids and names of the *target* release (`attack_version`
says which). A row whose technique has no place in the target release (unknown, or
revoked with no live replacement) keeps the id the table published, so nothing is
lost; the workbook and CSV say why in their reconciliation status column.

The schema allows no extra properties, so nothing of the pipeline's own is added.
Dates must be MM/DD/YYYY: the table's own when it has them, else the fixed instant
every output of a build carries (never the wall clock).
"""

from __future__ import annotations

import re
from pipeline.render.tables.rows import FrameworkTables
from pipeline.reconcile.mappings import Remapped
from pipeline.excel.xlsx import fixed_instant

_DATE = re.compile(r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$")
SCORE_CATEGORIES = frozenset({"protect", "detect", "respond"})
SCORE_VALUES = frozenset({"minimal", "partial", "significant"})
STATUSES = frozenset({"complete", "in_progress", "non_mappable"})


def _date(value: str) -> str:
    if _DATE.match(value or ""):
        return value

    return fixed_instant().strftime("%m/%d/%Y")


def _or_none(value: str | None) -> str | None:
    return value if value else None


def mapping_object(r: Remapped) -> dict:
    m = r.mapping
    status = m.status if m.status in STATUSES else "complete"
    technique = r.technique_id or m.technique_id
    obj = {
        "capability_id": m.subject_id,
        "capability_description": _or_none(m.subject_name),
        "capability_group": _or_none(m.group),
        "mapping_type": _or_none(m.mapping_type),
        "attack_object_id": technique,
        "attack_object_name": _or_none(r.technique_name if r.technique_id else m.technique_name),
        "score_category": m.score_category if m.score_category in SCORE_CATEGORIES else None,
        "score_value": m.score_value if m.score_value in SCORE_VALUES else None,
        "related_score": _or_none(m.related_score),
        "comments": _or_none(m.comments),
        "references": list(m.references),
        "status": status,
    }
    return obj


def document(ft: FrameworkTables, attack_version: str) -> dict:
    """The unified document of one framework version and domain."""
    meta_of = [rt.table for rt in ft.tables]
    metadata: dict[str, str] = {}
    for t in meta_of:
        for k, v in t.metadata.items():
            metadata.setdefault(k, v)
    types: dict[str, dict[str, str]] = {}
    for t in meta_of:
        for name, description in t.mapping_types.items():
            types.setdefault(name, {"name": name, "description": description})
    for r in ft.remapped:
        mt = r.mapping.mapping_type
        if mt and mt not in types:
            types[mt] = {"name": mt, "description": ""}
    groups: dict[str, str] = {}
    for t in meta_of:
        for k, v in t.groups.items():
            groups.setdefault(k, v)
    for r in ft.remapped:
        m = r.mapping
        if m.group and m.group not in groups:
            groups[m.group] = m.group_name
    meta = {
        "mapping_version": metadata.get("mapping_version", ""),
        "attack_version": attack_version,
        "technology_domain": ft.domain,
        "creation_date": _date(metadata.get("creation_date", "")),
        "last_update": _date(metadata.get("last_update", "")),
        "mapping_framework": ft.framework,
        "mapping_framework_version": ft.framework_version,
        "author": _or_none(metadata.get("author")),
        "contact": _or_none(metadata.get("contact")),
        "organization": _or_none(metadata.get("organization")),
        "mapping_types": dict(sorted(types.items())),
        "capability_groups": dict(sorted(groups.items())),
    }
    return {"metadata": meta, "mapping_objects": [mapping_object(r) for r in ft.remapped]}

