"""Detections as page Markdown: queries in fences, and the one-line header that says
what a detection is, where it comes from and whether it counts.

A query is rendered once per detection and reused on every technique page that lists
it (a popular Sigma rule appears on several), which is most of the pages' bytes.
"""

from __future__ import annotations

from pipeline.model.detections import Detection
from pipeline.core.escape import Md, codespan, fence, link, text
from pipeline.render.pages.pageset import Site

# Fence info strings: the seed's `Kusto` for KQL; a Sigma rule is YAML (highlighters know
# YAML, none knows Sigma), the page says "Sigma" beside it.
FENCE_INFO = {"kql": "Kusto", "sigma": "yaml"}
LANGUAGE_LABELS = {
    "kql": "KQL",
    "sigma": "Sigma",
    "spl": "SPL",
    "eql": "EQL",
    "esql": "ES|QL",
    "kuery": "KQL (Kibana)",
    "lucene": "Lucene",
    "sql": "SQL",
    "machine-learning": "machine-learning job",
    "text": "text",
}


def language_label(language: str) -> str:
    return LANGUAGE_LABELS.get(language, language)


def queries_md(site: Site, key: str) -> Md:
    """Every query of a detection, each in a fence labelled with its language; a label
    line only where the query's own first line does not already say it."""
    found = site.memo.get(key)
    if found is None:
        found = site.memo[key] = _queries_md(site.g.nodes[key]["record"])
    return found


def _queries_md(d: Detection) -> Md:
    parts = []
    for q in d.queries:
        if not q.text.strip():
            if q.label:
                parts.append(f"{text(language_label(q.language)).capitalize()}: {codespan(q.label)}")
            continue
        first = q.text.lstrip().split("\n", 1)[0]
        if q.label and q.label not in first:
            parts.append(f"*{text(q.label)}*")
        parts.append(fence(q.text, FENCE_INFO.get(q.language, q.language)))
    return Md("\n\n".join(parts))


def flags_md(d: Detection) -> Md:
    if not d.flags:
        return Md("")
    return Md(f"**{text(', '.join(d.flags))}**: not counted as coverage")


def header_md(site: Site, from_page: str, key: str, via: dict | None = None) -> Md:
    """`**[Title](page)** — Sigma · [source file](url) · DRL-1.1`, with any flags and,
    for an id published as a revoked or deprecated one, what it was published as."""
    folder = from_page.rpartition("/")[0]
    memo = f"{key}\0{folder}"
    found = site.memo.get(memo)
    if found is None:
        found = site.memo[memo] = _header_md(site, from_page, key)
    if via and via.get("published_id"):
        note = text(f"published for {via['published_id']} ({via.get('published_status') or 'changed'})")
        return Md(f"{found} · {note}")
    return found


def _header_md(site: Site, from_page: str, key: str) -> Md:
    d: Detection = site.g.nodes[key]["record"]
    source = site.detection_sources.get(d.source)
    label = source.label if source else d.source
    bits = [text(label)]
    languages = ", ".join(language_label(x) for x in d.languages if x != "text")
    if languages and languages not in label:
        bits.append(text(languages))
    if source:
        url = source.file_url(d.path)
        if url:
            bits.append(link(Md("source file"), url))
    if d.license:
        bits.append(text(d.license))
    if d.flags:
        bits.append(flags_md(d))
    title = text(d.title) or text(d.native_id)
    return Md(f"**{site.link(from_page, key, title)}** — " + " · ".join(bits))
