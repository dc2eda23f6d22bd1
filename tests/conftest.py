"""Shared fixtures. Real-data tests read the offline mirror (ATTACK_PIPELINE_MIRROR, else
../shared/data beside the repository); with ATTACK_PIPELINE_REQUIRE_DATA=1 (CI) a
missing mirror fails those tests instead of skipping them.

Property tests run under a hypothesis profile chosen by ATTACK_PIPELINE_HYPOTHESIS
(default `fixed`): `fixed` (`make test`, CI) derandomises them, so each run tries the
same inputs and a red run is a regression, never a lucky draw, and puts no wall-clock
deadline on an input; `fuzz` (`make fuzz`) draws new inputs every run, with a 5 s
deadline per input and the example database to replay what it found."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

HYPOTHESIS_PROFILE_ENV = "ATTACK_PIPELINE_HYPOTHESIS"
hypothesis_settings.register_profile("fixed", derandomize=True, database=None, deadline=None, print_blob=True)
hypothesis_settings.register_profile("fuzz", derandomize=False, deadline=timedelta(seconds=5), print_blob=True)
hypothesis_settings.load_profile(os.environ.get(HYPOTHESIS_PROFILE_ENV, "fixed"))

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
