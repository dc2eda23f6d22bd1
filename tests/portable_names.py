"""Whether the paths of a build would survive a copy to macOS or Windows: shared by the naming
tests (tests/render/test_naming.py) and the build tests (tests/build/test_build.py)."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.render import naming


def portable_problems(paths: list[str]) -> list[str]:
    """Every reason the relative paths would not survive a copy to macOS or Windows."""
    out = []
    seen: dict[str, str] = {}
    for rel in sorted(paths):
        for part in rel.split("/"):
            why = naming.problem(part)
            if why:
                out.append(f"{rel}: {part!r} is {why}")
        folded = rel.lower()
        if folded in seen:
            out.append(f"{rel}: the same file as {seen[folded]} ignoring case")
        seen[folded] = rel
    return out


def tree(root: Path) -> list[str]:
    """Every file and folder under `root`, relative, as `os.walk` sees them."""
    out = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            out.append(Path(folder, name).relative_to(root).as_posix())
    return out
