"""`data/sources.lock`: the digest each source had the first time it was resolved.

Trust on first use: the first resolution from an origin pins its digest; from then
on a different digest is an error until `fetch --update` re-pins it deliberately.
Origins are pinned separately because a mirror may store a source in another byte
layout than its canonical download (a gzip-compressed or re-joined bundle, a folder
trimmed to rule files): `mirror` pins the bytes a mirror stores (and a `--base-url`
server, which serves a mirror), `url` the canonical download.

The file is JSON with sorted keys and no timestamps, so it diffs cleanly and two
runs over the same inputs write the same bytes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.core.atomic import write_atomic
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.fetch.hashing import Digest

LOCK_VERSION = 1
ORIGINS = ("mirror", "url")
_IDENTITY_KEYS = {"mirror": ("path",), "url": ("url", "subdir")}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class LockMismatch(PipelineError):
    """A source's digest or identity differs from what the lock pinned."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """One lock entry: where the copy came from (`identity`) and its digest."""

    identity: tuple[tuple[str, str], ...]
    digest: Digest

    def as_json(self) -> dict:
        out: dict = dict(self.identity)
        if self.digest.is_tree:
            out.update(tree_sha256=self.digest.sha256, files=self.digest.files)
        else:
            out["sha256"] = self.digest.sha256
        out["size"] = self.digest.size
        return out


