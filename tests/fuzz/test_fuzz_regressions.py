"""Inputs the fuzzing found that broke a parser's contract, each kept as a regression test.

(Resource-limit findings — libyaml's crash on deep nesting, the 256 MB read buffer —
are tested in tests/core/test_limits.py.)
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import orjson
import pytest

import fuzz_targets as ft
from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError, InputError, Issue, PipelineError
from testpaths import ROOT


@pytest.fixture
def folder(tmp_path):
    return tmp_path


def test_issues_and_errors_are_one_line_whatever_the_library_says():
    """libyaml's reader errors and openpyxl's messages hold line breaks."""
    issue = Issue(code="bad-yaml", problem='not valid YAML: unacceptable character #x0000\n  in "<byte string>", position 3', file="f", record="a\u2028b")
    assert issue.one_line() == 'f: a b: not valid YAML: unacceptable character #x0000 in "<byte string>", position 3'
    assert PipelineError("two\r\nlines", file="f", record="r\x0bs").one_line() == "f: r s: two lines"
    assert Issue(code="x", problem="keeps  double  spaces").problem == "keeps  double  spaces"


@pytest.mark.parametrize("data", [b"name: Groups\n\x00techniques: []\n", b"name: Gr\xa3oups\n", b"name: x\x0c\n"])
def test_security_stack_reader_errors_are_one_line_issues(folder, data):
    kind, _ = ft.outcome(ft.TARGETS["security-stack-yaml"], data, folder)
    assert kind == "records"
    table = ft.TARGETS["security-stack-yaml"].run(folder / "fuzz.yaml")
    [issue] = table.issues
    assert issue.code == "bad-yaml" and "\n" not in issue.one_line() and "unacceptable character" in issue.problem


def _workbook_with_sheet(xml: bytes) -> bytes:
    return _workbook(lambda name, body: xml if name == "xl/worksheets/sheet1.xml" else body)


def _workbook(edit) -> bytes:
    """A small valid mapping workbook with `edit(member name, bytes)` applied to each member."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Control ID", "Control Name", "Mapping Type", "Technique ID", "Technique Name"])
    wb.active.append(["AC-4", "Flow", "mitigates", "T1046", "Scan"])
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info.filename, edit(info.filename, body))
    return out.getvalue()


@pytest.mark.parametrize("xml", [b"<worksheet><sheetData><row><c>", b"<worksheet \x01/>", b"<a></b>"])
def test_damaged_sheet_xml_is_an_issue_not_a_parse_error(folder, xml):
    """ElementTree's ParseError escaped the xlsx reader."""
    target = ft.TARGETS["nist-mappings-xlsx"]
    assert ft.outcome(target, _workbook_with_sheet(xml), folder) == ("records", 0)
    table = target.run(folder / "fuzz.xlsx")
    assert [i.code for i in table.issues] == ["bad-format"]


