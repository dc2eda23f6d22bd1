"""Every page of the docs tree as (path under docs/, Markdown), in a stable order.

A page is named by a key: a graph node key (`technique:T1046`, `control:…`,
`detection:…`, `tactic:…`) or one of the pages that are not nodes
(`framework:<id>`, `detection_source:<name>`, `index`). Each kind has one context
builder and one template.
"""

from __future__ import annotations

from typing import Callable, Iterator

from pipeline.render.pages.environment import template
from pipeline.render.pages.pageset import Site
from pipeline.render.pages.control import control_context
from pipeline.render.pages.detection import detection_context, source_list_context
from pipeline.render.pages.group import group_context
from pipeline.render.pages.overview import framework_context, index_context, tactic_context
from pipeline.render.pages.technique import technique_context

# Page kinds in the order they are written: key prefix → template.
KINDS: dict[str, str] = {
    "technique": "docs-technique.md.j2",
    "tactic": "docs-tactic.md.j2",
    "group": "docs-group.md.j2",
    "control": "docs-control.md.j2",
    "capability": "docs-control.md.j2",
    "detection": "docs-detection.md.j2",
    "detection_source": "docs-detection-source.md.j2",
    "framework": "docs-framework.md.j2",
    "index": "docs-index.md.j2",
}


def _builders() -> dict[str, Callable[[Site, str], dict]]:
    return {
        "technique": technique_context,
        "tactic": tactic_context,
        "group": group_context,
        "control": control_context,
        "capability": control_context,
        "detection": detection_context,
        "detection_source": lambda site, key: source_list_context(site, key.split(":", 1)[1]),
        "framework": lambda site, key: framework_context(site, key.split(":", 1)[1]),
        "index": lambda site, key: index_context(site),
    }


def page_keys(site: Site) -> list[str]:
    """Every page's key, grouped by kind (in `KINDS` order), sorted within a kind."""
    by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
    for key in site.pages:
        by_kind[key.split(":", 1)[0]].append(key)
    return [k for keys in by_kind.values() for k in sorted(keys)]


def page_markdown(site: Site, key: str, builders: dict | None = None) -> str:
    kind = key.split(":", 1)[0]
    build = (builders or _builders())[kind]
    return template(KINDS[kind]).render(build(site, key))


def all_pages(site: Site, keys: list[str] | None = None) -> Iterator[tuple[str, str]]:
    builders = _builders()
    for key in page_keys(site) if keys is None else keys:
        yield site.pages[key], page_markdown(site, key, builders)
