"""Deterministic, formula-injection-safe .xlsx workbooks.

Why not openpyxl's write-only mode: on this kind of machine it writes about 40,000
cells a second (its XML goes through an element tree per cell), and an ATT&CK
release as workbooks is over a million cells. SpreadsheetML for plain tables is a
handful of small, fixed XML parts plus one `sheetData` per sheet, so this module
writes them as text, over a million cells a second; the tests read every workbook
back with openpyxl (and LibreOffice opens them). A sheet written into several
workbooks is rendered once (`SheetCache`).

What it guarantees:

- The same sheets give the same bytes: workbook properties and zip entry times are
  a fixed instant (`SOURCE_DATE_EPOCH` when set, else 2000-01-01T00:00:00Z), zip
  entries are written in a fixed order with fixed attributes, styles are numbered
  in order of first use.
- Text is never a formula: every string is an inline string (`t="inlineStr"`);
  no `<f>` element is ever written. Text that a spreadsheet would read as a formula
  if it were typed (`=`, `+`, `-`, `@`, tab, CR, LF first) also carries the
  `quotePrefix` style, so editing the cell keeps it text.
- Text that XML cannot hold is made safe: characters XML 1.0 forbids are dropped,
  CR is kept as a character reference, literal `_xHHHH_` sequences are escaped so
  Excel does not decode them, and a cell longer than Excel's 32,767 characters is
  cut (counted in the returned report).
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence, Union

from pipeline.core.atomic import atomic_path
from pipeline.core.epoch import source_date_epoch

MAX_CELL_CHARS = 32767
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
TRUNCATED_MARK = " …[truncated]"
DEFAULT_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
# Characters that make a typed cell a formula (or a DDE call) in spreadsheet programs.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")
_XML_SPACE = frozenset(" \t\r\n")
_CHUNK_ROWS = 2000
_WIDTH_SAMPLE_ROWS = 500
# Deflate level 1: a third of level 6's time for ~15% larger files, on a million cells.
COMPRESS_LEVEL = 1

# XML 1.0 forbids C0 controls other than tab, LF, CR, lone surrogates and U+FFFE/FFFF.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel decodes `_xHHHH_` in strings; a literal one is written as `_x005F_xHHHH_`.
_ESCAPE_LIKE_BYTES = re.compile(rb"_(x[0-9A-Fa-f]{4}_)")
_C0_ILLEGAL = bytes(range(0, 9)) + b"\x0b\x0c" + bytes(range(14, 32))
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")

Scalar = Union[str, int, float, bool, None]


@dataclass(frozen=True, slots=True)
class Styled:
    """A cell value with a look: `fill` is an RGB hex colour (`1a9850`), `bold` bold text."""

    value: Scalar
    fill: str = ""
    bold: bool = False


CellValue = Union[Scalar, Styled]


@dataclass(frozen=True)
class Sheet:
    """One table: a header row and data rows. `widths` (characters) default to the
    content's; `merges` are ranges such as `A1:B1`."""

    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[CellValue]]
    widths: Sequence[float] | None = None
    autofilter: bool = True
    freeze_header: bool = True
    merges: Sequence[str] = ()


@dataclass(frozen=True)
class WorkbookReport:
    path: Path
    sheets: int
    rows: int
    truncated_cells: int


# Formats every workbook has, always with these ids, so that a plain sheet's XML is the
# same in every workbook (and can be reused): default, quote-prefixed, bold, bold quoted.
_BASE_XFS = ((False, "", False), (False, "", True), (True, "", False), (True, "", True))
QUOTE_STYLE, BOLD_STYLE = 1, 2


