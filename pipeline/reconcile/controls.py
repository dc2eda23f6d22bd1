"""The control side of a build: read mapping tables and catalogues, reconcile them.

The reading itself is the workspace's (`read_catalog`, `read_mapping_table`): this module
decides, and never opens a file. One place decides which release each table is expanded and name-checked against,
which catalogue gives its controls their text, and which sources reach the graph
(the enabled ones). Everything read is memoised on the `Workspace`, so the graph,
the reports and `reconcile` share one read of each file and of each release.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterator

from pipeline.core.config import Source
from pipeline.core.errors import ConfigError, Issue, PipelineError
from pipeline.model.controls import ControlCatalog
from pipeline.core.perf import paused_gc
from pipeline.reconcile.mappings import NameCheck, ReconciledTable, nearest_release, reconcile_table
from pipeline.reconcile.release_index import ReleaseIndex, cached_index, default_cache_dir

Progress = Callable[[str], None]
MAPPING_KIND = "mapping"
CATALOG_KIND = "catalog"


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlSet:
    """What the graph receives: reconciled enabled tables and their catalogues."""

    target_version: str
    tables: tuple[ReconciledTable, ...]
    catalogs: tuple[ControlCatalog, ...]


def _memo(ws, name: str) -> dict:
    return ws.cache.setdefault(name, {})


def release_index(ws, domain: str, version: str) -> ReleaseIndex:
    """The index of one release: from the loaded target release, or the disk cache, or read once."""
    memo = _memo(ws, "release_index")
    key = (domain, version)
    if key not in memo:
        loaded = ws.loaded_release(domain, version)
        if loaded is not None:
            memo[key] = ReleaseIndex.of(loaded)
        else:
            source = ws.config.attack_release(domain, version)
            if source is None:
                raise ConfigError(f"no {domain} ATT&CK release {version} in the sources", file=ws.config.file)
            path = ws.resolve(source).path
            memo[key] = cached_index(
                path, domain, version, default_cache_dir(ws.config.file), lambda: ws.release(domain, version, keep=False)
            )
    return memo[key]


def name_check_release(ws, domain: str, declared: str) -> tuple[ReleaseIndex | None, NameCheck]:
    """The release a table's names are checked against: its own, else the nearest listed one."""
    available = [s.attack_version or "" for s in ws.config.attack_releases(domain)]
    used = nearest_release(available, declared)
    if used is None:
        return None, NameCheck(declared=declared, used=None, note=f"no {domain} ATT&CK release in the sources: names not checked")
    note = ""
    if used != declared:
        note = (
            f"ATT&CK {domain} {declared} is not in the sources; names were checked against {used}, "
            "the nearest available release"
        )
    try:
        return release_index(ws, domain, used), NameCheck(declared=declared, used=used, note=note)
    except PipelineError as exc:
        return None, NameCheck(declared=declared, used=None, note=f"ATT&CK {domain} {used} could not be read ({exc.one_line()}): names not checked")


def catalog(ws, framework: str, version: str) -> ControlCatalog | None:
    """The catalogue of a framework version: an enabled one first, else any listed."""
    memo = _memo(ws, "catalog")
    key = (framework, version)
    if key not in memo:
        found = [s for s in ws.config.sources if s.kind == CATALOG_KIND and s.framework == framework and s.framework_version == version]
        found.sort(key=lambda s: (not s.enabled, s.format != "nist-controls-tsv", s.id))
        memo[key] = None
        if found:
            source = found[0]
            try:
                memo[key] = ws.read_catalog(source)
            except PipelineError as exc:
                if source.enabled:
                    ws.unread[source.id] = exc.one_line()
                ws.issues.append(Issue(code="source-skipped", problem=f"cannot be read, controls keep no catalogue text: {exc.one_line()}", record=f"source {source.id!r}"))
    return memo[key]


@contextmanager
def passing(ws, source: Source) -> Iterator[None]:
    """A source read for its report alone: what the body reads and reconciles of it is
    not kept in the workspace afterwards (an enabled table read before stays). The
    reports of the disabled tables are gathered by whichever process claims them,
    this one included, and the build's processes fork from this one later: 32 tables'
    records kept for nothing raised the peak memory of every one of them."""
    kept = source.id in _memo(ws, "reconciled"), source.id in _memo(ws, "tables")
    try:
        yield
    finally:
        for name, was in zip(("reconciled", "tables"), kept):
            if not was:
                _memo(ws, name).pop(source.id, None)


def reconcile_source(ws, source: Source) -> ReconciledTable:
    """Read one mapping source and reconcile it to the workspace's target release."""
    memo = _memo(ws, "reconciled")
    if source.id in memo:
        return memo[source.id]
    if source.kind != MAPPING_KIND:
        raise ConfigError(f"source {source.id!r} is a {source.kind} source, not a mapping table", file=ws.config.file)
    domain = source.domain or "enterprise"
    target = release_index(ws, domain, ws.attack_version)
    kwargs = {}
    declared_version = source.attack_version or ws.attack_version
    if ws.expands_patterns(source):
        index, _ = name_check_release(ws, domain, declared_version)
        cat = catalog(ws, source.framework or "", source.framework_version or "")
        kwargs["techniques"] = index.live_ids() if index is not None else None
        kwargs["controls"] = cat.controls if cat is not None else None
    tables = _memo(ws, "tables")
    if source.id not in tables:  # parsed once per process, whatever the target release
        tables[source.id] = ws.read_mapping_table(source, **kwargs)
    table = tables[source.id]
    declared, check = name_check_release(ws, domain, table.attack_version or declared_version)
    result = reconcile_table(table, target, declared, check, enabled=source.enabled)
    cat = catalog(ws, table.framework, table.framework_version)
    if cat is not None:
        result = _with_unknown_controls(result, cat)
    memo[source.id] = result
    return result


