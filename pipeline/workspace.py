"""What one command works on: the sources, where they resolve, the target release.

The CLI turns options into a `Workspace`; every command then asks it for releases or
the graph, so selection rules (default version, domain fallbacks) live here once.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from pipeline.core.config import Config, version_key
from pipeline.core.errors import ConfigError, Issue
from pipeline.fetch import Resolver, resolve  # noqa: F401 - resolve: mirror-only lookups
from pipeline.model.domains import DOMAINS
from pipeline.core.perf import paused_gc
from pipeline.fetch.cache import cache_dir
from pipeline.fetch.newest import available
from pipeline.fetch.newest import default_release

if TYPE_CHECKING:
    from pipeline.model.attack import AttackRelease

Progress = Callable[[str], None]


@dataclass
class Workspace:
    config: Config
    mirror: Path | None
    attack_version: str
    domains: tuple[str, ...]
    issues: list[Issue] = field(default_factory=list)
    _releases: list[AttackRelease] | None = None
    _graph: object | None = None
    # Memo of later stages (older releases, mapping tables, catalogues), keyed by stage name.
    cache: dict = field(default_factory=dict, repr=False)
    # True: the graph holds ATT&CK only (no mapping tables, no detection corpora).
    attack_only: bool = False
    # --strict: warnings about bad input are errors (commands that skip work consult it).
    strict: bool = False
    # Enabled sources that could not be read at all (source id -> the problem, one line);
    # their issues are in `issues` too. A build refuses to publish without them.
    unread: dict[str, str] = field(default_factory=dict)
    _controls: object | None = None
    _detections: object | None = None
    # A build folder whose reports/issues.json holds these issues (named by the CLI's summary line).
    issues_kept_in: str = ""
    # One-line notices that are not problems of the input (a newer release listed but not
    # at hand): the CLI prints them as `note:` lines, `--strict` does not count them.
    notices: list[str] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        config: Config,
        mirror: Path | None,
        attack_version: str | None = None,
        domains: tuple[str, ...] = (),
    ) -> "Workspace":
        notices: list[str] = []
        if attack_version:
            version = attack_version
        else:
            default = default_release(config, mirror)
            version = default.version
            if default.notice:
                notices.append(default.notice)
        issues: list[Issue] = []
        explicit = bool(domains)
        wanted = tuple(dict.fromkeys(domains)) if explicit else DOMAINS
        for d in wanted:
            if d not in DOMAINS:
                raise ConfigError(f"unknown domain {d!r} (expected one of {', '.join(DOMAINS)})")
        chosen = []
        for d in wanted:
            if config.attack_release(d, version) is not None:
                if not attack_version and not explicit and d != "enterprise" and not _at_hand(config, mirror, d, version):
                    # A defaulted release never downloads: a domain not yet fetched waits.
                    notices.append(
                        f"{d} ATT&CK {version} is listed but not available offline; {d} skipped "
                        f"(run `attack-pipeline fetch --attack-version {version}` to get it)"
                    )
                    continue
                chosen.append(d)
                continue
            have = ", ".join(s.attack_version or "" for s in config.attack_releases(d)) or "none"
            if d == "enterprise" and not explicit:
                raise ConfigError(
                    f"no enterprise ATT&CK release {version} in the sources (listed: {have})", file=config.file
                )
            issues.append(
                Issue(code="domain-skipped", problem=f"no {d} release {version} in the sources (listed: {have}); {d} skipped", file=config.file)
            )
        if not chosen:
            raise ConfigError(f"none of the requested domains has ATT&CK release {version}", file=config.file)
        return cls(config=config, mirror=mirror, attack_version=version, domains=tuple(chosen), issues=issues, notices=notices)

    def releases(self, progress: Progress | None = None) -> list[AttackRelease]:
        if self._releases is None:
            out = []
            with paused_gc():
                for domain in self.domains:
                    source = self.config.attack_release(domain, self.attack_version)
                    assert source is not None
                    if progress:
                        progress(f"reading {source.id}")
                    found = self.resolve(source)
                    release = self._read(found.path, domain, self.attack_version, texts=True)
                    self.issues.extend(release.issues)
                    out.append(release)
            self._releases = out
        return self._releases

    def _read(self, path: Path, domain: str, version: str, *, store: bool = True, texts: bool = False) -> AttackRelease:
        """A release bundle through the parsed-release cache (pipeline.ingest.release_cache).
        `texts`: a bundle read to be parsed also gives the pages' citations to their cache
        (a target release's: the pages read them)."""
        # lazy: the ATT&CK reader imports the records (~40 ms of class creation) that a no-op build and `--help` never use
        from pipeline.ingest.attack import read_attack_release
        from pipeline.ingest.attack_texts import keep_attack_texts  # lazy: as above, the citations of its pages
        from pipeline.ingest.release_cache import cached_read  # lazy: as above, the reader's cache

        cache = cache_dir(None, self.config.file)
        seen = functools.partial(keep_attack_texts, path, cache) if texts else None
        read = functools.partial(read_attack_release, limits=self.config.limits, seen=seen)
        return cached_read(read, path, domain=domain, version=version, cache=cache, store=store)

    def resolve(self, source):
        """Mirror, then cache, then a checked download (pipeline.fetch.resolver); no hashing
        of mirror or cache copies here, so commands stay fast: `fetch` verifies them."""
        return Resolver.for_config(self.config, self.mirror).resolve(source)

    def expands_patterns(self, source) -> bool:
        """Whether a mapping table's ids are patterns to expand against a release's
        techniques and a catalogue's controls (NIST's tables: `AC-2(*)`, `T1055.*`)."""
        # lazy: pipeline.ingest.mappings would add 0.39 s (networkx, yaml) to commands that read only ATT&CK (`show --attack-only`)
        from pipeline.ingest.mappings import EXPANDING_FORMATS

        return source.format in EXPANDING_FORMATS

    def read_mapping_table(self, source, *, techniques=None, controls=None):
        """One mapping source parsed (no reconciliation), through the parsed-table cache: the reading half of
        `pipeline.reconcile.controls`, which decides and never opens a file itself.
        `techniques` and `controls` are the ids patterns may stand for, when it expands them."""
        # lazy: pipeline.ingest.mappings would add 0.39 s (networkx, yaml) to commands that read only ATT&CK (`show --attack-only`)
        from pipeline.ingest.mappings import Universe, read_mapping_table

        return read_mapping_table(
            source,
            self.resolve(source).path,
            file=source.mirror_path,
            limits=self.config.limits,
            techniques=Universe(techniques) if techniques is not None else None,
            controls=Universe(controls) if controls is not None else None,
            cache=cache_dir(None, self.config.file),
        )

    def read_catalog(self, source):
        """One control catalogue parsed, from wherever its source resolves."""
        # lazy: pipeline.ingest.mappings would add 0.39 s (networkx, yaml) to commands that read only ATT&CK (`show --attack-only`)
        from pipeline.ingest.mappings import read_catalog

        return read_catalog(
            source, self.resolve(source).path, file=source.mirror_path, limits=self.config.limits, cache=cache_dir(None, self.config.file)
        )

    def graph(self, progress: Progress | None = None, *, converting: bool = False):
        """The graph of the workspace's inputs, loaded once. `converting`: the caller
        converts the Sigma rules next (a build), so a cold parse of the rule files
        converts them alongside (`pipeline.convert.gather.alongside`)."""
        if self._graph is None and self.attack_only:
            self._graph = self._attack_graph(progress)
        if self._graph is None:
            # lazy: pipeline.graph would add 0.25 s (networkx) to commands that read only ATT&CK (`show --attack-only`)
            from pipeline.graph.build import build_graph

            # lazy: pipeline.ingest.detections.load would add 83 ms (multiprocessing) to commands that read only ATT&CK (`show --attack-only`)
            from pipeline.ingest.detections.load import parsing_meanwhile
            # lazy: pipeline.convert.gather would add 45 ms (multiprocessing) to commands that read only ATT&CK (`show --attack-only`)
            from pipeline.convert.gather import alongside

            with parsing_meanwhile(self, alongside(self) if converting else None):
                releases = self.releases(progress)
                if progress:
                    progress("building the graph")
                with paused_gc():
                    graph = build_graph(releases)
                # lazy: pipeline.graph.controls would add 0.24 s (networkx) to commands that read only ATT&CK (`show --attack-only`)
                from pipeline.graph.controls import add_controls
                # lazy: pipeline.graph.detections would add 0.25 s (networkx) to commands that read only ATT&CK (`show --attack-only`)
                from pipeline.graph.detections import add_detections

                add_controls(graph, self.controls(progress))
                add_detections(graph, self.detections(progress).detections)
            self._graph = graph
        return self._graph

    @contextmanager
    def parsing_ahead(self) -> Iterator[None]:
        """The detection parse started now, with the Sigma rules' conversion beside it,
        for a `graph(converting=True)` inside the body to finish: a build starts it
        before it imports the renderers' modules (0.2 s on one core), so that the
        worker parses meanwhile. Workers the body did not use are stopped when it ends."""
        if self.attack_only or self._graph is not None:
            yield
            return
        # lazy: as in `graph`, the parse's and the conversion's modules
        from pipeline.ingest.detections.load import parsing_meanwhile
        from pipeline.convert.gather import alongside  # lazy: as in `graph`

        with parsing_meanwhile(self, alongside(self)):
            yield

    def graph_steps(self) -> int:
        """How many progress steps `graph()` reports when it loads everything: each
        release read, the graph, each enabled mapping table, each detection corpus."""
        if self._graph is not None:
            return 0
        if self.attack_only:
            return len(self.domains) + 1
        # lazy: pipeline.reconcile.controls would add 30 ms to commands that read only ATT&CK (`show --attack-only`)
        from pipeline.reconcile.controls import mapping_sources
        # lazy: pipeline.ingest.detections.load would add 83 ms (multiprocessing) to commands that read only ATT&CK (`show --attack-only`)
        from pipeline.ingest.detections.load import select_sources

        return len(self.domains) + 1 + len(mapping_sources(self, enabled_only=True)) + len(select_sources(self.config, None)[0])

    def _attack_graph(self, progress: Progress | None):
        """ATT&CK alone, through the graph cache; the load's warnings are cached with it."""
        # lazy: pipeline.graph would add 0.25 s (networkx) to commands that read only ATT&CK (`show --attack-only`)
        from pipeline.graph.build import build_graph

        bundles = []
        for domain in self.domains:
            source = self.config.attack_release(domain, self.attack_version)
            assert source is not None
            bundles.append((self.resolve(source).path, domain, self.attack_version))

        def build() -> tuple:
            before = len(self.issues)
            releases = self.releases(progress)
            if progress:
                progress("building the graph")
            return build_graph(releases), tuple(self.issues[before:])

        # lazy: as in _read, the records are imported only when a release is read
        from pipeline.ingest.release_cache import cached_attack_graph

        with paused_gc():
            graph, issues = cached_attack_graph(bundles, cache_dir(None, self.config.file), build)
        if self._releases is None:  # answered by the cache: report what the load reported
            self.issues.extend(issues)
        return graph

    # Memos whose contents do not depend on the target release, so that workspaces of two
    # releases (a diff) parse each file once.
    SHARED_MEMOS = ("releases", "release_index", "catalog", "tables", "detection_loads")

    def share_parsed(self, other: "Workspace") -> None:
        for name in self.SHARED_MEMOS:
            self.cache[name] = other.cache.setdefault(name, {})

    def loaded_release(self, domain: str, version: str) -> AttackRelease | None:
        """A release already in memory (a target release or one read by `release`), else None."""
        if version == self.attack_version and self._releases is not None:
            for r in self._releases:
                if r.domain == domain:
                    return r
        return self.cache.get("releases", {}).get((domain, version))

    def release(self, domain: str, version: str, *, keep: bool = True) -> AttackRelease:
        """Any listed release of a domain, read once (reconciliation compares with older ones).

        Its issues are not the workspace's: an old release is read for names only.
        `keep=False` reads without keeping it, in memory or in the parsed-release cache
        (a caller that keeps a digest instead, cached on its own: the release index).
        """
        found = self.loaded_release(domain, version)
        if found is None:
            source = self.config.attack_release(domain, version)
            if source is None:
                raise ConfigError(f"no {domain} ATT&CK release {version} in the sources", file=self.config.file)
            found = self._read(self.resolve(source).path, domain, version, store=keep)
            if keep:
                self.cache.setdefault("releases", {})[(domain, version)] = found
        return found

    def controls(self, progress: Progress | None = None):
        """Enabled mapping tables and catalogues, reconciled to the target release (read once)."""
        if self._controls is None:
            # lazy: pipeline.reconcile.controls would add 30 ms to commands that read only ATT&CK (`show --attack-only`)
            from pipeline.reconcile.controls import load_controls

            self._controls = load_controls(self, progress)
        return self._controls

    def detections(self, progress: Progress | None = None):
        """Detections of the enabled detection sources, reconciled to the target release."""
        if self._detections is None:
            # lazy: pipeline.ingest.detections.load would add 83 ms (multiprocessing) to commands that read only ATT&CK (`show --attack-only`)
            from pipeline.ingest.detections.load import load_detections

            found = load_detections(self, progress=progress)
            self.issues.extend(found.issues)
            self._detections = found
        return self._detections

    def older_releases(self, domain: str) -> list[str]:
        return [
            s.attack_version or ""
            for s in self.config.attack_releases(domain)
            if version_key(s.attack_version or "0.0") < version_key(self.attack_version)
        ]


def _at_hand(config: Config, mirror: Path | None, domain: str, version: str) -> bool:
    return available(config, mirror, domain, version)
