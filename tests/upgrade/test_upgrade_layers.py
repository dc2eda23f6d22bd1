"""`attack-pipeline upgrade`: a hand-written layer with every case (golden report and layer),
batches (folders, JSON lists, names that clash), and hostile layers (one line, nothing
written). Exact output throughout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from testpaths import ROOT
from pipeline.cli import cli

HERE = Path(__file__).resolve().parent
EVERY_CASE = HERE / "every-case-8.2.json"


@pytest.fixture
def upgrade(mirror, tmp_path, monkeypatch):
    """Run `upgrade` in a scratch folder, offline, against the real mirror."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str):
        env = {"ATTACK_PIPELINE_MIRROR": str(mirror), "ATTACK_PIPELINE_OFFLINE": "1"}
        return CliRunner().invoke(cli, ["upgrade", *args, "--sources", str(ROOT / "data" / "sources.toml")], env=env)

    return run


def test_every_case_golden(upgrade, tmp_path, golden):
    (tmp_path / "layers").mkdir()
    shutil.copy(EVERY_CASE, tmp_path / "layers" / "every-case.json")
    r = upgrade("layers/every-case.json", "--to", "18.1", "--out", "up")
    assert r.exit_code == 1
    assert r.stdout == (
        "layers/every-case.json → up/every-case.json: ATT&CK 8.2 → 18.1, 1 carried over, 3 renamed, 1 re-tagged, "
        "2 revoked → replacement, 2 merged, 1 deprecated, 1 unknown; 2 to decide\n"
    )
    assert r.stderr == "error: 2 item(s) in 1 layer(s) need a decision: see the .upgrade.md reports in up\n"
    golden.check("upgrade-every-case.md", (tmp_path / "up" / "every-case.upgrade.md").read_text())
    golden.check("upgrade-every-case-layer.json", (tmp_path / "up" / "every-case.json").read_text())
    report = json.loads((tmp_path / "up" / "every-case.upgrade.json").read_text())
    golden.check("upgrade-every-case-report.json", json.dumps(report, indent=2, sort_keys=True) + "\n")
    layer = json.loads((tmp_path / "up" / "every-case.json").read_text())
    entries = {(t["techniqueID"], t.get("tactic")): t for t in layer["techniques"]}
    # Merged by the stated rule: the highest score with its colour, both comments, links once.
    merged = entries[("T1574.001", "persistence")]
    assert merged["score"] == 3 and merged["comment"] == "T1574.002: DLL side-loading rule\nsearch order hijacking rule"
    assert [link["url"] for link in merged["links"]] == ["https://example.org/dll", "https://example.org/wiki"]
    assert entries[("T1647", "defense-evasion")]["score"] == 2  # revoked T1547.011, re-tagged
    assert entries[("T1053.004", None)]["enabled"] is False  # deprecated: kept, disabled
    assert ("T1053.005", None) in entries  # tactic dropped: a decision
    assert not any(t["techniqueID"] == "T9999" for t in layer["techniques"])
    assert report["left_out"] == [{"comment": "a technique that never existed", "score": 5, "techniqueID": "T9999"}]
    assert layer["versions"] == {"attack": "18", "navigator": "5.1.0", "layer": "4.5"}
    assert layer["filters"] == {"platforms": ["Windows"]}


def test_every_case_is_a_valid_4_5_layer_for_18_1(upgrade, tmp_path, graph_18):
    from pipeline.render.navigator.validate import schema_problems, semantic_problems

    upgrade(str(EVERY_CASE), "--to", "18.1", "--out", "up")
    layer = json.loads((tmp_path / "up" / "every-case-8.2.json").read_text())
    assert schema_problems(layer) == []
    # The one entry the Navigator would hide is the deprecated one, kept disabled on purpose.
    assert semantic_problems(layer, graph_18) == ["techniques[2] T1053.004: not a live enterprise technique of this release"]


def test_a_batch_of_folders_and_lists(upgrade, tmp_path):
    layer = json.loads(EVERY_CASE.read_text())
    small = {**layer, "techniques": layer["techniques"][:2], "name": "Small"}
    (tmp_path / "in" / "a").mkdir(parents=True)
    (tmp_path / "in" / "a" / "Team.json").write_text(json.dumps(small))
    (tmp_path / "in" / "team.json").write_text(json.dumps(small))
    (tmp_path / "list.json").write_text(json.dumps([small, {**small, "versions": {"layer": "4.0"}}]))
    r = upgrade("in", "list.json", "--to", "18.1", "--out", "up")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        "in/a/Team.json → up/a/Team.json: ATT&CK 8.2 → 18.1, 2 renamed",
        "in/team.json → up/team.json: ATT&CK 8.2 → 18.1, 2 renamed",
        "list.json#1 → up/list-1.json: ATT&CK 8.2 → 18.1, 2 renamed",
        "list.json#2 → up/list-2.json: ATT&CK 18.1 → 18.1, 2 carried over",
    ]
    # The second list item has no versions.attack: the release is guessed, and said so.
    report = json.loads((tmp_path / "up" / "list-2.upgrade.json").read_text())
    assert report["source_release"]["how"] == "guessed"
    assert report["source_release"]["note"].startswith("the layer has no versions.attack; guessed ATT&CK 18.1")


