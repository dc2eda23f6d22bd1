"""STIX bundles, structure-aware: whatever JSON a bundle holds, ingestion returns a
release or raises the project's own error — never another exception (byte-level
fuzzing of real bundles is in test_fuzz_parsers.py)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stix_factory as f
from pipeline.core.errors import PipelineError
from pipeline.ingest.attack import read_attack_release

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=12)

TYPES = ["attack-pattern", "x-mitre-tactic", "relationship", "course-of-action", "x-mitre-matrix", "x-mitre-analytic",
         "x-mitre-detection-strategy", "x-mitre-data-component", "malware", "x-unknown"]
KEYS = ["type", "id", "name", "external_references", "kill_chain_phases", "revoked", "x_mitre_deprecated",
        "relationship_type", "source_ref", "target_ref", "tactic_refs", "x_mitre_shortname", "x_mitre_analytic_refs",
        "x_mitre_log_source_references", "x_mitre_is_subtechnique", "x_mitre_platforms", "x_mitre_data_source_ref"]
stix_like = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES), "id": st.sampled_from([f"x--{i}" for i in range(6)]) | st.text(max_size=5)},
    optional={k: json_values | st.sampled_from([f"x--{i}" for i in range(6)]) for k in KEYS[2:]},
)
attack_refs = st.lists(st.fixed_dictionaries({"source_name": st.sampled_from(["mitre-attack", "other"]),
                                              "external_id": st.sampled_from(["T1", "T1.001", "TA1", "", "M1"])}), max_size=2)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _check(tmp_path, data: bytes) -> None:
    path = tmp_path / "fuzz.json"
    path.write_bytes(data)
    try:
        release = read_attack_release(path, domain="enterprise", version="1.0")
    except PipelineError as exc:
        assert "\n" not in exc.one_line() and str(path) in exc.one_line()
        return
    for obj in release.objects.values():
        assert obj.attack_id
    from pipeline.graph import query
    from pipeline.graph.build import build_graph

    query.stats(build_graph([release]))


@SETTINGS
@given(json_values)
def test_arbitrary_json(tmp_path, value):
    _check(tmp_path, json.dumps(value).encode())


@SETTINGS
@given(st.lists(stix_like | json_values, max_size=12), st.lists(attack_refs, max_size=12))
def test_stix_shaped_objects(tmp_path, objects, refs):
    for obj, r in zip(objects, refs):
        if isinstance(obj, dict):
            obj["external_references"] = r
    _check(tmp_path, json.dumps({"type": "bundle", "objects": objects}).encode())


@SETTINGS
@given(st.data())
def test_mutated_real_shaped_bundle(tmp_path, data):
    """Drop, retype or corrupt fields of a well-formed bundle."""
    doc = f.small_bundle()
    for obj in doc["objects"]:
        for key in list(obj):
            action = data.draw(st.sampled_from(["keep"] * 6 + ["drop", "corrupt"]))
            if action == "drop":
                del obj[key]
            elif action == "corrupt":
                obj[key] = data.draw(json_values)
    _check(tmp_path, json.dumps(doc).encode())
