"""The build a site is made from: a finished build folder, never a half-written one.

`--out` is the build's output path (a symlink flipped by each build); it is resolved
once, so a build that finishes while the site is being made cannot mix two builds'
pages in one site, and the folder it names is pinned while the site reads it
(`reading`), so builds that finish meanwhile do not prune it (pipeline/build/pin.py).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import orjson

from pipeline.build import manifest, pin
from pipeline.core.epoch import source_date_epoch
from pipeline.core.errors import PipelineError

# The folders of a build that pages link and the site serves for download.
ARTIFACT_FOLDERS = ("layers", "reports", "stix", "tables", "profiles", "queries")


@dataclass(frozen=True, slots=True)
class BuildSource:
    root: Path  # the concrete build folder (symlink resolved)
    fingerprint: str
    attack_version: str
    epoch: int  # SOURCE_DATE_EPOCH of the site: when the build was written

    @property
    def docs(self) -> Path:
        return self.root / "docs"


@contextlib.contextmanager
def reading(out: Path) -> Iterator[BuildSource]:
    """The build at `out`, pinned while the block runs."""
    with pin.reading(out) as root:
        yield open_build(out, root)


def open_build(out: Path, root: Path | None = None) -> BuildSource:
    """The build at `out` (its folder `root` when already resolved), or a one-line error
    telling the user to build first."""
    root = Path(os.path.realpath(out)) if root is None else root
    doc = manifest.read(root) if root.is_dir() else None
    if doc is None or not (root / "docs" / "index.md").is_file():
        raise PipelineError(f"no finished build with docs here; run `attack-pipeline build --out {out}` first", file=str(out))
    return BuildSource(
        root=root,
        fingerprint=str(doc.get("fingerprint", "")),
        attack_version=str(doc.get("attack_version", "")),
        epoch=build_epoch(root),
    )


def build_epoch(root: Path) -> int:
    """The date the site gives its pages (sitemap `lastmod`, gzip headers).

    The manifest holds no timestamp (two builds of the same inputs are identical), so
    the date comes from the inputs: the newest ATT&CK release date among the build's
    `reports/attack-<domain>.json`. Two sites made from the same inputs are then
    byte-identical whenever and wherever they are built. SOURCE_DATE_EPOCH, when set,
    wins (reproducible-builds convention); a build without release reports falls back
    to the date the file system gives its manifest.
    """
    given = source_date_epoch()
    if given is not None:
        return int(given.timestamp())
    dates = []
    for report in sorted((root / "reports").glob("attack-*.json")):
        try:
            released = orjson.loads(report.read_bytes()).get("released", "")
            dates.append(datetime.fromisoformat(released.replace("Z", "+00:00")).astimezone(timezone.utc))
        except (OSError, orjson.JSONDecodeError, AttributeError, ValueError):
            continue
    if dates:
        return int(max(dates).timestamp())
    return int((root / manifest.NAME).stat().st_mtime)
