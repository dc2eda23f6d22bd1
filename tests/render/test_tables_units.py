"""The pieces of the `tables` renderer on small inputs made here: the CSV writer (a
property test over any text) and the unified document of a hand-made table."""

from __future__ import annotations

import csv
import io

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.model.controls import Mapping, MappingTable
from pipeline.reconcile.mappings import NameCheck, ReconciledTable, Remapped
from pipeline.render.tables.csv_out import safe_cell, write_csv
from pipeline.render.tables.rows import MAPPING_HEADER, FrameworkTables, mapping_row, notes
from pipeline.render.tables.unified import document
from pipeline.render.tables.yaml_out import dumps
from pipeline.excel.xlsx import fixed_instant

TRIGGERS = "=+-@\t\r\n"
cells = st.one_of(st.text(), st.sampled_from(["=1+1", "+A1", "-2", "@SUM(A1)", "\tx", "a,b", 'say "hi"', "x\r\ny", ""]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cells, min_size=3, max_size=3), max_size=8))
def test_csv_reads_back_and_never_starts_a_formula(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    write_csv(path, ["a", "b", "c"], rows)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert back[0] == ["a", "b", "c"]
    assert len(back) == len(rows) + 1
    for want, got in zip(rows, back[1:]):
        for w, g in zip(want, got):
            assert g == ("'" + w if w and w[0] in TRIGGERS else w)
            assert not g or g[0] not in TRIGGERS


def test_safe_cell_scalars():
    assert [safe_cell(v) for v in (None, True, False, 3, "x", "=x")] == ["", "TRUE", "FALSE", "3", "x", "'=x"]


def _mapping(row: str, subject: str | None, technique: str | None, **kw) -> Mapping:
    base = dict(source_id="t", file="t.json", row=row, framework="fw", framework_version="1", domain="enterprise",
                attack_version="12.1", subject_kind="capability", subject_id=subject, technique_id=technique, kind="protects",
                mapping_type="technique_scores", subject_name="Cap", original_technique_id=technique or "")
    return Mapping(**(base | kw))


def _table() -> FrameworkTables:
    ms = [
        _mapping("r0", "cap", "T1046", technique_name="Network Service Scanning", score_category="protect", score_value="partial",
                 comments="c", references=("https://example.org/a",), group="g", group_name="Group"),
        _mapping("r1", "cap", "T9999", technique_name="Gone"),
        _mapping("r2", None, "T1001", status="non_mappable", mapping_type="", kind="non_mappable"),
        _mapping("r3", "cap", "T1086", technique_name="PowerShell"),
    ]
    remapped = (
        Remapped(mapping=ms[0], status="renamed", technique_id="T1046", technique_name="Network Service Discovery"),
        Remapped(mapping=ms[1], status="unknown", technique_id=None),
        Remapped(mapping=ms[2], status="non_mappable", technique_id=None),
        Remapped(mapping=ms[3], status="revoked", technique_id="T1059.001", technique_name="PowerShell", chain=("T1086", "T1059.001")),
    )
    table = MappingTable(source_id="t", format="mapex-json", file="t.json", framework="fw", framework_version="1", domain="enterprise",
                         attack_version="12.1", rows=4, mappings=tuple(ms), metadata={"creation_date": "2021-01-01", "last_update": "02/03/2024"},
                         mapping_types={"technique_scores": "scores"})
    rt = ReconciledTable(table=table, enabled=True, target_version="18.1", name_check=NameCheck(declared="12.1", used="12.1"), remapped=remapped)
    return FrameworkTables("fw", "1", "enterprise", (rt,), None)


def test_unified_document_of_a_reconciled_table():
    ft = _table()
    doc = document(ft, "18.1")
    meta = doc["metadata"]
    assert meta["attack_version"] == "18.1" and meta["technology_domain"] == "enterprise"
    assert meta["creation_date"] == fixed_instant().strftime("%m/%d/%Y")  # not MM/DD/YYYY in the table
    assert meta["last_update"] == "02/03/2024"
    assert meta["mapping_types"] == {"technique_scores": {"name": "technique_scores", "description": "scores"}}
    assert meta["capability_groups"] == {"g": "Group"}
    objs = doc["mapping_objects"]
    assert [(o["attack_object_id"], o["attack_object_name"], o["status"]) for o in objs] == [
        ("T1046", "Network Service Discovery", "complete"),
        ("T9999", "Gone", "complete"),  # unknown in the target: the published id is kept
        ("T1001", None, "non_mappable"),
        ("T1059.001", "PowerShell", "complete"),  # revoked: followed to its replacement
    ]
    assert objs[0]["references"] == ["https://example.org/a"] and objs[0]["score_value"] == "partial"
    assert objs[2]["capability_id"] is None and objs[2]["mapping_type"] is None


def test_mapping_rows_keep_published_and_reconciled_values():
    ft = _table()
    rows = [dict(zip(MAPPING_HEADER, mapping_row(r))) for r in ft.remapped]
    assert rows[0]["ATT&CK Name"] == "Network Service Discovery" and rows[0]["Original ATT&CK Name"] == "Network Service Scanning"
    assert rows[0]["Notes"] == notes("c", ("https://example.org/a",)) == "c\n\nReferences:\nhttps://example.org/a"
    assert rows[1]["ATT&CK ID"] == "" and rows[1]["Original ATT&CK ID"] == "T9999" and rows[1]["Reconciliation Status"] == "unknown"
    assert rows[3]["ATT&CK ID"] == "T1059.001" and rows[3]["Revocation Chain"] == "T1086 → T1059.001"


# --- The YAML emitter: whatever the data, PyYAML reads back the same data ---------------------
awkward = st.sampled_from(["", "null", "yes", "No", "~", "- x", "a: b", "#x", "'q'", '"q"', "\x85", "\u2028", "\ufeff",
                           "\x7f", "\x9f", "\ufffe", " lead", "trail ", "1.0", "0x1F", "2024-01-01", "\t", "é ü 中"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(), awkward)
keys = st.one_of(st.text(), awkward, st.sampled_from(["mapping_objects", "on", "y", "a-b"]))
data = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(data)
def test_yaml_emitter_round_trips(value):
    text = dumps(value)
    assert yaml.load(text, Loader=yaml.CSafeLoader) == value
    assert yaml.safe_load(text) == value
