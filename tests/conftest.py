"""Shared fixtures. Real-data tests read the offline mirror (ATTACK_PIPELINE_MIRROR, else
../shared/data beside the repository); with ATTACK_PIPELINE_REQUIRE_DATA=1 (CI) a
missing mirror fails those tests instead of skipping them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testpaths import ROOT, mirror_dir


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = mirror_dir()
    if path is None:
        if os.environ.get("ATTACK_PIPELINE_REQUIRE_DATA") == "1":
            pytest.fail("the offline mirror is required (ATTACK_PIPELINE_REQUIRE_DATA=1) but was not found")
        pytest.skip("offline mirror not found: set ATTACK_PIPELINE_MIRROR")
    return path


@pytest.fixture(scope="session", autouse=True)
def _cache_outside_the_repository(tmp_path_factory) -> None:
    """Downloads and parsed-file caches of the tests never land in data/cache."""
    os.environ.setdefault("ATTACK_PIPELINE_CACHE", str(tmp_path_factory.mktemp("cache")))
    # Nor does the user's own config (`attack-pipeline init`) reach them.
    os.environ.setdefault("ATTACK_PIPELINE_CONFIG_DIR", str(tmp_path_factory.mktemp("user-config")))


@pytest.fixture(scope="session")
def config():
    from pipeline.config import load_config

    return load_config(ROOT / "data" / "sources.toml")


@pytest.fixture(scope="session")
def release_cache(mirror):
    """Each real release is parsed once per test session."""
    from pipeline.ingest.attack import read_attack_release

    cache: dict = {}

    def get(domain: str, version: str):
        key = (domain, version)
        if key not in cache:
            path = mirror / "attack" / f"{domain}-attack-{version}.json.gz"
            cache[key] = read_attack_release(path, domain=domain, version=version)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def graph_18(release_cache):
    from pipeline.graph import build_graph

    return build_graph([release_cache(d, "18.1") for d in ("enterprise", "mobile", "ics")])


def pytest_collection_modifyitems(items):
    for item in items:
        if "mirror" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realdata)
