"""Delete retired build folders (`.gone-…`) in the background, off the user's wait.

Publishing a build retires the oldest one by renaming it (`pin.retire`): from then on
no reader and no build looks at it, and only its deletion is left, which on a busy disk
took 34-46 s for a default build's 12,000 files. `start` hands that to a detached
process and returns at once. The process runs this file as a script of the standard
library alone (`python -I -S`, no import of the pipeline: a few milliseconds to start),
detaches from the build (new session, a second fork, so nobody has to wait for it and
no zombie is left) and deletes each folder under an exclusive lock on it, the lock
`pin.remove` takes, so a prune that meets a folder being deleted leaves it alone.

Killed half-way, it leaves a `.gone-` folder that the next prune retires and hands on
again. While any sweep runs, it holds a shared lock on `SWEEPING` in the builds
folder, taken by `start` before the process exists; `wait` takes it exclusively, so a
caller that must see the folders gone (tests, `make clean`) can wait for them.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

SWEEPING = ".sweeping"


def start(base: Path, folders: list[Path]) -> None:
    """Delete `folders` (retired, in the builds folder `base`) in a detached process.
    Where no process can be started, they are deleted here and now."""
    if not folders:
        return
    fd = os.open(base / SWEEPING, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # inherited by the sweeper, released when it exits
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), *map(str, folders)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                cwd=base, start_new_session=True, pass_fds=(fd,),
            )
        except OSError:
            sweep(folders)
            return
        proc.wait()  # the first fork only: it exits as soon as the sweeper is detached
    finally:
        os.close(fd)


def wait(base: Path) -> None:
    """Return once no sweep of the builds folder `base` is running."""
    try:
        fd = os.open(base / SWEEPING, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    finally:
        os.close(fd)


def sweep(folders: list[Path]) -> None:
    for folder in folders:
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue  # gone already (a prune got to it first)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)


def _detached(folders: list[str]) -> None:
    if os.fork():
        os._exit(0)  # the parent build waits for this one only
    try:
        sweep([Path(f) for f in folders])
    finally:
        os._exit(0)


if __name__ == "__main__":
    _detached(sys.argv[1:])
