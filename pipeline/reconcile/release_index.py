"""A light index of one ATT&CK release: what reconciliation asks of it, and nothing more.

Reconciling a mapping table needs, per technique id, the name, tactics and status in
the table's own release and in the target one. Loading a whole release takes
0.1–0.7 s; a table set spanning seven releases would spend seconds on objects it never
reads. So a release is reduced to a `ReleaseIndex` (a few hundred small entries) and
the index is cached on disk under the SHA-256 of the release file, which makes the
next run read a ~100 KB JSON file instead of the bundle.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import orjson

from pipeline.core.atomic import write_atomic
from pipeline.model.attack import AttackRelease, Technique

INDEX_FORMAT = 2
CACHE_ENV = "ATTACK_PIPELINE_CACHE"


@dataclass(frozen=True, slots=True)
class TechniqueEntry:
    name: str
    tactics: tuple[str, ...]
    deprecated: bool


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """Where a revoked id leads in this release: status live, deprecated or dead_end."""

    status: str
    chain: tuple[str, ...]
    reason: str = ""

    @property
    def target(self) -> str | None:
        return self.chain[-1] if self.status != "dead_end" and len(self.chain) > 1 else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseIndex:
    domain: str
    version: str
    techniques: dict[str, TechniqueEntry]
    revoked: dict[str, RevokedEntry]
    tactic_names: dict[str, str]
    # Tactic id → shortname in matrix order (Navigator layers name tactics by shortname),
    # and the platforms of the live techniques (a layer's platform filter).
    tactic_shortnames: dict[str, str] = field(default_factory=dict)
    platforms: tuple[str, ...] = ()

    @classmethod
    def of(cls, release: AttackRelease) -> "ReleaseIndex":
        techniques = {}
        tactic_names = {}
        shortnames: dict[str, str] = {}
        platforms: set[str] = set()
        for obj in release.objects.values():
            if isinstance(obj, Technique):
                known = techniques.get(obj.attack_id)
                if known is None or (known.deprecated and not obj.deprecated):
                    techniques[obj.attack_id] = TechniqueEntry(obj.name, obj.tactics, obj.deprecated)
                if not obj.deprecated:
                    platforms.update(obj.platforms)
            elif obj.kind == "tactic":
                tactic_names[obj.attack_id] = obj.name
                if obj.live or obj.attack_id not in shortnames:
                    shortnames[obj.attack_id] = obj.shortname  # type: ignore[attr-defined]
        order = {tid: i for i, tid in enumerate(release.tactics)}
        revoked = {
            r.attack_id: RevokedEntry(r.status, r.chain, r.reason)
            for r in release.revocations.values()
            if r.kind == "technique" and r.attack_id not in techniques
        }
        return cls(
            domain=release.domain,
            version=release.version,
            techniques=dict(sorted(techniques.items())),
            revoked=dict(sorted(revoked.items())),
            tactic_names=dict(sorted(tactic_names.items())),
            tactic_shortnames=dict(sorted(shortnames.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))),
            platforms=tuple(sorted(platforms)),
        )

    def live_ids(self) -> list[str]:
        return [tid for tid, t in self.techniques.items() if not t.deprecated]

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "format": INDEX_FORMAT,
                "domain": self.domain,
                "version": self.version,
                "techniques": {k: [v.name, list(v.tactics), v.deprecated] for k, v in self.techniques.items()},
                "revoked": {k: [v.status, list(v.chain), v.reason] for k, v in self.revoked.items()},
                "tactic_names": self.tactic_names,
                "tactic_shortnames": list(self.tactic_shortnames.items()),
                "platforms": list(self.platforms),
            },
            option=orjson.OPT_SORT_KEYS,
        )

    @classmethod
    def from_json(cls, data: bytes) -> "ReleaseIndex | None":
        """None for anything that is not an index of this format (a stale or damaged cache)."""
        try:
            doc = orjson.loads(data)
            if doc.get("format") != INDEX_FORMAT:
                return None
            return cls(
                domain=doc["domain"],
                version=doc["version"],
                techniques={k: TechniqueEntry(n, tuple(t), bool(d)) for k, (n, t, d) in doc["techniques"].items()},
                revoked={k: RevokedEntry(s, tuple(c), r) for k, (s, c, r) in doc["revoked"].items()},
                tactic_names=dict(doc["tactic_names"]),
                tactic_shortnames={k: v for k, v in doc["tactic_shortnames"]},
                platforms=tuple(doc["platforms"]),
            )
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            return None


def default_cache_dir(sources_file: str) -> Path:
    """`$ATTACK_PIPELINE_CACHE`, else `cache/` beside the sources file (`data/cache`, git-ignored)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    return Path(sources_file).resolve().parent / "cache"


def cached_index(
    path: Path, domain: str, version: str, cache_dir: Path | None, load: Callable[[], AttackRelease]
) -> ReleaseIndex:
    """The index of the release file at `path`, from the cache when its content is known.

    A cache that cannot be read or written is ignored: it only saves time.
    """
    entry = None
    if cache_dir is not None:
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
            entry = cache_dir / "parsed" / "release-index" / f"{domain}-{version}-{digest}.json"
            found = ReleaseIndex.from_json(entry.read_bytes())
            if found is not None and found.domain == domain and found.version == version:
                return found
        except OSError:
            pass
    index = ReleaseIndex.of(load())
    if entry is not None:
        try:
            write_atomic(entry, index.to_json())
        except OSError:
            pass
    return index
