"""The pictures of each page, from the gathered site: which classes the heatmap of a
page shows, and the charts of the index and the cards (`pipeline.render.pictures`
draws them). Links are relative `.md` paths, like every link of the pages; the site
makes them page addresses (`pipeline.site.hooks`)."""

from __future__ import annotations

from collections import Counter
from html import escape

from pipeline.graph.coverage import CLASS_LABELS, CLASSES, NON_COVERING
from pipeline.render.navigator.refs import VALUE_RANK
from pipeline.render.navigator.sets import CLASS_COLORS
from pipeline.core.escape import Md
from pipeline.render.pages.pageset import Site
from pipeline.render.pictures import charts
from pipeline.render.pictures.heatmap import heatmap
from pipeline.render.pictures.matrix import Matrix, matrix_of
from pipeline.render.pictures.palette import MIXED, category_palette, coverage_palette, text_color


def matrix(site: Site, domain: str) -> Matrix:
    found = site.matrices.get(domain)
    if found is None:
        found = site.matrices[domain] = matrix_of(site.g, domain)
    return found


def _href(site: Site, page: str):
    return lambda key: site.href(page, key)


def coverage_heatmap(site: Site, page: str, domain: str) -> Md:
    """Every live technique of the domain by its coverage class (the coverage layer)."""
    m = matrix(site, domain)
    classes = {k: site.coverage[k].klass for k in m.keys() if k in site.coverage}
    notes = {k: _coverage_note(site, k) for k in classes}
    return Md(heatmap(m, classes, coverage_palette(), _href(site, page), notes=notes, caption=f"{m.label}: every live technique by what covers it"))


def _coverage_note(site: Site, key: str) -> str:
    c = site.coverage[key]
    return f"{c.n_controls} controls, {c.n_detections} detections" if c.n_controls or c.n_detections else ""


def tactic_chart(site: Site, page: str, domain: str) -> Md:
    """Coverage per tactic of the domain: one stacked bar per tactic."""
    m = matrix(site, domain)
    rows = []
    for col in m.columns:
        keys = {c.key for t, subs in col.techniques for c in (t, *subs)}
        counts = Counter(site.coverage[k].klass for k in keys if k in site.coverage)
        rows.append(charts.Bar(label=col.tactic.name, href=site.href(page, col.tactic.key), counts={k: counts.get(k, 0) for k in CLASSES}))
    return Md(f'<figure class="atk-figure" data-search-exclude="true">{charts.stacked_bars(rows, coverage_palette(), f"{m.label}: coverage per tactic")}</figure>')


def framework_chart(site: Site, page: str) -> Md:
    """Techniques covered per framework (all domains), on the scale of the live techniques."""
    total = len(site.coverage)
    rows = []
    for fw in site.frameworks():
        covered = sum(1 for c in site.coverage.values() if fw in c.controls)
        rows.append(charts.Bar(label=site.framework_label(fw), href=site.href(page, f"framework:{fw}"), value=covered, total=total))
    rows.sort(key=lambda b: (-b.value, b.label))
    return Md(f'<figure class="atk-figure" data-search-exclude="true">{charts.bars(rows, CLASS_COLORS["controls"], "Live techniques covered per framework")}</figure>')


def framework_classes(site: Site, framework: str, domain: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each technique the framework maps in `domain`, by its mapping category (several
    categories: mixed), with a tooltip of its controls and best score."""
    g = site.g
    cats: dict[str, set[str]] = {}
    ids: dict[str, set[str]] = {}
    best: dict[str, str] = {}
    for kind in ("control", "capability"):
        for u in site.by_kind.get(kind, ()):
            n = g.nodes[u]
            if n["framework"] != framework or n.get("deprecated"):
                continue
            for _, v, d in g.out_edges(u, data=True):
                if "source" not in d or d.get("relation") in NON_COVERING or v not in site.coverage:
                    continue
                if (d.get("domain") or domain) != domain:
                    continue
                cats.setdefault(v, set()).add(d.get("score_category") or d.get("kind") or "")
                ids.setdefault(v, set()).add(n["id"])
                value = (d.get("score_value") or "").lower()
                if VALUE_RANK.get(value, 0) > VALUE_RANK.get(best.get(v, ""), 0):
                    best[v] = value
    classes = {k: (next(iter(c)) if len(c) == 1 else MIXED) for k, c in cats.items()}
    notes = {}
    for k, c in cats.items():
        note = f"{len(ids[k])} controls or capabilities; " + ", ".join(sorted(x for x in c if x))
        notes[k] = note + (f"; best score {best[k]}" if k in best else "")
    return classes, notes


def framework_heatmap(site: Site, page: str, framework: str, domain: str) -> Md:
    m = matrix(site, domain)
    classes, notes = framework_classes(site, framework, domain)
    drawn = m.keys()  # once: in the comprehension it was a new set for every technique
    classes = {k: v for k, v in classes.items() if k in drawn}
    palette = category_palette()
    caption = f"{m.label}: techniques {site.framework_label(framework)} maps, by mapping category"
    return Md(heatmap(m, classes, palette, _href(site, page), notes=notes, caption=caption))


def group_heatmap(site: Site, page: str, used: dict[str, str], domain: str) -> Md:
    """What a group uses (technique key → procedure) in `domain`, by our coverage of it."""
    m = matrix(site, domain)
    drawn = m.keys()  # once: in the comprehension it was a new set for every technique
    classes = {k: site.coverage[k].klass for k in used if k in site.coverage and k in drawn}
    notes = {k: _coverage_note(site, k) for k in classes}
    palette = coverage_palette("not used by the group")
    return Md(heatmap(m, classes, palette, _href(site, page), notes=notes, only_classified=True, caption=f"{m.label}: techniques the group uses, by what covers them"))


def technique_picture(site: Site, page: str, key: str, subtechniques: list[str]) -> Md:
    """The card's coverage at a glance: the class as a coloured badge, a bar per
    framework and detection source with its count, the sub-techniques as squares."""
    c = site.coverage.get(key)
    if c is None:
        return Md("")
    color = CLASS_COLORS[c.klass]
    parts = [f'<span class="atk-badge" style="background:{color};color:{text_color(color)}" data-class="{c.klass}">{escape(CLASS_LABELS[c.klass])}</span>']
    controls = [charts.Bar(label=site.framework_label(fw), href=site.href(page, f"framework:{fw}"), value=n) for fw, n in c.controls.items()]
    detections = [charts.Bar(label=_source_label(site, s), href=site.href(page, f"detection_source:{s}"), value=n) for s, n in c.detections.items()]
    if controls:
        parts.append(charts.bars(controls, CLASS_COLORS["controls"], "Controls and capabilities per framework"))
    if detections:
        parts.append(charts.bars(detections, CLASS_COLORS["detections"], "Detections per source"))
    subs = [(s, site.coverage[s]) for s in subtechniques if s in site.coverage]
    if subs:
        cells = [(f"{site.g.nodes[s]['id']} {site.g.nodes[s]['name']}: {CLASS_LABELS[sc.klass]}", CLASS_COLORS[sc.klass], site.href(page, s)) for s, sc in subs]
        parts.append(f'<p class="atk-strip-line">Sub-techniques: {charts.strip(cells, "Coverage of the sub-techniques")}</p>')
    return Md(f'<figure class="atk-coverage" data-search-exclude="true">{"".join(parts)}</figure>')


def _source_label(site: Site, name: str) -> str:
    info = site.detection_sources.get(name)
    return f"{info.label} ({name})" if info else name
