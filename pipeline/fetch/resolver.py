"""One entry point for turning a source into a local path: mirror → cache → network.

Two ways to ask, with different costs on purpose:

- `resolve` (what `stats`, `show` and `build` use) returns the first copy found and
  hashes nothing it already has: a mirror file or a cache entry is trusted as is
  (a cache entry was verified when it was written). Only a source missing from
  both is downloaded, and that download is checked (Content-Length, the lock's
  pin when there is one, the official ATT&CK release hash) before it enters the
  cache. So a run against a mirror costs a few `stat` calls, not a 90 MB hash.
- `fetch` (the `fetch` command) hashes every copy it resolves, compares it with
  `data/sources.lock`, pins what was not pinned yet (trust on first use), and
  replaces a cache entry that no longer matches its pin by a fresh download.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping
from urllib.parse import quote

from pipeline.core.config import Config, Repository, Source
from pipeline.core.errors import SourceNotFound
from pipeline.core.limits import DEFAULT
from pipeline.fetch.cache import cache_dir, discard, find_cached, install_file, install_folder
from pipeline.fetch.hashing import Digest, digest
from pipeline.fetch.digest_lock import Lock, LockMismatch, lock_path_for
from pipeline.fetch.mirror import Resolved, find_in_mirror, mirror_candidates
from pipeline.fetch.official import official_sha256
from pipeline.fetch.archive import extract_folder

if TYPE_CHECKING:
    from pipeline.fetch.http import Downloader

OFFLINE_ENV = "ATTACK_PIPELINE_OFFLINE"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """What `fetch` did for one source: where the copy came from and how it was checked."""

    source: Source
    path: Path
    origin: str  # mirror | cache | url | base-url
    lock_origin: str  # the lock entry checked: mirror | url
    digest: Digest
    lock: str  # pinned | verified | updated
    official: str  # verified | unknown | "" (not an official release download)
    url: str = ""
    replaced: str = ""  # why a cache entry was dropped and downloaded again

    def as_json(self) -> dict:
        return {
            "id": self.source.id,
            "origin": self.origin,
            "lock_origin": self.lock_origin,
            "path": str(self.path),
            "kind": "folder" if self.digest.is_tree else "file",
            self.digest.label.replace(" ", "_"): self.digest.sha256,
            "size": self.digest.size,
            "files": self.digest.files,
            "lock": self.lock,
            "official": self.official or None,
            "url": self.url or None,
            "replaced_cache_entry": self.replaced or None,
        }


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a network copy comes from and how it is pinned."""

    lock_origin: str
    identity: dict[str, str]
    url: str
    top_prefix: str | None = None  # folders: required top folder of the archive
    inner: str = ""  # folders: folder inside the archive


