"""The control side on the real mapping tables of the offline mirror.

Expected numbers are counted here, independently of the adapters (straight from the
JSON, YAML, TSV and xlsx files), or taken from the seed page.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter
from pathlib import Path

import orjson
import pytest
import yaml

from pipeline.reconcile.controls import ControlSet, catalog, reconcile_source, release_index
from pipeline.fetch import resolve
from pipeline.graph import query
from pipeline.graph.build import build_graph
from pipeline.graph.controls import add_controls
from pipeline.graph.views import technique_view
from pipeline.ingest.mappings import CATALOG_FORMATS, MAPPING_FORMATS
from pipeline.model.vocabulary import normalise_kind
from pipeline.reconcile.mappings import report

from pipeline.core.config import load_config

from seed_mappings import SEED_AZURE_SCORES, parse_seed
from testpaths import AZURE_2021, AZURE_2025, SOURCES

pytestmark = pytest.mark.realdata



def sources_of(config, fmt: str) -> list:
    return [s for s in config.sources if s.kind == "mapping" and s.format == fmt]


def ids(fmt: str) -> list[str]:
    """Source ids of one format, for parametrising (read when the module is collected)."""
    return [s.id for s in sources_of(load_config(SOURCES), fmt)]


# --- The sources file -------------------------------------------------------------------


def test_every_mapping_and_catalogue_format_has_an_adapter(config):
    formats = {s.format for s in config.sources if s.kind == "mapping"}
    assert formats <= set(MAPPING_FORMATS)
    assert {s.format for s in config.sources if s.kind == "catalog"} <= set(CATALOG_FORMATS)


def test_one_enabled_table_per_framework_and_domain(config):
    enabled = Counter((s.framework, s.domain) for s in config.enabled("mapping"))
    assert enabled and all(n == 1 for n in enabled.values()), enabled


def test_every_mapping_file_of_the_mirror_is_a_source(config, mirror):
    listed = {s.mirror_path for s in config.sources if s.kind in ("mapping", "catalog")}
    for path in (mirror / "mappings").rglob("*"):
        rel = path.relative_to(mirror).as_posix()
        if path.suffix in (".json", ".tsv", ".xlsx") and "schema" not in path.name and "/docs/" not in rel:
            assert rel in listed, rel
    stack = {s.mirror_path for s in sources_of(config, "security-stack-yaml")}
    assert stack == {f"mappings/security-stack/{p}" for p in ("Azure", "AWS", "GCP")}


# --- Row counts, counted from the files ----------------------------------------------------


def _valid_mapex_row(o: dict) -> bool:
    if o.get("status") == "non_mappable" or o.get("mapping_type") == "non_mappable":
        return True
    if not o.get("capability_id") or not o.get("attack_object_id"):
        return False
    return not (o.get("mapping_type") in ("technique_scores", "technique_score") and not o.get("score_category"))


@pytest.mark.parametrize("source_id", ids("mapex-json"))
def test_mapex_row_counts(workspace, mirror, source_id):
    source = workspace.config.source(source_id)
    objects = json.loads(resolve(source, mirror).path.read_bytes())["mapping_objects"]
    distinct_valid = {json.dumps(o, sort_keys=True) for o in objects if _valid_mapex_row(o)}
    rt = reconcile_source(workspace, source)
    assert rt.table.rows == len(objects)
    assert len(rt.table.mappings) == len(distinct_valid)
    assert len(rt.remapped) == len(rt.table.mappings)
    duplicates = len([o for o in objects if _valid_mapex_row(o)]) - len(distinct_valid)
    assert sum(1 for i in rt.table.issues if i.code == "duplicate-row") == duplicates


def _yaml_rows(folder: Path) -> tuple[int, Counter]:
    """(rows, (capability, technique, category, value) counts) straight from the YAML."""
    rows, keys = 0, Counter()
    for path in folder.iterdir():
        doc = yaml.safe_load(path.read_text()) if path.stat().st_size else None
        if not doc:
            continue
        cap = doc["name"].lower().replace(" ", "_")
        if not doc.get("techniques"):
            rows += 1
            continue
        for t in doc["techniques"]:
            for s in t["technique-scores"]:
                rows += 1
                keys[(cap, t["id"], s["category"].lower(), s["value"].lower())] += 1
            for block in t.get("sub-techniques-scores") or ():
                for sub in block["sub-techniques"]:
                    for s in block["scores"]:
                        rows += 1
                        keys[(cap, sub["id"], s["category"].lower(), s["value"].lower())] += 1
    return rows, keys


@pytest.mark.parametrize("source_id", ["security-stack/azure", "security-stack/aws", "security-stack/gcp"])
def test_security_stack_row_counts(workspace, mirror, source_id):
    source = workspace.config.source(source_id)
    rows, keys = _yaml_rows(resolve(source, mirror).path)
    rt = reconcile_source(workspace, source)
    assert rt.table.rows == len(rt.table.mappings) == rows
    got = Counter((m.subject_id, m.technique_id, m.score_category, m.score_value) for m in rt.table.mappings if m.status == "complete")
    assert got == keys


def test_security_stack_azure_is_the_mappings_explorer_2021_table(workspace):
    stack = reconcile_source(workspace, workspace.config.source("security-stack/azure")).table
    mapex = reconcile_source(workspace, workspace.config.source(AZURE_2021)).table
    key = lambda m: (m.subject_id, m.technique_id, m.score_category, m.score_value, m.related_score, " ".join(m.comments.split()))  # noqa: E731
    assert Counter(map(key, stack.mappings)) == Counter(map(key, mapex.mappings))


def test_empty_security_stack_file_is_reported(workspace):
    rt = reconcile_source(workspace, workspace.config.source("security-stack/gcp"))
    assert [(i.code, i.file) for i in rt.table.issues] == [("empty-file", "mappings/security-stack/GCP/TerraformGoogle")]


def _tsv_lines(path: Path) -> list[tuple[str, ...]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    return [tuple(c.strip() for c in r[:5]) for r in rows[1:] if any(c.strip() for c in r)]


@pytest.mark.parametrize("source_id", ids("nist-mappings-tsv"))
def test_nist_tsv_row_counts(workspace, mirror, source_id):
    source = workspace.config.source(source_id)
    lines = _tsv_lines(resolve(source, mirror).path)
    rt = reconcile_source(workspace, source)
    assert rt.table.rows == len(lines)
    assert sum(1 for i in rt.table.issues if i.code == "duplicate-row") == len(lines) - len(set(lines))
    if "12.1" in source_id:  # literal ids: one mapping per distinct line
        assert len(rt.table.mappings) == len(set(lines))
    else:  # every distinct line expands to at least one mapping
        assert len({m.row for m in rt.table.mappings}) == len(set(lines))


def test_nist_xlsx_row_count_and_same_pairs_as_the_tsv(workspace, mirror):
    from openpyxl import load_workbook

    source = workspace.config.source("nist-800-53/rev5/attack-12.1/xlsx")
    wb = load_workbook(resolve(source, mirror).path, read_only=True)
    data_rows = sum(1 for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True) if any(row))
    wb.close()
    xlsx = reconcile_source(workspace, source).table
    tsv = reconcile_source(workspace, workspace.config.source("nist-800-53/rev5/attack-12.1/tsv")).table
    assert xlsx.rows == len(xlsx.mappings) == data_rows
    assert {(m.subject_id, m.technique_id) for m in xlsx.mappings} == {(m.subject_id, m.technique_id) for m in tsv.mappings}


@pytest.mark.parametrize("revision", ["rev4", "rev5"])
def test_catalogues_match_the_stix_bundles(workspace, mirror, revision):
    cat = catalog(workspace, "nist_800_53", revision)
    source = workspace.config.source(f"nist-800-53/{revision}/attack-12.1/stix")
    bundle = json.loads(resolve(source, mirror).path.read_bytes())
    stix_ids = {o["external_references"][0]["external_id"].replace(" ", "") for o in bundle["objects"] if o["type"] == "course-of-action"}
    assert set(cat.controls) == stix_ids and not cat.issues
    assert cat.controls["AC-2(1)"].parent == "AC-2" and cat.controls["AC-4"].text


# --- Regular expressions of the 8.2–10.1 tables -------------------------------------------------


def test_a_regex_row_expands_to_the_expected_set(workspace, mirror):
    source = workspace.config.source("nist-800-53/rev5/attack-8.2/tsv")
    row = next(i + 2 for i, line in enumerate(_tsv_lines(resolve(source, mirror).path)) if line[2] == r"T1003(\.006|\.005)?")
    rt = reconcile_source(workspace, source)
    pairs = {(m.subject_id, m.technique_id) for m in rt.table.mappings if m.row == f"line {row}"}
    controls = ("AC-2", "AC-4", "AC-5", "AC-6", "IA-2", "IA-4", "IA-5", "CM-2", "CM-6")
    assert pairs == {(c, t) for c in controls for t in ("T1003", "T1003.005", "T1003.006")}


def _original_expansion(pattern: str, universe) -> set[str]:
    """attack-control-framework-mappings' own rule: `^` + pattern + `$`, then re.match."""
    p = pattern.strip()
    p = ("" if p.startswith("^") else "^") + p + ("" if p.endswith("$") else "$")
    rx = re.compile(p)
    return {i for i in universe if rx.match(i)}


