"""Layers per mapping table and per detection source, as (relative path, Layer) pairs.

    frameworks/<framework>/overview.json            score = number of controls
    frameworks/<framework>/families/<family>.json   one control family / capability group
    frameworks/<framework>/controls/<id>.json       one control or capability
    frameworks/<framework>/categories/<cat>.json    Protect, Detect, Respond (scored tables)
    detections/<source>.json, detections/all.json   score = number of detections

A framework is one enabled mapping table of the domain (framework and version); its
folder is the framework id, with the version added only when a domain has several
versions of one framework. Every name in a path comes from `pipeline.render.naming`.
Families are left out where each group is a single capability of the same id (the
security-stack tables group each capability alone: its family layer would repeat its
control layer).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

from pipeline.model.frameworks import framework as framework_info
from pipeline.render.navigator.layer import Layer, Link, Meta, TechniqueIndex
from pipeline.render.navigator.links import control_url, framework_url
from pipeline.render.navigator.refs import SCORE_CATEGORIES, Ref, category_key, natural_key
from pipeline.render.navigator.scoring import DETECTION_COLORS, CategoryStyle, CountStyle, ValueStyle, mapping_layer
from pipeline.render.naming import slug as safe_slug, unique_slugs


@dataclass(frozen=True, slots=True)
class Table:
    """One framework version's mappings in one domain."""

    framework: str
    version: str
    refs: tuple[Ref, ...]

    @property
    def label(self) -> str:
        return f"{framework_info(self.framework).label} {self.version}".strip()

    @property
    def nouns(self) -> tuple[str, str]:
        return ("control", "controls") if framework_info(self.framework).subject_kind == "control" else ("capability", "capabilities")

    @property
    def scored(self) -> bool:
        """Carries score values (security stack, M365, Intel vPro)."""
        return any(r.value for r in self.refs)

    @property
    def several_categories(self) -> bool:
        return len({r.category for r in self.refs}) > 1


@dataclass(frozen=True, slots=True)
class Context:
    domain: str
    version: str
    site_url: str
    index: TechniqueIndex
    control_sources: dict  # g.graph["control_sources"]: per source id, its table's facts
    # skip("frameworks/<slug>", ("framework", id)) or skip("detections/<slug>", ("detection", source))
    # true: leave that table's or source's layers out (a build takes them from the previous one).
    skip: Callable[[str, tuple[str, str]], bool] | None = None
    # subject_names(g): per framework, the file name of each control's or capability's layer.
    names: dict[str, dict[str, str]] | None = None


def subject_names(g) -> dict[str, dict[str, str]]:
    """Per framework, the layer file name of each control or capability id, unique (ignoring
    case) over every id of the framework in the graph, whatever its version or domain:
    the same name in every layer folder of the framework and on the pages that link it."""
    ids: dict[str, set[str]] = defaultdict(set)
    for _, n in g.nodes(data=True):
        if n.get("kind") in ("control", "capability"):
            ids[n["framework"]].add(n["id"])
    return {fw: unique_slugs(v) for fw, v in ids.items()}


def tables(refs: Sequence[Ref]) -> list[Table]:
    by: dict[tuple[str, str], list[Ref]] = defaultdict(list)
    for r in refs:
        if r.kind != "detection":
            by[(r.framework, r.version)].append(r)
    return [Table(fw, ver, tuple(rs)) for (fw, ver), rs in sorted(by.items())]


def table_slugs(found: Sequence[Table]) -> dict[tuple[str, str], str]:
    return framework_folders((t.framework, t.version) for t in found)


