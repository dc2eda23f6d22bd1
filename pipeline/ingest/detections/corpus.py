"""Read every detection source: walk its folder, parse on every core, reuse the cache.

The corpora hold about 8,000 rule files; parsing them (YAML through libyaml, TOML) costs
several seconds on one core, so files whose bytes the cache already knows are not
parsed again and the rest are shared between worker processes (jobs - 1 of them) and
this process, which takes batches from the end of the queue while the workers take
them from the front. Results are assembled in path order, so the records, their ids
and the warnings are the same whatever ran where.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from dataclasses import replace
import multiprocessing

import orjson

from pipeline.core.config import Source
from pipeline.core.errors import InputError, Issue
from pipeline.ingest.detections import adapter
from pipeline.ingest.detections.cache import ParsedCache, entry, file_key, from_entry, parser_digest
from pipeline.ingest.detections.common import MAX_FILE_BYTES, FileContext, SourceInfo, one_line, path_id
from pipeline.core.forked import JOBS_ENV, jobs as _jobs  # noqa: F401 - JOBS_ENV: its name, for callers
from pipeline.core.limits import DEFAULT, Limits, read_upto
from pipeline.model.detections import Detection, source_name

_HERE = Path(__file__).resolve().parent
# Code every adapter's output depends on, besides the adapter itself.
_SHARED_CODE = [str(_HERE / n) for n in ("__init__.py", "common.py", "cache.py", "corpus.py")] + [
    str(_HERE.parent.parent / "model" / "detections.py")
]
# Below this many files to parse, starting worker processes costs more than it saves.
MIN_PARALLEL_FILES = 200
BATCH_FILES = 64

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SourceLoad:
    """What reading one source produced, and how (files parsed now vs. taken from cache)."""

    info: SourceInfo
    root: str
    detections: tuple[Detection, ...]
    issues: tuple[Issue, ...]
    files: int
    parsed: int
    cached: int
    empty: int
    seconds: float = field(default=0.0, compare=False)
    # Files that gave no detection, by why: the warning's code, or `no-detection` for a
    # file that holds none without being wrong (a card with no query). With `detections`
    # these account for every file listed.
    no_records: tuple[tuple[str, int], ...] = ()
    # Why the source as a whole could not be read (its folder cannot be listed, or not
    # one of its rule files could be read), else "": a build stops on it.
    unread: str = ""


@dataclass(frozen=True)
class Alongside:
    """Work on the records of every batch of one format that is parsed now, done where
    the batch is parsed (a worker, or this process when it takes a batch itself), each
    result handed to `take` here.

    The records of a cold build's rule files are what a later stage works on (the Sigma
    rules' conversion into queries): done batch by batch beside the parse, that work
    keeps both cores busy while this process reads the releases and the mapping tables,
    instead of starting after them. `work` must pickle (a module-level function, or a
    partial of one) and return JSON; if it raises, its batch's result is None, and the
    later stage does that batch's work itself."""

    format: str
    work: Callable[[list[Detection]], Any]
    take: Callable[[Any], None]


def _alongside(work: Callable[[list[Detection]], Any] | None, results: Sequence[tuple[list[Detection], list[Issue]]]) -> Any:
    """`work` on the records of `results` (None without work, or when it fails)."""
    if work is None:
        return None
    try:
        return work([d for records, _issues in results for d in records])
    except Exception:  # noqa: BLE001 - the stage that wants the result does the work itself
        return None


def source_info(source: Source, limits: Limits = DEFAULT) -> SourceInfo:
    return SourceInfo(name=source_name(source), source_id=source.id, format=source.format, license=source.license, limits=limits)


def default_jobs() -> int:
    """`ATTACK_PIPELINE_JOBS`, or the cores at hand (at most 8): the one convention of
    every stage that uses several processes (`pipeline.core.forked.jobs`)."""
    return _jobs()


# Codes of a rule file that gave nothing because it could not be read or parsed.
BROKEN = frozenset({"detection-file-unreadable", "detection-file-skipped", "detection-parser-failure"})


