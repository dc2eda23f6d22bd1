"""The command line: exit codes, one-line errors, JSON output, documented commands."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import stix_factory as f
from testpaths import ROOT
from pipeline.cli import cli
from pipeline.fetch.mirror import find_in_mirror


@pytest.fixture
def run():
    def invoke(*args, env=None):
        return CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)

    return invoke


@pytest.fixture
def tiny(tmp_path):
    """A mirror with one small Enterprise release and a sources file listing it."""
    mirror = tmp_path / "mirror"
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", f.small_bundle(), gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "99.0"), ("mobile", "98.0")])
    return ["--mirror", str(mirror), "--sources", str(sources)], mirror


def test_stats_json_on_a_small_release(run, tiny):
    opts, _ = tiny
    r = run("stats", *opts, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["nodes"] == {"mitigation": 1, "subtechnique": 1, "tactic": 2, "technique": 2}
    assert data["revoked"] == {"live": 2}
    assert data["releases"] == {"enterprise": "99.0"}
    # Mobile has no 99.0 release: skipped with a warning, not an error.
    assert "no mobile release 99.0 in the sources" in r.stderr


def test_show_revoked_id_shows_its_replacement(run, tiny):
    opts, _ = tiny
    r = run("show", "T9001", *opts)
    assert r.exit_code == 0
    assert r.stdout.startswith("(T9001 is revoked; T9001 → T9002 → T1046: showing T1046)\nT1046 Network Service Discovery")
    assert "M1030 Network Segmentation" in r.stdout


def test_show_unknown_and_malformed_ids(run, tiny):
    opts, _ = tiny
    r = run("show", "T4242", *opts)
    assert (r.exit_code, r.stderr) == (1, "error: technique T4242 is not in ATT&CK 99.0 (enterprise)\n")
    r = run("show", "bogus", *opts)
    assert (r.exit_code, r.stderr) == (1, "error: nothing named 'bogus' in ATT&CK 99.0 (enterprise)\n")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"type": "collection"}', "not a STIX bundle"),
        (gzip.compress(b'{"type": "bundle", "objects": []}' * 50)[:60], "truncated gzip stream"),
    ],
    ids=["not-json", "not-a-bundle", "truncated-gzip"],
)
def test_bad_bundle_is_one_line_and_exit_1(run, tiny, content, problem):
    opts, mirror = tiny
    path = mirror / "attack" / "enterprise-attack-99.0.json.gz"
    path.write_bytes(content)
    r = run("stats", *opts)
    assert r.exit_code == 1
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"error: {path}: ") and problem in r.stderr
    assert "Traceback" not in r.output


def test_unknown_type_and_missing_target_warn_and_strict_fails(run, tiny):
    opts, mirror = tiny
    doc = f.small_bundle()
    doc["objects"].append({"type": "x-vendor-widget", "id": "x-vendor-widget--1"})
    doc["objects"].append(f.relationship("mitigates", f.sid("course-of-action", "M1030"), "attack-pattern--9"))
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", doc, gz=True)
    r = run("stats", *opts, "--domain", "enterprise")
    assert (r.exit_code, r.stderr) == (
        0, "2 warnings about the inputs (--verbose lists them; all of them: reports/issues.json of a build)\n"
    )
    r = run("stats", *opts, "--domain", "enterprise", "--verbose")
    assert r.exit_code == 0
    warnings = r.stderr.splitlines()
    assert any("unknown type 'x-vendor-widget'" in w for w in warnings)
    assert any("points to attack-pattern--9, which is not in the bundle" in w for w in warnings)
    assert all(w.startswith("warning: ") for w in warnings)
    r = run("stats", *opts, "--domain", "enterprise", "--strict")
    assert r.exit_code == 1 and r.stderr.splitlines()[-1] == "error: 2 warning(s) and --strict is set"
    r = run("stats", *opts, "--domain", "enterprise", "--quiet")
    assert (r.exit_code, r.stderr) == (0, "")


def test_missing_source_names_the_paths_tried(run, tiny):
    opts, mirror = tiny
    (mirror / "attack" / "enterprise-attack-99.0.json.gz").unlink()
    r = run("stats", *opts, env={"ATTACK_PIPELINE_OFFLINE": "1"})
    assert r.exit_code == 1
    assert "source 'attack/enterprise-99.0': not found in the mirror (tried " in r.stderr
    assert "enterprise-attack-99.0.json, " in r.stderr and "enterprise-attack-99.0.json.gz)" in r.stderr
    assert "the network is off" in r.stderr and r.stderr.count("\n") == 1


def test_usage_errors_exit_2(run, tiny):
    opts, _ = tiny
    assert run("stats", *opts, "--domain", "pre").exit_code == 2
    assert run("stats", "--no-such-option").exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_bad_mirror_and_bad_sources(run, tmp_path):
    r = run("stats", "--mirror", str(tmp_path / "nope"))
    assert r.exit_code == 1 and "mirror directory" in r.stderr and "does not exist" in r.stderr
    bad = tmp_path / "s.toml"
    bad.write_text("[attack]\nmirror = 1\n")
    r = run("stats", "--sources", str(bad), "--mirror", str(tmp_path))
    assert r.exit_code == 1 and r.stderr == f"error: {bad}: [attack]: 'mirror' must be a str, not int\n"


def test_attack_version_without_enterprise_release(run, tiny):
    opts, _ = tiny
    r = run("stats", *opts, "--attack-version", "1.0")
    assert r.exit_code == 1 and "no enterprise ATT&CK release 1.0 in the sources (listed: 99.0)" in r.stderr


def test_build_refuses_to_replace_a_foreign_directory(run, tiny, tmp_path):
    opts, _ = tiny
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    r = run("build", *opts, "--out", str(precious))
    assert r.exit_code == 1 and "refusing to replace it" in r.stderr
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_every_command_has_help_and_is_documented(run):
    readme = (ROOT / "README.md").read_text()
    for name, command in cli.commands.items():
        r = run(name, "--help")
        assert r.exit_code == 0 and "Usage:" in r.stdout
        assert f"attack-pipeline {name}" in readme, f"README does not document `{name}`"


@pytest.mark.realdata
def test_show_t1046_json_on_real_data(run, mirror):
    r = run("show", "T1046", "--mirror", str(mirror), "--json")
    assert r.exit_code == 0, r.stderr
    view = json.loads(r.stdout)
    assert view["technique"]["name"] == "Network Service Discovery"
    assert [t["id"] for t in view["tactics"]] == ["TA0007"]
    assert [m["id"] for m in view["mitigations"]] == ["M1030", "M1031", "M1042"]
    assert view["detection_strategies"][0]["id"] == "DET0376"
    assert len(view["used_by"]["group"]) > 20


@pytest.mark.realdata
def test_stats_on_every_enterprise_release(run, mirror, config):
    in_mirror = [s for s in config.attack_releases("enterprise") if find_in_mirror(s, mirror) is not None]
    assert len(in_mirror) == 8  # the listed v19 releases are not in the mirror
    for source in in_mirror:
        r = run("stats", "--mirror", str(mirror), "--attack-version", source.attack_version, "--domain", "enterprise", "--json")
        assert r.exit_code == 0, r.stderr
        data = json.loads(r.stdout)
        assert data["releases"] == {"enterprise": source.attack_version}
        assert data["nodes"]["technique"] > 170
