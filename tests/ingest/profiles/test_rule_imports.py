"""Deployed rules from a SIEM's own export (a Kibana NDJSON export of detection rules)
and from a folder of the team's own Sigma rules: corpus rules are recognised by id, the
others become the profile's own rules, reconciled like any rule."""

from __future__ import annotations

import json

import pytest

from pipeline.ingest.profiles.toml_profile import load_profile, read_elastic_export
from pipeline.profile import results
from pipeline.profile.resolve import resolve
from profile_files import write_profile

CORPUS_ELASTIC = "00140285-b827-4aee-aa09-8113f58a08f3"  # rules/windows/credential_access_cmdline_dump_tool.toml
CORPUS_SIGMA = "79aeeb41-8156-4fac-a0cd-076495ab82a1"  # NotPetya Ransomware Activity


def _threat(tactic: str, name: str, technique: str, sub: str | None = None) -> list:
    t = {"id": technique, "name": "x", "reference": f"https://attack.mitre.org/techniques/{technique}/"}
    if sub:
        t["subtechnique"] = [{"id": sub, "name": "y", "reference": "https://attack.mitre.org/techniques/" + sub.replace(".", "/") + "/"}]
    return [{"framework": "MITRE ATT&CK", "tactic": {"id": tactic, "name": name, "reference": ""}, "technique": [t]}]


EXPORT = [
    {"id": "a1", "rule_id": CORPUS_ELASTIC, "name": "Potential Credential Access via Windows Utilities", "enabled": True, "type": "eql", "language": "eql", "query": "process where true", "threat": _threat("TA0006", "Credential Access", "T1003", "T1003.001")},
    {"id": "a2", "rule_id": "our-powershell-rule", "name": "Our PowerShell rule", "enabled": True, "type": "query", "language": "kuery", "query": "process.name : powershell.exe", "threat": _threat("TA0002", "Execution", "T1086")},
    {"id": "a3", "rule_id": "our-disabled-rule", "name": "Disabled", "enabled": False, "type": "query", "language": "kuery", "query": "x", "threat": []},
    {"exported_count": 3, "exported_rules_count": 3, "missing_rules": [], "missing_rules_count": 0},
]
OWN_SIGMA = """title: Our LSASS access rule
id: 11111111-2222-3333-4444-555555555555
status: stable
logsource:
  product: windows
  category: process_access
detection:
  sel:
    TargetImage|endswith: '\\\\lsass.exe'
  condition: sel
tags:
  - attack.credential-access
  - attack.t1003.001
level: high
"""
COPIED_SIGMA = f"""title: NotPetya Ransomware Activity (our copy)
id: {CORPUS_SIGMA}
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    CommandLine|contains: 'perfc.dat'
  condition: sel
tags:
  - attack.t1003.001
"""


def _export_bytes() -> bytes:
    return b"\n".join(json.dumps(x).encode() for x in EXPORT) + b"\n"


def test_export_keeps_enabled_rules_only():
    found, ids, issues = read_elastic_export(_export_bytes(), "rules.ndjson")
    assert ids == [CORPUS_ELASTIC, "our-powershell-rule"]
    assert issues == []
    assert [(d.id, [t.attack_id for t in d.techniques]) for d in found] == [
        (f"own:{CORPUS_ELASTIC}", ["T1003", "T1003.001"]),
        ("own:our-powershell-rule", ["T1086"]),
    ]


def test_a_broken_export_line_is_one_warning():
    found, ids, issues = read_elastic_export(b'{"rule_id": "x", "name": "n", "query": "q", "threat": []}\n{not json\n', "rules.ndjson")
    assert ids == ["x"]
    assert [i.one_line() for i in issues][0].startswith("rules.ndjson: line 2: not valid JSON")


@pytest.fixture(scope="module")
def imported(tmp_path_factory, default_graph, threat):
    folder = tmp_path_factory.mktemp("imports")
    (folder / "siem").mkdir()
    (folder / "siem" / "rules.ndjson").write_bytes(_export_bytes())
    (folder / "sigma" / "windows").mkdir(parents=True)
    (folder / "sigma" / "windows" / "own_lsass.yml").write_text(OWN_SIGMA, encoding="utf-8")
    (folder / "sigma" / "copied_notpetya.yml").write_text(COPIED_SIGMA, encoding="utf-8")
    path = write_profile(
        folder,
        """
[profile]
name = "Imports"
platforms = ["Windows"]
[[detections]]
elastic_export = "siem/rules.ndjson"
[[detections]]
sigma_folder = "sigma"
[data]
components = ["Process Creation"]
""",
    )
    profile, issues = load_profile(path)
    assert issues == []
    return profile, resolve(default_graph, profile, threat), results(default_graph, profile, threat)


def test_corpus_rules_are_recognised(imported):
    _, resolved, _ = imported
    assert set(resolved.rules) == {f"detection:elastic:{CORPUS_ELASTIC}", f"detection:sigma:{CORPUS_SIGMA}"}
    assert sorted(d.id for d in resolved.own_rules) == ["own:11111111-2222-3333-4444-555555555555", "own:our-powershell-rule"]


def test_own_rules_are_reconciled_and_counted(imported):
    profile, resolved, res = imported
    own = {d.native_id: d for d in resolved.own_rules}
    (ref,) = own["our-powershell-rule"].techniques
    assert (ref.attack_id, ref.status, ref.target) == ("T1086", "revoked", "T1059.001")
    assert "own:our-powershell-rule" in res["techniques"]["T1059.001"]["rules"]
    assert {"own:11111111-2222-3333-4444-555555555555", f"elastic:{CORPUS_ELASTIC}", f"sigma:{CORPUS_SIGMA}"} <= set(res["techniques"]["T1003.001"]["rules"])
    assert res["techniques"]["T1003.001"]["levels"]["detect"] == 2
    lines = [f"{f['subject']}: {f['problem']}" for f in res["findings"]]
    assert "own rule our-powershell-rule: 'Our PowerShell rule' (line 2) names revoked technique T1086, followed to T1059.001" in lines


def test_blind_own_rule(imported):
    """The LSASS rule reads Process Access (Sigma category process_access); only Process
    Creation is collected."""
    _, _, res = imported
    blind = {b["id"]: b["reason"] for b in res["blind_rules"]}
    assert blind["own:11111111-2222-3333-4444-555555555555"] == "reads Process Access (Sigma log source), not collected"
    assert f"sigma:{CORPUS_SIGMA}" not in blind
