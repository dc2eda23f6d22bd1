"""The renderers by name, in the order the build runs them.

Kept apart from `pipeline.render` (the context every renderer reads) so that importing
one renderer's helpers — the Navigator layer model, the naming of files — does not
import every renderer, and so that no renderer imports the registry that imports it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from pipeline.render import EarlyWork, RenderContext, Renderer, diff, navigator, pages, profiles, query_packs, readme, reconcile, reports, stix, tables

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

# Renderers that read the files of the others (a page links an artifact only if it was
# written): a build runs them after every other renderer has finished. The others read
# the context only and write files of their own, so a build may run them side by side,
# in any order (`pipeline.build`, `pipeline.core.forked`).
AFTER_OTHERS = frozenset({"docs"})
# The part of each of those that reads no other renderer's files, which a build runs
# side by side with the other renderers (the pages that link no artifact: most pages).
EARLY_WORK: dict[str, Callable[[RenderContext, Path], EarlyWork]] = {"docs": pages.early_work}
# The costliest renderers, measured on the default build, in that order: run side by
# side, they are claimed first so that the last one claimed is a short one.
COSTLIEST = ("layers", "stix", "tables", "reconcile", "queries")
