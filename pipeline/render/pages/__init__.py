"""`docs/`: the Markdown pages of the build — technique cards, tactics, frameworks,
controls and capabilities, detections, and an index.

Gather, then write: `Site.gather` decides every page's path first (so every link is
known to resolve), the builders turn graph data into escaped Markdown fragments, and
the Jinja2 templates of `pipeline/templates/docs-*.md.j2` lay them out. See
`environment.py` for why autoescape is off and what replaces it.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.render.pages.site import Site


def render(ctx, out: Path) -> list[Path]:
    from pipeline.render.pages.sources import site_for_workspace

    site = site_for_workspace(ctx.graph, ctx.workspace, out)
    return write_pages(site, out / "docs")


def write_pages(site: Site, docs: Path) -> list[Path]:
    """Render every page of `site` under `docs` (an empty or new folder)."""
    from pipeline.render.pages.builders import all_pages

    written = []
    made: set[Path] = set()
    for rel, content in all_pages(site):
        path = docs / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
