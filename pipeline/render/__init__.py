"""Render stage: each renderer reads the gathered context and writes one part of the output tree.

A renderer is `render(ctx, out_dir) -> list[Path]` registered by name (`pipeline.render.registry`,
kept apart so that a module using one renderer's helpers does not import them all); the build runs
them into a temporary directory, so a renderer never sees or damages a previous build:
in registry order in one process, or side by side in forked workers except those of
`AFTER_OTHERS`, which run last (`pipeline.build._render`) but may hand the workers the
part of their work that reads no other renderer's files (`EarlyWork`).

The context is filled before the first renderer runs (`pipeline.gather`): the graph,
the reconciled tables and their reports, the ATT&CK objects and texts, the previous
release's diff and the issues found while reading. A renderer reads nothing else — no
input file, no workspace, no network — so every renderer sees the same inputs, a stage
can be run or tested alone, and the issues written by one renderer are the issues the
build counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping

from pathlib import Path

import networkx as nx


@dataclass(frozen=True)
class MappingReport:
    """One mapping source of the sources file, enabled or not: its reconciliation report
    (`report`: `pipeline.reconcile.mappings.report` of the table reconciled to the target
    release, with its books under `accounting`), or why it could not be read
    (`problem`), or `taken`: `(memo,)` of its report unit, taken unchanged from the
    previous build (then the source was not read at all).

    The report, not the reconciled table: most tables are disabled, read only for
    their reports, and read in worker processes (`pipeline.gather`), which send back
    what the renderer writes rather than some 120,000 mapping records."""

    source: object
    report: Mapping[str, object] | None = None
    problem: str = ""
    taken: tuple | None = None


@dataclass(frozen=True)
class DomainDiff:
    """A domain's diff with the previous release at hand (`result`, a
    `pipeline.diff.run.DiffResult`), or why there is none (`skipped`)."""

    domain: str
    previous: str = ""
    result: object = None
    skipped: str = ""


class NotGathered(RuntimeError):
    """A renderer asked for a part of the context its caller did not gather."""


@dataclass(frozen=True)
class RenderContext:
    graph: nx.MultiDiGraph
    attack_version: str = ""
    domains: tuple[str, ...] = ()
    # The sources file as data (`pipeline.core.config.Config`): labels, licences, settings.
    config: object = None
    # True: the graph holds ATT&CK only (no mapping tables, no detection corpora).
    attack_only: bool = False
    # The target releases (`pipeline.model.attack.AttackRelease`), one per domain.
    releases: tuple = ()
    # Every issue found while gathering (`pipeline.core.errors.Issue`), in the order found.
    issues: tuple = ()
    # Enabled sources that could not be read (source id -> the problem, one line).
    unread: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    site_url: str = ""
    # Options of the command line for renderers (`stix_include_attack`).
    options: Mapping[str, object] = field(default_factory=dict)
    # Parts that may be taken from the previous build (`pipeline.build.units.Units`);
    # `pipeline.gather` gives one that renders everything unless the build passes its own.
    units: object = None
    # `progress(done, total)` inside a long renderer (the pages), for the build's bar.
    progress: Callable[[int, int], None] | None = field(default=None, compare=False)
    # Results of the organisation profiles of the build (`pipeline.profile.results`).
    profiles: tuple = ()
    # Parts only some renderers read; None when the caller did not gather them (`part`).
    # The enabled mapping tables and catalogues, reconciled (`pipeline.model.controls.ControlSet`).
    controls: object = None
    # Every mapping source, enabled or not, for the reconciliation reports.
    mapping_reports: tuple[MappingReport, ...] | None = None
    # The detection corpora as loaded (`DetectionLoad`s), for the reports' books.
    detection_loads: tuple | None = None
    # ATT&CK objects of the target releases by STIX id (for `--include-attack`).
    attack_objects: Mapping[str, dict] | None = None
    # Citations and contributors of the target releases (`pipeline.ingest.attack_texts.AttackTexts`).
    attack_texts: object = None
    # The diff of each domain with its previous release.
    diffs: tuple[DomainDiff, ...] | None = None

    def part(self, name: str):
        """A part of the context that only some renderers read; a clear error when it
        was not gathered (a caller rendering one part gathers only what that part reads)."""
        value = getattr(self, name)
        if value is None:
            raise NotGathered(f"the render context was gathered without {name!r}; gather it for this renderer")
        return value


Renderer = Callable[[RenderContext, Path], list[Path]]


@dataclass(frozen=True)
class EarlyWork:
    """The part of a renderer of `AFTER_OTHERS` that reads no other renderer's files,
    planned in the process that renders: `pieces`, independent of each other and of the
    other renderers' files, may run in any process while the other renderers run (each
    returns a small, picklable result); `finish(results)`, given their results in the
    order of `pieces`, runs once every other renderer has finished and returns what the
    renderer would have (`pipeline.build._render`)."""

    pieces: tuple[Callable[[], object], ...]
    finish: Callable[[list], list[Path]]