@pytest.mark.parametrize("revision", ["rev4", "rev5"])
@pytest.mark.parametrize("version", ["8.2", "9.0", "10.1"])
def test_regex_expansion_matches_mappings_explorer(workspace, mirror, revision, version):
    tsv_source = workspace.config.source(f"nist-800-53/{revision}/attack-{version}/tsv")
    ours = {(m.subject_id, m.technique_id) for m in reconcile_source(workspace, tsv_source).table.mappings}
    mapex = reconcile_source(workspace, workspace.config.source(f"mapex/nist_800_53-{revision}/attack-{version}/enterprise")).table
    theirs = {(m.subject_id, m.technique_id) for m in mapex.mappings}
    # Mappings Explorer was generated with the rule above, under which a top-level `|`
    # leaves one alternative anchored at the start only (`^(A|AC-2)|CM-6$` matches
    # AC-20). Ids are matched whole here; the difference must be exactly those pairs.
    techniques = release_index(workspace, "enterprise", version).live_ids()
    # Mappings Explorer lists base controls only (no enhancement such as AC-2(1)).
    controls = [c for c in catalog(workspace, "nist_800_53", revision).controls if "(" not in c]
    original = set()
    for line in _tsv_lines(resolve(tsv_source, mirror).path):
        tech, ctrl = line[2], line[3]
        original |= {(c, t) for c in _original_expansion(ctrl, controls) for t in _original_expansion(tech, techniques)}
    assert original == theirs
    assert ours <= theirs
    for control, technique in theirs - ours:
        assert any(
            re.fullmatch(r"[A-Z]{2}-\d+", c) and control.startswith(c) and control != c for c, t in ours if t == technique
        ), (control, technique)


