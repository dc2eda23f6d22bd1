"""Every Sigma rule of the build into every chosen language: cache first, then both cores.

The cache (`data/cache/parsed/queries-<language>.json`, JSON, never pickle) holds one
entry per rule text, under a digest of the conversion code and of the installed
pySigma and backend versions: a rule is converted again when, and only when, its text,
the backend, the pipeline or this code changed. A build whose rules are all cached
neither imports pySigma nor starts a worker.

Rules to convert are shared between worker processes (jobs - 1) and this process, which
takes batches from the end of the queue while the workers take them from the front (as
the detection parse does). Results are assembled by rule, so they are the same whatever
ran where.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence
import multiprocessing

import orjson

from pipeline.core.atomic import write_atomic
from pipeline.core.limits import DEFAULT, Limits
from pipeline.convert.targets import Target, target
from pipeline.convert.sigma import convert_all
from pipeline.core.perf import paused_gc

SIGMA_FORMAT = "sigma-yaml"
BATCH_RULES = 48
# Below this many rules to convert, a worker's start-up (pySigma's import) costs more than it saves.
MIN_PARALLEL_RULES = 150
_LAYOUT = 1
_HERE = Path(__file__).resolve().parent

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Conversion:
    """One rule in one language: `queries` (as the backend wrote them), or why not."""

    language: str
    queries: tuple[str, ...] = ()
    reason: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.queries)

    def as_dict(self) -> dict[str, Any]:
        return {"language": self.language, "queries": list(self.queries), "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class Conversions:
    """Results by detection id, then language (in `languages` order); what ran."""

    languages: tuple[str, ...]
    by_detection: dict[str, tuple[Conversion, ...]]
    converted: int  # rule conversions done now (cache misses)
    cached: int
    seconds: float = field(default=0.0, compare=False)
    converters: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, dict]:
        """Per language: rules, converted, and failures by reason (sorted)."""
        out: dict[str, dict] = {}
        for lang in self.languages:
            reasons: dict[str, int] = {}
            ok = 0
            for results in self.by_detection.values():
                for c in results:
                    if c.language != lang:
                        continue
                    if c.ok:
                        ok += 1
                    else:
                        reasons[c.reason] = reasons.get(c.reason, 0) + 1
            out[lang] = {
                "rules": ok + sum(reasons.values()),
                "converted": ok,
                "not_converted": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
                "converter": self.converters.get(lang, ""),
            }
        return out


def code_digest(t: Target) -> str:
    """This module's and the converter's code with the installed package versions."""
    h = hashlib.sha256(str(_LAYOUT).encode())
    for name in ("sigma.py", "targets.py", "run.py"):
        h.update((_HERE / name).read_bytes())
    h.update(orjson.dumps([t.name, t.backend_module, t.backend_class, t.pipeline_module, t.pipeline_function, t.versions()]))
    return h.hexdigest()[:24]


def rule_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


class QueryCache:
    """Entries of one language; `save` keeps the entries this run used."""

    def __init__(self, directory: Path | None, t: Target) -> None:
        self.path = self._file(directory, t) if directory is not None else None
        self.digest = code_digest(t)
        self.entries: dict[str, Any] = {}
        self.used: dict[str, Any] = {}
        self.dirty = False
        if self.path is not None:
            try:
                doc = orjson.loads(self.path.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                doc = None
            if isinstance(doc, dict) and doc.get("code") == self.digest and isinstance(doc.get("entries"), dict):
                self.entries = doc["entries"]

    @staticmethod
    def _file(directory: Path, t: Target) -> Path:
        return directory / f"queries-{t.name}.json"

    @classmethod
    def kept(cls, directory: Path | None, t: Target) -> bool:
        """Whether a cache of `t`'s conversions is on disk (without reading it)."""
        return directory is not None and cls._file(directory, t).is_file()

    def get(self, key: str) -> dict | None:
        found = self.entries.get(key)
        if _valid(found):
            self.used[key] = found
            return found
        return None

    def put(self, key: str, value: dict) -> None:
        self.used[key] = value
        self.dirty = True

    def save(self) -> None:
        if self.path is None or (not self.dirty and len(self.used) == len(self.entries)):
            return
        try:
            write_atomic(self.path, orjson.dumps({"code": self.digest, "entries": self.used}, option=orjson.OPT_SORT_KEYS))
        except OSError:
            pass  # a read-only or full disk costs the next run its speed only


def _valid(entry: Any) -> bool:
    """A cache entry of the shape `sigma.convert` returns (a damaged file is ignored)."""
    if not isinstance(entry, dict):
        return False
    queries = entry.get("queries")
    if queries is not None:
        return isinstance(queries, list) and bool(queries) and all(isinstance(q, str) for q in queries)
    return isinstance(entry.get("reason"), str) and isinstance(entry.get("detail"), str)


def convert_batch(language: str, texts: Sequence[str], limits: Limits = DEFAULT) -> bytes:
    """Worker entry point: one backend for the batch, results as one JSON document."""
    return orjson.dumps(convert_all(texts, target(language).backend(), limits))


def _convert_here(language: str, texts: Sequence[str], limits: Limits) -> list[dict]:
    return orjson.loads(convert_batch(language, texts, limits))


