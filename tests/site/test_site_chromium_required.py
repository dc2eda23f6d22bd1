"""Without Chromium the browser tests skip on a developer's machine and fail in CI
(ATTACK_PIPELINE_REQUIRE_DATA=1): a CI run must not pass without having opened a page."""

from __future__ import annotations

import os
import subprocess
import sys

from testpaths import ROOT

TEST = "tests/site/test_site_hostile.py::test_no_script_runs_in_the_browser"


def _pytest(tmp_path, require: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "ATTACK_PIPELINE_REQUIRE_DATA")}
    env["ATTACK_PIPELINE_CHROMIUM"] = str(tmp_path / "no-chromium")
    env["ATTACK_PIPELINE_TEST_ARTIFACTS"] = str(tmp_path / "artifacts")
    if require:
        env["ATTACK_PIPELINE_REQUIRE_DATA"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / ("req" if require else "opt")), TEST]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_missing_chromium_fails_when_required_and_skips_otherwise(tmp_path):
    required = _pytest(tmp_path, True)
    assert required.returncode == 1, required.stdout[-2000:]
    assert "Chromium not found" in required.stdout and "1 error" in required.stdout
    optional = _pytest(tmp_path, False)
    assert optional.returncode == 0, optional.stdout[-2000:]
    assert "1 skipped" in optional.stdout
