"""Profile files written by people: every mistake is one ConfigError line naming the
file, the key and the problem; nothing else escapes (hypothesis, fixed seed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from pipeline.core.errors import ConfigError
from pipeline.ingest.profiles.toml_profile import (
    CONTROL_KEYS,
    DATA_KEYS,
    DETECTION_KEYS,
    PROFILE_KEYS,
    THREAT_KEYS,
    TOP_KEYS,
    WEIGHT_KEYS,
    load_profile,
    parse_profile,
)

FILE = "profiles/soc.toml"
BASE = Path("/nonexistent-profile-folder")
GOOD = {
    "profile": {"name": "SOC", "platforms": ["Windows"], "top_n": 5},
    "weights": {"threat": 2.0},
    "controls": {"nist_800_53": {"version": "rev5", "implemented": ["AC-2"], "partial": ["SI-4"], "planned": ["SC-7"]}},
    "detections": [{"source": "sigma", "paths": ["rules/*"]}],
    "data": {"components": ["Process Creation"]},
    "threat": {"groups": ["G0006"], "sectors": ["Finance"], "weights": {"G0006": 2}},
}


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _error(raw) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_profile(raw, FILE, BASE)
    line = exc.value.one_line()
    assert "\n" not in line and line.startswith(f"{FILE}: ")
    return line


def test_the_good_profile_parses():
    profile, issues = parse_profile(_copy(GOOD), FILE, BASE)
    assert issues == []
    assert (profile.name, profile.slug, profile.top_n, profile.platforms) == ("SOC", "soc", 5, ("Windows",))
    assert [(c.control_id, c.status, c.version) for c in profile.controls] == [("AC-2", "implemented", "rev5"), ("SI-4", "partial", "rev5"), ("SC-7", "planned", "rev5")]
    assert [(t.kind, t.ref, t.weight) for t in profile.threats] == [("group", "G0006", 2.0)]
    assert profile.weights.threat == 2.0 and profile.weights.prevalence == 1.0


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda r: r.update(extra=1), "profiles/soc.toml: extra: unknown key (expected one of profile, weights, controls, detections, data, threat)"),
        (lambda r: r["profile"].update(nmae="x"), "profiles/soc.toml: profile.nmae: unknown key (expected one of name, id, description, domain, platforms, top_n)"),
        (lambda r: r["profile"].update(name=3), "profiles/soc.toml: profile.name: must be text, not a whole number"),
        (lambda r: r["profile"].update(top_n=0), "profiles/soc.toml: profile.top_n: must be a whole number from 1 to 1000, not 0"),
        (lambda r: r["profile"].update(domain="cloud"), "profiles/soc.toml: profile.domain: unknown domain 'cloud' (expected one of enterprise, mobile, ics)"),
        (lambda r: r["weights"].update(threat=-1), "profiles/soc.toml: weights.threat: must be a number of at least 0, not -1"),
        (lambda r: r["controls"]["nist_800_53"].update(implemented="AC-2"), "profiles/soc.toml: controls.nist_800_53.implemented: must be a list of text, not text"),
        (lambda r: r["controls"]["nist_800_53"].update(planned=["AC-2"]), "profiles/soc.toml: controls.nist_800_53.planned[0]: 'AC-2' is already listed as implemented"),
        (lambda r: r["detections"][0].update(elastic_export="x.ndjson"), "profiles/soc.toml: detections[0]: needs exactly one of source, elastic_export, sigma_folder"),
        (lambda r: r["detections"][0].pop("paths"), "profiles/soc.toml: detections[0]: names no rule: give ids, paths (globs) or all = true"),
        (lambda r: r["data"].update(dettect_data_sources="missing.yaml"), "profiles/soc.toml: data.dettect_data_sources: file not found: /nonexistent-profile-folder/missing.yaml"),
        (lambda r: r["threat"]["groups"].append(7), "profiles/soc.toml: threat.groups[1]: must be text, not a whole number"),
        (lambda r: r["threat"]["groups"].append("g0006"), "profiles/soc.toml: threat.groups[1]: 'g0006' is listed twice"),
        (lambda r: r["threat"]["weights"].update(G0007=1), "profiles/soc.toml: threat.weights.G0007: weighs a group, campaign or software that threat.groups/campaigns/software does not list"),
        (lambda r: r["profile"].update(id="con"), "profiles/soc.toml: profile.id: 'con' is a name Windows or the docs site reserves; choose another"),
        (lambda r: r.pop("profile"), "profiles/soc.toml: profile: missing table [profile] (name = \"…\" at least)"),
    ],
)
def test_each_mistake_is_one_line(edit, expected):
    raw = _copy(GOOD)
    edit(raw)
    assert _error(raw) == expected


def test_not_toml_is_one_line(tmp_path):
    path = tmp_path / "p.toml"
    path.write_bytes(b"[profile\nname = 1\n")
    with pytest.raises(ConfigError) as exc:
        load_profile(path)
    assert exc.value.one_line().startswith(f"{path}: not valid TOML: ")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError) as exc:
        load_profile(path)
    assert exc.value.one_line() == f"{path}: not valid UTF-8 (byte 0xff at offset 0)"


def test_ten_thousand_entries_parse():
    raw = _copy(GOOD)
    raw["threat"]["groups"] = [f"G{i:05d}" for i in range(10_000)]
    raw["threat"]["weights"] = {}
    raw["controls"]["nist_800_53"]["implemented"] = [f"AC-{i}" for i in range(10_000)]
    profile, _ = parse_profile(raw, FILE, BASE)
    assert len(profile.threats) == 10_000 and len(profile.controls) == 10_002


TABLES = {"": TOP_KEYS, "profile": PROFILE_KEYS, "weights": WEIGHT_KEYS, "data": DATA_KEYS, "threat": THREAT_KEYS}
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@seed(18)
@settings(max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(table=st.sampled_from(sorted(TABLES)), key=st.one_of(st.sampled_from(sorted({k for ks in TABLES.values() for k in ks} | set(CONTROL_KEYS) | set(DETECTION_KEYS))), st.text(max_size=10)), value=_values)
def test_hostile_values_give_one_line(table, key, value):
    raw = _copy(GOOD)
    raw["data"] = {"components": ["Process Creation"]}  # no file imports: the value under test is the only change
    (raw if table == "" else raw[table])[key] = value
    try:
        parse_profile(raw, FILE, BASE)
    except ConfigError as exc:
        line = exc.one_line()
        assert "\n" not in line and line.startswith(f"{FILE}: ")


@seed(18)
@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.dictionaries(st.text(max_size=12), _values, max_size=6))
def test_hostile_documents_give_one_line(raw):
    try:
        parse_profile(raw, FILE, BASE)
    except ConfigError as exc:
        assert "\n" not in exc.one_line()
