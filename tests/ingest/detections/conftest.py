"""Fixtures of the detection tests: one shared load of every corpus (the mirror and the
config come from tests/conftest.py; helpers are in detection_helpers.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def workspace(mirror, config):
    from pipeline.workspace import Workspace

    return Workspace.open(config, mirror)


@pytest.fixture(scope="session")
def detection_set(workspace, tmp_path_factory):
    """Every enabled source plus ATT&CK's analytics, parsed once for the session."""
    from pipeline.ingest.detections.load import load_detections

    return load_detections(workspace, cache_dir=tmp_path_factory.mktemp("parsed"), jobs=2)


@pytest.fixture(scope="session")
def by_source(detection_set):
    out: dict[str, list] = {}
    for d in detection_set.detections:
        out.setdefault(d.source, []).append(d)
    return out
