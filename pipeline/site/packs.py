"""The page cache's store: kept bytes by key, appended to a few pack files.

Why packs rather than a file per entry: a site build keeps ~21,000 entries (each page's
two steps), and creating that many files cost the default site 0.6 s of its wall time
(0.7 s of user and 0.6 s of kernel CPU) in a 21 s build; appending them to one pack per
process costs a write each.

Layout, in the cache's folder (`.<site>.cache/` beside the site):

- `<build>-<pid>.pack`: the entries one process of one site build kept, each a record of
  the key's 32 digest bytes, the length of what follows (4 bytes, little-endian), and
  one zstd frame with its size and checksum. A process appends to its own pack only
  (forked workers each open theirs), so no two processes write one file.
- `index.json`: where each kept entry lies (pack, offset, length), replaced whole
  (`core.atomic`) when a site build ends: until then, a build reads the index the last
  one left, and its own new entries only in the process that wrote them.

When a build ends (`finish`), the packs it wrote are read back record by record
(headers only) and the index is made of the entries the build used; a pack no longer
holding any is deleted, and when the packs hold more than twice what is used, those
less than half used are copied into a new pack and deleted. A killed build leaves the
index as it was and packs it names none of, deleted by the next build that ends. A
record cut short (a killed worker, a full disk) ends its pack's reading; a record
damaged since fails its zstd checksum: both are misses, as is any entry that cannot
be read. A site build is the only writer (the site lock).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import orjson
import zstandard

from pipeline.core.atomic import write_atomic

INDEX = "index.json"
INDEX_FORMAT = 1
SUFFIX = ".pack"
RECORD = struct.Struct("<32sI")  # the key's sha256 digest, the frame's length
# Compacting: when the packs hold more than this many times what the index uses.
SLACK = 2


def _append(fd: int, parts: list[bytes]) -> None:
    """Appends `parts` to `fd` (opened for appending) in one call; a short write (a full
    disk) is an error, as the record is then cut."""
    total = sum(map(len, parts))
    if os.writev(fd, parts) != total:
        raise OSError(f"a page cache record was cut short ({total} bytes asked)")


def scan(path: Path) -> Iterator[tuple[str, int, int]]:
    """(key, offset, length) of each whole record of the pack at `path`, in order; the
    reading ends at the first record cut short (a killed writer, a full disk)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        offset = 0
        while offset + RECORD.size <= size:
            fh.seek(offset)
            head = fh.read(RECORD.size)
            if len(head) < RECORD.size:
                return
            digest, length = RECORD.unpack(head)
            start = offset + RECORD.size
            if start + length > size:
                return
            yield digest.hex(), start, length
            offset = start + length


def read_index(root: Path) -> dict[str, tuple[str, int, int]]:
    """The entries `root`'s index names, each within a pack that is there (an entry
    said to lie elsewhere is left out); {} when there is no index or it cannot be read
    (every entry is then a miss)."""
    try:
        doc = orjson.loads((root / INDEX).read_bytes())
        if doc.get("format") != INDEX_FORMAT:
            return {}
        packs = [(name, _size(root / name)) for name in doc["packs"]]
        found = {}
        for key, (pack, offset, length) in doc["entries"].items():
            name, size = packs[pack]
            if type(offset) is int and type(length) is int and RECORD.size <= offset <= offset + length <= size:
                found[key] = (name, offset, length)
        return found
    except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError, IndexError):
        return {}


def _size(path: Path) -> int:
    """The size of the pack at `path`; -1 where there is none (no entry fits in it)."""
    try:
        return path.stat().st_size if path.is_file() else -1
    except OSError:
        return -1


