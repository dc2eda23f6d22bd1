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
`retire` does the rename only; the deletion itself (12,000 files, which took 34-46 s
on a busy disk) is left to `sweep.py`, in the background.
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
        doomed = _rename_away(fd, folder)
        if doomed is None:
            return False
        shutil.rmtree(doomed, ignore_errors=True)
        return not os.path.lexists(folder)
    finally:
        os.close(fd)


def retire(folder: Path) -> Path | None:
    """Take `folder` out of every reader's way unless a reader pins it: renamed to
    `.gone-…` (one system call whatever its size) and returned, for `sweep` to delete
    later. None when a reader pins it (a later prune retires it) or it is not there.
    Readers never open a `.gone-` folder: one that resolved the old name finds it gone
    once its pin holds, and resolves the link again."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)  # not a directory we can open: nothing can pin it
        return None
    try:
        return _rename_away(fd, folder)
    finally:
        os.close(fd)


def _rename_away(fd: int, folder: Path) -> Path | None:
    """With an exclusive lock on `folder` (open as `fd`), its new `.gone-` name; None
    when a reader holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return None
    if folder.name.startswith(GONE):
        return folder
    doomed = Path(tempfile.mkdtemp(prefix=f"{GONE}{folder.name}-", dir=folder.parent))
    os.replace(folder, doomed)  # an empty directory is replaced by a rename
    return doomed
