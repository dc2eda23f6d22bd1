"""A source cut short is a source that cannot be read, not a smaller source.

Tables and catalogues are cut in the middle of a row (copies of the real files in
/tmp): each must give no rows and one problem naming the file, which makes the build
stop (pipeline.reconcile.controls.unreadable); the real files themselves must not look cut.
Detection corpora: a few broken rule files cost only themselves, one warning line
each; a corpus none of whose files can be read, or whose folder cannot be listed, is
an unread source and stops the build.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest

from build_fixture import run, small_mirror
from mirror_overlay import overlay
from pipeline.core.config import load_config
from pipeline.reconcile.controls import unreadable
from pipeline.ingest.detections.corpus import load_source
from pipeline.ingest.mappings import read_catalog, read_mapping_table
from testpaths import ROOT

pytestmark = pytest.mark.realdata
CUT = "F"  # the file name the readers are told, so that the problems read the same anywhere


@pytest.fixture(scope="module")
def sources():
    return {s.id: s for s in load_config(ROOT / "data" / "sources.toml").sources}


def mid_row(data: bytes) -> bytes:
    """The file up to the middle of its middle line."""
    lines = data.splitlines(keepends=True)
    n = len(lines) // 2
    return b"".join(lines[:n]) + lines[n][: len(lines[n]) // 2]


def in_quotes(data: bytes) -> bytes:
    """The file up to 40 bytes into the first quoted cell of its second half."""
    i = data.index(b'\t"', len(data) // 2)
    return data[: i + 40]


def read(source, path: Path):
    """(rows or controls read, the problem that made the file unreadable or None)."""
    if source.kind == "catalog":
        cat = read_catalog(source, path, file=CUT)
        return len(cat.controls), unreadable(cat.issues, len(cat.controls))
    table = read_mapping_table(source, path, file=CUT)
    return table.rows, unreadable(table.issues, table.rows)


CUT_TABLES = [
    ("nist-800-53/rev4/attack-10.1/tsv", mid_row, "the last line (line 725) has no line end and 3 cells where the line before has 5"),
    ("nist-800-53/rev5/attack-12.1/tsv", mid_row, "the last line (line 2466) has no line end and 3 cells where the line before has 5"),
    ("nist-800-53/rev5/controls", mid_row, "the last line (line 1146) has no line end and 4 cells where the line before has 5"),
    ("nist-800-53/rev4/controls", in_quotes, "ends inside a quoted cell opened on line 852"),
]


@pytest.mark.parametrize(("source_id", "cut", "problem"), CUT_TABLES, ids=[c[0] for c in CUT_TABLES])
def test_a_tsv_cut_mid_row_is_unreadable(mirror, sources, tmp_path, source_id, cut, problem):
    source = sources[source_id]
    real = mirror / source.mirror_path
    assert read(source, real)[1] is None
    damaged = tmp_path / real.name
    damaged.write_bytes(cut(real.read_bytes()))
    rows, failed = read(source, damaged)
    assert rows == 0
    assert failed is not None and failed.code == "truncated"
    assert failed.one_line().startswith(f"{CUT}: {problem}: the file is cut short")


@pytest.mark.parametrize(
    ("source_id", "code", "problem"),
    [
        ("nist-800-53/rev5/attack-12.1/xlsx", "bad-format", "not a readable xlsx workbook: File is not a zip file"),
        ("mapex/aws-12.12.2024/attack-16.1/enterprise", "bad-json", "not valid JSON: unexpected end of data"),
    ],
)
def test_a_workbook_or_json_table_cut_short_is_unreadable(mirror, sources, tmp_path, source_id, code, problem):
    source = sources[source_id]
    real = mirror / source.mirror_path
    damaged = tmp_path / real.name
    damaged.write_bytes(mid_row(real.read_bytes()))
    rows, failed = read(source, damaged)
    assert rows == 0 and failed is not None and failed.code == code
    assert failed.one_line().startswith(f"{CUT}: {problem}")


def test_a_security_stack_file_cut_mid_line_stops_its_source(mirror, sources, tmp_path):
    """A capability file cut inside its techniques still parses as YAML (fewer techniques):
    the missing line end before its closing keys is what tells."""
    source = sources["security-stack/azure"]
    folder = tmp_path / "Azure"
    shutil.copytree(mirror / source.mirror_path, folder)
    table = read_mapping_table(source, folder)
    assert unreadable(table.issues, table.rows) is None
    victim = folder / "AzureFirewall.yaml"
    data = victim.read_bytes()
    victim.write_bytes(data[: data.index(b"\n", len(data) // 2) - 5])
    table = read_mapping_table(source, folder)
    failed = unreadable(table.issues, table.rows)
    assert failed is not None and failed.code == "truncated"
    assert failed.one_line() == (
        f"{victim}: ends without a line end in `techniques`, before the closing `comments`/`references`: the file is cut short"
    )


@pytest.mark.parametrize(
    "source_id",
    ["nist-800-53/rev4/controls", "nist-800-53/rev5/controls", "security-stack/aws", "security-stack/gcp"]
    + [f"nist-800-53/rev{r}/attack-{v}/tsv" for r in (4, 5) for v in ("8.2", "9.0", "10.1", "12.1")],
)
def test_no_real_table_looks_cut(mirror, sources, source_id):
    source = sources[source_id]
    rows, failed = read(source, mirror / source.mirror_path)
    assert rows > 0 and failed is None


# Detection corpora: a real Sigma folder copied to /tmp.
SIGMA_FOLDER = "rules/windows/process_creation"


@pytest.fixture
def sigma(mirror, sources, tmp_path):
    source = sources["detections/sigma"]
    folder = tmp_path / "sigma"
    real = sorted((mirror / source.mirror_path / SIGMA_FOLDER).glob("*.yml"))[:40]
    folder.mkdir()
    for path in real:
        shutil.copyfile(path, folder / path.name)
    return source, folder, [folder / p.name for p in real]


def test_a_few_broken_rule_files_cost_only_themselves(sigma):
    source, folder, files = sigma
    whole = load_source(source, folder, cache_dir=None)
    assert whole.unread == "" and len(whole.detections) == len(files) == 40
    files[3].write_bytes(files[3].read_bytes()[:30] + b"\xff\xfe")  # not UTF-8
    files[7].write_bytes(files[7].read_bytes().replace(b"\n", b"\n\0", 1))  # a NUL
    files[11].write_bytes(b"title: 'cut in a quoted title")  # not YAML
    load = load_source(source, folder, cache_dir=None)
    assert load.unread == ""
    assert len(load.detections) == 37
    broken = [i for i in load.issues if i.code == "detection-file-skipped"]
    assert [i.file for i in broken] == [str(files[n]) for n in (3, 7, 11)]
    assert all("\n" not in i.one_line() for i in broken)
    assert [i.one_line() for i in broken] == [
        f"{files[3]}: line 1: not valid UTF-8 (byte 0xff at offset 30); skipped",
        f"{files[7]}: line 2: contains a NUL character: not a text file; skipped",
        f"{files[11]}: line 1: not valid YAML: found unexpected end of stream; skipped",
    ]


def test_a_corpus_none_of_whose_files_can_be_read_is_unread(sigma):
    source, folder, files = sigma
    for path in files:
        path.write_bytes(b"\xff" + path.read_bytes())
    load = load_source(source, folder, cache_dir=None)
    assert load.detections == ()
    assert load.unread == (
        f"{folder}: none of its 40 rule files could be read (the first: {files[0]}: line 1: not valid UTF-8 "
        "(byte 0xff at offset 0); skipped)"
    )


def test_a_corpus_folder_that_cannot_be_listed_is_unread(sigma, tmp_path):
    source, folder, _ = sigma
    shutil.rmtree(folder)
    folder.write_bytes(b"")  # a file where the folder was: listing it fails
    load = load_source(source, folder, cache_dir=None)
    assert load.files == 0 and load.unread == f"{folder}: cannot list the folder (Not a directory)"


def test_a_subfolder_that_cannot_be_listed_is_one_warning(sigma, monkeypatch):
    """A folder the user may not list: its mode is 000, and (as root lists any folder)
    listing it raises as it would for anyone else."""
    source, folder, files = sigma
    locked = folder / "locked"
    locked.mkdir()
    shutil.move(files[0], locked / files[0].name)
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    locked.chmod(0)
    try:
        load = load_source(source, folder, cache_dir=None)
    finally:
        locked.chmod(0o755)
    assert load.unread == "" and len(load.detections) == 39
    assert [i.one_line() for i in load.issues if i.code == "detection-folder-unreadable"] == [
        f"{locked}: cannot list the folder (Permission denied); its rule files are left out"
    ]


def test_a_build_stops_on_an_unreadable_corpus(tmp_path):
    """The small build's Sigma folder with both rule files broken: the build stops and
    keeps the previous outputs; --keep-going publishes and names it as missing."""
    small = small_mirror(tmp_path)
    assert small.build().exit_code == 0
    live = small.out.resolve()
    rules = sorted((small.mirror / "detections" / "sigma" / "rules").glob("*.yml"))
    for path in rules:
        path.write_bytes(b"\0" + path.read_bytes())
    problem = (
        f"{small.mirror / 'detections' / 'sigma'}: none of its 2 rule files could be read (the first: {rules[0]}: line 1: "
        "contains a NUL character: not a text file; skipped)"
    )
    r = small.build()
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == (
        f"error: enabled source 'detections/sigma' cannot be read: {problem}; nothing was built and the previous "
        "outputs are kept (--keep-going builds without it)\n"
    )
    assert small.out.resolve() == live
    stats = run("stats", *small.opts)
    assert stats.stderr.splitlines()[0] == f"warning: source 'detections/sigma': cannot be read, its detections are missing: {problem}"
    kept = small.build("--keep-going")
    assert kept.exit_code == 0, kept.output
    summary = orjson.loads((small.out / "reports" / "summary.json").read_bytes())
    assert summary["missing_sources"] == [{"source": "detections/sigma", "problem": problem}]


def test_a_cut_catalogue_stops_the_default_build(mirror, tmp_path):
    """The enabled NIST 800-53 rev5 catalogue cut mid-row in an overlay of the real
    mirror: before, the build went on with a third of the controls' texts missing."""
    rel = "mappings/nist-800-53/data/controls/nist800-53-r5-controls.tsv"
    view = tmp_path / "mirror"
    damaged = overlay(mirror, view, rel)
    damaged.write_bytes(mid_row(damaged.read_bytes()))
    out = tmp_path / "outputs"
    r = run("build", "--out", out, env={"ATTACK_PIPELINE_MIRROR": str(view)})
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == (
        f"error: enabled source 'nist-800-53/rev5/controls' cannot be read: {rel}: the last line (line 1146) has no line "
        "end and 4 cells where the line before has 5: the file is cut short; nothing was built and the previous outputs "
        "are kept (--keep-going builds without it)\n"
    )
    assert not out.exists()
