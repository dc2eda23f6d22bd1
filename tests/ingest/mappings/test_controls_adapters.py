"""Each mapping adapter on small files written by the test: good rows and bad input.

Bad input (a malformed id, an entry without a score, a duplicated row, a regex that
does not compile, an xlsx without a required column, an empty file) must become one
`Issue` naming the file and the row, and the rest of the source must still load.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.ingest.mappings import TableSpec, Universe
from pipeline.ingest.mappings.mapex import read_mapex
from pipeline.ingest.mappings.nist_catalog import read_nist_catalog_stix, read_nist_catalog_tsv
from pipeline.ingest.mappings.nist_tsv import read_nist_tsv
from pipeline.ingest.mappings.nist_xlsx import read_nist_xlsx
from pipeline.ingest.mappings.security_stack import read_security_stack


def issues_by_code(table) -> dict[str, list]:
    out: dict[str, list] = {}
    for i in table.issues:
        out.setdefault(i.code, []).append(i)
    return out


# --- Mappings Explorer JSON -------------------------------------------------------------

MAPEX_SPEC = TableSpec(source_id="t/nist", format="mapex-json", framework="nist_800_53", framework_version="rev5", attack_version="14.1")


def mapex_doc(objects: list, **meta) -> dict:
    metadata = {
        "mapping_version": "",
        "attack_version": "14.1",
        "technology_domain": "enterprise",
        "mapping_framework": "nist_800_53",
        "mapping_framework_version": "rev5",
        "creation_date": "01/13/2022",
        "mapping_types": {"protects": {"name": "protects", "description": "control protects"}},
        "capability_groups": {"AC": "Access Control", "SI": "System and Information Integrity"},
    } | meta
    return {"metadata": metadata, "mapping_objects": objects}


def nist_row(cap: str | None, tech: str | None, **over) -> dict:
    row = {
        "capability_id": cap,
        "capability_group": cap.split("-")[0] if cap else None,
        "capability_description": "Information Flow Enforcement" if cap else None,
        "attack_object_id": tech,
        "attack_object_name": "Network Service Discovery",
        "references": [],
        "mapping_type": "protects",
        "status": "complete",
    }
    return row | over


def write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_mapex_reads_rows_metadata_and_normalises_ids(tmp_path):
    path = write_json(
        tmp_path / "n.json",
        mapex_doc(
            [
                nist_row("AC-04", "T1046"),
                nist_row("SI-4", "t1046"),
                nist_row(None, "T1650", mapping_type="non_mappable", status="non_mappable"),
            ]
        ),
    )
    t = read_mapex(path, MAPEX_SPEC, file="n.json")
    assert not t.issues
    assert t.rows == 3
    assert [(m.subject_id, m.technique_id, m.kind, m.status) for m in t.mappings] == [
        ("AC-4", "T1046", "mitigate", "complete"),
        ("SI-4", "T1046", "mitigate", "complete"),
        (None, "T1650", "non_mappable", "non_mappable"),
    ]
    first = t.mappings[0]
    assert first.original_subject_id == "AC-04" and first.mapping_type == "protects"
    assert (first.group, first.group_name) == ("AC", "Access Control")
    assert (first.framework, first.framework_version, first.attack_version, first.domain) == ("nist_800_53", "rev5", "14.1", "enterprise")
    assert first.subject_key == "control:nist_800_53/rev5:AC-4"
    assert t.mapping_types == {"protects": "control protects"}
    assert t.groups["SI"] == "System and Information Integrity"


def test_mapex_scores_and_related_score(tmp_path):
    spec = TableSpec(source_id="t/azure", format="mapex-json", framework="azure", framework_version="06/29/2021", attack_version="8.2")
    row = {
        "capability_id": "azure_firewall",
        "capability_group": "azure_firewall",
        "capability_description": "Azure Firewall",
        "attack_object_id": "T1048.003",
        "attack_object_name": "Exfiltration Over Unencrypted/Obfuscated Non-C2 Protocol",
        "mapping_type": "technique_scores",
        "score_category": "protect",
        "score_value": "Partial",
        "related_score": "T1048",
        "comments": "filters traffic",
        "references": ["https://example.org/fw"],
        "status": "complete",
    }
    path = write_json(tmp_path / "a.json", mapex_doc([row], attack_version="8.2", mapping_framework="azure", mapping_framework_version="06/29/2021"))
    t = read_mapex(path, spec)
    (m,) = t.mappings
    assert (m.kind, m.score_category, m.score_value, m.related_score) == ("protect", "protect", "partial", "T1048")
    assert m.references == ("https://example.org/fw",) and m.comments == "filters traffic"
    assert m.subject_key == "capability:azure:azure_firewall"
    assert [c.capability_id for c in t.capabilities] == ["azure_firewall"]


def test_mapex_bad_rows_are_issues_and_the_rest_loads(tmp_path):
    rows = [
        nist_row("AC-4", "T1046"),
        nist_row("AC-4", "T10x6"),  # malformed technique id
        nist_row("AC_4", "T1046"),  # malformed control id
        nist_row("AC-4", "T1046"),  # duplicate of row 0
        "not an object",
        nist_row("SI-4", "T1046", mapping_type="technique_scores"),  # scored type without a score
        nist_row("SI-3", "T1046"),
    ]
    path = write_json(tmp_path / "bad.json", mapex_doc(rows))
    t = read_mapex(path, MAPEX_SPEC, file="bad.json")
    codes = issues_by_code(t)
    assert [(i.file, i.record) for i in codes["bad-id"]] == [("bad.json", "mapping_objects[1]"), ("bad.json", "mapping_objects[2]")]
    assert "T10x6" in codes["bad-id"][0].problem and "AC_4" in codes["bad-id"][1].problem
    assert [(i.record, i.problem) for i in codes["duplicate-row"]] == [("mapping_objects[3]", "duplicates mapping_objects[0]; dropped")]
    assert [i.record for i in codes["bad-row"]] == ["mapping_objects[4]"]
    assert [i.record for i in codes["missing-score"]] == ["mapping_objects[5]"]
    assert t.rows == 7
    assert [(m.subject_id, m.row) for m in t.mappings] == [("AC-4", "mapping_objects[0]"), ("SI-3", "mapping_objects[6]")]


def test_mapex_metadata_disagreeing_with_sources_is_reported(tmp_path):
    path = write_json(tmp_path / "m.json", mapex_doc([nist_row("AC-4", "T1046")], attack_version="12.1"))
    t = read_mapex(path, MAPEX_SPEC, file="m.json")
    assert [i.code for i in t.issues] == ["metadata-mismatch"]
    assert t.attack_version == "12.1" and t.mappings[0].attack_version == "12.1"


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "empty-file"), (b"  \n", "empty-file"), (b"{not json", "bad-json"), (b"[1, 2]", "bad-format"), (b'{"metadata": {}}', "bad-format")],
)
def test_mapex_unreadable_files(tmp_path, content, code):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    t = read_mapex(path, MAPEX_SPEC, file="x.json")
    assert [(i.code, i.file) for i in t.issues] == [(code, "x.json")]
    assert t.mappings == () and t.rows == 0


# --- Security-stack YAML ----------------------------------------------------------------

STACK_SPEC = TableSpec(source_id="t/stack", format="security-stack-yaml", framework="azure", attack_version="8.2")

GOOD_YAML = """\
version: 1
ATT&CK version: 8.2
creation date: 03/01/2021
name: Network Security Groups
platform: Azure
tags:
  - Network
