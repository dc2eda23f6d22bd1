"""Control and capability pages (`controls/<framework>/<id>.md`): what the control says,
where it sits in its framework, and every technique it maps with its score."""

from __future__ import annotations

from pipeline.render.pages.downloads import control_downloads
from pipeline.core.escape import Md, cell, para, text, url_text
from pipeline.render.pages.mappings import mapping_notes, mapping_type
from pipeline.render.pages.pageset import Row, Site


def _mapped(site: Site, page: str, key: str) -> list[dict]:
    g = site.g
    edges = [(v, d) for _, v, d in g.out_edges(key, data=True) if "source" in d]
    edges.sort(key=lambda e: (e[0], e[1]["relation"], e[1]["score_category"] or "", e[1]["score_value"] or "", e[1]["source"]))
    rows = []
    for target, d in edges:
        n = g.nodes[target]
        rows.append(
            Row(
                id=site.link(page, target),
                name=cell(n["name"]),
                type=mapping_type(d),
                source=cell(d["source"]),
                notes=mapping_notes(d, n["name"], n["id"]),
            )
        )
    return rows


def control_context(site: Site, key: str) -> dict:
    g = site.g
    n = g.nodes[key]
    page = site.pages[key]
    rec = n["record"]
    facts = [("Framework", site.link(page, f"framework:{n['framework']}", text(f"{site.framework_label(n['framework'])} {n['framework_version']}".strip())))]
    if n["kind"] == "control":
        family = " ".join(x for x in (n.get("family"), n.get("family_name")) if x)
        facts.append(("Family", text(family)))
        parents = [v for _, v, d in g.out_edges(key, data=True) if d["relation"] == "enhancement_of"]
        if parents:
            facts.append(("Enhancement of", Md(", ".join(site.named_link(page, p) for p in parents))))
        if rec.baselines:
            facts.append(("Baselines", text(", ".join(rec.baselines))))
        if rec.withdrawn:
            facts.append(("Status", Md("withdrawn")))
        body = para(n.get("text") or "")
        discussion = para(rec.discussion)
    else:
        if n.get("group_name") != n["name"] or n.get("group") != n["id"]:
            facts.append(("Group", text(" ".join(x for x in (n.get("group"), n.get("group_name")) if x))))
        facts.append(("Platform", text(n.get("platform") or "")))
        body = para(n.get("description") or "")
        discussion = para(rec.comments)
    enhancements = sorted(u for u, _, d in g.in_edges(key, data=True) if d["relation"] == "enhancement_of")
    references = [url_text(u) for u in getattr(rec, "references", ())]
    return {
        "id": text(n["id"]),
        "name": text(n["name"]),
        "kind": Md("control" if n["kind"] == "control" else "capability"),
        "facts": [Row(label=Md(k), value=v) for k, v in facts if v],
        "body": body,
        "discussion": discussion,
        "mapped": _mapped(site, page, key),
        "enhancements": [site.named_link(page, e) for e in enhancements],
        "references": references,
        "downloads": control_downloads(site, page, key),
        "index": site.link(page, "index", Md("Index")),
    }
