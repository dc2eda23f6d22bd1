"""Helpers shared by the fetch tests (the offline mirror of real inputs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def mirror_data() -> Path:
    """ATTACK_PIPELINE_MIRROR, else ../shared/data beside the repository; skipped when absent
    unless ATTACK_PIPELINE_REQUIRE_DATA=1 (CI), where a missing mirror fails the test."""
    env = os.environ.get("ATTACK_PIPELINE_MIRROR")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    if not (path / "attack").is_dir():
        if os.environ.get("ATTACK_PIPELINE_REQUIRE_DATA") == "1":
            pytest.fail("the offline mirror is required but was not found")
        pytest.skip("offline mirror not found: set ATTACK_PIPELINE_MIRROR")
    return path
