"""The layers this project builds at ATT&CK 12.1, upgraded to 18.1, against the same layers
built at 18.1: where they must agree they do, and every difference is in an explicit,
asserted list of reasons (tests/upgrade/layer_comparison.py classifies them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from layer_comparison import compare

# (what differs, why) → how many, over every Enterprise layer of the two builds.
EXPECTED = {
    # Mapping rows and rules on techniques that 12.1 lacks were left out of the 12.1 build.
    ("entry only in the target build", "technique added after the old release"): 2439,
    # A parent gets an entry when one of its sub-techniques is mapped; those sub-techniques are new.
    ("entry only in the target build", "parent of a sub-technique added after the old release"): 196,
    # T1574.002 is revoked into T1574.001 in 18.1: the 18.1 build counts the rows of both, the
    # upgrade merges the two entries by its stated rule (the highest score).
    ("score differs", "revoked into this technique: upgrade keeps the highest score, the build counts both"): 21,
    # Controls whose every mapped technique is new since 12.1 (SC-5, SC-40, a VERIS action).
    ("layer only in the target build", "every technique added after the old release"): 3,
    # Group layers and the gaps layer are ATT&CK's own relationships: 39 groups are new since
    # 12.1 and one is gone; these layers are rebuilt from the release, not upgraded.
    ("layer only in one", "ATT&CK release data"): 40,
    ("layer compared", "skipped: ATT&CK release data"): 130,
    ("layer compared", "agrees on every other entry"): 1041,
}


def _layers(config, mirror, version: str, out: Path) -> Path:
    from pipeline.gather import gather
    from pipeline.render.navigator import render
    from pipeline.workspace import Workspace

    ws = Workspace.open(config, mirror, version, ("enterprise",))
    render(gather(ws, renderers=("layers",)), out)
    return out / "layers"


@pytest.mark.realdata
def test_layers_built_at_12_1_upgraded_to_18_1_agree_with_the_18_1_build(config, mirror, tmp_path):
    from pipeline.upgrade.releases import DomainReleases
    from pipeline.upgrade.run import upgrade_layers, write

    old = _layers(config, mirror, "12.1", tmp_path / "b12")
    new = _layers(config, mirror, "18.1", tmp_path / "b18")
    results = upgrade_layers(config, mirror, [old], "18.1")
    assert len(results) == 1173
    # Every layer of a build is read as 12.1 (versions.attack "12") and nothing needs a decision.
    assert {r.report["source_release"]["version"] for r in results} == {"12.1"}
    assert sum(r.needs_decision for r in results) == 0
    write(results, tmp_path / "up")
    releases = DomainReleases(config, mirror, "enterprise", "18.1")
    found, unexplained = compare(tmp_path / "up", new, releases.index("12.1"), releases.target)
    # VERIS ids that differ only by case are named over the control ids a build has
    # (pipeline.render.naming): one twin of "action.malware.vector.Remote-injection"
    # has layers at 18.1 only, so the file names of the pair differ between the builds.
    twin = "enterprise/frameworks/veris/controls/action.malware.vector.Remote-injection"
    twins = sorted(u[1] for u in unexplained if u[0] == "layer" and u[1].startswith(twin))
    unexplained = [u for u in unexplained if not (u[0] == "layer" and u[1].startswith(twin))]
    assert unexplained == []
    # The pair is the one layer the two builds name differently, so it is not compared.
    assert twins == [twin + "-c7f9decb.json", twin + ".json"]
    assert dict(found) == EXPECTED
