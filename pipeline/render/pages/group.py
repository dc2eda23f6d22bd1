"""Group pages (`groups/G0007.md`): what an ATT&CK group uses, and how much of it the
enabled controls and detections cover — the group's matrix coloured by coverage, the
numbers, and every technique with its procedure and coverage."""

from __future__ import annotations

import hashlib
from collections import Counter

import orjson

from pipeline.graph.coverage import CLASS_LABELS, CLASSES
from pipeline.model.domains import DOMAINS
from pipeline.render.pages.downloads import group_downloads
from pipeline.core.escape import Md, cell, link, text
from pipeline.render.pages.pictures import group_heatmap
from pipeline.render.pages.prose import Citations, prose
from pipeline.render.pages.pageset import Row, Site


def used_techniques(site: Site, key: str) -> dict[str, dict[str, str]]:
    """domain → {technique key: procedure text} of the live techniques the group uses."""
    g = site.g
    out: dict[str, dict[str, str]] = {}
    for _, v, d in g.out_edges(key, data=True):
        if d.get("relation") != "uses" or v not in site.coverage:
            continue
        for domain in ([d["domain"]] if d.get("domain") else g.nodes[v]["domains"]):
            out.setdefault(domain, {})[v] = d.get("description", "") or out.get(domain, {}).get(v, "")
    return out


def group_digest(site: Site, key: str) -> str:
    """What a group page reads besides ATT&CK (which every render unit's key holds): the
    coverage of each technique the group uses and the download links the build has for
    it. A build keeps the page of a group whose techniques' coverage did not change."""
    page = site.pages[key]
    seen = []
    for domain, techniques in sorted(used_techniques(site, key).items()):
        coverage = [(k, site.coverage[k].controls, site.coverage[k].detections) for k in sorted(techniques)]
        seen.append((domain, coverage, [str(x) for x in group_downloads(site, page, domain, site.g.nodes[key]["id"])]))
    return hashlib.sha256(orjson.dumps(seen)).hexdigest()


def group_context(site: Site, key: str) -> dict:
    g = site.g
    n = g.nodes[key]
    page = site.pages[key]
    rec = n["record"]
    citations = Citations(site.texts.references)
    tlink = lambda tid: site.href(page, f"technique:{tid}")  # noqa: E731
    used = used_techniques(site, key)
    domains = []
    for domain in DOMAINS:
        techniques = used.get(domain)
        if not techniques:
            continue
        counts = Counter(site.coverage[k].klass for k in techniques)
        rows = []
        for k in sorted(techniques):
            c = site.coverage[k]
            rows.append(
                Row(
                    id=site.link(page, k),
                    name=cell(g.nodes[k]["name"]),
                    coverage=text(CLASS_LABELS[c.klass]),
                    controls=c.n_controls,
                    detections=c.n_detections,
                    how=prose(techniques[k], citations, tlink, in_cell=True),
                )
            )
        label = g.graph.get("matrices", {}).get(domain) or domain
        domains.append(
            Row(
                label=text(label),
                total=len(techniques),
                counts=[Row(label=text(CLASS_LABELS[c]), n=counts.get(c, 0)) for c in CLASSES],
                heatmap=group_heatmap(site, page, techniques, domain),
                rows=rows,
                downloads=group_downloads(site, page, domain, n["id"]),
            )
        )
    aliases = [a for a in getattr(rec, "aliases", ()) if a != n["name"]]
    return {
        "id": text(n["id"]),
        "name": text(n["name"]),
        "aliases": text(", ".join(aliases)),
        "description": prose(rec.description, citations, tlink),
        "url": link(text(f"{n['id']} on attack.mitre.org"), rec.url),
        "attack_version": text(site.attack_version),
        "domains": domains,
        "references": [Row(n=i, ref=link(text(r.description or r.name), r.url) if r.url else text(r.description or r.name)) for i, r in citations.entries()],
        "index": site.link(page, "index", Md("Index")),
    }
