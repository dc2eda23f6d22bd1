"""`attack-pipeline excel`: ATT&CK releases as workbooks, checked against the bundle
itself (counts derived here from the raw JSON, not from our reader)."""

from __future__ import annotations

import gzip
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import stix_factory as f
from pipeline.cli import cli
from pipeline.excel.workbook import write_release

LIVE_TYPES = {
    "attack-pattern", "x-mitre-tactic", "course-of-action", "intrusion-set", "malware", "tool", "campaign",
    "x-mitre-data-source", "x-mitre-data-component", "x-mitre-detection-strategy", "x-mitre-analytic", "x-mitre-asset",
}  # fmt: skip
_FORMULA_ELEMENT = re.compile(rb"<f[\s>/]")


def read_sheet(path: Path, name: str) -> tuple[tuple, list[dict]]:
    ws = openpyxl.load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    return header, [dict(zip(header, r)) for r in rows[1:]]


def is_live(obj: dict) -> bool:
    return not obj.get("revoked") and not obj.get("x_mitre_deprecated")


def mitre_id(obj: dict) -> str:
    for ref in obj.get("external_references", []):
        if ref.get("source_name") == "mitre-attack" and ref.get("external_id"):
            return ref["external_id"]
    return ""


@pytest.fixture(scope="module")
def bundle_18(mirror) -> list[dict]:
    path = mirror / "attack" / "enterprise-attack-18.1.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))["objects"]


