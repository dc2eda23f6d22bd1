"""A build's files against its manifest: same-size edits, files taken by an incremental
build, `verify`, files a user put into the outputs, and which build prune keeps."""

from __future__ import annotations

import hashlib
import os

import orjson
import pytest

from build_fixture import AZURE_LAYER, run, same_size_edit, small_mirror


@pytest.fixture
def small(tmp_path):
    s = small_mirror(tmp_path)
    r = s.build()
    assert r.exit_code == 0, r.output
    return s


def manifest(root):
    return orjson.loads((root / "manifest.json").read_bytes())


def test_a_same_size_edit_of_the_live_build_is_found_and_rebuilt(small):
    target = small.out / AZURE_LAYER
    original = same_size_edit(target)
    r = small.build()
    assert r.exit_code == 0, r.output
    assert "up to date" not in r.stdout
    assert r.stderr == f"warning: 1 file(s) of the previous build no longer matched its manifest (e.g. {AZURE_LAYER}); rebuilt\n"
    assert (small.out / AZURE_LAYER).read_bytes() == original
    from pipeline.build import integrity

    assert integrity.differences(small.out.resolve(), manifest(small.out)) == []
    # Now intact: the next build does nothing.
    assert "up to date" in small.build().stdout


def test_an_incremental_build_never_takes_a_changed_file(small):
    """The Azure layers are a render unit that a Sigma edit does not touch: they are taken
    from the previous build, but not the one file that was edited after it was written."""
    before = small.out.resolve()
    original = same_size_edit(before / AZURE_LAYER)
    untouched = before / "stix/mappings/azure--06.29.2021.json"  # another unit that reads the table only
    small.edit_rule(1)
    r = small.build()
    assert r.exit_code == 0 and "taken unchanged from the previous build" in r.stdout, r.output
    after = small.out.resolve()
    assert after != before
    assert (after / AZURE_LAYER).read_bytes() == original
    assert not os.path.samefile(after / AZURE_LAYER, before / AZURE_LAYER)
    for a in manifest(after)["artifacts"]:  # every hash recorded is that of the bytes there
        assert hashlib.sha256((after / a["path"]).read_bytes()).hexdigest() == a["sha256"], a["path"]
    # The other units of the table were still taken (hard links); the edited file's unit was rendered again.
    assert os.path.samefile(after / untouched.relative_to(before), untouched)


def test_a_no_op_build_reads_only_files_whose_stat_changed(small, monkeypatch):
    from pipeline.build import integrity

    read = []
    real = integrity.hash_file
    monkeypatch.setattr(integrity, "hash_file", lambda p: read.append(p) or real(p))
    assert "up to date" in small.build().stdout
    assert read == []
    target = small.out / AZURE_LAYER
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))  # touched, not changed
    assert "up to date" in small.build().stdout
    assert [os.path.basename(p) for p in read] == ["overview.json"]


def test_verify_an_intact_build(small):
    r = run("verify", "--out", small.out)
    n = len(manifest(small.out)["artifacts"])
    assert (r.exit_code, r.stdout, r.stderr) == (0, f"{small.out}: {n} files match the manifest ({small.out.resolve().name})\n", "")


def test_verify_lists_missing_changed_and_extra_files(small):
    root = small.out.resolve()
    size = {a["path"]: a["size"] for a in manifest(root)["artifacts"]}["tables/index.json"]
    same_size_edit(root / AZURE_LAYER)
    (root / "reports" / "summary.json").unlink()
    (root / "tables" / "index.json").write_text("{}\n")
    (root / "notes.txt").write_text("mine\n")
    r = run("verify", "--out", small.out)
    assert r.exit_code == 1
    assert r.stdout == (
        "changed  layers/enterprise/frameworks/azure/overview.json  (sha256 differs)\n"
        "extra    notes.txt\n"
        "missing  reports/summary.json\n"
        f"changed  tables/index.json  (size 3, manifest {size})\n"
    )
    assert r.stderr == f"error: {small.out}: 4 difference(s) from the manifest of {root.name} (1 missing, 2 changed, 1 extra)\n"


def test_verify_without_a_build(tmp_path):
    r = run("verify", "--out", tmp_path / "nothing")
    assert r.exit_code == 1
    assert r.stderr == (
        f"error: {tmp_path / 'nothing'}: no build here (no readable manifest.json); "
        f"run `attack-pipeline build --out {tmp_path / 'nothing'}` first\n"
    )