def framework_folders(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The folder of each (framework, version) of one domain: the framework id; with the
    version when the domain has several versions of the framework."""
    pairs = sorted(set(pairs))
    versions: dict[str, int] = defaultdict(int)
    for fw, _ in pairs:
        versions[fw] += 1
    names = {(fw, ver): fw if versions[fw] == 1 else f"{fw}-{ver}" for fw, ver in pairs}
    slugs = unique_slugs(names.values())
    return {k: slugs[v] for k, v in names.items()}


def _table_meta(t: Table, ctx: Context) -> tuple[Meta, ...]:
    out = [Meta("framework", t.label)]
    for source in sorted({r.source for r in t.refs}):
        facts = ctx.control_sources.get(source, {})
        out.append(Meta("mapping table", source))
        if facts.get("attack_version"):
            out.append(Meta("published for ATT&CK", f"{facts['attack_version']} (remapped to {ctx.version})"))
    return tuple(out)


def _subject_links(ctx: Context, t: Table, control_id: str | None = None) -> tuple[Link, ...]:
    if not ctx.site_url:
        return ()
    if control_id is None:
        return (Link(label=f"{t.label} in the docs", url=framework_url(ctx.site_url, t.framework)),)
    return (Link(label=f"{control_id} in the docs", url=control_url(ctx.site_url, t.framework, control_id)),)


def _count(n: int, noun: str, plural: str) -> str:
    return f"{n} {noun if n == 1 else plural}"


def _n_techniques(refs: Sequence[Ref]) -> str:
    return _count(len({r.technique for r in refs}), "technique", "techniques")


def table_layers(t: Table, slug: str, ctx: Context) -> Iterator[tuple[str, Layer]]:
    noun, plural = t.nouns
    base = f"frameworks/{slug}"
    meta = _table_meta(t, ctx)
    where = f"{ctx.domain} ATT&CK {ctx.version}"
    common = {"domain": ctx.domain, "version": ctx.version, "site_url": ctx.site_url, "index": ctx.index}
    count = CountStyle(noun, plural, show_category=t.several_categories)
    subjects = {r.id for r in t.refs}
    yield f"{base}/overview.json", mapping_layer(
        name=f"{t.label} — overview",
        description=f"{_count(len(subjects), noun, plural)} of {t.label} mapped to {_n_techniques(t.refs)} of {where}; "
        f"score = number of {plural} on the technique (sub-techniques scored on their own entries)",
        refs=t.refs, style=count, metadata=meta, links=_subject_links(ctx, t), **common,
    )

    groups: dict[str, list[Ref]] = defaultdict(list)
    for r in t.refs:
        if r.group:
            groups[r.group].append(r)
    trivial = all({r.id for r in rs} == {g} for g, rs in groups.items())
    if groups and not trivial:
        slugs = unique_slugs(groups)
        for g in sorted(groups, key=natural_key):
            rs = groups[g]
            title = " ".join(_unique_words(g, rs[0].group_name))
            yield f"{base}/families/{slugs[g]}.json", mapping_layer(
                name=f"{t.label} — {title}",
                description=f"{_count(len({r.id for r in rs}), noun, plural)} of {title} ({t.label}) mapped to {_n_techniques(rs)} of {where}; "
                f"score = number of {plural} of the family on the technique",
                refs=rs, style=count, metadata=meta + (Meta("family", title),), links=_subject_links(ctx, t), **common,
            )

    by_subject: dict[str, list[Ref]] = defaultdict(list)
    for r in t.refs:
        by_subject[r.id].append(r)
    slugs = (ctx.names or {}).get(t.framework) or unique_slugs(by_subject)
    for sid in sorted(by_subject, key=natural_key):
        rs = by_subject[sid]
        first = rs[0]
        yield f"{base}/controls/{slugs[sid]}.json", mapping_layer(
            name=f"{t.label} — {sid} {first.name}".strip(),
            description=f"Techniques of {where} that {sid} ({first.name}) maps to, coloured by category; "
            "a technique mapped in several categories is marked as mixed",
            refs=rs, style=CategoryStyle(),
            metadata=meta + ((Meta("family", " ".join(_unique_words(first.group, first.group_name))),) if first.group and first.group != sid else ()),
            links=_subject_links(ctx, t, sid), **common,
        )

    if t.scored:
        for cat in sorted({r.category for r in t.refs if r.category in SCORE_CATEGORIES}, key=category_key):
            rs = [r for r in t.refs if r.category == cat]
            yield f"{base}/categories/{safe_slug(cat)}.json", mapping_layer(
                name=f"{t.label} — {cat.capitalize()}",
                description=f"{cat.capitalize()} scores of {t.label} on {_n_techniques(rs)} of {where}; "
                f"colour and score = the highest value (Minimal 1, Partial 2, Significant 3) among the {plural} "
                "scored on the technique; values do not add up; each one is in the metadata",
                refs=rs, style=ValueStyle(), metadata=meta + (Meta("category", cat),), links=_subject_links(ctx, t), **common,
            )


def _unique_words(group: str, group_name: str) -> list[str]:
    return [group] if not group_name or group_name == group else [group, group_name]


def detection_layers(refs: Sequence[Ref], ctx: Context) -> Iterator[tuple[str, Layer]]:
    dets = [r for r in refs if r.kind == "detection"]
    if not dets:
        return
    where = f"{ctx.domain} ATT&CK {ctx.version}"
    common = {"domain": ctx.domain, "version": ctx.version, "site_url": ctx.site_url, "index": ctx.index}
    by_source: dict[str, list[Ref]] = defaultdict(list)
    for r in dets:
        by_source[r.source].append(r)
    slugs = unique_slugs(list(by_source) + ["all"])  # a source called "all" does not replace all.json
    for source in sorted(by_source):
        if ctx.skip is not None and ctx.skip(f"detections/{slugs[source]}", ("detection", source)):
            continue
        rs = by_source[source]
        yield f"detections/{slugs[source]}.json", mapping_layer(
            name=f"Detections — {source}",
            description=f"{_count(len({r.subject for r in rs}), source + ' detection', source + ' detections')} on {_n_techniques(rs)} of {where}; "
            "score = number of detections naming the technique (sub-techniques scored on their own entries)",
            refs=rs, style=CountStyle("detection", "detections", DETECTION_COLORS, list_subjects=False),
            metadata=(Meta("detection source", source),), **common,
        )
    yield "detections/all.json", mapping_layer(
        name="Detections — all sources",
        description=f"{_count(len({r.subject for r in dets}), 'detection', 'detections')} of {_count(len(by_source), 'source', 'sources')} "
        f"on {_n_techniques(dets)} of {where}; "
        "score = number of detections naming the technique",
        refs=dets, style=CountStyle("detection", "detections", DETECTION_COLORS, list_subjects=False),
        metadata=tuple(Meta("detection source", s) for s in sorted(by_source)), **common,
    )


def mapping_layer_set(refs: Sequence[Ref], ctx: Context) -> Iterator[tuple[str, Layer]]:
    """Every framework and detection layer of one domain (`refs` of that domain only)."""
    found = tables(refs)
    slugs = table_slugs(found)
    for t in found:
        slug = slugs[(t.framework, t.version)]
        if ctx.skip is not None and ctx.skip(f"frameworks/{slug}", ("framework", t.framework)):
            continue
        yield from table_layers(t, slug, ctx)
    yield from detection_layers(refs, ctx)