class Resolver:
    """Resolve sources from a mirror, a cache and the network, checking what it fetches.

    Use it as a context manager when resolving many sources: a repository archive
    is then downloaded once for all the folder sources that share it.
    """

    def __init__(
        self,
        *,
        mirror: Path | None,
        cache: Path | None = None,
        allow_network: bool = False,
        base_url: str = "",
        lock_file: Path | None = None,
        repositories: Mapping[str, Repository] | None = None,
        downloader: "Downloader | None" = None,
        update: bool = False,
        may_pin: bool = True,
        warn: Callable[[str], None] | None = None,
        http_timeout: float = DEFAULT.http_timeout,
    ) -> None:
        self.mirror = mirror
        self.cache = cache
        self.allow_network = allow_network
        self.base_url = base_url.rstrip("/")
        self.lock_file = lock_file
        self.repositories = dict(repositories or {})
        self._downloader = downloader
        self.update = update
        self.may_pin = may_pin
        self.warn = warn or (lambda _msg: None)
        self.http_timeout = http_timeout  # for the downloader made on first use
        self._lock: Lock | None = None
        self._archives: dict[str, Path] | None = None
        self._scratch: Path | None = None

    @classmethod
    def for_config(cls, config: Config, mirror: Path | None, **options) -> "Resolver":
        """Cache, lock and base URL as the sources file and environment set them.

        The network is allowed unless `ATTACK_PIPELINE_OFFLINE` is set; it is only
        used for a source that neither the mirror nor the cache holds.
        """
        options.setdefault("cache", cache_dir(None, config.file))
        options.setdefault("allow_network", not os.environ.get(OFFLINE_ENV))
        options.setdefault("base_url", config.base_url)
        options.setdefault("lock_file", lock_path_for(config.file))
        options.setdefault("http_timeout", config.limits.http_timeout)
        return cls(mirror=mirror, repositories=config.repositories, **options)

    def __enter__(self) -> "Resolver":
        self._archives = {}
        return self

    def __exit__(self, *exc) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
        self._archives = None
        self._scratch = None

    @property
    def downloader(self) -> "Downloader":
        """Created on first use: urllib is only imported when something is downloaded."""
        if self._downloader is None:
            # lazy: pipeline.fetch.http would add 30 ms (ssl) to `show`, `stats` and `layer` answering from a build, and to a no-op `build`
            from pipeline.fetch.http import Downloader

            self._downloader = Downloader(timeout=self.http_timeout)
        return self._downloader

    @property
    def lock(self) -> Lock:
        """Loaded on first use: the mirror-only path never reads it."""
        if self._lock is None:
            self._lock = Lock.load(self.lock_file) if self.lock_file else Lock(Path(os.devnull))
        return self._lock

    # -- the fast path ---------------------------------------------------------------

    def resolve(self, source: Source) -> Resolved:
        """The first copy found: mirror, cache, then a verified download into the cache."""
        found = find_in_mirror(source, self.mirror) if self.mirror else None
        if found is not None:
            return Resolved(source=source, path=found, origin="mirror")
        for lock_origin in self._cache_origins():
            cached = self._cached(source, lock_origin)
            if cached is not None:
                return Resolved(source=source, path=cached, origin="cache")
        self._check_reachable(source)
        # lazy: pipeline.fetch.http would add 30 ms (ssl) to `show`, `stats` and `layer` answering from a build, and to a no-op `build`
        from pipeline.fetch.http import DownloadError

        try:
            path, _digest, origin, _url = self._download(source, verify_pin=self.lock_file is not None)
        except DownloadError as exc:
            raise SourceNotFound(f"{self._not_in_mirror(source)}; not in the cache {self.cache}; {exc.problem}", record=exc.record) from None
        return Resolved(source=source, path=path, origin=origin)

    def available(self, source: Source) -> Resolved | None:
        """The copy `resolve` would use without the network (mirror, then cache), or None.

        Cheap (a few `stat` calls): the default target release is chosen with it."""
        found = find_in_mirror(source, self.mirror) if self.mirror else None
        if found is not None:
            return Resolved(source=source, path=found, origin="mirror")
        for lock_origin in self._cache_origins():
            cached = self._cached(source, lock_origin)
            if cached is not None:
                return Resolved(source=source, path=cached, origin="cache")
        return None

    # -- the thorough path -----------------------------------------------------------

    def fetch(self, source: Source) -> Fetched:
        """Resolve, hash, and check against (or pin into) the lock; see the module docstring."""
        found = find_in_mirror(source, self.mirror) if self.mirror else None
        if found is not None:
            d = digest(found)
            identity = {"path": found.relative_to(self.mirror).as_posix()}
            status = self.lock.check(source.id, "mirror", identity, d, update=self.update, may_pin=self.may_pin)
            return Fetched(source=source, path=found, origin="mirror", lock_origin="mirror", digest=d, lock=status, official="")
        replaced = ""
        if not self.update:
            for lock_origin in self._cache_origins():
                cached = self._cached(source, lock_origin)
                if cached is None:
                    continue
                try:
                    return self._fetched_from_cache(source, lock_origin, cached)
                except LockMismatch as exc:
                    if not (self.allow_network and self.cache is not None):
                        # Nothing to replace it with: keep the copy for inspection.
                        raise LockMismatch(f"cached copy {cached}: {exc.problem}", file=exc.file, record=exc.record) from None
                    replaced = f"cached copy {cached} dropped: {exc.one_line()}"
                    self.warn(replaced)
                    discard(cached)
        self._check_reachable(source)
        path, d, origin, url = self._download(source, verify_pin=not self.update)
        target = self._target(source)
        identity = target.identity if target.lock_origin == "url" else {"path": path.relative_to(self.cache / "mirror").as_posix()}
        status = self.lock.check(source.id, target.lock_origin, identity, d, update=self.update, may_pin=self.may_pin)
        official = _official_status(source, target.lock_origin)
        return Fetched(
            source=source, path=path, origin=origin, lock_origin=target.lock_origin, digest=d,
            lock=status, official=official, url=url, replaced=replaced,
        )

    def save_lock(self) -> bool:
        """Write the lock if anything was pinned; True when it was written."""
        if self._lock is not None and self._lock.changed and self.lock_file is not None:
            self._lock.save()
            return True
        return False

    # -- internals -------------------------------------------------------------------

    def _fetched_from_cache(self, source: Source, lock_origin: str, cached: Path) -> Fetched:
        d = digest(cached)
        _check_official(source, lock_origin, d)
        if lock_origin == "url":
            identity = self._canonical(source).identity
        else:
            identity = {"path": cached.relative_to(self.cache / "mirror").as_posix()}
        status = self.lock.check(source.id, lock_origin, identity, d, may_pin=self.may_pin)
        return Fetched(
            source=source, path=cached, origin="cache", lock_origin=lock_origin, digest=d,
            lock=status, official=_official_status(source, lock_origin),
        )

    def _cache_origins(self) -> tuple[str, ...]:
        if self.cache is None:
            return ()
        return ("mirror", "url") if self.base_url else ("url", "mirror")

    def _cached(self, source: Source, lock_origin: str) -> Path | None:
        assert self.cache is not None
        if lock_origin == "url":
            return find_cached(self.cache / "url" / _key(self._canonical(source)), source)
        return find_cached(self.cache / "mirror", source)

    def _not_in_mirror(self, source: Source) -> str:
        if not self.mirror:
            return "no mirror is set (--mirror DIR or ATTACK_PIPELINE_MIRROR)"
        tried = ", ".join(str(p) for p in mirror_candidates(source, self.mirror))
        return f"not found in the mirror (tried {tried})"

    def _check_reachable(self, source: Source) -> None:
        if self.allow_network and self.cache is not None:
            return
        places = [self._not_in_mirror(source)]
        if self.cache is not None:
            places.append(f"not in the cache {self.cache}")
        places.append(f"the network is off (--offline or {OFFLINE_ENV})" if not self.allow_network else "no cache to download into")
        raise SourceNotFound("; ".join(places), record=f"source {source.id!r}")

    def _canonical(self, source: Source) -> _Target:
        if not source.folder:
            return _Target(lock_origin="url", identity={"url": source.url}, url=source.url)
        repo = self.repositories.get(source.repository or "")
        if repo is None:  # a folder with its own URL: an archive with one top folder, used whole
            return _Target(lock_origin="url", identity={"url": source.url}, url=source.url, top_prefix="")
        inner = "/".join(p for p in (repo.root, source.mirror_path[len(repo.mirror) :].strip("/")) if p)
        name = repo.github.rsplit("/", 1)[-1]
        return _Target(
            lock_origin="url", identity={"url": source.url, "subdir": inner}, url=source.url, top_prefix=f"{name}-", inner=inner
        )

    def _target(self, source: Source) -> _Target:
        if not self.base_url:
            return self._canonical(source)
        return _Target(lock_origin="mirror", identity={}, url=f"{self.base_url}/{quote(source.mirror_path)}")

    def _download(self, source: Source, *, verify_pin: bool) -> tuple[Path, Digest, str, str]:
        """Download into the cache through a checked temp copy; return (path, digest, origin, url)."""
        assert self.cache is not None
        target = self._target(source)
        origin = "base-url" if self.base_url else "url"
        record = f"source {source.id!r}"
        # lazy: pipeline.fetch.http would add 30 ms (ssl) to `show`, `stats` and `layer` answering from a build, and to a no-op `build`
        from pipeline.fetch.http import DownloadError

        def check(identity: dict[str, str]) -> Callable[[Path], Digest]:
            def run(tmp: Path) -> Digest:
                d = digest(tmp)
                _check_official(source, target.lock_origin, d)
                if verify_pin:
                    self.lock.verify(source.id, target.lock_origin, identity, d)
                return d

            return run

        try:
            if source.folder:
                dest, d, url = self._download_folder(source, target, check)
                return dest, d, origin, url
            if target.lock_origin == "url":
                dest = self.cache / "url" / _key(target) / source.mirror_path
                d = install_file(dest, lambda fh: self.downloader.download(target.url, fh), check(target.identity))
                return dest, d, origin, target.url
            # A served mirror, like a mirror folder, may hold `name` or `name.gz`.
            names = (source.mirror_path, source.mirror_path + ".gz")
            for i, name in enumerate(names):
                url = f"{self.base_url}/{quote(name)}"
                dest = self.cache / "mirror" / name
                try:
                    d = install_file(dest, lambda fh: self.downloader.download(url, fh), check({"path": name}))
                    return dest, d, origin, url
                except DownloadError as exc:
                    if exc.status != 404 or i == len(names) - 1:
                        raise
            raise AssertionError("unreachable")
        except DownloadError as exc:
            exc.record = record
            raise

    def _download_folder(self, source: Source, target: _Target, check) -> tuple[Path, Digest, str]:
        if target.lock_origin == "url":
            url, dest, top, inner, identity = (
                target.url, self.cache / "url" / _key(target) / source.mirror_path, target.top_prefix, target.inner, target.identity
            )
        else:
            # A served mirror publishes a folder as `<mirror path>.tar.gz` of the folder's files.
            url = f"{self.base_url}/{quote(source.mirror_path)}.tar.gz"
            dest, top, inner, identity = self.cache / "mirror" / source.mirror_path, None, "", {"path": source.mirror_path}

        archive, temporary = self._archive(url)
        try:
            d = install_folder(dest, lambda tmp: extract_folder(archive, tmp, inner=inner, top_prefix=top), check(identity))
        finally:
            if temporary:
                archive.unlink(missing_ok=True)
        return dest, d, url

    def _archive(self, url: str) -> tuple[Path, bool]:
        """A downloaded archive, kept for the session when inside `with resolver:`."""
        assert self.cache is not None
        if self._archives is not None and url in self._archives:
            return self._archives[url], False
        self.cache.mkdir(parents=True, exist_ok=True)
        if self._archives is not None and self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix=".archives.", suffix=".part", dir=self.cache))
        fd, name = tempfile.mkstemp(prefix=".archive.", suffix=".tar.gz.part", dir=self._scratch or self.cache)
        path = Path(name)
        try:
            with os.fdopen(fd, "w+b") as fh:
                self.downloader.download(url, fh)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if self._archives is None:
            return path, True
        self._archives[url] = path
        return path, False


def resolve(source: Source, mirror: Path | None, *, cache: Path | None = None, allow_network: bool = False, **options) -> Resolved:
    """Resolve one source (mirror → cache → network); `options` as for `Resolver`."""
    with Resolver(mirror=mirror, cache=cache, allow_network=allow_network, **options) as resolver:
        return resolver.resolve(source)


def _key(target: _Target) -> str:
    """Cache folder of one canonical location: a new URL or commit never reuses an old copy."""
    text = "\n".join(f"{k}={v}" for k, v in sorted(target.identity.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_official(source: Source, lock_origin: str, d: Digest) -> None:
    expected = official_sha256(source) if lock_origin == "url" and not d.is_tree else None
    if expected is not None and d.sha256 != expected:
        raise LockMismatch(
            f"sha256 mismatch with the official ATT&CK release hash (data/sources.toml, mitreattack-python): expected {expected}, actual {d.sha256}",
            record=f"source {source.id!r}",
        )


def _official_status(source: Source, lock_origin: str) -> str:
    if source.kind != "attack" or lock_origin != "url":
        return ""
    return "verified" if official_sha256(source) else "unknown"
