"""ReleaseDiff + CoverageImpact → one plain, JSON-ready document.

The JSON file is this document, and the Markdown report is rendered from it, so the two
can never disagree. Everything is sorted and carries no timestamps: the same release
pair gives the same bytes.
"""

from __future__ import annotations

import dataclasses

from pipeline.diff.attack import KINDS, SECTIONS, Change, ReleaseDiff
from pipeline.diff.coverage import CoverageImpact, GroupImpact

METHOD = (
    "Objects are keyed by STIX id, as mitreattack-python's changelog does. An object in both "
    "releases is revoked, else deprecated, else classified by its x_mitre_version change "
    "(major 1.2→2.0, minor 1.2→1.3, other), else a patch (same version, new modified date "
    "or description), else unchanged. Renamed, moved and converted techniques are facets "
    "across those sections."
)


def plain(value):
    """Tuples and records as JSON values."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _entry(c: Change) -> dict:
    rec = c.record
    out: dict = {"id": rec.attack_id, "name": rec.name, "stix_id": rec.stix_id, "version": rec.version}
    if c.old is not None and c.new is not None:
        out["old_version"] = c.old.version
        if c.old.attack_id != c.new.attack_id:
            out["old_id"] = c.old.attack_id
        out["changed_fields"] = list(c.field_names)
        out["changes"] = {f.field: {"old": plain(f.old), "new": plain(f.new)} for f in c.fields if f.old is not None or f.new is not None}
    if c.kind == "technique":
        out["tactics"] = list(getattr(rec, "tactics", ()))
        out["subtechnique_of"] = getattr(rec, "parent", None)
    if c.section == "additions" and not rec.live:
        out["status_in_new"] = "revoked" if rec.revoked else "deprecated"
    if c.section == "revocations":
        rev, target = c.replacement, c.replacement_record
        out["replaced_by"] = (
            None
            if rev is None or target is None
            else {"id": target.attack_id, "name": target.name, "status": rev.status, "chain": list(rev.chain)}
        )
        if rev is not None and rev.status == "dead_end":
            out["reason"] = rev.reason
    return out


def _group(g: GroupImpact) -> dict:
    return {
        "covered_before": g.covered_before,
        "covered_after": g.covered_after,
        "change": g.change,
        "remapped": [{"mapper": r.mapper, "from": r.old_technique, "to": r.new_technique, "kept": r.kept} for r in g.remapped],
        "on_deprecated": [{"mapper": m, "technique": t} for m, t in g.on_deprecated],
    }


def coverage_document(cov: CoverageImpact) -> dict:
    return {
        "sources_in_graph": cov.has_sources,
        "techniques": {"before": cov.techniques_before, "after": cov.techniques_after},
        "frameworks": {g.name: _group(g) for g in cov.groups if g.family == "framework"},
        "detection_sources": {g.name: _group(g) for g in cov.groups if g.family == "detection_source"},
        "new_techniques_without_control_or_detection": [{"id": i, "name": n} for i, n in cov.uncovered_new],
    }


def diff_document(diff: ReleaseDiff, coverage: CoverageImpact) -> dict:
    return {
        "domain": diff.domain,
        "old": diff.old_version,
        "new": diff.new_version,
        "method": METHOD,
        "counts": diff.counts(),
        "changes": {kind: {s: [_entry(c) for c in diff.section(kind, s)] for s in SECTIONS} for kind in KINDS},
        "techniques": {
            "renamed": plain(diff.renamed),
            "moved_between_tactics": plain(diff.moved),
            "subtechnique_conversions": plain(diff.conversions),
        },
        "tactic_names": diff.tactic_names,
        "coverage": coverage_document(coverage),
    }
