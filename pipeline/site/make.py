"""Make the site: mkdocs builds into a fresh folder, which replaces the old site whole.

`site` is a link flipped to `.site.builds/<build id>` (the same scheme as the build's
`outputs`, pipeline/build/tree.py), so a failed or killed site build leaves the
previous site as it was, and a reader never sees half a site.

One site build at a time per site path: the lock file `.site.lock` beside it holds an
exclusive `flock` (the build's lock, pipeline/build/lock.py); a second `site` of the
same path fails at once with one line naming the holder, and the site the first one
publishes stays whole (without the lock, each run's prune deleted the other's folders).
The build folder the site reads is pinned meanwhile (`source.reading`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from mkdocs.config import load_config
from mkdocs.exceptions import MkDocsException

from pipeline.build.lock import BuildLock, BuildLocked
from pipeline.core.errors import PipelineError
from pipeline.core.perf import collected_later
from pipeline.site.source import BuildSource, reading
from pipeline.build import tree
from pipeline.site.config import mkdocs_config, write_config
from pipeline.site.nav import read_nav
from pipeline.site.pagecache import Reuse
from pipeline.site.parallel import Made, build as mkdocs_build, default_workers

SHOWN_WARNINGS = 5


@dataclass(frozen=True, slots=True)
class SiteResult:
    site: Path  # the published path (a link)
    folder: Path  # the folder it points at
    pages: int
    seconds: float
    search_index_bytes: int
    converted: int = -1  # pages converted, and written, by this build (the others came
    written: int = -1  # from the page cache); -1: not counted (mkdocs' own build)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


@contextlib.contextmanager
def _mkdocs_warnings() -> Iterator[_Collect]:
    """mkdocs' warnings, collected instead of printed (they become one error)."""
    logger = logging.getLogger("mkdocs")
    handler = _Collect()
    old = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = old


class _Pages(logging.Handler):
    """Counts the pages mkdocs reads and builds (its DEBUG lines) for a progress bar."""

    PHASES = {"Reading: ": "reading pages", "Building page ": "building pages"}

    def __init__(self, report: Callable[[str, int], None]) -> None:
        super().__init__(logging.DEBUG)
        self.report = report
        self.counts = {phase: 0 for phase in self.PHASES.values()}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.msg if isinstance(record.msg, str) else ""
        for prefix, phase in self.PHASES.items():
            if message.startswith(prefix):
                self.counts[phase] += 1
                self.report(phase, self.counts[phase])


@contextlib.contextmanager
def _page_counts(report: Callable[[str, int], None] | None) -> Iterator[None]:
    if report is None:
        yield
        return
    logger = logging.getLogger("mkdocs.commands.build")
    handler = _Pages(report)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def run_mkdocs(
    config_file: Path,
    pages: Callable[[str, int], None] | None = None,
    workers: int = 1,
    reuse: Reuse | None = None,
    nav: list | None = None,
) -> Made:
    """mkdocs build, its page loops in `workers` processes (`parallel`; 1: this process;
    0: mkdocs' own serial build, the same site); its warnings become one PipelineError. `pages` is
    told (phase, count) as mkdocs reads and builds each page. Returns how many pages
    were made and the page cache's keys they used (`reuse`: the cache). `nav`: the
    navigation, given to mkdocs as it is rather than in the configuration file (its
    ~80 KB of YAML took 0.15 s to write and read again, before any page)."""
    with _mkdocs_warnings() as seen, _page_counts(pages):
        try:
            cfg = load_config(config_file=str(config_file), nav=nav)
            cfg.plugins.on_startup(command="build", dirty=False)
            try:
                return mkdocs_build(cfg, workers, reuse)
            finally:
                cfg.plugins.on_shutdown()
        except (MkDocsException, SystemExit) as exc:
            shown = "; ".join(seen.messages[:SHOWN_WARNINGS]) or str(exc)
            more = f" (and {len(seen.messages) - SHOWN_WARNINGS} more)" if len(seen.messages) > SHOWN_WARNINGS else ""
            raise PipelineError(f"the site build failed: {shown}{more}", file=str(config_file)) from None


