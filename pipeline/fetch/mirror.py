"""Resolve sources from an offline mirror directory (air-gapped networks)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.config import MIRROR_ENV, Source
from pipeline.core.errors import ConfigError, SourceNotFound


@dataclass(frozen=True, slots=True)
class Resolved:
    """A source and the local file or folder it was found at, with where that came from."""

    source: Source
    path: Path
    origin: str


def resolve_mirror_dir(option: str | os.PathLike | None) -> Path | None:
    """`--mirror` wins over `$ATTACK_PIPELINE_MIRROR`; a named directory must exist."""
    value = option if option not in (None, "") else os.environ.get(MIRROR_ENV) or None
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigError(f"mirror directory {str(path)!r} does not exist or is not a directory")
    return path


def mirror_candidates(source: Source, mirror: Path) -> list[Path]:
    """A file may sit in the mirror as `name` or `name.gz`; a folder as itself."""
    base = mirror / source.mirror_path
    return [base] if source.folder else [base, base.with_name(base.name + ".gz")]


def find_in_mirror(source: Source, mirror: Path) -> Path | None:
    for path in mirror_candidates(source, mirror):
        if (path.is_dir() if source.folder else path.is_file()):
            return path
    return None


def resolve(source: Source, mirror: Path | None) -> Resolved:
    """Mirror only: a clear error naming what was tried when the source is not there."""
    if mirror is None:
        raise SourceNotFound(
            f"no offline mirror is set: pass --mirror DIR or set {MIRROR_ENV}",
            record=f"source {source.id!r}",
        )
    found = find_in_mirror(source, mirror)
    if found is not None:
        return Resolved(source=source, path=found, origin="mirror")
    tried = ", ".join(str(p) for p in mirror_candidates(source, mirror))
    raise SourceNotFound(f"not found in the mirror (tried {tried})", record=f"source {source.id!r}")
