"""Sigma rules as runnable queries on the pages: the converted queries of the technique
card's Query section and of each rule's own page.

The conversions were made before rendering (`pipeline.convert`) and sit on each rule's
graph node; this module only lays them out. On the docs site (mkdocs-material), several
languages sit in content tabs (`=== "KQL"`, pymdownx.tabbed) and a long list of rules
folds after the first few (`??? note`, pymdownx.details); both take their content
indented by four spaces, which `indent` adds to every line, blank ones included, so
that the query between the fences is the backend's text exactly once the block's own
indentation is removed. Plain Markdown readers see the same text as an indented block.
"""

from __future__ import annotations

from pipeline.convert.targets import TARGETS
from pipeline.model.detections import Detection
from pipeline.core.escape import Md, fence, link, text
from pipeline.render.pages.queries import flags_md
from pipeline.render.pages.pageset import Site

SIGMA_FORMAT = "sigma-yaml"
# Rules shown before the rest of a language's list folds.
SHOWN = 5
INDENT = "    "


def is_sigma(site: Site, key: str) -> bool:
    return site.g.nodes[key]["record"].format == SIGMA_FORMAT


def indent(md: str, times: int = 1) -> Md:
    pad = INDENT * times
    return Md("\n".join(pad + line for line in md.split("\n")))


def tabs(parts: list[tuple[str, Md]]) -> Md:
    """Content tabs, one per (label, content); one part is the content alone."""
    if len(parts) == 1:
        return parts[0][1]
    return Md("\n\n".join(f'=== "{_quoted(label)}"\n\n{indent(body)}' for label, body in parts))


def folded(title: str, body: Md) -> Md:
    """A collapsed block (pymdownx.details) titled `title`."""
    return Md(f'??? note "{_quoted(title)}"\n\n{indent(body)}')


def _quoted(label: str) -> str:
    """A title inside `"…"` of a tab or details marker: our own words, quotes and
    backslashes dropped, Markdown escaped."""
    return text(label.replace('"', "").replace("\\", ""))


def languages(site: Site) -> list[str]:
    return list((site.g.graph.get("query_conversions") or {}).get("languages", ()))


def converter(site: Site, language: str) -> str:
    counts = (site.g.graph.get("query_conversions") or {}).get("counts", {})
    return counts.get(language, {}).get("converter", "")


def results(site: Site, key: str) -> dict:
    """language → Conversion of one rule (empty when the rule was not converted)."""
    return {c.language: c for c in site.g.nodes[key].get("conversions", ())}


def rule_line(site: Site, page: str, key: str, via: dict | None = None) -> Md:
    """`**[Title](page)** — level high · status test · [source file](url) · DRL-1.1 ·
    flags`: what a defender needs before running a converted rule, the link to the
    rule's page and, as its licence asks, to where it comes from."""
    folder = page.rpartition("/")[0]
    memo = f"sigma-line\0{key}\0{folder}"
    found = site.memo.get(memo)
    if found is None:
        d: Detection = site.g.nodes[key]["record"]
        bits = [text(f"level {d.severity or 'not given'}"), text(f"status {d.status or 'not given'}")]
        source = site.detection_sources.get(d.source)
        url = source.file_url(d.path) if source else None
        if url:
            bits.append(link(Md("source file"), url))
        if d.license:
            bits.append(text(d.license))
        if d.flags:
            bits.append(flags_md(d))
        title = text(d.title) or text(d.native_id)
        found = site.memo[memo] = Md(f"**{site.link(page, key, title)}** — " + " · ".join(bits))
    if via and via.get("published_id"):
        return Md(f"{found} · " + text(f"published for {via['published_id']} ({via.get('published_status') or 'changed'})"))
    return found


def query_blocks(queries: tuple[str, ...], language: str) -> Md:
    t = TARGETS[language]
    return Md("\n\n".join(fence(q, t.fence) for q in queries))


def card_section(site: Site, page: str, rules: list[tuple[str, dict]]) -> Md:
    """The card's Sigma rules as queries in every chosen language (`rules`: (node key,
    the technique view's entry)), each language's list folding after `SHOWN` rules and
    ending with the rules the backend could not convert and why."""
    langs = languages(site)
    if not rules or not langs:
        return Md("")
    parts = []
    for lang in langs:
        t = TARGETS[lang]
        done, failed = [], []
        for key, via in rules:
            c = results(site, key).get(lang)
            if c is not None and c.ok:
                done.append(Md(f"{rule_line(site, page, key, via)}\n\n{query_blocks(c.queries, lang)}"))
            else:
                why = c.reason if c is not None else "not converted"
                failed.append(Md(f"- {rule_line(site, page, key, via)}: " + text(why)))
        intro = text(
            f"{len(done)} of {len(rules)} Sigma rules naming this technique converted to {t.label} "
            f"by {converter(site, lang)}; each rule's page shows the rule itself."
        )
        body = [Md(f"*{intro}*")]
        body += done[:SHOWN]
        if len(done) > SHOWN:
            body.append(folded(f"{len(done) - SHOWN} more Sigma rules in {t.language}", Md("\n\n".join(done[SHOWN:]))))
        if failed:
            body.append(Md(text(f"Not converted to {t.label} ({len(failed)}), with the backend's reason:") + "\n\n" + "\n".join(failed)))
        parts.append((t.language if len(set(TARGETS[x].language for x in langs)) == len(langs) else t.label, Md("\n\n".join(body))))
    heading = "Sigma rules as " + (TARGETS[langs[0]].label if len(langs) == 1 else "queries")
    return Md(f"### {text(heading)}\n\n{tabs(parts)}")


def detection_section(site: Site, key: str) -> Md:
    """A Sigma rule's page: every conversion (or the backend's reason), then the rule."""
    langs = languages(site)
    found = results(site, key)
    parts = []
    for lang in langs:
        t = TARGETS[lang]
        c = found.get(lang)
        if c is not None and c.ok:
            body = Md(f"{query_blocks(c.queries, lang)}\n\n*{text('Converted by ' + converter(site, lang))}.*")
        else:
            reason = c.detail or c.reason if c is not None else "not converted"
            body = Md(text(f"Not converted to {t.label} by {converter(site, lang)}: {reason}"))
        parts.append((t.label, body))
    if not parts:
        return Md("")
    return tabs(parts) if len(parts) > 1 else Md(f"### {text(TARGETS[langs[0]].label)}\n\n{parts[0][1]}")
