"""Write a file so that readers see the old bytes or the new ones, never a half.

Caches, the lock, the build's bookkeeping, the answers database and the workbooks are all
rewritten in place; a killed process must not leave a truncated file that a later run
would trust. Every such write goes through `atomic_path` (or `write_atomic` on it), but
for the site's page cache, whose entries carry their own checksum (site/pagecache.py).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from pipeline.core.errors import PipelineError


def _umask() -> int:
    """The process's umask, read without changing it (Linux shows it in /proc; elsewhere
    the usual 022 is assumed): setting it to read it would race with other threads."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A fresh temporary file beside `path` (empty, so that SQLite, zipfile or a check can
    open it by name) that replaces `path` when the block ends without an exception, and
    is removed when it raises: readers see the old file or the whole new one, and a
    killed process leaves at most a `.<name>.*.part` beside it, never a half of `path`.

    The file gets the mode `open()` would give it (0644 under the usual umask), not the
    private 0600 of a temporary file: a layer, a report, the lock or a cache entry is for
    others to read too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, content: bytes | Callable[[BinaryIO], None]) -> None:
    """`content` as bytes, or a function writing to the open temporary file (see
    `atomic_path` for what readers and a crash see, and the file's mode)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        if isinstance(content, bytes):
            fh.write(content)
        else:
            content(fh)


def check_writable(path: Path, *, folder: bool) -> None:
    """Can a command write `path` (a file, or a folder of files)? Asked before any slow
    work, so that `--out /proc/x` is one line at once rather than after the loading.
    Creates the folder (or the file's folder), which writing would create anyway, and
    a temporary file in it, removed at once."""
    where = path if folder else path.parent
    if not folder and path.is_dir():
        raise PipelineError("is a folder; give a file name", file=str(path))
    if folder and path.exists() and not path.is_dir():
        raise PipelineError("exists and is not a folder", file=str(path))
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".write-check.", dir=where)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise PipelineError(f"cannot write here: {exc.strerror or exc}", file=str(path)) from None
