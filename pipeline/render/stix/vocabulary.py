"""The STIX vocabulary of the bundles: relationship types and every custom property.

A threat-intel platform reading our bundles sees standard STIX where STIX has a word
for the fact (`mitigates`, `indicates`, `targets`, `related-to`) and a documented
custom word where it has none (`detects`, `responds-to`, `impacts`, `subcontrol-of`).
Custom properties are `x_` names declared by one `extension-definition` per bundle
kind (`toplevel-property-extension`), whose `schema` is the text of the tables below,
so a bundle documents itself and validators accept the properties as declared.

Changing a name here changes the published format: bump `VOCABULARY_VERSION`.
"""

from __future__ import annotations

VOCABULARY_VERSION = "1.0.0"

# Mapping kind (pipeline.model.vocabulary) → (relationship_type, reversed).
# `reversed` means the relationship runs technique → subject: STIX's own phrasing for an
# exploitation technique is "attack-pattern targets vulnerability".
RELATIONSHIP_TYPES: dict[str, tuple[str, bool]] = {
    "mitigate": ("mitigates", False),
    "protect": ("mitigates", False),
    "detect": ("detects", False),
    "respond": ("responds-to", False),
    "impact": ("impacts", False),
    "exploit": ("targets", True),
    "related": ("related-to", False),
}
SUBCONTROL = "subcontrol-of"
RELATED_CONTROL = "related-to"
INDICATES = "indicates"

# Detection query language → indicator `pattern_type` (an open vocabulary: only `sigma`
# is in STIX's suggested list; the others are the languages' usual names).
PATTERN_TYPES: dict[str, str] = {
    "sigma": "sigma",
    "kql": "kql",
    "spl": "spl",
    "eql": "eql",
    "esql": "esql",
    "kuery": "kuery",
    "lucene": "lucene",
    "sql": "sql",
    "machine-learning": "machine-learning",
}

MAPPING_PROPERTIES: dict[str, str] = {
    # on course-of-action and vulnerability objects
    "x_subject_kind": "control (a requirement of a control framework) or capability (a product feature, a vulnerability, an enumeration)",
    "x_framework": "framework id (nist_800_53, azure, kev, ...)",
    "x_framework_version": "framework version as published (rev5, 04/26/2025); controls are keyed by it, capabilities are not",
    "x_family": "control family id (AC)",
    "x_family_name": "control family name (Access Control)",
    "x_discussion": "the catalogue's discussion of the control",
    "x_priority": "the catalogue's priority (rev4)",
    "x_baselines": "the catalogue's baselines (rev4)",
    "x_withdrawn": "true for a control the catalogue marks withdrawn",
    "x_group": "capability group id of the mapping table",
    "x_group_name": "capability group name of the mapping table",
    "x_platform": "platform of the capability",
    "x_tags": "tags of the capability",
    "x_capability_comments": "comments on the capability itself",
    "x_capability_references": "references of the capability itself",
    # on mapping relationships
    "x_attack_id": "ATT&CK id of the technique the relationship points at, in the bundle's ATT&CK release",
    "x_attack_domain": "ATT&CK domain of the mapping table row (enterprise, mobile, ics)",
    "x_mapping_kind": "normalised mapping kind: protect, detect, respond, mitigate, impact, exploit, related",
    "x_mapping_type": "the table's own word for the mapping (technique_scores, mitigates, primary_impact, ...)",
    "x_score_category": "score category: protect, detect or respond",
    "x_score_value": "score value: minimal, partial or significant",
    "x_related_score": "technique id of the table's related_score column",
    "x_comments": "comments of the row, exactly as published",
    "x_references": "references of the row, exactly as published",
    "x_mapping_source": "id of the mapping table in the sources file",
    "x_mapping_file": "path of the mapping table in the mirror",
    "x_mapping_rows": "rows of the table that publish this mapping",
    "x_published_subject_id": "control or capability id as written in the table (AC-04)",
    "x_source_technique_id": "technique id the row names, normalised, before reconciliation",
    "x_published_technique_id": "technique id as written in the table (may be a NIST regular expression)",
    "x_published_technique_name": "technique name as written in the table",
    "x_published_attack_version": "ATT&CK release the table was written against",
    "x_reconcile_status": "unchanged, renamed or revoked (followed to its replacement) in the bundle's ATT&CK release",
    "x_revocation_chain": "ids from the published technique to its replacement, for revoked techniques",
    # on the grouping of a bundle
    "x_attack_version": "ATT&CK release every technique reference of the bundle belongs to",
    "x_attack_domains": "ATT&CK domains the bundle's techniques belong to",
    "x_mapping_sources": "ids of the mapping tables in the bundle",
    "x_vocabulary_version": "version of this vocabulary",
}

DETECTION_PROPERTIES: dict[str, str] = {
    "x_detection_id": "detection id of the pipeline: <source>:<native id>",
    "x_source": "detection source (sigma, elastic, splunk, ...)",
    "x_native_id": "the rule's own id (or a hash of its path where the format has none)",
    "x_format": "file format the rule was read from",
    "x_queries": "every query as {language, text, label}; present unless the rule has exactly one unlabelled query, which is then pattern/pattern_type",
    "x_converted_patterns": "the Sigma rule converted by pySigma into each query language of the build, as {pattern, pattern_type (kql, spl, esql, lucene), language, converter}; a rule a backend could not convert has {language, converter, reason} instead of a pattern",
    "x_techniques": "every technique the rule claims, as {attack_id, how, target, status} (how: tag, field, title, link, ...)",
    "x_tactics": "every tactic the rule claims, as {shortname, how, attack_id, note}",
    "x_attack_objects": "other ATT&CK objects the rule names (software, groups)",
    "x_tags": "the rule's tags",
    "x_authors": "the rule's authors",
    "x_references": "the rule's references, exactly as published",
    "x_status": "the rule's status (stable, test, experimental, deprecated, ...)",
    "x_severity": "the rule's severity",
    "x_data_sources": "data sources or log sources the rule reads",
    "x_path": "path of the rule file inside its source",
    "x_collection": "top folder of the rule inside its source (rules, deprecated, hunting, ...)",
    "x_license": "licence of the rule",
    "x_flags": "deprecated, unsupported or placeholder: rules that do not count as coverage",
    # on indicates relationships
    "x_attack_id": "ATT&CK id of the technique the relationship points at, in the bundle's ATT&CK release",
    "x_how": "how the rule names the technique (tag, field, title, link, name, text)",
    "x_published_id": "technique id as the rule writes it",
    "x_reconcile_status": "live or revoked (followed to its replacement) in the bundle's ATT&CK release",
    # on the grouping of a bundle
    "x_attack_version": "ATT&CK release every technique reference of the bundle belongs to",
    "x_attack_domains": "ATT&CK domains the bundle's techniques belong to",
    "x_vocabulary_version": "version of this vocabulary",
}


def schema_text(properties: dict[str, str]) -> str:
    """The extension's normative definition: one line per property."""
    lines = [
        f"attack-pipeline STIX vocabulary {VOCABULARY_VERSION}: top-level custom properties.",
        "Absent when empty. Lists keep the source's order.",
    ]
    lines += [f"{name}: {doc}" for name, doc in sorted(properties.items())]
    return "\n".join(lines)
