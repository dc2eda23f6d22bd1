"""Gather, then render: everything the renderers read, computed once from a workspace.

The workspace loads sources on demand (and may download); renderers must not, so that
the network is never touched mid-build, every renderer sees the same inputs and the
issues a report lists are all the issues the build found. `gather` asks the workspace
for each part before the first renderer runs and returns the frozen `RenderContext`
the renderers take.

Parts that only one renderer reads and that cost time (the previous release's diff,
the reports of disabled mapping tables) are gathered only for the renderers named, so
a caller rendering the tables alone does not build a second graph.
"""

from __future__ import annotations

import os
from types import MappingProxyType
from typing import Callable, Iterable

from pipeline.build.units import Units
from pipeline.core.errors import PipelineError
from pipeline.render import DomainDiff, MappingReport, RenderContext
from pipeline.render.registry import RENDERERS
from pipeline.convert.gather import gather as convert
from pipeline.core.perf import paused_gc
from pipeline.core import forked
from pipeline.diff import cache as diff_cache, run
from pipeline.fetch.cache import cache_dir
from pipeline.fetch.newest import available
from pipeline.ingest.attack_texts import cached_attack_texts, merge
from pipeline.ingest.bundle import read_bundle
from pipeline.reconcile import accounting
from pipeline.reconcile.controls import mapping_sources, passing, reconcile_source
from pipeline.reconcile.mappings import nearest_release, report
from pipeline.render.reconcile import unit
from pipeline.render.stix import INCLUDE_ATTACK
from pipeline.workspace import Workspace

# The parts of the context that some renderers read, by renderer.
# `conversions`: the Sigma rules converted to the query languages, kept on the graph's
# detection nodes (`pipeline.convert.gather`), not a field of the context.
NEEDS = {
    "reconcile": ("mapping_reports", "detection_loads", "conversions"),
    "stix": ("controls", "attack_objects", "conversions"),
    "tables": ("controls",),
    "diff": ("diffs",),
    "queries": ("conversions",),
    "docs": ("attack_texts", "conversions"),
}


def gather(
    ws,
    graph=None,
    *,
    renderers: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
    site_url: str | None = None,
    options: dict | None = None,
    units=None,
    within: Callable[[int, int], None] | None = None,
    profiles: tuple = (),
) -> RenderContext:
    """The render context of `ws` for `renderers` (default: every registered one).
    `graph`: the workspace's graph when the caller has it (a test's own graph);
    `progress` reports only the loading of that graph: the build counts its steps."""
    g = ws.graph(progress) if graph is None else graph
    units = Units() if units is None else units  # no previous build: every unit is rendered
    options = dict(options or {})
    wanted = set(RENDERERS if renderers is None else renderers)
    parts = {p for name in wanted for p in NEEDS.get(name, ())}
    if "conversions" in parts and not ws.attack_only:
        convert(ws, g)  # Sigma rules → query languages, on the graph's nodes (the build's did it already)
    found: dict[str, object] = {}
    if "controls" in parts:
        found["controls"] = ws.controls()

    def the_rest() -> None:
        if "detection_loads" in parts:
            found["detection_loads"] = () if ws.attack_only else tuple(ws.detections().loads)
        if "attack_objects" in parts:
            found["attack_objects"] = attack_objects(ws) if options.get(INCLUDE_ATTACK) else MappingProxyType({})
        if "attack_texts" in parts:
            found["attack_texts"] = attack_texts(ws)

    found.update(_with_the_rest(ws, g, units, parts, the_rest))
    return RenderContext(
        graph=g,
        attack_version=ws.attack_version,
        domains=tuple(ws.domains),
        config=ws.config,
        attack_only=ws.attack_only,
        releases=tuple(ws.releases()),
        issues=tuple(ws.issues),  # last: every part above may have added some
        unread=MappingProxyType(dict(ws.unread)),
        site_url=ws.config.site_url if site_url is None else site_url,
        options=MappingProxyType(options),
        progress=within,
        profiles=tuple(profiles),
        units=units,
        **found,
    )


