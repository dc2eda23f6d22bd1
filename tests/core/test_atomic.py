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
