"""The previous release's diff, kept between builds of the same inputs.

Why: the diff builds a second graph (the previous release with every enabled table and
corpus) and compares the two: the largest part of gathering a build (about 3.5 s of
CPU, a tenth of a warm default build's), redone on every forced or incremental build although it
changes only when an input does. An entry is keyed by everything the build's render
units are keyed by (code, settings, every ATT&CK release) and by every input of the
build, so any change to any of them misses it. Only the newest entry is kept.

The value is what gathering the diff gives: the per-domain diffs, the issues found
while reading the previous release and the sources it could not read (they reach the
build's issues the same way when the diff is taken from here).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from pipeline.fetch.cache import install_file
from pipeline.ingest.release_cache import NO_CACHE_ENV

FOLDER = ("parsed", "diffs")


def _entry(cache: Path, key: str) -> Path:
    return cache.joinpath(*FOLDER) / f"{key[:32]}.pickle"


def load(cache: Path | None, key: str | None) -> object | None:
    """The value kept under `key`, or None (no cache, no key, nothing kept, unreadable)."""
    if cache is None or not key or os.environ.get(NO_CACHE_ENV):
        return None
    try:
        return pickle.loads(_entry(cache, key).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError):
        return None  # a damaged or foreign entry costs the time of computing the diff


def save(cache: Path | None, key: str | None, value: object) -> None:
    """Keep `value` under `key`, dropping older entries (a read-only or full cache only
    costs time)."""
    if cache is None or not key or os.environ.get(NO_CACHE_ENV):
        return
    entry = _entry(cache, key)
    try:
        install_file(entry, lambda fh: fh.write(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)), lambda _p: None)
        for other in entry.parent.glob("*.pickle"):
            if other != entry:
                other.unlink(missing_ok=True)
    except OSError:
        pass