description: >-
  Filters network traffic.
techniques:
  - id: T1046
    name: Network Service Scanning
    technique-scores:
      - category: Protect
        value: Partial
        comments: This control can be used to restrict access to trusted networks.
  - id: T1602
    name: Data from Configuration Repository
    technique-scores:
      - category: Protect
        value: Partial
    sub-techniques-scores:
      - sub-techniques:
          - id: T1602.002
            name: Network Device Configuration Dump
          - id: T1602.001
            name: SNMP (MIB Dump)
        scores:
          - category: Protect
            value: Partial
          - category: Detect
            value: Minimal
references:
  - https://example.org/nsg
"""


def test_security_stack_scores_and_sub_technique_blocks(tmp_path):
    folder = tmp_path / "Azure"
    folder.mkdir()
    (folder / "NetworkSecurityGroups.yaml").write_text(GOOD_YAML)
    t = read_security_stack(folder, STACK_SPEC, file="Azure")
    assert not t.issues
    got = [(m.subject_id, m.technique_id, m.score_category, m.score_value, m.related_score) for m in t.mappings]
    assert got == [
        ("network_security_groups", "T1046", "protect", "partial", None),
        ("network_security_groups", "T1602", "protect", "partial", None),
        ("network_security_groups", "T1602.002", "protect", "partial", "T1602"),
        ("network_security_groups", "T1602.002", "detect", "minimal", "T1602"),
        ("network_security_groups", "T1602.001", "protect", "partial", "T1602"),
        ("network_security_groups", "T1602.001", "detect", "minimal", "T1602"),
    ]
    assert t.rows == 6
    assert t.mappings[0].comments == "This control can be used to restrict access to trusted networks."
    assert t.mappings[0].references == ("https://example.org/nsg",)
    assert t.mappings[0].file == "Azure/NetworkSecurityGroups.yaml"
    (cap,) = t.capabilities
    assert (cap.name, cap.description, cap.tags, cap.platform) == ("Network Security Groups", "Filters network traffic.", ("Network",), "Azure")


def test_security_stack_bad_files_and_entries(tmp_path):
    folder = tmp_path / "Azure"
    folder.mkdir()
    (folder / "Good.yaml").write_text(GOOD_YAML)
    (folder / "Empty").write_bytes(b"")
    (folder / "Broken.yaml").write_text("name: X\ntechniques: [\n")
    (folder / "NoScore.yaml").write_text(
        "ATT&CK version: 8.2\nname: Azure Firewall\nplatform: Azure\ntechniques:\n"
        "  - id: T1046\n    name: Network Service Scanning\n"
        "  - id: T1048\n    name: Exfiltration\n    technique-scores:\n      - category: Protect\n"
        "  - id: T1190\n    name: Exploit\n    technique-scores:\n      - category: Protect\n        value: Significant\n"
    )
    (folder / "NotMapped.yaml").write_text("ATT&CK version: 8.2\nname: Azure Backup\nplatform: Azure\ncomments: not mappable\ntechniques: []\n")
    t = read_security_stack(folder, STACK_SPEC, file="Azure")
    codes = issues_by_code(t)
    assert [(i.file, i.record) for i in codes["empty-file"]] == [("Azure/Empty", None)]
    assert [(i.file, i.record) for i in codes["bad-yaml"]] == [("Azure/Broken.yaml", "line 3, column 1")]
    assert [(i.file, i.record) for i in codes["missing-score"]] == [
        ("Azure/NoScore.yaml", "techniques[0].technique-scores"),
        ("Azure/NoScore.yaml", "techniques[1].technique-scores[0]"),
    ]
    firewall = [(m.technique_id, m.score_value) for m in t.mappings if m.subject_id == "azure_firewall"]
    assert firewall == [("T1048", None), ("T1190", "significant")]
    backup = [m for m in t.mappings if m.subject_id == "azure_backup"]
    assert [(m.status, m.technique_id, m.comments) for m in backup] == [("non_mappable", None, "not mappable")]
    assert len([m for m in t.mappings if m.subject_id == "network_security_groups"]) == 6


def test_security_stack_duplicate_entries(tmp_path):
    folder = tmp_path / "AWS"
    folder.mkdir()
    entry = "  - id: T1046\n    name: Scan\n    technique-scores:\n      - category: Detect\n        value: Partial\n"
    (folder / "A.yaml").write_text("ATT&CK version: 9\nname: AWS WAF\nplatform: AWS\ntechniques:\n" + entry + entry)
    spec = TableSpec(source_id="t/aws", format="security-stack-yaml", framework="aws", attack_version="9.0")
    t = read_security_stack(folder, spec, file="AWS")
    assert [(i.code, i.record) for i in t.issues] == [("duplicate-row", "techniques[1].technique-scores[0]")]
    assert len(t.mappings) == 1 and t.mappings[0].attack_version == "9.0"


# --- NIST TSV (regex and literal layouts) -------------------------------------------------

TSV_SPEC = TableSpec(source_id="t/tsv", format="nist-mappings-tsv", framework="nist_800_53", framework_version="rev5", attack_version="8.2")
TECHNIQUES = Universe(["T1003", "T1003.001", "T1003.005", "T1003.006", "T1046", "T1072"])
CONTROLS = Universe(["AC-2", "AC-2(1)", "AC-20", "AC-4", "AC-5", "AC-6", "CM-2", "CM-6", "IA-2", "IA-4", "IA-5"])


def write_tsv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_regex_rows_expand_against_release_and_catalogue(tmp_path):
    path = write_tsv(
        tmp_path / "m.tsv",
        [
            ["date delivered", "mitigationID", "techniqueID", "controlID", "description"],
            ["8/17/20", "M1015", r"T1003(\.006|\.005)?", "(AC-(2|4|5|6)|IA-(2|4|5)|CM-(2|6))", ""],
            ["8/17/20", "M1015", "T1072", "AC-2", "literal"],
        ],
    )
    t = read_nist_tsv(path, TSV_SPEC, file="m.tsv", techniques=TECHNIQUES, controls=CONTROLS)
    assert not t.issues and t.rows == 2
    line2 = {(m.subject_id, m.technique_id) for m in t.mappings if m.row == "line 2"}
    assert line2 == {
        (c, tid)
        for c in ("AC-2", "AC-4", "AC-5", "AC-6", "IA-2", "IA-4", "IA-5", "CM-2", "CM-6")
        for tid in ("T1003", "T1003.005", "T1003.006")
    }
    sample = next(m for m in t.mappings if m.row == "line 2")
    assert sample.original_technique_id == r"T1003(\.006|\.005)?" and dict(sample.extra)["mitigation"] == "M1015"
    assert sample.kind == "mitigate" and sample.mapping_type == "mitigates"


def test_regex_table_bad_rows(tmp_path):
    path = write_tsv(
        tmp_path / "bad.tsv",
        [
            ["date delivered", "mitigationID", "techniqueID", "controlID", "description"],
            ["8/17/20", "M1015", "T1046", "AC-4", ""],
            ["8/17/20", "M1015", r"T1003(\.006", "AC-4", ""],  # does not compile
            ["8/17/20", "M1015", "T10x6", "AC-4", ""],  # malformed id
            ["8/17/20", "M1015", "T1046", "AC-4", ""],  # duplicated line
            ["8/17/20", "M1015", r"T9(\.999)?", "AC-4", ""],  # matches nothing
            ["8/17/20", "M1015", "T1072", "ZZ-(1|2)", ""],  # control pattern matching nothing
            ["", "", "", "", ""],  # blank: not a row
            ["8/17/20", "M1015", "T1072", "IA-2", ""],
        ],
    )
    t = read_nist_tsv(path, TSV_SPEC, file="bad.tsv", techniques=TECHNIQUES, controls=CONTROLS)
    got = [(i.code, i.file, i.record) for i in t.issues]
    assert got == [
        ("bad-regex", "bad.tsv", "line 3"),
        ("bad-id", "bad.tsv", "line 4"),
        ("duplicate-row", "bad.tsv", "line 5"),
        ("no-match", "bad.tsv", "line 6"),
        ("no-match", "bad.tsv", "line 7"),
    ]
    assert t.rows == 7
    assert [(m.row, m.subject_id, m.technique_id) for m in t.mappings] == [("line 2", "AC-4", "T1046"), ("line 9", "IA-2", "T1072")]


def test_literal_table_and_missing_columns(tmp_path):
    path = write_tsv(
        tmp_path / "m12.tsv",
        [
            ["controlID", "controlName", "mitigates", "techniqueID", "techniqueName"],
            ["AC-04", "Information Flow Enforcement", "mitigates", "T1046", "Network Service Discovery"],
        ],
    )
    (m,) = read_nist_tsv(path, TSV_SPEC, file="m12.tsv").mappings
    assert (m.subject_id, m.subject_name, m.technique_name, m.kind) == ("AC-4", "Information Flow Enforcement", "Network Service Discovery", "mitigate")
    no_control = write_tsv(tmp_path / "nc.tsv", [["mitigationID", "techniqueID"], ["M1015", "T1046"]])
    t = read_nist_tsv(no_control, TSV_SPEC, file="nc.tsv")
    assert [(i.code, i.record) for i in t.issues] == [("missing-column", "line 1")] and "controlID" in t.issues[0].problem
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    assert [i.code for i in read_nist_tsv(empty, TSV_SPEC, file="empty.tsv").issues] == ["empty-file"]


# --- NIST xlsx ------------------------------------------------------------------------------

def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


XLSX_HEADER = ["Control ID", "Control Name", "Mapping Type", "Technique ID", "Technique Name"]


def test_xlsx_rows_and_a_sheet_without_a_required_column(tmp_path):
    path = write_xlsx(
        tmp_path / "m.xlsx",
        {
            "Notes": [["Control Name", "Technique Name"], ["x", "y"]],
            "Mappings": [
                XLSX_HEADER,
                ["AC-04", "Information Flow Enforcement", "mitigates", "T1046", "Network Service Discovery"],
                ["AC-4", "Information Flow Enforcement", "mitigates", "T10x6", "?"],
                ["SI-4", "System Monitoring", "mitigates", "T1046", "Network Service Discovery"],
            ],
        },
    )
    spec = TableSpec(source_id="t/xlsx", format="nist-mappings-xlsx", framework="nist_800_53", framework_version="rev5", attack_version="12.1")
    t = read_nist_xlsx(path, spec, file="m.xlsx")
    assert [(i.code, i.file, i.record) for i in t.issues] == [
        ("missing-column", "m.xlsx", "sheet 'Notes' row 1"),
        ("bad-id", "m.xlsx", "sheet 'Mappings' row 3"),
    ]
    assert [(m.subject_id, m.technique_id, m.row) for m in t.mappings] == [
        ("AC-4", "T1046", "sheet 'Mappings' row 2"),
        ("SI-4", "T1046", "sheet 'Mappings' row 4"),
    ]


def test_xlsx_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "m.xlsx"
    path.write_bytes(b"PK\x03\x04 definitely not a zip")
    spec = TableSpec(source_id="t/xlsx", format="nist-mappings-xlsx", framework="nist_800_53", framework_version="rev5")
    t = read_nist_xlsx(path, spec, file="m.xlsx")
    assert [i.code for i in t.issues] == ["bad-format"] and t.mappings == ()


# --- Control catalogues -----------------------------------------------------------------------

CAT_SPEC = TableSpec(source_id="t/cat", format="nist-controls-tsv", framework="nist_800_53", framework_version="rev4")


def test_rev4_catalogue_joins_statement_parts_and_normalises_enhancements(tmp_path):
    path = write_tsv(
        tmp_path / "r4.tsv",
        [
            ["FAMILY", "NAME", "TITLE", "PRIORITY", "BASELINE-IMPACT", "DESCRIPTION", "SUPPLEMENTAL GUIDANCE", "RELATED"],
            ["ACCESS CONTROL", "AC-2", "ACCOUNT MANAGEMENT", "P1", "LOW,MODERATE,HIGH", "The organization:", "Guidance.", "AC-3,AC-4"],
            ["", "AC-2a.", "", "", "", "Identifies accounts;"],
            ["ACCESS CONTROL", "AC-2 (1)", "AUTOMATED SYSTEM ACCOUNT MANAGEMENT", "", "MODERATE,HIGH", "Employs automation.", "", ""],
            ["ACCESS CONTROL", "AC-02x", "BAD", "", "", "", "", ""],
        ],
    )
    cat = read_nist_catalog_tsv(path, CAT_SPEC, file="r4.tsv")
    assert [(i.code, i.record) for i in cat.issues] == [("bad-id", "line 5")]
    ac2, enh = cat.controls["AC-2"], cat.controls["AC-2(1)"]
    assert ac2.text == "The organization:\na. Identifies accounts;"
    assert (ac2.name, ac2.family, ac2.family_name, ac2.related, ac2.baselines) == (
        "Account Management", "AC", "Access Control", ("AC-3", "AC-4"), ("LOW", "MODERATE", "HIGH"),
    )
    assert enh.parent == "AC-2" and enh.is_enhancement and enh.key == "control:nist_800_53/rev4:AC-2(1)"


def test_rev5_catalogue_and_stix_catalogue(tmp_path):
    path = write_tsv(
        tmp_path / "r5.tsv",
        [
            ["Control Identifier", "Control (or Control Enhancement) Name", "Control (or Control Enhancement)", "Discussion", "Related Controls"],
            ["AC-4", "Information Flow Enforcement", "Enforce approved authorizations.", "Flow control.", "AC-3, SC-7"],
            ["AC-4", "Duplicate", "", "", ""],
        ],
    )
    spec = TableSpec(source_id="t/cat5", format="nist-controls-tsv", framework="nist_800_53", framework_version="rev5")
    cat = read_nist_catalog_tsv(path, spec, file="r5.tsv")
    assert [(i.code, i.record) for i in cat.issues] == [("duplicate-row", "line 3")]
    assert cat.controls["AC-4"].discussion == "Flow control." and cat.controls["AC-4"].related == ("AC-3", "SC-7")
    bundle = {
        "type": "bundle",
        "objects": [
            {"type": "course-of-action", "id": "course-of-action--1", "name": "Account Management", "description": "d",
             "external_references": [{"external_id": "AC-2", "source_name": "NIST 800-53 Revision 5"}]},
            {"type": "course-of-action", "id": "course-of-action--2", "name": "No id", "external_references": []},
            {"type": "relationship", "id": "relationship--1"},
        ],
    }
    stix = read_nist_catalog_stix(write_json(tmp_path / "c.json", bundle), spec, file="c.json")
    assert list(stix.controls) == ["AC-2"] and [(i.code, i.record) for i in stix.issues] == [("bad-id", "course-of-action--2")]
