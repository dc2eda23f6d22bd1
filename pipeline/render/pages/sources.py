"""What the pages need from the render context: source labels, licences and upstream
links, the mapping tables of the build, and ATT&CK's citations and contributors."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from pipeline.core.errors import ConfigError
from pipeline.render.pages.pageset import FORMAT_LABELS, DetectionSource, MappingSource, Site
from pipeline.model.detections import source_name


def detection_sources(config) -> dict[str, DetectionSource]:
    """Enabled detection corpora by short name, in the order of the sources file."""
    out = {}
    for s in config.enabled("detection"):
        repo = config.repositories.get(s.repository) if s.repository else None
        name = source_name(s)
        where = {}
        if repo is not None:
            inner = s.mirror_path.removeprefix(repo.mirror).strip("/")
            where = {"github": repo.github, "commit": repo.commit, "folder": "/".join(p for p in (repo.root, inner) if p)}
        out[name] = DetectionSource(name=name, label=FORMAT_LABELS.get(s.format, name), license=s.license, **where)
    return out


def mapping_sources(g: nx.MultiDiGraph, config) -> list[MappingSource]:
    """The mapping tables that reached the graph (`add_controls` records them)."""
    out = []
    for sid, info in sorted(g.graph.get("control_sources", {}).items()):
        try:
            s = config.source(sid)
            url, license_ = s.url, s.license
        except ConfigError:  # a table added to the graph outside the sources file (tests)
            url, license_ = "", ""
        out.append(
            MappingSource(
                id=sid,
                framework=info["framework"],
                framework_version=info["framework_version"],
                domain=info["domain"],
                attack_version=info["attack_version"],
                url=url,
                license=license_,
                mappings=info["counts"].get("edges", 0),
            )
        )
    return out


def site_for_context(ctx, out: Path) -> Site:
    """The pages' `Site` from the render context (`pipeline.render.RenderContext`)."""
    navigator = str(ctx.options.get("navigator_url") or "")
    extra = {"navigator": navigator} if navigator else {}
    return Site.gather(
        ctx.graph,
        out,
        ctx.attack_version,
        texts=ctx.part("attack_texts"),
        detection_sources=detection_sources(ctx.config),
        mapping_sources=mapping_sources(ctx.graph, ctx.config),
        site_url=ctx.site_url,
        **extra,
    )
