"""Is a build folder still what its manifest says? Missing, changed and extra files.

The manifest records every artifact's sha256 and size, computed from the bytes on disk
when the build wrote (or took over) the file. Checking a build against it by size alone
lets a same-size edit pass, so the checks here compare hashes. Hashing 12,000 files on
every no-op build would cost seconds, so each build also records its *signatures*: the
inode, size and modification time each file had when its hash was taken, as git's index
does. They are kept beside the build folders (`SIGNATURES` in `.outputs.builds/`, by
build id), not in them: a build folder holds only what the same inputs reproduce byte
for byte. A file whose stat still matches its signature is trusted
without being read; any other file is hashed. A file edited and given back its old
modification time on purpose passes the quick check; `verify` hashes every byte.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.core.atomic import write_atomic

MANIFEST = "manifest.json"
MARKER = ".attack-pipeline-output"
SIGNATURES = ".signatures.json"  # in the builds folder: {build id: {path: signature}}
# Files of a build folder that are not artifacts (the manifest cannot list itself).
BOOKKEEPING = frozenset((MANIFEST, MARKER))
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Difference:
    path: str  # relative to the build folder
    kind: str  # missing, changed, extra
    detail: str = ""

    def line(self) -> str:
        return f"{self.kind:<8} {self.path}" + (f"  ({self.detail})" if self.detail else "")


def signature(st: os.stat_result) -> list[int]:
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def hash_file(path: Path | str) -> tuple[str, int, list[int]]:
    """sha256 and size of the bytes read, and the signature of the file they came from
    (plain descriptors: no file object for each of 12,000 mostly small files)."""
    h = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        while chunk := os.read(fd, CHUNK):
            h.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return h.hexdigest(), size, signature(st)


def _all_signatures(base: Path) -> dict[str, dict]:
    try:
        raw = orjson.loads((base / SIGNATURES).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}


def read_signatures(root: Path | None) -> dict[str, list[int]]:
    """The signatures recorded for the build folder `root` (empty when none are known:
    then every file is hashed)."""
    if root is None:
        return {}
    root = root.resolve()
    found = _all_signatures(root.parent).get(root.name, {})
    return {k: v for k, v in found.items() if isinstance(v, list) and len(v) == 3}


def record_signatures(folder: Path, signatures: dict[str, list[int]]) -> None:
    """Record the signatures of a published build folder; those of folders that are gone
    are dropped. Losing them costs speed only (the files are hashed instead)."""
    folder = folder.resolve()
    base = folder.parent
    if not (base.name.startswith(".") and base.name.endswith(".builds")):
        return  # a plain output folder of an older layout: nowhere of the build's own to keep them
    known = {k: v for k, v in _all_signatures(base).items() if (base / k).is_dir() and k != folder.name}
    known[folder.name] = dict(sorted(signatures.items()))
    try:
        write_atomic(base / SIGNATURES, orjson.dumps(known, option=orjson.OPT_SORT_KEYS))
    except OSError:
        pass


def compare(
    root: Path, artifact: dict, signatures: dict[str, list[int]] | None, learned: dict[str, list[int]] | None = None
) -> Difference | None:
    """One listed artifact against the file: None when it is intact. `signatures` None
    hashes the file whatever its stat says; `learned` receives the signature of a file
    that was hashed and found intact."""
    rel = artifact["path"]
    if not isinstance(rel, str) or rel.startswith("/") or ".." in rel.split("/"):
        return Difference(str(rel), "changed", "manifest path outside the build")
    path = os.path.join(root, rel)  # os, not pathlib: 12,000 of these on every no-op build
    try:
        st = os.lstat(path)
    except OSError:
        return Difference(rel, "missing")
    if not stat.S_ISREG(st.st_mode):
        return Difference(rel, "changed", "not a regular file")
    if st.st_size != artifact["size"]:
        return Difference(rel, "changed", f"size {st.st_size}, manifest {artifact['size']}")
    if signatures is not None and signatures.get(rel) == signature(st):
        return None
    try:
        sha, size, sig = hash_file(path)
    except OSError as exc:
        return Difference(rel, "changed", f"unreadable: {exc.strerror or exc}")
    if sha != artifact["sha256"] or size != artifact["size"]:
        return Difference(rel, "changed", "sha256 differs")
    if learned is not None:
        learned[rel] = sig
    return None


def extras(root: Path, doc: dict) -> list[str]:
    """Files in the build folder that the manifest does not list (nor the build's own
    bookkeeping): something the project did not write."""
    listed = {a["path"] for a in doc.get("artifacts", []) if isinstance(a, dict) and "path" in a}
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if rel not in listed and rel not in BOOKKEEPING:
                found.append(rel)
    return sorted(found)


def differences(root: Path, doc: dict, *, quick: bool = False) -> list[Difference]:
    """Every missing, changed and extra file of a build folder, sorted by path.
    `quick` trusts the signatures for files whose stat did not change."""
    signatures = read_signatures(root) if quick else None
    out = []
    for a in doc.get("artifacts", []):
        try:
            found = compare(root, a, signatures)
        except (KeyError, TypeError):
            found = Difference(str(a), "changed", "manifest entry unreadable")
        if found is not None:
            out.append(found)
    out += [Difference(rel, "extra") for rel in extras(root, doc)]
    return sorted(out, key=lambda d: (d.path, d.kind))


def damaged(root: Path, doc: dict) -> list[Difference]:
    """Missing or changed artifacts (quick: by signature, else by hash); extras are not
    looked at. When every file is intact, the signatures of the files that had to be
    hashed are recorded, so that the next check stats them only (a build made before
    signatures were kept, or files merely touched)."""
    signatures = read_signatures(root)
    learned: dict[str, list[int]] = {}
    out = []
    for a in doc.get("artifacts", []):
        try:
            found = compare(root, a, signatures, learned)
        except (KeyError, TypeError):
            found = Difference(str(a), "changed", "manifest entry unreadable")
        if found is not None:
            out.append(found)
    if learned and not out:
        record_signatures(root, signatures | learned)
    return out
