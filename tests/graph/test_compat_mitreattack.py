"""Cross-check against mitreattack-python, the reference reader (loaded once: ~10–15 s)."""

from __future__ import annotations

import gzip

import pytest


@pytest.fixture(scope="module")
def reference(mirror, tmp_path_factory):
    from mitreattack.stix20 import MitreAttackData

    plain = tmp_path_factory.mktemp("ref") / "enterprise-attack-18.1.json"
    plain.write_bytes(gzip.decompress((mirror / "attack" / "enterprise-attack-18.1.json.gz").read_bytes()))
    return MitreAttackData(str(plain))


def _attack_id(obj) -> str:
    for ref in obj.get("external_references", []):
        if ref.get("source_name") == "mitre-attack":
            return ref["external_id"]
    return ""


@pytest.mark.parametrize(
    ("getter", "kind"),
    [
        ("get_techniques", "technique"),
        ("get_tactics", "tactic"),
        ("get_mitigations", "mitigation"),
        ("get_groups", "group"),
        ("get_software", "software"),
        ("get_campaigns", "campaign"),
    ],
)
def test_same_live_objects_as_mitreattack_python(reference, release_cache, getter, kind):
    ours = {o.attack_id for o in release_cache("enterprise", "18.1").of_kind(kind)}
    theirs = {_attack_id(o) for o in getattr(reference, getter)(remove_revoked_deprecated=True)}
    assert ours == theirs


def test_same_mitigations_and_subtechniques_for_t1046_and_t1003(reference, graph_18):
    from pipeline.graph import query

    t1046 = reference.get_object_by_attack_id("T1046", "attack-pattern")
    theirs = sorted(_attack_id(m["object"]) for m in reference.get_mitigations_mitigating_technique(t1046.id))
    ours = sorted(graph_18.nodes[k]["id"] for k, _, _ in query.neighbours(graph_18, "technique:T1046", "mitigates", "in"))
    assert ours == theirs
    t1003 = reference.get_object_by_attack_id("T1003", "attack-pattern")
    theirs = sorted(_attack_id(s["object"]) for s in reference.get_subtechniques_of_technique(t1003.id))
    assert [graph_18.nodes[k]["id"] for k in query.subtechniques(graph_18, "technique:T1003")] == theirs
