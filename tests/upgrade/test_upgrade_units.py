"""Units of the upgrade: the layer reader on arbitrary input (property test), and ids
followed through an intermediate release when the target no longer has them."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.errors import InputError
from pipeline.reconcile.release_index import ReleaseIndex, RevokedEntry, TechniqueEntry
from pipeline.upgrade.read import read_layers
from pipeline.upgrade.releases import DomainReleases

SETTINGS = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
FIELDS = st.sampled_from(["name", "domain", "versions", "techniques", "filters", "gradient", "legendItems", "metadata", "links", "layout"])
ENTRY_FIELDS = st.sampled_from(["techniqueID", "tactic", "score", "color", "comment", "enabled", "metadata", "links", "showSubtechniques"])
LAYERISH = st.fixed_dictionaries(
    {"name": st.text(max_size=8), "domain": st.sampled_from(["enterprise-attack", "mobile-attack", "x"]),
     "versions": st.fixed_dictionaries({"layer": st.sampled_from(["4.0", "4.5", "3.0", 4])})},
    optional={"techniques": st.lists(st.dictionaries(ENTRY_FIELDS, JSON, max_size=4), max_size=4)},
) | st.dictionaries(FIELDS, JSON, max_size=5)


def _check(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "layer.json"
    path.write_bytes(data)
    layers, problems = read_layers([path])
    assert len(layers) + len(problems) >= 1
    for p in problems:
        assert isinstance(p, InputError) and p.file.startswith(str(path)) and "\n" not in p.one_line()


@SETTINGS
@given(value=LAYERISH)
def test_any_layer_shaped_json_is_a_layer_or_one_line(tmp_path, value):
    _check(tmp_path, json.dumps(value).encode())


@SETTINGS
@given(data=st.binary(max_size=300))
def test_any_bytes_are_a_layer_or_one_line(tmp_path, data):
    _check(tmp_path, data)


def _index(version: str, techniques: dict, revoked: dict) -> ReleaseIndex:
    return ReleaseIndex(
        domain="enterprise", version=version,
        techniques={k: TechniqueEntry(k + " name", ("TA0001",), False) for k in techniques},
        revoked={k: RevokedEntry("live", (k, v)) for k, v in revoked.items()},
        tactic_names={"TA0001": "Initial Access"}, tactic_shortnames={"TA0001": "initial-access"},
    )


def test_an_id_the_target_dropped_is_followed_through_an_intermediate_release():
    releases = object.__new__(DomainReleases)
    indexes = {
        "1.0": _index("1.0", {"T1001"}, {}),
        "2.0": _index("2.0", {"T1002"}, {"T1001": "T1002"}),  # revoked here …
        "3.0": _index("3.0", {"T1003"}, {"T1002": "T1003"}),  # … and T1001 no longer listed here
    }
    releases.domain, releases.target_version, releases.at_hand = "enterprise", "3.0", ["1.0", "2.0", "3.0"]
    releases._landings = {}
    releases.index = indexes.__getitem__
    found = releases.land("T1001", "1.0")
    assert (found.status, found.target, found.chain, found.via) == ("revoked", "T1003", ("T1001", "T1002", "T1003"), "2.0")
    assert releases.land("T1999", "1.0").status == "unknown"