def _markdown_pages(docs: Path) -> int:
    """How many Markdown pages `docs` holds (a directory walk: `Path.rglob` took 40 ms)."""
    return sum(name.endswith(".md") for _, _, names in os.walk(docs) for name in names)


def _portable(cfg: dict) -> dict:
    """The mkdocs configuration without the folders of this one build (the build read,
    the temporary site folder), which decide nothing about a page's HTML."""
    return {**cfg, "docs_dir": None, "site_dir": None, "extra": {**cfg["extra"], "build_root": None}}


def lock_path(site: Path) -> Path:
    return site.parent / f".{site.name}.lock"


@contextlib.contextmanager
def site_lock(site: Path) -> Iterator[None]:
    """The site path for this process alone, or a one-line error naming the holder."""
    lock = BuildLock(lock_path(site))
    try:
        lock.acquire()
    except BuildLocked:
        pid, host = lock._owner()
        raise PipelineError(
            f"another site build (pid {pid} on {host}) is writing this site; wait for it to finish", file=str(site)
        ) from None
    try:
        yield
    finally:
        lock.release()


def make_site(
    out: Path,
    site: Path,
    site_url: str = "",
    progress: Callable[[str, int, int], None] | None = None,
    navigator_url: str = "",
    markdown_extensions: list | None = None,
    workers: int | None = None,
    fresh: bool = False,
) -> SiteResult:
    """The site of the build at `out`, published at `site`. `progress(phase, done, total)`
    follows mkdocs page by page (reading, then building every page). `site_url`: where
    it is published (absolute links, Navigator links of its layers); `navigator_url`:
    the ATT&CK Navigator those links open (default the public one). `workers`: processes
    that convert and write the pages (default one per core, at most 2; 1: this process;
    0: mkdocs' own serial build, which gives the same bytes). Pages the previous site
    builds made the same are taken from the page cache beside the site
    (site/pagecache.py); `fresh` makes every page again (and refills the cache)."""
    site = Path(os.path.abspath(site))
    with site_lock(site), reading(out) as build:
        return _make(build, site, site_url, progress, navigator_url, markdown_extensions, workers, fresh)


def _make(
    build: BuildSource,
    site: Path,
    site_url: str,
    progress: Callable[[str, int, int], None] | None = None,
    navigator_url: str = "",
    markdown_extensions: list | None = None,
    workers: int | None = None,
    fresh: bool = False,
) -> SiteResult:
    start = time.perf_counter()
    tree.check_replaceable(site)
    tmp = tree.new_build_dir(site)
    reuse = None
    pages = _markdown_pages(build.docs)
    try:
        with tempfile.TemporaryDirectory(prefix="attack-pipeline-site-") as work:
            cfg = mkdocs_config(build, read_nav(build.docs), tmp, site_url, navigator_url, markdown_extensions)
            config_file = write_config(Path(work) / "mkdocs.yml", {k: v for k, v in cfg.items() if k != "nav"})
            report = None
            if progress is not None:
                progress("configuring", 0, pages)
                report = lambda phase, done: progress(phase, done, pages)  # noqa: E731
            reuse = Reuse.for_site(site, _portable(cfg), read=not fresh)
            # This process's objects live until the site is made: its cyclic collector
            # would walk them for nothing (0.4 s of a cold site), and the forked workers
            # would copy every memory page it wrote to (they collect their own objects).
            with collected_later():
                # the site's date is in the config (site/hooks.py)
                made = run_mkdocs(config_file, report, default_workers() if workers is None else workers, reuse, cfg.get("nav"))
                folder = tree.publish(tmp, site, build.fingerprint[:16] or "site")
                if made.converted >= 0:  # counted: the cache was used (not mkdocs' own build)
                    reuse.cache.finish(made.keys)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if reuse is not None:  # what the failed build made is kept beside what was
            reuse.cache.finish(None)
        raise
    index = folder / "search" / "search_index.json"
    size = index.stat().st_size if index.is_file() else 0
    return SiteResult(site, folder, pages, time.perf_counter() - start, size, made.converted, made.written)
