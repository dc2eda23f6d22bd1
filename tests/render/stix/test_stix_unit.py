"""STIX bundles on the small synthetic mirror: golden files, byte-identical rebuilds,
timestamps, ids, reference and shape checks, the vocabulary, `--include-attack`, and
reading a bundle back as a mapping source."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

import stix_small
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.render.stix import check_references
from pipeline.render.stix.bundle import IDENTITY_ID, check_shapes, tlp_white
from pipeline.render.stix.ids import NAMESPACE, VOCABULARY_DATE, fallback_timestamp, from_us_date, normalise_timestamp, stix_id
from pipeline.render.stix.vocabulary import DETECTION_PROPERTIES, MAPPING_PROPERTIES, RELATIONSHIP_TYPES

FORMATS = Path(__file__).resolve().parents[3] / "docs" / "output-formats.md"


def by_id(bundle: dict) -> dict[str, dict]:
    return {o["id"]: o for o in bundle["objects"]}


def test_golden_small_bundles(small_ws, tmp_path, golden):
    got = stix_small.tree(stix_small.render_stix(small_ws, tmp_path / "out"))
    assert sorted(got) == [
        "detections/sigma.json", "index.json", "mappings/azure--04.26.2025.json",
        "mappings/kev--07.28.2025.json", "mappings/nist_800_53--rev5.json",
    ]
    for rel, data in got.items():
        golden.check(f"stix-small/{rel}", data)


def test_two_renders_are_byte_identical(small_ws, tmp_path):
    first = stix_small.tree(stix_small.render_stix(small_ws, tmp_path / "a"))
    second = stix_small.tree(stix_small.render_stix(small_ws, tmp_path / "b", include_attack=False))
    assert first == second


def test_what_the_small_nist_bundle_says(small_ws, tmp_path):
    base = stix_small.render_stix(small_ws, tmp_path)
    bundle = stix_small.read(base / "mappings" / "nist_800_53--rev5.json")
    objs = by_id(bundle)
    controls = {o["external_references"][0]["external_id"]: o for o in objs.values() if o["type"] == "course-of-action"}
    assert sorted(controls) == ["AC-2", "AC-2(1)", "AC-4", "SI-4"], "every catalogue control, mapped or not"
    ac4 = controls["AC-4"]
    assert ac4["id"] == "course-of-action--" + str(uuid.uuid5(NAMESPACE, "control:nist_800_53/rev5:AC-4"))
    assert ac4["description"] == "Enforce approved authorizations." and ac4["x_family"] == "AC"
    assert (ac4["created"], ac4["modified"]) == ("2022-01-13T00:00:00.000Z", "2025-04-16T00:00:00.000Z"), "the table's own dates"
    rels = [o for o in objs.values() if o["type"] == "relationship"]
    mappings = sorted((objs[r["source_ref"]]["external_references"][0]["external_id"], r["x_attack_id"], r["x_reconcile_status"]) for r in rels if "x_mapping_kind" in r)
    # SI-4 → T1040 is left out: T1040 is deprecated in the release.
    assert mappings == [("AC-2(1)", "T1046", "revoked"), ("AC-4", "T1003.001", "unchanged"), ("AC-4", "T1046", "renamed")]
    revoked = next(r for r in rels if r.get("x_reconcile_status") == "revoked")
    assert revoked["x_revocation_chain"] == ["T9001", "T9002", "T1046"] and revoked["x_published_technique_id"] == "T9001"
    renamed = next(r for r in rels if r.get("x_reconcile_status") == "renamed")
    assert renamed["x_published_subject_id"] == "AC-04" and renamed["x_published_technique_name"] == "Network Service Scanning"
    assert renamed["x_comments"] == renamed["description"] == "Filters flows." and renamed["x_references"] == ["https://example.org/ac-4"]
    assert renamed["modified"] == "2025-10-24T17:49:31.494Z", "the later of the table's and the technique's dates"
    sub = [r for r in rels if r["relationship_type"] == "subcontrol-of"]
    assert [(objs[r["source_ref"]]["name"], objs[r["target_ref"]]["name"]) for r in sub] == [
        ("Account Management | Automated System Account Management", "Account Management")]
    related = sorted((objs[r["source_ref"]]["external_references"][0]["external_id"], objs[r["target_ref"]]["external_references"][0]["external_id"])
                     for r in rels if r["relationship_type"] == "related-to")
    assert related == [("AC-2", "AC-4"), ("AC-4", "AC-2")], "SC-7 is not in the catalogue"
    index = stix_small.read(base / "index.json")
    nist = next(b for b in index["bundles"] if b["file"] == "mappings/nist_800_53--rev5.json")
    assert nist["left_out"] == {"deprecated_target": 1} and nist["mappings"] == 3


def test_scores_kev_and_detections(small_ws, tmp_path):
    base = stix_small.render_stix(small_ws, tmp_path)
    azure = [o for o in stix_small.read(base / "mappings" / "azure--04.26.2025.json")["objects"] if "x_mapping_kind" in o]
    assert sorted((r["relationship_type"], r["x_score_category"], r["x_score_value"]) for r in azure) == [
        ("detects", "detect", "minimal"), ("mitigates", "protect", "partial")]
    kev = by_id(stix_small.read(base / "mappings" / "kev--07.28.2025.json"))
    vuln = next(o for o in kev.values() if o["type"] == "vulnerability")
    assert vuln["name"] == "CVE-2024-0001" and vuln["external_references"] == [{"source_name": "cve", "external_id": "CVE-2024-0001"}]
    rels = {r["relationship_type"]: r for r in kev.values() if r["type"] == "relationship"}
    assert rels["targets"]["source_ref"].startswith("attack-pattern--") and rels["targets"]["target_ref"] == vuln["id"], "attack-pattern targets vulnerability"
    assert rels["impacts"]["source_ref"] == vuln["id"] and rels["impacts"]["x_mapping_type"] == "primary_impact"
    sigma = by_id(stix_small.read(base / "detections" / "sigma.json"))
    scan = next(o for o in sigma.values() if o.get("name") == "Port Scan")
    assert scan["pattern_type"] == "sigma" and scan["pattern"].startswith("title: Port Scan") and "x_queries" not in scan
    assert scan["kill_chain_phases"] == [{"kill_chain_name": "mitre-attack", "phase_name": "discovery"}]
    indicates = [o for o in sigma.values() if o.get("relationship_type") == "indicates"]
    assert [(r["source_ref"], r["x_attack_id"], r["x_published_id"], r["x_reconcile_status"]) for r in indicates] == [(scan["id"], "T1046", "T1046", "live")], \
        "T1046 and the revoked T9001 lead to one relationship, described by the direct tag"
    creds = next(o for o in sigma.values() if o.get("name") == "Credential Tooling")
    assert not any(r["source_ref"] == creds["id"] for r in indicates) and creds["kill_chain_phases"][0]["phase_name"] == "credential-access"


def test_every_object_is_created_by_the_producer_and_marked(small_ws, tmp_path):
    base = stix_small.render_stix(small_ws, tmp_path)
    for path in sorted(base.rglob("*.json")):
        if path.name == "index.json":
            continue
        bundle = stix_small.read(path)
        objs = by_id(bundle)
        assert objs[IDENTITY_ID]["identity_class"] == "system"
        assert objs[tlp_white()["id"]]["definition"] == {"tlp": "white"}
        groupings = [o for o in objs.values() if o["type"] == "grouping"]
        assert len(groupings) == 1 and groupings[0]["x_attack_version"] == stix_small.VERSION
        for o in objs.values():
            assert o.get("spec_version") == "2.1", o["id"]
            if o["type"] in ("identity", "marking-definition", "extension-definition", "grouping"):
                continue
            assert o["created_by_ref"] == IDENTITY_ID
            tlp, statement = o["object_marking_refs"]
            assert tlp == tlp_white()["id"]
            text = objs[statement]["definition"]["statement"]
            assert ("DRL-1.1" if "sigma" in path.name else "Apache-2.0") in text


def test_timestamps_come_from_sources_or_source_date_epoch(small_ws, tmp_path, monkeypatch):
    assert fallback_timestamp() == VOCABULARY_DATE
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert fallback_timestamp() == "1970-01-02T00:00:00.000Z"
    base = stix_small.render_stix(small_ws, tmp_path)
    sigma = stix_small.read(base / "detections" / "sigma.json")
    assert {o["valid_from"] for o in sigma["objects"] if o["type"] == "indicator"} == {"1970-01-02T00:00:00.000Z"}
    nist = stix_small.read(base / "mappings" / "nist_800_53--rev5.json")
    assert {o["modified"] for o in nist["objects"] if o["type"] == "course-of-action"} == {"2025-04-16T00:00:00.000Z"}, "source dates win"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH must be a whole number"):
        fallback_timestamp()


def test_ids_and_dates_helpers():
    for key in ("a", "control:nist_800_53/rev5:AC-4", "détection:ü"):
        assert stix_id("course-of-action", key) == f"course-of-action--{uuid.uuid5(NAMESPACE, key)}"
    assert from_us_date("4/16/2025") == "2025-04-16T00:00:00.000Z"
    assert from_us_date("02/30/2025") is None and from_us_date("2025-04-16") is None and from_us_date(None) is None
    assert normalise_timestamp("2020-10-21T09:30:48.697559Z") == "2020-10-21T09:30:48.697Z"
    assert normalise_timestamp("2017-05-31T21:30:44Z") == "2017-05-31T21:30:44.000Z"
    assert normalise_timestamp("yesterday") is None


def test_dangling_references_and_bad_shapes_stop_the_build():
    rel = {"type": "relationship", "spec_version": "2.1", "id": stix_id("relationship", "r"), "created": VOCABULARY_DATE,
           "modified": VOCABULARY_DATE, "relationship_type": "mitigates", "created_by_ref": IDENTITY_ID,
           "source_ref": stix_id("course-of-action", "c"), "target_ref": "attack-pattern--e3a12395-188d-4051-9a16-ea8e14d07b88"}
    bundle = {"type": "bundle", "id": "bundle--x", "objects": [rel]}
    with pytest.raises(PipelineError, match=r"stix/x.json: relationship--.*: source_ref names course-of-action--"):
        check_references(bundle, {rel["target_ref"], IDENTITY_ID}, "stix/x.json")
    check_references(bundle, {rel["target_ref"], rel["source_ref"], IDENTITY_ID}, "stix/x.json")
    check_shapes(bundle, "stix/x.json")
    bundle["objects"] = [rel | {"created": "last tuesday"}]
    with pytest.raises(PipelineError, match="stix2 rejects the object"):
        check_shapes(bundle, "stix/x.json")


def test_vocabulary_is_documented_in_the_output_formats():
    readme = FORMATS.read_text(encoding="utf-8")
    section = readme.split("## STIX bundles", 1)[1].split("\n## ", 1)[0]
    for name in sorted(set(MAPPING_PROPERTIES) | set(DETECTION_PROPERTIES)):
        assert f"`{name}`" in section, f"{name} is not documented in the STIX section of docs/output-formats.md"
    for rtype, _reverse in RELATIONSHIP_TYPES.values():
        assert f"`{rtype}`" in section


def test_build_include_attack_embeds_attack_objects_as_stix21(tmp_path, monkeypatch):
    from pipeline.cli import cli

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    sources = stix_small.write_mirror(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "--sources", str(sources), "--mirror", str(tmp_path / "mirror"), "--out", str(out), "--include-attack"])
    assert result.exit_code == 0, result.output
    bundle = stix_small.read(out / "stix" / "mappings" / "nist_800_53--rev5.json")
    embedded = [o for o in bundle["objects"] if o["type"] == "attack-pattern"]
    names = sorted(o["name"] for o in embedded)
    assert names == ["LSASS Memory", "Network Service Discovery"], "the referenced techniques, not the deprecated one"
    assert all(o["spec_version"] == "2.1" for o in embedded)
    release = {o["id"]: o for o in stix_small.release()["objects"]}
    for o in embedded:
        assert {k: v for k, v in o.items() if k != "spec_version"} == release[o["id"]], "copied as published"
    index = stix_small.read(out / "stix" / "index.json")
    assert index["include_attack"] is True

    from mitreattack.stix20 import MitreAttackData

    mad = MitreAttackData(str(out / "stix" / "mappings" / "nist_800_53--rev5.json"))
    ac4 = stix_id("course-of-action", "control:nist_800_53/rev5:AC-4")
    mitigated = mad.get_techniques_mitigated_by_mitigation(ac4)
    got = sorted(mad.get_attack_id(e["object"].id) for e in mitigated)
    assert got == ["T1003.001", "T1046"]


def test_a_bundle_is_a_mapping_source_again(small_ws, tmp_path):
    """The NIST bundle read back through the `stix-mappings` adapter gives the same rows."""
    from pipeline.core.config import Source
    from pipeline.ingest.mappings import read_mapping_table

    base = stix_small.render_stix(small_ws, tmp_path / "out")
    source = Source(id="own/nist", kind="mapping", format="stix-mappings", url="https://example.org/own.json", mirror_path="own.json",
                    framework="nist_800_53", framework_version="rev5", domain="enterprise", attack_version="99.0")
    table = read_mapping_table(source, base / "mappings" / "nist_800_53--rev5.json")
    assert table.issues == ()
    original = next(t for t in small_ws.controls().tables if t.table.source_id == "test/nist").table
    keep = {"T1046", "T9001", "T1003.001"}  # the deprecated T1040 row is not in the bundle
    fields = lambda m: (m.subject_id, m.technique_id, m.kind, m.mapping_type, m.comments, m.references,  # noqa: E731
                        m.original_subject_id, m.original_technique_id, m.technique_name, m.attack_version)
    assert sorted(map(fields, table.mappings)) == sorted(fields(m) for m in original.mappings if m.technique_id in keep and m.subject_id)


def test_reading_a_bad_bundle_reports_one_line_per_problem(tmp_path):
    from pipeline.ingest.mappings.common import TableSpec
    from pipeline.ingest.mappings.stix_bundle import read_stix_mappings

    spec = TableSpec(source_id="own", format="stix-mappings", framework="nist_800_53", framework_version="rev5")
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"type": "report", "objects": []}))
    table = read_stix_mappings(path, spec, file="own/b.json")
    assert [i.one_line() for i in table.issues] == ['own/b.json: not a STIX bundle: no "objects" list in an object of type "bundle"']
    rel = {"type": "relationship", "id": "relationship--1", "x_mapping_kind": "mitigate", "x_mapping_type": "mitigates",
           "source_ref": "course-of-action--missing", "target_ref": "attack-pattern--x", "x_attack_id": "T1046"}
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": [rel, 7, {"id": 3}]}))
    table = read_stix_mappings(path, spec, file="own/b.json")
    assert table.mappings == () and table.rows == 1
    assert [i.one_line() for i in table.issues] == [
        "own/b.json: relationship--1: mapping relationship points at no control, capability or vulnerability of the bundle; skipped"]
    path.write_text("{not json")
    assert read_stix_mappings(path, spec, file="own/b.json").issues[0].code == "bad-json"
