"""`docs/`: the Markdown pages of the build — technique cards, tactics, frameworks,
controls and capabilities, detections, and an index.

Gather, then write: `Site.gather` decides every page's path first (so every link is
known to resolve), the builders turn graph data into escaped Markdown fragments, and
the Jinja2 templates of `pipeline/templates/docs-*.md.j2` lay them out. See
`environment.py` for why autoescape is off and what replaces it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.render.pages.pageset import Site
from pipeline.core.perf import paused_gc
from pipeline.render.pages.badges import badges_by_technique
from pipeline.render.pages.builders import all_pages
from pipeline.render.pages.builders import page_keys
from pipeline.render.pages.depends import technique_digest
from pipeline.render.pages.group import group_digest
from pipeline.render.pages.sources import site_for_context


def render(ctx, out: Path) -> list[Path]:
    # Rendering makes hundreds of thousands of short-lived strings and dicts, freed by
    # reference counting; with the collector running, each of its full passes would walk
    # the whole graph of the build again (it doubled the time).
    with paused_gc():
        site = site_for_context(ctx, out)
        if ctx.profiles:
            site.profile_badges = badges_by_technique(ctx.profiles)
        return _write_by_unit(site, out / "docs", ctx.part("units"), ctx.progress)


def _unit(site: Site, key: str) -> tuple[str, tuple[str, str]] | None:
    """The unit of a page that reads one framework's, one detection corpus's or one
    technique's data only: control and capability pages with their framework's page,
    detection pages with their source's list, a technique card alone (its digest:
    `depends.py`), a group page alone (its digest: `group.group_digest`). Tactic and
    index pages read every source: no unit."""
    kind, _, rest = key.partition(":")
    if kind in ("control", "capability"):
        fw = site.g.nodes[key]["framework"]
    elif kind == "framework":
        fw = rest
    elif kind == "detection":
        return f"pages/detections/{site.g.nodes[key]['source']}", ("detection", site.g.nodes[key]["source"])
    elif kind == "detection_source":
        return f"pages/detections/{rest}", ("detection", rest)
    elif kind == "technique":
        return f"pages/techniques/{rest}", ("technique", key)
    elif kind == "group":
        return f"pages/groups/{site.g.nodes[key]['id']}", ("group", key)
    else:
        return None
    return f"pages/frameworks/{fw}", ("framework", fw)


def _write_by_unit(site: Site, docs: Path, units, progress=None) -> list[Path]:
    todo: list[str] = []
    fresh: dict[str, list[str]] = {}
    decided: dict[str, bool] = {}
    memo: dict[str, bytes] = {}
    for key in page_keys(site):
        found = _unit(site, key)
        if found is None:
            todo.append(key)
            continue
        name, (kind, ident) = found
        if name not in decided:
            if kind == "technique":
                # Outside a build nothing is taken: the digest is not worth its 0.1 s.
                digest = technique_digest(site.g, ident, memo) if units.out is not None else ""
                badges = site.profile_badges.get(ident)
                taken = units.take(name, (), digest + ("|" + "|".join(badges) if badges else ""))
            elif kind == "group":
                taken = units.take(name, (), group_digest(site, ident) if units.out is not None else "")
            else:
                sources = units.framework_sources(ident) if kind == "framework" else units.detection_source(ident)
                taken = units.take(name, sources)
            decided[name] = taken is not None
            if not decided[name]:
                fresh[name] = []
        if not decided[name]:
            todo.append(key)
            fresh[name].append(key)
    written = write_pages(site, docs, todo, progress)
    for name, keys in fresh.items():
        units.record(name, [docs / site.pages[k] for k in keys])
    return written


BATCH = 2000  # pages held in memory at once (the tree is ~65 MB for 10,000 pages)


def write_pages(site: Site, docs: Path, keys: list[str] | None = None, progress=None) -> list[Path]:
    """Render every page of `site` (or those of `keys`, in `page_keys` order) under
    `docs` (an empty or new folder).

    Pages are rendered a batch at a time and then written: alternating between
    rendering one page and creating its file was measured 10-20 % slower (each
    evicts the other's working set from the CPU caches). One process, one thread:
    both other ways were measured slower on the 2-core development machine. Forked
    workers copy every object they touch (reference counts write to it), and a
    writer thread waits for the interpreter lock after each of its 30,000 system
    calls while the renderer holds it.
    """
    keys = page_keys(site) if keys is None else keys
    for folder in sorted({(docs / site.pages[k]).parent for k in keys}):
        folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(keys), BATCH):
        if progress is not None:
            progress(start, len(keys))
        batch = [(rel, content.encode("utf-8")) for rel, content in all_pages(site, keys[start : start + BATCH])]
        for rel, data in batch:
            _write(docs / rel, data)
    return [docs / site.pages[k] for k in keys]


def _write(path: Path, data: bytes) -> None:
    """Plain system calls, without a text-file object for each of ten thousand files
    (creating the file is most of the cost: ~0.1-0.2 ms each here)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
