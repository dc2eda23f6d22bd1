"""The sources file, structure-aware: any TOML values in any of its keys give a `Config`
or one `ConfigError` line naming the file — never a TypeError or KeyError from a value
of the wrong type (byte-level fuzzing of the real file is in test_fuzz_parsers.py)."""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_targets as ft
from testpaths import ROOT

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REAL = tomllib.loads((ROOT / "data" / "sources.toml").read_text(encoding="utf-8"))

scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["enterprise", "mobile", "ics", "18.1", "2.0", "2.1", "x/y", "../up", "/abs", "{domain}", "{x}", "}", "attack",
                       "mapping", "detection", "mapex-json", "https://example.org/", "a\\b"])
)
value = st.recursive(scalar, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8)


def judge(doc: dict) -> None:
    text = ft.toml_doc(doc)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ft.outcome(ft.TARGETS["sources-toml"], text.encode("utf-8"), folder)


def test_the_writer_round_trips_the_real_file():
    assert tomllib.loads(ft.toml_doc(REAL)) == REAL


def _paths(doc, prefix=()):
    """Every (path to a value) of the real document."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


PATHS = sorted(_paths(REAL), key=repr)


def _replace(doc, path, new):
    doc = json.loads(json.dumps(doc))
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return doc


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(PATHS), value), min_size=1, max_size=3))
def test_real_file_with_values_replaced(edits):
    doc = REAL
    for path, new in edits:
        try:
            doc = _replace(doc, path, new)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed the path
    judge(doc)


@SETTINGS
@given(st.lists(st.sampled_from(PATHS), min_size=1, max_size=4))
def test_real_file_with_keys_removed(paths):
    doc = json.loads(json.dumps(REAL))
    for path in paths:
        node = doc
        try:
            for step in path[:-1]:
                node = node[step]
            del node[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
    judge(doc)


settings_table = st.dictionaries(
    st.sampled_from(["site_url", "base_url", "max_file_bytes", "yaml_max_nodes", "yaml_max_depth", "json_max_depth", "http_timeout", "other"]),
    value | st.integers(-5, 2000) | st.sampled_from(["1_000", "0.5", "64", " 7 "]),
    max_size=5,
)
source_table = st.dictionaries(
    st.sampled_from(["id", "kind", "format", "url", "mirror", "path", "folder", "domain", "attack_version", "framework",
                     "framework_version", "repository", "enabled", "license"]),
    value,
    max_size=10,
)


@SETTINGS
@given(settings_table, st.lists(source_table, max_size=3), st.dictionaries(st.text(max_size=6), value, max_size=2))
def test_any_settings_and_sources(settings_, sources, repositories):
    doc = dict(REAL)
    doc["settings"] = settings_
    doc["source"] = sources or REAL["source"][:1]
    doc["repositories"] = repositories or REAL["repositories"]
    judge(doc)
