"""Incremental rendering: parts of the output that depend on a few inputs only.

A renderer splits its work into *units* (the tables of one framework, the pages of one
detection corpus, the reconciliation report of one mapping table) and names the
sources each unit reads. A unit's key hashes the pipeline's code, the build settings,
every ATT&CK release and schema of the build (everything reads those) and the sources
it names. When the previous build holds the same unit under the same key, its files
are hard-linked into the new build folder instead of being rendered again; parts of the
output that read every source (coverage, technique pages, the indexes) are not units
and are rendered on every build that is not a no-op.

Before a unit is taken, its files are checked against the previous manifest's hashes
(by stat signature where the file has not been touched, else by hashing it), so the new
manifest never vouches for bytes that were changed after the previous build wrote them.

Hard links cost one system call per file and no space, and keep the previous build
folder whole: nothing ever writes into a file after it is created (each writer
creates its file anew), so the two names of one file never diverge. A path that a
renderer writes and a reused unit also owns is refused as a bug, because writing
through the link would change the previous build.

A unit's small `memo` (the entry it contributes to an index file) is kept in the
manifest, so an index can list a unit that was not rendered this time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import orjson

from pipeline.build import integrity
from pipeline.build.fingerprint import Input
from pipeline.build.manifest import Artifact

# Inputs every unit reads: the releases (ids, names, tactics) and the schema tables are checked with.
_SHARED_KINDS = ("attack", "schema")


def _hash(value: object) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """What a build did with one render unit: its key and its memo (the manifest's
    `units` entry, read back by the next build)."""

    key: str
    memo: object = None

    def as_dict(self) -> dict:
        return {"key": self.key, "memo": self.memo}


@dataclass
class Units:
    """Which units a build may take from the previous one, and what it did with each.

    `Units()` (no previous build, no inputs) renders every unit: the renderers run the
    same way inside and outside a build.
    """

    out: Path | None = None
    settings: dict = field(default_factory=dict)
    inputs: dict[str, Input] = field(default_factory=dict)  # source id -> the build's input
    previous: Path | None = None
    previous_doc: dict | None = None
    # Stat signatures of the previous build's files when their hashes were taken (integrity.py).
    previous_signatures: dict[str, list[int]] = field(default_factory=dict)
    digest: Callable[[str], str | None] = lambda _id: None
    config: object = None
    # What this build did: unit name -> its record; file path -> unit name.
    done: dict[str, UnitRecord] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    reused: set[str] = field(default_factory=set)  # file paths taken from the previous build
    known: dict[str, tuple[str, int]] = field(default_factory=dict)  # reused path -> (sha256, size)
    # Files this build wrote, hashed by the process that wrote them just after writing:
    # path -> (sha256, size, stat signature); the manifest takes a digest whose file
    # still has that signature instead of reading the file again.
    written: dict[str, tuple[str, int, list[int]]] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)
    _by_unit: dict[str, list[Artifact]] | None = None

    # -- dependencies ---------------------------------------------------------------
    def framework_sources(self, framework: str) -> list[str]:
        """Every enabled table and catalogue of a framework (its layers, bundle, tables
        and pages read the mappings and the control texts of all its versions)."""
        if self.config is None:
            return []
        return sorted(s.id for s in self.config.sources if s.enabled and s.kind != "attack" and s.framework == framework)

    def detection_source(self, name: str) -> list[str]:
        """The source of a detection corpus, by the name its graph nodes carry."""
        if self.config is None:
            return []
        # lazy: pipeline.ingest.detections.corpus would add 30 ms (multiprocessing) to `show`, `stats` and `layer` answering from a build, and to a no-op `build`
        from pipeline.ingest.detections.corpus import source_name

        return sorted(s.id for s in self.config.sources if s.kind == "detection" and source_name(s) == name)

    def detection_sources(self) -> list[str]:
        """Every enabled detection corpus (the query packs hold the queries of all of them)."""
        if self.config is None:
            return []
        return sorted(s.id for s in self.config.sources if s.kind == "detection" and s.enabled)

    def key(self, name: str, sources: Iterable[str], content: str = "") -> str:
        """`content`: a digest of graph data the unit reads beyond its sources' files
        (a technique card reads one technique's edges from every source)."""
        shared = sorted((i.source_id, i.sha256) for i in self.inputs.values() if i.kind in _SHARED_KINDS)
        own = []
        for sid in sorted(set(sources)):
            entry = self.inputs.get(sid)
            own.append((sid, entry.sha256 if entry else self.digest(sid)))
        return _hash({"settings": self.settings, "shared": shared, "unit": name, "sources": own, "content": content})

    # -- running units ----------------------------------------------------------------
    def run(self, name: str, sources: Iterable[str], render: Callable[[], tuple[list[Path], object]]) -> tuple[list[Path], object]:
        """Take unit `name` from the previous build if its key is unchanged, else call
        `render()` -> (files written, memo). Returns the files written now (none when
        the unit was taken) and the memo."""
        taken = self.take(name, sources)
        if taken is not None:
            return [], taken[0]
        paths, memo = render()
        self.record(name, paths, memo)
        return paths, memo

    def take(self, name: str, sources: Iterable[str], content: str = "") -> tuple[object] | None:
        """(memo,) if unit `name` was taken from the previous build; None if it must be
        rendered now, and then `record` must follow with what was written."""
        if name in self.done or name in self._keys:
            raise RuntimeError(f"render unit {name!r} ran twice in one build")
        key = self._keys[name] = self.key(name, sources, content)
        taken = self._take(name, key)
        if taken is not None:
            self.done[name] = UnitRecord(key, taken[0])
        return taken

    def record(self, name: str, paths: Iterable[Path], memo: object = None) -> None:
        self.done[name] = UnitRecord(self._keys[name], memo)
        if self.out is not None:
            for p in paths:
                self.owner[p.relative_to(self.out).as_posix()] = name

    def _take(self, name: str, key: str) -> tuple[object] | None:
        if self.out is None or self.previous is None or not self.previous_doc:
            return None
        before = (self.previous_doc.get("units") or {}).get(name)
        if not isinstance(before, dict) or before.get("key") != key or "memo" not in before:
            return None
        files = self._previous_files().get(name, [])
        # The new manifest will vouch for these bytes: a file changed since the previous
        # build wrote it (even to the same size) makes the unit render again.
        if any(integrity.compare(self.previous, a.as_dict(), self.previous_signatures) is not None for a in files):
            return None
        for a in files:
            _link(self.previous / a.path, self.out / a.path)
            self.owner[a.path] = name
            self.reused.add(a.path)
            self.known[a.path] = (a.sha256, a.size)
        return (before["memo"],)

    def _previous_files(self) -> dict[str, list[Artifact]]:
        """The previous manifest's artifacts by unit, indexed once (a build asks for
        1,200 units among 12,500 files)."""
        if self._by_unit is None:
            self._by_unit = {}
            for a in (self.previous_doc or {}).get("artifacts", []):
                if a.get("unit") is not None:
                    self._by_unit.setdefault(a["unit"], []).append(Artifact.from_dict(a))
        return self._by_unit

    # -- digests of written files -------------------------------------------------------
    def hashed(self, paths: Iterable[Path]) -> None:
        """Hash the files a renderer just wrote (still in the page cache), unless their
        writer recorded a digest already (`note_written`)."""
        if self.out is None:
            return
        for p in paths:
            rel = p.relative_to(self.out).as_posix()
            if rel not in self.written and rel not in self.reused:
                self.written[rel] = integrity.hash_file(p)

    def note_written(self, rel: str, sha256: str, size: int, signature: list[int]) -> None:
        """The digest of a file (`rel`: its POSIX path in the build folder) that its
        writer hashed from the bytes it wrote."""
        if self.out is not None:
            self.written[rel] = (sha256, size, signature)

    # -- work done in other processes ---------------------------------------------------
    _TRACKED = ("done", "owner", "known", "written", "_keys")

    def mark(self) -> dict[str, frozenset]:
        """What this build has done so far, to tell a forked worker's own work from it."""
        return {name: frozenset(getattr(self, name)) for name in self._TRACKED} | {"reused": frozenset(self.reused)}

    def changes(self, since: dict[str, frozenset]) -> dict[str, object]:
        """What was done here since `mark()` returned `since` (a worker's share, sent back)."""
        out: dict[str, object] = {
            name: {k: v for k, v in getattr(self, name).items() if k not in since[name]} for name in self._TRACKED
        }
        out["reused"] = sorted(self.reused - since["reused"])
        return out

    def merge(self, changes: dict[str, object]) -> None:
        """Take a worker's `changes()`. A unit or a file both processes claim is the bug
        a serial build refuses too (a unit run twice, a file written twice)."""
        for name in self._TRACKED:
            mine = getattr(self, name)
            theirs = changes[name]
            both = sorted(set(mine) & set(theirs))
            if both and name in ("done", "_keys"):
                raise RuntimeError(f"render unit {both[0]!r} ran twice in one build")
            if both:
                raise RuntimeError(f"{both[0]} was written by two renderers running side by side")
            mine.update(theirs)
        self.reused.update(changes["reused"])

    def check_written(self, paths: Iterable[Path]) -> None:
        """A renderer wrote `paths`: none of them may be a file of a reused unit."""
        if self.out is None or not self.reused:
            return
        for p in paths:
            rel = p.relative_to(self.out).as_posix()
            if rel in self.reused:
                raise RuntimeError(f"{rel} belongs to reused render unit {self.owner[rel]!r} and was written again")


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)  # a file system without hard links: copying is still cheaper than rendering
