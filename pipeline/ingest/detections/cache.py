"""A cache of parsed detection files, keyed by a hash of each file's path and bytes.

Parsing the rule corpora costs seconds; most runs read the same files as the last one.
One JSON file per source holds, for every file parsed, its records and warnings.
It is written with orjson and read back through `detection_from_dict`, which accepts
plain JSON shapes only — a damaged or planted cache file is ignored, never executed.
Entries are invalidated by the content hash and, as a whole, by a digest of the parser
code, so editing an adapter re-parses everything.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson

from pipeline.core.atomic import write_atomic
from pipeline.core.errors import Issue
from pipeline.model.detections import Detection, detection_from_dict

CACHE_ENV = "ATTACK_PIPELINE_CACHE"
_LAYOUT = 1


def default_cache_dir(sources_file: str) -> Path:
    """`$ATTACK_PIPELINE_CACHE/parsed`, else `cache/parsed` beside the sources file
    (data/sources.toml → data/cache/parsed, which git ignores)."""
    env = os.environ.get(CACHE_ENV)
    base = Path(env) if env else Path(sources_file).resolve().parent / "cache"
    return base / "parsed"


def file_key(relpath: str, data: bytes) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(relpath.encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    h.update(data)
    return h.hexdigest()


def parser_digest(module_files: list[str]) -> str:
    """Digest of the code that produced the records: change the parser, lose the cache."""
    h = hashlib.sha256(str(_LAYOUT).encode())
    for name in sorted(module_files):
        try:
            h.update(Path(name).read_bytes())
        except OSError:
            h.update(name.encode())
    return h.hexdigest()[:20]


def issue_from_dict(data: Any, file: str) -> Issue:
    if not isinstance(data, dict) or not isinstance(data.get("code"), str) or not isinstance(data.get("problem"), str):
        raise ValueError("malformed issue")
    record = data.get("record")
    if record is not None and not isinstance(record, str):
        raise ValueError("malformed issue record")
    return Issue(code=data["code"], problem=data["problem"], file=file, record=record)


def entry(records: list[Detection], issues: list[Issue]) -> dict[str, Any]:
    """A file's parse result in cache form; warnings lose their file (re-added on load)."""
    return {
        "records": [r.as_dict() for r in records],
        "issues": [{"code": i.code, "problem": i.problem, "record": i.record} for i in issues],
    }


def from_entry(data: Any, file: str) -> tuple[list[Detection], list[Issue]]:
    if not isinstance(data, dict) or not isinstance(data.get("records"), list) or not isinstance(data.get("issues"), list):
        raise ValueError("malformed cache entry")
    return [detection_from_dict(r) for r in data["records"]], [issue_from_dict(i, file) for i in data["issues"]]


class ParsedCache:
    """Entries of one source; `save` keeps only the entries used by this run."""

    def __init__(self, directory: Path | None, name: str, digest: str) -> None:
        self.path = directory / f"{name.replace('/', '_')}.json" if directory is not None else None
        self.digest = digest
        self.entries: dict[str, Any] = {}
        self.used: dict[str, Any] = {}
        self.dirty = False
        if self.path is not None:
            self._load()

    def _load(self) -> None:
        try:
            doc = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return
        if isinstance(doc, dict) and doc.get("parser") == self.digest and isinstance(doc.get("entries"), dict):
            self.entries = doc["entries"]

    def get(self, key: str) -> Any:
        found = self.entries.get(key)
        if found is not None:
            self.used[key] = found
        return found

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.used[key] = value
        self.dirty = True

    def save(self) -> bool:
        """Write atomically; a read-only or full disk only costs the next run its speed."""
        if self.path is None or (not self.dirty and len(self.used) == len(self.entries)):
            return False
        data = orjson.dumps({"parser": self.digest, "entries": self.used}, option=orjson.OPT_SORT_KEYS)
        try:
            write_atomic(self.path, data)
        except OSError:
            return False
        return True
