"""The previous release's diff kept between builds of the same inputs: taken when
nothing changed, computed again when any input did, never trusted when damaged, and
the build's files and issues the same either way."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from build_fixture import small_mirror
from pipeline import gather


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTACK_PIPELINE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def small(tmp_path, own_cache):
    s = small_mirror(tmp_path)
    assert s.build().exit_code == 0
    return s


def _entries(small):
    return sorted((small.root / "cache" / "parsed" / "diffs").glob("*.pickle"))


def _files(small):
    doc = orjson.loads((small.out / "manifest.json").read_bytes())
    return {a["path"]: a["sha256"] for a in doc["artifacts"]}, doc["warnings"]


def _no_diff(monkeypatch):
    def computed(_ws):
        raise AssertionError("the diff was computed again")

    monkeypatch.setattr(gather, "diffs", computed)


def test_a_forced_build_of_the_same_inputs_takes_the_kept_diff(small, monkeypatch):
    assert len(_entries(small)) == 1
    before = _files(small)
    _no_diff(monkeypatch)
    r = small.build("--force")
    assert r.exit_code == 0, r.output
    assert _files(small) == before


def test_a_changed_input_computes_the_diff_again_and_keeps_only_the_new_one(small, monkeypatch):
    first = _entries(small)
    small.edit_rule(1)
    assert small.build().exit_code == 0
    second = _entries(small)
    assert len(second) == 1 and second != first
    _no_diff(monkeypatch)
    assert small.build("--force").exit_code == 0


def test_a_damaged_entry_is_computed_again(small):
    before = _files(small)
    [entry] = _entries(small)
    entry.write_bytes(b"\x80\x05not a pickle")
    assert small.build("--force").exit_code == 0
    assert _files(small) == before
    assert entry.read_bytes()[:2] == b"\x80\x05" and len(entry.read_bytes()) > 20


def test_without_the_parse_cache_nothing_is_kept(tmp_path, own_cache, monkeypatch):
    monkeypatch.setenv("ATTACK_PIPELINE_NO_PARSE_CACHE", "1")
    s = small_mirror(tmp_path)
    assert s.build().exit_code == 0
    assert _entries(s) == []


@pytest.mark.realdata
def test_the_kept_diff_of_a_real_release_renders_the_same_files(config, mirror, tmp_path, monkeypatch):
    """Enterprise 18.1 against 16.1 with every enabled table and corpus: the diff taken
    from the cache renders the report the computed one does, byte for byte (the
    session's cache: its parsed releases and tables make this quick)."""
    from pipeline.build.fingerprint import Input
    from pipeline.build.units import Units
    from pipeline.render.registry import RENDERERS
    from pipeline.workspace import Workspace

    units = Units(settings={"code": "test"}, inputs={"attack/enterprise-18.1": Input("attack/enterprise-18.1", "attack", "mirror", "x", "0" * 64, 1, None, "18.1")})

    def rendered(name):
        ws = Workspace.open(config, mirror, "18.1", ("enterprise",))
        ctx = gather.gather(ws, renderers=["diff"], units=units)
        RENDERERS["diff"](ctx, tmp_path / name)
        return {p.relative_to(tmp_path / name).as_posix(): p.read_bytes() for p in sorted((tmp_path / name).rglob("*")) if p.is_file()}, ctx.issues

    computed, issues = rendered("computed")
    kept = list(Path(os.environ["ATTACK_PIPELINE_CACHE"], "parsed", "diffs").glob("*.pickle"))
    assert any(name.endswith(".md") for name in computed) and len(kept) == 1
    # What a worker sends back and the cache keeps is the diff, not a release (one
    # pickles to 21 MB): under 2 MB for Enterprise 18.1 against 16.1.
    assert kept[0].stat().st_size < 2_000_000
    _no_diff(monkeypatch)
    assert rendered("kept") == (computed, issues)