@pytest.fixture(scope="module")
def enterprise_books(release_cache, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("excel")
    write_release(release_cache("enterprise", "18.1"), out)
    return out / "enterprise-attack-v18.1"


def test_techniques_sheet_has_one_row_per_live_technique(enterprise_books, bundle_18):
    live = {mitre_id(o): o for o in bundle_18 if o["type"] == "attack-pattern" and is_live(o)}
    header, rows = read_sheet(enterprise_books / "enterprise-attack-v18.1.xlsx", "techniques")
    assert len(rows) == len(live)
    assert sorted(r["ID"] for r in rows) == sorted(live)
    assert {r["STIX ID"] for r in rows} == {o["id"] for o in live.values()}
    # The per-type workbook carries the same sheet.
    _, again = read_sheet(enterprise_books / "enterprise-attack-v18.1-techniques.xlsx", "techniques")
    assert again == rows


def test_relationships_sheet_covers_every_relationship_between_live_objects(enterprise_books, bundle_18):
    objects = {o["id"]: o for o in bundle_18 if o["type"] in LIVE_TYPES}
    expected = {
        o["id"]
        for o in bundle_18
        if o["type"] == "relationship"
        and is_live(o)
        and o["relationship_type"] not in ("subtechnique-of", "revoked-by")
        and o["source_ref"] in objects and is_live(objects[o["source_ref"]])
        and o["target_ref"] in objects and is_live(objects[o["target_ref"]])
    }  # fmt: skip
    book = enterprise_books / "enterprise-attack-v18.1.xlsx"
    _, rows = read_sheet(book, "relationships")
    assert len(rows) == len(expected)
    assert {r["STIX ID"] for r in rows} == expected
    # Every relationship sheet of a per-type workbook is a part of it.
    by_id = {r["STIX ID"]: r for r in rows}
    for name, sheet in [("techniques", "procedure examples"), ("techniques", "associated mitigations"),
                        ("groups", "techniques used"), ("mitigations", "techniques addressed")]:  # fmt: skip
        _, part = read_sheet(enterprise_books / f"enterprise-attack-v18.1-{name}.xlsx", sheet)
        assert part and all(by_id[r["STIX ID"]] == r for r in part), (name, sheet)
    mitigates = sum(1 for r in rows if r["mapping type"] == "mitigates")
    _, addressed = read_sheet(enterprise_books / "enterprise-attack-v18.1-mitigations.xlsx", "techniques addressed")
    assert len(addressed) == mitigates


def test_t1046_row(enterprise_books, bundle_18):
    raw = next(o for o in bundle_18 if o["type"] == "attack-pattern" and mitre_id(o) == "T1046")
    tactic_names = {o["x_mitre_shortname"]: o["name"] for o in bundle_18 if o["type"] == "x-mitre-tactic"}
    _, rows = read_sheet(enterprise_books / "enterprise-attack-v18.1.xlsx", "techniques")
    row = next(r for r in rows if r["ID"] == "T1046")
    assert row["name"] == "Network Service Discovery"
    assert row["STIX ID"] == raw["id"]
    assert row["description"] == raw["description"]
    assert row["url"] == "https://attack.mitre.org/techniques/T1046"
    assert row["tactics"] == ", ".join(sorted(tactic_names[p["phase_name"]] for p in raw["kill_chain_phases"]))
    assert row["platforms"] == ", ".join(sorted(raw["x_mitre_platforms"]))
    assert row["is sub-technique"] is False and row["sub-technique of"] is None
    assert row["version"] == raw["x_mitre_version"]
    year, month, day = raw["created"][:10].split("-")
    assert row["created"].endswith(year) and row["created"].startswith(day)
    assert row["domain"] == "enterprise-attack"
    # Sub-techniques are named after their parent, as attackToExcel names them.
    sub = next(r for r in rows if r["ID"] == "T1003.001")
    assert sub["name"] == "OS Credential Dumping: LSASS Memory" and sub["sub-technique of"] == "T1003"
    # Its procedure examples are the `uses` relationships that point at it.
    uses = sum(
        1 for o in bundle_18
        if o["type"] == "relationship" and is_live(o) and o["relationship_type"] == "uses" and o["target_ref"] == raw["id"]
        and any(s["id"] == o["source_ref"] and is_live(s) for s in bundle_18 if s["type"] in ("intrusion-set", "malware", "tool", "campaign"))
    )  # fmt: skip
    _, examples = read_sheet(enterprise_books / "enterprise-attack-v18.1-techniques.xlsx", "procedure examples")
    assert sum(1 for r in examples if r["target ID"] == "T1046") == uses > 0


def test_release_workbook_sheets_and_safety(enterprise_books):
    book = enterprise_books / "enterprise-attack-v18.1.xlsx"
    wb = openpyxl.load_workbook(book, read_only=True)
    # attackToExcel's sheets, in its order.
    assert wb.sheetnames == [
        "techniques", "tactics", "software", "groups", "campaigns", "mitigations", "Enterprise ATT&CK matrix",
        "relationships", "datacomponents", "analytics", "detectionstrategies", "defensive mappings", "citations",
    ]  # fmt: skip
    with zipfile.ZipFile(book) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert not _FORMULA_ELEMENT.search(zf.read(name)), name
    files = sorted(p.name.removeprefix("enterprise-attack-v18.1") for p in enterprise_books.glob("*.xlsx"))
    assert files == [
        "-analytics.xlsx", "-campaigns.xlsx", "-datacomponents.xlsx", "-detectionstrategies.xlsx", "-groups.xlsx",
        "-matrices.xlsx", "-mitigations.xlsx", "-relationships.xlsx", "-software.xlsx", "-tactics.xlsx",
        "-techniques.xlsx", ".xlsx",
    ]  # fmt: skip


def test_matrix_has_every_live_parent_technique_under_its_tactics(enterprise_books, release_cache):
    release = release_cache("enterprise", "18.1")
    wb = openpyxl.load_workbook(enterprise_books / "enterprise-attack-v18.1-matrices.xlsx")
    ws = wb["Enterprise ATT&CK matrix"]
    header = [c.value for c in ws[1]]
    tactic_names = [release.get(f"tactic:{t}").name for t in release.tactics]
    assert [h for h in header if h] == tactic_names
    for tactic in release.tactics:
        col = header.index(release.get(f"tactic:{tactic}").name) + 1
        names = [ws.cell(row=r, column=col).value for r in range(2, ws.max_row + 1)]
        parents = sorted(t.name for t in release.of_kind("technique") if tactic in t.tactics and not t.parent)
        assert [n for n in names if n] == parents
    assert ws.merged_cells.ranges  # tactic headers over their sub-technique columns


def test_two_runs_give_identical_files(release_cache, tmp_path):
    release = release_cache("ics", "18.1")
    first = write_release(release, tmp_path / "a")
    second = write_release(release, tmp_path / "b")
    assert [r.path.name for r in first] == [r.path.name for r in second]
    assert len(first) > 5
    for a, b in zip(first, second):
        assert a.path.read_bytes() == b.path.read_bytes(), a.path.name
    assets = read_sheet(tmp_path / "a" / "ics-attack-v18.1" / "ics-attack-v18.1.xlsx", "assets")[1]
    assert len(assets) == len(release.of_kind("asset")) > 0


def test_release_before_v18_has_a_datasources_sheet(release_cache, tmp_path):
    release = release_cache("enterprise", "10.1")
    write_release(release, tmp_path, per_type=False)
    books = list((tmp_path / "enterprise-attack-v10.1").glob("*.xlsx"))
    assert [b.name for b in books] == ["enterprise-attack-v10.1.xlsx"]
    wb = openpyxl.load_workbook(books[0], read_only=True)
    assert "datasources" in wb.sheetnames and "detectionstrategies" not in wb.sheetnames
    _, rows = read_sheet(books[0], "datasources")
    live = len(release.of_kind("datasource")) + len(release.of_kind("datacomponent"))
    assert len(rows) == live and {r["type"] for r in rows} == {"datasource", "datacomponent"}


# --- the command ---------------------------------------------------------------------


@pytest.fixture
def run():
    def invoke(*args):
        return CliRunner().invoke(cli, list(args), env={}, catch_exceptions=False)

    return invoke


@pytest.fixture
def hostile_mirror(tmp_path):
    """A small release whose names and descriptions try to be formulas."""
    doc = f.small_bundle()
    for obj in doc["objects"]:
        if obj.get("name") == "Network Service Discovery":
            obj["description"] = "=HYPERLINK(\"http://evil.example\",\"x\")"
            obj["x_mitre_contributors"] = ["+cmd|' /C calc'!A0", "@SUM(1)"]
        if obj["type"] == "course-of-action":
            obj["name"] = "-2+3 Segmentation"
    mirror = tmp_path / "mirror"
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", doc, gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "99.0")])
    return ["--mirror", str(mirror), "--sources", str(sources)]


def test_cli_writes_workbooks_with_hostile_text_as_text(run, hostile_mirror, tmp_path):
    out = tmp_path / "out"
    r = run("excel", *hostile_mirror, "--out", str(out))
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("enterprise 99.0: ")
    folder = out / "enterprise-attack-v99.0"
    book = folder / "enterprise-attack-v99.0.xlsx"
    _, rows = read_sheet(book, "techniques")
    t1046 = next(row for row in rows if row["ID"] == "T1046")
    assert t1046["description"] == "=HYPERLINK(\"http://evil.example\",\"x\")"
    assert t1046["contributors"] == "+cmd|' /C calc'!A0; @SUM(1)"
    ws = openpyxl.load_workbook(book)["techniques"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert len(cells) == 2 and all(c.data_type == "s" and c.quotePrefix for c in cells)
    _, mitigations = read_sheet(book, "mitigations")
    assert mitigations[0]["name"] == "-2+3 Segmentation"
    for path in folder.glob("*.xlsx"):
        with zipfile.ZipFile(path) as zf:
            assert not any(_FORMULA_ELEMENT.search(zf.read(n)) for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_cli_no_per_type_and_rerun_is_identical(run, hostile_mirror, tmp_path):
    out = tmp_path / "out"
    assert run("excel", *hostile_mirror, "--out", str(out), "--no-per-type").exit_code == 0
    files = list((out / "enterprise-attack-v99.0").iterdir())
    assert [p.name for p in files] == ["enterprise-attack-v99.0.xlsx"]
    before = files[0].read_bytes()
    assert run("excel", *hostile_mirror, "--out", str(out), "--no-per-type").exit_code == 0
    assert files[0].read_bytes() == before


def test_cli_help_and_usage_errors(run, hostile_mirror, tmp_path):
    r = run("excel", "--help")
    assert r.exit_code == 0 and "--out" in r.stdout and "attackToExcel" in r.stdout
    r = run("excel", *hostile_mirror)
    assert r.exit_code == 2 and "Missing option '--out'" in r.stderr
    r = run("excel", *hostile_mirror, "--out", str(tmp_path), "--domain", "pre")
    assert r.exit_code == 2


def test_cli_unwritable_out_is_one_line_exit_1(run, hostile_mirror, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    r = run("excel", *hostile_mirror, "--out", str(blocker / "sub"))
    assert r.exit_code == 1
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"error: {blocker / 'sub'}") and "cannot write" in r.stderr


def test_cli_bad_bundle_is_one_line_exit_1(run, hostile_mirror, tmp_path):
    (tmp_path / "mirror" / "attack" / "enterprise-attack-99.0.json.gz").write_bytes(b"{broken")
    r = run("excel", *hostile_mirror, "--out", str(tmp_path / "out"))
    assert r.exit_code == 1 and r.stderr.count("\n") == 1 and "not valid JSON" in r.stderr
    assert not (tmp_path / "out").exists()


# --- the record fields the sheets need ------------------------------------------------


def test_ingest_keeps_dates_contributors_references_and_extras(tmp_path):
    from pipeline.ingest.attack import read_attack_release
    from pipeline.model.attack import ExternalReference, RelatedAsset

    doc = f.small_bundle()
    objs = {o.get("name"): o for o in doc["objects"]}
    t = objs["Network Service Discovery"]
    t.update(
        created="2017-05-31T21:31:03.445Z",
        x_mitre_contributors=["B", "A"],
        x_mitre_remote_support=True,
        x_mitre_permissions_required=["User", "Administrator"],
    )
    t["external_references"] += [
        {"source_name": "Cite 1", "description": "A paper.", "url": "https://example.org/1"},
        "not a reference",
        {"description": "no source name"},
        {"source_name": "capec", "external_id": "CAPEC-300"},
    ]
    rel = next(o for o in doc["objects"] if o.get("relationship_type") == "mitigates")
    rel.update(created="2020-01-02T00:00:00.000Z", modified="2021-03-04T00:00:00.000Z",
               external_references=[{"source_name": "Cite 2", "description": "Another."}])  # fmt: skip
    doc["objects"].append({
        "type": "x-mitre-asset", "id": f.sid("x-mitre-asset", "A0001"), "name": "Workstation",
        "external_references": f.ref("A0001", "assets"), "x_mitre_sectors": ["General"],
        "x_mitre_related_assets": [{"name": "Laptop", "related_asset_sectors": ["General"], "description": "d"}, 7],
    })  # fmt: skip
    path = f.write(tmp_path / "b.json", doc)
    release = read_attack_release(path, domain="enterprise", version="99.0")
    tech = release.get("technique:T1046")
    assert tech.created == "2017-05-31T21:31:03.445Z" and tech.contributors == ("B", "A")
    assert tech.remote_support is True and tech.permissions_required == ("User", "Administrator")
    assert [r.source_name for r in tech.references] == ["mitre-attack", "Cite 1", "capec"]
    assert tech.references[1] == ExternalReference("Cite 1", "", "A paper.", "https://example.org/1")
    mitigates = next(r for r in release.relationships if r.relation == "mitigates")
    assert (mitigates.created, mitigates.modified) == ("2020-01-02T00:00:00.000Z", "2021-03-04T00:00:00.000Z")
    assert mitigates.references == (ExternalReference("Cite 2", description="Another."),)
    assert release.get("asset:A0001").related_assets == (RelatedAsset("Laptop", ("General",), "d"),)
    assert release.get("technique:T1003").remote_support is None
