"""Ingestion rules on small bundles written by the tests themselves."""

from __future__ import annotations

import gc

import pytest

import stix_factory as f
from pipeline.core.errors import InputError
from pipeline.ingest.attack import read_attack_release


def load(tmp_path, doc, **kw):
    path = f.write(tmp_path / "b.json", doc, gz=kw.pop("gz", False))
    return read_attack_release(path, domain="enterprise", version="99.0")


def test_small_bundle(tmp_path):
    r = load(tmp_path, f.small_bundle(), gz=True)
    assert r.tactics == ("TA0006", "TA0007")
    assert r.get("technique:T1003.001").parent == "T1003"
    assert r.get("technique:T1046").tactics == ("TA0007",)
    assert r.issues == ()


def test_revoked_chain_gives_the_end(tmp_path):
    r = load(tmp_path, f.small_bundle())
    rev = r.revocations["technique:T9001"]
    assert (rev.status, rev.chain, rev.target) == ("live", ("T9001", "T9002", "T1046"), "T1046")
    assert r.get("technique:T9001") is None


def test_revocation_cycle_and_missing_target_are_dead_ends(tmp_path):
    a = f.technique("T9101", "A", "discovery", revoked=True)
    b = f.technique("T9102", "B", "discovery", revoked=True)
    c = f.technique("T9103", "C", "discovery", revoked=True)
    doc = f.bundle(
        f.tactic("TA0007", "discovery", "Discovery"), a, b, c,
        f.relationship("revoked-by", a, b), f.relationship("revoked-by", b, a),
        f.relationship("revoked-by", c, "attack-pattern--00000000-0000-4000-8000-000000000000"),
    )
    r = load(tmp_path, doc)
    assert r.revocations["technique:T9101"].status == "dead_end"
    assert "cycle" in r.revocations["technique:T9101"].reason
    assert "not in the bundle" in r.revocations["technique:T9103"].reason
    codes = [(i.code, i.record) for i in r.issues]
    assert ("revocation-dead-end", "technique:T9103") in codes


def test_revoked_to_deprecated(tmp_path):
    old = f.technique("T9201", "Old", "discovery", revoked=True)
    dep = f.technique("T9202", "Dep", "discovery", deprecated=True)
    r = load(tmp_path, f.bundle(f.tactic("TA0007", "discovery", "Discovery"), old, dep, f.relationship("revoked-by", old, dep)))
    assert r.revocations["technique:T9201"].status == "deprecated"
    assert r.get("technique:T9202").deprecated


def test_unknown_type_is_a_warning_not_fatal(tmp_path):
    doc = f.small_bundle()
    doc["objects"].append({"type": "x-vendor-thing", "id": "x-vendor-thing--1"})
    doc["objects"].append({"type": "x-vendor-thing", "id": "x-vendor-thing--2"})
    r = load(tmp_path, doc)
    assert [(i.code, i.problem) for i in r.issues] == [("unknown-type", "2 object(s) of unknown type 'x-vendor-thing' skipped")]
    assert r.get("technique:T1046") is not None


def test_relationship_to_missing_object_is_reported(tmp_path):
    doc = f.small_bundle()
    rel = f.relationship("mitigates", f.sid("course-of-action", "M1030"), "attack-pattern--11111111-1111-4111-8111-111111111111")
    doc["objects"].append(rel)
    r = load(tmp_path, doc)
    [issue] = r.issues
    assert issue.code == "missing-object" and issue.record == rel["id"]
    assert "attack-pattern--11111111" in issue.problem


def test_non_object_entries_are_skipped_with_their_index(tmp_path):
    doc = f.small_bundle()
    doc["objects"].insert(0, 42)
    r = load(tmp_path, doc)
    assert [(i.code, i.record) for i in r.issues] == [("bad-object", "objects[0]")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not json", "not valid JSON"),
        (b'[{"type": "bundle"}]', "top level is a JSON list"),
        (b'{"type": "report", "objects": []}', "expected \"bundle\""),
        (b'{"type": "bundle", "objects": {}}', "\"objects\" is missing or not a list"),
    ],
)
def test_bad_files_raise_one_line_errors(tmp_path, content, message):
    path = f.write(tmp_path / "bad.json", content)
    with pytest.raises(InputError) as exc:
        read_attack_release(path, domain="enterprise", version="1.0")
    assert message in str(exc.value) and str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_truncated_gzip(tmp_path):
    import gzip

    data = gzip.compress(b'{"type": "bundle", "objects": []}' * 100)
    path = f.write(tmp_path / "cut.json.gz", data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated gzip"):
        read_attack_release(path, domain="enterprise", version="1.0")


def test_reading_a_release_leaves_no_cycle_holding_the_bundle(tmp_path):
    """A build runs the cyclic collector only between stages, and freezes what it finds
    alive: a reader left in a reference cycle kept the whole parsed bundle (a few
    hundred MB for Enterprise) for the rest of the build, in every worker it forked.
    Reference counting alone must free everything a read leaves behind."""
    bundle = f.write(tmp_path / "b.json", f.small_bundle())
    was = gc.isenabled()
    gc.disable()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        release = read_attack_release(bundle, domain="enterprise", version="1.0")
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, (dict, list)) or type(o).__module__.startswith("pipeline")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    assert release.get("technique:T1046") is not None
    assert left == []