def list_files(root: Path, wanted: Callable[[str], bool], failed: list[OSError] | None = None) -> list[str]:
    """Relative POSIX paths of the files an adapter reads, sorted; symlinked folders are
    not followed. Folders that cannot be listed are appended to `failed` (os.walk would
    skip them without a word: a corpus would silently shrink)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=None if failed is None else failed.append):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir.replace(os.sep, '/')}/{name}"
            if not name.startswith(".") and wanted(rel):
                out.append(rel)
    return sorted(out)


def parse_one(fmt: str, info: SourceInfo, relpath: str, file: str, data: bytes) -> tuple[list[Detection], list[Issue]]:
    """One file → its records and warnings; a file the adapter refuses is one warning."""
    ctx = FileContext(source=info, relpath=relpath, file=file)
    try:
        records = adapter(fmt).parse(data, ctx)
    except InputError as exc:
        ctx.issues.append(Issue(code="detection-file-skipped", problem=exc.problem, file=exc.file or file, record=exc.record))
        records = []
    except Exception as exc:  # noqa: BLE001 - one broken file must not stop a corpus
        ctx.issues.append(
            Issue(code="detection-parser-failure", problem=f"parser failed ({type(exc).__name__}: {exc}); skipped", file=file)
        )
        records = []
    return records, ctx.issues


def parse_batch(
    fmt: str, info: SourceInfo, items: Sequence[tuple[str, str, bytes]], work: Callable[[list[Detection]], Any] | None = None
) -> bytes:
    """Worker entry point: [the batch's cache-form entries, `work`'s result on its
    records] as one JSON document, which crosses the process boundary far faster than
    pickled records."""
    results = [parse_one(fmt, info, rel, file, data) for rel, file, data in items]
    entries = [entry(*r) for r in results]
    try:
        return orjson.dumps([entries, _alongside(work, results)])
    except TypeError:  # the work's result is not JSON: as if it had failed
        return orjson.dumps([entries, None])


def _read(path: str) -> bytes | str:
    """The file's bytes, or why not: unreadable, or over the rule-file size limit (refused
    before it is read, so a huge file costs nothing)."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_FILE_BYTES:
                return f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a rule file; skipped"
            data = read_upto(fh, size, MAX_FILE_BYTES)  # by its size: see read_upto
    except OSError:
        return "cannot read file; skipped"
    if len(data) > MAX_FILE_BYTES:
        return f"file grew past the {MAX_FILE_BYTES:,}-byte limit for a rule file while read; skipped"
    return data


