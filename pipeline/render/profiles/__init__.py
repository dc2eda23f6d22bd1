"""`profiles/<id>/`: the results of each organisation profile of the build, and its page.

Renders only what the build gathered (`RenderContext.profiles`: the result documents of
`pipeline.profile.results`), per profile:

    profiles/<id>/results.json          everything (coverage, visibility, priorities with
                                        their breakdown, adversary gaps, blind rules, findings)
    profiles/<id>/priorities.csv        every ranked technique with its breakdown
    profiles/<id>/layers/priorities.json   Navigator 4.5: score = priority score × 100
    profiles/<id>/layers/coverage.json     coloured covered / partial / uncovered
    profiles/<id>/layers/visibility.json   coloured full / partial / none
    profiles/<id>/layers/adversaries/<id>.json   an adversary's techniques, coloured by coverage
    profiles/index.json                 one line per profile
    docs/profiles/<id>.md               the profile's page on the docs site

Layers are checked like every other layer before they are written.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from pipeline.core.errors import PipelineError
from pipeline.render.navigator.layer import TechniqueIndex
from pipeline.render.navigator.validate import semantic_problems
from pipeline.render.profiles.layers import layers_of
from pipeline.render.profiles.page import page_of
from pipeline.render.profiles.table import priorities_csv
from pipeline.core.writing import write_json


def render(ctx, out: Path) -> list[Path]:
    found = getattr(ctx, "profiles", ()) or ()
    if not found:
        return []
    g = ctx.graph
    index = TechniqueIndex.of(g)
    written: list[Path] = []
    listing = []
    for res in sorted(found, key=lambda r: r["profile"]["id"]):
        slug = res["profile"]["id"]
        base = out / "profiles" / slug
        written.append(write_json(base / "results.json", res))
        csv = base / "priorities.csv"
        csv.write_bytes(priorities_csv(res))
        written.append(csv)
        layer_files = []
        for rel, layer in layers_of(res, ctx.site_url):
            data = layer.to_dict(g, index)
            problems = semantic_problems(data, g, index)
            if problems:
                raise PipelineError(problems[0], file=f"profiles/{slug}/layers/{rel}", record=layer.name)
            path = base / "layers" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
            written.append(path)
            layer_files.append(rel)
        page = out / "docs" / "profiles" / f"{slug}.md"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(page_of(res, layer_files), encoding="utf-8")
        written.append(page)
        listing.append({"id": slug, "name": res["profile"]["name"], "digest": res["profile"]["digest"], "summary": res["summary"]})
    written.append(write_json(out / "profiles" / "index.json", {"profiles": listing}))
    return written
