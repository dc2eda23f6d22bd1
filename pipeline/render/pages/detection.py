"""Detection pages (`detections/<source>/<id>.md`) and one list per detection source."""

from __future__ import annotations

from pipeline.model.detections import Detection
from pipeline.render.pages.converted import detection_section, is_sigma
from pipeline.core.escape import EMPTY, Md, cell, codespan, link, para, text, url_text
from pipeline.render.pages.queries import flags_md, language_label, queries_md
from pipeline.render.pages.pageset import Row, Site


def _techniques(site: Site, page: str, key: str) -> list[dict]:
    g = site.g
    rows = []
    for _, target, d in sorted(g.out_edges(key, data=True), key=lambda e: e[1]):
        if d.get("relation") != "detects" or g.nodes[target]["kind"] != "technique":
            continue
        n = g.nodes[target]
        published = d.get("published_id", "")
        found = f"{d.get('how', '')}" + (f"; published as {published} ({d.get('status')})" if published and published != n["id"] else "")
        rows.append(Row(id=site.link(page, target), name=cell(n["name"]), tactics=_tactic_links(site, page, target), how=cell(found)))
    return rows


def _tactic_links(site: Site, page: str, technique: str) -> Md:
    """A technique's tactics as links; the same for every page of a folder, so kept."""
    memo = f"tactics\0{technique}\0{page.rpartition('/')[0]}"
    found = site.memo.get(memo)
    if found is None:
        g = site.g
        tactics = sorted(v for _, v, e in g.out_edges(technique, data=True) if e["relation"] == "in_tactic")
        found = site.memo[memo] = Md(", ".join(site.link(page, v, text(g.nodes[v]["name"])) for v in tactics))
    return found


def _tactics(site: Site, page: str, key: str, d: Detection) -> list[Md]:
    """Tactics the detection names (linked where the release has them)."""
    out = []
    for t in d.tactics:
        tkey = f"tactic:{t.attack_id}" if t.attack_id else ""
        label = text(t.shortname + (f" ({t.how})" if t.how else ""))
        out.append(site.link(page, tkey, label) if tkey in site.g else label)
    return out


def detection_context(site: Site, key: str) -> dict:
    d: Detection = site.g.nodes[key]["record"]
    page = site.pages[key]
    source = site.detection_sources.get(d.source)
    facts = [
        ("Source", Md(f"{text(source.label if source else d.source)} ({text(d.source)})")),
        ("File", link(text(d.path), source.file_url(d.path)) if source else text(d.path)),
        ("Rule id", text(d.native_id)),
        ("Licence", text(d.license)),
        ("Status", text(d.status)),
        ("Severity", text(d.severity)),
        ("Languages", text(", ".join(language_label(x) for x in d.languages))),
        ("Authors", cell(", ".join(d.authors))),
        ("Data sources", cell(", ".join(d.data_sources))),
        ("Tags", cell(", ".join(d.tags))),
    ]
    return {
        "title": text(d.title) or text(d.native_id),
        "flags": flags_md(d),
        "facts": [Row(label=Md(k), value=v) for k, v in facts if v],
        "description": para(d.description),
        "converted": detection_section(site, key) if is_sigma(site, key) else EMPTY,
        "queries": queries_md(site, key),
        "techniques": _techniques(site, page, key),
        "tactics": _tactics(site, page, key, d),
        "references": [url_text(u) for u in d.references],
        "source_list": site.link(page, f"detection_source:{d.source}", text(f"All {source.label if source else d.source} detections")),
        "index": site.link(page, "index", Md("Index")),
    }


def source_list_context(site: Site, source: str) -> dict:
    """Every detection of one source, with the techniques it names."""
    g = site.g
    key = f"detection_source:{source}"
    page = site.pages[key]
    info = site.detection_sources.get(source)
    rows = []
    keys = [k for k in site.by_kind.get("detection", []) if g.nodes[k]["source"] == source]
    keys.sort(key=lambda k: (g.nodes[k]["name"].lower(), k))
    for k in keys:
        d: Detection = g.nodes[k]["record"]
        techniques = [site.link(page, v) for _, v, e in sorted(g.out_edges(k, data=True), key=lambda e: e[1]) if e.get("relation") == "detects"]
        rows.append(
            Row(
                link=site.link(page, k, cell(d.title) or cell(d.native_id)),
                languages=cell(", ".join(language_label(x) for x in d.languages)),
                techniques=Md(", ".join(techniques)),
                status=cell(", ".join(dict.fromkeys(x for x in (d.status, *d.flags) if x))),
            )
        )
    return {
        "label": text(info.label if info else source),
        "name": codespan(source),
        "license": text(info.license) if info else EMPTY,
        "upstream": link(text(info.upstream), info.tree_url) if info else EMPTY,
        "count": len(rows),
        "rows": rows,
        "index": site.link(page, "index", Md("Index")),
    }