def convert_records(languages: Sequence[str], limits: Limits, records: Iterable) -> dict[str, dict[str, dict]]:
    """The Sigma rules among `records` converted into each of `languages`: language →
    rule key → entry, as `convert_rules` keeps them. Run beside the detection parse
    (`pipeline.ingest.detections.corpus.Alongside`), on each batch of parsed files."""
    texts = sorted(set(sigma_texts(records).values()))
    if not texts:
        return {}
    keys = [rule_key(text) for text in texts]
    return {lang: dict(zip(keys, convert_all(texts, target(lang).backend(), limits))) for lang in languages}


def sigma_texts(detections: Iterable) -> dict[str, str]:
    """Detection id → the rule's text, for every Sigma rule."""
    return {d.id: d.queries[0].text for d in detections if d.format == SIGMA_FORMAT and d.queries and d.queries[0].text.strip()}


def convert_rules(
    rules: dict[str, str],
    languages: Sequence[str],
    *,
    cache_dir: Path | None,
    jobs: int = 1,
    progress: Progress | None = None,
    limits: Limits = DEFAULT,
    converted: Mapping[str, Mapping[str, dict]] | None = None,
) -> Conversions:
    """`rules`: detection id → Sigma text. Every rule gets one result per language; its
    YAML is read under `limits`. `converted`: results this build already has (language
    → rule key → entry, made beside the detection parse by `convert_records`), taken
    for the rules the cache does not hold, before converting the rest."""
    with paused_gc():  # tens of thousands of small objects that live to the end of the build
        return _convert_rules(rules, languages, cache_dir, jobs, progress, limits, converted or {})


def _convert_rules(rules, languages, cache_dir, jobs, progress, limits: Limits, ready: Mapping[str, Mapping[str, dict]]) -> Conversions:
    started = time.perf_counter()
    targets = [target(name) for name in languages]
    keys = {rid: rule_key(text) for rid, text in rules.items()}
    results: dict[str, dict[str, dict]] = {lang: {} for lang in languages}  # language -> key -> entry
    caches = {t.name: QueryCache(cache_dir, t) for t in targets}
    todo: list[tuple[str, list[tuple[str, str]]]] = []  # (language, [(key, text)])
    cached = taken = 0
    for t in targets:
        cache = caches[t.name]
        made = ready.get(t.name, {})
        missing: dict[str, str] = {}
        for rid, text in rules.items():
            key = keys[rid]
            if key in results[t.name] or key in missing:
                continue
            hit = cache.get(key)
            if hit is not None:
                results[t.name][key] = hit
                cached += 1
            elif _valid(made.get(key)):
                results[t.name][key] = made[key]
                cache.put(key, made[key])
                taken += 1
            else:
                missing[key] = text
        if missing:
            todo.append((t.name, sorted(missing.items())))
    converted = taken + sum(len(items) for _, items in todo)
    if todo:
        if progress:
            progress(f"converting {converted - taken} Sigma rules")
        for lang, key, value in _run(todo, jobs, limits):
            results[lang][key] = value
            caches[lang].put(key, value)
    for cache in caches.values():
        cache.save()
    by_detection = {}
    for rid in sorted(rules):
        out = []
        for lang in languages:
            e = results[lang][keys[rid]]
            if e.get("queries"):
                out.append(Conversion(language=lang, queries=tuple(e["queries"])))
            else:
                out.append(Conversion(language=lang, reason=e["reason"], detail=e["detail"]))
        by_detection[rid] = tuple(out)
    return Conversions(
        languages=tuple(languages),
        by_detection=by_detection,
        converted=converted,
        cached=cached,
        seconds=time.perf_counter() - started,
        converters={t.name: t.converter() for t in targets},
    )


def _run(todo: list[tuple[str, list[tuple[str, str]]]], jobs: int, limits: Limits):
    """(language, key, entry) for every rule of `todo`, on `jobs` cores."""
    batches = [(lang, items[i : i + BATCH_RULES]) for lang, items in todo for i in range(0, len(items), BATCH_RULES)]
    total = sum(len(items) for _, items in todo)
    done: list[list[dict] | None] = [None] * len(batches)
    if jobs >= 2 and total >= MIN_PARALLEL_RULES:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["pipeline.convert.run"])
        try:
            with ProcessPoolExecutor(max_workers=jobs - 1, mp_context=ctx) as pool:
                futures: list[Future] = [pool.submit(convert_batch, lang, [t for _, t in items], limits) for lang, items in batches]
                # This process converts the batches no worker has started, last first.
                for n in range(len(batches) - 1, -1, -1):
                    if not futures[n].cancel():
                        break
                    lang, items = batches[n]
                    done[n] = _convert_here(lang, [t for _, t in items], limits)
                for n, future in enumerate(futures):
                    if done[n] is None:
                        done[n] = orjson.loads(future.result())
        except (BrokenProcessPool, RuntimeError, OSError):
            pass  # workers could not start or died: the rest is converted below, here
    for n, (lang, items) in enumerate(batches):
        values = done[n]
        if values is None:
            values = _convert_here(lang, [t for _, t in items], limits)
        for (key, _text), value in zip(items, values):
            yield lang, key, value
