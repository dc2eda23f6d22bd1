"""An enabled source that cannot be read stops a build (the previous outputs stay),
unless --keep-going, and then the summary says what is missing; `stats` and `show` name
it first among their warnings."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from build_fixture import TABLE, TABLE_ID, run, small_mirror
from mirror_overlay import overlay

PROBLEM = f"{TABLE}: not valid JSON: unexpected end of data: line 1 column 708 (char 707)"
NIST_REV5_ID = "mapex/nist_800_53-rev5/attack-16.1/enterprise"
NIST_REV5 = "mappings/mappings-explorer/nist_800_53/attack-16.1/nist_800_53-rev5/enterprise/nist_800_53-rev5_attack-16.1-enterprise.json"


def truncate(path: Path, keep: int | None = None) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 if keep is None else keep])


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def small(tmp_path):
    s = small_mirror(tmp_path)
    assert s.build().exit_code == 0
    truncate(s.mirror / TABLE, 707)
    return s


def test_build_stops_and_keeps_the_previous_outputs(small):
    live = small.out.resolve()
    before = tree(live)
    r = small.build()
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == (
        f"error: enabled source {TABLE_ID!r} cannot be read: {PROBLEM}; nothing was built and the previous "
        "outputs are kept (--keep-going builds without it)\n"
    )
    assert small.out.resolve() == live and tree(live) == before
    assert small.folders() == [live.name]


def test_keep_going_publishes_and_says_what_is_missing(small):
    r = small.build("--keep-going")
    assert r.exit_code == 0, r.output
    line = f"  missing:   source {TABLE_ID!r} could not be read; its content is not in this build: {PROBLEM}\n"
    assert line in r.stdout
    assert r.stderr.startswith(f"warning: source {TABLE_ID!r}: cannot be read, its mappings are missing: {PROBLEM}\n")
    summary = orjson.loads((small.out / "reports" / "summary.json").read_bytes())
    assert summary["missing_sources"] == [{"source": TABLE_ID, "problem": PROBLEM}]
    assert orjson.loads((small.out / "manifest.json").read_bytes())["missing_sources"] == [{"source": TABLE_ID, "problem": PROBLEM}]
    # Nothing changed since: a build without --keep-going does not pass the degraded build as good.
    again = small.build()
    assert again.exit_code == 1
    assert again.stderr == (
        f"error: enabled source {TABLE_ID!r} cannot be read: {PROBLEM}; the live build was made without it "
        "(--keep-going): fix the source, or build with --keep-going to keep it\n"
    )
    kept = small.build("--keep-going")
    assert kept.exit_code == 0 and "up to date" in kept.stdout and line in kept.stdout


@pytest.mark.parametrize("command", [["stats"], ["show", "T1046"]])
def test_stats_and_show_name_the_source_first(small, command):
    r = run(*command, *small.opts)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines()[0] == f"warning: source {TABLE_ID!r}: cannot be read, its mappings are missing: {PROBLEM}"


@pytest.mark.realdata
def test_a_truncated_real_table_stops_the_default_build(mirror, tmp_path):
    """The enabled NIST 800-53 rev5 table cut in half in an overlay of the real mirror:
    `stats` names it on its first warning line (there are 20 more), `build` stops on it."""
    view = tmp_path / "mirror"
    truncate(overlay(mirror, view, NIST_REV5))
    env = {"ATTACK_PIPELINE_MIRROR": str(view)}
    stats = run("stats", env=env)
    assert stats.exit_code == 0
    # The first warning (a note on a newer listed release may come before it).
    first = [line for line in stats.stderr.splitlines() if not line.startswith("note: ")][0]
    assert first.startswith(f"warning: source {NIST_REV5_ID!r}: cannot be read, its mappings are missing: {NIST_REV5}: not valid JSON: ")
    out = tmp_path / "outputs"
    r = run("build", "--out", out, env=env)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith(f"error: enabled source {NIST_REV5_ID!r} cannot be read: {NIST_REV5}: not valid JSON: ")
    assert r.stderr.endswith("; nothing was built and the previous outputs are kept (--keep-going builds without it)\n")
    assert r.stderr.count("\n") == 1
    assert not out.exists() and not [p for p in (tmp_path / ".outputs.builds").iterdir() if p.is_dir()]
    assert os.listdir(view / Path(NIST_REV5).parent) == [Path(NIST_REV5).name]
