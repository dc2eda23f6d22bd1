"""The ATT&CK part of the release diff against mitreattack-python's changelog generator
(`mitreattack.diffStix`), Enterprise 16.1 → 18.1: the same objects in every category.

diffStix loads both releases through stix2.MemoryStore: ~20–60 s and ~430 MB here, so
it runs once per test run (a module fixture) and is marked `reference`.
"""

from __future__ import annotations

import gzip

import pytest

from pipeline.diff.attack import diff_releases

pytestmark = [pytest.mark.realdata, pytest.mark.reference]

# diffStix object type → pipeline node kind (diffStix has no tactics section).
TYPES = {
    "techniques": "technique",
    "software": "software",
    "groups": "group",
    "campaigns": "campaign",
    "assets": "asset",
    "mitigations": "mitigation",
    "datasources": "datasource",
    "datacomponents": "datacomponent",
    "detectionstrategies": "detection_strategy",
    "analytics": "analytic",
}
OLD, NEW = "16.1", "18.1"


@pytest.fixture(scope="module")
def changelog(mirror, tmp_path_factory):
    """diffStix's sections for the pair: type → section → STIX ids."""
    from loguru import logger
    from mitreattack.diffStix.changelog_helper import DiffStix

    root = tmp_path_factory.mktemp("diffstix")
    for tag, version in (("old", OLD), ("new", NEW)):
        (root / tag).mkdir()
        gz = mirror / "attack" / f"enterprise-attack-{version}.json.gz"
        (root / tag / "enterprise-attack.json").write_bytes(gzip.decompress(gz.read_bytes()))
    logger.remove()  # diffStix logs every object at DEBUG level otherwise
    d = DiffStix(domains=["enterprise-attack"], old=str(root / "old"), new=str(root / "new"), layers=None)
    return {
        t: {section: {o["id"] for o in objs} for section, objs in domains["enterprise-attack"].items()}
        for t, domains in d.data["changes"].items()
    }


def test_same_objects_in_every_category(changelog, release_cache):
    ours = diff_releases(release_cache("enterprise", OLD), release_cache("enterprise", NEW))
    assert set(changelog) == set(TYPES)
    compared = 0
    for t, kind in TYPES.items():
        for section, theirs in changelog[t].items():
            mine = {c.stix_id for c in ours.section(kind, section)}
            assert mine == theirs, f"{t}/{section}: only ours {sorted(mine - theirs)[:5]}, only diffStix {sorted(theirs - mine)[:5]}"
            compared += len(theirs)
    assert compared > 3000
    assert len(changelog["techniques"]["revocations"]) == len(ours.section("technique", "revocations")) == 1
