"""The download cache: a mirror-shaped tree per origin, filled only atomically.

Layout: `<cache>/url/<mirror path>` holds canonical downloads and
`<cache>/mirror/<mirror path>[.gz]` copies fetched from a `--base-url` server (a
served mirror, so pinned as origin `mirror`). A file is downloaded into a temp file
in its final folder, checked, then moved into place with `os.replace`; a folder is
unpacked into a temp folder beside its final place, checked, then renamed. So an
entry under its final name was always complete and verified when it was written,
and a failed or killed download never replaces a good entry. Leftover temp files
(`.<name>.*.part`) are never read and are swept on the next fill of that name.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Callable, TypeVar

from pipeline.core.atomic import atomic_path
from pipeline.core.config import Source

CACHE_ENV = "ATTACK_PIPELINE_CACHE"
STALE_PART_SECONDS = 3600

T = TypeVar("T")


def cache_dir(option: str | os.PathLike | None, sources_file: str | os.PathLike) -> Path:
    """`--cache`, else `$ATTACK_PIPELINE_CACHE`, else `cache/` beside the sources file."""
    value = option if option not in (None, "") else os.environ.get(CACHE_ENV) or None
    if value is not None:
        return Path(value).expanduser()
    return Path(sources_file).resolve().parent / "cache"


def find_cached(folder: Path, source: Source) -> Path | None:
    """The copy of `source` in one origin's mirror-shaped tree: `name` or `name.gz` for a file."""
    base = folder / source.mirror_path
    if source.folder:
        return base if base.is_dir() else None
    for path in (base, base.with_name(base.name + ".gz")):
        if path.is_file():
            return path
    return None


def install_file(target: Path, produce: Callable[[BinaryIO], None], check: Callable[[Path], T]) -> T:
    """`produce` writes a temp file beside `target`; `check` returns a result or raises.

    Only a checked file is moved into place; whatever fails, the temp file is removed
    and an existing `target` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep(target)
    with atomic_path(target) as tmp:
        with open(tmp, "w+b") as fh:
            produce(fh)
            fh.flush()
            os.fsync(fh.fileno())
        return check(tmp)  # raising here keeps `target` as it was


def install_folder(target: Path, produce: Callable[[Path], None], check: Callable[[Path], T]) -> T:
    """`produce` fills a temp folder beside `target`; only a checked folder replaces it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        produce(tmp)
        result = check(tmp)
        tmp.chmod(0o755)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
        os.replace(target, old / "old")
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)
    return result


def discard(path: Path) -> None:
    """Remove a cache entry that failed its check."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _sweep(target: Path) -> None:
    """Remove temp files of `target` left by killed runs (old enough not to be in use)."""
    cutoff = time.time() - STALE_PART_SECONDS
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
        try:
            if stale.lstat().st_mtime < cutoff:
                discard(stale)
        except FileNotFoundError:
            pass
