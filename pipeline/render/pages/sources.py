"""What the pages need from the workspace: source labels, licences and upstream links,
the mapping tables of the build, and ATT&CK's citations and contributors."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from pipeline.errors import ConfigError
from pipeline.ingest.attack_texts import AttackTexts, cached_attack_texts, merge
from pipeline.render.pages.site import FORMAT_LABELS, DetectionSource, MappingSource, Site


def detection_sources(config) -> dict[str, DetectionSource]:
    """Enabled detection corpora by short name, in the order of the sources file."""
    from pipeline.ingest.detections.corpus import source_name

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


def attack_texts(ws) -> AttackTexts:
    """Citations and contributors of the target release's bundles (cached per bundle)."""
    from pipeline.fetch.cache import cache_dir

    parts = []
    for release in ws.releases():
        source = ws.config.attack_release(release.domain, release.version)
        parts.append(cached_attack_texts(ws.resolve(source).path, cache_dir(None, ws.config.file)))
    return merge(parts)


def site_for_workspace(g: nx.MultiDiGraph, ws, out: Path, site_url: str = "", navigator: str = "") -> Site:
    from pipeline.convert.gather import gather

    if "query_conversions" not in g.graph:  # done by the build; outside one (tests, a renderer alone) here
        gather(ws, g)
    extra = {"navigator": navigator} if navigator else {}
    return Site.gather(
        g,
        out,
        ws.attack_version,
        texts=attack_texts(ws),
        detection_sources=detection_sources(ws.config),
        mapping_sources=mapping_sources(g, ws.config),
        site_url=site_url,
        **extra,
    )
