"""Write a file so that readers see the old bytes or the new ones, never a half.

Caches, the lock and the build's bookkeeping are all rewritten in place; a killed process
must not leave a truncated file that a later run would trust.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def write_atomic(path: Path, content: bytes | Callable[[BinaryIO], None]) -> None:
    """`content` as bytes, or a function writing to the open temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(content, bytes):
                fh.write(content)
            else:
                content(fh)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
