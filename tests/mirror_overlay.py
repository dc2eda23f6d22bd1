"""A writable view of the read-only mirror: symbolic links to everything but the files
a test edits, which are real copies."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def overlay(src: Path, dst: Path, rel: str, whole: str | None = None) -> Path:
    """`dst` shows `src` through links; the folders on the way to `rel` are real and
    `rel` is a copy that can be edited. `whole` (a folder on that way) is copied
    entirely: folder sources refuse links inside them. Returns the editable copy."""
    parts = Path(rel).parts
    here_src, here_dst = src, dst
    dst.mkdir(parents=True)
    for i, part in enumerate(parts[:-1]):
        _link_siblings(here_src, here_dst, part)
        here_src, here_dst = here_src / part, here_dst / part
        if whole is not None and Path(*parts[: i + 1]) == Path(whole):
            shutil.copytree(here_src, here_dst, symlinks=True)
            break
        here_dst.mkdir()
    else:
        _link_siblings(here_src, here_dst, parts[-1])
    target = dst / rel
    if target.is_symlink():
        target.unlink()
    target.write_bytes((src / rel).read_bytes())
    return target


def _link_siblings(src: Path, dst: Path, skip: str) -> None:
    for child in src.absolute().iterdir():  # absolute: a relative link would point from `dst`
        if child.name != skip:
            os.symlink(child, dst / child.name)
