"""Which layers the build writes, as (relative path, Layer) pairs.

Colours are fixed per coverage class so that every layer of a build reads the same way:
green both, blue controls only, yellow detections only, red neither.
"""

from __future__ import annotations

from typing import Iterator

import networkx as nx

from pipeline.graph.coverage import CLASS_LABELS, CLASSES, Coverage, coverage_by_technique
from pipeline.render.navigator.frameworks import Context, mapping_layer_set, subject_names
from pipeline.render.navigator.layer import Gradient, Layer, Link, Mark, Meta, TechniqueIndex
from pipeline.render.navigator.links import technique_links
from pipeline.render.navigator.refs import Ref, by_technique, collect_refs
from pipeline.render.naming import attack_id

CLASS_COLORS = {"both": "#1a9850", "controls": "#4575b4", "detections": "#fdae61", "neither": "#d73027"}
GAP_GRADIENT = ("#fee8c8", "#e34a33")


def _coverage_comment(c: Coverage) -> str:
    parts = [f"{CLASS_LABELS[c.klass]}"]
    if c.controls:
        parts.append("controls: " + ", ".join(f"{k} {v}" for k, v in c.controls.items()))
    if c.detections:
        parts.append("detections: " + ", ".join(f"{k} {v}" for k, v in c.detections.items()))
    return "; ".join(parts)


def _legend() -> tuple[tuple[str, str], ...]:
    return tuple((CLASS_LABELS[k], CLASS_COLORS[k]) for k in CLASSES)


def coverage_layer(
    g: nx.MultiDiGraph, domain: str, version: str, site_url: str, cov: dict[str, Coverage], refs: dict[str, list[Ref]]
) -> Layer:
    """`refs`: the domain's mappings by technique id, one metadata block each."""
    marks = []
    for key, c in cov.items():
        tid = g.nodes[key]["id"]
        marks.append(
            Mark(
                technique=tid,
                color=CLASS_COLORS[c.klass],
                comment=_coverage_comment(c),
                metadata=tuple(r.block for r in refs.get(tid, ())),
                links=technique_links(site_url, tid),
            )
        )
    counts = {k: sum(1 for c in cov.values() if c.klass == k) for k in CLASSES}
    return Layer(
        name=f"Coverage — {domain} ATT&CK {version}",
        description="Every live technique by what covers it: "
        + ", ".join(f"{CLASS_LABELS[k]} {counts[k]}" for k in CLASSES),
        domain=domain,
        attack_version=version,
        marks=tuple(marks),
        legend=_legend(),
    )


def gap_layer(g: nx.MultiDiGraph, domain: str, version: str, site_url: str, cov: dict[str, Coverage]) -> Layer:
    """Techniques with neither a control nor a detection, scored by how many groups use them."""
    marks = []
    for key, c in cov.items():
        if c.klass != "neither":
            continue
        groups = sorted({u for u, _, d in g.in_edges(key, data=True) if d["relation"] == "uses" and g.nodes[u]["kind"] == "group"})
        tid = g.nodes[key]["id"]
        marks.append(
            Mark(
                technique=tid,
                score=len(groups),
                comment=f"no control and no detection; used by {len(groups)} group(s)",
                metadata=((Meta("groups", ", ".join(g.nodes[k]["id"] for k in groups) or "none"),),),
                links=technique_links(site_url, tid),
            )
        )
    top = max((m.score or 0 for m in marks), default=0)
    high = max(top, 1)
    return Layer(
        name=f"Gaps — {domain} ATT&CK {version}",
        description=f"{len(marks)} live techniques with no control and no detection; score = number of ATT&CK groups that use the technique",
        domain=domain,
        attack_version=version,
        marks=tuple(marks),
        gradient=Gradient(GAP_GRADIENT, 0, high),
        legend=(("used by no group", GAP_GRADIENT[0]), (f"used by {high} groups", GAP_GRADIENT[1])),
        sorting=3,
    )


def group_layers(
    g: nx.MultiDiGraph, domain: str, version: str, site_url: str, cov: dict[str, Coverage]
) -> Iterator[tuple[str, Layer]]:
    """Per ATT&CK group: its techniques coloured by our coverage class."""
    for key, n in sorted(g.nodes(data=True)):
        if n["kind"] != "group" or n["deprecated"] or domain not in n["domains"]:
            continue
        marks = []
        for _, v, d in sorted(g.out_edges(key, data=True), key=lambda e: e[1]):
            if d["relation"] != "uses" or v not in cov or d.get("domain") != domain:
                continue
            c = cov[v]
            tid = g.nodes[v]["id"]
            marks.append(
                Mark(
                    technique=tid,
                    color=CLASS_COLORS[c.klass],
                    comment=_coverage_comment(c),
                    metadata=((Meta("procedure", d.get("description", "")),),) if d.get("description") else (),
                    links=technique_links(site_url, tid),
                )
            )
        if not marks:
            continue
        yield (
            f"groups/{attack_id(n['id'])}.json",
            Layer(
                name=f"{n['id']} {n['name']} — coverage",
                description=f"Techniques {n['name']} uses in ATT&CK {version}, coloured by coverage",
                domain=domain,
                attack_version=version,
                marks=tuple(marks),
                legend=_legend(),
                links=(Link(label=f"{n['id']} on attack.mitre.org", url=n["record"].url),) if n["record"].url else (),
            ),
        )


def layer_set(
    g: nx.MultiDiGraph,
    domain: str,
    version: str,
    site_url: str,
    index: TechniqueIndex | None = None,
    refs: list[Ref] | None = None,
    skip=None,
) -> Iterator[tuple[str, Layer]]:
    """Every layer of one domain. `index` and `refs` (all domains) are made once per
    build by `all_layers`; given here or not, the layers are the same."""
    index = index or TechniqueIndex.of(g)
    mine = [r for r in (collect_refs(g, index) if refs is None else refs) if r.domain == domain]
    cov = coverage_by_technique(g, domain)
    yield "coverage.json", coverage_layer(g, domain, version, site_url, cov, by_technique(mine))
    yield "gaps.json", gap_layer(g, domain, version, site_url, cov)
    yield from group_layers(g, domain, version, site_url, cov)
    ctx = Context(domain=domain, version=version, site_url=site_url, index=index, control_sources=g.graph.get("control_sources", {}), skip=skip, names=subject_names(g))
    yield from mapping_layer_set(mine, ctx)


def all_layers(g: nx.MultiDiGraph, site_url: str, index: TechniqueIndex | None = None, skip=None) -> Iterator[tuple[str, str, Layer]]:
    """(domain, path under layers/<domain>/, layer) for every domain of the graph;
    `skip(domain, part, (kind, id))` leaves a table's or a detection source's layers out."""
    index = index or TechniqueIndex.of(g)
    refs = collect_refs(g, index)
    for domain, version in sorted(g.graph.get("releases", {}).items()):
        own = (lambda part, dep, domain=domain: skip(domain, part, dep)) if skip else None
        for rel, layer in layer_set(g, domain, version, site_url, index, refs, own):
            yield domain, rel, layer