def test_a_file_put_in_the_outputs_is_kept_and_named(small):
    note = small.out / "notes.txt"
    note.write_text("my notes\n")
    live = small.out.resolve()
    line = (
        f"error: {note} was not written by attack-pipeline; builds replace their folders whole, "
        "so move it out of the output folder and build again (nothing was changed)\n"
    )
    for extra in ((), ("--force",), ("--force",)):
        r = small.build(*extra)
        assert (r.exit_code, r.stderr) == (1, line)
    assert note.read_text() == "my notes\n" and small.out.resolve() == live
    note.unlink()
    assert small.build("--force").exit_code == 0


def test_a_file_in_the_previous_build_is_named_there(small):
    small.edit_rule(1)
    assert small.build().exit_code == 0
    previous = [small.builds / f for f in small.folders() if small.builds / f != small.out.resolve()][0]
    (previous / "docs" / "mine.md").write_text("mine\n")
    r = small.build("--force")
    assert r.exit_code == 1 and r.stderr.startswith(f"error: {previous / 'docs' / 'mine.md'} was not written by attack-pipeline;")
    assert (previous / "docs" / "mine.md").is_file()


def test_prune_keeps_the_build_published_before_not_the_newest_mtime(small):
    first = small.out.resolve()
    small.edit_rule(1)
    assert small.build().exit_code == 0
    second = small.out.resolve()
    future = first.stat().st_mtime + 3600
    os.utime(first, (future, future))  # a copy, a backup restore or a touch: says nothing of the order
    small.edit_rule(2)
    assert small.build().exit_code == 0
    third = small.out.resolve()
    assert small.folders() == sorted([second.name, third.name])
    assert (small.builds / ".history").read_text().split() == [second.name, third.name]


def test_prune_keeps_the_recorded_previous_build_after_a_rollback(small):
    first = small.out.resolve()
    small.edit_rule(1)
    assert small.build().exit_code == 0
    second = small.out.resolve()
    # Rolled back by hand to the first build: the second is the one to keep besides it.
    small.out.unlink()
    os.symlink(os.path.relpath(first, small.root), small.out)
    from pipeline.build import tree

    tree.prune(small.out)
    assert small.folders() == sorted([first.name, second.name])


def _age_directories(folder, seconds=3600):
    """Give every directory of a build folder a modification time an hour ago, as a build
    made earlier in the day has (the listing is only skipped for settled directories)."""
    past = os.stat(folder).st_mtime - seconds
    for dirpath, _dirs, _files in os.walk(folder):
        os.utime(dirpath, (past, past))


def _known(small):
    path = small.builds / ".dir-signatures.json"
    return orjson.loads(path.read_bytes()) if path.is_file() else {}


def test_a_settled_clean_build_is_not_listed_again(small, monkeypatch):
    from pipeline.build import integrity

    live = small.out.resolve()
    _age_directories(live)
    assert small.build().exit_code == 0  # lists the folder, finds it clean, records its directories
    assert live.name in _known(small)

    def listed(*_a, **_k):
        raise AssertionError("a folder whose directories did not change was listed again")

    monkeypatch.setattr(integrity, "_scan", listed)
    r = small.build()
    assert (r.exit_code, r.stderr) == (0, "")


def test_a_file_put_deep_into_a_settled_build_is_still_found(small):
    live = small.out.resolve()
    _age_directories(live)
    assert small.build().exit_code == 0 and live.name in _known(small)
    deep = sorted(p for p in live.rglob("*") if p.is_dir())[-1]
    (deep / "mine.md").write_text("mine\n")
    r = small.build()
    shown = small.out / (deep / "mine.md").relative_to(live)
    assert r.exit_code == 1 and r.stderr.startswith(f"error: {shown} was not written by attack-pipeline;")


def test_a_renamed_file_in_a_settled_build_is_found(small):
    live = small.out.resolve()
    _age_directories(live)
    assert small.build().exit_code == 0 and live.name in _known(small)
    layer = small.out / AZURE_LAYER
    layer.rename(layer.with_name("renamed.json"))
    r = small.build()
    assert r.exit_code == 1 and "renamed.json was not written by attack-pipeline;" in r.stderr


def test_directories_changed_seconds_ago_are_not_trusted(small):
    # Just built: a file system with coarse timestamps could still add a file unseen.
    assert small.build().exit_code == 0
    assert small.out.resolve().name not in _known(small)