@pytest.mark.parametrize(
    "pattern, problem",
    [
        ("attack/{dmain}-{version}.json", "unknown placeholder {dmain}"),
        ("attack/{domain}}-{version}.json", "Single '}' encountered in format string"),
        ("attack/{domain.x}.json", "'str' object has no attribute 'x'"),
    ],
)
def test_a_bad_release_pattern_is_a_config_error(tmp_path, pattern, problem):
    """str.format raised KeyError/ValueError out of load_config."""
    text = (ROOT / "data" / "sources.toml").read_text(encoding="utf-8")
    path = tmp_path / "sources.toml"
    path.write_text(text.replace('mirror = "attack/{domain}-attack-{version}.json"', f'mirror = "{pattern}"', 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.one_line() == f"{path}: [attack]: mirror {pattern!r}: {problem} (only {{domain}} and {{version}} may be used)"


def test_an_id_with_a_line_break_stays_on_one_line(folder):
    bundle = {
        "type": "bundle",
        "objects": [
            {"type": "grouping", "id": "grouping--1\nx", "x_framework": "kev"},
            {"type": "relationship", "id": "relationship--2\rz", "x_mapping_kind": "mitigates", "source_ref": "nowhere"},
        ],
    }
    target = ft.TARGETS["stix-mappings"]
    assert ft.outcome(target, orjson.dumps(bundle), folder) == ("records", 0)
    issues = target.run(folder / "fuzz.json").issues
    assert issues and all("\n" not in i.one_line() and "\r" not in i.one_line() for i in issues)


def test_an_error_naming_no_file_is_a_contract_violation(folder):
    """The judge itself: an anonymous error must not pass."""
    bad = ft.Target("anonymous", ".txt", (), lambda path: (_ for _ in ()).throw(InputError("no file here")), lambda r, p: 0)
    with pytest.raises(ft.ContractViolation, match="does not name the file"):
        ft.outcome(bad, b"x", folder)
    worse = ft.Target("crashing", ".txt", (), lambda path: {}["missing"], lambda r, p: 0)
    with pytest.raises(ft.ContractViolation, match="KeyError"):
        ft.outcome(worse, b"x", Path(folder))


@pytest.mark.parametrize(
    "edit, problem",
    [
        (("source", 2, "path"), {"a": 1}),
        (("source", 0, "enabled"), "yes"),
        (("source", 0, "domain"), ["enterprise"]),
        (("repositories",), "none"),
        (("source",), [1]),
        (("settings", "site_url"), 5),
    ],
)
def test_a_value_of_the_wrong_type_in_the_sources_file_is_a_config_error(tmp_path, edit, problem):
    """TypeError / AttributeError escaped load_config on a mistyped value."""
    import tomllib

    doc = tomllib.loads((ROOT / "data" / "sources.toml").read_text(encoding="utf-8"))
    node = doc
    for step in edit[:-1]:
        node = node[step]
    node[edit[-1]] = problem
    path = tmp_path / "sources.toml"
    path.write_text(ft.toml_doc(doc), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    line = info.value.one_line()
    assert line.startswith(f"{path}: ") and "\n" not in line and ("must be" in line or "unknown domain" in line)


def test_openpyxl_warnings_about_a_damaged_workbook_become_issues(folder, recwarn):
    """openpyxl printed a two-line UserWarning on stderr for a damaged relationships part."""
    damaged = _workbook(lambda name, body: body.replace(b" Type=", b" Tipe=", 1) if name == "xl/_rels/workbook.xml.rels" else body)
    target = ft.TARGETS["nist-mappings-xlsx"]
    ft.outcome(target, damaged, folder)
    table = target.run(folder / "fuzz.xlsx")
    assert len(recwarn) == 0
    [issue] = [i for i in table.issues if i.code == "xlsx-warning"]
    assert issue.problem == "workbook: xl/_rels/workbook.xml.rels contains invalid dependency definitions"


def test_a_backtracking_pattern_in_a_nist_table_expands_at_once():
    """Python's `re` backtracked for hours on `(T|T|…)(1|1|…)…` over the universe; the
    patterns are now expanded as the finite sets they stand for, and the strings built
    are counted: the hostile pattern builds a few hundred."""
    import pipeline.ingest.mappings.expand as expand
    from pipeline.ingest.mappings import Universe

    universe = Universe(["T1003", "T1003.001", "T1046", "AC-2"])
    hostile = "".join(f"({'|'.join([c] * 13)})" for c in "T1003.001") + "(X|Y)?"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(expand, "MAX_EXPANSION", 1_000)
        assert universe.expand(hostile) == ("T1003.001",)
    assert universe.expand("((.|..|...)?)" * 12) == ("AC-2", "T1003", "T1003.001", "T1046")
    with pytest.raises(ValueError, match="too complex to expand"):
        universe.expand("(.|..|...)?" * 5000)
    for bad, problem in [("T10(0)*3", "'\\*' at position 6"), ("T1[0-9]", "'\\['"), (r"T\d+", r"escape \\d"), ("T1(003", "missing '\\)'")]:
        with pytest.raises(ValueError, match=problem):
            universe.expand(bad)


def test_a_refused_pattern_is_one_bad_regex_row(folder):
    rows = "date delivered\tmitigationID\ttechniqueID\tcontrolID\tdescription\n8/17/20\tM1015\t([^x]*)*y\tAC-4\t\n8/17/20\tM1015\tT1046\tAC-4\t\n"
    target = ft.TARGETS["nist-mappings-tsv"]
    assert ft.outcome(target, rows.encode(), folder) == ("records", 1)
    table = target.run(folder / "fuzz.tsv")
    [issue] = table.issues
    assert (issue.code, issue.record) == ("bad-regex", "line 2") and "regular-expression syntax mapping tables do not use" in issue.problem


def _damage_member(data: bytes, name: str, damage) -> bytes:
    """`data` with the stored bytes of zip member `name` passed through `damage(raw, info)`."""
    import struct

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    buf = bytearray(data)
    start = info.header_offset
    name_len, extra_len = struct.unpack("<HH", buf[start + 26 : start + 30])
    body = start + 30 + name_len + extra_len
    damage(buf, info, start, body)
    return bytes(buf)


def _corrupt_deflate(buf, info, start, body):
    for i in range(body + 2, body + min(info.compress_size, 40)):
        buf[i] ^= 0x5A


def _unknown_method(buf, info, start, body):
    import struct

    buf[start + 8 : start + 10] = struct.pack("<H", 99)  # local header's compression method
    at = bytes(buf).find(b"PK\x01\x02")  # and the central directory's entry of the member
    while at != -1:
        (offset,) = struct.unpack("<I", buf[at + 42 : at + 46])
        if offset == start:
            buf[at + 10 : at + 12] = struct.pack("<H", 99)
        at = bytes(buf).find(b"PK\x01\x02", at + 4)


@pytest.mark.parametrize("damage", [_corrupt_deflate, _unknown_method], ids=["corrupt-deflate", "unknown-compression"])
def test_a_damaged_zip_member_is_an_issue(folder, damage):
    """zlib.error and zipfile's NotImplementedError escaped the xlsx reader (found by atheris)."""
    workbook = _workbook(lambda name, body: body)
    with zipfile.ZipFile(io.BytesIO(workbook)) as zf:
        compressed = {i.filename: i.compress_type for i in zf.infolist()}
    assert compressed["xl/worksheets/sheet1.xml"] == zipfile.ZIP_DEFLATED
    target = ft.TARGETS["nist-mappings-xlsx"]
    assert ft.outcome(target, _damage_member(workbook, "xl/worksheets/sheet1.xml", damage), folder)[0] == "records"
    table = target.run(folder / "fuzz.xlsx")
    assert [i.code for i in table.issues] == ["bad-format"]
