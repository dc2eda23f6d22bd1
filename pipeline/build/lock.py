"""One build at a time per output directory.

Two builds writing the same outputs would each swap in half of what the other expects.
The lock is a file created exclusively beside the outputs, holding the owner's pid and
host; a lock whose process is gone (killed build, reboot) is taken over.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pipeline.errors import PipelineError


class BuildLocked(PipelineError):
    """Another live build holds the output directory."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BuildLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.held = False

    def __enter__(self) -> "BuildLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        me = f"{os.getpid()} {socket.gethostname()}\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                owner = self._owner()
                raise BuildLocked(
                    f"another build (pid {owner[0]} on {owner[1]}) is writing these outputs; "
                    "wait for it, or delete the lock file if that process is gone",
                    file=str(self.path),
                ) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(me)
            self.held = True
            return
        raise BuildLocked("could not take the build lock", file=str(self.path))

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def _owner(self) -> tuple[str, str]:
        try:
            pid, _, host = self.path.read_text().strip().partition(" ")
        except OSError:
            return "?", "?"
        return pid, host

    def _stale(self) -> bool:
        pid, host = self._owner()
        if not pid.isdigit():
            return True  # unreadable or half-written: no live build wrote it whole
        return host == socket.gethostname() and not _alive(int(pid))