def _with_the_rest(ws, g, units, parts: set[str], the_rest: Callable[[], None]) -> dict[str, object]:
    """Run `the_rest()` here and gather the mapping tables' reports and the diff
    (those of `parts`) meanwhile; returns those two parts.

    The reports (most tables are disabled, read for their report only) and the diff (a
    second graph, of the previous release) read nothing the rest does not, and what
    they send back is small: forked workers gather them (`pipeline.core.forked`; with
    one process, here, in the order listed). The rest fills the caller's context, so it
    runs in this process; the diff, the longest piece, is claimed first. Each piece's
    issues are taken out of the workspace where it ran (`_apart`) and put back in the
    order of a serial gathering: the reports', the rest's, the diff's."""
    found: dict[str, object] = {}
    pieces = [lambda: _apart(ws, lambda _ws: the_rest())]
    kept = store = key = None
    if "diffs" in parts:
        # Unless a build of the same inputs kept it (`pipeline.diff.cache`).
        store, key = cache_dir(None, ws.config.file), _diff_key(units)
        kept = diff_cache.load(store, key)
        if kept is None:
            pieces.append(lambda: _kept(store, key, _apart(ws, diffs)))
    to_read, reports = report_sources(ws, units) if "mapping_reports" in parts else ((), [])
    groups = by_cost(ws, to_read, by_release(ws, to_read))
    pieces += [lambda group=group: [_apart(ws, lambda ws, at=at: mapping_report(ws, g, to_read[at])) for at in group] for group in groups]
    (rest, *done), _ = forked.run(pieces, forked.jobs(), here=1)
    if "diffs" in parts and kept is None:
        kept = done.pop(0)
    found_at = {at: result for group, results in zip(groups, done) for at, result in zip(group, results)}
    read = iter(range(len(to_read)))
    for at, taken in enumerate(reports):
        if taken is None:
            value, issues, unread = found_at[next(read)]
            reports[at] = value
            _put_back(ws, issues, unread)
    _put_back(ws, *rest[1:])
    if kept is not None:
        found["diffs"] = kept[0]
        _put_back(ws, *kept[1:])
    if "mapping_reports" in parts:
        found["mapping_reports"] = tuple(reports)
    return found


def _kept(store, key, diff: tuple) -> tuple:
    """`diff` saved in the diff cache where it was made: in a forked worker, its 0.2 s
    of pickling and writing are off this process's path to the renderers."""
    diff_cache.save(store, key, diff)
    return diff


def by_release(ws, sources) -> list[list[int]]:
    """The positions of `sources` in groups that check names against the same ATT&CK
    release, in the order of each group's first source.

    A group is one piece of work, so the release's index is made once, where the piece
    runs (an old Enterprise release takes 0.3 s to read); with one piece per table, two
    processes read the same release at once. The release is the one the source
    declares: a table whose file declares another is still reported right, in
    whichever group it is."""
    groups: dict[tuple, list[int]] = {}
    for at, source in enumerate(sources):
        domain = source.domain or "enterprise"
        available = [s.attack_version or "" for s in ws.config.attack_releases(domain)]
        groups.setdefault((domain, nearest_release(available, source.attack_version or ws.attack_version)), []).append(at)
    return list(groups.values())


def by_cost(ws, sources, groups: list[list[int]]) -> list[list[int]]:
    """`groups` of `sources` by their files' total size, largest first (ties in their
    order): the processes claim the costliest pieces first and the small ones last, so
    that none is left with a large one while the others have nothing to do. On a cold
    build the reports took 0.6 s longer in the order of the sources."""

    def size(source) -> int:
        try:
            return os.path.getsize(ws.resolve(source).path)
        except (OSError, PipelineError):
            return 0

    cost = [sum(size(sources[at]) for at in group) for group in groups]
    return [groups[n] for n in sorted(range(len(groups)), key=lambda n: -cost[n])]


