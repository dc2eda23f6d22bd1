"""`build`: one straight sequence — lock, hash inputs, (skip if nothing changed), gather,
render into a fresh folder, write the manifest, flip the `outputs` link, prune.

Nothing is written where readers look until every renderer has succeeded, so a failed
or killed build leaves the previous outputs whole. Neither does a degraded build: an
enabled source that cannot be read stops the build before anything is rendered, unless
the caller asks to go on without it (`keep_going`), and then the manifest and the
summary report name what is missing. A file in a build folder that the build did not
write stops the build before any work too, since publishing prunes build folders.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence
import pickle
import resource
import sqlite3

from pipeline.build import integrity, manifest, paths, tree
from pipeline.build.collector import quiet_collector
from pipeline.build.killpoints import reached
from pipeline.build.fingerprint import HashMemo, code_fingerprint, fingerprint, hash_inputs, settings, source_digest
from pipeline.build.lock import BuildLock
from pipeline.build.manifest import Artifact
from pipeline.build.units import Units
from pipeline.core import forked
from pipeline.core.errors import PipelineError
from pipeline.build import answers
from pipeline.build.fingerprint import build_inputs
from pipeline.core.errors import ConfigError
from pipeline.fetch.cache import cache_dir
from pipeline.profile import results

MARKER = tree.MARKER


@dataclass
class BuildResult:
    out: Path
    folder: Path
    up_to_date: bool
    artifacts: Sequence[Artifact] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    warnings: int = 0
    # Files taken unchanged from the previous build (render units whose inputs did not change).
    reused: list[str] = field(default_factory=list)
    # Files of the live build that no longer matched its manifest (so it was rebuilt).
    damaged: list[str] = field(default_factory=list)
    # Enabled sources that could not be read: {"source", "problem"} (only with keep_going).
    missing: list[dict] = field(default_factory=list)
    # Seconds of each renderer in the process that ran it (side by side with others
    # when `processes` > 1: then `stages` has one `render` stage for them).
    renderers: dict[str, float] = field(default_factory=dict)
    processes: int = 1
    # CPU seconds of each stage: (this process, the workers it waited for in the stage).
    # On a busy machine the wall seconds of `stages` grow with the load, these much less;
    # with a core each, a stage's wall time is about the larger of the two.
    cpu: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def rendered(self) -> list[str]:
        """Files this build wrote itself."""
        taken = set(self.reused)
        return [a.path for a in self.artifacts if a.path not in taken]

    def counts(self) -> dict[str, int]:
        """Artifacts per top-level folder of the output tree."""
        out: dict[str, int] = {}
        for a in self.artifacts:
            top = a.path.split("/")[0] if "/" in a.path else "(top)"
            out[top] = out.get(top, 0) + 1
        return dict(sorted(out.items()))


def planned_steps(ws) -> int:
    """The progress steps of a build that renders: hashing, the graph's steps, one per
    renderer, the answers, the manifest (a build with nothing to do stops after one)."""
    # lazy: pipeline.render would add 0.21 s (networkx) to `show`, `stats` and `layer` answering from a build, and to a no-op `build`
    from pipeline.render.registry import RENDERERS

    return 1 + ws.graph_steps() + len(RENDERERS) + 2


def answers_meta(ws, fp: str, code: str) -> dict:
    """What must agree before a command answers from a build instead of the sources.
    The build's warning count is the manifest's (`answers_of_build` puts it in the
    meta): the answers are written before the last issue is found."""
    return {
        "fingerprint": fp,
        "code": code,
        "attack_version": ws.attack_version,
        "domains": list(ws.domains),
        "sources_file": str(Path(ws.config.file).resolve()),
        "mirror": str(ws.mirror.resolve()) if ws.mirror else "",
    }


def write_answers(ws, g, fp: str, code: str) -> None:
    """The build's graph as answers for `show` and `stats` (pipeline.build.answers), and
    pickled whole for `layer`; only speed is lost when the cache cannot take them."""
    # lazy: pipeline.graph.query would add 0.20 s (networkx) to `show`, `stats` and `layer` answering from a build, and to a no-op `build`
    from pipeline.graph import query

    meta = answers_meta(ws, fp, code)
    path = answers.file_for(cache_dir(None, ws.config.file), fp)
    graph_file = answers.graph_file_for(path)
    if graph_file.exists() and _same_answers(path, meta):
        # A forced rebuild of the same inputs and code, so of the same graph: kept, and
        # marked as recent for the pruning of answer files (by modification time).
        try:
            os.utime(path)
            os.utime(graph_file)
        except OSError:
            pass
        return
    try:
        answers.write_graph(g, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass
    try:
        answers.write(g, path, meta | {"stats": query.stats(g)})
    except (OSError, sqlite3.Error):
        pass


def _same_answers(path: Path, meta: dict) -> bool:
    """True when `path` holds the answers of a build with this fingerprint (inputs,
    settings and code, so the same graph) and the same meta: writing them again would
    write the same rows (2 s on the default build)."""
    found = answers.Answers.open(path)
    if found is None:
        return False
    try:
        return all(found.meta.get(k) == v for k, v in meta.items()) and "stats" in found.meta
    finally:
        found.close()


def answers_of_build(ws, out: Path, *, domain: str | None = None):
    """The answers of the build in `out` when it was made from what this workspace would
    read (release, domains, sources file, mirror, code), else None. With `domain`, a
    build of any domains that include it will do (a layer covers one domain). The
    inputs' contents are not re-hashed: that would cost as much as the corpora are large."""
    live = tree.current(Path(os.path.abspath(out)))
    doc = manifest.read(live)
    if not doc or not isinstance(doc.get("fingerprint"), str):
        return None
    found = answers.Answers.open(answers.file_for(cache_dir(None, ws.config.file), doc["fingerprint"]))
    if found is None:
        return None
    want = answers_meta(ws, doc["fingerprint"], code_fingerprint())
    skip = {"domains"} if domain else set()
    if any(found.meta.get(k) != want[k] for k in want if k not in skip) or (domain and domain not in found.meta.get("domains", [])):
        found.close()
        return None
    found.meta["warnings"] = int(doc.get("warnings", 0))
    return found


