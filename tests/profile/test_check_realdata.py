"""`attack-pipeline check`: passes on its own baseline, fails on a profile made worse on
purpose and on a deployed rule that names a technique id the release does not have;
JUnit XML and SARIF say the same.

(DeTT&CT's technique sample is left out of the gate's profile: written for ATT&CK v19, it
names T1685 and other ids that 18.1 does not have, which `check` rightly fails on.)"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import orjson
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.ingest.profiles.toml_profile import load_profile
from pipeline.profile import results
from pipeline.profile.check import evaluate
from profile_files import write_profile

BASE = """
[profile]
name = "Gate SOC"
id = "gate-soc"
platforms = ["Windows", "Linux"]
top_n = 10

[controls.nist_800_53]
version = "rev5"
implemented = [{controls}]
{extra}
[data]
dettect_data_sources = "{samples}/data-sources-endpoints.yaml"

[threat]
groups = ["G0006", "G0016"]
"""
FULL = '"AC-2", "AC-3", "AC-4", "AC-6", "CM-2", "CM-6", "CM-7", "SI-3", "SI-4", "SI-7", "IA-2", "SC-7"'
STALE_RULE = '[[detections]]\nsource = "sigma"\nids = ["01aeb693-138d-49d2-9403-c4f52d7d3d62"]\n'


def _build(folder, default_graph, threat, samples, controls=FULL, extra=""):
    """A profile and a stand-in for a build folder holding its results."""
    path = write_profile(folder, BASE.format(samples=samples, controls=controls, extra=extra))
    profile, _ = load_profile(path)
    res = results(default_graph, profile, threat)
    out = folder / "outputs"
    (out / "profiles" / "gate-soc").mkdir(parents=True)
    (out / "profiles" / "gate-soc" / "results.json").write_bytes(orjson.dumps(res))
    return path, out, res


@pytest.fixture(scope="module")
def base(tmp_path_factory, default_graph, threat, samples):
    return _build(tmp_path_factory.mktemp("base"), default_graph, threat, samples)


def _run(mirror, *args):
    return CliRunner().invoke(cli, ["check", "--mirror", str(mirror), "--attack-version", "18.1", *map(str, args)], catch_exceptions=False)


def test_baseline_passes(base, mirror):
    path, out, res = base
    s = res["summary"]["status"]
    result = _run(mirror, path, "--out", out, "--baseline", out)
    assert result.exit_code == 0, result.output
    assert res["findings"] and all(f["severity"] == "warning" for f in res["findings"])
    n = res["summary"]["techniques"]
    assert result.output.splitlines() == [
        f"check gate-soc (ATT&CK 18.1, {path}): passed",
        f"  coverage:     {s['covered']} covered, {s['partial']} partial, {s['uncovered']} uncovered of {n} (baseline {s['covered']}, {s['partial']}, {s['uncovered']})",
        f"  regressions:  none ({n} checked)",
        "  top 10:       none (10 checked)",
        f"  stale ids:    none ({len(res['findings'])} warning(s) in results.json)",
    ]


def test_worse_profile_fails(base, mirror, tmp_path, default_graph, threat, samples):
    _, base_out, base_res = base
    path, out, res = _build(tmp_path, default_graph, threat, samples, controls='"AC-2"')
    verdict = evaluate(res, base_res)
    regressions = [f for f in verdict.failures if f.check == "coverage-regression"]
    top = [f for f in verdict.failures if f.check == "top-uncovered"]
    assert regressions and top
    # Every regression is a technique the baseline covered and this profile does not.
    lost = {t for t, r in base_res["techniques"].items() if r["status"] == "covered" and res["techniques"][t]["status"] != "covered"}
    assert {f.subject for f in regressions} == lost
    junit, sarif = tmp_path / "junit.xml", tmp_path / "check.sarif"
    result = _run(mirror, path, "--out", out, "--baseline", base_out, "--junit", junit, "--sarif", sarif)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"check gate-soc (ATT&CK 18.1, {path}): FAILED"
    assert lines[2] == f"  regressions:  {len(regressions)}"
    assert lines[3:8] == [f"    {f.message}" for f in regressions[:5]]
    assert f"  top 10:       {len(top)}" in lines
    assert lines[-1] == f"error: check failed: {len(verdict.failures)} failure(s)"
    suite = ET.parse(junit).getroot().find("testsuite")
    failures = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failures) == len(verdict.failures)
    doc = json.loads(sarif.read_text())
    assert doc["version"] == "2.1.0"
    got = doc["runs"][0]["results"]
    assert len(got) == len(verdict.failures)
    assert {r["ruleId"] for r in got} == {"coverage-regression", "top-uncovered"}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == path.as_posix() for r in got)


def test_rule_on_unknown_id_fails(base, mirror, tmp_path, default_graph, threat, samples):
    _, base_out, _ = base
    path, out, res = _build(tmp_path, default_graph, threat, samples, extra=STALE_RULE)
    sarif = tmp_path / "check.sarif"
    result = _run(mirror, path, "--out", out, "--baseline", base_out, "--sarif", sarif)
    assert result.exit_code == 1
    assert "  stale ids:    1" in result.output.splitlines()
    assert (
        "    sigma:01aeb693-138d-49d2-9403-c4f52d7d3d62: deployed rule 'RDP Connection Allowed Via Netsh.EXE' names unknown technique T1686.003"
        in result.output.splitlines()
    )
    (found,) = json.loads(sarif.read_text())["runs"][0]["results"]
    assert found["ruleId"] == "stale-id"
    # Located on the line of the profile that deploys the rule.
    line = found["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert "RDP" not in path.read_text().splitlines()[line - 1] and line >= 1
