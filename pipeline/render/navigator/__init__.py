"""`layers/<domain>/…`: ATT&CK Navigator layers, checked before they are written."""

from __future__ import annotations

from pathlib import Path

import orjson

from pipeline.errors import PipelineError
from pipeline.render.navigator.sets import layer_set
from pipeline.render.navigator.validate import semantic_problems


def render(ctx, out: Path) -> list[Path]:
    g = ctx.graph
    written = []
    for domain, version in sorted(g.graph.get("releases", {}).items()):
        for rel, layer in layer_set(g, domain, version, ctx.site_url):
            data = layer.to_dict(g)
            found = semantic_problems(data, g)
            if found:
                raise PipelineError(found[0], file=f"layers/{domain}/{rel}", record=layer.name)
            path = out / "layers" / domain / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
            written.append(path)
    return written