def _with_unknown_controls(rt: ReconciledTable, cat: ControlCatalog) -> ReconciledTable:
    """Report controls a table maps that its framework's catalogue does not list (once per control)."""
    seen: set[str] = set()
    extra = []
    for m in rt.table.mappings:
        cid = m.subject_id
        if m.subject_kind != "control" or cid is None or cid in cat.controls or cid in seen:
            continue
        seen.add(cid)
        extra.append(
            Issue(
                code="unknown-control",
                problem=f"control {cid} is not in the {cat.framework} {cat.framework_version} catalogue ({cat.file})",
                file=m.file,
                record=m.row,
            )
        )
    return replace(rt, issues=rt.issues + tuple(extra)) if extra else rt


# Problems that mean a file of a source could not be parsed at all (not one bad row).
_FILE_FAILURES = ("unreadable", "bad-json", "bad-yaml", "too-deep", "bad-encoding", "truncated")


def unreadable(issues, rows: int | None = None) -> Issue | None:
    """The problem that kept a file of a source from being read, if one did: a file that is
    not valid JSON/YAML/UTF-8, too deep, cut short, not in its format at all (a format problem with no
    record is the file's), or empty when nothing else was read."""
    for issue in issues:
        if issue.code in _FILE_FAILURES or (issue.code == "bad-format" and issue.record is None):
            return issue
    if rows == 0:
        for issue in issues:
            if issue.code == "empty-file":
                return issue
    return None


def _mark_unread(ws, source: Source, problem: Issue, what: str) -> None:
    """An enabled source that could not be read: named first among the warnings, and a
    build stops on it (pipeline.build)."""
    line = problem.one_line()
    ws.unread.setdefault(source.id, line)
    ws.issues.append(Issue(code="source-unreadable", problem=f"cannot be read, {what}: {line}", record=f"source {source.id!r}"))


def mapping_sources(ws, *, enabled_only: bool) -> list[Source]:
    return [s for s in ws.config.sources if s.kind == MAPPING_KIND and (s.enabled or not enabled_only)]


def load_controls(ws, progress: Progress | None = None) -> ControlSet:
    """Every enabled mapping table, reconciled; their issues join the workspace's.

    A source that cannot be read at all (missing from the mirror, no target release for
    its domain) becomes an issue, so that one missing table does not stop a build.
    """
    tables = []
    with paused_gc():  # ~120,000 records that live to the end: nothing for the collector
        for source in mapping_sources(ws, enabled_only=True):
            if progress:
                progress(f"reading {source.id}")
            try:
                rt = reconcile_source(ws, source)
            except PipelineError as exc:
                # A table of a domain this build leaves out (no such release at the target)
                # is skipped with its warning; only a table the build needs stops it.
                if source.domain is None or source.domain in ws.domains:
                    ws.unread[source.id] = exc.one_line()
                ws.issues.append(Issue(code="source-skipped", problem=f"cannot be read, its mappings are left out: {exc.one_line()}", record=f"source {source.id!r}"))
                continue
            failed = unreadable(rt.table.issues, rt.table.rows)
            if failed is not None:
                _mark_unread(ws, source, failed, "its mappings are missing")
            ws.issues.extend(rt.all_issues)
            tables.append(rt)
    catalogs = []
    wanted = {(rt.table.framework, rt.table.framework_version) for rt in tables}
    for source in ws.config.enabled(CATALOG_KIND):
        key = (source.framework or "", source.framework_version or "")
        if key not in wanted:
            continue
        cat = catalog(ws, *key)
        if cat is not None and cat.source_id == source.id:
            failed = unreadable(cat.issues, len(cat.controls))
            if failed is not None:
                _mark_unread(ws, source, failed, "its controls have no catalogue text")
            ws.issues.extend(cat.issues)
            catalogs.append(cat)
    return ControlSet(target_version=ws.attack_version, tables=tuple(tables), catalogs=tuple(catalogs))


def reconcile_all(ws, progress: Progress | None = None) -> tuple[list[ReconciledTable], list[dict]]:
    """Every mapping source, enabled or not (for the reports), and the ones that could not be read."""
    out, skipped = [], []
    with paused_gc():  # ~120,000 records that live to the end: nothing for the collector
        for source in mapping_sources(ws, enabled_only=False):
            if progress:
                progress(f"reconciling {source.id}")
            try:
                out.append(reconcile_source(ws, source))
            except PipelineError as exc:
                skipped.append({"source": source.id, "enabled": source.enabled, "problem": exc.one_line()})
    return out, skipped