# --- Reconciliation ------------------------------------------------------------------------------


def _revocations_18_1(mirror: Path) -> dict[str, str]:
    """Revoked technique id → where its revoked-by chain ends, read from the raw bundle."""
    objects = orjson.loads(gzip.decompress((mirror / "attack" / "enterprise-attack-18.1.json.gz").read_bytes()))["objects"]
    attack_id = {}
    for o in objects:
        for ref in o.get("external_references", ()):
            if ref.get("source_name") == "mitre-attack" and o["type"] == "attack-pattern":
                attack_id[o["id"]] = ref["external_id"]
    revoked = {o["id"] for o in objects if o["type"] == "attack-pattern" and o.get("revoked")}
    by = {o["source_ref"]: o["target_ref"] for o in objects if o["type"] == "relationship" and o["relationship_type"] == "revoked-by"}
    out = {}
    for sid in revoked:
        cur = sid
        while cur in revoked and cur in by:
            cur = by[cur]
        if cur not in revoked:
            out[attack_id[sid]] = attack_id[cur]
    return out


def test_azure_2021_table_reconciled_to_18_1(workspace, mirror):
    source = workspace.config.source(AZURE_2021)
    raw = json.loads(resolve(source, mirror).path.read_bytes())["mapping_objects"]
    revocations = _revocations_18_1(mirror)
    expected = {o["attack_object_id"]: revocations[o["attack_object_id"]] for o in raw if o["attack_object_id"] in revocations}
    assert expected, "the 2021 Azure table names techniques revoked in 18.1"
    rt = reconcile_source(workspace, source)
    for r in rt.remapped:
        if r.mapping.technique_id in expected:
            assert (r.status, r.technique_id) == ("revoked", expected[r.mapping.technique_id])
            assert r.in_coverage
        else:
            assert r.status != "revoked"
    rep = report(rt)
    assert {r["technique"]: r["target"] for r in rep["revoked"]} == expected
    assert rep["name_check"] == {"declared": "8.2", "release": "8.2", "fallback": False, "note": ""}
    assert any(r["technique"] == "T1046" and r["name"] == "Network Service Discovery" for r in rep["renamed"])


