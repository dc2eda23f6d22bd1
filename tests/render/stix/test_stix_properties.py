"""Property tests of the `stix-mappings` adapter: whatever a bundle file holds, reading it
reports problems as issues and never raises."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest.mappings.common import TableSpec
from pipeline.ingest.mappings.stix_bundle import read_stix_mappings
from pipeline.model.controls import MappingTable

SPEC = TableSpec(source_id="own", format="stix-mappings", framework="azure", framework_version="1", domain="enterprise")
IDS = st.sampled_from(["course-of-action--a", "vulnerability--b", "attack-pattern--c", "relationship--d", "grouping--e"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12), IDS, st.sampled_from(["T1046", "T1003.001", "AC-4", "protect", "partial", "enterprise", "mobile"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=8)
KEYS = ["source_ref", "target_ref", "x_mapping_kind", "x_mapping_type", "x_subject_kind", "x_attack_id",
        "x_source_technique_id", "x_published_subject_id", "x_score_category", "x_score_value", "x_references", "x_comments",
        "x_attack_domain", "x_published_attack_version", "external_references", "x_framework", "x_framework_version", "name",
        "description", "x_group", "x_tags"]
TYPES = st.sampled_from(["relationship", "course-of-action", "vulnerability", "grouping", "attack-pattern"])
# Mostly well-typed objects with any property missing, wrong or of the wrong type.
objects = st.fixed_dictionaries(
    {"type": st.one_of(TYPES, values), "id": st.one_of(IDS, values)},
    optional={k: st.one_of(scalars, values) for k in KEYS},
)
# Mapping relationships and subjects that pass the first filters, with anything in the rest.
relationships = st.fixed_dictionaries(
    {"type": st.just("relationship"), "id": IDS, "x_mapping_kind": st.text(max_size=5)},
    optional={k: values for k in KEYS if k != "x_mapping_kind"},
)
subjects = st.fixed_dictionaries(
    {"type": st.sampled_from(["course-of-action", "vulnerability"]), "id": st.sampled_from(["course-of-action--a", "vulnerability--b"]),
     "x_subject_kind": st.sampled_from(["control", "capability"])},
    optional={k: values for k in KEYS if k != "x_subject_kind"},
)
documents = st.one_of(
    values,
    st.fixed_dictionaries({"type": st.just("bundle"), "objects": st.lists(st.one_of(objects, values), max_size=8)}),
    st.fixed_dictionaries({"type": st.just("bundle"), "objects": st.lists(st.one_of(relationships, subjects), max_size=8)}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_document_reads_without_raising(doc):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "b.json"
        path.write_text(json.dumps(doc))
        table = read_stix_mappings(path, SPEC, file="own/b.json")
    assert isinstance(table, MappingTable)
    for m in table.mappings:
        assert m.subject_id and m.technique_id and m.kind
    for issue in table.issues:
        assert issue.file == "own/b.json" and issue.problem


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_read_without_raising(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "b.json"
        path.write_bytes(data)
        table = read_stix_mappings(path, SPEC, file="own/b.json")
    assert table.mappings == () or all(m.subject_id for m in table.mappings)
