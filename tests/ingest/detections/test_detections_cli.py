"""`attack-pipeline detections` and the detections section of `show`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

from detection_helpers import REPO, write
from test_detections_sigma import rule

pytestmark = pytest.mark.realdata


@pytest.fixture()
def env(mirror, tmp_path):
    return {
        "ATTACK_PIPELINE_MIRROR": str(mirror),
        "ATTACK_PIPELINE_SOURCES": str(REPO / "data" / "sources.toml"),
        "ATTACK_PIPELINE_CACHE": str(tmp_path / "cache"),
        "ATTACK_PIPELINE_JOBS": "2",
    }


def run(env, *args):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_detections_summary_of_one_source(env):
    result = run(env, "detections", "--source", "cards", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data["sources"]) == ["cards"]
    cards = data["sources"]["cards"]
    assert (cards["files"], cards["detections"], cards["queries"], cards["languages"]) == (1, 1, 3, {"kql": 1})
    assert data["stale_techniques"] == {"revoked": {}, "deprecated": {}, "dead_end": {}, "unknown": {}}


def test_detections_text_lists_stale_ids(env):
    result = run(env, "detections", "--source", "m365-hunting-queries", "--verbose")
    assert result.exit_code == 0
    assert "T1170 -> T1218.005: m365-hunting-queries 2" in result.stdout
    assert "T1188 -> T1090.003" in result.stdout
    assert all(line.startswith(("warning: ", "note: ")) for line in result.stderr.splitlines())


def test_unknown_source_is_one_error_line(env):
    result = run(env, "detections", "--source", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "no detection source 'nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_show_lists_detections_with_source_and_language(env):
    result = run(env, "show", "T1046")
    assert result.exit_code == 0
    out = result.stdout
    section = out[out.index("\ndetections ("):]
    assert "cards 1" in section and "sigma 22" in section
    assert any(line.split()[:2] == ["cards", "kql"] and "×3" in line for line in section.splitlines())
    assert "[unsupported]" in section
    data = json.loads(run(env, "show", "T1046", "--json").stdout)
    assert sum(1 for d in data["detections"] if d["source"] == "sigma") == 22


def test_bad_corpus_warns_and_strict_fails(env, mirror, tmp_path):
    own = tmp_path / "mirror"
    (own / "detections").mkdir(parents=True)
    (own / "attack").symlink_to(mirror / "attack")
    write(own, "detections/sigma/rules/good.yml", rule("attack.t1046"))
    write(own, "detections/sigma/rules/list.yml", "- not a rule\n")
    env = env | {"ATTACK_PIPELINE_MIRROR": str(own)}
    result = run(env, "detections", "--source", "sigma", "--json", "--verbose")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["sources"]["sigma"]["detections"] == 1
    assert all(line.startswith(("warning: ", "note: ")) for line in result.stderr.splitlines())
    [warning] = [line for line in result.stderr.splitlines() if "/detections/" in line]
    assert warning.startswith("warning: ") and "list.yml: document 1: a Sigma rule must be a YAML mapping" in warning
    strict = run(env, "detections", "--source", "sigma", "--strict")
    assert strict.exit_code == 1 and "--strict" in strict.stderr

    missing = run(env, "detections", "--source", "elastic")
    assert missing.exit_code == 0
    assert "detection-source-missing" not in missing.stderr and "not found in the mirror" in missing.stderr
