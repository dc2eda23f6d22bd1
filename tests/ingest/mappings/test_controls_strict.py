"""Bad mapping input end to end: warnings name file and row, `--strict` makes them fatal.

A mirror is assembled in tmp_path from bad files written here, beside the real ATT&CK
18.1 bundle (linked from the offline mirror), and a sources file lists them.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

pytestmark = pytest.mark.realdata

SOURCES = """
[attack]
mirror = "attack/{domain}-attack-{version}.json"
url_stix20 = "https://example.org/{domain}/{version}.json"
url_stix21 = "https://example.org/{domain}/{version}.json"
releases = [{ domain = "enterprise", version = "18.1", stix = "2.0" }]

[[source]]
id = "bad/mapex"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/bad.json"
mirror = "mappings/bad.json"
framework = "nist_800_53"
framework_version = "rev5"
domain = "enterprise"
attack_version = "18.1"

[[source]]
id = "bad/stack"
kind = "mapping"
format = "security-stack-yaml"
url = "https://example.org/stack.tar.gz"
mirror = "mappings/stack"
folder = true
framework = "azure"
domain = "enterprise"
attack_version = "18.1"

[[source]]
id = "bad/tsv"
kind = "mapping"
format = "nist-mappings-tsv"
url = "https://example.org/bad.tsv"
mirror = "mappings/bad.tsv"
framework = "nist_800_53"
framework_version = "rev5"
domain = "enterprise"
attack_version = "18.1"
enabled = false

[[source]]
id = "bad/xlsx"
kind = "mapping"
format = "nist-mappings-xlsx"
url = "https://example.org/bad.xlsx"
mirror = "mappings/bad.xlsx"
framework = "nist_800_53"
framework_version = "rev5"
domain = "enterprise"
attack_version = "18.1"
enabled = false

[[source]]
id = "bad/empty"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/empty.json"
mirror = "mappings/empty.json"
framework = "kev"
domain = "enterprise"
attack_version = "18.1"

