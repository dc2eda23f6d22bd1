"""The build a site is made from: a finished build folder, never a half-written one.

`--out` is the build's output path (a symlink flipped by each build); it is resolved
once, so a build that finishes while the site is being made cannot mix two builds'
pages in one site.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.build import manifest
from pipeline.errors import PipelineError

# The folders of a build that pages link and the site serves for download.
ARTIFACT_FOLDERS = ("layers", "reports", "stix", "tables")


@dataclass(frozen=True, slots=True)
class BuildSource:
    root: Path  # the concrete build folder (symlink resolved)
    fingerprint: str
    attack_version: str
    epoch: int  # SOURCE_DATE_EPOCH of the site: when the build was written

    @property
    def docs(self) -> Path:
        return self.root / "docs"


def open_build(out: Path) -> BuildSource:
    """The build at `out`, or a one-line error telling the user to build first."""
    root = Path(os.path.realpath(out))
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
    the date is the one the file system gives the manifest: it is written once, when
    the build finishes, and never touched again, so every site made from one build
    carries the same date. SOURCE_DATE_EPOCH, when set, wins (reproducible-builds
    convention).
    """
    env = os.environ.get("SOURCE_DATE_EPOCH", "")
    if env.isdigit():
        return int(env)
    return int((root / manifest.NAME).stat().st_mtime)
