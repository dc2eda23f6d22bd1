"""Which sources a build hashes before deciding whether it has anything to do."""

from __future__ import annotations

import pytest

from pipeline.build.fingerprint import build_inputs
from pipeline.core.config import version_key
from pipeline.workspace import Workspace

pytestmark = pytest.mark.realdata


def test_no_release_newer_than_the_target_is_an_input(config, mirror):
    """The sources list releases up to 19.1; a build of 18.1 reads 18.1 and older ones
    (reconciliation, the diff), never a newer one, so it never looks for one either (a
    release missing from the mirror would send every no-op build to the network)."""
    ws = Workspace.open(config, mirror, "18.1")
    listed = {s.attack_version for s in config.sources if s.kind == "attack"}
    assert any(version_key(v) > version_key("18.1") for v in listed)
    versions = {s.attack_version for s in build_inputs(ws) if s.kind == "attack"}
    assert "18.1" in versions and any(version_key(v) < version_key("18.1") for v in versions)
    assert all(version_key(v) <= version_key("18.1") for v in versions)