def test_names_that_clash_on_windows_and_macos(upgrade, tmp_path):
    layer = json.loads(EVERY_CASE.read_text())
    small = {**layer, "techniques": layer["techniques"][:1]}
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
    (tmp_path / "x" / "Layer.json").write_text(json.dumps(small))
    (tmp_path / "y" / "layer.json").write_text(json.dumps(small))
    r = upgrade("x/Layer.json", "y/layer.json", "--to", "18.1", "--out", "up")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "up").glob("*.json") if ".upgrade" not in p.name) == ["Layer.json", "layer-2.json"]


HOSTILE = [
    ("bad-json.json", b'{"name": "x", "domain": ', "not valid JSON: unexpected end of data (line 1)"),
    (
        "unknown-field.json",
        json.dumps({"name": "x", "domain": "enterprise-attack", "versions": {"layer": "4.3"}, "colour": "#ff0000"}).encode(),
        "(top): unknown field 'colour' (not in layer format 4.x)",
    ),
    (
        "unknown-entry-field.json",
        json.dumps({"name": "x", "domain": "enterprise-attack", "versions": {"layer": "4.3"},
                    "techniques": [{"techniqueID": "T1046"}, {"techniqueID": "T1046", "scoer": 1}]}).encode(),
        "techniques[1]: unknown field 'scoer' (not in layer format 4.x)",
    ),
    (
        "wrong-type.json",
        json.dumps({"name": "x", "domain": "enterprise-attack", "versions": {"layer": "4.3"},
                    "techniques": [{"techniqueID": "T1046", "score": "high"}]}).encode(),
        "techniques[0].score: must be number, not a string",
    ),
    (
        "wrong-top-type.json",
        json.dumps({"name": "x", "domain": "enterprise-attack", "versions": {"layer": "4.3"}, "techniques": {"T1046": 1}}).encode(),
        "techniques: must be array, not an object",
    ),
    ("not-an-object.json", b"42", "a layer must be a JSON object, not a number"),
    ("format-3.json", json.dumps({"name": "x", "domain": "enterprise-attack", "versions": {"layer": "3.0"}}).encode(),
     "versions.layer: layer format '3.0' is not 4.x"),
    ("pre-attack.json", json.dumps({"name": "x", "domain": "pre-attack", "versions": {"layer": "4.0"}}).encode(),
     "domain: 'pre-attack' is not an ATT&CK domain (enterprise-attack, mobile-attack, ics-attack)"),
    ("ics-at-8.json", json.dumps({"name": "x", "domain": "ics-attack", "versions": {"layer": "4.5", "attack": "8"}}).encode(),
     "domain: a layer for ics-attack: no ics ATT&CK release 8.2 in the sources (listed: 18.1, 19.0, 19.1)"),
    ("newer.json", json.dumps({"name": "x", "domain": "enterprise-attack", "versions": {"layer": "4.5", "attack": "19"}}).encode(),
     "versions.attack: made for ATT&CK 19, newer than the target 18.1: upgrade goes forward only"),
    ("not-utf8.json", b'{"name": "\xff"}', "not valid UTF-8 (byte 0xff at offset 10)"),
]


@pytest.mark.parametrize(("name", "data", "problem"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_layer_is_one_line_and_nothing_is_written(upgrade, tmp_path, name, data, problem):
    good = tmp_path / "good.json"
    shutil.copy(EVERY_CASE, good)
    (tmp_path / name).write_bytes(data)
    to = "8.2" if name == "ics-at-8.json" else "18.1"
    r = upgrade("good.json", name, "--to", to, "--out", "up")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == f"error: {name}: {problem}\nerror: 1 layer(s) cannot be upgraded; nothing was written\n"
    assert not (tmp_path / "up").exists()


def test_a_50_mb_layer_is_refused_unread(upgrade, tmp_path):
    with open(tmp_path / "huge.json", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    r = upgrade("huge.json", "--to", "18.1", "--out", "up")
    assert r.exit_code == 1
    assert r.stderr == (
        "error: huge.json: file is 52,428,800 bytes, over the 33,554,432-byte limit for a layer\n"
        "error: 1 layer(s) cannot be upgraded; nothing was written\n"
    )
    assert not (tmp_path / "up").exists()


def test_a_layer_of_another_domain_than_asked(upgrade, tmp_path):
    layer = json.loads(EVERY_CASE.read_text())
    (tmp_path / "m.json").write_text(json.dumps({**layer, "domain": "mobile-attack", "techniques": []}))
    r = upgrade("m.json", "--to", "18.1", "--domain", "enterprise", "--out", "up")
    assert r.exit_code == 1
    assert r.stderr == "error: m.json: domain: a layer for mobile-attack, not enterprise (--domain)\nerror: 1 layer(s) cannot be upgraded; nothing was written\n"
    assert not (tmp_path / "up").exists()


def test_default_target_is_the_newest_release_at_hand(upgrade, tmp_path):
    shutil.copy(EVERY_CASE, tmp_path / "l.json")
    r = upgrade("l.json", "--out", "up")
    assert r.stderr.splitlines()[0] == (
        "note: ATT&CK 19.1 is listed but not available offline; using 18.1 "
        "(run `attack-pipeline fetch --attack-version 19.1` to get it)"
    )
    assert "ATT&CK 8.2 → 18.1" in r.stdout
