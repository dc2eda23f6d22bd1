"""The release diff on real releases: 16.1 → 18.1 through the command line, checked
against what the test derives from the two bundles itself (json + gzip, no pipeline
code), and a build against an older release end to end."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
from collections import defaultdict
from datetime import datetime

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from attack_kinds import KIND

pytestmark = pytest.mark.realdata

KIND_OF_TYPE = {"attack-pattern": "technique", **KIND}
LAYER_KEYS = {
    "name", "versions", "domain", "description", "filters", "sorting", "layout", "hideDisabled", "techniques",
    "gradient", "legendItems", "showTacticRowBackground", "tacticRowBackground", "selectTechniquesAcrossTactics",
    "selectSubtechniquesWithParent", "selectVisibleTechniques", "metadata", "links", "customDataURL",
}
TECHNIQUE_KEYS = {"techniqueID", "tactic", "comment", "enabled", "score", "color", "metadata", "links", "showSubtechniques"}


def bundle(mirror, version: str) -> dict[str, dict]:
    raw = gzip.decompress((mirror / "attack" / f"enterprise-attack-{version}.json.gz").read_bytes())
    return {o["id"]: o for o in json.loads(raw)["objects"]}


def attack_id(obj: dict) -> str:
    return next(r["external_id"] for r in obj["external_references"] if r.get("source_name") == "mitre-attack")


def version(obj: dict) -> tuple[int, int]:
    major, minor = obj.get("x_mitre_version", "0.0").split(".")
    return int(major), int(minor)


def millis(stamp: str) -> datetime:
    """STIX `modified` is compared at millisecond precision (10.1 wrote microseconds)."""
    dt = datetime.fromisoformat(stamp)
    return dt.replace(microsecond=dt.microsecond - dt.microsecond % 1000)


def expected_sections(old: dict[str, dict], new: dict[str, dict]) -> dict[tuple[str, str], set[str]]:
    """(kind, section) → STIX ids, by the documented rules applied to the raw objects."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    kinds = lambda objs: {i for i, o in objs.items() if o["type"] in KIND_OF_TYPE}  # noqa: E731
    for sid in kinds(new) - kinds(old):
        out[KIND_OF_TYPE[new[sid]["type"]], "additions"].add(sid)
    for sid in kinds(old) - kinds(new):
        out[KIND_OF_TYPE[old[sid]["type"]], "deletions"].add(sid)
    for sid in kinds(old) & kinds(new):
        o, n = old[sid], new[sid]
        kind = KIND_OF_TYPE[n["type"]]
        if n.get("revoked"):
            if not o.get("revoked"):
                out[kind, "revocations"].add(sid)
            continue
        if n.get("x_mitre_deprecated"):
            if not o.get("x_mitre_deprecated"):
                out[kind, "deprecations"].add(sid)
            continue
        (oM, om), (nM, nm) = version(o), version(n)
        if (nM, nm) == (oM + 1, 0):
            out[kind, "major_version_changes"].add(sid)
        elif (nM, nm) == (oM, om + 1):
            out[kind, "minor_version_changes"].add(sid)
        elif (nM, nm) != (oM, om):
            out[kind, "other_version_changes"].add(sid)
        elif millis(n["modified"]) != millis(o["modified"]) or n.get("description") != o.get("description"):
            out[kind, "patches"].add(sid)
    return out


@pytest.fixture(scope="module")
def bundles(mirror):
    return bundle(mirror, "16.1"), bundle(mirror, "18.1")


@pytest.fixture(scope="module")
def diff_16_18(mirror, tmp_path_factory):
    out = tmp_path_factory.mktemp("diff")
    r = CliRunner().invoke(cli, ["diff", "16.1", "18.1", "--mirror", str(mirror), "--out", str(out)], env={}, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "diff-16.1-18.1.json").read_text())
    lay = json.loads((out / "diff-16.1-18.1-layer.json").read_text())
    return doc, lay, (out / "diff-16.1-18.1.md").read_text()


def test_every_section_holds_the_objects_the_bundles_say(bundles, diff_16_18):
    doc = diff_16_18[0]
    expected = expected_sections(*bundles)
    assert sum(map(len, expected.values())) > 3000  # 2,430 v18 detection objects alone
    for kind, sections in doc["changes"].items():
        for section, entries in sections.items():
            assert {e["stix_id"] for e in entries} == expected.get((kind, section), set()), (kind, section)
            assert doc["counts"][kind][section] == len(expected.get((kind, section), ()))


def test_t1046_keeps_its_name(bundles, diff_16_18):
    doc = diff_16_18[0]
    old, new = bundles
    names = {attack_id(b[s]) : b[s]["name"] for b in (old, new) for s in b if b[s]["type"] == "attack-pattern" and attack_id(b[s]) == "T1046"}
    assert names == {"T1046": "Network Service Discovery"}
    assert "T1046" not in {r["attack_id"] for r in doc["techniques"]["renamed"]}
    entries = [e for entries in doc["changes"]["technique"].values() for e in entries if e["id"] == "T1046"]
    assert len(entries) == 1 and entries[0]["name"] == "Network Service Discovery"
    assert "name" not in entries[0]["changed_fields"]


