"""The release diff on a small synthetic pair of bundles written here: classification,
technique facets, the golden Markdown, the layer, coverage impact and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import stix_factory as f
from pipeline.cli import cli
from pipeline.diff.attack import diff_releases, parse_version, version_section
from pipeline.diff.coverage import coverage_impact
from pipeline.diff.document import diff_document
from pipeline.diff.formats import layer, markdown
from pipeline.graph.build import build_graph
from pipeline.ingest.attack import read_attack_release

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "diff-small.md"
T0 = "2024-01-01T00:00:00.000Z"
T1 = "2025-06-01T00:00:00.000Z"


def v(obj: dict, version: str, modified: str = T0, **extra) -> dict:
    return obj | {"x_mitre_version": version, "modified": modified} | extra


def mitigation(attack_id: str, name: str, version: str, modified: str = T0) -> dict:
    return {
        "type": "course-of-action", "id": f.sid("course-of-action", attack_id), "name": name,
        "description": f"{name}.", "external_references": f.ref(attack_id, "mitigations"),
        "x_mitre_version": version, "modified": modified,
    }


def group(attack_id: str, name: str) -> dict:
    return {
        "type": "intrusion-set", "id": f.sid("intrusion-set", attack_id), "name": name,
        "external_references": f.ref(attack_id, "groups"), "x_mitre_version": "1.0", "modified": T0,
    }


def pair() -> tuple[dict, dict]:
    """OLD 1.0 and NEW 2.0: one object of each kind of change."""
    disc, cred, pers = (
        f.tactic("TA0007", "discovery", "Discovery"),
        f.tactic("TA0006", "credential-access", "Credential Access"),
        f.tactic("TA0003", "persistence", "Persistence"),
    )
    tactics = (f.matrix(pers, cred, disc), pers, cred, disc)
    t1003 = v(f.technique("T1003", "OS Credential Dumping", "credential-access"), "1.0")
    lsass = v(f.technique("T1003.001", "LSASS Memory", "credential-access"), "1.0")
    t1500 = v(f.technique("T1500", "Compile After Delivery", "discovery"), "1.0")
    t1600 = v(f.technique("T1600", "Weaken Encryption", "discovery"), "1.0")
    # T1700 becomes T1003.002 in place: same STIX id, new ATT&CK id and a parent.
    t1700 = v(f.technique("T1700", "Security Account Manager", "credential-access"), "1.0")
    t1046 = v(f.technique("T1046", "Network Service Scanning", "discovery"), "1.0")
    m1030 = mitigation("M1030", "Network Segmentation", "1.0")
    old = f.bundle(
        *tactics, t1003, lsass, t1500, t1600, t1700, t1046, m1030, group("G0001", "Axiom"),
        f.relationship("subtechnique-of", lsass, t1003),
        f.relationship("mitigates", m1030, t1046),
    )
    sam = t1700 | {
        "name": "Security Account Manager", "x_mitre_version": "2.0", "modified": T1,
        "external_references": f.ref("T1003.002"), "x_mitre_is_subtechnique": True,
    }
    t1800 = v(f.technique("T1800", "Cloud Service Discovery", "discovery"), "1.0", T1)
    new = f.bundle(
        *tactics,
        v(t1003, "1.1", T1, kill_chain_phases=[
            {"kill_chain_name": "mitre-attack", "phase_name": "credential-access"},
            {"kill_chain_name": "mitre-attack", "phase_name": "persistence"},
        ]),
        v(lsass, "1.0", T1),  # patch: same version, new modified date
        v(t1500, "1.0", T1, revoked=True),
        v(t1600, "1.1", T1, x_mitre_deprecated=True),
        sam,
        v(t1046, "2.0", T1, name="Network Service Discovery"),
        t1800,
        mitigation("M1030", "Network Segmentation", "1.1", T1),
        mitigation("M1040", "Behavior Prevention on Endpoint", "1.0", T1),
        f.relationship("subtechnique-of", lsass, t1003),
        f.relationship("subtechnique-of", sam, t1003),
        f.relationship("revoked-by", t1500, t1046),
        f.relationship("mitigates", m1030, t1046),
    )
    return old, new


@pytest.fixture
def releases(tmp_path):
    old, new = pair()
    a = read_attack_release(f.write(tmp_path / "old.json", old), domain="enterprise", version="1.0")
    b = read_attack_release(f.write(tmp_path / "new.json", new), domain="enterprise", version="2.0")
    return a, b


def ids(diff, kind, section):
    return [c.attack_id for c in diff.section(kind, section)]


def test_each_object_lands_in_one_section_in_diffstix_order(releases):
    d = diff_releases(*releases)
    assert ids(d, "technique", "additions") == ["T1800"]
    assert ids(d, "technique", "revocations") == ["T1500"]
    assert ids(d, "technique", "deprecations") == ["T1600"]  # version moved too, but deprecation wins
    assert ids(d, "technique", "major_version_changes") == ["T1003.002", "T1046"]
    assert ids(d, "technique", "minor_version_changes") == ["T1003"]
    assert ids(d, "technique", "patches") == ["T1003.001"]
    assert ids(d, "mitigation", "additions") == ["M1040"]
    assert ids(d, "mitigation", "minor_version_changes") == ["M1030"]
    assert ids(d, "group", "deletions") == ["G0001"]
    assert d.unchanged["tactic"] == 3
    revoked = d.section("technique", "revocations")[0]
    assert revoked.replacement_record.attack_id == "T1046"


def test_technique_facets_and_changed_fields(releases):
    d = diff_releases(*releases)
    assert [(r.attack_id, r.old_name, r.new_name) for r in d.renamed] == [("T1046", "Network Service Scanning", "Network Service Discovery")]
    assert [(m.attack_id, m.added, m.removed) for m in d.moved] == [("T1003", ("TA0003",), ())]
    assert [(c.old_attack_id, c.attack_id, c.direction, c.via) for c in d.conversions] == [
        ("T1700", "T1003.002", "to_subtechnique", "same object")
    ]
    sam = d.section("technique", "major_version_changes")[0]
    assert sam.field_names == ("attack_id", "parent")
    t1046 = d.section("technique", "major_version_changes")[1]
    assert [(x.field, x.old, x.new) for x in t1046.fields] == [("name", "Network Service Scanning", "Network Service Discovery")]


def test_conversion_through_a_revocation(tmp_path):
    """A technique revoked by a sub-technique is a conversion too."""
    disc = f.tactic("TA0007", "discovery", "Discovery")
    parent = f.technique("T1001", "Parent", "discovery")
    old_t = f.technique("T1002", "Standalone", "discovery")
    sub = f.technique("T1001.001", "Now A Sub", "discovery")
    old = f.bundle(f.matrix(disc), disc, parent, old_t)
    new = f.bundle(
        f.matrix(disc), disc, parent, old_t | {"revoked": True}, sub,
        f.relationship("subtechnique-of", sub, parent), f.relationship("revoked-by", old_t, sub),
    )
    a = read_attack_release(f.write(tmp_path / "a.json", old), domain="enterprise", version="1.0")
    b = read_attack_release(f.write(tmp_path / "b.json", new), domain="enterprise", version="2.0")
    d = diff_releases(a, b)
    assert [(c.old_attack_id, c.attack_id, c.direction, c.via) for c in d.conversions] == [
        ("T1002", "T1001.001", "to_subtechnique", "revocation")
    ]


@pytest.mark.parametrize(
    ("old", "new", "section"),
    [("1.2", "2.0", "major_version_changes"), ("1.2", "1.3", "minor_version_changes"), ("1.2", "1.4", "other_version_changes"),
     ("1.2", "3.0", "other_version_changes"), ("2.0", "1.9", "other_version_changes"), ("1.2", "1.2", None), ("", "1.0", "major_version_changes")],
)
def test_version_sections(old, new, section):
    assert version_section(old, new) == section


def test_markdown_matches_the_golden_file(releases, golden):
    d = diff_releases(*releases)
    cov = coverage_impact(d, build_graph([releases[0]]), build_graph([releases[1]]))
    golden.check("diff-small.md", markdown(diff_document(d, cov)))


def test_layer_colours_live_techniques_with_a_legend_per_colour(releases):
    d = diff_releases(*releases)
    lay = layer(d, build_graph([releases[1]]), "diff-1.0-2.0")
    entries = {(t["techniqueID"], t.get("tactic")): t for t in lay["techniques"]}
    # T1003 has two tactics in NEW: one entry per tactic; the others carry none.
    assert sorted(entries) == [
        ("T1003", "credential-access"), ("T1003", "persistence"), ("T1003.002", None), ("T1046", None), ("T1800", None)
    ]
    assert entries[("T1003.002", None)]["comment"] == "technique ↔ sub-technique conversion; major version change"
    assert entries[("T1046", None)]["comment"] == "replaces a revoked technique; renamed; major version change"
    legend = {i["color"] for i in lay["legendItems"]}
    assert legend == {t["color"] for t in lay["techniques"]}
    assert lay["versions"] == {"layer": "4.5", "navigator": "5.1.0", "attack": "2"}
    assert "1 deprecated or unreplaced revoked technique(s) cannot be shown" in lay["description"]


def _coverers(g: nx.MultiDiGraph, edges: list[tuple[str, str, dict]]) -> nx.MultiDiGraph:
    for node, technique, attrs in edges:
        g.add_node(node, **attrs)
        g.add_edge(node, technique, key="protects", relation="protects")
    return g


def test_coverage_impact_on_a_small_graph(releases):
    d = diff_releases(*releases)
    ac4 = ("control:nist_800_53/rev5:AC-4", {"kind": "control", "framework": "nist_800_53", "id": "AC-4"})
    nsg = ("capability:azure:nsg", {"kind": "capability", "framework": "azure"})
    r1 = ("detection:sigma:r1", {"kind": "detection", "source": "sigma"})
    r2 = ("detection:sigma:r2", {"kind": "detection"})  # grouped by its key
    old_g = _coverers(build_graph([releases[0]]), [
        (ac4[0], "technique:T1500", ac4[1]), (ac4[0], "technique:T1600", ac4[1]),
        (nsg[0], "technique:T1046", nsg[1]), (r1[0], "technique:T1003", r1[1]),
    ])
    new_g = _coverers(build_graph([releases[1]]), [
        (ac4[0], "technique:T1046", ac4[1]), (nsg[0], "technique:T1046", nsg[1]),
        (r1[0], "technique:T1003", r1[1]), (r2[0], "technique:T1600", r2[1]),
    ])
    cov = coverage_impact(d, old_g, new_g)
    by = {(g.family, g.name): g for g in cov.groups}
    assert sorted(by) == [("detection_source", "sigma"), ("framework", "azure"), ("framework", "nist_800_53")]
    nist = by["framework", "nist_800_53"]
    assert (nist.covered_before, nist.covered_after) == (2, 1)
    assert [(r.old_technique, r.new_technique, r.kept) for r in nist.remapped] == [("T1500", "T1046", True)]
    assert nist.on_deprecated == ((ac4[0], "T1600"),)
    sigma = by["detection_source", "sigma"]
    assert (sigma.covered_before, sigma.covered_after) == (1, 1)
    assert sigma.on_deprecated == ((r2[0], "T1600"),)
    # T1003.002 changed in place: not new. T1800 is new and nothing covers it.
    assert cov.uncovered_new == (("T1800", "Cloud Service Discovery"),)


@pytest.fixture
def tiny_pair(tmp_path):
    old, new = pair()
    mirror = tmp_path / "mirror"
    f.write(mirror / "attack" / "enterprise-attack-1.0.json.gz", old, gz=True)
    f.write(mirror / "attack" / "enterprise-attack-2.0.json.gz", new, gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "1.0"), ("enterprise", "2.0")])
    return ["--mirror", str(mirror), "--sources", str(sources)]


def run(*args):
    return CliRunner().invoke(cli, list(args), env={}, catch_exceptions=False)


def test_cli_writes_three_files_deterministically(tiny_pair, tmp_path):
    out = tmp_path / "out"
    r = run("diff", "1.0", "2.0", *tiny_pair, "--out", str(out))
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["diff-1.0-2.0-layer.json", "diff-1.0-2.0.json", "diff-1.0-2.0.md"]
    first = {n: (out / n).read_bytes() for n in names}
    assert (out / "diff-1.0-2.0.md").read_text() == GOLDEN.read_text()
    r = run("diff", "1.0", "2.0", *tiny_pair, "--out", str(out), "--json")
    assert json.loads(r.stdout) == json.loads(first["diff-1.0-2.0.json"])
    assert {n: (out / n).read_bytes() for n in names} == first


def test_cli_errors(tiny_pair, tmp_path):
    r = run("diff", "2.0", "1.0", *tiny_pair)
    assert r.exit_code == 2 and "OLD (2.0) must be an older release than NEW (1.0)" in r.stderr
    r = run("diff", "1.x", "2.0", *tiny_pair)
    assert r.exit_code == 2 and "'1.x' is not an ATT&CK release" in r.stderr
    r = run("diff", "1.0", "3.0", *tiny_pair)
    assert r.exit_code == 1
    assert r.stderr.endswith("no enterprise ATT&CK release 3.0 in the sources (listed: 1.0, 2.0)\n") and r.stderr.count("\n") == 1


def test_a_revocation_without_revoked_by_is_listed_without_replacement(tmp_path):
    """diffStix drops such an object (logging an error); here it stays visible."""
    disc = f.tactic("TA0007", "discovery", "Discovery")
    lost = v(f.technique("T1454", "Lost", "discovery"), "1.0")
    old = f.bundle(f.matrix(disc), disc, lost)
    new = f.bundle(f.matrix(disc), disc, lost | {"revoked": True})
    a = read_attack_release(f.write(tmp_path / "a.json", old), domain="enterprise", version="1.0")
    b = read_attack_release(f.write(tmp_path / "b.json", new), domain="enterprise", version="2.0")
    d = diff_releases(a, b)
    (c,) = d.section("technique", "revocations")
    assert c.attack_id == "T1454" and c.replacement_record is None and c.replacement.status == "dead_end"
    cov = coverage_impact(d, build_graph([a]), build_graph([b]))
    text = markdown(diff_document(d, cov))
    assert "- T1454 Lost → no replacement: T1454 is revoked but has no revoked-by relationship\n" in text
    assert "1 deprecated or unreplaced revoked technique(s) cannot be shown" in layer(d, build_graph([b]), "x")["description"]


@given(st.text(max_size=12), st.text(max_size=12))
def test_any_version_text_classifies_without_error(old, new):
    section = version_section(old, new)
    assert section in (None, "major_version_changes", "minor_version_changes", "other_version_changes")
    assert (section is None) == (parse_version(old) == parse_version(new))


def test_build_writes_the_diff_from_the_previous_release(tmp_path):
    old, new = pair()
    mirror = tmp_path / "mirror"
    f.write(mirror / "attack" / "enterprise-attack-1.0.json.gz", old, gz=True)
    f.write(mirror / "attack" / "enterprise-attack-2.0.json.gz", new, gz=True)
    f.write(mirror / "attack" / "mobile-attack-2.0.json.gz", new, gz=True)
    sources = f.sources_file(tmp_path / "s.toml", [("enterprise", "1.0"), ("enterprise", "2.0"), ("mobile", "2.0")])
    out = tmp_path / "out"
    r = run("build", "--mirror", str(mirror), "--sources", str(sources), "--out", str(out))
    assert r.exit_code == 0, r.output
    assert (out / "reports" / "diff-1.0-2.0.md").read_text() == GOLDEN.read_text()
    assert json.loads((out / "reports" / "diffs.json").read_text()) == {
        "enterprise": {"old": "1.0", "new": "2.0", "files": ["diff-1.0-2.0.md", "diff-1.0-2.0.json", "diff-1.0-2.0-layer.json"]},
        "mobile": {"skipped": "no mobile release older than 2.0 in the sources"},
    }
