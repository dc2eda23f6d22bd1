"""DeTT&CT's sample administration files: imported into a profile with the counts the
files hold (counted here straight from the YAML), and written back from the profile
equal in content."""

from __future__ import annotations

import yaml
import pytest

from pipeline.ingest.profiles import dettect
from pipeline.ingest.profiles.export import export_files
from pipeline.ingest.profiles.toml_profile import load_profile
from profile_files import write_profile

DOMAINS = ("endpoints", "ics", "mobile")


def _raw(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _newest(book):
    """DeTT&CT's current score: the logbook entry with the latest date (undated: oldest)."""
    dated = [(str(e["date"])[:10] if e.get("date") is not None else "", i, e["score"]) for i, e in enumerate(book)]
    best = max(dated, key=lambda t: (t[0] != "", t[0], -t[1])) if dated else None
    return best[2] if best else None


@pytest.mark.parametrize("which", DOMAINS)
def test_counts_match_the_files(samples, which):
    groups_file = samples / ("groups.yaml" if which == "endpoints" else f"groups-{which}.yaml")
    t = dettect.read_techniques(samples / f"techniques-administration-{which}.yaml")
    d = dettect.read_data_sources(samples / f"data-sources-{which}.yaml")
    g = dettect.read_groups(groups_file)
    raw_t = _raw(samples / f"techniques-administration-{which}.yaml")
    raw_d = _raw(samples / f"data-sources-{which}.yaml")
    raw_g = _raw(groups_file)
    assert len(t.techniques) == len(raw_t["techniques"])
    assert [x.technique_id for x in t.techniques] == [x["technique_id"] for x in raw_t["techniques"]]
    assert len(d.data_sources) == len(raw_d["data_sources"])
    assert len(d.systems) == len(raw_d.get("systems") or [])
    assert set(d.collected()) == {
        ds["data_source_name"] for ds in raw_d["data_sources"] if any(x.get("available_for_data_analytics") for x in ds["data_source"] or [])
    }
    assert len(g.groups) == len(raw_g["groups"])
    # The current detection and visibility scores, per technique, as DeTT&CT reads them.
    for rec, raw in zip(t.techniques, raw_t["techniques"]):
        det = [s for s in (_newest(e["score_logbook"]) for e in raw.get("detection") or []) if s is not None]
        vis = [s for s in (_newest(e["score_logbook"]) for e in raw.get("visibility") or []) if s is not None]
        assert rec.detection_score() == (max(det) if det else None), rec.technique_id
        assert rec.visibility_score() == (max(vis) if vis else None), rec.technique_id


def test_endpoint_sample_numbers(samples):
    """The endpoint sample as published at the pinned commit (a change of the mirror shows here)."""
    t = dettect.read_techniques(samples / "techniques-administration-endpoints.yaml")
    raw = _raw(samples / "techniques-administration-endpoints.yaml")
    detected = sum(1 for x in raw["techniques"] if any(_newest(e["score_logbook"]) not in (None, -1, 0) for e in x["detection"]))
    assert sum(1 for x in t.techniques if (x.detection_score() or 0) >= 1) == detected
    assert detected == 13
    assert len(t.techniques) == 342 and t.platform == ("Windows", "Linux")


@pytest.mark.parametrize("which", DOMAINS)
def test_round_trip_through_a_profile(samples, tmp_path, which):
    """read → profile → written back: equal in content to the sample files."""
    groups_file = samples / ("groups.yaml" if which == "endpoints" else f"groups-{which}.yaml")
    files = {
        "techniques": samples / f"techniques-administration-{which}.yaml",
        "data_sources": samples / f"data-sources-{which}.yaml",
        "groups": groups_file,
    }
    path = write_profile(
        tmp_path,
        f"""
[profile]
name = "Sample {which}"
id = "sample"
domain = "{ {'endpoints': 'enterprise'}.get(which, which) }"
[data]
dettect_data_sources = "{files['data_sources']}"
dettect_techniques = "{files['techniques']}"
[threat]
dettect_groups = "{files['groups']}"
""",
    )
    profile, issues = load_profile(path)
    assert issues == []
    written = export_files(profile, tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == ["data-sources-sample.yaml", "groups-sample.yaml", "techniques-administration-sample.yaml"]
    back = {p.name.split("-sample")[0]: _raw(p) for p in written}
    assert back["data-sources"] == _raw(files["data_sources"])
    assert back["techniques-administration"] == _raw(files["techniques"])
    assert back["groups"] == _raw(files["groups"])


def test_a_damaged_file_is_one_line(tmp_path, samples):
    text = (samples / "techniques-administration-endpoints.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "t.yaml"
    bad.write_text(text.replace("score: 3", "score: 9", 1), encoding="utf-8")
    with pytest.raises(dettect.InputError) as exc:
        dettect.read_techniques(bad)
    assert exc.value.one_line() == f"{bad}: technique T1003.001.detection[0].score_logbook[0].score: score must be a whole number from -1 to 5, not 9"
    bad.write_text("file_type: group-administration\n", encoding="utf-8")
    with pytest.raises(dettect.InputError) as exc:
        dettect.read_techniques(bad)
    assert exc.value.one_line() == f"{bad}: file_type: is 'group-administration'; a DeTT&CT techniques file has 'technique-administration'"