@dataclass
class _Styles:
    """Cell formats: the base ones, then others in order of first use."""

    fills: list[str] = field(default_factory=list)
    xfs: list[tuple[bool, str, bool]] = field(default_factory=lambda: list(_BASE_XFS))
    index: dict[tuple[bool, str, bool], int] = field(default_factory=lambda: {k: i for i, k in enumerate(_BASE_XFS)})

    def id(self, bold: bool = False, fill: str = "", quote: bool = False) -> int:
        key = (bold, fill.upper(), quote)
        found = self.index.get(key)
        if found is None:
            if key[1] and key[1] not in self.fills:
                if not re.fullmatch(r"[0-9A-F]{6}", key[1]):
                    raise ValueError(f"fill colour must be six hex digits, not {fill!r}")
                self.fills.append(key[1])
            found = self.index[key] = len(self.xfs)
            self.xfs.append(key)
        return found

    def xml(self) -> str:
        fills = ['<fill><patternFill patternType="none"/></fill>', '<fill><patternFill patternType="gray125"/></fill>']
        fills += [
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{c}"/><bgColor indexed="64"/></patternFill></fill>'
            for c in self.fills
        ]
        xfs = []
        for bold, fill, quote in self.xfs:
            fill_id = self.fills.index(fill) + 2 if fill else 0
            attrs = f'numFmtId="0" fontId="{int(bold)}" fillId="{fill_id}" borderId="0" xfId="0"'
            if bold:
                attrs += ' applyFont="1"'
            if fill:
                attrs += ' applyFill="1"'
            if quote:
                attrs += ' quotePrefix="1"'
            xfs.append(f"<xf {attrs}/>")
        font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
        return (
            _XML_DECL
            + f'<styleSheet xmlns="{_NS_MAIN}">'
            + f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
            + f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
            + '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            + '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            + f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            + '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            + "</styleSheet>"
        )


