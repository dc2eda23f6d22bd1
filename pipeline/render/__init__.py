"""Render stage: each renderer reads the graph and writes one part of the output tree.

A renderer is `render(ctx, out_dir) -> list[Path]` registered by name; the build runs
them in registry order into a temporary directory, so a renderer never sees or
damages a previous build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import networkx as nx


@dataclass(frozen=True)
class RenderContext:
    graph: nx.MultiDiGraph
    workspace: object
    site_url: str = ""
    # Options of the command line for renderers (`stix_include_attack`).
    options: Mapping[str, object] = field(default_factory=dict)
    # Parts that may be taken from the previous build (`pipeline.build.units`); the
    # default renders everything.
    units: object = field(default_factory=lambda: _all_units())
    # `progress(done, total)` inside a long renderer (the pages), for the build's bar.
    progress: Callable[[int, int], None] | None = field(default=None, compare=False)


def _all_units():
    from pipeline.build.units import Units

    return Units()


Renderer = Callable[[RenderContext, Path], list[Path]]


def _registry() -> dict[str, Renderer]:
    from pipeline.render import diff, navigator, readme, reconcile, reports, stix

    return {"readme": readme.render, "reports": reports.render, "reconcile": reconcile.render, "layers": navigator.render, "diff": diff.render, "stix": stix.render}


def _tables(ctx: RenderContext, out: Path) -> list[Path]:
    from pipeline.render.tables import render

    return render(ctx, out)


RENDERERS: dict[str, Renderer] = _registry()
RENDERERS["tables"] = _tables


def _query_packs(ctx: RenderContext, out: Path) -> list[Path]:
    from pipeline.render.query_packs import render

    return render(ctx, out)


RENDERERS["queries"] = _query_packs


def _docs(ctx: RenderContext, out: Path) -> list[Path]:
    from pipeline.render.pages import render

    return render(ctx, out)


# Registered after the others so that it stays last: pages link the artifacts written before them.
RENDERERS["docs"] = _docs
