"""A parsed-table cache: an unchanged mapping table or catalogue costs a pickle load.

A build reconciles every mapping source, enabled or not (some forty tables), on every
run, and parsing them (YAML, XLSX, NIST pattern expansion) is most of the gather stage.
The parsed `MappingTable` / `ControlCatalog` is a frozen value that carries its own
warnings (`issues`), so a cached one reports exactly what the parse reported.

The key covers everything the result depends on: the file's identity (resolved path,
size, modification time, inode and change time; for a folder source, the same for every
entry it lists), the reported file name, the `TableSpec` (format, framework, versions,
limits), digests of the id sets patterns are expanded against, and a fingerprint of the
adapters and the model they build, so an edited file, a new release or catalogue, other
limits or a new parser never meet a stale entry. Entries are written atomically; an
unreadable or damaged entry is a miss. As with the release cache, the cache directory is
the pipeline's own state: pickle is only read from there, never from an input.
`ATTACK_PIPELINE_NO_PARSE_CACHE=1` turns it off.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import os
import pickle
import sys
from collections import deque
from itertools import repeat
from pathlib import Path
from typing import Callable, TypeVar

import yaml

from pipeline.core.atomic import write_atomic
from pipeline.ingest.mappings.common import TableSpec
from pipeline.ingest.mappings.expand import Universe
from pipeline.ingest.release_cache import NO_CACHE_ENV

T = TypeVar("T")

# Besides every module of this package: the code the adapters call into.
_CODE = (
    "model/controls.py",
    "model/vocabulary.py",
    "model/frameworks.py",
    "core/errors.py",
    "core/limits.py",
    "ingest/bundle.py",
    "graph/query.py",
)


@functools.cache
def code_fingerprint() -> str:
    """Digest of the parsing code (and the interpreter and YAML library it runs on)."""
    root = Path(__file__).resolve().parent.parent.parent
    h = hashlib.sha256(f"{sys.version}\0{yaml.__version__}".encode())
    files = sorted(p.relative_to(root).as_posix() for p in Path(__file__).resolve().parent.glob("*.py"))
    for rel in [*files, *_CODE]:
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return h.hexdigest()


def _stat_line(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_ctime_ns}\0{int(path.is_dir())}"


def file_identity(path: Path) -> str:
    """The file's (or folder's, and each of its entries') path and stat: any rewrite,
    replacement or added file changes it."""
    resolved = path.resolve()
    parts = [f"{resolved}\0{_stat_line(resolved)}"]
    if resolved.is_dir():
        for entry in sorted(resolved.iterdir()):
            parts.append(f"{entry.name}\0{_stat_line(entry)}")
    return "\n".join(parts)


def universe_digest(universe: Universe | None) -> str:
    if universe is None:
        return "-"
    return hashlib.sha256("\n".join(universe.ids).encode()).hexdigest()


def entry_path(
    cache: Path,
    kind: str,
    path: Path,
    spec: TableSpec,
    file: str | None,
    techniques: Universe | None = None,
    controls: Universe | None = None,
) -> Path:
    """Where the parse of `path` under these inputs is stored; raises OSError when the
    file cannot be stat'ed (the caller then parses, and the adapter reports it)."""
    key = hashlib.sha256(
        "\0\1".join(
            (
                kind,
                file_identity(path),
                repr(file),
                repr(spec),
                universe_digest(techniques),
                universe_digest(controls),
                code_fingerprint(),
            )
        ).encode("utf-8", "surrogateescape")
    ).hexdigest()[:32]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in spec.source_id)[:80]
    return cache / "parsed" / "mappings" / f"{kind}-{safe}-{key}.pickle"


def enabled(cache: Path | None) -> bool:
    return cache is not None and not os.environ.get(NO_CACHE_ENV)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _restore(cls: type, values: tuple) -> object:
    """A slotted frozen dataclass from its field values, as its own `__setstate__` would
    (no `__init__`), without that method's per-object `fields()` call: a table of ~6,700
    mappings loads in ~25% less CPU (~100,000 records for the tables of a build)."""
    obj = object.__new__(cls)
    names = _field_names(cls)
    _drain(map(_setattr, repeat(obj, len(names)), names, values))  # a loop in C
    return obj


_setattr = object.__setattr__
_drain = functools.partial(deque, maxlen=0)


class _Pickler(pickle.Pickler):
    """Pickles slotted dataclasses as `_restore(cls, values)`."""

    def reducer_override(self, obj):
        cls = type(obj)
        if "__slots__" in cls.__dict__ and dataclasses.is_dataclass(cls):
            return _restore, (cls, tuple(getattr(obj, n) for n in _field_names(cls)))
        return NotImplemented


def dumps(value: object) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


def cached(entry: Path, parse: Callable[[], T], kind: type, rekey: Callable[[], Path] | None = None) -> T:
    """The stored value at `entry` when it is a readable `kind`, else `parse()`, stored —
    unless `rekey()` (the entry computed again after the parse) differs: a file rewritten
    while it was read must not be stored under the key of the file it was before."""
    try:
        with open(entry, "rb") as fh:
            value = pickle.load(fh)
        if isinstance(value, kind):
            return value
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError, IndexError):
        pass
    value = parse()
    try:
        if rekey is not None and rekey() != entry:
            return value
        write_atomic(entry, dumps(value))
    except OSError:
        pass  # a read-only or full cache only costs speed
    return value
