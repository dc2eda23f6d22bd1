"""The renderers by name, in the order the build runs them.

Kept apart from `pipeline.render` (the context every renderer reads) so that importing
one renderer's helpers — the Navigator layer model, the naming of files — does not
import every renderer, and so that no renderer imports the registry that imports it."""

from __future__ import annotations

from pipeline.render import Renderer, diff, navigator, pages, profiles, query_packs, readme, reconcile, reports, stix, tables

RENDERERS: dict[str, Renderer] = {
    "readme": readme.render,
    "reports": reports.render,
    "reconcile": reconcile.render,
    "layers": navigator.render,
    "diff": diff.render,
    "stix": stix.render,
    "tables": tables.render,
    "queries": query_packs.render,
    "profiles": profiles.render,
    # Last: pages link the artifacts written before them.
    "docs": pages.render,
}