class Lock:
    """Pins per source id and origin; `changed` tells whether `save` has work to do."""

    def __init__(self, path: Path, pins: dict[str, dict[str, Pin]] | None = None) -> None:
        self.path = path
        self.pins: dict[str, dict[str, Pin]] = pins or {}
        self.changed = False

    @classmethod
    def load(cls, path: Path) -> "Lock":
        """A missing lock is an empty one; a damaged lock is an error, never silently replaced."""
        try:
            raw = orjson.loads(Path(path).read_bytes())
        except FileNotFoundError:
            return cls(Path(path))
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"not valid JSON: {exc}", file=str(path)) from None
        return cls(Path(path), _parse(raw, str(path)))

    def pin(self, source_id: str, origin: str) -> Pin | None:
        return self.pins.get(source_id, {}).get(origin)

    def check(
        self,
        source_id: str,
        origin: str,
        identity: dict[str, str],
        digest: Digest,
        *,
        update: bool = False,
        may_pin: bool = True,
    ) -> str:
        """Compare with the pin and return `pinned`, `verified` or `updated`.

        With `update` the new digest replaces the pin; without it a difference
        raises `LockMismatch`. `may_pin=False` (`fetch --locked`) makes a missing
        pin an error too.
        """
        new = Pin(identity=_identity(origin, identity), digest=digest)
        old = self.pin(source_id, origin)
        where = f"source {source_id!r}"
        if old is None or update:
            if old == new:
                return "verified"
            if not may_pin:
                raise LockMismatch(f"no {origin} entry in the lock and --locked is set", file=str(self.path), record=where)
            self.pins.setdefault(source_id, {})[origin] = new
            self.changed = True
            return "pinned" if old is None else "updated"
        self.verify(source_id, origin, identity, digest)
        return "verified"

    def verify(self, source_id: str, origin: str, identity: dict[str, str], digest: Digest) -> None:
        """Raise `LockMismatch` if a pin exists and differs; no pin means nothing to check."""
        old = self.pin(source_id, origin)
        if old is None:
            return
        where = f"source {source_id!r}"
        hint = f"run `attack-pipeline fetch --update {source_id}` if the change is intended"
        new_identity = _identity(origin, identity)
        if old.identity != new_identity:
            raise LockMismatch(
                f"the lock pinned the {origin} copy at {_show(old.identity)} but it is now {_show(new_identity)}; {hint}",
                file=str(self.path),
                record=where,
            )
        if old.digest != digest:
            raise LockMismatch(
                f"{old.digest.label} mismatch for the {origin} copy ({_show(new_identity)}): "
                f"expected {old.digest.sha256}, actual {digest.sha256}"
                f"{_size_note(old.digest, digest)}; {hint}",
                file=str(self.path),
                record=where,
            )

    def as_json(self) -> dict:
        return {
            "lock_version": LOCK_VERSION,
            "sources": {sid: {o: p.as_json() for o, p in origins.items()} for sid, origins in self.pins.items()},
        }

    def save(self) -> None:
        """Write through a temp file and `os.replace`, so a crash leaves the old lock whole."""
        data = orjson.dumps(self.as_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        write_atomic(self.path, data)
        self.changed = False


def lock_path_for(sources_file: str | os.PathLike) -> Path:
    """The lock sits beside the sources file it pins (`data/sources.toml` → `data/sources.lock`)."""
    return Path(sources_file).with_name("sources.lock")


def _identity(origin: str, identity: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((k, identity[k]) for k in _IDENTITY_KEYS[origin] if identity.get(k))


def _show(identity: tuple[tuple[str, str], ...]) -> str:
    return " ".join(f"{k}={v}" for k, v in identity) or "(none)"


def _size_note(old: Digest, new: Digest) -> str:
    parts = []
    if old.size != new.size:
        parts.append(f"size {old.size} → {new.size} bytes")
    if old.files != new.files:
        parts.append(f"files {old.files} → {new.files}")
    return f" ({', '.join(parts)})" if parts else ""


def _parse(raw: object, file: str) -> dict[str, dict[str, Pin]]:
    """Validate every field: the lock is input, and a bad entry must name itself."""
    if not isinstance(raw, dict) or raw.get("lock_version") != LOCK_VERSION:
        raise ConfigError(f"not a sources lock of version {LOCK_VERSION} (expected {{\"lock_version\": 1, \"sources\": {{…}}}})", file=file)
    sources = raw.get("sources")
    if not isinstance(sources, dict):
        raise ConfigError("'sources' must be an object", file=file)
    out: dict[str, dict[str, Pin]] = {}
    for sid, origins in sources.items():
        where = f"source {sid!r}"
        if not isinstance(origins, dict):
            raise ConfigError("must be an object of origins", file=file, record=where)
        for origin, body in origins.items():
            owhere = f"{where} origin {origin!r}"
            if origin not in ORIGINS:
                raise ConfigError(f"unknown origin (expected one of {', '.join(ORIGINS)})", file=file, record=owhere)
            out.setdefault(sid, {})[origin] = _parse_pin(origin, body, file, owhere)
    return out


def _parse_pin(origin: str, body: object, file: str, where: str) -> Pin:
    if not isinstance(body, dict):
        raise ConfigError("must be an object", file=file, record=where)
    allowed = set(_IDENTITY_KEYS[origin]) | {"sha256", "tree_sha256", "files", "size"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(map(repr, unknown))}", file=file, record=where)
    identity = {}
    for key in _IDENTITY_KEYS[origin]:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{key!r} must be a string", file=file, record=where)
        if value:
            identity[key] = value
    tree = "tree_sha256" in body
    if tree == ("sha256" in body):
        raise ConfigError("needs exactly one of 'sha256' (a file) or 'tree_sha256' (a folder)", file=file, record=where)
    sha = body["tree_sha256" if tree else "sha256"]
    if not isinstance(sha, str) or not _HEX64.match(sha):
        raise ConfigError("the hash must be 64 lower-case hex digits", file=file, record=where)
    size = body.get("size")
    files = body.get("files")
    if not _count(size):
        raise ConfigError("'size' must be a non-negative integer", file=file, record=where)
    if tree and not _count(files):
        raise ConfigError("'files' must be a non-negative integer for a folder", file=file, record=where)
    if not tree and files is not None:
        raise ConfigError("'files' belongs to folders ('tree_sha256') only", file=file, record=where)
    return Pin(identity=_identity(origin, identity), digest=Digest(sha256=sha, size=size, files=files if tree else None))


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
