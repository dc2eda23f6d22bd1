"""`layers/<domain>/…`: ATT&CK Navigator layers, checked before they are written."""

from __future__ import annotations

from pathlib import Path

import orjson

from pipeline.errors import PipelineError
from pipeline.render.navigator.layer import TechniqueIndex
from pipeline.render.navigator.sets import all_layers
from pipeline.render.navigator.validate import semantic_problems


def render(ctx, out: Path) -> list[Path]:
    g = ctx.graph
    index = TechniqueIndex.of(g)
    written = []
    made: set[Path] = set()
    for domain, rel, layer in all_layers(g, ctx.site_url, index):
        data = layer.to_dict(g, index)
        found = semantic_problems(data, g, index)
        if found:
            raise PipelineError(found[0], file=f"layers/{domain}/{rel}", record=layer.name)
        path = out / "layers" / domain / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        written.append(path)
    return written
