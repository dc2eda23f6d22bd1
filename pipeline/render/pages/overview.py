"""Pages that summarise: one per tactic (its techniques in matrix order with their
coverage), one per framework (its tables, coverage numbers, downloads and controls),
and the index (coverage totals, tactics, frameworks, detection sources)."""

from __future__ import annotations

from collections import Counter
import re

from pipeline.graph.coverage import CLASS_LABELS, CLASSES, Coverage
from pipeline.graph.query import techniques_of_tactic
from pipeline.model.domains import DOMAINS
from pipeline.render.pages.downloads import framework_downloads
from pipeline.core.escape import Md, cell, link, text
from pipeline.render.pages.pictures import coverage_heatmap, framework_chart, framework_heatmap, tactic_chart
from pipeline.render.pages.prose import prose
from pipeline.render.pages.pageset import Row, Site
from pipeline.render.pages.group import used_techniques


def _counts(covs: list[Coverage]) -> dict[str, int]:
    found = Counter(c.klass for c in covs)
    return {k: found.get(k, 0) for k in CLASSES}


def _domain_label(site: Site, domain: str) -> Md:
    return text(site.g.graph.get("matrices", {}).get(domain) or domain)


def tactic_context(site: Site, key: str) -> dict:
    g = site.g
    n = g.nodes[key]
    page = site.pages[key]
    rows = []
    covs = []
    for tkey in techniques_of_tactic(g, key, include_subtechniques=True):
        t = g.nodes[tkey]
        c = site.coverage.get(tkey)
        if c is None:
            continue
        covs.append(c)
        name = text(t["name"])
        rows.append(
            Row(
                id=site.link(page, tkey),
                name=Md(f"↳ {name}") if t.get("subtechnique") else name,
                coverage=text(CLASS_LABELS[c.klass]),
                controls=c.n_controls,
                detections=c.n_detections,
            )
        )
    tactic_only = sorted(
        u for u, _, d in g.in_edges(key, data=True) if d.get("relation") == "detects" and g.nodes[u]["kind"] == "detection"
    )
    counts = _counts(covs)
    return {
        "id": text(n["id"]),
        "name": text(n["name"]),
        "description": prose(n["record"].description, None, lambda tid: site.href(page, f"technique:{tid}")),
        "domains": Md(", ".join(_domain_label(site, d) for d in n["domains"])),
        "attack_version": text(site.attack_version),
        "url": link(text(f"{n['id']} on attack.mitre.org"), n["record"].url),
        "total": len(rows),
        "counts": [Row(label=text(CLASS_LABELS[k]), n=counts[k]) for k in CLASSES],
        "rows": rows,
        "tactic_only": [site.link(page, u, text(g.nodes[u]["name"])) for u in tactic_only],
        "index": site.link(page, "index", Md("Index")),
    }


def _framework_coverage(site: Site, framework: str) -> list[dict]:
    rows = []
    for domain in DOMAINS:
        covs = [c for k, c in site.coverage.items() if domain in site.g.nodes[k]["domains"]]
        if not covs:
            continue
        hit = sum(1 for c in covs if framework in c.controls)
        if not hit and not any(s.domain == domain for s in site.mapping_sources if s.framework == framework):
            continue
        rows.append(Row(domain=_domain_label(site, domain), live=len(covs), covered=hit, share=text(f"{100 * hit / len(covs):.1f} %")))
    return rows


def framework_context(site: Site, framework: str) -> dict:
    g = site.g
    key = f"framework:{framework}"
    page = site.pages[key]
    sources = [
        Row(
            id=link(text(s.id), s.url) if s.url else text(s.id),
            domain=text(s.domain),
            version=text(s.framework_version),
            attack_version=text(s.attack_version),
            mappings=s.mappings,
            license=cell(s.license),
        )
        for s in site.mapping_sources
        if s.framework == framework
    ]
    groups: dict[tuple[str, str], list[dict]] = {}
    unmapped = 0
    for kind in ("control", "capability"):
        for k in site.by_kind.get(kind, ()):
            n = g.nodes[k]
            if n["framework"] != framework:
                continue
            if k not in site.pages:
                unmapped += 1
                continue
            targets = {v for _, v, d in g.out_edges(k, data=True) if "source" in d}
            group = (n.get("family") or n.get("group") or "", n.get("family_name") or n.get("group_name") or "")
            groups.setdefault(group, []).append(Row(id=site.link(page, k, cell(n["id"])), name=cell(n["name"]), techniques=len(targets), sort=n["id"]))
    families = []
    for (gid, gname), items in sorted(groups.items()):
        items.sort(key=lambda r: _natural(r.sort))
        title = " ".join(x for x in (gid, gname) if x) or "Other"
        families.append(Row(title=text(title), rows=items))
    return {
        "label": text(site.framework_label(framework)),
        "id": text(framework),
        "attack_version": text(site.attack_version),
        "sources": sources,
        "coverage": _framework_coverage(site, framework),
        "downloads": framework_downloads(site, page, framework),
        "families": families,
        "heatmaps": [
            Row(label=_domain_label(site, d), heatmap=framework_heatmap(site, page, framework, d))
            for d in DOMAINS
            if any(s.domain == d for s in site.mapping_sources if s.framework == framework)
        ],
        "mapped": sum(len(f.rows) for f in families),
        "unmapped": unmapped,
        "index": site.link(page, "index", Md("Index")),
    }


