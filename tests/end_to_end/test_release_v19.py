"""A restructured release as a regression test: ATT&CK v19's shape derived from the real
Enterprise 18.1 bundle (tests/v19_shape.py) into a mirror overlay, then a full build, the
diff 18.1 → it, the detections tagged with the renamed tactic, and `upgrade` of a layer."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import v19_shape
from testpaths import ROOT
from pipeline.cli import cli

pytestmark = pytest.mark.realdata
SOURCES = str(ROOT / "data" / "sources.toml")
FAMILY = "T1562"


@pytest.fixture(scope="module")
def v19(mirror, tmp_path_factory):
    """(overlay mirror, old id → new id): the real mirror with enterprise 19.1 derived from 18.1."""
    root = tmp_path_factory.mktemp("v19")
    overlay = root / "mirror"
    overlay.mkdir()
    for child in mirror.iterdir():
        if child.name != "attack":
            os.symlink(child, overlay / child.name)
    (overlay / "attack").mkdir()
    for child in (mirror / "attack").iterdir():
        os.symlink(child, overlay / "attack" / child.name)
    remap = v19_shape.derive(mirror / "attack" / "enterprise-attack-18.1.json.gz", overlay / "attack" / "enterprise-attack-19.1.json")
    return overlay, remap


def invoke(overlay: Path, *args: str):
    env = {"ATTACK_PIPELINE_MIRROR": str(overlay), "ATTACK_PIPELINE_OFFLINE": "1"}
    return CliRunner().invoke(cli, [*args, "--sources", SOURCES], env=env)


def test_the_default_target_is_the_newest_release_at_hand(v19):
    overlay, _ = v19
    r = invoke(overlay, "stats", "--attack-only", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["releases"] == {"enterprise": "19.1"}
    assert r.stderr == "".join(
        f"note: {d} ATT&CK 19.1 is listed but not available offline; {d} skipped "
        "(run `attack-pipeline fetch --attack-version 19.1` to get it)\n"
        for d in ("mobile", "ics")
    )


def test_the_real_mirror_says_why_it_uses_18_1(mirror):
    r = invoke(mirror, "stats", "--attack-only", "--json", "--domain", "enterprise")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["releases"] == {"enterprise": "18.1"}
    assert r.stderr == (
        "note: ATT&CK 19.1 is listed but not available offline; using 18.1 "
        "(run `attack-pipeline fetch --attack-version 19.1` to get it)\n"
    )


@pytest.fixture(scope="module")
def build(v19, tmp_path_factory):
    overlay, _ = v19
    out = tmp_path_factory.mktemp("v19-build") / "outputs"
    r = invoke(overlay, "build", "--domain", "enterprise", "--out", str(out))
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def workspace(v19, config):
    from pipeline.workspace import Workspace

    overlay, _ = v19
    return Workspace.open(config, overlay, "19.1", ("enterprise",))


def test_every_layer_is_valid_and_its_tactics_are_the_techniques(build, workspace, config, v19):
    from pipeline.render.navigator.layer import TechniqueIndex
    from pipeline.render.navigator.validate import problems
    from pipeline.workspace import Workspace

    attack = Workspace.open(config, v19[0], "19.1", ("enterprise",))
    attack.attack_only = True
    g = attack.graph()
    index = TechniqueIndex.of(g)
    layers = sorted((build / "layers").rglob("*.json"))
    assert len(layers) > 300
    tactics_used = set()
    for path in layers:
        layer = json.loads(path.read_text())
        assert problems(layer, g, index) == [], path
        for t in layer["techniques"]:
            if "tactic" in t:
                assert t["tactic"] in index.tactics[t["techniqueID"]], (path, t)
                tactics_used.add(t["tactic"])
    assert {"stealth", "defense-impairment"} <= tactics_used
    assert "defense-evasion" not in tactics_used


def test_every_16_1_mapping_row_on_the_family_lands_on_the_new_ids(build, v19, mirror):
    _, remap = v19
    reports = sorted((build / "reports" / "reconcile").glob("*attack-16.1--enterprise.json"))
    assert reports
    checked = 0
    for path in reports:
        rep = json.loads(path.read_text())
        if not rep["enabled"]:
            continue
        raw = json.loads((mirror / rep["file"]).read_text())
        published = {m.get("attack_object_id") for m in raw["mapping_objects"]}
        family = {t for t in published if t and (t == FAMILY or str(t).startswith(FAMILY + "."))}
        revoked = {r["technique"]: r for r in rep["revoked"]}
        assert family <= revoked.keys(), path.name
        for tid in family:
            assert revoked[tid]["target"] == remap[tid] and revoked[tid]["chain"] == [tid, remap[tid]]
            checked += revoked[tid]["mappings"]
        assert not family & {u["technique"] for u in rep["unknown"]}
        assert rep["accounting"]["balanced"]
    assert checked > 100


def test_every_detection_on_the_family_lands_on_the_new_ids_and_is_reported(build, workspace, v19):
    _, remap = v19
    found = workspace.detections()
    on_family = [(d, ref) for d in found.detections for ref in d.techniques if ref.attack_id.startswith(FAMILY)]
    assert len(on_family) > 50
    for d, ref in on_family:
        assert (ref.status, ref.target) == ("revoked", remap[ref.attack_id]), d.id
    reported = {(i.file.split("/", 1)[0], i.problem.split()[1]) for i in found.issues if i.code == "detection-technique-revoked"}
    for d, ref in on_family:
        assert (d.source, ref.attack_id) in reported
    issues = json.loads((build / "reports" / "issues.json").read_text())
    assert any(i["code"] == "detection-technique-revoked" and "T1562.001" in i["problem"] for i in issues)


def test_detections_tagged_defense_evasion_follow_its_successors(workspace):
    found = workspace.detections()
    tagged = [d for d in found.detections if any(t.note == "was defense-evasion" for t in d.tactics)]
    assert len(tagged) > 500
    for d in found.detections:
        assert all(t.shortname != "defense-evasion" for t in d.tactics), d.id
    for d in tagged:
        successors = {t.shortname for t in d.tactics if t.note == "was defense-evasion"}
        assert successors <= {"stealth", "defense-impairment"}
    renamed = [i for i in found.issues if i.code == "detection-tactic-renamed"]
    sources = {m.group(1) for i in renamed if (m := re.search(r"detection\(s\) of (\S+) re-tagged", i.problem))}
    assert {"sigma", "elastic"} <= sources
    assert all(i.problem.startswith("tactic 'defense-evasion' (TA0005) is 'stealth' in ATT&CK 19.1 (enterprise); its successors: 'stealth', 'defense-impairment'") for i in renamed)
    # A rule on a technique of the family is re-tagged Defense Impairment, not Stealth.
    impaired = [d for d in tagged if any(r.target.startswith("T1690") for r in d.techniques)]
    assert impaired and all("defense-impairment" in {t.shortname for t in d.tactics} for d in impaired)


def test_diff_reports_the_renamed_and_the_added_tactic(v19, tmp_path):
    overlay, remap = v19
    r = invoke(overlay, "diff", "18.1", "19.1", "--out", str(tmp_path), "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    tactics = doc["tactics"]
    assert [(e["id"], e["old_shortname"], e["shortname"], e["name"]) for e in tactics["renamed"]] == [
        ("TA0005", "defense-evasion", "stealth", "Stealth")
    ]
    assert [(e["id"], e["shortname"]) for e in tactics["added"]] == [("TA0112", "defense-impairment")]
    assert tactics["retired"] == []
    added = tactics["added"][0]
    assert set(added["techniques"]) == set(remap.values()) | {"T1070"}
    assert set(added["came_from"]["TA0005"]) == set(added["techniques"])
    renamed = tactics["renamed"][0]
    assert "T1070" in renamed["techniques"] and not set(remap) & set(renamed["techniques"])
    assert set(renamed["moved_to"]["TA0112"]) == set(remap.values())
    assert renamed["covered"]["framework"] > 50 and renamed["covered"]["detection_source"] > 50
    # The rename is its own section, not a patch or a version change; TA0112 is an addition.
    sections = doc["changes"]["tactic"]
    assert not [e["id"] for entries in sections.values() for e in entries if e["id"] == "TA0005"]
    assert [e["id"] for e in sections["additions"]] == ["TA0112"]
    revoked = {e["id"]: e["replaced_by"]["id"] for e in doc["changes"]["technique"]["revocations"]}
    assert revoked == remap
    md = (tmp_path / "diff-18.1-19.1.md").read_text()
    assert "### Renamed tactics (1)" in md and "- TA0005 Defense Evasion (`defense-evasion`) → Stealth (`stealth`)" in md
    assert "### Added tactics (1)" in md
    remapped = [x for g in doc["coverage"]["frameworks"].values() for x in g["remapped"] if x["from"] == "T1562.001"]
    assert remapped and all(x["to"] == "T1690.001" and x["kept"] for x in remapped)


def test_upgrade_a_layer_to_the_restructured_release(v19, tmp_path):
    overlay, _ = v19
    layer = {
        "name": "Defense evasion coverage",
        "versions": {"attack": "18", "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "techniques": [
            {"techniqueID": "T1070.004", "tactic": "defense-evasion", "score": 2},
            {"techniqueID": "T1070", "tactic": "defense-evasion", "score": 1},
            {"techniqueID": "T1562.001", "tactic": "defense-evasion", "score": 3},
            {"techniqueID": "T1055", "tactic": "privilege-escalation", "score": 1},
        ],
    }
    (tmp_path / "de.json").write_text(json.dumps(layer))
    r = invoke(overlay, "upgrade", str(tmp_path / "de.json"), "--to", "19.1", "--out", str(tmp_path / "up"))
    assert r.exit_code == 0, r.output
    assert r.stdout == (
        f"{tmp_path}/de.json → {tmp_path}/up/de.json: ATT&CK 18.1 → 19.1, 3 carried over, 3 re-tagged, 1 revoked → replacement\n"
    )
    out = json.loads((tmp_path / "up" / "de.json").read_text())
    assert [(t["techniqueID"], t.get("tactic")) for t in out["techniques"]] == [
        ("T1055", "privilege-escalation"), ("T1070", "stealth"), ("T1070.004", "stealth"), ("T1690.001", "defense-impairment"),
    ]
    report = json.loads((tmp_path / "up" / "de.upgrade.json").read_text())
    assert {c["technique"]: c["retag"] for c in report["changes"]} == {
        "T1070.004": "renamed-tactic", "T1070": "renamed-tactic", "T1562.001": "moved",
    }
