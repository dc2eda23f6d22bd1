"""The one atomic writer: whole files only, with the mode an ordinary write gives."""

from __future__ import annotations

import os
import stat

import pytest

from pipeline.core.atomic import write_atomic


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_written_file_has_the_mode_of_an_ordinary_write(tmp_path, mask):
    old = os.umask(mask)
    try:
        write_atomic(tmp_path / "atomic.json", b"{}\n")
        with open(tmp_path / "plain.json", "wb") as fh:
            fh.write(b"{}\n")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "atomic.json").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.json").stat().st_mode) == 0o666 & ~mask


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "lock.json"
    write_atomic(target, b"old\n")

    def fail(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, fail)
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock.json"]


def test_atomic_path_replaces_on_success_and_removes_on_failure(tmp_path):
    """SQLite, zipfile and the cache's checks open the temporary file by name."""
    import sqlite3

    from pipeline.core.atomic import atomic_path

    target = tmp_path / "answers.sqlite"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".answers.sqlite.") and tmp.name.endswith(".part")
        db = sqlite3.connect(tmp)
        with db:
            db.execute("CREATE TABLE t (x)")
        db.close()
        assert not target.exists()
    assert sqlite3.connect(target).execute("SELECT count(*) FROM t").fetchone() == (0,)
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        tmp.write_bytes(b"not a database")
        raise ValueError("check failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.sqlite"]
    assert sqlite3.connect(target).execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_cache_entries_and_workbooks_get_the_mode_of_an_ordinary_write(tmp_path, mask):
    from pipeline.excel.xlsx import Sheet, write_workbook
    from pipeline.fetch.cache import install_file

    old = os.umask(mask)
    try:
        install_file(tmp_path / "entry.json", lambda fh: fh.write(b"{}"), lambda p: None)
        write_workbook(tmp_path / "book.xlsx", [Sheet(name="a", header=["x"], rows=[["1"]])])
    finally:
        os.umask(old)
    for name in ("entry.json", "book.xlsx"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "entry.json"]
