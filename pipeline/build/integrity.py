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

Extra files (a note a user saved into a build folder) are found by listing the folder;
that listing is skipped while every directory of the folder has the signature it had
when the folder was last listed and found clean (`DIR_SIGNATURES`): a name added to,
removed from or renamed in a directory changes that directory's modification time.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.core.atomic import write_atomic

MANIFEST = "manifest.json"
MARKER = ".attack-pipeline-output"
SIGNATURES = ".signatures.json"  # in the builds folder: {build id: {path: signature}}
DIR_SIGNATURES = ".dir-signatures.json"  # in the builds folder: {build id: {dir: signature}}
# A directory changed less than this long ago is not trusted by its signature yet: a file
# system with coarse timestamps could add a file within the same tick (git's racy index).
SETTLED_NS = 2_000_000_000
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


def _all_signatures(base: Path, name: str = SIGNATURES) -> dict[str, dict]:
    """{build id: {path: signature}} of the file `name` in the builds folder `base`."""
    try:
        raw = orjson.loads((base / name).read_bytes())
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


def record_signatures(folder: Path, signatures: dict[str, list[int]], name: str = SIGNATURES) -> None:
    """Record the signatures of a published build folder (in the file `name` of the
    builds folder); those of folders that are gone are dropped. Losing them costs speed
    only (the files are hashed, the folder listed, instead)."""
    folder = folder.resolve()
    base = folder.parent
    if not (base.name.startswith(".") and base.name.endswith(".builds")):
        return  # a plain output folder of an older layout: nowhere of the build's own to keep them
    known = {k: v for k, v in _all_signatures(base, name).items() if (base / k).is_dir() and k != folder.name}
    known[folder.name] = dict(sorted(signatures.items()))
    try:
        write_atomic(base / name, orjson.dumps(known, option=orjson.OPT_SORT_KEYS))
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
    return _scan(root, doc)[0]


def _scan(root: Path, doc: dict) -> tuple[list[str], dict[str, list[int]]]:
    """(extra files, signature of every directory). Each directory is stat'ed before it
    is listed, so a file added meanwhile leaves its directory's signature stale."""
    listed = {a["path"] for a in doc.get("artifacts", []) if isinstance(a, dict) and "path" in a}
    found: list[str] = []
    dirs: dict[str, list[int]] = {}
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        path = os.path.join(root, rel_dir) if rel_dir else str(root)
        dirs[rel_dir or "."] = signature(os.lstat(path))
        with os.scandir(path) as entries:
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append(rel)
                elif rel not in listed and rel not in BOOKKEEPING:
                    found.append(rel)
    return sorted(found), dirs


def known_clean(root: Path) -> bool:
    """True when the folder was found without extra files and none of its directories has
    changed since: no listing needed (nor its manifest read)."""
    root = root.resolve()
    known = _all_signatures(root.parent, DIR_SIGNATURES).get(root.name)
    if not known:
        return False
    for rel_dir, sig in known.items():
        try:
            st = os.lstat(root if rel_dir == "." else os.path.join(root, rel_dir))
        except OSError:
            return False
        if not stat.S_ISDIR(st.st_mode) or signature(st) != sig:
            return False
    return True


def unlisted(root: Path, doc: dict) -> list[str]:
    """`extras`, and when there are none, the folder's directory signatures recorded so
    that `known_clean` can answer next time without listing it."""
    found, dirs = _scan(root, doc)
    if not found:
        _record_dirs(root, dirs)
    return found


def _record_dirs(folder: Path, dirs: dict[str, list[int]]) -> None:
    settled = time.time_ns() - SETTLED_NS
    if any(sig[2] > settled for sig in dirs.values()):
        return  # too recent to trust; the next check lists the folder again
    record_signatures(folder, dirs, DIR_SIGNATURES)


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


def _unchanged(base: str, artifact: object, signatures: dict[str, list[int]]) -> bool:
    """The common case of `compare`, inline: a regular file whose stat equals its recorded
    signature (12,000 of these on every no-op build). False sends the file to `compare`."""
    try:
        rel = artifact["path"]  # type: ignore[index]
        sig = signatures.get(rel)
        if sig is None or rel.startswith("/") or "/../" in f"/{rel}/":
            return False
        st = os.lstat(f"{base}/{rel}")
    except (OSError, KeyError, TypeError, AttributeError):
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == artifact["size"] and [st.st_ino, st.st_size, st.st_mtime_ns] == sig  # type: ignore[index]


def damaged(root: Path, doc: dict) -> list[Difference]:
    """Missing or changed artifacts (quick: by signature, else by hash); extras are not
    looked at. When every file is intact, the signatures of the files that had to be
    hashed are recorded, so that the next check stats them only (a build made before
    signatures were kept, or files merely touched)."""
    signatures = read_signatures(root)
    learned: dict[str, list[int]] = {}
    out = []
    base = str(root)
    for a in doc.get("artifacts", []):
        if _unchanged(base, a, signatures):
            continue
        try:
            found = compare(root, a, signatures, learned)
        except (KeyError, TypeError):
            found = Difference(str(a), "changed", "manifest entry unreadable")
        if found is not None:
            out.append(found)
    if learned and not out:
        record_signatures(root, signatures | learned)
    return out
