"""Gather, then render: once the context is gathered, the renderers read no source.

The architecture test proves that no renderer imports ingest, fetch or the workspace;
this one runs every registered renderer with source resolution made impossible, and
checks that the issues a report lists are the issues the build counts.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest

import stix_factory as f
from pipeline.core.config import load_config
from pipeline.fetch import Resolver
from pipeline.gather import gather
from pipeline.render import NotGathered, RenderContext
from pipeline.render.registry import RENDERERS
from pipeline.workspace import Workspace


@pytest.fixture
def workspace(tmp_path):
    mirror = tmp_path / "mirror"
    doc = f.small_bundle()
    doc["objects"].append({"type": "x-vendor-thing", "id": "x-vendor-thing--1"})  # one warning
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", doc, gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "99.0")])
    return Workspace.open(load_config(sources), mirror, "99.0")


def test_renderers_read_only_the_context(workspace, tmp_path, monkeypatch):
    ctx = gather(workspace)
    assert ctx.issues, "the fixture's bundle has an unknown object type"

    def refuse(*_args, **_kwargs):
        raise AssertionError("a renderer asked for a source")

    monkeypatch.setattr(Workspace, "resolve", refuse)
    monkeypatch.setattr(Resolver, "resolve", refuse)
    monkeypatch.setattr(Workspace, "releases", refuse)
    out = tmp_path / "out"
    out.mkdir()
    for render in RENDERERS.values():
        render(ctx, out)
    listed = orjson.loads((out / "reports" / "issues.json").read_bytes())
    assert len(listed) == len(ctx.issues) == len(workspace.issues)
    assert orjson.loads((out / "reports" / "diffs.json").read_bytes()) == {
        "enterprise": {"skipped": "no enterprise release older than 99.0 in the sources"}
    }


def test_the_context_is_frozen(workspace):
    ctx = gather(workspace, renderers=("readme",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.issues = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        ctx.unread["x"] = "y"  # type: ignore[index]


def test_a_part_not_gathered_is_named(workspace, tmp_path):
    ctx = gather(workspace, renderers=("readme",))
    with pytest.raises(NotGathered, match="'diffs'"):
        RENDERERS["diff"](ctx, tmp_path)


def test_a_context_without_a_workspace_renders_profiles(tmp_path):
    import networkx as nx

    assert RENDERERS["profiles"](RenderContext(graph=nx.MultiDiGraph()), tmp_path) == []
