"""`manifest.json`: what went into a build and what came out, with hashes.

Written last, so a build folder with a manifest is a complete build. It holds no
timestamps: two builds of the same inputs have the same manifest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, overload

import orjson

from pipeline import __version__
from pipeline.build import integrity

NAME = "manifest.json"


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file of a build: its path relative to the build, its sha256 and size, and the
    render unit that wrote it (None for the parts rendered on every build)."""

    path: str
    sha256: str
    size: int
    unit: str | None = None

    def as_dict(self) -> dict:
        """Its entry in manifest.json (`unit` only when it has one)."""
        entry = {"path": self.path, "sha256": self.sha256, "size": self.size}
        if self.unit is not None:
            entry["unit"] = self.unit
        return entry

    @classmethod
    def from_dict(cls, entry: dict) -> "Artifact":
        """An entry of a manifest read back (KeyError when it lacks a field)."""
        return cls(path=entry["path"], sha256=entry["sha256"], size=entry["size"], unit=entry.get("unit"))


class Listed(Sequence[Artifact]):
    """The artifacts of a manifest read back, each made a record only when it is read.
    A build with nothing to do reports how many files the live build has and reads
    none of them: making 12,000 records cost it 40 ms."""

    __slots__ = ("_entries",)

    def __init__(self, entries: list[dict]):
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> Artifact: ...

    @overload
    def __getitem__(self, index: slice) -> list[Artifact]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [Artifact.from_dict(e) for e in self._entries[index]]
        return Artifact.from_dict(self._entries[index])


def artifacts(
    root: Path,
    owner: dict[str, str] | None = None,
    known: dict[str, tuple[str, int]] | None = None,
    signatures: dict[str, list[int]] | None = None,
    written: dict[str, tuple[str, int, list[int]]] | None = None,
) -> list[Artifact]:
    """Every file of the build with its hash; `owner` names the render unit of a file,
    `known` gives the hash of files taken unchanged from the previous build (checked
    against their bytes when they were taken), `written` the hash of files as their
    writer hashed them (taken when the file's stat signature is still the one it had
    then, else the file is read again). `signatures` receives the stat signature of
    each file as it was when its hash was taken (integrity.SIGNATURES)."""
    owner = owner or {}
    known = known or {}
    written = written or {}
    sigs = signatures if signatures is not None else {}
    out = []
    for rel in _files(root):
        path = os.path.join(root, rel)
        if rel in known:
            sha, size = known[rel]
            st = os.stat(path)
            if st.st_size != size:
                raise RuntimeError(f"{rel} was taken from the previous build and changed size while building")
            sigs[rel] = integrity.signature(st)
        elif rel in written and integrity.signature(os.stat(path)) == list(written[rel][2]):
            sha, size, sigs[rel] = written[rel]
        else:
            sha, size, sigs[rel] = integrity.hash_file(path)
        out.append(Artifact(rel, sha, size, owner.get(rel)))
    return out


def _files(root: Path) -> list[str]:
    """The build's files (not the bookkeeping), relative, in the order of sorted paths
    (component by component: `a/b` before `a.b`). Strings and `os.walk`, not `Path.rglob`:
    on 12,500 files the path objects cost more than hashing the bytes."""
    found = []
    for dirpath, _dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        for name in filenames:
            if name != NAME and not name.startswith(".attack-pipeline") and os.path.isfile(os.path.join(dirpath, name)):
                found.append(prefix + name)
    return sorted(found, key=lambda rel: rel.split("/"))


def write(
    root: Path, *, ws, inputs, fingerprint: str, code: str, warnings: int, units=None, missing=(), signatures=None
) -> dict:
    """`missing`: enabled sources the build could not read (built with --keep-going);
    `signatures` receives the stat signature of each file hashed (integrity.py)."""
    sigs: dict[str, list[int]] = signatures if signatures is not None else {}
    doc = {
        "pipeline_version": __version__,
        "code_sha256": code,
        "fingerprint": fingerprint,
        "attack_version": ws.attack_version,
        "domains": list(ws.domains),
        "warnings": warnings,
        "inputs": [i.as_dict() for i in inputs],
        "artifacts": [
            a.as_dict()
            for a in artifacts(root, units.owner if units else None, units.known if units else None, sigs, units.written if units else None)
        ],
        "units": {name: record.as_dict() for name, record in sorted(units.done.items())} if units else {},
    }
    if missing:
        doc["missing_sources"] = list(missing)
    (root / NAME).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return doc


def read(root: Path | None) -> dict | None:
    if root is None:
        return None
    try:
        doc = orjson.loads((root / NAME).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def intact(root: Path, doc: dict) -> bool:
    """Every artifact the manifest lists is there with its bytes (by hash, or by the
    signature of a file whose stat has not changed since its hash was taken)."""
    return not integrity.damaged(root, doc)