@dataclass
class _Pending:
    """One source between reading its files and assembling its records."""

    source: Source
    info: SourceInfo
    root: Path
    files: list[str]
    cache: ParsedCache
    started: float
    keys: dict[str, str] = field(default_factory=dict)
    results: dict[str, tuple[list[Detection], list[Issue]]] = field(default_factory=dict)
    misses: list[tuple[str, str, bytes]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    futures: list = field(default_factory=list)
    alongside: Alongside | None = None
    cached: int = 0
    waited: float = 0.0
    unread: str = ""


def _prepare(source: Source, root: Path, cache_dir: Path | None, limits: Limits, alongside: Alongside | None = None) -> _Pending:
    """List, read and hash the files; take what the cache knows, keep the rest to parse
    (and `alongside`'s work on them, if it is for this source's format)."""
    started = time.perf_counter()
    module = adapter(source.format)
    info = source_info(source, limits)
    failed: list[OSError] = []
    files = list_files(root, module.wanted, failed)
    cache = ParsedCache(cache_dir, info.name, parser_digest([module.__file__, *_SHARED_CODE]))
    p = _Pending(source=source, info=info, root=root, files=files, cache=cache, started=started)
    if alongside is not None and alongside.format == source.format:
        p.alongside = alongside
    for exc in failed:
        folder = exc.filename or str(root)
        if os.path.normpath(folder) == os.path.normpath(root):
            p.unread = f"{root}: cannot list the folder ({exc.strerror or exc})"
        else:
            p.issues.append(Issue(code="detection-folder-unreadable", problem=f"cannot list the folder ({exc.strerror or exc}); its rule files are left out", file=folder))
    base = str(root)
    for rel in files:
        display = os.path.join(base, rel)
        data = _read(display)
        if isinstance(data, str):
            code = "detection-file-unreadable" if data.startswith("cannot") else "detection-file-skipped"
            p.issues.append(Issue(code=code, problem=data, file=display))
            continue
        key = p.keys[rel] = file_key(rel, data)
        hit = cache.get(key)
        if hit is not None:
            try:
                p.results[rel] = from_entry(hit, display)
                p.cached += 1
                continue
            except ValueError:
                pass  # a damaged entry: parse the file again
        p.misses.append((rel, display, data))
    p.waited = time.perf_counter() - started
    return p


def _submit(p: _Pending, executor: Executor) -> None:
    fmt = p.source.format
    work = p.alongside.work if p.alongside is not None else None
    p.futures = [
        executor.submit(parse_batch, fmt, p.info, p.misses[i : i + BATCH_FILES], work) for i in range(0, len(p.misses), BATCH_FILES)
    ]


def _steal(pending: list[_Pending]) -> None:
    """Parse here the batches no worker has started, last first, until meeting one a
    worker holds: this process would otherwise only wait, and what it parses itself
    never crosses a pipe."""
    for p in reversed(pending):
        for n in range(len(p.futures) - 1, -1, -1):
            future = p.futures[n]
            if not isinstance(future, Future) or not future.cancel():
                return
            batch = p.misses[n * BATCH_FILES : (n + 1) * BATCH_FILES]
            p.futures[n] = [parse_one(p.source.format, p.info, rel, display, data) for rel, display, data in batch]
            if p.alongside is not None:
                p.alongside.take(_alongside(p.alongside.work, p.futures[n]))


def _finish(p: _Pending) -> SourceLoad:
    started = time.perf_counter()
    done: list[tuple[list[Detection], list[Issue]] | None] = [None] * len(p.misses)
    cached_now: set[int] = set()  # entries a worker already put in cache form
    try:
        for n, future in enumerate(p.futures):
            if isinstance(future, Future):
                values, extra = orjson.loads(future.result())
                if p.alongside is not None:
                    p.alongside.take(extra)
                for i, value in enumerate(values):
                    rel, display, _data = p.misses[n * BATCH_FILES + i]
                    p.cache.put(p.keys[rel], value)
                    done[n * BATCH_FILES + i] = from_entry(value, display)
                    cached_now.add(n * BATCH_FILES + i)
            else:
                for i, result in enumerate(future):
                    done[n * BATCH_FILES + i] = result
    except (BrokenProcessPool, RuntimeError, OSError):
        pass  # workers could not start or died: what is missing is parsed below, here
    here: list[tuple[list[Detection], list[Issue]]] = []  # parsed below, for `alongside`
    for n, (rel, display, data) in enumerate(p.misses):
        result = done[n]
        if result is None:
            result = parse_one(p.source.format, p.info, rel, display, data)
            here.append(result)
        if n not in cached_now:
            p.cache.put(p.keys[rel], entry(*result))
        p.results[rel] = result
    if here and p.alongside is not None:
        p.alongside.take(_alongside(p.alongside.work, here))
    p.cache.save()

    issues = list(p.issues)
    detections: list[Detection] = []
    seen: dict[str, str] = {}
    empty = 0
    why: dict[str, int] = {}
    for rel in p.files:
        if rel not in p.results:
            why["detection-file-unreadable"] = why.get("detection-file-unreadable", 0) + 1
            continue
        records, found = p.results[rel]
        issues.extend(found)
        if not records:
            empty += 1
            code = found[0].code if found else "no-detection"
            why[code] = why.get(code, 0) + 1
        for record in records:
            if record.id in seen:
                unique = f"{record.native_id}~{path_id(rel)[:8]}"
                issues.append(
                    Issue(
                        code="detection-duplicate-id",
                        problem=f"id {record.native_id} is also used by {seen[record.id]}; this one is {p.info.name}:{unique}",
                        file=os.path.join(str(p.root), rel),
                        record=one_line(record.title),
                    )
                )
                record = _renamed(record, unique)
            seen[record.id] = rel
            detections.append(record)
    broken = sum(n for code, n in why.items() if code in BROKEN)
    unread = p.unread
    if not unread and p.files and broken == len(p.files):
        first = next(i for i in issues if i.code in BROKEN)
        unread = f"{p.root}: none of its {len(p.files):,} rule files could be read (the first: {first.one_line()})"
    return SourceLoad(
        info=p.info,
        root=str(p.root),
        detections=tuple(detections),
        issues=tuple(issues),
        files=len(p.files),
        parsed=len(p.misses),
        cached=p.cached,
        empty=empty,
        seconds=p.waited + time.perf_counter() - started,
        no_records=tuple(sorted(why.items())),
        unread=unread,
    )


def load_source(source: Source, root: Path, *, cache_dir: Path | None, limits: Limits = DEFAULT) -> SourceLoad:
    """One source on this core (tests, small folders)."""
    return _finish(_prepare(source, root, cache_dir, limits))


def _renamed(record: Detection, native: str) -> Detection:
    return replace(record, native_id=native, id=f"{record.source}:{native}")


class _LazyPool:
    """Worker processes started only when a source has enough files to parse."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.executor: ProcessPoolExecutor | None = None

    def __call__(self) -> Executor | None:
        if self.jobs < 2:
            return None
        if self.executor is None:
            # This process parses too (see `_steal`): jobs - 1 workers keep jobs cores busy.

            # forkserver: workers fork from a clean process, never from one that runs a
            # progress-bar thread (forking a threaded process can deadlock).
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["pipeline.ingest.detections.corpus"])
            self.executor = ProcessPoolExecutor(max_workers=self.jobs - 1, mp_context=ctx)
        return self.executor

    def close(self, *, cancel: bool = False) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=cancel)


@dataclass
class Started:
    """Detection sources read and their uncached files queued on the workers
    (`start_sources`), to be parsed to the end by `finish_sources`. Mutable: the
    pending batches fill in as they come back."""

    pending: list[_Pending]
    pool: _LazyPool

    def close(self) -> None:
        """Stop the workers, the files they have not begun left unparsed (a caller that
        will not finish, after an error)."""
        self.pool.close(cancel=True)


def start_sources(
    sources: Iterable[tuple[Source, Path]],
    *,
    cache_dir: Path | None,
    jobs: int | None = None,
    limits: Limits = DEFAULT,
    alongside: Alongside | None = None,
) -> Started:
    """Read every (source, resolved folder) and queue the uncached files on the workers,
    which parse (and do `alongside`'s work) while this process does other work until
    `finish_sources`. The workers start once the sources read so far have enough files
    to parse, and take those at once: on a cold build they begin while this process
    still reads the other sources' files (0.2 s for the default corpora)."""
    pool = _LazyPool(default_jobs() if jobs is None else jobs)
    pending: list[_Pending] = []
    submitted = 0  # the sources whose files are queued
    broken = False
    try:
        for source, root in sources:
            pending.append(_prepare(source, root, cache_dir, limits, alongside))
            if broken or sum(len(p.misses) for p in pending) < MIN_PARALLEL_FILES:
                continue
            executor = pool()
            if executor is None:
                continue
            try:
                for p in pending[submitted:]:
                    _submit(p, executor)
                submitted = len(pending)
            except (BrokenProcessPool, RuntimeError, OSError):
                broken = True  # parsed here, by `finish_sources`
                for p in pending:
                    p.futures = []
    except BaseException:
        pool.close()
        raise
    return Started(pending, pool)


def finish_sources(started: Started, *, progress: Progress | None = None) -> list[SourceLoad]:
    """The loads of `start_sources`, in order: this process parses the batches no worker
    has begun, then assembles every source's records as its batches come back."""
    try:
        _steal(started.pending)
        out = []
        for p in started.pending:
            if progress:
                progress(f"parsing {p.source.id}")
            out.append(_finish(p))
        return out
    finally:
        started.pool.close()


def load_sources(
    sources: Iterable[tuple[Source, Path]],
    *,
    cache_dir: Path | None,
    jobs: int | None = None,
    progress: Progress | None = None,
    limits: Limits = DEFAULT,
) -> list[SourceLoad]:
    """Every (source, resolved folder), in order. All sources are read and their
    uncached files queued first, so the workers stay busy from the first source to the
    last while this process assembles records as batches come back."""
    return finish_sources(start_sources(sources, cache_dir=cache_dir, jobs=jobs, limits=limits), progress=progress)
