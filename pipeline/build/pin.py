"""Readers' pins on build folders, which removal respects.

A reader of a finished build (`site` reads one for a minute and more on the real
sources) must not have it removed under it: two builds that finish meanwhile would
prune it (only the live build and the one before it are kept), and the reader would
fail half-way. A reader holds a shared `flock` on the folder itself (its directory
descriptor); `remove` takes an exclusive one without waiting and leaves a folder it
cannot lock for a later prune. The kernel drops a lock when its process exits, however
it exits, so a killed reader pins nothing.

`remove` renames the folder away (`.gone-…`) before deleting it, with the lock held
throughout: a reader that resolved the folder just before sees its name gone once it
gets its lock, and resolves the link again, so it never reads a half-deleted build.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

GONE = ".gone-"


def _same(fd: int, folder: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(folder)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def hold(folder: Path) -> int | None:
    """A shared lock on `folder` (a descriptor to close to release it), or None when the
    folder is gone or was removed while this waited."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a removal of this folder runs
    except OSError:
        os.close(fd)
        return None
    if not _same(fd, folder):
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def reading(link: Path, attempts: int = 20) -> Iterator[Path | None]:
    """The folder `link` shows, pinned while the block runs; None if it shows none.

    The link is resolved once (a build that flips it meanwhile does not mix two builds
    into one read); when the folder it named is removed before the pin holds, the link
    is resolved again (it shows a newer build by then)."""
    fd = None
    folder = None
    try:
        for _ in range(attempts):
            folder = Path(os.path.realpath(link))
            fd = hold(folder)
            if fd is not None or not os.path.lexists(link):
                break
        yield folder if fd is not None else None
    finally:
        if fd is not None:
            os.close(fd)


def remove(folder: Path) -> bool:
    """Delete `folder` unless a reader pins it; True when it is gone (or was not there)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return True
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)  # not a directory we can open: nothing can pin it
        return not os.path.lexists(folder)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        doomed = folder
        if not folder.name.startswith(GONE):
            doomed = Path(tempfile.mkdtemp(prefix=f"{GONE}{folder.name}-", dir=folder.parent))
            os.replace(folder, doomed)  # an empty directory is replaced by a rename
        shutil.rmtree(doomed, ignore_errors=True)
        return not os.path.lexists(folder)
    finally:
        os.close(fd)
