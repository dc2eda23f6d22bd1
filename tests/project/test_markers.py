"""The line `make check` draws: the files it names exist, each gives it at least one test,
and a test marked slow stays out of it."""

from __future__ import annotations

import subprocess
import sys

from markers import CHECK_FILES
from testpaths import ROOT


def test_every_check_file_exists():
    missing = [path for path in CHECK_FILES if not (ROOT / path).is_file()]
    assert not missing, f"CHECK_FILES names files that are gone: {missing}"


def test_make_check_selects_every_named_file_and_no_slow_test():
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", "check and not slow and not reference"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    files = {line.split("::")[0] for line in collected.splitlines() if "::" in line}
    assert files == set(CHECK_FILES)
    assert "test_real_default_build_file_names_are_portable" not in collected  # a default build: slow
    assert "test_navlayers_exporters_render_the_coverage_layer" not in collected
