"""What a build reads, hashed: the inputs half of the manifest and the no-op test.

Hashing every input on every build (8,000+ rule files) would cost over a second, so
file hashes are memoised by (path, size, modification time) in the cache, the way git's
index avoids re-reading unchanged files: a second build stats the inputs and hashes
only what changed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.core.atomic import write_atomic
from pipeline.fetch.hashing import Digest, file_digest, tree_digest
from pipeline.convert.targets import target
from pipeline.core.config import version_key
from pipeline.core.errors import PipelineError

_CODE_SUFFIXES = (".py", ".j2", ".json", ".toml", ".yml", ".yaml", ".css", ".html")


@dataclass(frozen=True, slots=True)
class Input:
    source_id: str
    kind: str
    origin: str
    path: str
    sha256: str
    size: int
    files: int | None
    attack_version: str | None

    def as_dict(self) -> dict:
        out = {
            "source": self.source_id,
            "kind": self.kind,
            "origin": self.origin,
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "attack_version": self.attack_version,
        }
        if self.files is not None:
            out["files"] = self.files
        return out


class HashMemo:
    """sha256 of files, remembered by path, size and mtime across runs."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.known: dict[str, list] = {}
        self.changed = False
        if file is not None:
            try:
                raw = orjson.loads(file.read_bytes())
                if isinstance(raw, dict):
                    self.known = {k: v for k, v in raw.items() if isinstance(v, list) and len(v) == 3}
            except (OSError, orjson.JSONDecodeError):
                pass

    def file_hash(self, path: Path | str) -> Digest:
        st = os.stat(path)
        key = str(path)
        hit = self.known.get(key)
        if hit is not None and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return Digest(sha256=hit[2], size=st.st_size)
        d = file_digest(path)
        self.known[key] = [st.st_size, st.st_mtime_ns, d.sha256]
        self.changed = True
        return d

    def digest(self, path: Path) -> Digest:
        return tree_digest(path, self.file_hash) if path.is_dir() else self.file_hash(path)

    def save(self) -> None:
        if self.file is None or not self.changed:
            return
        try:
            write_atomic(self.file, orjson.dumps(self.known, option=orjson.OPT_SORT_KEYS))
            self.changed = False
        except OSError:
            pass  # only speed is lost


def code_fingerprint() -> str:
    """The pipeline's own code and templates: a new version never reuses old outputs."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in _CODE_SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def build_inputs(ws) -> list:
    """Every source a build may read: each listed ATT&CK release of the chosen domains
    (the target, the older ones reconciliation and the diff compare with) and every
    enabled mapping table, catalogue, schema and detection corpus. Releases newer than
    the target are never read: looking for them would try the network on every build."""
    target = version_key(ws.attack_version)
    sources = [s for d in ws.domains for s in ws.config.attack_releases(d) if version_key(s.attack_version or "0.0") <= target]
    sources += [s for s in ws.config.sources if s.kind != "attack" and s.enabled]
    return sources


def hash_inputs(ws, memo: HashMemo) -> list[Input]:
    out = []
    for source in build_inputs(ws):
        try:
            found = ws.resolve(source)
        except PipelineError:
            if source.kind == "attack" and source.attack_version != ws.attack_version:
                continue  # an older release that is not at hand: reconciliation falls back
            raise
        d = memo.digest(found.path)
        shown = found.path.relative_to(ws.mirror).as_posix() if ws.mirror and found.path.is_relative_to(ws.mirror) else found.path.name
        out.append(Input(source.id, source.kind, found.origin, shown, d.sha256, d.size, d.files, source.attack_version))
    return sorted(out, key=lambda i: i.source_id)


def settings(ws, code: str, options: dict | None = None) -> dict:
    """What decides the outputs besides the inputs' contents."""
    return {
        "attack_version": ws.attack_version,
        "domains": list(ws.domains),
        "site_url": ws.config.site_url,
        "code": code,
        "options": options or {},
        "sources_file": hashlib.sha256(Path(ws.config.file).read_bytes()).hexdigest(),
        # A new pySigma or backend converts differently: a build after an upgrade is not a no-op.
        "query_converters": {name: target(name).versions() for name in getattr(ws.config, "query_languages", ())},
    }


def source_digest(ws, memo: HashMemo, source_id: str) -> str | None:
    """sha256 of a source that is not among the build's inputs (a disabled table that
    only its reconciliation report reads); None when it is not at hand."""
    try:
        return memo.digest(ws.resolve(ws.config.source(source_id)).path).sha256
    except (PipelineError, OSError, KeyError):
        return None


def fingerprint(ws, inputs: list[Input], code: str, options: dict | None = None) -> str:
    """One hash of everything that decides the outputs."""
    h = hashlib.sha256()
    h.update(orjson.dumps(settings(ws, code, options), option=orjson.OPT_SORT_KEYS))
    for i in inputs:
        h.update(orjson.dumps(i.as_dict(), option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()
