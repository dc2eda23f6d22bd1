"""Fixtures of the profile tests: the real DeTT&CT samples, CTID and MISP data, the
default graph (built once per session of these tests)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def samples(mirror) -> Path:
    return mirror / "profiles" / "dettect" / "sample-data"


@pytest.fixture(scope="session")
def threat(mirror):
    from pipeline.ingest.profiles.threat import read_ctid_techniques, read_misp_actors
    from pipeline.profile.threat import ThreatData

    t = mirror / "threat"
    return ThreatData(
        ctid=read_ctid_techniques(t / "top-attack-techniques" / "src" / "data" / "Techniques.json"),
        actors=read_misp_actors(t / "misp-galaxy" / "clusters" / "threat-actor.json", t / "misp-galaxy" / "clusters" / "mitre-intrusion-set.json"),
        ctid_file="threat/top-attack-techniques",
    )


@pytest.fixture(scope="session")
def default_graph(config, mirror):
    """ATT&CK 18.1 with every enabled mapping table and detection corpus."""
    from pipeline.workspace import Workspace

    return Workspace.open(config, mirror, "18.1").graph()
