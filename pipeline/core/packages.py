"""Installed versions of Python packages, read from the names of their `.dist-info`
folders, with importlib.metadata as the fallback.

The pySigma converters' versions are part of every build's fingerprint (a new backend
may convert differently), so even a build with nothing to do asks for them. Importing
importlib.metadata and searching every path entry cost 35 ms of a no-op build; listing
the path entries and reading the folder names costs about 1 ms. A wheel installs its
metadata as `{name}-{version}.dist-info` (the name normalised, `-` in it replaced by
`_`), which is where importlib.metadata finds the version too; a package installed any
other way (an egg, an odd name) is looked up by importlib.metadata itself.
"""

from __future__ import annotations

import os
import re
import sys

_SUFFIX = ".dist-info"


def _normal(name: str) -> str:
    """A distribution name as packaging compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def versions(names: tuple[str, ...] | list[str], path: list[str] | None = None) -> dict[str, str | None]:
    """{name: installed version, or None when it is not installed}, for each of `names`,
    the first found along `path` (default: sys.path) as the import system would."""
    wanted = {_normal(n): n for n in names}
    found: dict[str, str | None] = {}
    for entry in sys.path if path is None else path:
        try:
            listing = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in listing:
            if not folder.endswith(_SUFFIX):
                continue
            dist, sep, version = folder[: -len(_SUFFIX)].partition("-")
            name = wanted.get(_normal(dist))
            if sep and version and "-" not in version and name is not None and name not in found:
                found[name] = version
    missing = [n for n in names if n not in found]
    if missing:
        # lazy: importlib.metadata costs ~25 ms to import; needed only for a package not installed from a wheel
        from importlib import metadata

        for name in missing:
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                found[name] = None
    return {n: found[n] for n in names}
