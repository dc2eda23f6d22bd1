"""Reconciliation rules on small hand-made releases and tables."""

from __future__ import annotations

import pytest

import stix_factory as f
from pipeline.core.config import load_config
from pipeline.ingest.mappings import TableSpec
from pipeline.reconcile.controls import release_index
from pipeline.reconcile.mappings import NameCheck, nearest_release, reconcile_table, report
from pipeline.reconcile.release_index import ReleaseIndex, RevokedEntry, TechniqueEntry
from pipeline.workspace import Workspace

TACTICS = {"TA0002": "Execution", "TA0007": "Discovery", "TA0003": "Persistence"}

DECLARED = ReleaseIndex(
    domain="enterprise",
    version="8.2",
    techniques={
        "T1046": TechniqueEntry("Network Service Scanning", ("TA0007",), False),
        "T1086": TechniqueEntry("PowerShell", ("TA0002",), False),
        "T1100": TechniqueEntry("Web Shell", ("TA0003",), False),
        "T1098": TechniqueEntry("Account Manipulation", ("TA0003",), False),
    },
    revoked={},
    tactic_names=TACTICS,
)
TARGET = ReleaseIndex(
    domain="enterprise",
    version="18.1",
    techniques={
        "T1046": TechniqueEntry("Network Service Discovery", ("TA0007",), False),
        "T1059.001": TechniqueEntry("PowerShell", ("TA0002",), False),
        "T1100": TechniqueEntry("Web Shell", ("TA0003",), True),
        "T1098": TechniqueEntry("Account Manipulation", ("TA0003", "TA0004"), False),
        "T1476": TechniqueEntry("Deliver Malicious App", (), True),
    },
    revoked={
        "T1086": RevokedEntry("live", ("T1086", "T1059.001")),
        "T1454": RevokedEntry("dead_end", ("T1454",), "T1454 is revoked but has no revoked-by relationship"),
        "T1434": RevokedEntry("deprecated", ("T1434", "T1476")),
    },
    tactic_names=TACTICS | {"TA0004": "Privilege Escalation"},
)


def table(rows: list[tuple[str | None, str | None, str]]):
    b = TableSpec(source_id="t/x", format="mapex-json", framework="azure", framework_version="1", attack_version="8.2").builder("x.json")
    for i, (cap, tech, name) in enumerate(rows):
        status = "non_mappable" if tech is None else "complete"
        b.row(f"mapping_objects[{i}]", subject=cap, technique=tech, technique_name=name, mapping_type="technique_scores",
              score_category="protect", score_value="partial", status=status)
    b.rows = len(rows)
    return b.table()


def test_statuses_and_issues():
    t = table(
        [
            ("nsg", "T1046", "Network Service Scanning"),
            ("nsg", "T1086", "PowerShell"),
            ("nsg", "T1100", "Web Shell"),
            ("nsg", "T9999", "Made Up"),
            ("nsg", "T1454", "Old Mobile"),
            ("nsg", "T1434", "Old Mobile 2"),
            ("nsg", "T1098", "Account Manipulation"),
            ("backup", None, ""),
        ]
    )
    rt = reconcile_table(t, TARGET, DECLARED, NameCheck(declared="8.2", used="8.2"))
    got = [(r.mapping.technique_id, r.status, r.technique_id, r.in_coverage) for r in rt.remapped]
    assert got == [
        ("T1046", "renamed", "T1046", True),
        ("T1086", "revoked", "T1059.001", True),
        ("T1100", "deprecated", "T1100", False),
        ("T9999", "unknown", None, False),
        ("T1454", "revoked", None, False),
        ("T1434", "revoked", "T1476", False),
        ("T1098", "unchanged", "T1098", True),
        (None, "non_mappable", None, False),
    ]
    assert [(i.code, i.file, i.record) for i in rt.issues] == [
        ("unknown-technique", "x.json", "mapping_objects[3]"),
        ("revocation-dead-end", "x.json", "mapping_objects[4]"),
    ]
    rep = report(rt)
    assert rep["status"] == {"unchanged": 1, "renamed": 1, "revoked": 3, "deprecated": 1, "unknown": 1, "non_mappable": 1}
    assert rep["in_coverage"] == 3
    assert rep["renamed"] == [{"technique": "T1046", "old_name": "Network Service Scanning", "name": "Network Service Discovery", "mappings": 1}]
    revoked = {r["technique"]: (r["target"], r["chain"], r["target_deprecated"]) for r in rep["revoked"]}
    assert revoked == {
        "T1086": ("T1059.001", ["T1086", "T1059.001"], False),
        "T1434": ("T1476", ["T1434", "T1476"], True),
        "T1454": (None, ["T1454"], False),
    }
    assert rep["unknown"] == [{"technique": "T9999", "published_name": "Made Up", "rows": ["mapping_objects[3]"]}]
    assert rep["tactic_changes"] == [
        {"technique": "T1098", "target": "T1098", "declared_tactics": ["TA0003 Persistence"],
         "target_tactics": ["TA0003 Persistence", "TA0004 Privilege Escalation"]}
    ]


