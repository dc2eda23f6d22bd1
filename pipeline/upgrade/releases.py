"""The releases one layer is read against: its own (source) and the target.

A layer says which release it was made for in `versions.attack`, usually the major
version only (`"12"`, written by the Navigator) and sometimes the full one (`"12.1"`).
The major is read as its newest listed minor (12 → 12.1); a release that is not at hand
as the nearest one that is; no version at all as the release at hand in which most of the
layer's technique ids are live (the newest on a tie). Each guess is stated in the report.

An id leads to the target release through the target's revoked-by relationships; an id
that the target does not know at all (a release dropped a revoked object) is followed
through the intermediate releases at hand, newest first, then through the source release.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.core.config import Config, version_key
from pipeline.core.errors import ConfigError, InputError
from pipeline.reconcile.mappings import nearest_release
from pipeline.reconcile.release_index import ReleaseIndex
from pipeline.fetch.newest import available
from pipeline.reconcile.controls import release_index
from pipeline.workspace import Workspace


@dataclass(frozen=True, slots=True)
class SourceRelease:
    version: str
    declared: str  # versions.attack as written, '' when absent
    how: str  # declared | major | nearest | guessed
    note: str = ""


@dataclass(frozen=True, slots=True)
class Landing:
    """Where a technique id of the layer lands in the target release."""

    status: str  # live | deprecated | revoked | dead_end | unknown
    target: str = ""
    chain: tuple[str, ...] = ()
    via: str = ""  # the release whose revoked-by relationship was followed
    target_deprecated: bool = False


class DomainReleases:
    """Release indexes of one domain for one batch (each read once, from the disk cache)."""

    def __init__(self, config: Config, mirror: Path | None, domain: str, target: str) -> None:
        if config.attack_release(domain, target) is None:
            listed = ", ".join(s.attack_version or "" for s in config.attack_releases(domain)) or "none"
            raise ConfigError(f"no {domain} ATT&CK release {target} in the sources (listed: {listed})", file=config.file)
        self.domain = domain
        self.target_version = target
        self.ws = Workspace.open(config, mirror, target, (domain,))
        listed = [s.attack_version or "" for s in config.attack_releases(domain)]
        self.listed = sorted(listed, key=version_key)
        self.at_hand = [
            v for v in self.listed if version_key(v) <= version_key(target) and (v == target or available(config, mirror, domain, v))
        ]
        self._landings: dict[tuple[str, str], Landing] = {}

    def index(self, version: str) -> ReleaseIndex:
        return release_index(self.ws, self.domain, version)

    @property
    def target(self) -> ReleaseIndex:
        return self.index(self.target_version)

    # -- the source release ------------------------------------------------------------

    def source_of(self, doc: dict, label: str) -> SourceRelease:
        declared = str(doc.get("versions", {}).get("attack", "") or "")
        if not declared:
            return self._guess(doc)
        key = version_key(declared)
        target = version_key(self.target_version)
        if key[0] > target[0] or (len(key) > 1 and key > target):
            raise InputError(
                f"made for ATT&CK {declared}, newer than the target {self.target_version}: upgrade goes forward only",
                file=label,
                record="versions.attack",
            )
        if len(key) == 1:
            same_major = [v for v in self.listed if version_key(v)[0] == key[0] and version_key(v) <= target]
            if same_major:
                version = same_major[-1]
                note = f"versions.attack {declared!r} read as {version}, the newest listed {declared}.x release"
                return self._at_hand(SourceRelease(version, declared, "major", note), doc)
            declared_full = f"{key[0]}.0"
        else:
            declared_full = declared
        if declared_full in self.listed:
            return self._at_hand(SourceRelease(declared_full, declared, "declared"), doc)
        near = nearest_release(self.at_hand, declared_full)
        assert near is not None  # the target itself is at hand
        return SourceRelease(near, declared, "nearest", f"ATT&CK {declared} is not listed in the sources; its ids and names were read with {near}, the nearest release at hand")

    def _at_hand(self, found: SourceRelease, doc: dict) -> SourceRelease:
        if found.version in self.at_hand:
            return found
        near = nearest_release(self.at_hand, found.version)
        assert near is not None
        return SourceRelease(
            near, found.declared, "nearest",
            f"ATT&CK {found.version} is listed but not at hand (mirror or cache); the layer's ids and names were read with {near}, the nearest release at hand",
        )

    def _guess(self, doc: dict) -> SourceRelease:
        ids = {t.get("techniqueID") for t in doc.get("techniques", ())}
        best, best_score = self.target_version, -1
        for v in self.at_hand:
            idx = self.index(v)
            score = sum(1 for i in ids if i in idx.techniques and not idx.techniques[i].deprecated)
            if score >= best_score:  # the newest on a tie
                best, best_score = v, score
        return SourceRelease(
            best, "", "guessed",
            f"the layer has no versions.attack; guessed ATT&CK {best}, the release at hand in which most of its technique ids ({best_score} of {len(ids)}) are live (the newest on a tie)",
        )

    # -- ids ---------------------------------------------------------------------------

    def between(self, source: str) -> list[str]:
        """Releases at hand strictly between `source` and the target, newest first."""
        lo, hi = version_key(source), version_key(self.target_version)
        return [v for v in reversed(self.at_hand) if lo < version_key(v) < hi]

    def land(self, technique_id: str, source: str) -> Landing:
        key = (technique_id, source)
        if key not in self._landings:
            self._landings[key] = self._land(technique_id, source, frozenset())
        return self._landings[key]

    def _land(self, tid: str, source: str, seen: frozenset[str]) -> Landing:
        target = self.target
        entry = target.techniques.get(tid)
        if entry is not None:
            return Landing("deprecated" if entry.deprecated else "live", tid, (tid,), target_deprecated=entry.deprecated)
        rev = target.revoked.get(tid)
        if rev is not None:
            if rev.target is None:
                return Landing("dead_end", "", rev.chain, via=self.target_version)
            return Landing("revoked", rev.target, rev.chain, via=self.target_version, target_deprecated=rev.status == "deprecated")
        # Unknown to the target: an intermediate (or the source) release may say where it went.
        for version in [*self.between(source), source]:
            if version == self.target_version:
                continue
            old = self.index(version).revoked.get(tid)
            if old is None or old.target is None or old.target in seen:
                continue
            further = self._land(old.target, source, seen | {tid})
            if further.status in ("live", "deprecated", "revoked"):
                chain = old.chain + further.chain[1:]
                return Landing("revoked", further.target, chain, via=version, target_deprecated=further.target_deprecated)
        return Landing("unknown", "", (tid,))