@pytest.mark.parametrize(
    ("source_id", "declared", "used"),
    [
        ("mapex/csa_ccm-4.1/attack-17.1/enterprise", "17.1", "16.1"),
        ("mapex/gcp-06.28.2022/attack-10.0/enterprise", "10.0", "10.1"),
        ("security-stack/gcp", "10.0", "10.1"),
        ("mapex/kev-02.13.2025/attack-15.1/mobile", "15.1", "18.1"),
    ],
)
def test_name_check_falls_back_to_the_nearest_release(workspace, source_id, declared, used):
    rep = report(reconcile_source(workspace, workspace.config.source(source_id)))
    nc = rep["name_check"]
    assert (nc["declared"], nc["release"], nc["fallback"]) == (declared, used, True)
    assert f"{declared} is not in the sources" in nc["note"] and used in nc["note"]


def test_names_are_checked_against_the_declared_release(workspace):
    # The 2024 AWS table declares 16.1 but kept older names.
    rep = report(reconcile_source(workspace, workspace.config.source("mapex/aws-12.12.2024/attack-16.1/enterprise")))
    t1046 = [m for m in rep["name_mismatches"] if m["technique"] == "T1046"]
    assert [{k: v for k, v in m.items() if k != "rows"} for m in t1046] == [
        {"technique": "T1046", "published_name": "Network Service Scanning", "release_name": "Network Service Discovery",
         "problem": "ATT&CK 16.1 calls it 'Network Service Discovery'", "mappings": 6}
    ]
    assert len(t1046[0]["rows"]) == 6 and all(r.startswith("mapping_objects[") for r in t1046[0]["rows"])


def test_padded_and_plain_nist_ids_are_one_control_node(workspace):
    plain = reconcile_source(workspace, workspace.config.source("mapex/nist_800_53-rev5/attack-12.1/enterprise"))
    padded = reconcile_source(workspace, workspace.config.source("mapex/nist_800_53-rev5/attack-14.1/enterprise"))
    assert "AC-4" in {m.original_subject_id for m in plain.table.mappings}
    assert "AC-04" in {m.original_subject_id for m in padded.table.mappings}
    g = build_graph(workspace.releases())
    add_controls(g, ControlSet(target_version="18.1", tables=(plain, padded), catalogs=(catalog(workspace, "nist_800_53", "rev5"),)))
    assert not [k for k in g if k.startswith("control:") and re.search(r"-0\d", k)]
    sources = {d["source"] for _, _, d in g.out_edges("control:nist_800_53/rev5:AC-4", data=True) if "source" in d}
    assert sources == {plain.table.source_id, padded.table.source_id}
    assert g.nodes["control:nist_800_53/rev5:AC-4"]["text"].startswith("Enforce approved authorizations")
    assert ("control:nist_800_53/rev5:AC-2(1)", "control:nist_800_53/rev5:AC-2") in g.edges()


# --- The seed: T1046 on the Mappings Explorer page ---------------------------------------------


RENAMED_IN_2025 = {
    "network_security_groups": "azure_network_security_groups",
    "azure_sentinel": "microsoft_sentinel",
    "azure_network_traffic_analytics": "azure_network_watcher_traffic_analytics",
}


def _t1046(ws) -> dict:
    g = ws.graph()
    return technique_view(g, query.technique(g, "T1046"))


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_seed_page_with_the_2021_azure_table(azure2021_workspace):
    seed = parse_seed()
    nist = [r for r in seed if r["type"] == "Protects"]
    azure = [r for r in seed if r["type"] == "technique_scores"]
    assert len(nist) == 11 and len(azure) == 6
    view = _t1046(azure2021_workspace)
    target_name = release_index(azure2021_workspace, "enterprise", "18.1").techniques["T1046"].name
    assert view["technique"]["name"] == target_name == "Network Service Discovery"

    entries = view["controls"]["nist_800_53"]
    assert sorted((e["id"], e["name"], e["kind"], e["framework_version"]) for e in entries) == sorted(
        (r["id"], r["description"], normalise_kind(r["type"].lower(), None), "rev5") for r in nist
    )
    assert all(r["technique"] == "T1046" for r in seed)

    got = sorted((e["id"], e["name"], e["kind"], e["score_category"], e["score_value"], _norm(e["comments"]), e["original"]["name"])
                 for e in view["controls"]["azure"])
    want = sorted((r["id"], r["description"], normalise_kind(r["type"], cat), cat, value, _norm(r["comments"]), r["name"])
                  for r, (cat, value) in zip(azure, SEED_AZURE_SCORES))
    assert got == want
    assert {e["source"] for e in view["controls"]["azure"]} == {AZURE_2021}