@dataclass(frozen=True, slots=True)
class PageCache:
    """Kept bytes by key (a sha256 hex digest), compressed with zstd at its fastest
    level: on the site's HTML 274 MB/s against 88 for zlib's fastest level, for a smaller
    file (0.17 of the HTML against 0.19), and a cold site build writes about a gigabyte
    through it. One compressor per cache, used again for every entry: a new one per entry
    allocates its working memory each time, which doubled the time compressing took.

    `open` reads the index; an entry `put` is readable at once in the process that put
    it, and in every process after `finish`. A forked worker uses its own copy (its own
    pack, its own compressor); the open packs it inherits are read at an offset
    (`os.pread`), never moved."""

    root: Path
    _index: dict = field(default_factory=dict, repr=False, compare=False)
    _build: str = field(default_factory=lambda: secrets.token_hex(6), repr=False, compare=False)
    _readers: dict = field(default_factory=dict, repr=False, compare=False)  # pack name -> fd
    _writers: dict = field(default_factory=dict, repr=False, compare=False)  # pid -> [name, fd, end] or None
    _compress: zstandard.ZstdCompressor = field(default_factory=lambda: zstandard.ZstdCompressor(level=1, write_checksum=True), repr=False, compare=False)
    _decompress: zstandard.ZstdDecompressor = field(default_factory=zstandard.ZstdDecompressor, repr=False, compare=False)

    @classmethod
    def open(cls, root: Path, read: bool = True) -> "PageCache":
        """The cache in `root`, its index read (`read` False: none of it will be read)."""
        cache = cls(root)
        if read:
            cache._index.update(read_index(root))
        return cache

    def keys(self) -> set[str]:
        """The keys this process can read."""
        return set(self._index)

    def get(self, key: str) -> bytes | None:
        found = self._index.get(key)
        if found is None:
            return None
        name, offset, length = found
        try:
            fd = self._readers.get(name)
            if fd is None:
                fd = self._readers[name] = os.open(self.root / name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            data = os.pread(fd, length, offset)
            if len(data) != length:
                return None
            return self._decompress.decompress(data)
        except (OSError, zstandard.ZstdError, TypeError, ValueError, OverflowError):
            return None

    def put(self, key: str, data: bytes) -> None:
        """Keeps `data` under `key` in this process's pack; a full disk (or a cache that
        cannot be written) only means it is made again next time: the pack is cut back
        to its last whole record and this process keeps nothing more."""
        digest = bytes.fromhex(key)
        pid = os.getpid()
        writer = self._writers.get(pid, ())
        if writer is None:
            return
        frame = self._compress.compress(data)
        try:
            if not writer:
                writer = self._writers[pid] = self._new_pack(pid)
            name, fd, end = writer
            _append(fd, [RECORD.pack(digest, len(frame)), frame])
        except OSError:
            if writer:
                with contextlib.suppress(OSError):
                    os.ftruncate(writer[1], writer[2])
            self._writers[pid] = None
            return
        writer[2] = end + RECORD.size + len(frame)
        self._index[key] = (name, end + RECORD.size, len(frame))

    def _new_pack(self, pid: int) -> list:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{self._build}-{pid}{SUFFIX}"
        fd = os.open(self.root / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0), 0o666)
        return [name, fd, os.fstat(fd).st_size]

    def close(self) -> None:
        """Closes the packs this process opened."""
        for fd in self._readers.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._readers.clear()
        for writer in self._writers.values():
            if writer:
                with contextlib.suppress(OSError):
                    os.close(writer[1])
        self._writers.clear()

    def finish(self, used: Iterable[str | None] | None) -> None:
        """Ends a site build: the index names exactly the entries it `used` (None: a
        build that failed, which keeps what it made beside what was kept), the packs
        that hold none of them are deleted, and sparse ones compacted (see the module's
        docstring). A cache that cannot be written is left as it is."""
        self.close()
        try:
            names = [p.name for p in self.root.iterdir()]
        except OSError:
            return
        entries = read_index(self.root)
        for name in sorted(names):
            if name.startswith(f"{self._build}-") and name.endswith(SUFFIX):
                for key, offset, length in scan(self.root / name):
                    entries[key] = (name, offset, length)
        if used is not None:
            entries = {k: entries[k] for k in used if k is not None and k in entries}
        with contextlib.suppress(OSError):
            entries = self._compacted(entries)
            packs = sorted({name for name, _, _ in entries.values()})
            number = {name: i for i, name in enumerate(packs)}
            doc = {
                "format": INDEX_FORMAT,
                "packs": packs,
                "entries": {k: [number[n], o, ln] for k, (n, o, ln) in sorted(entries.items())},
            }
            write_atomic(self.root / INDEX, orjson.dumps(doc))
            self._index.clear()
            self._index.update(entries)
            for name in names:
                if name != INDEX and name not in number:
                    _remove(self.root / name)

    def _compacted(self, entries: dict[str, tuple[str, int, int]]) -> dict[str, tuple[str, int, int]]:
        """`entries` with those of sparse packs copied into one new pack, when the packs
        hold more than `SLACK` times what the entries need."""
        live: Counter = Counter()
        for name, _, length in entries.values():
            live[name] += RECORD.size + length
        sizes = {name: (self.root / name).stat().st_size for name in live}
        if sum(sizes.values()) <= SLACK * sum(live.values()):
            return entries
        sparse = {name for name in live if live[name] * 2 < sizes[name]}
        target = f"{self._build}-compacted{SUFFIX}"
        out = dict(entries)
        at = 0
        with open(self.root / target, "wb") as fh:
            for name in sorted(sparse):
                moved = sorted((offset, length, key) for key, (n, offset, length) in entries.items() if n == name)
                with open(self.root / name, "rb") as src:
                    for offset, length, key in moved:
                        src.seek(offset)
                        frame = src.read(length)
                        if len(frame) != length:
                            del out[key]
                            continue
                        fh.write(RECORD.pack(bytes.fromhex(key), length))
                        fh.write(frame)
                        out[key] = (target, at + RECORD.size, length)
                        at += RECORD.size + length
        return out


def _remove(path: Path) -> None:
    """Removes a pack, an index's leftover or a folder of an earlier layout."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
