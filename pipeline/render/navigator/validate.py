"""Checks a layer must pass before anyone imports it.

Navigator drops entries silently (unknown, revoked or deprecated ids; a tactic the
technique is not in) and says nothing, so the build checks all of that itself, next to
the JSON Schema of the format.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import networkx as nx

from pipeline.render.navigator.layer import NOT_IN_NAMES, TechniqueIndex

SCHEMA_FILE = Path(__file__).with_name("layer-4.5.schema.json")


@functools.cache
def _validator():
    # lazy: jsonschema costs over a second to import; only validating against a schema needs it
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(layer: dict, g: nx.MultiDiGraph, index: TechniqueIndex | None = None) -> list[str]:
    """Every reason this layer would not import cleanly or would mislead; empty when fine."""
    return schema_problems(layer) or semantic_problems(layer, g, index)


def schema_problems(layer: dict) -> list[str]:
    return [f"schema: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in _validator().iter_errors(layer)]


def semantic_problems(layer: dict, g: nx.MultiDiGraph, index: TechniqueIndex | None = None) -> list[str]:
    """What the schema cannot know: ids live in the release, tactics, gradient, legend,
    platform filter."""
    index = index or TechniqueIndex.of(g)
    found: list[str] = []
    release = g.graph.get("releases", {})
    domain = layer["domain"].removesuffix("-attack")
    if domain not in release or release[domain].split(".")[0] != layer["versions"].get("attack"):
        found.append(f"versions.attack {layer['versions'].get('attack')!r} is not the graph's {domain} release")
    bad = sorted(set(layer["name"]) & set(NOT_IN_NAMES))
    if bad:
        found.append(f"name {layer['name']!r} has {''.join(bad)!r}: spreadsheet exports cannot name a sheet after it")
    platforms = layer.get("filters", {}).get("platforms", [])
    known_platforms = {p for tid, doms in index.live.items() if domain in doms for p in index.platforms[tid]} if platforms else set()
    for p in platforms:
        if p not in known_platforms:
            found.append(f"filters.platforms: {p!r} is not a platform of any live {domain} technique")
    gradient = layer.get("gradient")
    legend_colors = {item["color"].lower() for item in layer.get("legendItems", [])}
    for i, t in enumerate(layer.get("techniques", [])):
        tid = t["techniqueID"]
        where = f"techniques[{i}] {tid}"
        if not index.is_live(tid, domain):
            found.append(f"{where}: not a live {domain} technique of this release")
            continue
        shortnames = list(index.tactics.get(tid, ()))
        if "tactic" in t and t["tactic"] not in shortnames:
            found.append(f"{where}: tactic {t['tactic']!r} is not one of {shortnames}")
        if "score" in t and gradient and not gradient["minValue"] <= t["score"] <= gradient["maxValue"]:
            found.append(f"{where}: score {t['score']} outside the gradient")
        if t.get("color") and t["color"].lower() not in legend_colors:
            found.append(f"{where}: colour {t['color']} has no legend item")
    return found
