"""The technique card: the hunting-card seed and the Mappings Explorer page, joined.

Sections in the seed card's order — title, ATT&CK description, `---`, Query, Category
(the tactic table with the seed's non-ATT&CK rows) — then what the Mappings Explorer
page adds (one mapping table per framework, with scores, comments and references),
ATT&CK mitigations, sub-techniques with their coverage, See also and Contributor info,
and the numbered references of the description last.
"""

from __future__ import annotations

import re
from html import escape

from pipeline.graph.coverage import CLASS_LABELS, Coverage
from pipeline.graph.controls import controls_of_technique
from pipeline.graph.detections import detections_of
from pipeline.graph.views import _analytic
from pipeline.model.domains import DOMAINS
from pipeline.convert.targets import TARGETS
from pipeline.render.pages.converted import card_section, is_sigma, languages
from pipeline.render.pages.downloads import technique_downloads
from pipeline.core.escape import EMPTY, Md, cell, link, text
from pipeline.render.pages.mappings import mapping_notes_html, mapping_type_html
from pipeline.render.pages.pictures import technique_picture
from pipeline.render.pages.prose import Citations, prose
from pipeline.render.pages.queries import header_md, queries_md
from pipeline.render.pages.pageset import Row, Site

# The seed card's rows after the tactics: states a hunting card may mark.
STATE_ROWS = ("Vulnerability", "Misconfiguration", "Malware, component")
_LINKED_TECHNIQUE = re.compile(r"attack\.mitre\.org/techniques/(T\d{4})(?:/(\d{3}))?")


def coverage_md(c: Coverage | None) -> Md:
    if c is None:
        return text("not in coverage (deprecated)")
    parts = [CLASS_LABELS[c.klass]]
    if c.controls:
        parts.append("controls: " + ", ".join(f"{k} {v}" for k, v in c.controls.items()))
    if c.detections:
        parts.append("detections: " + ", ".join(f"{k} {v}" for k, v in c.detections.items()))
    return text("; ".join(parts))


def _technique_link(site: Site, page: str):
    def to(attack_id: str) -> str | None:
        return site.href(page, f"technique:{attack_id}")

    return to


def _detections(site: Site, page: str, view: dict) -> tuple[list[dict], Md, list[dict]]:
    """The technique's detections, sources in the order of the sources file, as
    (leading, converted, others): first the corpora's own queries in the main query
    language (`[settings].query_languages`; the seed's KQL hunting queries), then the
    Sigma rules as pySigma converted them (`converted.py`; their YAML is on their own
    pages), then the queries of the other languages."""
    order = {name: i for i, name in enumerate(site.detection_sources)}
    items = sorted(view["detections"], key=lambda d: (order.get(d["source"], len(order)), d["source"], d["title"].lower(), d["id"]))
    main = languages(site)[:1]
    runnable = set(TARGETS[main[0]].native) if main else set()
    leading, sigma, others = [], [], []
    for d in items:
        key = f"detection:{d['id']}"
        if is_sigma(site, key):
            sigma.append((key, d))
            continue
        row = Row(header=header_md(site, page, key, d), queries=queries_md(site, key))
        (leading if runnable.intersection(d["languages"]) else others).append(row)
    return leading, card_section(site, page, sigma), others


def _analytics(view: dict, citations: Citations, tlink) -> list[dict]:
    out = []
    for s in view["detection_strategies"]:
        analytics = []
        for a in s["analytics"]:
            sources = []
            for ls in a["log_sources"]:
                label = ls["name"] + (f" ({ls['channel']})" if ls["channel"] else "")
                sources.append(text(label + (f" [{ls['data_component']}]" if ls["data_component"] else "")))
            analytics.append(
                Row(
                    id=text(a["id"]),
                    platforms=text(", ".join(a["platforms"])),
                    description=prose(a["description"], citations, tlink, in_cell=True),
                    log_sources=Md("; ".join(sources)),
                )
            )
        out.append(Row(id=text(s["id"]), name=text(s["name"]), url=_attack_url("detectionstrategies", s["id"]), analytics=analytics))
    return out


def _attack_url(path: str, attack_id: str) -> Md:
    return Md(f"https://attack.mitre.org/{path}/{text(attack_id)}/")


