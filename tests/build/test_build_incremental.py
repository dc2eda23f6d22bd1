"""Incremental builds on the real default sources: an edited mapping table or detection
file re-renders what reads it, takes every other render unit from the previous build,
and ends byte-identical to a full build of the same inputs."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from mirror_overlay import overlay
from pipeline.build import build
from pipeline.core.config import load_config
from pipeline.workspace import Workspace

AWS = "mappings/mappings-explorer/aws/attack-16.1/aws-12.12.2024/enterprise/aws-12.12.2024_attack-16.1-enterprise.json"
M365 = "detections/m365-hunting-queries"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _build(mirror: Path, out: Path, force: bool = False):
    ws = Workspace.open(load_config(), mirror)
    return build(ws, out, force=force)


def _shas(result) -> dict[str, str]:
    return {a.path: a.sha256 for a in result.artifacts}


def _same_file(a: Path, b: Path) -> bool:
    return os.stat(a).st_ino == os.stat(b).st_ino


@pytest.mark.realdata
def test_one_edited_source_rerenders_only_what_reads_it(mirror, tmp_path):
    card = sorted((mirror / M365 / "Discovery").iterdir())[0].name
    view = tmp_path / "mirror"
    aws = overlay(mirror, view, AWS)
    # The hunting-query corpus is read by walking its folders: give it real ones.
    hunting = overlay(mirror, tmp_path / "mirror2", f"{M365}/Discovery/{card}", whole=M365)
    (view / "detections").unlink()
    (view / "detections").symlink_to(tmp_path / "mirror2" / "detections")
    out = tmp_path / "outputs"

    first = _build(view, out)
    before = first.folder
    assert not first.reused

    # 1. One comment edited and one row dropped in the AWS table.
    doc = orjson.loads(aws.read_bytes())
    doc["mapping_objects"][0]["comments"] = "Edited for the incremental build test."
    dropped = doc["mapping_objects"].pop(5)
    aws.write_bytes(orjson.dumps(doc))
    second = _build(view, out)
    rendered, reused = set(second.rendered), set(second.reused)
    changed = {p for p, sha in _shas(second).items() if _shas(first).get(p) != sha}
    assert changed and changed <= rendered, "a changed file was not rendered by this build"
    assert "tables/enterprise/aws--12.12.2024.csv" in changed
    assert "stix/mappings/aws--12.12.2024.json" in changed
    assert any(p.startswith("layers/enterprise/frameworks/aws/") for p in changed)
    assert any(p.startswith("docs/controls/aws/") for p in changed)
    assert f"docs/techniques/{dropped['attack_object_id']}.md" in changed
    # A technique card is rendered again only where the table maps the technique (or one
    # of its sub-techniques): the others are taken.
    # (The build's own unified export lists the reconciled targets, before and after.)
    export = "tables/enterprise/aws--12.12.2024.json"
    mapped = {
        o["attack_object_id"]
        for build_ in (before, second.folder)
        for o in orjson.loads((build_ / export).read_bytes())["mapping_objects"]
        if o.get("attack_object_id")
    }
    cards = {p.removeprefix("docs/techniques/").removesuffix(".md") for p in rendered if p.startswith("docs/techniques/")}
    assert cards and cards <= mapped | {m.split(".")[0] for m in mapped}, cards - mapped
    assert sum(p.startswith("docs/techniques/") for p in reused) > 400
    # Units that do not read the AWS table are taken as they were: the same files (hard links).
    for kept in (
        "tables/enterprise/nist_800_53--rev5.xlsx",
        "stix/mappings/nist_800_53--rev5.json",
        "stix/detections/sigma.json",
        "layers/enterprise/frameworks/nist_800_53/overview.json",
        "layers/enterprise/detections/sigma.json",
        "reports/reconcile/mapex--azure-04.26.2025--attack-16.1--enterprise.json",
        "docs/frameworks/nist_800_53.md",
    ):
        assert kept in reused, kept
        assert _same_file(before / kept, second.folder / kept)
    assert not any(p.startswith(("docs/controls/aws/", "tables/enterprise/aws", "stix/mappings/aws")) for p in reused)
    assert sum(p.startswith("docs/detections/") for p in reused) > 5000
    # The query packs read the detection corpora only: taken whole. A group page is
    # rendered again only when the coverage of a technique it uses changed (step 3 shows
    # that the ones taken are right).
    packs = {a.path for a in second.artifacts if a.path.startswith("queries/")}
    assert packs and packs <= reused
    groups = {a.path for a in second.artifacts if a.path.startswith("docs/groups/")}
    assert len(groups & reused) > len(groups) / 2
    assert len(rendered) < len(second.artifacts) / 20
    # The previous build is untouched by the links into it.
    old = orjson.loads((before / "manifest.json").read_bytes())
    assert _shas(first) == {a["path"]: a["sha256"] for a in old["artifacts"]}
    assert _files(before).keys() >= {a["path"] for a in old["artifacts"]}

    # 2. One hunting query's text edited: its corpus re-renders, the mapping units do not.
    hunting.write_text(hunting.read_text(encoding="utf-8") + "\n// edited for the incremental build test\n", encoding="utf-8")
    third = _build(view, out)
    reused3 = set(third.reused)
    assert "stix/detections/m365-hunting-queries.json" not in reused3
    assert "stix/detections/sigma.json" in reused3
    assert not any(p.startswith("queries/") for p in reused3)  # the packs hold the hunting queries
    assert "stix/mappings/aws--12.12.2024.json" in reused3
    assert "tables/enterprise/aws--12.12.2024.xlsx" in reused3
    assert not any(p.startswith("docs/detections/m365-hunting-queries/") for p in reused3)
    assert any(p.startswith("docs/detections/sigma/") for p in reused3)

    # 3. The chain of incremental builds ends where a full build of the same inputs does.
    full = _build(view, tmp_path / "full", force=True)
    assert not full.reused
    assert _files(third.folder) == _files(full.folder)