def _groups(site: Site, page: str) -> list[dict]:
    """Every group page with the coverage of what the group uses (all its domains)."""
    rows = []
    for key in site.by_kind.get("group", ()):
        if key not in site.pages:
            continue
        used = {k for techniques in used_techniques(site, key).values() for k in techniques}
        c = _counts([site.coverage[k] for k in used])
        rows.append(Row(link=site.link(page, key), name=text(site.g.nodes[key]["name"]), total=len(used), **{k: c[k] for k in CLASSES}))
    return rows


def _natural(value: str) -> tuple:
    """`AC-2` before `AC-10`."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", value))


def index_context(site: Site) -> dict:
    g = site.g
    page = "index.md"
    domains = []
    tactics = []
    pictures = []
    for domain in DOMAINS:
        covs = [c for k, c in site.coverage.items() if domain in g.nodes[k]["domains"]]
        if not covs:
            continue
        counts = _counts(covs)
        domains.append(
            Row(
                label=_domain_label(site, domain),
                live=len(covs),
                controls=counts["both"] + counts["controls"],
                detections=counts["both"] + counts["detections"],
                both=counts["both"],
                neither=counts["neither"],
            )
        )
        rows = []
        for t in g.graph.get("tactics", {}).get(domain, ()):
            tkey = f"tactic:{t}"
            if tkey not in site.pages:
                continue
            tc = [site.coverage[k] for k in techniques_of_tactic(g, tkey, include_subtechniques=True) if k in site.coverage]
            c = _counts(tc)
            rows.append(Row(link=site.named_link(page, tkey), total=len(tc), **{k: c[k] for k in CLASSES}))
        tactics.append(Row(label=_domain_label(site, domain), rows=rows))
        pictures.append(Row(label=_domain_label(site, domain), heatmap=coverage_heatmap(site, page, domain), chart=tactic_chart(site, page, domain)))
    frameworks = []
    for fw in site.frameworks():
        covered = sum(1 for c in site.coverage.values() if fw in c.controls)
        mapped = sum(1 for k in site.pages if k.startswith(("control:", "capability:")) and g.nodes[k]["framework"] == fw)
        frameworks.append(Row(link=site.link(page, f"framework:{fw}", text(site.framework_label(fw))), id=text(fw), mapped=mapped, covered=covered))
    sources = []
    per_source = Counter(g.nodes[k]["source"] for k in site.by_kind.get("detection", []))
    linked = Counter(g.nodes[k]["source"] for k in site.by_kind.get("detection", []) if any(d.get("relation") == "detects" for _, _, d in g.out_edges(k, data=True)))
    for name, info in site.detection_sources.items():
        if name not in per_source:
            continue
        sources.append(Row(link=site.link(page, f"detection_source:{name}", text(info.label)), name=text(name), count=per_source[name], linked=linked[name], license=cell(info.license), upstream=link(text(info.upstream), info.tree_url)))
    for name in sorted(set(per_source) - set(site.detection_sources)):
        sources.append(Row(link=site.link(page, f"detection_source:{name}", text(name)), name=text(name), count=per_source[name], linked=linked[name], license=Md(""), upstream=Md("")))
    return {
        "attack_version": text(site.attack_version),
        "domains": domains,
        "pictures": pictures,
        "tactics": tactics,
        "frameworks": frameworks,
        "framework_chart": framework_chart(site, page) if frameworks else Md(""),
        "groups": _groups(site, page),
        "sources": sources,
        "labels": {k: text(CLASS_LABELS[k]) for k in CLASSES},
    }
