"""The build's conversion step: every Sigma rule of the workspace into the languages of
`[settings].query_languages`, put on the rules' graph nodes (`conversions`) so that
pages, STIX bundles and query packs read results and never convert.

Run once per workspace and graph; the build calls it between the graph and the
renderers, and a renderer run outside a build (tests, `show`) gets the same through the
same call.
"""

from __future__ import annotations

import functools
from typing import Callable

from pipeline.convert.run import SIGMA_FORMAT, Conversions, QueryCache, convert_records, convert_rules, sigma_texts
from pipeline.convert.targets import target
from pipeline.ingest.detections.cache import default_cache_dir
from pipeline.ingest.detections.corpus import Alongside, default_jobs

Progress = Callable[[str], None]


def gather(ws, g=None, progress: Progress | None = None, languages: tuple[str, ...] | None = None) -> Conversions | None:
    """Conversions of the workspace's Sigma rules (None for an ATT&CK-only workspace);
    `languages` other than the sources file's (`show --query`)."""
    if ws.attack_only:
        return None
    g = ws.graph(progress) if g is None else g
    memo = ws.cache.setdefault("query_conversions", {})
    languages = tuple(ws.config.query_languages) if languages is None else tuple(languages)
    found = memo.get((id(g), languages))
    if found is not None:
        return found

    rules = sigma_texts(ws.detections(progress).detections)
    made = ws.cache.get(ALONGSIDE, {})
    found = convert_rules(
        rules, languages, cache_dir=default_cache_dir(ws.config.file), jobs=default_jobs(), progress=progress, limits=ws.config.limits,
        converted=made,
    )
    attach(g, found)
    memo[(id(g), languages)] = found
    return found


# The workspace's memo of the conversions made beside the detection parse.
ALONGSIDE = "queries_alongside"


def alongside(ws) -> Alongside | None:
    """The Sigma rules' conversion beside the detection parse (`parsing_meanwhile`): for
    a cold build, the languages with no query cache yet are converted batch by batch
    where the rule files are parsed, and `gather` takes those results instead of
    converting after the graph. None for an ATT&CK-only workspace, or when every
    language has its cache (a build with a cache converts only the rules that changed,
    which `gather` finds among thousands it need not convert; a parse of a rule file
    does not say whether its rule's text is in the cache)."""
    if ws.attack_only:
        return None
    cache_dir = default_cache_dir(ws.config.file)
    languages = tuple(lang for lang in ws.config.query_languages if not QueryCache.kept(cache_dir, target(lang)))
    if not languages:
        return None
    made: dict[str, dict[str, dict]] = ws.cache.setdefault(ALONGSIDE, {})

    def take(result) -> None:
        if isinstance(result, dict):
            for lang, entries in result.items():
                if isinstance(entries, dict):
                    made.setdefault(lang, {}).update(entries)

    return Alongside(format=SIGMA_FORMAT, work=functools.partial(convert_records, languages, ws.config.limits), take=take)


def converted_alongside(ws) -> bool:
    """Whether the workspace's load converted rules beside the parse (`alongside`)."""
    return any(ws.cache.get(ALONGSIDE, {}).values())


def attach(g, conversions: Conversions) -> None:
    """`conversions` on each converted rule's node; the counts on the graph."""
    nodes = g.nodes
    for rid, results in conversions.by_detection.items():
        key = f"detection:{rid}"
        if key in nodes:
            nodes[key]["conversions"] = results
    g.graph["query_conversions"] = {"languages": list(conversions.languages), "counts": conversions.counts()}