def _diff_key(units) -> str | None:
    """The key of the diff among builds: every input of this build with the units'
    settings (code, options, releases); None outside a build (nothing to key it by)."""
    if not units.settings or not units.inputs:
        return None
    return units.key("attack-diff", units.inputs)


def _apart(ws, part: Callable) -> tuple[object, list, dict]:
    """`part(ws)` with the issues and unread sources it found taken out of the
    workspace and returned, so that they arrive in the same place whether it ran in
    this process or in a forked one (`_put_back`)."""
    count, unread = len(ws.issues), set(ws.unread)
    value = part(ws)
    issues = list(ws.issues[count:])
    del ws.issues[count:]
    new = {k: v for k, v in ws.unread.items() if k not in unread}
    for k in new:
        del ws.unread[k]
    return value, issues, new


def _put_back(ws, issues: list, unread: dict) -> None:
    ws.issues.extend(issues)
    ws.unread.update(unread)


def report_sources(ws, units) -> tuple[tuple, list[MappingReport | None]]:
    """Every mapping source, enabled or not, so that a user sees what switching a table
    on would bring: (the sources to read, the reports in source order with None where
    a source is to be read). A report the previous build holds for the same inputs is
    taken from it (`units`) and its source not read: most tables are disabled, and
    reading them costs more than the rest of the reports."""
    to_read, reports = [], []
    for source in mapping_sources(ws, enabled_only=False):
        taken = units.take(*unit(source, units, ws.config))
        if taken is None:
            to_read.append(source)
        reports.append(None if taken is None else MappingReport(source=source, taken=taken))
    return tuple(to_read), reports


def mapping_report(ws, g, source) -> MappingReport:
    """One mapping source reconciled (the enabled ones were already, for the graph: the
    workspace keeps them) and reported against the graph, or why it cannot be read."""
    # thousands of records that live to the end of the piece: nothing for the collector
    with paused_gc(), passing(ws, source):
        try:
            rt = reconcile_source(ws, source)
        except PipelineError as exc:
            return MappingReport(source=source, problem=exc.one_line())
        rep = report(rt)
        rep["accounting"] = accounting.mapping_books(rt, g)
        return MappingReport(source=source, report=rep)


def attack_objects(ws) -> MappingProxyType:
    """The raw objects of the target releases' bundles by STIX id (the first of a
    duplicated id wins), for bundles that embed what they reference."""
    out: dict[str, dict] = {}
    for domain in ws.domains:
        source = ws.config.attack_release(domain, ws.attack_version)
        if source is None:
            continue
        objects, _spec = read_bundle(ws.resolve(source).path, limits=ws.config.limits)
        for obj in objects:
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                out.setdefault(obj["id"], obj)
    return MappingProxyType(out)


def attack_texts(ws):
    """Citations and contributors of the target release's bundles (cached per bundle)."""
    parts = []
    for release in ws.releases():
        source = ws.config.attack_release(release.domain, release.version)
        parts.append(cached_attack_texts(ws.resolve(source).path, cache_dir(None, ws.config.file), limits=ws.config.limits))
    return merge(parts)


def diffs(ws) -> tuple[DomainDiff, ...]:
    """Each domain compared with the next-older release listed in the sources that is at
    hand (mirror or cache: a build never downloads for its report)."""
    out = []
    for domain in ws.domains:
        previous = run.previous_version(
            ws.config, domain, ws.attack_version, lambda v, d=domain: available(ws.config, ws.mirror, d, v)
        )
        if previous is None:
            out.append(DomainDiff(domain=domain, skipped=f"no {domain} release older than {ws.attack_version} in the sources"))
            continue
        old_ws = Workspace.open(ws.config, ws.mirror, previous, (domain,))
        out.append(DomainDiff(domain=domain, previous=previous, result=run.compare(old_ws, ws, domain)))
    return tuple(out)