def _category(site: Site, page: str, key: str, view: dict) -> list[dict]:
    """Every tactic of the technique's domains in matrix order, its own marked `v`, then
    the states the seed card lists, marked where one of its hunting cards marks them."""
    g = site.g
    n = g.nodes[key]
    mine = {f"tactic:{t['id']}" for t in view["tactics"]}
    url = text(n["record"].url)
    rows = []
    for domain in DOMAINS:
        if domain not in n["domains"]:
            continue
        for tactic in g.graph.get("tactics", {}).get(domain, ()):
            tkey = f"tactic:{tactic}"
            if tkey not in g:
                continue
            marked = tkey in mine
            rows.append(Row(label=site.link(page, tkey, text(g.nodes[tkey]["name"])), mark=Md("v" if marked else ""), note=url if marked else EMPTY))
    states: dict[str, list[str]] = {}
    for d in view["detections"]:
        rec = g.nodes[f"detection:{d['id']}"]["record"]
        for tag in rec.tags:
            states.setdefault(tag.lower(), []).append(f"detection:{d['id']}")
    for label in STATE_ROWS:
        found = states.get(label.lower(), [])
        note = Md(", ".join(site.link(page, k, text(g.nodes[k]["name"])) for k in found))
        rows.append(Row(label=text(label), mark=Md("v" if found else ""), note=note))
    return rows


MAPPING_HEADER = ("Capability ID", "Capability Description", "Mapping Type", "Notes")


def mapping_tables(site: Site, page: str, key: str, controls: dict[str, list[dict]]) -> list[dict]:
    """One table per framework: the seed's columns less the technique's id and name,
    which would repeat on every row (what reconciliation changed about them is in the
    Notes). Raw HTML in a `<details>`, open: folded by a click, without JavaScript, and
    Notes wrap in the column instead of widening the table."""
    n = site.g.nodes[key]
    tables = []
    head = "".join(f"<th>{h}</th>" for h in MAPPING_HEADER)
    for framework, entries in controls.items():
        rows = []
        categories: dict[str, int] = {}
        for e in entries:
            ckey = f"control:{framework}/{e['framework_version']}:{e['id']}" if e["subject_kind"] == "control" else f"capability:{framework}:{e['id']}"
            href = site.href(page, ckey)
            ident = escape(e["id"])
            ident = f'<a href="{escape(href)}">{ident}</a>' if href else ident
            notes = mapping_notes_html(e, n["name"], n["id"])
            rows.append(f"<tr><td>{ident}</td><td>{escape(e['name'])}</td><td>{mapping_type_html(e)}</td><td>{notes}</td></tr>")
            word = e["score_category"] or e["mapping_type"] or e["kind"] or ""
            categories[word] = categories.get(word, 0) + 1
        versions = ", ".join(dict.fromkeys(e["framework_version"] for e in entries if e["framework_version"]))
        label = text(f"{site.framework_label(framework)} {versions}".strip())
        subjects = len({e["id"] for e in entries})
        summary = f"{subjects} controls or capabilities, {len(entries)} mappings" + "".join(f" · {escape(k)} {v}" for k, v in categories.items() if k)
        table = (
            f'<details class="atk-fold" open><summary>{summary}</summary>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
        )
        tables.append(Row(title=site.link(page, f"framework:{framework}", label), table=Md(table)))
    return tables


def _related(site: Site, page: str, key: str, view: dict) -> list[Md]:
    """Sibling sub-techniques and techniques the description links to."""
    g = site.g
    found: list[str] = []
    if view["parent"]:
        found += [u for u, _, d in g.in_edges(f"technique:{view['parent']['id']}", data=True) if d["relation"] == "subtechnique_of"]
    for m in _LINKED_TECHNIQUE.finditer(view["technique"]["description"]):
        found.append(f"technique:{m.group(1)}" + (f".{m.group(2)}" if m.group(2) else ""))
    skip = {key} | {f"technique:{s['id']}" for s in view["subtechniques"]}
    if view["parent"]:
        skip.add(f"technique:{view['parent']['id']}")
    keys = sorted({k for k in found if k not in skip and k in site.pages})
    return [site.named_link(page, k) for k in keys]


def _brief(g, key: str) -> dict:
    n = g.nodes[key]
    return {"id": n["id"], "name": n["name"], "deprecated": n["deprecated"]}


