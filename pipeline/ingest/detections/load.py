"""Every detection a workspace knows: the rule corpora of the selected sources and
ATT&CK's own analytics, reconciled to the target release.

An enabled corpus that cannot be read as a whole (not in the mirror, its folder cannot
be listed, not one of its rule files readable) is an unread source: `show` and `stats`
name it first, and a build stops on it unless `--keep-going`, rather than publish a
build without it. A few broken rule files only cost themselves: one warning each.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from pipeline.core.config import Source
from pipeline.core.errors import ConfigError, Issue, PipelineError
from pipeline.core.perf import prompt_helpers
from pipeline.ingest.detections.attack_analytics import SOURCE as ATTACK_SOURCE, analytics_as_detections
from pipeline.ingest.detections.cache import default_cache_dir
from pipeline.ingest.detections.corpus import Alongside, SourceLoad, finish_sources, load_sources, source_name, start_sources
from pipeline.model.detections import Detection
from pipeline.reconcile.detections import Reconciled, ReleaseIndex, reconcile_detections
from pipeline.core.config import version_key
from pipeline.fetch.newest import available
from pipeline.reconcile.controls import release_index
from pipeline.reconcile.tactics import successions

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DetectionSet:
    loads: tuple[SourceLoad, ...]
    reconciled: Reconciled
    issues: tuple[Issue, ...]
    include_attack: bool

    @property
    def detections(self) -> tuple[Detection, ...]:
        return self.reconciled.detections


def select_sources(config, names: Sequence[str] | None) -> tuple[list[Source], bool]:
    """Enabled detection sources by default; otherwise those named by id or short name
    (`detections/sigma` or `sigma`, enabled or not; `attack` for ATT&CK's analytics)."""
    every = [s for s in config.sources if s.kind == "detection"]
    if not names:
        return [s for s in every if s.enabled], True
    chosen: list[Source] = []
    include_attack = False
    for name in names:
        if name == ATTACK_SOURCE:
            include_attack = True
            continue
        match = [s for s in every if name in (s.id, source_name(s))]
        if not match:
            known = ", ".join([ATTACK_SOURCE] + sorted(source_name(s) for s in every))
            raise ConfigError(f"no detection source {name!r} (known: {known})", file=config.file)
        chosen.extend(s for s in match if s not in chosen)
    return chosen, include_attack


def tactic_successions(ws) -> dict:
    """Tactic shortnames the previous release at hand had and the target no longer has
    (pipeline.reconcile.tactics), over the workspace's domains; an older release that
    cannot be read only costs the successions it would have given."""
    found: dict = {}
    for domain in ws.domains:
        at_hand = [v for v in ws.older_releases(domain) if available(ws.config, ws.mirror, domain, v)]
        if not at_hand:
            continue
        older = max(at_hand, key=version_key)
        try:
            old, new = release_index(ws, domain, older), release_index(ws, domain, ws.attack_version)
        except PipelineError:
            continue
        for short, succession in successions(old, new).items():
            found.setdefault(short, succession)
    return found


@contextmanager
def parsing_meanwhile(ws, alongside: Alongside | None = None) -> Iterator[None]:
    """The enabled detection sources read and their uncached rule files parsed by the
    workers while the body runs (with `alongside`'s work on each parsed batch);
    `load_detections` inside the body finishes them.

    The rule files do not depend on ATT&CK: a cold build parses them (3.7 s of CPU on
    the default corpora) while this process reads the releases and the mapping tables,
    instead of after. A start the body did not finish is stopped when it ends."""
    cache_dir = _cache_dir(ws, True)
    found = []
    for source in select_sources(ws.config, None)[0]:
        try:
            found.append((source, ws.resolve(source).path))
        except PipelineError:
            continue  # `load_detections` reports it
    starts = ws.cache.setdefault("detection_starts", {})
    key = _key(found, cache_dir)
    if key not in ws.cache.get("detection_loads", {}) and key not in starts:
        starts[key] = start_sources(found, cache_dir=cache_dir, limits=ws.config.limits, alongside=alongside)
    try:
        with prompt_helpers():
            yield
    finally:
        left = starts.pop(key, None)
        if left is not None:
            left.close()


def _cache_dir(ws, cache_dir: Path | None | bool) -> Path | None:
    if cache_dir is True:
        return default_cache_dir(ws.config.file)
    return None if cache_dir is False else cache_dir


def _key(found: list[tuple[Source, Path]], cache_dir: Path | None) -> tuple:
    return (tuple((source.id, str(path)) for source, path in found), str(cache_dir))


def load_detections(
    ws,
    sources: Sequence[str] | None = None,
    *,
    cache_dir: Path | None | bool = True,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> DetectionSet:
    """`cache_dir=True` uses the default cache, `False` or None none at all."""
    chosen, include_attack = select_sources(ws.config, sources)
    cache_dir = _cache_dir(ws, cache_dir)
    issues: list[Issue] = []
    found = []
    for source in chosen:
        try:
            found.append((source, ws.resolve(source).path))
        except PipelineError as exc:
            ws.unread[source.id] = exc.one_line()
            issues.append(Issue(code="detection-source-missing", problem=f"{exc.problem}; its detections are left out", record=exc.record))
    memo = ws.cache.setdefault("detection_loads", {})
    key = _key(found, cache_dir)
    if key not in memo:  # parsed once per process, whatever the target release
        started = ws.cache.setdefault("detection_starts", {}).pop(key, None)
        if started is None:
            memo[key] = load_sources(found, cache_dir=cache_dir, jobs=jobs, progress=progress, limits=ws.config.limits)
        else:
            memo[key] = finish_sources(started, progress=progress)
    loads = memo[key]
    releases = ws.releases(progress)
    detections: list[Detection] = [d for load in loads for d in load.detections]
    if include_attack:
        detections.extend(analytics_as_detections(releases))
    reconciled = reconcile_detections(detections, ReleaseIndex.of(releases), tactic_successions(ws))
    for load in loads:
        if load.unread:  # named first among the warnings, and a build stops on it
            ws.unread.setdefault(load.info.source_id, load.unread)
            issues.append(Issue(code="source-unreadable", problem=f"cannot be read, its detections are missing: {load.unread}", record=f"source {load.info.source_id!r}"))
        issues.extend(load.issues)
    issues.extend(reconciled.issues)
    return DetectionSet(loads=tuple(loads), reconciled=reconciled, issues=tuple(issues), include_attack=include_attack)
