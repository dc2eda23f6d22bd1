"""Where outputs may go: the checks made before a build or a site does any work.

A build publishes by renaming a link over `out` and keeps its folders beside it
(`.out.builds/`, `.out.lock`), so some places break it, or something else, for good:
a folder inside a build (`cd outputs && build --out .` renames the live build away), a
folder inside a source the build reads (its outputs become its own input), a mount point
(the link cannot replace it, after the whole build has been rendered on the parent file
system), a site folder that is, holds or lies inside the build's output. Each is refused
with one line naming the path, before anything is read or written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from pipeline.build.integrity import MARKER
from pipeline.core.errors import PipelineError


def _real(path: Path) -> Path:
    """The path with every symbolic link of its parents resolved, the last name kept
    (`outputs` is itself a link; its own target is not where it lives)."""
    path = Path(os.path.abspath(path))
    return Path(os.path.realpath(path.parent)) / path.name


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _build_folder_above(path: Path) -> Path | None:
    """The build folder or builds folder (`.X.builds`) that holds `path`, if any."""
    for p in [path, *path.parents]:
        parent = p.parent
        if parent.name.startswith(".") and parent.name.endswith(".builds") and (p / MARKER).is_file():
            return p
        if p != path and (p / MARKER).is_file():
            return p
    return None


def check_output(out: Path, sources: Iterable[Path] = (), what: str = "output path") -> None:
    """Refuse an output path that a build would break; `sources`: the folders and files
    the build reads. Creates the folder that holds the builds (the first thing a build
    writes), so that an unwritable place is reported by its own name."""
    out = Path(os.path.abspath(out))
    real = _real(out)
    if out.is_dir() and not out.is_symlink() and os.path.ismount(out):
        raise PipelineError(
            f"{what} is a mount point; a build replaces the output path with a link to the new build, "
            "which a mount point cannot be: give a folder inside it (e.g. --out " + str(out / "outputs") + ")",
            file=str(out),
        )
    inside = _build_folder_above(real)
    if inside is not None:
        raise PipelineError(
            f"{what} is inside the build folder {inside}; give the output link itself (e.g. --out "
            f"{_link_of(inside)}), not a folder in a build",
            file=str(out),
        )
    for source in sources:
        src = Path(os.path.realpath(source))
        if src.is_dir() and _inside(real.parent, src):
            raise PipelineError(
                f"{what} is inside the source folder {source}, which every build reads: its outputs "
                "would become its input; give a folder outside the mirror",
                file=str(out),
            )
    builds = real.parent / f".{real.name}.builds"
    try:
        builds.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PipelineError(f"cannot create the {what.split()[0]} folder here: {exc.strerror or exc}", file=str(out)) from None


def _link_of(build_folder: Path) -> Path:
    """`/x/outputs` for `/x/.outputs.builds/<id>` (or the folder itself, for a plain one)."""
    base = build_folder.parent
    if base.name.startswith(".") and base.name.endswith(".builds"):
        return base.parent / base.name[1 : -len(".builds")]
    return build_folder


def check_site_dir(out: Path, site_dir: Path) -> None:
    """The site folder must be apart from the build's output: the same path would have the
    site replace the build link; inside it, write into a published build; around it,
    replace the build with the site."""
    site = _real(site_dir)
    link = _real(out)
    places = {link}
    if link.is_symlink() or link.is_dir():
        places.add(Path(os.path.realpath(link)))
    places.add(link.parent / f".{link.name}.builds")
    for place in sorted(places):
        if site == place:
            raise PipelineError(f"the site folder is the build output {out}; give a folder of its own (e.g. --site-dir site)", file=str(site_dir))
        if _inside(site, place):
            raise PipelineError(f"the site folder is inside the build output {out}; give a folder of its own (e.g. --site-dir site)", file=str(site_dir))
        if _inside(place, site):
            raise PipelineError(f"the site folder holds the build output {out}; give a folder of its own (e.g. --site-dir site)", file=str(site_dir))
