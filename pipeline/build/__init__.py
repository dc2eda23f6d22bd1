"""`build`: one straight sequence — lock, hash inputs, (skip if nothing changed), gather,
render into a fresh folder, write the manifest, flip the `outputs` link, prune.

Nothing is written where readers look until every renderer has succeeded, so a failed
or killed build leaves the previous outputs whole.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline.build import manifest, tree
from pipeline.build.killpoints import reached
from pipeline.build.fingerprint import HashMemo, code_fingerprint, fingerprint, hash_inputs, settings, source_digest
from pipeline.build.lock import BuildLock
from pipeline.build.units import Units

MARKER = tree.MARKER


@dataclass
class BuildResult:
    out: Path
    folder: Path
    up_to_date: bool
    artifacts: list[dict] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    warnings: int = 0
    # Files taken unchanged from the previous build (render units whose inputs did not change).
    reused: list[str] = field(default_factory=list)

    @property
    def rendered(self) -> list[str]:
        """Files this build wrote itself."""
        taken = set(self.reused)
        return [a["path"] for a in self.artifacts if a["path"] not in taken]

    def counts(self) -> dict[str, int]:
        """Artifacts per top-level folder of the output tree."""
        out: dict[str, int] = {}
        for a in self.artifacts:
            top = a["path"].split("/")[0] if "/" in a["path"] else "(top)"
            out[top] = out.get(top, 0) + 1
        return dict(sorted(out.items()))


def planned_steps(ws) -> int:
    """The progress steps of a build that renders: hashing, the graph's steps, one per
    renderer, the answers, the manifest (a build with nothing to do stops after one)."""
    from pipeline.render import RENDERERS

    return 1 + ws.graph_steps() + len(RENDERERS) + 2


def answers_meta(ws, fp: str, code: str) -> dict:
    """What must agree before a command answers from a build instead of the sources."""
    return {
        "fingerprint": fp,
        "code": code,
        "attack_version": ws.attack_version,
        "domains": list(ws.domains),
        "sources_file": str(Path(ws.config.file).resolve()),
        "mirror": str(ws.mirror.resolve()) if ws.mirror else "",
        "warnings": len(ws.issues),
    }


def write_answers(ws, g, fp: str, code: str) -> None:
    """The build's graph as answers for `show` and `stats` (pipeline.answers); only
    speed is lost when the cache cannot take them."""
    import sqlite3

    from pipeline import answers
    from pipeline.fetch.cache import cache_dir
    from pipeline.graph import query

    meta = answers_meta(ws, fp, code) | {"stats": query.stats(g)}
    try:
        answers.write(g, answers.file_for(cache_dir(None, ws.config.file), fp), meta)
    except (OSError, sqlite3.Error):
        pass


def answers_of_build(ws, out: Path):
    """The answers of the build in `out` when it was made from what this workspace would
    read (release, domains, sources file, mirror, code), else None. The inputs' contents
    are not re-hashed: that would cost as much as the corpora are large."""
    from pipeline.build.fingerprint import code_fingerprint
    from pipeline.fetch.cache import cache_dir
    from pipeline import answers

    live = tree.current(Path(os.path.abspath(out)))
    doc = manifest.read(live)
    if not doc or not isinstance(doc.get("fingerprint"), str):
        return None
    found = answers.Answers.open(answers.file_for(cache_dir(None, ws.config.file), doc["fingerprint"]))
    if found is None:
        return None
    want = answers_meta(ws, doc["fingerprint"], code_fingerprint())
    if any(found.meta.get(k) != want[k] for k in want if k != "warnings"):
        found.close()
        return None
    return found


def build(
    ws,
    out: Path,
    progress: Callable[[str], None] = lambda _m: None,
    *,
    force: bool = False,
    options: dict | None = None,
    profiles: tuple = (),
) -> BuildResult:
    """`profiles`: parsed organisation profiles (`pipeline.model_profile.Profile`); their
    digests join the fingerprint, their results go to `profiles/<id>/`."""
    from pipeline.fetch.cache import cache_dir
    from pipeline.render import RENDERERS, RenderContext

    out = Path(os.path.abspath(out))
    tree.check_replaceable(out)
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now

    reached("start")
    with BuildLock(out.parent / f".{out.name}.lock"):
        reached("lock")
        progress("hashing inputs")
        memo = HashMemo(cache_dir(None, ws.config.file) / "parsed" / "input-hashes.json")
        inputs = hash_inputs(ws, memo)
        memo.save()
        code = code_fingerprint()
        options = dict(sorted((options or {}).items()))
        # Profiles decide their own files only: in the fingerprint, not in the render
        # units' settings (a profile edit re-renders no framework or technique card).
        fp_options = options | ({"profiles": sorted(f"{p.slug}:{p.digest}" for p in profiles)} if profiles else {})
        fp = fingerprint(ws, inputs, code, fp_options)
        stage("inputs")
        reached("inputs")
        live = tree.current(out)
        previous = manifest.read(live)
        if not force and previous and previous.get("fingerprint") == fp and manifest.intact(live, previous):
            tree.prune(out)  # what a killed build left (its folder, a third build) goes now, not at the next change
            return BuildResult(out, live, True, previous.get("artifacts", []), stages, int(previous.get("warnings", 0)))

        g = ws.graph(progress)
        stage("graph")
        reached("graph")
        from pipeline.convert.gather import gather

        gather(ws, g, progress)  # Sigma rules → the chosen query languages, before any renderer
        stage("queries")
        reached("queries")
        tmp = tree.new_build_dir(out)
        units = Units(
            out=tmp,
            settings=settings(ws, code, options),
            inputs={i.source_id: i.as_dict() for i in inputs},
            previous=None if force else live,
            previous_doc=None if force else previous,
            digest=lambda sid: source_digest(ws, memo, sid),
            config=ws.config,
        )
        gathered = _profile_results(ws, g, profiles)
        stage("profiles")
        ctx = RenderContext(
            graph=g, workspace=ws, site_url=ws.config.site_url, options=options, units=units,
            progress=getattr(progress, "within", None), profiles=gathered,
        )
        try:
            for name, render in RENDERERS.items():
                progress(f"rendering {name}")
                reached(f"render:{name}")
                units.check_written(render(ctx, tmp))
                stage(name)
            memo.save()  # hashes of sources outside the inputs, taken by render units
            progress("indexing the answers")
            write_answers(ws, g, fp, code)
            stage("answers")
            progress("writing the manifest")
            reached("manifest")
            doc = manifest.write(tmp, ws=ws, inputs=inputs, fingerprint=fp, code=code, warnings=len(ws.issues), units=units)
            stage("manifest")
            reached("manifest:written")
            folder = tree.publish(tmp, out, fp[:16])
            stage("publish")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return BuildResult(out, folder, False, doc["artifacts"], stages, len(ws.issues), sorted(units.reused))


def _profile_results(ws, g, profiles: tuple) -> tuple:
    if not profiles:
        return ()
    from pipeline.errors import ConfigError
    from pipeline.profile import results
    from pipeline.profile.threat import load_threat

    slugs = [p.slug for p in profiles]
    twice = sorted({s for s in slugs if slugs.count(s) > 1})
    if twice:
        raise ConfigError(f"two profiles have the id {twice[0]!r}; give one of them another [profile].id")
    threat = load_threat(ws)
    return tuple(results(g, p, threat) for p in profiles)