def card_view(g, key: str) -> dict:
    """What the card shows of a technique, from one pass over its edges. (`technique_view`
    of `show` also gathers every group, software and campaign that uses it — hundreds for
    a popular technique — which the card leaves out; this halves the cards' time.)"""
    rec = g.nodes[key]["record"]
    view: dict = {"technique": {"attack_id": rec.attack_id, "name": rec.name, "description": rec.description, "url": rec.url}}
    tactics, parent = [], None
    for _, v, d in g.out_edges(key, data=True):
        if d["relation"] == "in_tactic":
            tactics.append(v)
        elif d["relation"] == "subtechnique_of":
            parent = v
    subs, mitigations, strategies = [], [], []
    for u, _, d in g.in_edges(key, data=True):
        relation = d["relation"]
        if relation == "subtechnique_of":
            subs.append(u)
        elif relation == "mitigates" and g.nodes[u]["kind"] == "mitigation":
            mitigations.append((u, d.get("description", "")))
        elif relation == "detects" and g.nodes[u]["kind"] == "detection_strategy":
            strategies.append(u)
    order = {t: i for i, t in enumerate(rec.tactics)}
    view["tactics"] = [_brief(g, t) for t in sorted(tactics, key=lambda t: (order.get(g.nodes[t]["id"], len(order)), t))]
    view["parent"] = _brief(g, parent) if parent else None
    view["subtechniques"] = [_brief(g, s) for s in sorted(subs)]
    view["mitigations"] = [_brief(g, u) | {"how": how} for u, how in sorted(mitigations)]
    view["detection_strategies"] = [
        _brief(g, s) | {"analytics": [_analytic(g, f"analytic:{a}") for a in g.nodes[s]["record"].analytics if f"analytic:{a}" in g]}
        for s in sorted(strategies)
    ]
    view["controls"] = controls_of_technique(g, key)
    view["detections"] = detections_of(g, key)
    return view


def technique_context(site: Site, key: str) -> dict:
    g = site.g
    page = site.pages[key]
    view = card_view(g, key)
    t = view["technique"]
    citations = Citations(site.texts.references)
    tlink = _technique_link(site, page)
    description = prose(t["description"], citations, tlink)
    mitigations = [
        Row(
            id=link(text(m["id"]), g.nodes[f"mitigation:{m['id']}"]["record"].url),
            name=cell(m["name"]),
            how=prose(m["how"], citations, tlink, in_cell=True),
        )
        for m in view["mitigations"]
    ]
    subs = [
        Row(link=site.link(page, f"technique:{s['id']}"), name=cell(s["name"]), coverage=coverage_md(site.coverage.get(f"technique:{s['id']}")))
        for s in view["subtechniques"]
        if not s.get("deprecated")
    ]
    authors: dict[str, None] = {}
    for d in view["detections"]:
        for a in g.nodes[f"detection:{d['id']}"]["record"].authors:
            authors.setdefault(a, None)
    leading, converted, others = _detections(site, page, view)
    downloads = [x for d in DOMAINS if d in g.nodes[key]["domains"] for x in technique_downloads(site, page, d)]
    return {
        "id": text(t["attack_id"]),
        "name": text(t["name"]),
        "description": description,
        "attack_version": text(site.attack_version),
        "coverage": coverage_md(site.coverage.get(key)),
        "coverage_picture": technique_picture(site, page, key, [f"technique:{s['id']}" for s in view["subtechniques"] if not s.get("deprecated")]),
        "detections": leading,
        "converted": converted,
        "other_detections": others,
        "analytics": _analytics(view, citations, tlink),
        "category": _category(site, page, key, view),
        "mapping_tables": mapping_tables(site, page, key, view["controls"]),
        "mitigations": mitigations,
        "subtechniques": subs,
        "parent": site.named_link(page, f"technique:{view['parent']['id']}") if view["parent"] else None,
        "tactics": [site.link(page, f"tactic:{x['id']}", text(x["name"])) for x in view["tactics"]],
        "related": _related(site, page, key, view),
        "url": link(text(f"{t['attack_id']} on attack.mitre.org"), t["url"]),
        "downloads": downloads,
        "attack_contributors": text(", ".join(site.texts.contributors.get(key, ()))),
        "detection_authors": text(", ".join(authors)),
        "references": [Row(n=n, ref=_reference(r)) for n, r in citations.entries()],
        "profile_badges": site.profile_badges.get(key, ()),
    }


def _reference(r) -> Md:
    label = text(r.description or r.name)
    return link(label, r.url) if r.url else label
