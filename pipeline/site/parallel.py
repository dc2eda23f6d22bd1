"""mkdocs' build with its two per-page loops spread over worker processes.

Why: converting and writing ~10,500 pages is ~99 % of a site build and each page is
independent of the others within a loop, but mkdocs runs both loops in one process,
so on a 2-core machine half the CPU sits idle. `build` below is mkdocs 1.6's own
`mkdocs.commands.build.build` (same steps, same order, same plugin events, a clean
build, never `serve`), except that

1. reading and converting the pages (`_populate_page`: front matter, the
   `page_markdown` hooks, Python-Markdown, the `page_content` hooks) runs in forked
   workers, each on its share of the pages; each worker sends back what a page holds
   afterwards (HTML, table of contents, title, meta, anchors and links to anchors) and
   the parent sets it on its own Page objects — every later step (navigation titles,
   prev/next links, sitemap, anchor checks) sees exactly what a serial build sees;
2. writing the pages (`_build_page`: the theme's templates and the search plugin's
   per-page indexing) runs in forked workers again (they inherit the finished pages);
   each writes its pages' HTML files and sends back the search index entries of its
   pages, which the parent puts into the search index in page order, as the serial
   loop would have appended them.

Deterministic by construction: a page's HTML depends only on the page and the state
gathered before the loop, never on which worker made it or when; log records (mkdocs'
warnings, which strict mode counts) are re-emitted by the parent in page order. The
site is byte for byte the one mkdocs' serial build writes (tests/site check both).

Pages go to workers in runs of `CHUNK` consecutive pages, taken from a shared queue (a
pipe holding the runs' numbers) by whichever worker is free: pages differ in cost (a
technique page takes four to six detection pages' time), and a fixed share left one worker idle
for seconds at the end of a loop while the other finished its heavier share. A worker
puts a run's results into a spool file of its own and sends the parent only where they
lie: sent through the pipe itself, megabytes of HTML kept a worker waiting for the
parent to be scheduled and read them (2.2 s of a 26 s loop). The parent re-logs
mkdocs' "Reading:"/"Building page" debug lines as results arrive, which feed the
progress bar.

Pages are converted by `convert.Converter` (one Markdown instance per process, cached
Pygments lexers, no Pygments stylesheet per code block) rather than by `Page.render`:
the same HTML for less CPU. The search plugin's index is `search.LeanSearchIndex`,
which gives the same entries without parsing the content the index leaves out.

Workers are forked (POSIX): the config, the files and the navigation (the state of a
few seconds of work) are inherited, not rebuilt. A worker that fails sends its
exception's text; the parent raises it as mkdocs would have.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import struct
import tempfile
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Callable, Iterator

from mkdocs import utils
from mkdocs.commands import build as mb
from mkdocs.exceptions import Abort, BuildError
from mkdocs.structure.files import InclusionLevel, get_files, set_exclusions
from mkdocs.structure.nav import get_navigation
from mkdocs.structure.pages import Page

from pipeline.site.convert import Converter, log_page_error, set_state
from pipeline.site.navpartial import NAV_PARTIAL
from pipeline.site.pagecache import NAME_MARK, Reuse, named, watching
from pipeline.site.search import lean, lean_page_context

CHUNK = 32
# At most this many runs: their numbers (4 KiB) fit in any pipe before a worker reads one.
MAX_RUNS = 1024
RUN_NUMBER = struct.Struct("<I")
log = logging.getLogger("mkdocs.commands.build")


def default_workers() -> int:
    """One worker per core this process may use, at most 2 (the development machine's
    count, and past 2 the parent's unpickling starts to dominate); 1 where fork is missing."""
    if not hasattr(os, "fork"):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


class _Records(logging.Handler):
    """A worker's log records (WARNING and up), kept to be sent to the parent."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _runs(n: int) -> list[range]:
    """The pages in runs of `CHUNK` consecutive ones; longer runs where there would be more
    than `MAX_RUNS` (their numbers must fit in a pipe before any worker starts)."""
    size = max(CHUNK, -(-n // MAX_RUNS))
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


def _take(tasks: int) -> int | None:
    """The next run's number from the shared task pipe, or None when none is left. All
    numbers were written before any worker started, each `RUN_NUMBER.size` bytes, and a
    pipe hands a read of that size whole to one reader."""
    data = os.read(tasks, RUN_NUMBER.size)
    return RUN_NUMBER.unpack(data)[0] if data else None


def _worker(tasks: int, conn_w: int, spool: int, runs: list[range], job: Callable[[int], object]) -> None:
    """In the forked child: takes runs from `tasks` until none is left and runs `job` on
    each page of each; a run's results (and the log records made meanwhile) go into
    `spool` as one pickle, and where it lies goes to the parent through `conn_w`."""
    status = 0
    try:
        # The parent pauses its collector through the loops (`make`); here it runs, on this
        # process's own objects only: walking the inherited ones would copy their pages.
        gc.freeze()
        gc.enable()
        # The parent's handlers (its progress bar, its collectors) are not ours to call.
        for name in ("mkdocs", "mkdocs.commands.build"):
            logging.getLogger(name).handlers.clear()
        records = _Records()
        logging.getLogger("mkdocs").addHandler(records)
        logging.getLogger("mkdocs").propagate = False
        offset = 0
        with os.fdopen(conn_w, "wb") as out:
            while (number := _take(tasks)) is not None:
                results = []
                for i in runs[number]:
                    records.records = []
                    try:
                        value = job(i)
                    except BaseException as exc:  # noqa: BLE001 - sent to the parent, which raises
                        pickle.dump(("error", i, records.records, f"{exc}", traceback.format_exc()), out)
                        raise SystemExit(1) from None
                    results.append((i, value, records.records))
                data = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
                try:
                    _write_at(spool, data, offset)
                except OSError as exc:
                    i = runs[number][0]
                    pickle.dump(("error", i, [], f"could not keep the results of a page: {exc}", traceback.format_exc()), out)
                    raise SystemExit(1) from None
                pickle.dump(("ok", offset, len(data)), out)
                out.flush()
                offset += len(data)
    except BaseException:  # noqa: BLE001 - a child never returns into the parent's code
        status = 1
    finally:
        os._exit(status)


def _write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _read_at(fd: int, length: int, offset: int) -> bytes:
    parts = []
    while length:
        part = os.pread(fd, length, offset)
        if not part:
            raise EOFError("a site worker's results end early")
        parts.append(part)
        length, offset = length - len(part), offset + len(part)
    return b"".join(parts)


def _in_process(n: int, job: Callable[[int], object]) -> Iterator[tuple[int, object, list]]:
    """`_in_workers` with no worker: each job here, in order; its log records go straight
    to the handlers (in page order, as they would be replayed). A job's error is raised
    as a worker's would be (`WorkerError`), so the site build reports it the same way."""
    for i in range(n):
        try:
            value = job(i)
        except Exception as exc:
            raise WorkerError(i, f"{exc}", traceback.format_exc()) from exc
        yield i, value, []


def _in_workers(n: int, workers: int, job: Callable[[int], object]) -> Iterator[tuple[int, object, list]]:
    """(index, result, log records) of `job(i)` for every i < n, computed in `workers`
    forked processes, yielded as they arrive. Raises the first failure."""
    if workers <= 1:
        yield from _in_process(n, job)
        return
    runs = _runs(n)
    readers: dict[int, object] = {}
    spools: dict[int, object] = {}
    pids = []
    tasks_r, tasks_w = os.pipe()
    try:
        os.write(tasks_w, b"".join(RUN_NUMBER.pack(k) for k in range(len(runs))))
        os.close(tasks_w)
        tasks_w = -1
        for _ in range(min(workers, len(runs))):
            spool = tempfile.TemporaryFile()
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child, measured by the parent's results
                try:
                    os.close(r)
                    _worker(tasks_r, w, spool.fileno(), runs, job)
                finally:
                    os._exit(1)  # never back into the parent's code, whatever happened
            os.close(w)
            pids.append(pid)
            readers[r] = os.fdopen(r, "rb")
            spools[r] = spool
        open_ = dict(readers)
        received = 0
        while open_:
            for fd in wait(list(open_)):
                f = open_[fd]
                try:
                    msg = pickle.load(f)
                except EOFError:
                    f.close()
                    del open_[fd]
                    continue
                if msg[0] == "error":
                    _, i, records, text, trace = msg
                    _replay(records)
                    raise WorkerError(i, text, trace)
                _, offset, length = msg
                results = pickle.loads(_read_at(spools[fd].fileno(), length, offset))
                received += len(results)
                yield from results
        if received != n:  # a worker died between two runs (killed, out of memory)
            raise WorkerError(-1, f"a site worker process ended early: {n - received} of {n} pages missing", "")
    finally:
        if tasks_w != -1:
            os.close(tasks_w)
        os.close(tasks_r)
        for f in readers.values():
            f.close()
        for spool in spools.values():
            spool.close()
        for pid in pids:
            try:
                os.kill(pid, 9) if _alive(pid) else None
            finally:
                _reap(pid)


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


class WorkerError(Exception):
    def __init__(self, index: int, text: str, trace: str) -> None:
        super().__init__(text)
        self.index = index
        self.trace = trace


def _replay(records: list[tuple[str, int, str]]) -> None:
    for name, level, message in records:
        logging.getLogger(name).log(level, "%s", message)


@dataclass(frozen=True, slots=True)
class Made:
    """How many pages a site build converted and wrote (the others came from the page
    cache; -1: not counted, mkdocs' own build), and the cache keys its pages used."""

    keys: frozenset
    converted: int
    written: int


@dataclass(frozen=True, slots=True)
class _Loops:
    """The two page loops of one site build and what both read: each runs its pages
    in `workers` processes, taking a page's result from `reuse`'s cache where it holds
    it, and puts the results back on the parent's pages in page order."""

    config: object
    files: object
    workers: int
    reuse: Reuse | None
    search: object | None

    def convert(self, pages: list) -> tuple[dict[str, str | None], list[str | None], int]:
        """Every page read and converted (`convert.Converter.populate`): each page's
        converted identity by path, the cache keys looked up, how many were converted."""
        converter = Converter(self.config)

        def populate(i: int) -> tuple[str | None, str | None, dict, bool]:
            return converter.populate(pages[i], self.files, self.reuse)

        records: list[list] = [[] for _ in pages]
        keys: list[str | None] = []
        idents: dict[str, str | None] = {}
        made = 0
        for i, (key, ident, state, new), recs in _in_workers(len(pages), self.workers, populate):
            set_state(pages[i], state, self.files)
            keys.append(key)
            idents[pages[i].file.src_uri] = ident
            made += new
            records[i] = recs
            log.debug(f"Reading: {pages[i].file.src_uri}")
        for recs in records:
            _replay(recs)
        return idents, keys, made

    def write(self, built: list, doc_files, nav, env, idents: dict[str, str | None]) -> tuple[list[str | None], int]:
        """Every page written (`write_page`: templates, search entries), the entries put
        into the search index in page order; the cache keys used, how many were written.

        With the page cache, pages are written with `NAME_MARK` for the site's name (put
        back into each page before it is saved, and into each kept page taken from the
        cache), so a kept page serves the next ATT&CK release's site too; and a page out of
        the navigation is keyed by the navigation its folder prints (`NavPartial`), known
        once one page of the folder was drawn in the process, or kept from a site build
        with the same navigation. Neither where a page's own text holds the mark's first
        character (`_holds_mark`): then nothing written is kept."""
        reuse, search, config = self.reuse, self.search, self.config
        name = config.site_name
        marked = reuse is not None and not _holds_mark(built, nav)
        features = config.theme.get("features") or []
        # Material's tabs print the navigation outside its partial, on every page.
        partial = env.globals.get(NAV_PARTIAL) if marked and "navigation.tabs" not in features else None
        navigation = reuse.navigation(nav) if reuse is not None else None
        site_name = NAME_MARK if marked else name

        known: dict[str, str] = {}  # a folder's navigation, drawn or kept (this process)

        def drawn_for(folder: str, nav_key: str | None) -> str | None:
            found = partial.drawn(folder, site_name) or known.get(folder)
            if found is None:
                found = reuse.drawn(nav_key)
            if found is not None:
                known[folder] = found
            return found

        def write(i: int) -> tuple[list, bool, tuple]:
            page = built[i]
            ident = idents.get(page.file.src_uri)
            folder = partial.folder(page, nav) if partial is not None else None
            nav_key = drawn = None
            if folder is not None:
                nav_key = reuse.folder_navigation_key(navigation, folder)
                drawn = drawn_for(folder, nav_key)
                key = reuse.folder_written_key(drawn, ident)
            else:
                key = reuse.written_key(navigation, ident) if reuse is not None else None
            kept = reuse.written(key, page.canonical_url, name) if key is not None else None
            if kept is not None:
                entries, html = kept
                if html is not None:
                    utils.write_file(html, page.file.abs_dest_path)
                return entries, False, (key, nav_key)
            before = len(search.search_index.entries) if search else 0
            with watching() as warned:
                html = write_page(page, config, doc_files, nav, env, excluded=page.file.inclusion.is_excluded())
            if html is not None:
                utils.write_file(named(html, name) if marked else html, page.file.abs_dest_path)
            added = []
            if search is not None:
                # Taken out of the index: the parent adds every page's entries in page order
                # below (with no worker, this process's index would otherwise hold them twice).
                added = search.search_index.entries[before:]
                del search.search_index.entries[before:]
            if folder is not None:
                now = partial.drawn(folder, site_name)  # what this page printed
                if now is not None and now != drawn:
                    reuse.keep_drawn(nav_key, now)
                    known[folder] = now
                key = reuse.folder_written_key(now, ident)
            if marked and key is not None and not warned.seen:
                reuse.keep_written(key, added, html, page.canonical_url)
            return added, True, (key, nav_key)

        entries: list[list] = [[] for _ in built]
        records: list[list] = [[] for _ in built]
        keys: list[str | None] = []
        made = 0
        with _named(config, site_name):
            for i, (page_entries, new, page_keys), recs in _in_workers(len(built), self.workers, write):
                entries[i] = page_entries
                keys.extend(page_keys)
                made += new
                records[i] = recs
                log.debug(f"Building page {built[i].file.src_uri}")
        for recs in records:
            _replay(recs)
        if search is not None:
            search.search_index.entries.extend(e for page_entries in entries for e in page_entries)
        return keys, made


@contextlib.contextmanager
def _named(config, site_name: str) -> Iterator[None]:
    """`config`'s site name set to `site_name` for the block (the templates print it)."""
    real = config["site_name"]
    config["site_name"] = site_name
    try:
        yield
    finally:
        config["site_name"] = real


def _holds_mark(pages: list, nav) -> bool:
    """Whether any text of the pages or the navigation the templates print holds the
    first character of `NAME_MARK` (a private-use character): then the mark could not be
    told apart from the page's own text, and the site's name is printed as it is."""
    mark = NAME_MARK[0]

    def toc(items) -> Iterator[str]:
        for item in items or ():
            yield str(item.title)
            yield from toc(item.children)

    def titles(items) -> Iterator[str]:
        for item in items or ():
            yield str(item.title)
            yield from titles(getattr(item, "children", None))

    for page in pages:
        texts = (page.content or "", str(page.title), repr(page.meta), page.url or "", *toc(page.toc))
        if any(mark in t for t in texts):
            return True
    return any(mark in t for t in titles(nav.items))


def write_page(page, config, doc_files, nav, env, excluded: bool = False) -> bytes | None:
    """mkdocs' `_build_page` (same plugin events in the same order, same error line),
    returning the page's HTML rather than writing it (None: the page is empty and no file
    is written), so that the caller can put the site's name into it first."""
    config._current_page = page
    try:
        page.active = True
        context = mb.get_context(nav, doc_files, config, page)
        template = env.get_template(page.meta.get("template", "main.html"))
        context = config.plugins.on_page_context(context, page=page, config=config, nav=nav)
        if excluded:
            page.content = (
                '<div class="mkdocs-draft-marker" title="This page will not be included into the built site.">'
                "DRAFT"
                "</div>" + (page.content or "")
            )
        output = template.render(context)
        output = config.plugins.on_post_page(output, page=page, config=config)
        if output.strip():
            return output.encode("utf-8", errors="xmlcharrefreplace")
        log.info(f"Page skipped: '{page.file.src_uri}'. Generated empty output.")
        return None
    except Exception as e:
        log_page_error("building", page, e)
        raise
    finally:
        page.active = False
        config._current_page = None


def _pages(files, config, inclusion) -> list:
    """The documentation pages, each with its Page (those out of the navigation get theirs here)."""
    pages = []
    for file in files.documentation_pages(inclusion=inclusion):
        if file.page is None and file.inclusion.is_not_in_nav():
            Page(None, file, config)
        assert file.page is not None
        pages.append(file.page)
    return pages


def _search_plugin(config):
    for name, plugin in config.plugins.items():
        if name in ("search", "material/search") and hasattr(plugin, "search_index"):
            return plugin
    return None


def build(config, workers: int, reuse: Reuse | None = None) -> Made:
    """A clean `mkdocs build` of `config` (loaded, `on_startup` run) with its page loops
    in `workers` processes (1: in this one) and its pages converted by `convert.Converter`;
    `workers` 0 is mkdocs' own serial build, unchanged (the reference the tests compare with).
    With `reuse`, each page's two steps are taken from its cache where it holds them
    (site/pagecache.py) and kept there otherwise; returns how many pages were made and
    the cache's keys they used."""
    if workers <= 0:
        mb.build(config)
        return Made(frozenset(), -1, -1)

    logger = logging.getLogger("mkdocs")
    warning_counter = utils.CountHandler()
    warning_counter.setLevel(logging.WARNING)
    if config.strict:
        logger.addHandler(warning_counter)
    inclusion = InclusionLevel.is_included
    try:
        config = config.plugins.on_config(config)
        search = _search_plugin(config)
        if search is not None:
            search.search_index = lean(search.search_index)  # the same entries, less parsing (site/search.py)
            lean_page_context(config, search)  # the same pages, less searching for marks (site/search.py)
        config.plugins.on_pre_build(config=config)
        utils.clean_directory(config.site_dir)

        files = get_files(config)
        env = config.theme.get_env()
        files.add_files_from_theme(env, config)
        files = config.plugins.on_files(files, config=config)
        set_exclusions(files, config)
        nav = get_navigation(files, config)
        nav = config.plugins.on_nav(nav, config=config, files=files)

        log.debug("Reading markdown pages.")
        loops = _Loops(config, files, workers, reuse, search)
        idents, keys, converted = loops.convert(_pages(files, config, inclusion))

        env = config.plugins.on_env(env, config=config, files=files)
        log.debug("Copying static assets.")
        files.copy_static_files(inclusion=inclusion)
        for template in config.theme.static_templates:
            mb._build_theme_template(template, env, files, config, nav)
        for template in config.extra_templates:
            mb._build_extra_template(template, files, config, nav)

        log.debug("Building markdown pages.")
        doc_files = files.documentation_pages(inclusion=inclusion)
        built = [f.page for f in doc_files]
        written, made = loops.write(built, doc_files, nav, env, idents)

        log_level = config.validation.links.anchors
        for page in built:
            page.validate_anchor_links(files=files, log_level=log_level)

        config.plugins.on_post_build(config=config)
        if counts := warning_counter.get_counts():
            msg = ", ".join(f"{v} {k.lower()}s" for k, v in counts)
            raise Abort(f"Aborted with {msg} in strict mode!")
        return Made(frozenset(k for k in (*keys, *written) if k is not None), converted, made)
    except WorkerError as e:
        config.plugins.on_build_error(error=e)
        raise Abort(f"Error building the site: {e}") from None
    except Exception as e:
        config.plugins.on_build_error(error=e)
        if isinstance(e, BuildError):
            raise Abort("Aborted with a BuildError!") from None
        raise
    finally:
        logger.removeHandler(warning_counter)