_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def fixed_instant() -> datetime:
    """The one timestamp every workbook carries: SOURCE_DATE_EPOCH (reproducible-builds
    convention) when set, else 2000-01-01T00:00:00Z. Zip times cannot precede 1980."""
    when = source_date_epoch()
    if when is None:
        return DEFAULT_EPOCH
    return max(when, datetime(1980, 1, 1, tzinfo=timezone.utc))


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def safe_sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A sheet name Excel accepts: no []:*?/\\, not blank, at most 31 characters, unique
    (case-insensitively) among `taken`."""
    clean = _SHEET_NAME_BAD.sub(" ", _ILLEGAL_XML.sub("", name)).strip().strip("'") or "sheet"
    clean = clean[:31]
    used = {t.lower() for t in taken}
    candidate, n = clean, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = clean[: 31 - len(suffix)] + suffix
        n += 1
    return candidate


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attr(text: str) -> str:
    return _escape(_ILLEGAL_XML.sub("", text)).replace('"', "&quot;")


class _SheetWriter:
    """Turns rows into `<row>` elements; the chunk-level passes (illegal characters, CR,
    `_xHHHH_`) are safe on whole chunks because the markup itself never contains them."""

    def __init__(self, styles: _Styles, ncols: int, row_templates: dict | None = None) -> None:
        self.styles = styles
        self.letters = [column_letter(i) for i in range(max(ncols, 1))]
        self.truncated = 0
        # id(row) → (row, its XML with `<#>` for the row number): a row object that
        # appears on several sheets (a relationship on the relationships sheet and on a
        # per-type sheet) is rendered once. `<#>` cannot occur in escaped text.
        self.row_templates = row_templates if row_templates is not None else {}

    def text_cell(self, ref: str, value: str, style: int | None) -> str:
        first = value[:1]
        if first < " " or first in FORMULA_TRIGGERS or len(value) > MAX_CELL_CHARS:
            value = _ILLEGAL_XML.sub("", value)
            if len(value) > MAX_CELL_CHARS:
                value = value[: MAX_CELL_CHARS - len(TRUNCATED_MARK)] + TRUNCATED_MARK
                self.truncated += 1
            if not value:
                return ""
            if value[0] in FORMULA_TRIGGERS:
                style = self._with_quote(style)
        space = ' xml:space="preserve"' if value[0] in _XML_SPACE or value[-1] in _XML_SPACE else ""
        s = f' s="{style}"' if style else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'

    def _with_quote(self, style: int | None) -> int:
        if not style:
            return QUOTE_STYLE
        bold, fill, _ = self.styles.xfs[style]
        return self.styles.id(bold, fill, True)

    def cell(self, ref: str, value: CellValue) -> str:
        style = None
        if type(value) is Styled:
            style = self.styles.id(value.bold, value.fill)
            value = value.value
        if value is None or value == "":
            return f'<c r="{ref}" s="{style}"/>' if style else ""
        if isinstance(value, str):
            return self.text_cell(ref, value, style)
        s = f' s="{style}"' if style else ""
        if value is True or value is False:
            return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
            return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
        return self.text_cell(ref, str(value), style)

    def rows_xml(self, rows: Iterable[Sequence[CellValue]], first_row: int, style: int | None = None) -> Iterable[bytes]:
        """`<row>` elements in chunks. Plain text (the bulk of every sheet) takes an
        inlined fast path; anything that needs care goes through `cell`/`text_cell`."""
        letters = self.letters
        cell, text_cell = self.cell, self.text_cell
        triggers, space, limit = FORMULA_TRIGGERS, _XML_SPACE, MAX_CELL_CHARS
        templates = self.row_templates if style is None else {}
        out: list[str] = []
        r = first_row
        for row in rows:
            hit = templates.get(id(row))
            if hit is not None and hit[0] is row:
                out.append(hit[1].replace("<#>", str(r)))
                r += 1
                if len(out) >= _CHUNK_ROWS:
                    yield _clean_chunk("".join(out))
                    out.clear()
                continue
            if len(row) > len(letters):
                letters.extend(column_letter(i) for i in range(len(letters), len(row)))
            cells = []
            reusable = True
            truncated = self.truncated
            for i, value in enumerate(row):
                if type(value) is str:
                    if not value:
                        continue
                    first = value[0]
                    if style is None and first > " " and first not in triggers and value[-1] not in space and len(value) <= limit:
                        if "&" in value or "<" in value or ">" in value:
                            value = _escape(value)
                        cells.append(f'<c r="{letters[i]}<#>" t="inlineStr"><is><t>{value}</t></is></c>')
                    else:
                        cells.append(text_cell(f"{letters[i]}<#>", value, style))
                elif value is not None:
                    reusable = reusable and type(value) is not Styled  # its format id depends on the workbook
                    cells.append(cell(f"{letters[i]}<#>", value))
            template = f'<row r="<#>">{"".join(cells)}</row>'
            if reusable and truncated == self.truncated:
                templates[id(row)] = (row, template)
            out.append(template.replace("<#>", str(r)))
            r += 1
            if len(out) >= _CHUNK_ROWS:
                yield _clean_chunk("".join(out))
                out.clear()
        if out:
            yield _clean_chunk("".join(out))


def _clean_chunk(xml: str) -> bytes:
    """UTF-8 of a chunk of rows, made safe. C0 controls are deleted from the bytes (one
    `translate` pass, several times faster than a regex search, and exact: in UTF-8
    those bytes never occur inside a multi-byte character); the rarer non-characters
    and lone surrogates take the regex path."""
    if "\ufffe" in xml or "\uffff" in xml:
        xml = _ILLEGAL_XML.sub("", xml)
    try:
        data = xml.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        data = _ILLEGAL_XML.sub("", xml).encode("utf-8")
    data = data.translate(None, _C0_ILLEGAL)
    if b"\r" in data:
        data = data.replace(b"\r", b"&#13;")
    if b"_x" in data:
        data = _ESCAPE_LIKE_BYTES.sub(rb"_x005F_\1", data)
    return data


def _widths(sheet: Sheet, ncols: int) -> list[float]:
    """Column widths in characters from the header and the longest value of the first
    rows, 8–60 (a sample: widths are a reading aid, and every cell would cost time)."""
    if sheet.widths is not None:
        given = list(sheet.widths)
        return given + [10.0] * (ncols - len(given))
    longest = [len(h) + 3 for h in sheet.header] + [0] * (ncols - len(sheet.header))
    for row in sheet.rows[:_WIDTH_SAMPLE_ROWS]:
        for i, value in enumerate(row):
            if type(value) is Styled:
                value = value.value
            if value is None:
                continue
            n = len(value) if type(value) is str else len(str(value))
            if n > longest[i]:
                longest[i] = n
    return [float(min(max(n + 1, 8), 60)) for n in longest]


def _extent(sheet: Sheet) -> tuple[int, int]:
    """(columns, rows including the header) of a sheet, checked against Excel's limits."""
    ncols = max([len(sheet.header)] + [len(r) for r in sheet.rows])
    if ncols > MAX_COLUMNS:
        raise ValueError(f"sheet {sheet.name!r} has {ncols} columns; a worksheet holds at most {MAX_COLUMNS}")
    nrows = len(sheet.rows) + int(bool(sheet.header))
    if nrows > MAX_ROWS:
        raise ValueError(f"sheet {sheet.name!r} has {nrows} rows; a worksheet holds at most {MAX_ROWS}")
    return ncols, nrows


