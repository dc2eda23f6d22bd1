"""Pruned builds are renamed out of the way at once and deleted in the background
(pipeline/build/sweep.py), under the same pins as a deletion in the foreground."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.build import pin, sweep, tree


def _build_folder(base: Path, name: str, files: int = 50) -> Path:
    folder = base / name
    for i in range(files):
        (folder / "docs" / f"{i % 5}").mkdir(parents=True, exist_ok=True)
        (folder / "docs" / f"{i % 5}" / f"{i}.md").write_text(f"page {i}\n")
    return folder


def _outputs(tmp_path: Path, *names: str) -> tuple[Path, Path]:
    """`out` linked to the last of `names`, published in that order."""
    out = tmp_path / "outputs"
    base = tree.builds_dir(out)
    for name in names:
        _build_folder(base, name)
    (base / tree.HISTORY).write_text("".join(f"{n}\n" for n in names))
    os.symlink(os.path.relpath(base / names[-1], tmp_path), out)
    return out, base


def test_prune_renames_at_once_and_the_sweep_deletes(tmp_path):
    out, base = _outputs(tmp_path, "a", "b", "c")
    tree.prune(out)
    assert tree.finished(out) == [base / "b", base / "c"]  # "a" is out of every reader's way already
    sweep.wait(base)
    assert sorted(p.name for p in base.iterdir() if p.is_dir()) == ["b", "c"]
    assert (base / "c" / "docs" / "4" / "49.md").read_text() == "page 49\n"


def test_a_pinned_build_is_neither_renamed_nor_deleted(tmp_path):
    out, base = _outputs(tmp_path, "a", "b", "c")
    fd = pin.hold(base / "a")
    try:
        tree.prune(out)
        sweep.wait(base)
        assert (base / "a" / "docs" / "0" / "0.md").is_file()
    finally:
        os.close(fd)
    tree.prune(out)  # the reader is done: the next prune takes it
    sweep.wait(base)
    assert not (base / "a").exists()


def test_what_a_killed_sweep_left_is_deleted_by_the_next_prune(tmp_path):
    out, base = _outputs(tmp_path, "b", "c")
    left = _build_folder(base, f"{pin.GONE}a-killed")
    tree.prune(out)
    sweep.wait(base)
    assert not left.exists() and sorted(p.name for p in base.iterdir() if p.is_dir()) == ["b", "c"]


def test_a_folder_being_swept_is_left_to_its_sweep(tmp_path):
    base = tmp_path / "builds"
    doomed = _build_folder(base, f"{pin.GONE}a")
    fd = os.open(doomed, os.O_RDONLY | os.O_DIRECTORY)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)  # as a running sweep holds it
        assert pin.retire(doomed) is None
    finally:
        os.close(fd)
    assert pin.retire(doomed) == doomed


def test_nothing_to_sweep_starts_nothing(tmp_path):
    sweep.start(tmp_path, [])
    assert not (tmp_path / sweep.SWEEPING).exists()
    sweep.wait(tmp_path)  # no sweep ever ran: returns at once