def graph_of_build(ws, out: Path, domain: str):
    """(graph, answers) of the build in `out` when it matches this workspace (see
    answers_of_build) and its graph is still in the cache, else None. The caller closes
    the answers, whose meta holds the build's warning count."""
    store = answers_of_build(ws, out, domain=domain)
    if store is None:
        return None
    g = answers.read_graph(answers.file_for(cache_dir(None, ws.config.file), store.meta["fingerprint"]))
    if g is None:
        store.close()
        return None
    return g, store


class _Stages:
    """Wall and CPU seconds of each stage of one build, in the order the stages end."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, tuple[float, float]] = {}
        self._clock = time.perf_counter()
        self._used = _cpu()

    def __call__(self, name: str) -> None:
        now, spent = time.perf_counter(), _cpu()
        self.wall[name] = round(now - self._clock, 3)
        self.cpu[name] = (round(spent[0] - self._used[0], 3), round(spent[1] - self._used[1], 3))
        self._clock, self._used = now, spent


@dataclass(frozen=True)
class _Hashed:
    """The build's inputs as hashed, and the fingerprint they decide with the code and
    the options."""

    memo: HashMemo
    inputs: tuple
    code: str
    options: dict
    fingerprint: str


def build(
    ws,
    out: Path,
    progress: Callable[[str], None] = lambda _m: None,
    *,
    force: bool = False,
    keep_going: bool = False,
    options: dict | None = None,
    profiles: tuple = (),
) -> BuildResult:
    """`profiles`: parsed organisation profiles (`pipeline.model.profile.Profile`); their
    digests join the fingerprint, their results go to `profiles/<id>/`."""
    out = Path(os.path.abspath(out))
    tree.check_replaceable(out)
    paths.check_output(out, _source_folders(ws))
    stage = _Stages()
    reached("start")
    with BuildLock(out.parent / f".{out.name}.lock"), quiet_collector() as settle:
        reached("lock")
        check_foreign(out)
        progress("hashing inputs")
        hashed = _hash(ws, options, profiles)
        stage("inputs")
        reached("inputs")
        live = tree.current(out)
        previous = manifest.read(live)
        unchanged, damaged = (None, []) if force else _unchanged(out, live, previous, hashed.fingerprint, keep_going, stage)
        if unchanged is not None:
            return unchanged
        with ws.parsing_ahead():  # the rule files parse while the renderers' modules are imported
            # Imported once the build is known to render (a tenth of a second a no-op saves).
            # lazy: pipeline.gather would add 0.50 s (networkx, multiprocessing) to `show`, `stats` and `layer` answering from a build, and to a no-op `build`
            from pipeline.gather import gather as gather_context

            g, missing = _graph(ws, keep_going, progress, settle, stage)
        tmp = tree.new_build_dir(out)
        units = _units(ws, tmp, hashed, *((None, None) if force else (live, previous)))
        gathered = _profile_results(ws, g, profiles)
        stage("profile results")
        with _discarded_on_failure(tmp, out):
            # The answers read the graph only: a forked child writes them meanwhile,
            # on a core that gathering and rendering leave idle at times (a child
            # that has not finished by the end of the renderers is waited for).
            with forked.alongside(lambda: write_answers(ws, g, hashed.fingerprint, hashed.code), forked.jobs()):
                # Everything the renderers read, before the first one runs: no renderer reads a
                # source, and the issues the reports list are all the issues the build counts.
                ctx = gather_context(ws, g, options=hashed.options, units=units, within=getattr(progress, "within", None), profiles=gathered)
                stage("gather")
                processes, renderers = _render(ctx, tmp, units, progress, settle, stage)
                progress("indexing the answers")
            stage("answers")
            folder, doc = _finish(out, tmp, ws, hashed, units, len(ctx.issues), missing, progress, stage)
    return BuildResult(
        out, folder, False, [Artifact.from_dict(a) for a in doc["artifacts"]], stage.wall, len(ctx.issues), sorted(units.reused), damaged=damaged, missing=missing,
        renderers=renderers, processes=processes, cpu=stage.cpu,
    )


@contextmanager
def _discarded_on_failure(tmp: Path, out: Path) -> Iterator[None]:
    """The unfinished build folder `tmp` is removed when the body fails (the previous
    outputs stay as they were); a file system error becomes one line naming where."""
    try:
        yield
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        at = f" ({exc.filename})" if exc.filename and not str(exc.filename).startswith(str(tmp)) else ""
        raise PipelineError(
            f"writing the new build into {tmp.parent} failed{at}: {exc.strerror or exc}; the previous outputs are kept",
            file=str(out),
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _graph(ws, keep_going: bool, progress, settle, stage: _Stages) -> tuple:
    """The graph of the inputs with the Sigma rules converted on it; (graph, the enabled
    sources that could not be read, which stop the build unless `keep_going`)."""
    g = ws.graph(progress, converting=True)
    # lazy: pipeline.convert.gather would add 45 ms (multiprocessing) to `show`, `stats` and `layer` answering from a build, and to a no-op `build`
    from pipeline.convert.gather import converted_alongside, gather

    # Loading leaves almost no cycles (28 objects on the default build; the loaders
    # pause the collector themselves): a collection here would walk the whole graph
    # (0.2 s). Unless rules were converted beside the parse, here too: pySigma's rules
    # are cycles, 250,000 objects of garbage (90 MB) on a cold default build.
    settle(collect=converted_alongside(ws))
    stage("graph")
    missing = [{"source": sid, "problem": problem} for sid, problem in sorted(ws.unread.items())]
    if missing and not keep_going:
        raise PipelineError(_missing_line(missing, "nothing was built and the previous outputs are kept (--keep-going builds without it)"))
    reached("graph")
    gather(ws, g, progress)  # Sigma rules → the chosen query languages, before any renderer
    settle()
    stage("convert")
    reached("queries")
    return g, missing


def _hash(ws, options: dict | None, profiles: tuple) -> _Hashed:
    """Hash the inputs (the memo of unchanged files' hashes saved at once) and take the
    build's fingerprint."""
    memo = HashMemo(cache_dir(None, ws.config.file) / "parsed" / "input-hashes.json")
    inputs = hash_inputs(ws, memo)
    memo.save()
    code = code_fingerprint()
    options = dict(sorted((options or {}).items()))
    # Profiles decide their own files only: in the fingerprint, not in the render
    # units' settings (a profile edit re-renders no framework or technique card).
    fp_options = options | ({"profiles": sorted(f"{p.slug}:{p.digest}" for p in profiles)} if profiles else {})
    return _Hashed(memo, tuple(inputs), code, options, fingerprint(ws, inputs, code, fp_options))


def _unchanged(out: Path, live: Path | None, previous: dict | None, fp: str, keep_going: bool, stage: _Stages) -> tuple[BuildResult | None, list[str]]:
    """(the result of the live build, []) when it was made from the same fingerprint and
    its files are whole; else (None, the files found damaged, which the build replaces)."""
    if not previous or previous.get("fingerprint") != fp:
        return None, []
    damaged = [d.path for d in integrity.damaged(live, previous)]
    if damaged:
        return None, damaged
    missing = list(previous.get("missing_sources") or [])
    if missing and not keep_going:
        raise PipelineError(_missing_line(
            missing, "the live build was made without it (--keep-going): fix the source, or build with --keep-going to keep it"
        ))
    tree.prune(out)  # what a killed build left (its folder, a third build) goes now, not at the next change
    listed = manifest.Listed(previous.get("artifacts", []))
    return BuildResult(out, live, True, listed, stage.wall, int(previous.get("warnings", 0)), missing=missing, cpu=stage.cpu), []


def _units(ws, tmp: Path, hashed: _Hashed, live: Path | None, previous: dict | None) -> Units:
    """The render units of a build into `tmp`, taking what they can from the `live`
    build and its manifest (`previous`); None for both: everything is rendered."""
    return Units(
        out=tmp,
        settings=settings(ws, hashed.code, hashed.options),
        inputs={i.source_id: i for i in hashed.inputs},
        previous=live,
        previous_doc=previous,
        previous_signatures=integrity.read_signatures(live),
        digest=_outside_digests(ws, hashed.memo, hashed.inputs).__getitem__,
        config=ws.config,
    )


def _finish(out: Path, tmp: Path, ws, hashed: _Hashed, units: Units, warnings: int, missing: list, progress, stage: _Stages) -> tuple[Path, dict]:
    """After the renderers and the answers: the manifest, then the link flip; (the
    published folder, the manifest)."""
    hashed.memo.save()  # hashes of sources outside the inputs, taken for render units
    progress("writing the manifest")
    reached("manifest")
    signatures: dict[str, list[int]] = {}
    doc = manifest.write(
        tmp, ws=ws, inputs=list(hashed.inputs), fingerprint=hashed.fingerprint, code=hashed.code, warnings=warnings, units=units,
        missing=missing, signatures=signatures,
    )
    stage("manifest")
    reached("manifest:written")
    folder = tree.publish(tmp, out, hashed.fingerprint[:16])
    integrity.record_signatures(folder, signatures)
    stage("publish")
    return folder, doc


def _cpu() -> tuple[float, float]:
    """CPU seconds (user and system) of this process, and of the child processes it has
    waited for (the render workers, once a stage has reaped them)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def _render(ctx, tmp: Path, units: Units, progress, settle, stage) -> tuple[int, dict[str, float]]:
    """Run every renderer into `tmp`; (processes used, each renderer's seconds in the
    process that ran it).

    With one process (`ATTACK_PIPELINE_JOBS=1`) the renderers run here in registry
    order, a stage each. Otherwise those that read only the context run side by side in
    this process and forked workers (`pipeline.core.forked`: the context is shared, not
    copied), one stage `render`; then those that read the others' files
    (`AFTER_OTHERS`: the docs pages, which spread their pages over the processes
    themselves). The part of those that reads no other renderer's files (`EARLY_WORK`:
    the pages that link no artifact, most of them) is planned here before the workers
    fork and its pieces join the `render` stage, claimed after the renderers, so that
    no process waits for the longest renderer with nothing to do; a renderer's seconds
    then add its planning, its pieces wherever they ran and its finish. The outputs are the same bytes either way: a renderer's files depend
    on the context only, and what each worker recorded in `units` (units rendered or
    taken, files written and their digests) is merged here, keyed by name and path.
    Each renderer hashes the files it wrote as soon as it is done, in its own process,
    so that the manifest need not read them again."""
    # lazy: pipeline.render.registry imports every renderer (networkx, jinja2): a no-op build and `show` never render
    from pipeline.render.registry import AFTER_OTHERS, COSTLIEST, EARLY_WORK, RENDERERS

    processes = forked.jobs()
    seconds: dict[str, float] = {}

    def run(name: str, render: Callable[[], list[Path]]) -> float:
        start = time.perf_counter()
        paths = render()
        units.check_written(paths)
        units.hashed(paths)
        return round(time.perf_counter() - start, 3)

    early: dict[str, tuple] = {}  # renderer -> (its early work, its results, seconds so far)
    if processes > 1:
        side = [n for n in RENDERERS if n not in AFTER_OTHERS]
        side.sort(key=lambda n: COSTLIEST.index(n) if n in COSTLIEST else len(COSTLIEST))
        for name in RENDERERS:
            if name not in AFTER_OTHERS:
                reached(f"render:{name}")
        quiet = dataclasses.replace(ctx, progress=None)  # a worker must not draw the parent's bar
        parent = os.getpid()
        told: list[str] = []

        def piece(name: str) -> Callable[[], float]:
            def go() -> float:
                if os.getpid() == parent:
                    progress(f"rendering {name}")
                    told.append(name)
                return run(name, lambda: RENDERERS[name](quiet, tmp))

            return go

        # The early work of the renderers that come last: planned here, its pieces
        # claimed after the other renderers', so that a process done with those fills
        # its time with them instead of waiting for the longest renderer.
        extra: list[tuple[str, Callable[[], object]]] = []
        for name in RENDERERS:
            if name in AFTER_OTHERS and name in EARLY_WORK:
                start = time.perf_counter()
                work = EARLY_WORK[name](ctx, tmp)
                early[name] = (work, time.perf_counter() - start)
                extra += [(name, _timed(p)) for p in work.pieces]
        mark = units.mark()
        took, changes = forked.run([piece(n) for n in side] + [p for _, p in extra], processes, collect=lambda: units.changes(mark))
        for change in changes:
            units.merge(change)
        seconds.update(zip(side, took))
        results: dict[str, list] = {name: [] for name in early}
        for (name, _p), (spent, value) in zip(extra, took[len(side) :]):
            results[name].append(value)
            early[name] = (early[name][0], early[name][1] + spent)
        early = {name: (work, results[name], spent) for name, (work, spent) in early.items()}
        for name in side:
            if name not in told:
                progress(f"rendering {name}")  # rendered by a worker: the bar moves past it
        settle()
        stage("render")
    for name in RENDERERS:
        if processes > 1 and name not in AFTER_OTHERS:
            continue
        progress(f"rendering {name}")
        reached(f"render:{name}")
        if name in early:
            work, done, spent = early[name]
            seconds[name] = round(spent + run(name, lambda: work.finish(done)), 3)
        else:
            seconds[name] = run(name, lambda: RENDERERS[name](ctx, tmp))
        settle()
        stage(name)
    return processes, {name: seconds[name] for name in RENDERERS}


def _timed(piece: Callable[[], object]) -> Callable[[], tuple[float, object]]:
    """`piece` returning (its seconds, its result)."""

    def go() -> tuple[float, object]:
        start = time.perf_counter()
        value = piece()
        return time.perf_counter() - start, value

    return go


def _outside_digests(ws, memo: HashMemo, inputs) -> dict[str, str | None]:
    """sha256 of every mapping table and catalogue that is not among the inputs (disabled
    ones, which only their reconciliation reports read), taken before rendering so that
    render units read no source; a unit naming any other source is a bug (KeyError)."""
    known = {i.source_id for i in inputs}
    return {
        s.id: source_digest(ws, memo, s.id)
        for s in ws.config.sources
        if s.kind in ("mapping", "catalog") and s.id not in known
    }


def _missing_line(missing: list[dict], consequence: str) -> str:
    first = missing[0]
    more = f" (and {len(missing) - 1} more: {', '.join(m['source'] for m in missing[1:])})" if len(missing) > 1 else ""
    return f"enabled source {first['source']!r} cannot be read: {first['problem']}{more}; {consequence}"


def _source_folders(ws) -> list[Path]:
    """The folders of the sources a build reads that are at hand (the output must not be
    inside one); a source not found yet is reported later, by the hashing of inputs."""
    found = []
    for source in build_inputs(ws):
        if not getattr(source, "folder", False):
            continue
        try:
            found.append(ws.resolve(source).path)
        except PipelineError:
            continue
    return found


def foreign_files(out: Path) -> list[Path]:
    """Files in the build folders (live, previous, older) that no build wrote: a user's
    note saved into `outputs/`. Shown under `out` when they are in the live build. A
    folder whose directories have not changed since it was last found clean is not
    listed again (`integrity.known_clean`: a no-op build would list 25,000 files)."""
    live = tree.current(out)
    live = live.resolve() if live is not None else None
    found = []
    plain = [out] if out.is_dir() and not out.is_symlink() else []  # an older layout's folder, kept aside when publishing
    for folder in plain + tree.finished(out):
        if integrity.known_clean(folder):
            continue
        doc = manifest.read(folder)
        if doc is None:
            continue  # not a build of this layout (an older plain folder kept aside)
        shown = out if folder.resolve() == live else folder
        found += [shown / rel for rel in integrity.unlisted(folder, doc)]
    return found


def check_foreign(out: Path) -> None:
    """Refuse to build while a build folder holds a file the project did not write:
    publishing prunes older build folders whole, and the file would go with them."""
    found = foreign_files(out)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise PipelineError(
            f"{found[0]}{more} was not written by attack-pipeline; builds replace their folders whole, "
            "so move it out of the output folder and build again (nothing was changed)",
        )


def _profile_results(ws, g, profiles: tuple) -> tuple:
    if not profiles:
        return ()
    # lazy: pipeline.profile.threat would add 0.22 s (networkx) to `show`, `stats` and `layer` answering from a build, and to a no-op `build`
    from pipeline.profile.threat import load_threat

    slugs = [p.slug for p in profiles]
    twice = sorted({s for s in slugs if slugs.count(s) > 1})
    if twice:
        raise ConfigError(f"two profiles have the id {twice[0]!r}; give one of them another [profile].id")
    threat = load_threat(ws)
    return tuple(results(g, p, threat) for p in profiles)