def _last_cell(extent: tuple[int, int]) -> str:
    ncols, nrows = extent
    return f"{column_letter(max(ncols, 1) - 1)}{max(nrows, 1)}"


def _sheet_head(sheet: Sheet, index: int, extent: tuple[int, int]) -> str:
    ncols, _ = extent
    selected = ' tabSelected="1"' if index == 0 else ""
    if sheet.header and sheet.freeze_header:
        view = (
            f'<sheetView workbookViewId="0"{selected}>'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView>'
        )
    else:
        view = f'<sheetView workbookViewId="0"{selected}/>'
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(_widths(sheet, ncols), 1)
    )
    return (
        _XML_DECL
        + f'<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_R}">'
        + f'<dimension ref="A1:{_last_cell(extent)}"/><sheetViews>{view}</sheetViews>'
        + '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
    )


def _sheet_body(sheet: Sheet, writer: _SheetWriter) -> bytes:
    """The `sheetData` content: what takes the time, and what `SheetCache` keeps."""
    parts = []
    if sheet.header:
        parts.extend(writer.rows_xml([list(sheet.header)], 1, style=BOLD_STYLE))
    parts.extend(writer.rows_xml(sheet.rows, 1 + int(bool(sheet.header))))
    return b"".join(parts)


def _sheet_tail(sheet: Sheet, extent: tuple[int, int]) -> str:
    ncols, _ = extent
    tail = "</sheetData>"
    if sheet.header and sheet.autofilter and ncols:
        tail += f'<autoFilter ref="A1:{_last_cell(extent)}"/>'
    if sheet.merges:
        tail += f'<mergeCells count="{len(sheet.merges)}">'
        tail += "".join(f'<mergeCell ref="{_attr(m)}"/>' for m in sheet.merges) + "</mergeCells>"
    return tail + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'


