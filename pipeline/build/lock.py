"""One build at a time per output directory.

Two builds writing the same outputs would each swap in half of what the other expects.
The lock is a file beside the outputs holding an exclusive `flock` and, for the
message, the owner's pid and host. The kernel drops the flock when its process dies,
however it dies, so a killed build's lock is free at once; no guess from a pid (which
may be reused) or from the file's contents (which two recovering builds could both
judge stale and both take) decides who builds.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from pipeline.core.errors import PipelineError


# Descriptors of the locks this process holds. A forked child (a render worker) closes
# them at once: its copy would keep the flock alive after the build died, and the next
# build, finding it taken, would be refused until the child was gone too.
_HELD: set[int] = set()


def _close_held() -> None:
    for fd in _HELD:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_close_held)


class BuildLocked(PipelineError):
    """Another live build holds the output directory."""


class BuildLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def __enter__(self) -> "BuildLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        me = f"{os.getpid()} {socket.gethostname()}\n".encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise PipelineError(f"cannot open the build lock: {exc.strerror or exc}", file=str(self.path)) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if not isinstance(exc, BlockingIOError):
                    raise PipelineError(f"cannot lock the build lock: {exc.strerror or exc}", file=str(self.path)) from None
                owner = self._owner()
                raise BuildLocked(
                    f"another build (pid {owner[0]} on {owner[1]}) is writing these outputs; "
                    "wait for it to finish",
                    file=str(self.path),
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the holder we waited on removed this file: lock the new one
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, me)
            self.fd = fd
            _HELD.add(fd)
            return
        raise BuildLocked("could not take the build lock", file=str(self.path))

    def release(self) -> None:
        if self.fd is not None:
            # Unlink while still locked: a build that opened this file meanwhile sees
            # that it is gone and locks a fresh one.
            self.path.unlink(missing_ok=True)
            _HELD.discard(self.fd)
            os.close(self.fd)
            self.fd = None

    def _owner(self) -> tuple[str, str]:
        try:
            pid, _, host = self.path.read_text().strip().partition(" ")
        except OSError:
            return "?", "?"
        return (pid or "?"), (host or "?")
