"""`layers/<domain>/…`: ATT&CK Navigator layers, checked before they are written."""

from __future__ import annotations

from pathlib import Path

import orjson

from pipeline.core.errors import PipelineError
from pipeline.render.navigator.layer import TechniqueIndex
from pipeline.render.navigator.sets import all_layers
from pipeline.render.navigator.validate import semantic_problems


def render(ctx, out: Path) -> list[Path]:
    g = ctx.graph
    units = ctx.part("units")
    index = TechniqueIndex.of(g)
    written = []
    made: set[Path] = set()
    fresh: dict[str, list[Path]] = {}  # units rendered now -> their files

    def skip(domain: str, part: str, dep: tuple[str, str]) -> bool:
        """A table's or a detection source's layers are a unit of their own."""
        kind, ident = dep
        name = f"layers/{domain}/{part}"
        sources = units.framework_sources(ident) if kind == "framework" else units.detection_source(ident)
        if units.take(name, sources) is not None:
            return True
        fresh[name] = []
        return False

    for domain, rel, layer in all_layers(g, ctx.site_url, index, skip):
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
        unit = _unit_of(domain, rel)
        if unit in fresh:
            fresh[unit].append(path)
    for name, paths in fresh.items():
        units.record(name, paths)
    return written


def _unit_of(domain: str, rel: str) -> str:
    """`frameworks/<slug>/…` and `detections/<slug>.json` belong to the unit `skip` named."""
    parts = rel.split("/")
    if parts[0] == "frameworks" and len(parts) > 2:
        return f"layers/{domain}/frameworks/{parts[1]}"
    if parts[0] == "detections" and len(parts) == 2:
        return f"layers/{domain}/detections/{parts[1].removesuffix('.json')}"
    return ""
