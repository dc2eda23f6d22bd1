"""One layer from a user's query: frameworks, families, categories, a minimum score
value, platforms and detection sources.

The query selects mapping records (`refs.Ref`) the same way the layer set does, so a
custom layer reads like the published ones: one metadata block per mapping, the same
colours, sub-techniques scored on their own entries. Names in a query are checked
against what the build holds; a name that matches nothing is an error naming the ones
that exist, not an empty layer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import networkx as nx

from pipeline.core.errors import ConfigError
from pipeline.render.navigator.frameworks import table_slugs, tables
from pipeline.render.navigator.layer import Layer, Meta, TechniqueIndex
from pipeline.render.navigator.refs import VALUE_RANK, Ref, category_key, collect_refs, natural_key
from pipeline.render.navigator.scoring import DETECTION_COLORS, CategoryStyle, CountStyle, ValueStyle, mapping_layer

ALL = "all"
STYLES = ("count", "value", "category")


@dataclass(frozen=True, slots=True)
class LayerQuery:
    domain: str = "enterprise"
    frameworks: tuple[str, ...] = ()  # framework ids or layer-folder names; "all"
    families: tuple[str, ...] = ()  # control families / capability groups, by id or name
    categories: tuple[str, ...] = ()  # protect, detect, respond, mitigate, ...
    min_value: str = ""  # minimal | partial | significant
    platforms: tuple[str, ...] = ()
    detections: tuple[str, ...] = ()  # detection source names; "all"
    style: str = "count"
    name: str = ""

    def describe(self) -> tuple[Meta, ...]:
        """The query as layer metadata, so a layer says how it was made."""
        out = []
        for label, values in (
            ("frameworks", self.frameworks), ("families", self.families), ("categories", self.categories),
            ("minimum value", (self.min_value,) if self.min_value else ()), ("platforms", self.platforms),
            ("detection sources", self.detections),
        ):
            if values:
                out.append(Meta(label, ", ".join(values)))
        return tuple(out)


def _known(what: str, wanted: str, known) -> ConfigError:
    listed = ", ".join(sorted(known, key=natural_key)) or "none"
    return ConfigError(f"no {what} {wanted!r} in this build (known: {listed})")


def _pick_frameworks(refs: list[Ref], q: LayerQuery) -> list[Ref]:
    controls = [r for r in refs if r.kind != "detection"]
    if not q.frameworks:
        return []
    if ALL in q.frameworks:
        return controls
    slugs = table_slugs(tables(controls))
    by_name: dict[str, set[tuple[str, str]]] = {}
    for (fw, ver), slug in slugs.items():
        for n in (fw, slug):
            by_name.setdefault(n.lower(), set()).add((fw, ver))
    chosen: set[tuple[str, str]] = set()
    for name in q.frameworks:
        found = by_name.get(name.lower())
        if not found:
            raise _known(f"{q.domain} framework", name, {n for (fw, _), slug in slugs.items() for n in (fw, slug)})
        chosen |= found
    return [r for r in controls if (r.framework, r.version) in chosen]


def _pick_families(refs: list[Ref], q: LayerQuery) -> list[Ref]:
    if not q.families:
        return refs
    wanted = {f.lower() for f in q.families}
    for f in q.families:
        if not any(f.lower() in (r.group.lower(), r.group_name.lower()) for r in refs):
            raise _known("family or group of the chosen frameworks", f, {r.group for r in refs if r.group})
    return [r for r in refs if r.group.lower() in wanted or r.group_name.lower() in wanted]


def _pick_detections(refs: list[Ref], q: LayerQuery) -> list[Ref]:
    dets = [r for r in refs if r.kind == "detection"]
    if not q.detections:
        return []
    if ALL in q.detections:
        return dets
    known = {r.source for r in dets}
    for s in q.detections:
        if s not in known:
            raise _known(f"{q.domain} detection source", s, known)
    return [r for r in dets if r.source in q.detections]


def _platforms(q: LayerQuery, index: TechniqueIndex) -> tuple[str, ...]:
    """The query's platforms in ATT&CK's spelling (`windows` → `Windows`), in its order."""
    known = {p.lower(): p for tid, doms in index.live.items() if q.domain in doms for p in index.platforms[tid]}
    out = []
    for p in q.platforms:
        if p.lower() not in known:
            raise _known(f"{q.domain} platform", p, known.values())
        out.append(known[p.lower()])
    return tuple(dict.fromkeys(out))


def select(refs: list[Ref], q: LayerQuery, index: TechniqueIndex) -> list[Ref]:
    """The records the query keeps, in their stable order."""
    if not q.frameworks and not q.detections:
        raise ConfigError("nothing selected: give --framework (or 'all') and/or --detections (or 'all')")
    if q.style not in STYLES:
        raise ConfigError(f"unknown style {q.style!r} (expected one of {', '.join(STYLES)})")
    if q.min_value and q.min_value not in VALUE_RANK:
        raise ConfigError(f"unknown score value {q.min_value!r} (expected one of {', '.join(VALUE_RANK)})")
    mine = [r for r in refs if r.domain == q.domain]
    controls = _pick_families(_pick_frameworks(mine, q), q)
    if q.categories:
        present = {r.category for r in controls}
        for c in q.categories:
            if c not in present:
                raise _known("category of the chosen frameworks", c, present)
        controls = [r for r in controls if r.category in q.categories]
    if q.min_value:
        floor = VALUE_RANK[q.min_value]
        controls = [r for r in controls if r.rank >= floor]  # unscored rows carry no value: left out
    chosen = controls + _pick_detections(mine, q)
    platforms = set(_platforms(q, index))
    if platforms:
        chosen = [r for r in chosen if platforms.intersection(index.platforms.get(r.technique, ()))]
    return sorted(chosen, key=lambda r: (r.technique, r.kind == "detection", r.order()))


def _style(q: LayerQuery, chosen: list[Ref]):
    if q.style == "value":
        return ValueStyle()
    if q.style == "category":
        return CategoryStyle()
    has_controls = any(r.kind != "detection" for r in chosen)
    has_detections = any(r.kind == "detection" for r in chosen)
    if has_detections and not has_controls:
        return CountStyle("detection", "detections", DETECTION_COLORS, list_subjects=False)
    if has_detections:
        return CountStyle("control or detection", "controls and detections", list_subjects=False)
    return CountStyle("control", "controls", show_category=len({r.category for r in chosen}) > 1)


def query_layer(
    g: nx.MultiDiGraph, q: LayerQuery, site_url: str, index: TechniqueIndex | None = None, refs: list[Ref] | None = None
) -> Layer:
    index = index or TechniqueIndex.of(g)
    version = g.graph.get("releases", {}).get(q.domain)
    if version is None:
        raise ConfigError(f"the graph holds no {q.domain} release")
    chosen = select(collect_refs(g, index) if refs is None else refs, q, index)
    q = dataclasses.replace(q, platforms=_platforms(q, index))  # ATT&CK's spelling in the layer
    what = "; ".join(f"{m.name} {m.value}" for m in q.describe())
    score = {
        "count": "score = number of controls and detections on the technique",
        "value": "colour and score = the highest score value among the selected mappings (Minimal 1, Partial 2, Significant 3)",
        "category": "colour = category; several categories marked as mixed",
    }[q.style]
    categories = sorted({r.category for r in chosen if r.category}, key=category_key)
    return mapping_layer(
        name=q.name or f"Custom layer — {what}",
        description=f"{len({r.technique for r in chosen})} technique(s) of {q.domain} ATT&CK {version} selected by: {what}; {score}"
        + (f"; categories: {', '.join(categories)}" if categories else ""),
        domain=q.domain,
        version=version,
        refs=chosen,
        style=_style(q, chosen),
        site_url=site_url,
        index=index,
        metadata=q.describe(),
        platforms=q.platforms,
    )