[[source]]
id = "bad/catalog"
kind = "catalog"
format = "nist-controls-tsv"
url = "https://example.org/cat.tsv"
mirror = "mappings/cat.tsv"
framework = "nist_800_53"
framework_version = "rev5"
"""


def row(cap, tech, **over):
    return {"capability_id": cap, "capability_group": "AC", "capability_description": "Information Flow Enforcement",
            "attack_object_id": tech, "attack_object_name": "Network Service Discovery", "references": [],
            "mapping_type": "mitigates", "status": "complete"} | over


@pytest.fixture()
def bad_mirror(tmp_path, mirror):
    root = tmp_path / "mirror"
    (root / "mappings" / "stack").mkdir(parents=True)
    (root / "attack").symlink_to(mirror / "attack", target_is_directory=True)
    meta = {"attack_version": "18.1", "technology_domain": "enterprise", "mapping_framework": "nist_800_53",
            "mapping_framework_version": "rev5", "mapping_types": {}, "capability_groups": {"AC": "Access Control"}}
    objects = [row("AC-4", "T1046"), row("AC-4", "T9999"), row("AC-4", "T10x6"), row("AC-4", "T1046")]
    (root / "mappings" / "bad.json").write_text(json.dumps({"metadata": meta, "mapping_objects": objects}))
    (root / "mappings" / "stack" / "Firewall.yaml").write_text(
        "ATT&CK version: 18.1\nname: Azure Firewall\nplatform: Azure\ntechniques:\n"
        "  - id: T1046\n    name: Network Service Discovery\n"
        "  - id: T1190\n    name: Exploit Public-Facing Application\n    technique-scores:\n      - category: Protect\n        value: Partial\n"
    )
    (root / "mappings" / "bad.tsv").write_text(
        "date delivered\tmitigationID\ttechniqueID\tcontrolID\tdescription\n"
        "8/17/20\tM1015\tT1046\tAC-4\t\n"
        "8/17/20\tM1015\tT1003(\\.006\tAC-4\t\n"
    )
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Control ID", "Control Name", "Mapping Type", "Technique Name"])
    wb.active.append(["AC-4", "Information Flow Enforcement", "mitigates", "Network Service Discovery"])
    wb.save(root / "mappings" / "bad.xlsx")
    (root / "mappings" / "empty.json").write_bytes(b"")
    (root / "mappings" / "cat.tsv").write_text(
        "Control Identifier\tControl (or Control Enhancement) Name\tControl (or Control Enhancement)\tDiscussion\tRelated Controls\n"
        "AC-4\tInformation Flow Enforcement\tEnforce approved authorizations.\t\t\n"
    )
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES)
    return root, sources


FILES = {
    "bad/mapex": "mappings/bad.json",
    "bad/stack": "mappings/stack/Firewall.yaml",
    "bad/tsv": "mappings/bad.tsv",
    "bad/xlsx": "mappings/bad.xlsx",
    "bad/empty": "mappings/empty.json",
}


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("bad/mapex", [("mapping_objects[2]", "malformed ATT&CK technique id 'T10x6'"),
                       ("mapping_objects[3]", "duplicates mapping_objects[0]; dropped"),
                       ("mapping_objects[1]", "technique T9999 is not in ATT&CK enterprise 18.1")]),
        ("bad/stack", [("techniques[0].technique-scores", "entry has no scores; skipped")]),
        ("bad/tsv", [("line 3", "does not compile")]),
        ("bad/xlsx", [("sheet 'Sheet' row 1", "required column techniqueID not in the header")]),
        ("bad/empty", [(None, "file is empty; nothing read")]),
    ],
)
def test_reconcile_reports_bad_rows_and_strict_fails(bad_mirror, source, expected):
    root, sources = bad_mirror
    base = ["reconcile", source, "--sources", str(sources), "--mirror", str(root)]
    ok = invoke(*base, "--verbose")
    assert ok.exit_code == 0, ok.output
    warnings = [line for line in ok.stderr.splitlines() if line.startswith("warning: ")]
    file = FILES[source]
    for record, problem in expected:
        where = f"warning: {file}: {record}: " if record else f"warning: {file}: "
        assert any(w.startswith(where) and problem in w for w in warnings), (where, problem, warnings)
    strict = invoke(*base, "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.rstrip().endswith(f"error: {len(warnings)} warning(s) and --strict is set")


def test_the_rest_of_a_bad_source_still_loads(bad_mirror):
    root, sources = bad_mirror
    rep = json.loads(invoke("reconcile", "bad/mapex", "--sources", str(sources), "--mirror", str(root), "--json").stdout)
    assert (rep["rows"], rep["mappings"], rep["status"]["unchanged"], rep["status"]["unknown"]) == (4, 2, 1, 1)
    stack = json.loads(invoke("reconcile", "bad/stack", "--sources", str(sources), "--mirror", str(root), "--json").stdout)
    assert stack["mappings"] == 1 and stack["status"]["unchanged"] == 1


def test_build_strict(bad_mirror, tmp_path):
    root, sources = bad_mirror
    base = ["build", "--sources", str(sources), "--mirror", str(root)]
    # The empty enabled table cannot be read: the build stops unless told to go on.
    stopped = invoke(*base, "--out", str(tmp_path / "stopped"))
    assert stopped.exit_code == 1 and "enabled source 'bad/empty' cannot be read" in stopped.stderr
    assert not (tmp_path / "stopped").exists()
    strict = invoke(*base, "--strict", "--keep-going", "--out", str(tmp_path / "strict"))
    assert strict.exit_code == 1 and "--strict is set" in strict.stderr
    ok = invoke(*base, "--keep-going", "--out", str(tmp_path / "out"))
    assert ok.exit_code == 0, ok.output
    issues = json.loads((tmp_path / "out" / "reports" / "issues.json").read_text())
    found = {(i["code"], i["file"], i["record"]) for i in issues}
    assert {
        ("bad-id", "mappings/bad.json", "mapping_objects[2]"),
        ("duplicate-row", "mappings/bad.json", "mapping_objects[3]"),
        ("unknown-technique", "mappings/bad.json", "mapping_objects[1]"),
        ("missing-score", "mappings/stack/Firewall.yaml", "techniques[0].technique-scores"),
        ("empty-file", "mappings/empty.json", None),
    } <= found
    # Disabled sources are reported in their own reconciliation reports, not as build warnings.
    assert not any(i["file"] in ("mappings/bad.tsv", "mappings/bad.xlsx") for i in issues)
    tsv = json.loads((tmp_path / "out" / "reports" / "reconcile" / "bad--tsv.json").read_text())
    assert [(i["code"], i["record"]) for i in tsv["issues"]] == [("bad-regex", "line 3")]