class SheetCache:
    """Sheet XML shared by the workbooks of one run: the same `Sheet` object written into
    several workbooks (a release workbook and its per-type ones) is rendered once.

    A sheet's XML depends only on its content and on the cell formats the workbook had
    before it (ids in order of first use), so the key is the sheet's identity plus
    that format state; a hit replays the formats the sheet added. Entries hold their
    sheet, so an id is never reused while cached.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, tuple], tuple[Sheet, bytes, list, int]] = {}
        self._rows: dict[int, tuple] = {}

    def body(self, sheet: Sheet, styles: _Styles, ncols: int) -> tuple[bytes, int]:
        key = (id(sheet), tuple(styles.xfs))
        hit = self._entries.get(key)
        if hit is not None and hit[0] is sheet:
            for bold, fill, quote in hit[2]:
                styles.id(bold, fill, quote)
            return hit[1], hit[3]
        before = len(styles.xfs)
        writer = _SheetWriter(styles, ncols, self._rows)
        body = _sheet_body(sheet, writer)
        self._entries[key] = (sheet, body, styles.xfs[before:], writer.truncated)
        return body, writer.truncated


def _package_parts(
    names: list[str], sheets: Sequence[Sheet], extents: list[tuple[int, int]], title: str, creator: str, when: datetime
) -> dict[str, str]:
    n = len(names)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT_SHEET}"/>' for i in range(1, n + 1)
    )
    content_types = (
        _XML_DECL
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        + '<Default Extension="xml" ContentType="application/xml"/>'
        + '<Override PartName="/xl/workbook.xml" '
        + 'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        + overrides
        + '<Override PartName="/xl/styles.xml" '
        + 'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        + '<Override PartName="/docProps/app.xml" '
        + 'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        + "</Types>"
    )
    root_rels = (
        _XML_DECL
        + f'<Relationships xmlns="{_NS_PKG_REL}">'
        + f'<Relationship Id="rId1" Type="{_NS_R}/officeDocument" Target="xl/workbook.xml"/>'
        + '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
        + 'Target="docProps/core.xml"/>'
        + f'<Relationship Id="rId3" Type="{_NS_R}/extended-properties" Target="docProps/app.xml"/>'
        + "</Relationships>"
    )
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    core = (
        _XML_DECL
        + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        + 'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        + 'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + (f"<dc:title>{_attr(title)}</dc:title>" if title else "")
        + f"<dc:creator>{_attr(creator)}</dc:creator><cp:lastModifiedBy>{_attr(creator)}</cp:lastModifiedBy>"
        + f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        + f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        + "</cp:coreProperties>"
    )
    app = (
        _XML_DECL
        + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        + 'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        + f"<Application>{_attr(creator)}</Application></Properties>"
    )
    sheet_elems = "".join(
        f'<sheet name="{_attr(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, 1)
    )
    defined = []
    for i, (name, sheet, extent) in enumerate(zip(names, sheets, extents)):
        if sheet.header and sheet.autofilter:
            quoted = name.replace("'", "''")
            col, row = re.fullmatch(r"([A-Z]+)(\d+)", _last_cell(extent)).groups()
            ref = f"'{quoted}'!$A$1:${col}${row}"
            defined.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">{_attr(ref)}</definedName>')
    workbook = (
        _XML_DECL
        + f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_R}">'
        + '<bookViews><workbookView activeTab="0"/></bookViews>'
        + f"<sheets>{sheet_elems}</sheets>"
        + (f"<definedNames>{''.join(defined)}</definedNames>" if defined else "")
        + '<calcPr calcId="191029"/></workbook>'
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_NS_R}/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1)
    )
    workbook_rels = (
        _XML_DECL
        + f'<Relationships xmlns="{_NS_PKG_REL}">{rels}'
        + f'<Relationship Id="rId{n + 1}" Type="{_NS_R}/styles" Target="styles.xml"/></Relationships>'
    )
    return {
        "[Content_Types].xml": content_types,
        "_rels/.rels": root_rels,
        "docProps/app.xml": app,
        "docProps/core.xml": core,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": workbook_rels,
    }


def _entry(name: str, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


def write_workbook(
    path: Path,
    sheets: Sequence[Sheet],
    *,
    title: str = "",
    creator: str = "attack-pipeline",
    cache: SheetCache | None = None,
) -> WorkbookReport:
    """Write `sheets` (in order) to `path` atomically; the same arguments give the same
    bytes. Pass one `cache` to several calls that share `Sheet` objects."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    when = fixed_instant()
    names: list[str] = []
    for sheet in sheets:
        names.append(safe_sheet_name(sheet.name, names))
    path = Path(path)
    cache = cache or SheetCache()
    extents = [_extent(sheet) for sheet in sheets]
    styles = _Styles()
    truncated = rows = 0

    def put(name: str, data: bytes) -> None:
        zf.writestr(_entry(name, when), data, compresslevel=COMPRESS_LEVEL)

    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
            for name, text in _package_parts(names, sheets, extents, title, creator, when).items():
                put(name, text.encode("utf-8"))
            for i, (sheet, extent) in enumerate(zip(sheets, extents)):
                body, cut = cache.body(sheet, styles, extent[0])
                head, tail = _sheet_head(sheet, i, extent).encode("utf-8"), _sheet_tail(sheet, extent).encode("utf-8")
                put(f"xl/worksheets/sheet{i + 1}.xml", b"".join((head, body, tail)))
                truncated += cut
                rows += len(sheet.rows)
            put("xl/styles.xml", styles.xml().encode("utf-8"))
    return WorkbookReport(path=path, sheets=len(sheets), rows=rows, truncated_cells=truncated)
