"""Links from layers to the docs site; none at all when `site_url` is unset.

Navigator needs absolute URLs, so links exist only when the sources file sets
`site_url`. Page paths follow the docs tree: `techniques/T1046.md` is served at
`<site_url>/techniques/T1046/`, a control page at `<site_url>/controls/<framework>/<id>/`
with both parts named as the pages name them (`pipeline.render.naming.stem`).
"""

from __future__ import annotations

import functools
from typing import Iterable

from pipeline.render.navigator.layer import Link
from pipeline.render.naming import stem


def _base(site_url: str) -> str:
    return site_url.rstrip("/")


def technique_links(site_url: str, technique_id: str) -> tuple[Link, ...]:
    if not site_url:
        return ()
    return (Link(label=f"{technique_id} in the docs", url=f"{_base(site_url)}/techniques/{technique_id}/"),)


@functools.lru_cache(maxsize=4096)
def control_url(site_url: str, framework: str, control_id: str) -> str:
    # The docs pages' own names, so that links land on pages.
    return f"{_base(site_url)}/controls/{stem(framework)}/{stem(control_id)}/"


def framework_url(site_url: str, framework: str) -> str:
    return f"{_base(site_url)}/frameworks/{stem(framework)}/"


def entry_links(site_url: str, technique_id: str, subjects: Iterable[tuple[str, str]]) -> tuple[Link, ...]:
    """The technique page, then the page of each control or capability (framework, id) once."""
    if not site_url:
        return ()
    links = list(technique_links(site_url, technique_id))
    seen: set[str] = set()
    for framework, control_id in subjects:
        url = control_url(site_url, framework, control_id)
        if url not in seen:
            seen.add(url)
            links.append(Link(label=f"{control_id} in the docs", url=url))
    return tuple(links)
