"""The build's conversion step: every Sigma rule of the workspace into the languages of
`[settings].query_languages`, put on the rules' graph nodes (`conversions`) so that
pages, STIX bundles and query packs read results and never convert.

Run once per workspace and graph; the build calls it between the graph and the
renderers, and a renderer run outside a build (tests, `show`) gets the same through the
same call.
"""

from __future__ import annotations

from typing import Callable

from pipeline.convert.run import Conversions, convert_rules, sigma_texts
from pipeline.ingest.detections.cache import default_cache_dir
from pipeline.ingest.detections.corpus import default_jobs

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
    found = convert_rules(rules, languages, cache_dir=default_cache_dir(ws.config.file), jobs=default_jobs(), progress=progress, limits=ws.config.limits)
    attach(g, found)
    memo[(id(g), languages)] = found
    return found


def attach(g, conversions: Conversions) -> None:
    """`conversions` on each converted rule's node; the counts on the graph."""
    nodes = g.nodes
    for rid, results in conversions.by_detection.items():
        key = f"detection:{rid}"
        if key in nodes:
            nodes[key]["conversions"] = results
    g.graph["query_conversions"] = {"languages": list(conversions.languages), "counts": conversions.counts()}
