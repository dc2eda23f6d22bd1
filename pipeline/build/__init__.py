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


def build(
    ws,
    out: Path,
    progress: Callable[[str], None] = lambda _m: None,
    *,
    force: bool = False,
    options: dict | None = None,
) -> BuildResult:
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

    with BuildLock(out.parent / f".{out.name}.lock"):
        progress("hashing inputs")
        memo = HashMemo(cache_dir(None, ws.config.file) / "parsed" / "input-hashes.json")
        inputs = hash_inputs(ws, memo)
        memo.save()
        code = code_fingerprint()
        options = dict(sorted((options or {}).items()))
        fp = fingerprint(ws, inputs, code, options)
        stage("inputs")
        live = tree.current(out)
        previous = manifest.read(live)
        if not force and previous and previous.get("fingerprint") == fp and manifest.intact(live, previous):
            tree.prune(out)  # what a killed build left (its folder, a third build) goes now, not at the next change
            return BuildResult(out, live, True, previous.get("artifacts", []), stages, int(previous.get("warnings", 0)))

        g = ws.graph(progress)
        stage("graph")
        from pipeline.convert.gather import gather

        gather(ws, g, progress)  # Sigma rules → the chosen query languages, before any renderer
        stage("queries")
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
        ctx = RenderContext(graph=g, workspace=ws, site_url=ws.config.site_url, options=options, units=units)
        try:
            for name, render in RENDERERS.items():
                progress(f"rendering {name}")
                units.check_written(render(ctx, tmp))
                stage(name)
            memo.save()  # hashes of sources outside the inputs, taken by render units
            progress("writing the manifest")
            doc = manifest.write(tmp, ws=ws, inputs=inputs, fingerprint=fp, code=code, warnings=len(ws.issues), units=units)
            stage("manifest")
            folder = tree.publish(tmp, out, fp[:16])
            stage("publish")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return BuildResult(out, folder, False, doc["artifacts"], stages, len(ws.issues), sorted(units.reused))