def test_seed_page_with_the_default_2025_azure_table(workspace):
    seed = parse_seed()
    view = _t1046(workspace)
    nist = view["controls"]["nist_800_53"]
    assert sorted(e["id"] for e in nist) == sorted(r["id"] for r in seed if r["type"] == "Protects")
    azure = view["controls"]["azure"]
    assert {e["source"] for e in azure} == {AZURE_2025}
    renamed = [(RENAMED_IN_2025.get(r["id"], r["id"]),) + score for r, score in zip([r for r in seed if r["type"] == "technique_scores"], SEED_AZURE_SCORES)]
    assert sorted((e["id"], e["score_category"], e["score_value"]) for e in azure) == sorted(renamed)
    assert all(e["comments"] and e["in_coverage"] for e in azure)


# --- The command line ----------------------------------------------------------------------------


def test_show_lists_controls_by_framework(mirror):
    from click.testing import CliRunner

    from pipeline.cli import cli

    result = CliRunner().invoke(cli, ["show", "T1046", "--mirror", str(mirror), "--domain", "enterprise"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "controls and capabilities (" in out
    assert re.search(r"^  nist_800_53 rev5 \(11\):$", out, re.M)
    assert re.search(r"^    AC-4 Information Flow Enforcement — mitigates$", out, re.M)
    assert re.search(r"^    azure_firewall Azure Firewall — protects \(partial\)$", out, re.M)


def test_reconcile_command(mirror):
    from click.testing import CliRunner

    from pipeline.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["reconcile", AZURE_2021, "--mirror", str(mirror), "--attack-version", "18.1"])
    assert result.exit_code == 0, result.output
    assert "ATT&CK 8.2 → 18.1; names checked against 8.2" in result.stdout
    assert re.search(r"^  revoked\s+\d+$", result.stdout, re.M)
    as_json = runner.invoke(cli, ["reconcile", AZURE_2021, "--mirror", str(mirror), "--json"])
    rep = json.loads(as_json.stdout)
    assert rep["source"] == AZURE_2021 and rep["mappings"] == sum(rep["status"].values())
    missing = runner.invoke(cli, ["reconcile", "no/such/source", "--mirror", str(mirror)])
    assert missing.exit_code == 1 and "no source 'no/such/source'" in missing.stderr
    catalog_source = runner.invoke(cli, ["reconcile", "nist-800-53/rev5/controls", "--mirror", str(mirror)])
    assert catalog_source.exit_code == 1 and "not a mapping table" in catalog_source.stderr


def test_build_writes_a_report_per_mapping_source(mirror, tmp_path, config):
    from click.testing import CliRunner

    from pipeline.cli import cli

    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "--mirror", str(mirror), "--domain", "enterprise", "--out", str(out)])
    assert result.exit_code == 0, result.output
    base = out / "reports" / "reconcile"
    index = json.loads((base / "index.json").read_text())
    mapping_ids = sorted(s.id for s in config.sources if s.kind == "mapping")
    assert index["skipped"] == []
    assert [s["source"] for s in index["sources"]] == mapping_ids
    for entry in index["sources"]:
        stem = entry["source"].replace("/", "--")
        rep = json.loads((base / f"{stem}.json").read_text())
        assert rep["rows"] == entry["rows"] and rep["target_attack_version"] == "18.1"
        md = (base / f"{stem}.md").read_text()
        assert md.startswith(f"# Reconciliation of `{entry['source']}`")
    csa = (base / "mapex--csa_ccm-4.1--attack-17.1--enterprise.md").read_text()
    assert "> ATT&CK enterprise 17.1 is not in the sources; names were checked against 16.1" in csa
    assert json.loads((out / "reports" / "reconcile" / "index.json").read_bytes()) == index  # stable JSON
    issues = json.loads((out / "reports" / "issues.json").read_text())
    assert any(i["code"] == "duplicate-row" for i in issues)


def test_release_index_cache_is_reused_and_equal(mirror, tmp_path):
    from pipeline.ingest.attack import read_attack_release
    from pipeline.reconcile.release_index import ReleaseIndex, cached_index

    path = mirror / "attack" / "enterprise-attack-8.2.json.gz"
    loads = []

    def load():
        loads.append(1)
        return read_attack_release(path, domain="enterprise", version="8.2")

    first = cached_index(path, "enterprise", "8.2", tmp_path, load)
    second = cached_index(path, "enterprise", "8.2", tmp_path, load)
    assert len(loads) == 1 and first == second == ReleaseIndex.of(load())
    assert first.techniques["T1046"].name == "Network Service Scanning" and "T1086" in first.revoked
    (entry,) = (tmp_path / "parsed" / "release-index").iterdir()
    entry.write_bytes(b"damaged")
    assert cached_index(path, "enterprise", "8.2", tmp_path, load) == first and len(loads) == 3