def test_names_are_checked_against_the_declared_release():
    t = table([("nsg", "T1046", "Network Scanning"), ("nsg", "T1086", "PowerShell"), ("nsg", "T1454", "Something")])
    rt = reconcile_table(t, TARGET, DECLARED, NameCheck(declared="8.2", used="8.2"))
    assert [(m["technique"], m["problem"]) for m in rt.name_mismatches] == [
        ("T1046", "ATT&CK 8.2 calls it 'Network Service Scanning'"),
        ("T1454", "not in ATT&CK 8.2"),
    ]


def test_rows_without_a_name_are_renamed_by_their_release_name():
    t = table([("nsg", "T1046", "")])
    (r,) = reconcile_table(t, TARGET, DECLARED, NameCheck(declared="8.2", used="8.2")).remapped
    assert (r.status, r.technique_name) == ("renamed", "Network Service Discovery")
    (r,) = reconcile_table(t, TARGET, None, NameCheck(declared="8.2", used=None)).remapped
    assert r.status == "unchanged"


@pytest.mark.parametrize(
    ("available", "declared", "used"),
    [
        (["8.2", "9.0", "10.1", "12.1"], "10.0", "10.1"),
        (["14.1", "15.1", "16.1", "18.1"], "17.1", "16.1"),
        (["18.1"], "15.1", "18.1"),
        (["8.2", "18.1"], "8.2", "8.2"),
        ([], "8.2", None),
    ],
)
def test_nearest_release(available, declared, used):
    assert nearest_release(available, declared) == used


def test_release_index_round_trips_through_json():
    again = ReleaseIndex.from_json(TARGET.to_json())
    assert again == TARGET
    assert ReleaseIndex.from_json(b"{}") is None and ReleaseIndex.from_json(b"not json") is None


def test_an_older_release_is_kept_as_its_index_alone(tmp_path, monkeypatch):
    """Names are checked against an older release through its index: the index is
    cached, the release's records are not (they cost more to write than to read),
    and the next workspace reads the index without opening the bundle."""
    mirror = tmp_path / "mirror"
    for version in ("98.0", "99.0"):
        f.write(mirror / "attack" / f"enterprise-attack-{version}.json.gz", f.small_bundle(), gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "98.0"), ("enterprise", "99.0")])
    monkeypatch.setenv("ATTACK_PIPELINE_CACHE", str(tmp_path / "cache"))
    parsed = tmp_path / "cache" / "parsed"
    first = release_index(Workspace.open(load_config(sources), mirror, "99.0"), "enterprise", "98.0")
    assert first.techniques["T1046"].name == "Network Service Discovery"
    assert [p.name.split("-")[:2] for p in (parsed / "release-index").iterdir()] == [["enterprise", "98.0"]]
    assert not list(parsed.glob("attack/enterprise-98.0-*"))

    def refuse(*_args, **_kwargs):
        raise AssertionError("the bundle was read again")

    monkeypatch.setattr(Workspace, "_read", refuse)
    assert release_index(Workspace.open(load_config(sources), mirror, "99.0"), "enterprise", "98.0") == first
