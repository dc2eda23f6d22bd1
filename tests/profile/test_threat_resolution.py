"""Threat profiles resolved through the MISP galaxy, and ids that do not exist."""

from __future__ import annotations

import json
import re

from pipeline.ingest.profiles.toml_profile import parse_profile
from pipeline.profile.resolve import resolve


def _list(value):
    return [value] if isinstance(value, str) else list(value or [])


def _profile(raw, tmp_path):
    profile, _ = parse_profile(raw, str(tmp_path / "p.toml"), tmp_path)
    return profile


def test_sector_and_country_land_on_g0006(graph_18, threat, mirror, tmp_path):
    """APT1 (`name-attribution` G0006) targets Government and has victims in Luxembourg."""
    profile = _profile({"profile": {"name": "Ministry"}, "threat": {"sectors": ["Government"], "countries": ["Luxembourg"]}}, tmp_path)
    resolved = resolve(graph_18, profile, threat)
    found = {a.attack_id: a for a in resolved.adversaries}
    assert "G0006" in found
    assert found["G0006"].why == ("MISP threat actor APT1 targets Government, Luxembourg",)
    # Every group, recomputed from the raw cluster files.
    raw = json.loads((mirror / "threat/misp-galaxy/clusters/threat-actor.json").read_text())
    sets = json.loads((mirror / "threat/misp-galaxy/clusters/mitre-intrusion-set.json").read_text())
    ext = {v["uuid"]: v["meta"]["external_id"] for v in sets["values"] if re.match(r"^G\d{4}$", v.get("meta", {}).get("external_id", ""))}
    expected = set()
    for v in raw["values"]:
        meta = v.get("meta", {})
        if "Government" not in _list(meta.get("cfr-target-category")) + _list(meta.get("targeted-sector")):
            continue
        if "Luxembourg" not in _list(meta.get("cfr-suspected-victims")) + _list(meta.get("suspected-victims")):
            continue
        ids = {a.split(":")[0] for a in _list(meta.get("name-attribution")) if re.match(r"^G\d{4}:", a)}
        ids |= {s for s in _list(meta.get("synonyms")) if re.match(r"^G\d{4}$", s)}
        ids |= {ext[r["dest-uuid"]] for r in v.get("related", []) if r.get("dest-uuid") in ext}
        expected |= {i for i in ids if f"group:{i}" in graph_18 and not graph_18.nodes[f"group:{i}"]["deprecated"]}
    assert set(found) == expected
    assert all(a.weight == 1.0 for a in found.values())


def test_ids_that_do_not_exist_are_one_line_each(graph_18, threat, tmp_path):
    raw = {
        "profile": {"name": "SOC"},
        "threat": {"groups": [f"G{i:05d}" for i in range(10_000)] + ["G0006"], "campaigns": ["C9999"], "software": ["No Such Tool"]},
        "data": {"components": ["Process Creation", "Telepathy"]},
        "controls": {"nist_800_53": {"implemented": ["AC-2"]}},
    }
    profile = _profile(raw, tmp_path)
    resolved = resolve(graph_18, profile, threat)
    lines = [f.one_line(profile.file) for f in resolved.findings]
    file = profile.file
    assert lines[0] == f"{file}: controls.nist_800_53.implemented: framework 'nist_800_53' has no control in the build (known: )"
    groups = [line for line in lines if "is not a live ATT&CK group" in line]
    assert len(groups) == 10_000
    assert groups[0] == f"{file}: threat.groups: 'G00000' is not a live ATT&CK group (id, name or alias)"
    assert f"{file}: threat.campaigns: 'C9999' is not a live ATT&CK campaign (id, name or alias)" in lines
    assert f"{file}: threat.software: 'No Such Tool' is not a live ATT&CK software (id, name or alias)" in lines
    assert f"{file}: data.components[1]: 'Telepathy' is not a enterprise data component of the release" in lines
    assert all("\n" not in line for line in lines)
    assert [a.attack_id for a in resolved.adversaries] == ["G0006"]


def test_log_sources_make_analytics_visible(graph_18, threat, tmp_path):
    from pipeline.profile import results

    raw = {"profile": {"name": "Linux estate", "platforms": ["Linux"]}, "data": {"log_sources": ["auditd:SYSCALL", "No:Such"]}}
    profile = _profile(raw, tmp_path)
    res = results(graph_18, profile, threat)
    assert [f"{f['subject']}: {f['problem']}" for f in res["findings"]] == [
        "data.log_sources[1]: 'No:Such' is not the log source of any ATT&CK analytic of the release (e.g. WinEventLog:Security, auditd:SYSCALL)"
    ]
    # Recomputed: per technique, its Linux analytics and whether one of their log sources is auditd:SYSCALL.
    checked = 0
    for key, n in graph_18.nodes(data=True):
        if n["kind"] != "technique" or n["deprecated"] or "enterprise" not in n["domains"]:
            continue
        verdicts = []
        for u, _, d in graph_18.in_edges(key, data=True):
            if graph_18.nodes[u]["kind"] != "detection_strategy" or d["relation"] != "detects":
                continue
            for a in graph_18.nodes[u]["record"].analytics:
                rec = graph_18.nodes[f"analytic:{a}"]["record"]
                if rec.platforms and "Linux" not in rec.platforms:
                    continue
                verdicts.append(any(ls.name.lower() == "auditd:syscall" for ls in rec.log_sources))
        expected = "unknown" if not verdicts else "full" if all(verdicts) else "partial" if any(verdicts) else "none"
        assert res["techniques"][n["id"]]["visibility"] == expected, n["id"]
        checked += expected in ("full", "partial")
    assert checked > 50
