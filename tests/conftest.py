"""Shared fixtures. Real-data tests read the offline mirror (ATTACK_PIPELINE_MIRROR, else
../shared/data beside the repository); with ATTACK_PIPELINE_REQUIRE_DATA=1 (CI) a
missing mirror fails those tests instead of skipping them.

Property tests run under a hypothesis profile chosen by ATTACK_PIPELINE_HYPOTHESIS
(default `fixed`): `fixed` (`make test`, CI) derandomises them, so each run tries the
same inputs and a red run is a regression, never a lucky draw, and puts no wall-clock
deadline on an input; `fuzz` (`make fuzz`) draws new inputs every run, with a 5 s
deadline per input and the example database to replay what it found."""

from __future__ import annotations

import dataclasses
import gc
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from testpaths import HYPOTHESIS_PROFILE_ENV

hypothesis_settings.register_profile("fixed", derandomize=True, database=None, deadline=None, print_blob=True)
hypothesis_settings.register_profile("fuzz", derandomize=False, deadline=timedelta(seconds=5), print_blob=True)
hypothesis_settings.load_profile(os.environ.get(HYPOTHESIS_PROFILE_ENV, "fixed"))

from markers import CHECK_FILES
from testpaths import AZURE_2021, AZURE_2025, ROOT, SOURCES, mirror_dir


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden files under tests/golden/ from what the tests render, then compare")


@dataclass(frozen=True)
class Golden:
    """The golden files: bytes a renderer must reproduce exactly. One place decides whether a
    test compares against them or rewrites them (`pytest --update-golden`), so every golden
    test updates the same way and says how in its failure."""

    root: Path
    update: bool

    def check(self, name: str, data: bytes | str) -> None:
        path = self.root / name
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
        assert raw == path.read_bytes(), f"differs from {path} (pytest --update-golden rewrites it)"


@pytest.fixture
def collector_as_found():
    """The cyclic collector given back as the test found it, nothing frozen (the tests
    of pipeline/build/collector.py and pipeline/core/perf.py change both)."""
    gc.unfreeze()
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


@pytest.fixture(scope="session")
def golden(request) -> Golden:
    return Golden(ROOT / "tests" / "golden", bool(request.config.getoption("--update-golden")))


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
    from pipeline.core.config import load_config

    return load_config(SOURCES)


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
    from pipeline.graph.build import build_graph

    return build_graph([release_cache(d, "18.1") for d in ("enterprise", "mobile", "ics")])


@pytest.fixture(scope="session")
def workspace_18(config, mirror):
    """The default build's inputs at ATT&CK 18.1 (every domain, every enabled table and
    corpus), its graph built once for the whole session: the control, STIX and page tests
    read the same workspace instead of loading it three times."""
    from pipeline.workspace import Workspace

    ws = Workspace.open(config, mirror, "18.1")
    ws.graph()
    return ws



def with_enabled(config, enable: tuple[str, ...] = (), disable: tuple[str, ...] = ()):
    """The same sources with some switched on or off (a user edits `enabled` in the file)."""
    sources = tuple(
        dataclasses.replace(s, enabled=True) if s.id in enable else dataclasses.replace(s, enabled=False) if s.id in disable else s
        for s in config.sources
    )
    return dataclasses.replace(config, sources=sources, _by_id={})


@pytest.fixture(scope="session")
def azure2021_workspace(config, mirror):
    """Default sources but the 2021 Azure table (the seed's) instead of the 2025 one, Enterprise
    18.1: the mapping tests (tests/ingest/mappings/) and the tables renderer's (tests/render/)."""
    from pipeline.workspace import Workspace

    ws = Workspace.open(with_enabled(config, enable=(AZURE_2021,), disable=(AZURE_2025,)), mirror, "18.1", ("enterprise",))
    ws.graph()
    return ws


# The organisation-profile tests (tests/ingest/profiles/, tests/profile/, tests/cli/): the real
# DeTT&CT samples, CTID and MISP data, the default graph.
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


# Fixtures that load the whole default graph (three domains, every enabled table and corpus:
# 10-15 s on an idle 2-core machine, each), make a real build or a site. A test that uses
# one is `slow`: `make check` (pytest -m 'not slow and not reference') leaves it out.
SLOW_FIXTURES = frozenset({
    "workspace_18",                              # the default inputs at 18.1 (aliased by the three below)
    "full_graph", "full_layers",                 # tests/render/test_layer_sets.py: the 1,440 layers of the default build
    "default_ws", "default_stix", "attack_stix",  # tests/render/stix/: every bundle of the default build
    "workspace", "azure2021_workspace",          # tests/ingest/mappings/, tests/render/test_tables_realdata.py: the default graph, and one with the 2021 Azure table
    "real_workspace", "real_docs", "seed_site",  # tests/render/pages/: the whole docs tree of the default build
    "enterprise_site",                           # tests/site/: a real build and its site, in Chromium
    "books",                                     # tests/reconcile/test_source_accounting.py: every enabled table row by row
    "small",                                     # tests/build/test_kill_build.py: real builds killed at 50 points
    "default_build",                             # tests/build/test_build.py: a real build of the default inputs (~35 s)
})
# Slow for another reason than a fixture, with the reason.
SLOW_TESTS = {
    "test_real_default_build_is_reproducible": "two full builds of the default inputs, compared byte for byte",
    "test_one_edited_source_rerenders_only_what_reads_it": "full builds before and after edits, and fresh full builds to compare",
    "test_racing_builds_after_a_kill_take_the_lock_one_at_a_time": "six builds racing for a lock",
    "test_a_fresh_clone_stays_clean_after_a_build_and_a_site": "a clone, a full build and the whole site",
    "test_stats_on_every_enterprise_release": "the whole default graph of each of the eight Enterprise releases",
    "test_show_t1046_json_on_real_data": "the whole default graph, read from the sources",
    "test_show_lists_detections_with_source_and_language": "the whole default graph, read from the sources",
    "test_build_strict": "a build of the default inputs",
    "test_build_writes_a_report_per_mapping_source": "a build of the default inputs",
    "test_show_lists_controls_by_framework": "the whole default graph, read from the sources",
    "test_navlayers_exporters_render_the_coverage_layer": "mitreattack-python's SVG and Excel exporters on a real layer (~35 s)",
    "test_layer_command": "the whole Enterprise graph read from the sources, twice",
}



def pytest_collection_modifyitems(items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "mirror" in names:
            item.add_marker(pytest.mark.realdata)
        if names & SLOW_FIXTURES or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        path = Path(str(item.path))
        if path.is_relative_to(ROOT) and path.relative_to(ROOT).as_posix() in CHECK_FILES:
            item.add_marker(pytest.mark.check)
