"""Mapping and catalogue parsers, structure-aware: any rows, cells and documents give
records or the project's issues (byte-level fuzzing of real tables is in
test_fuzz_parsers.py).

Mapping tables are untrusted input; whatever bytes or structure they hold, an adapter
must return its table (possibly empty) with `Issue`s, never raise another exception.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.errors import Issue
from pipeline.ingest.mappings import TableSpec, Universe
from pipeline.ingest.mappings.mapex import read_mapex
from pipeline.ingest.mappings.nist_catalog import read_nist_catalog_stix, read_nist_catalog_tsv
from pipeline.ingest.mappings.nist_tsv import read_nist_tsv
from pipeline.ingest.mappings.nist_xlsx import read_nist_xlsx
from pipeline.ingest.mappings.security_stack import read_security_stack
from pipeline.model.vocabulary import KINDS
from pipeline.model.controls import ControlCatalog, MappingTable

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
# Values a real table holds, plus near misses.
id_like = st.one_of(
    st.sampled_from(["T1046", "t1046", "T1003.001", "T10x6", "AC-04", "AC-2(1)", "AC-", "(AC-(2|4)", "T1003(\\.00", "", " "]),
    text,
)
scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text, id_like)
json_value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=20)
row_field = st.sampled_from(
    ["capability_id", "capability_description", "capability_group", "attack_object_id", "attack_object_name",
     "mapping_type", "score_category", "score_value", "related_score", "comments", "references", "status"]
)
mapex_row = st.dictionaries(row_field, st.one_of(scalar, st.lists(scalar, max_size=3), st.sampled_from(
    ["technique_scores", "protects", "non_mappable", "complete", "protect", "Partial", "detect", "significant"])), max_size=12)


def check_table(table) -> None:
    assert isinstance(table, MappingTable)
    assert all(isinstance(i, Issue) and i.file for i in table.issues)
    for m in table.mappings:
        assert m.kind in KINDS
        assert m.technique_id is None or TECHNIQUE.match(m.technique_id)
        assert m.status in ("complete", "non_mappable")
        assert (m.subject_id is None or m.technique_id is None) <= (m.status == "non_mappable")


def write(data: bytes, name: str = "f") -> tuple[tempfile.TemporaryDirectory, Path]:
    tmp = tempfile.TemporaryDirectory()
    path = Path(tmp.name) / name
    path.write_bytes(data)
    return tmp, path


MAPEX = TableSpec(source_id="p/mapex", format="mapex-json", framework="nist_800_53", framework_version="rev5", attack_version="14.1")


@SETTINGS
@given(json_value.map(lambda v: json.dumps(v).encode()))
def test_mapex_any_json(data):
    tmp, path = write(data)
    with tmp:
        check_table(read_mapex(path, MAPEX))


@SETTINGS
@given(st.lists(mapex_row | scalar, max_size=8), st.dictionaries(st.sampled_from(
    ["attack_version", "technology_domain", "mapping_framework", "mapping_framework_version", "mapping_types", "capability_groups"]), json_value, max_size=6))
def test_mapex_any_rows(rows, metadata):
    tmp, path = write(json.dumps({"metadata": metadata, "mapping_objects": rows}).encode())
    with tmp:
        table = read_mapex(path, MAPEX)
        check_table(table)
        assert table.rows == len(rows)


STACK = TableSpec(source_id="p/stack", format="security-stack-yaml", framework="azure", attack_version="8.2")
score = st.dictionaries(st.sampled_from(["category", "value", "comments"]), scalar, max_size=3)
technique = st.dictionaries(
    st.sampled_from(["id", "name", "technique-scores", "sub-techniques-scores"]),
    st.one_of(scalar, st.lists(score, max_size=3), st.lists(st.dictionaries(st.sampled_from(["sub-techniques", "scores"]),
              st.lists(st.one_of(score, st.dictionaries(st.sampled_from(["id", "name"]), id_like, max_size=2)), max_size=3), max_size=2), max_size=2)),
    max_size=4,
)
stack_doc = st.dictionaries(
    st.sampled_from(["name", "ATT&CK version", "platform", "description", "tags", "techniques", "references", "comments"]),
    st.one_of(scalar, st.lists(technique, max_size=4), st.lists(text, max_size=3)),
    max_size=8,
)


@SETTINGS
@given(st.lists(st.binary(max_size=120) | st.text(max_size=120).map(str.encode) | stack_doc.map(lambda d: yaml.safe_dump(d).encode()), max_size=3))
def test_security_stack_any_files(files):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, data in enumerate(files):
            (folder / f"f{i}.yaml").write_bytes(data)
        check_table(read_security_stack(folder, STACK))


TSV = TableSpec(source_id="p/tsv", format="nist-mappings-tsv", framework="nist_800_53", framework_version="rev5", attack_version="8.2")
cell = st.one_of(id_like, st.text(alphabet="T1AC-0123456789.()|?*+[]\\^$ ", max_size=20))
HEADERS = st.sampled_from([
    ["date delivered", "mitigationID", "techniqueID", "controlID", "description"],
    ["controlID", "controlName", "mitigates", "techniqueID", "techniqueName"],
    ["techniqueID", "other"],
])


@SETTINGS
@given(HEADERS, st.lists(st.lists(cell, min_size=0, max_size=6), max_size=8))
def test_nist_tsv_any_rows(header, rows):
    content = "\n".join("\t".join(r) for r in [header, *rows]).encode()
    tmp, path = write(content)
    with tmp:
        table = read_nist_tsv(path, TSV, techniques=Universe(["T1003", "T1003.001", "T1046"]), controls=Universe(["AC-2", "AC-4", "AC-2(1)"]))
        check_table(table)


XLSX = TableSpec(source_id="p/xlsx", format="nist-mappings-xlsx", framework="nist_800_53", framework_version="rev5", attack_version="12.1")
xlsx_cell = st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                      st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=15), id_like.filter(lambda s: s.isprintable()))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(xlsx_cell, max_size=6), max_size=5), st.booleans())
def test_nist_xlsx_any_cells(rows, with_header):
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    if with_header:
        sheet.append(["Control ID", "Control Name", "Mapping Type", "Technique ID", "Technique Name"])
    for row in rows:
        sheet.append(row)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.xlsx"
        wb.save(path)
        check_table(read_nist_xlsx(path, XLSX))


@SETTINGS
@given(st.binary(max_size=200))
def test_nist_xlsx_any_bytes(data):
    tmp, path = write(b"PK\x03\x04" + data)
    with tmp:
        check_table(read_nist_xlsx(path, XLSX))


CATALOG = TableSpec(source_id="p/cat", format="nist-controls-tsv", framework="nist_800_53", framework_version="rev5")
CATALOG_HEADERS = st.sampled_from([
    ["Control Identifier", "Control (or Control Enhancement) Name", "Control (or Control Enhancement)", "Discussion", "Related Controls"],
    ["FAMILY", "NAME", "TITLE", "PRIORITY", "BASELINE-IMPACT", "DESCRIPTION", "SUPPLEMENTAL GUIDANCE", "RELATED"],
    ["whatever"],
])


def check_catalog(cat) -> None:
    assert isinstance(cat, ControlCatalog)
    assert all(isinstance(i, Issue) for i in cat.issues)
    assert all(c.control_id == k for k, c in cat.controls.items())


@SETTINGS
@given(CATALOG_HEADERS, st.lists(st.lists(cell | text.map(lambda s: s.replace("\t", " ").replace("\n", " ")), max_size=8), max_size=6))
def test_catalog_tsv_any_rows(header, rows):
    tmp, path = write("\n".join("\t".join(r) for r in [header, *rows]).encode())
    with tmp:
        check_catalog(read_nist_catalog_tsv(path, CATALOG))


@SETTINGS
@given(json_value.map(lambda v: json.dumps({"type": "bundle", "objects": v}).encode()))
def test_catalog_stix_any_objects(data):
    tmp, path = write(data)
    with tmp:
        check_catalog(read_nist_catalog_stix(path, CATALOG))


@st.composite
def table_patterns(draw, depth=0):
    """Patterns of the NIST tables' syntax: literals, `\\.`, `.`, groups, `|`, `?`."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["lit", "lit", "dot", "esc"] + (["group"] if depth < 3 else [])))
        if kind == "lit":
            atom = draw(st.sampled_from(["T", "1", "0", "3", "A", "C", "-", "2", "4"]))
        elif kind == "dot":
            atom = "."
        elif kind == "esc":
            atom = "\\."
        else:
            atom = "(" + "|".join(draw(st.lists(table_patterns(depth + 1), min_size=1, max_size=3))) + ")"
        parts.append(atom + ("?" if draw(st.booleans()) else ""))
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(table_patterns(), st.lists(st.sampled_from(["T1003", "T1003.001", "T1046", "AC-2", "AC-4", "AC-20", "T1", "T10", "A", "C-2"]), max_size=10))
def test_table_patterns_expand_to_what_the_regex_matches(pattern, ids):
    """The expansion agrees with the regex engine (the oracle, on these tiny inputs)."""
    universe = Universe(ids)
    expected = tuple(sorted(i for i in set(ids) if re.fullmatch(f"(?:{pattern})", i)))
    assert universe.expand(pattern) == expected
