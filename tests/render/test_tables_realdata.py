"""The `tables` renderer on the default build, the seed's workspace and a hostile fixture.

Expected values come from the seed page, from the raw ATT&CK bundles (counted here)
and from the Mappings Explorer schema and adapter, never from the renderer itself.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from pathlib import Path

import orjson
import pytest
import yaml

from pipeline.core.config import load_config
from pipeline.ingest.mappings.common import TableSpec
from pipeline.ingest.mappings.mapex import read_mapex
from pipeline.model.vocabulary import normalise_kind
from pipeline.gather import gather
from pipeline.render.registry import RENDERERS
from pipeline.render.tables import render
from pipeline.render.tables.rows import MAPPING_HEADER
from pipeline.workspace import Workspace

from seed_mappings import SEED_AZURE_SCORES, parse_seed

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="session")
def workspace(workspace_18):
    """The default build's inputs at 18.1 (tests/conftest.py)."""
    return workspace_18


def _render(ws, out: Path) -> Path:
    render(gather(ws, renderers=("tables",)), out)
    return out / "tables"


@pytest.fixture(scope="module")
def default_tables(workspace, tmp_path_factory) -> Path:
    return _render(workspace, tmp_path_factory.mktemp("tables-default"))


@pytest.fixture(scope="module")
def seed_tables(azure2021_workspace, tmp_path_factory) -> Path:
    return _render(azure2021_workspace, tmp_path_factory.mktemp("tables-seed"))


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return [tuple("" if v is None else v for v in r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def as_dicts(rows: list[tuple]) -> list[dict]:
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def test_tables_renderer_registered_before_docs():
    names = list(RENDERERS)
    assert "tables" in names and names[-1] == "docs" and names.index("tables") < names.index("docs")


def test_t1046_rows_match_the_seed(seed_tables):
    seed = parse_seed()
    nist_seed = [r for r in seed if r["type"] == "Protects"]
    azure_seed = [r for r in seed if r["type"] == "technique_scores"]
    assert len(nist_seed) == 11 and len(azure_seed) == 6

    nist = [r for r in as_dicts(sheet_rows(seed_tables / "enterprise" / "nist_800_53--rev5.xlsx", "mappings")) if r["ATT&CK ID"] == "T1046"]
    assert sorted((r["Capability ID"], r["Capability Description"], normalise_kind(r["Mapping Type"], None)) for r in nist) == sorted(
        (r["id"], r["description"], normalise_kind(r["type"].lower(), None)) for r in nist_seed
    )
    assert {r["ATT&CK Name"] for r in nist} == {"Network Service Discovery"}  # the 18.1 name

    path = seed_tables / "enterprise" / "azure--06.29.2021.xlsx"
    azure = [r for r in as_dicts(sheet_rows(path, "mappings")) if r["ATT&CK ID"] == "T1046"]
    got = sorted(
        (r["Capability ID"], r["Capability Description"], r["Mapping Type"], r["ATT&CK ID"], r["Original ATT&CK Name"],
         _norm(r["Comments"]), r["Score Category"], r["Score Value"], r["Reconciliation Status"])
        for r in azure
    )
    want = sorted(
        (r["id"], r["description"], r["type"], r["technique"], r["name"], _norm(r["comments"]), cat, value, "renamed")
        for r, (cat, value) in zip(azure_seed, SEED_AZURE_SCORES)
    )
    assert got == want
    assert {r["ATT&CK Name"] for r in azure} == {"Network Service Discovery"}
    # The page's Notes cell: the comments, then the references (links, lost in the seed's text).
    assert all(r["Notes"].startswith(r["Comments"]) and all(u in r["Notes"] for u in r["References"].split("\n")) for r in azure)

    # The CSV has the same header and the same rows as the mappings sheet.
    sheet = sheet_rows(path, "mappings")
    rows = csv_rows(path.with_suffix(".csv"))
    assert tuple(rows[0]) == MAPPING_HEADER == sheet[0]
    assert [tuple(r) for r in rows[1:]] == [tuple(str(v) for v in r) for r in sheet[1:]]


def test_nist_workbook_controls_and_unmapped_sheets(mirror, workspace, default_tables):
    from pipeline.reconcile.controls import catalog

    book = default_tables / "enterprise" / "nist_800_53--rev5.xlsx"
    controls = as_dicts(sheet_rows(book, "controls"))
    cat = catalog(workspace, "nist_800_53", "rev5")
    assert set(cat.controls) <= {r["Control ID"] for r in controls}
    ac4 = next(r for r in controls if r["Control ID"] == "AC-4")
    assert ac4["Text"].startswith("Enforce approved authorizations") and ac4["Family Name"] == "Access Control"
    ids = [r["Control ID"] for r in controls]
    assert ids.index("AC-2") < ids.index("AC-2(1)") < ids.index("AC-10")

    mappings = as_dicts(sheet_rows(book, "mappings"))
    covered = {r["ATT&CK ID"] for r in mappings if r["Reconciliation Status"] in {"unchanged", "renamed", "revoked"} and r["Capability ID"]}
    unmapped = {r["ATT&CK ID"] for r in as_dicts(sheet_rows(book, "unmapped techniques"))}
    live = _live_techniques_in_bundle(mirror / "attack" / "enterprise-attack-18.1.json.gz")
    assert unmapped and not unmapped & covered
    assert unmapped | (covered & live) == live


def _schema(ws) -> dict:
    found = ws.resolve(ws.config.source("mapex/schema"))
    return json.loads(found.path.read_bytes())


def test_unified_exports_validate_against_the_mapex_schema(workspace, default_tables):
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(_schema(workspace))
    files = sorted(default_tables.glob("*/*.json"))
    assert len(files) == len(workspace.controls().tables)  # one per enabled table in the default build
    for path in files:
        doc = orjson.loads(path.read_bytes())
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{path.name}: {errors[0].message} at {list(errors[0].path)}"
        assert doc["metadata"]["attack_version"] == workspace.attack_version
        assert yaml.load(path.with_suffix(".yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) == doc


def test_nist_rev5_unified_json_reads_back_into_the_same_mappings(workspace, default_tables):
    rt = next(t for t in workspace.controls().tables if t.table.framework == "nist_800_53" and t.table.framework_version == "rev5")
    spec = TableSpec(source_id="export", format="mapex-json", framework="nist_800_53", framework_version="rev5",
                     domain="enterprise", attack_version=workspace.attack_version)
    back = read_mapex(default_tables / "enterprise" / "nist_800_53--rev5.json", spec)
    assert back.issues == ()
    assert (back.framework, back.framework_version, back.domain, back.attack_version) == ("nist_800_53", "rev5", "enterprise", "18.1")

    def key(subject, technique, m, status):
        return (subject, technique, m.mapping_type, m.kind, m.score_category, m.score_value, m.comments, m.references, status, m.group)

    want = [key(r.mapping.subject_id, r.technique_id or r.mapping.technique_id, r.mapping, r.mapping.status) for r in rt.remapped]
    got = [key(m.subject_id, m.technique_id, m, m.status) for m in back.mappings]
    assert len(got) == len(rt.remapped) > 5000
    assert got == want
    # The technique is the target release's: renamed rows carry the 18.1 name.
    names = {m.technique_id: m.technique_name for m in back.mappings if m.technique_id}
    assert names["T1046"] == "Network Service Discovery"


def _live_techniques_in_bundle(path: Path) -> set[str]:
    with gzip.open(path) as fh:
        bundle = json.load(fh)
    out = set()
    for o in bundle["objects"]:
        if o["type"] != "attack-pattern" or o.get("revoked") or o.get("x_mitre_deprecated"):
            continue
        out.update(r["external_id"] for r in o.get("external_references", []) if r.get("source_name", "").startswith("mitre") and r.get("external_id"))
    return out


def test_coverage_workbook_has_one_row_per_live_technique(mirror, workspace, default_tables):
    from openpyxl import load_workbook

    live = set()
    for domain in workspace.domains:
        live |= _live_techniques_in_bundle(mirror / "attack" / f"{domain}-attack-18.1.json.gz")
    rows = sheet_rows(default_tables / "coverage.xlsx", "techniques")
    ids = [r[1] for r in rows[1:]]
    assert len(ids) == len(set(ids)) == len(live) > 850
    assert set(ids) == live

    rec = as_dicts(rows)
    t1046 = next(r for r in rec if r["ATT&CK ID"] == "T1046")
    assert t1046["Controls: nist_800_53"] == 11 and t1046["Coverage Class"] in {"controls and detections", "controls only"}
    assert all(r["Controls"] == sum(v for k, v in r.items() if k.startswith("Controls: ")) for r in rec)

    wb = load_workbook(default_tables / "coverage.xlsx")
    ws = wb["techniques"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{len(rows)}"
    colours = {"controls and detections": "1A9850", "controls only": "4575B4", "detections only": "FDAE61", "neither (gap)": "D73027"}
    klass_col = rows[0].index("Coverage Class") + 1
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(r, klass_col)
        assert cell.fill.fgColor.rgb == "FF" + colours[cell.value]
    matrix = wb["matrix enterprise"]
    assert [c.value for c in matrix[1]][:3] == ["Reconnaissance", "Resource Development", "Initial Access"]
    by_id = {r["ATT&CK ID"]: r["Coverage Class"] for r in rec}
    cells = [c for row in matrix.iter_rows(min_row=2) for c in row if c.value]
    assert cells and all(c.fill.fgColor.rgb == "FF" + colours[by_id[c.value.split()[0]]] for c in cells)


def test_two_renders_are_byte_identical(workspace, default_tables, tmp_path):
    again = _render(workspace, tmp_path)
    first = sorted(p.relative_to(default_tables) for p in default_tables.rglob("*") if p.is_file())
    second = sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert first == second and len(first) > 40
    for rel in first:
        assert (default_tables / rel).read_bytes() == (again / rel).read_bytes(), rel


# --- A hostile table: text that a spreadsheet would run -------------------------------------

SOURCES = """
[attack]
mirror = "attack/{domain}-attack-{version}.json"
url_stix20 = "https://example.org/{domain}/{version}.json"
url_stix21 = "https://example.org/{domain}/{version}.json"
releases = [{ domain = "enterprise", version = "18.1", stix = "2.0" }]

[[source]]
id = "hostile/mapex"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/hostile.json"
mirror = "mappings/hostile.json"
framework = "nist_800_53"
framework_version = "rev5"
domain = "enterprise"
attack_version = "18.1"

[[source]]
id = "hostile/catalog"
kind = "catalog"
format = "nist-controls-tsv"
url = "https://example.org/cat.tsv"
mirror = "mappings/cat.tsv"
framework = "nist_800_53"
framework_version = "rev5"
"""

HOSTILE = ['=HYPERLINK("http://example.org/x","click")', "+1+1", "-2+3", "@SUM(1,2)", "=cmd|' /C calc'!A0"]


def test_hostile_text_stays_text_in_xlsx_and_csv(tmp_path, mirror):
    from openpyxl import load_workbook

    root = tmp_path / "mirror"
    (root / "mappings").mkdir(parents=True)
    (root / "attack").symlink_to(mirror / "attack", target_is_directory=True)
    meta = {"attack_version": "18.1", "technology_domain": "enterprise", "mapping_framework": "nist_800_53",
            "mapping_framework_version": "rev5", "mapping_version": "1", "creation_date": "01/02/2024",
            "mapping_types": {"mitigates": {"name": "mitigates", "description": ""}}, "capability_groups": {"AC": "Access Control"}}
    objects = [
        {"capability_id": "AC-4", "capability_group": "AC", "capability_description": HOSTILE[0], "attack_object_id": "T1046",
         "attack_object_name": "Network Service Discovery", "references": [], "mapping_type": "mitigates", "status": "complete",
         "comments": HOSTILE[1]},
        {"capability_id": "AC-3", "capability_group": "AC", "capability_description": HOSTILE[2], "attack_object_id": "T1190",
         "attack_object_name": "Exploit Public-Facing Application", "references": [HOSTILE[3]], "mapping_type": "mitigates",
         "status": "complete"},
    ]
    (root / "mappings" / "hostile.json").write_text(json.dumps({"metadata": meta, "mapping_objects": objects}))
    (root / "mappings" / "cat.tsv").write_text(
        "Control Identifier\tControl (or Control Enhancement) Name\tControl (or Control Enhancement)\tDiscussion\tRelated Controls\n"
        f"AC-4\tInformation Flow Enforcement\t{HOSTILE[4]}\t\t\n"
        "AC-3\tAccess Enforcement\tEnforce approved authorizations.\t\t\n"
    )
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES)
    ws = Workspace.open(load_config(sources), root, "18.1", ("enterprise",))
    out = _render(ws, tmp_path / "out") / "enterprise"

    book = out / "nist_800_53--rev5.xlsx"
    with zipfile.ZipFile(book) as zf:
        xml = b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml and b"<f " not in xml
    wb = load_workbook(book)
    texts = {}
    for ws_ in wb.worksheets:
        for row in ws_.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value in HOSTILE:
                    assert c.data_type == "s" and c.quotePrefix, (ws_.title, c.coordinate)
                    texts[c.value] = c
    assert set(texts) == set(HOSTILE)  # descriptions, comments, references and the catalogue's text

    rows = csv_rows(out / "nist_800_53--rev5.csv")
    header = rows[0]
    desc = [r[header.index("Capability Description")] for r in rows[1:]]
    assert desc == ["'" + HOSTILE[0], "'" + HOSTILE[2]]
    assert [r[header.index("Comments")] for r in rows[1:]] == ["'" + HOSTILE[1], ""]
    assert all(not cell or cell[0] not in "=+-@\t\r" for r in rows for cell in r)

    doc = orjson.loads((out / "nist_800_53--rev5.json").read_bytes())  # data formats keep the text as published
    assert [o["capability_description"] for o in doc["mapping_objects"]] == [HOSTILE[0], HOSTILE[2]]
