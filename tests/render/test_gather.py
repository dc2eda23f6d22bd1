"""Gather, then render: once the context is gathered, the renderers read no source.

The architecture test proves that no renderer imports ingest, fetch or the workspace;
this one runs every registered renderer with source resolution made impossible, and
checks that the issues a report lists are the issues the build counts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

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


def _with_disabled_tables(root):
    """The small mirror of the STIX tests (three enabled tables) with two disabled
    tables: one readable with a row of an unknown control, one whose file is missing,
    and a third whose framework version's catalogue is missing;
    returns a function that opens a new workspace of it."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "stix"))
    import stix_small

    sources = stix_small.write_mirror(root)
    rows = [
        {"capability_id": "AC-99", "attack_object_id": "T1046", "mapping_type": "mitigates", "status": "complete",
         "capability_group": "AC", "attack_object_name": "Network Service Scanning", "references": [], "comments": ""},
        {"capability_id": "AC-2", "attack_object_id": "T9001", "mapping_type": "mitigates", "status": "complete",
         "capability_group": "AC", "attack_object_name": "Old A", "references": [], "comments": ""},
    ]
    meta = stix_small._meta("nist_800_53", "rev5", {"AC": "Access Control"})
    f.write(root / "mirror" / "mappings" / "old-nist.json", {"metadata": meta, "mapping_objects": rows})
    f.write(root / "mirror" / "mappings" / "rev4.json", {"metadata": meta | {"mapping_framework_version": "rev4"}, "mapping_objects": rows})
    extra = (  # the catalogue of rev4 is missing: reading the rev4 table notes it
        '\n[[source]]\nid = "test/cat-rev4"\nkind = "catalog"\nformat = "nist-controls-tsv"\nurl = "https://example.org/c4.tsv"\n'
        'mirror = "mappings/c4.tsv"\nframework = "nist_800_53"\nframework_version = "rev4"\nlicense = "Apache-2.0"\n'
    )
    for sid, file, version in (("test/old-nist", "old-nist.json", "rev5"), ("test/gone", "gone.json", "rev5"), ("test/rev4", "rev4.json", "rev4")):
        extra += (
            f'\n[[source]]\nid = "{sid}"\nkind = "mapping"\nformat = "mapex-json"\nurl = "https://example.org/{file}"\n'
            f'mirror = "mappings/{file}"\nframework = "nist_800_53"\nframework_version = "{version}"\ndomain = "enterprise"\n'
            f'attack_version = "99.0"\nlicense = "Apache-2.0"\nenabled = false\n'
        )
    sources.write_text(sources.read_text() + extra)
    return lambda: Workspace.open(load_config(sources), root / "mirror", stix_small.VERSION)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_mapping_reports_are_the_same_in_workers(tmp_path, monkeypatch, jobs):
    """The disabled tables are read for their reports in worker processes: the reports,
    their order and the issues (in the order a serial gathering finds them) do not
    depend on how many processes gathered them, nor do the report files."""
    workspace = _with_disabled_tables(tmp_path)
    monkeypatch.setenv("ATTACK_PIPELINE_JOBS", "1")
    alone = gather(workspace())
    monkeypatch.setenv("ATTACK_PIPELINE_JOBS", jobs)
    ctx = gather(workspace())

    assert [r.source.id for r in ctx.mapping_reports] == ["test/nist", "test/azure", "test/kev", "test/old-nist", "test/gone", "test/rev4"]
    by_id = {r.source.id: r for r in ctx.mapping_reports}
    assert by_id["test/gone"].report is None and "mappings/gone.json" in by_id["test/gone"].problem, by_id["test/gone"].problem
    old = by_id["test/old-nist"].report
    assert old["enabled"] is False and old["mappings"] == 2
    assert old["accounting"]["not_in_graph"] == {"source-disabled": 2}
    assert any("AC-99" in i["problem"] for i in old["issues"])
    assert ctx.mapping_reports == alone.mapping_reports
    assert [i.as_dict() for i in ctx.issues] == [i.as_dict() for i in alone.issues]
    assert any(i.record == "source 'test/cat-rev4'" for i in ctx.issues)  # found while reading test/rev4
    assert dict(ctx.unread) == dict(alone.unread) and "test/cat-rev4" in ctx.unread

    from pipeline.render.reconcile import render

    trees = []
    for name, c in (("a", alone), ("b", ctx)):
        out = tmp_path / f"out-{name}"
        render(c, out)
        trees.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert trees[0] == trees[1] and "reports/reconcile/test--old-nist.json" in trees[0]


def test_a_table_read_for_its_report_is_not_kept(tmp_path, monkeypatch):
    """Gathered in this process (one process), the disabled tables' records are let go
    once their reports are made; the enabled tables, which the graph holds, stay."""
    from pipeline.reconcile.controls import _memo

    workspace = _with_disabled_tables(tmp_path)()
    monkeypatch.setenv("ATTACK_PIPELINE_JOBS", "1")
    ctx = gather(workspace)
    assert {r.source.id for r in ctx.mapping_reports if r.report is not None} >= {"test/old-nist", "test/rev4"}
    enabled = {"test/nist", "test/azure", "test/kev"}
    assert set(_memo(workspace, "reconciled")) == enabled
    assert set(_memo(workspace, "tables")) == enabled


def test_report_pieces_are_claimed_largest_first(tmp_path):
    """The groups of tables to report on go to the processes by the size of their
    files, largest first, ties in their order; a table whose file cannot be found
    counts nothing (its report says why)."""
    from types import SimpleNamespace

    from pipeline.core.errors import PipelineError
    from pipeline.gather import by_cost

    sizes = {"a": 10, "b": 300, "c": 50, "d": 50, "e": 200}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)

    def resolve(source):
        if source == "gone":
            raise PipelineError("not in the mirror")
        return SimpleNamespace(path=tmp_path / source)

    ws = SimpleNamespace(resolve=resolve)
    sources = ["a", "b", "c", "d", "e", "gone", "missing-file"]
    groups = [[0], [1], [2, 5], [3], [4, 6]]
    assert by_cost(ws, sources, groups) == [[1], [4, 6], [2, 5], [3], [0]]
