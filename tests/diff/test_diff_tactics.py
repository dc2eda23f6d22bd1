"""Tactics renamed, added and retired between two small synthetic releases: the diff's
own section (with coverage), and the successions detections follow."""

from __future__ import annotations

from pathlib import Path

import stix_factory as f
from pipeline.diff.tactics import as_document, markdown, tactic_changes
from pipeline.ingest.attack import read_attack_release
from pipeline.model.detections import Detection, TacticRef, TechniqueRef
from pipeline.reconcile.detections import ReleaseIndex as DetectionIndex, reconcile_detections
from pipeline.reconcile.release_index import ReleaseIndex
from pipeline.reconcile.tactics import successions


def _release(tmp_path: Path, version: str, *objects) -> object:
    path = f.write(tmp_path / f"enterprise-attack-{version}.json", f.bundle(*objects))
    return read_attack_release(path, domain="enterprise", version=version)


def _pair(tmp_path):
    evasion, pers, old_hide = f.tactic("TA0005", "defense-evasion", "Defense Evasion"), f.tactic("TA0003", "persistence", "Persistence"), f.tactic("TA0099", "hiding", "Hiding")
    old = _release(
        tmp_path, "1.0", f.matrix(pers, evasion, old_hide), pers, evasion, old_hide,
        f.technique("T1001", "Clear Logs", "defense-evasion"), f.technique("T1002", "Kill AV", "defense-evasion"),
        f.technique("T1003", "Hide Files", "hiding"), f.technique("T1004", "Run Key", "persistence"),
    )
    stealth, impair = f.tactic("TA0005", "stealth", "Stealth"), f.tactic("TA0112", "defense-impairment", "Defense Impairment")
    new = _release(
        tmp_path, "2.0", f.matrix(pers, stealth, impair), pers, stealth, impair,
        f.technique("T1001", "Clear Logs", "stealth"), f.technique("T1002", "Kill AV", "defense-impairment"),
        f.technique("T1003", "Hide Files", "stealth"), f.technique("T1004", "Run Key", "persistence"),
    )
    return old, new


def test_renamed_added_and_retired_tactics(tmp_path):
    old, new = _pair(tmp_path)
    doc = as_document(tactic_changes(old, new))
    [renamed], [added], [retired] = doc["renamed"], doc["added"], doc["retired"]
    assert (renamed["id"], renamed["old_shortname"], renamed["shortname"], renamed["techniques"]) == ("TA0005", "defense-evasion", "stealth", ["T1001", "T1003"])
    assert renamed["moved_to"] == {"TA0112": ["T1002"]}
    assert (added["id"], added["techniques"], added["came_from"]) == ("TA0112", ["T1002"], {"TA0005": ["T1002"]})
    assert (retired["id"], retired["techniques"], retired["moved_to"]) == ("TA0099", ["T1003"], {"TA0005": ["T1003"]})
    assert retired["covered_lost"] == {"framework": 0, "detection_source": 0}
    names = {"TA0005": "Stealth", "TA0112": "Defense Impairment"}
    lines = markdown(doc, names)
    assert lines[:2] == ["### Renamed tactics (1)", ""]
    assert "- TA0099 Hiding (`hiding`): had 1 technique(s), 0 covered by controls, 0 by detections; coverage lost: 0 by controls, 0 by detections" in lines


def test_detections_on_a_renamed_or_retired_tactic_follow_its_successors(tmp_path):
    old, new = _pair(tmp_path)
    found = successions(ReleaseIndex.of(old), ReleaseIndex.of(new))
    assert {k: (s.kind, s.successors) for k, s in found.items()} == {
        "defense-evasion": ("renamed", ("stealth", "defense-impairment")),
        "hiding": ("retired", ("stealth",)),
    }

    def rule(i: int, tactic: str, *techniques: str) -> Detection:
        return Detection(
            id=f"sigma:{i}", source="sigma", native_id=str(i), format="sigma-yaml", title=f"rule {i}", path=f"r{i}.yml",
            tactics=(TacticRef(shortname=tactic, how="tag"),), techniques=tuple(TechniqueRef(attack_id=t, how="tag") for t in techniques),
        )

    out = reconcile_detections(
        [rule(1, "defense-evasion", "T1002"), rule(2, "defense-evasion"), rule(3, "hiding", "T1003"), rule(4, "persistence", "T1004")],
        DetectionIndex.of([new]), found,
    )
    tactics = {d.id: sorted(t.shortname for t in d.tactics) for d in out.detections}
    assert tactics == {
        "sigma:1": ["defense-impairment"],  # its technique decides
        "sigma:2": ["defense-impairment", "stealth"],  # no technique: every successor
        "sigma:3": ["stealth"],
        "sigma:4": ["persistence"],
    }
    problems = sorted((i.code, i.problem) for i in out.issues)
    assert problems == [
        ("detection-tactic-renamed", "tactic 'defense-evasion' (TA0005) is 'stealth' in ATT&CK 2.0 (enterprise); its successors: "
         "'stealth', 'defense-impairment': 1 detection(s) of sigma re-tagged by their techniques; 1 naming no technique kept under stealth, defense-impairment"),
        ("detection-tactic-retired", "tactic 'hiding' (TA0099) is retired in ATT&CK 2.0 (enterprise); its techniques went to 'stealth': "
         "1 detection(s) of sigma re-tagged by their techniques"),
    ]
