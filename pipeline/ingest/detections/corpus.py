"""Read every detection source: walk its folder, parse on every core, reuse the cache.

The corpora hold about 8,000 rule files; parsing them (YAML through libyaml, TOML) costs
~7 s on one core, so files whose bytes the cache already knows are not parsed again
and the rest are spread over worker processes. Results are assembled in path order, so
the records, their ids and the warnings are the same whatever ran where.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from pipeline.config import Source
from pipeline.errors import InputError, Issue
from pipeline.ingest.detections import adapter
from pipeline.ingest.detections.cache import ParsedCache, entry, file_key, from_entry, parser_digest
from pipeline.ingest.detections.common import FileContext, SourceInfo, one_line, path_id
from pipeline.model_detections import Detection

JOBS_ENV = "ATTACK_PIPELINE_JOBS"
_HERE = Path(__file__).resolve().parent
# Code every adapter's output depends on, besides the adapter itself.
_SHARED_CODE = [str(_HERE / n) for n in ("__init__.py", "common.py", "cache.py", "corpus.py")] + [
    str(_HERE.parent.parent / "model_detections.py")
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


def source_name(source: Source) -> str:
    """`detections/sigma` → `sigma`: the prefix of detection ids and node keys."""
    return source.id.rstrip("/").rsplit("/", 1)[-1]


def source_info(source: Source) -> SourceInfo:
    return SourceInfo(name=source_name(source), source_id=source.id, format=source.format, license=source.license)


def default_jobs() -> int:
    env = os.environ.get(JOBS_ENV, "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8))


def list_files(root: Path, wanted: Callable[[str], bool]) -> list[str]:
    """Relative POSIX paths of the files an adapter reads, sorted; symlinked folders are not followed."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
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


def parse_batch(fmt: str, info: SourceInfo, items: Sequence[tuple[str, str, bytes]]) -> list[dict[str, Any]]:
    """Worker entry point: cache-form entries, which cross the process boundary cheaply."""
    return [entry(*parse_one(fmt, info, rel, file, data)) for rel, file, data in items]


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def load_source(
    source: Source,
    root: Path,
    *,
    cache_dir: Path | None,
    pool: Callable[[], Executor | None] = lambda: None,
) -> SourceLoad:
    started = time.perf_counter()
    module = adapter(source.format)
    info = source_info(source)
    files = list_files(root, module.wanted)
    cache = ParsedCache(cache_dir, info.name, parser_digest([module.__file__, *_SHARED_CODE]))

    results: dict[str, tuple[list[Detection], list[Issue]]] = {}
    misses: list[tuple[str, str, bytes]] = []
    keys: dict[str, str] = {}
    issues: list[Issue] = []
    cached = 0
    for rel in files:
        display = str(root / rel)
        data = _read(root / rel)
        if data is None:
            issues.append(Issue(code="detection-file-unreadable", problem="cannot read file; skipped", file=display))
            continue
        key = keys[rel] = file_key(rel, data)
        hit = cache.get(key)
        if hit is not None:
            try:
                results[rel] = from_entry(hit, display)
                cached += 1
                continue
            except ValueError:
                pass
        misses.append((rel, display, data))

    executor = pool() if len(misses) >= MIN_PARALLEL_FILES else None
    if executor is not None:
        try:
            parsed = _parse_parallel(executor, source.format, info, misses)
        except (BrokenProcessPool, RuntimeError, OSError):
            # Workers could not start (no `if __name__ == "__main__"` guard in an embedding
            # script, a process limit): the same work, on this core.
            parsed = None
    else:
        parsed = None
    for n, (rel, display, data) in enumerate(misses):
        if parsed is not None:
            value = parsed[n]
            results[rel] = from_entry(value, display)
        else:
            records, found = parse_one(source.format, info, rel, display, data)
            value = entry(records, found)
            results[rel] = (records, found)
        cache.put(keys[rel], value)
    cache.save()

    detections: list[Detection] = []
    seen: dict[str, str] = {}
    empty = 0
    for rel in files:
        if rel not in results:
            continue
        records, found = results[rel]
        issues.extend(found)
        if not records:
            empty += 1
        for record in records:
            if record.id in seen:
                unique = f"{record.native_id}~{path_id(rel)[:8]}"
                issues.append(
                    Issue(
                        code="detection-duplicate-id",
                        problem=f"id {record.native_id} is also used by {seen[record.id]}; this one is {info.name}:{unique}",
                        file=str(root / rel),
                        record=one_line(record.title),
                    )
                )
                record = _renamed(record, unique)
            seen[record.id] = rel
            detections.append(record)
    return SourceLoad(
        info=info,
        root=str(root),
        detections=tuple(detections),
        issues=tuple(issues),
        files=len(files),
        parsed=len(misses),
        cached=cached,
        empty=empty,
        seconds=time.perf_counter() - started,
    )


def _parse_parallel(executor: Executor, fmt: str, info: SourceInfo, misses: list) -> list[dict[str, Any]]:
    batches = [misses[i : i + BATCH_FILES] for i in range(0, len(misses), BATCH_FILES)]
    futures = [executor.submit(parse_batch, fmt, info, batch) for batch in batches]
    out: list[dict[str, Any]] = []
    for future in futures:
        out.extend(future.result())
    return out


def _renamed(record: Detection, native: str) -> Detection:
    from dataclasses import replace

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
            import multiprocessing

            # forkserver: workers fork from a clean process, never from one that runs a
            # progress-bar thread (forking a threaded process can deadlock).
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["pipeline.ingest.detections.corpus"])
            self.executor = ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx)
        return self.executor

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown()


def load_sources(
    sources: Iterable[tuple[Source, Path]],
    *,
    cache_dir: Path | None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> list[SourceLoad]:
    """Every (source, resolved folder) in order; one worker pool serves them all."""
    pool = _LazyPool(default_jobs() if jobs is None else jobs)
    out = []
    try:
        for source, root in sources:
            if progress:
                progress(f"reading {source.id}")
            out.append(load_source(source, root, cache_dir=cache_dir, pool=pool))
    finally:
        pool.close()
    return out