def test_revoked_techniques_are_listed_with_their_replacements(bundles, diff_16_18):
    old, new = bundles
    doc, _, md = diff_16_18
    revoked_by = {o["source_ref"]: o["target_ref"] for o in new.values() if o.get("relationship_type") == "revoked-by"}
    expected = {
        (attack_id(new[s]), attack_id(new[revoked_by[s]]), new[revoked_by[s]]["name"])
        for s, o in new.items()
        if o["type"] == "attack-pattern" and o.get("revoked") and s in old and not old[s].get("revoked")
    }
    assert expected  # 18.1 revokes DLL Side-Loading in favour of DLL
    got = {(e["id"], e["replaced_by"]["id"], e["replaced_by"]["name"]) for e in doc["changes"]["technique"]["revocations"]}
    assert got == expected
    for old_id, new_id, new_name in expected:
        assert any(line.startswith(f"- {old_id} ") and line.endswith(f"→ {new_id} {new_name}") for line in md.splitlines())


def test_renamed_and_moved_techniques(bundles, diff_16_18):
    old, new = bundles
    doc = diff_16_18[0]
    live = lambda o: not (o.get("revoked") or o.get("x_mitre_deprecated"))  # noqa: E731
    shared = [(old[s], n) for s, n in new.items() if n["type"] == "attack-pattern" and s in old and live(n)]
    renamed = {(attack_id(n), o["name"], n["name"]) for o, n in shared if o["name"] != n["name"]}
    assert {(r["attack_id"], r["old_name"], r["new_name"]) for r in doc["techniques"]["renamed"]} == renamed
    phases = lambda o: {p["phase_name"] for p in o.get("kill_chain_phases", [])}  # noqa: E731
    moved = {attack_id(n) for o, n in shared if phases(o) != phases(n)}
    assert {m["attack_id"] for m in doc["techniques"]["moved_between_tactics"]} == moved


def test_layer_is_valid_for_the_new_release(bundles, diff_16_18):
    from mitreattack.navlayers import Layer

    _, new = bundles
    doc, lay, _ = diff_16_18
    live = {
        attack_id(o): {p["phase_name"] for p in o.get("kill_chain_phases", [])}
        for o in new.values()
        if o["type"] == "attack-pattern" and not o.get("revoked") and not o.get("x_mitre_deprecated")
    }
    assert set(lay) <= LAYER_KEYS
    assert lay["versions"] == {"layer": "4.5", "navigator": "5.1.0", "attack": "18"}
    assert lay["domain"] == "enterprise-attack"
    entries = defaultdict(list)
    for t in lay["techniques"]:
        assert set(t) <= TECHNIQUE_KEYS
        assert t["techniqueID"] in live, t["techniqueID"]
        entries[t["techniqueID"]].append(t.get("tactic"))
    for tid, tactics in entries.items():
        if len(live[tid]) > 1:
            assert sorted(tactics) == sorted(live[tid]), tid
        else:
            assert tactics == [None], tid
    colours = {t["color"] for t in lay["techniques"]}
    assert {i["color"] for i in lay["legendItems"]} == colours
    assert len({i["label"] for i in lay["legendItems"]}) == len(lay["legendItems"])
    added = {e["id"] for e in doc["changes"]["technique"]["additions"]}
    assert added and added <= set(entries)
    # mitreattack-python's layer model accepts it without a message.
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        layer = Layer()
        layer.from_dict(lay)
    assert printed.getvalue() == "" and layer.layer is not None


def test_build_against_an_older_release_end_to_end(mirror, tmp_path):
    out = tmp_path / "tmp"
    r = CliRunner().invoke(
        cli, ["build", "--mirror", str(mirror), "--attack-version", "14.1", "--out", str(out)], env={}, catch_exceptions=False
    )
    assert r.exit_code == 0, r.output
    assert "no mobile release 14.1 in the sources" in r.stderr
    reports = out / "reports"
    index = json.loads((reports / "diffs.json").read_text())
    assert index["enterprise"] == {
        "old": "12.1", "new": "14.1", "files": ["diff-12.1-14.1.md", "diff-12.1-14.1.json", "diff-12.1-14.1-layer.json"]
    }
    doc = json.loads((reports / "diff-12.1-14.1.json").read_text())
    expected = expected_sections(bundle(mirror, "12.1"), bundle(mirror, "14.1"))
    assert doc["counts"]["technique"]["additions"] == len(expected["technique", "additions"]) > 0
    assert json.loads((reports / "diff-12.1-14.1-layer.json").read_text())["versions"]["attack"] == "14"
    assert (reports / "diff-12.1-14.1.md").read_text().startswith("# ATT&CK Enterprise 12.1 → 14.1\n")
    assert json.loads((reports / "summary.json").read_text())["attack_version"] == "14.1"
