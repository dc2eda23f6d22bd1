"""Links from pages to the other artifacts of the same build (layers, reports, bundles).

Pages link an artifact only if the build wrote it (the docs renderer runs last), so a
page never points at a missing file. Today the build writes the coverage layers and
the reconciliation reports; the per-framework and per-control layers and the STIX
bundles are linked from the paths below as soon as a renderer writes them there (a
renderer that chooses other paths changes this one table; the link test checks
whatever is linked).
Links are relative from the page's place under `docs/`, which also holds on the site
(`docs/techniques/T1046.md` is served as `techniques/T1046/`, one level deeper, so
`../../layers/…` resolves to `layers/…` beside the site root's pages).

With `site_url` set, each layer also gets an "Open in ATT&CK Navigator" link: the
public Navigator loads a layer from the URL after `#layerURL=`, which must be the
layer's published address (`<site_url>/layers/…`, served by the docs site); a
relative or local path means nothing to it, so without `site_url` there is no such link.
"""

from __future__ import annotations

from urllib.parse import quote

from pipeline.core.escape import Md, text
from pipeline.render.pages.pageset import Site
from pipeline.render.naming import bundle_stem, report_stem
from pipeline.render.navigator.frameworks import framework_folders, subject_names
from pipeline.render.tables import table_path


NAVIGATOR = "https://mitre-attack.github.io/attack-navigator/"


def navigator_url(site_url: str, rel: str, navigator: str = NAVIGATOR) -> str:
    """The Navigator (the public one unless settings say otherwise) opening the layer
    published at `<site_url>/<rel>`."""
    return f"{navigator}#layerURL={quote(site_url.rstrip('/') + '/' + rel, safe='')}"


def _links(site: Site, page: str, candidates: list[tuple[str, str]]) -> list[Md]:
    out = []
    for label, rel in candidates:
        if "//" in rel or "/." in rel:  # a name the renderers did not give (no such layer folder)
            continue
        href = site.artifact(page, rel)
        if href:
            out.append(Md(f"[{text(label)}]({href})"))
            if site.site_url and rel.startswith("layers/") and rel.endswith(".json"):
                what = label.removesuffix(" (ATT&CK Navigator)")
                out.append(Md(f"[Open the {text(what)} in ATT&CK Navigator]({navigator_url(site.site_url, rel, site.navigator)})"))
    return out


def technique_downloads(site: Site, page: str, domain: str) -> list[Md]:
    return _links(site, page, [(f"{domain.capitalize()} coverage layer (ATT&CK Navigator)", f"layers/{domain}/coverage.json")])


def group_downloads(site: Site, page: str, domain: str, group_id: str) -> list[Md]:
    return _links(site, page, [(f"{domain.capitalize()} coverage layer of {group_id} (ATT&CK Navigator)", f"layers/{domain}/groups/{group_id}.json")])


def framework_downloads(site: Site, page: str, framework: str) -> list[Md]:
    candidates = []
    for s in site.mapping_sources:
        if s.framework != framework:
            continue
        stem = report_stem(s.id)
        candidates += [
            (f"Reconciliation report of {s.id} (Markdown)", f"reports/reconcile/{stem}.md"),
            (f"Reconciliation report of {s.id} (JSON)", f"reports/reconcile/{stem}.json"),
            (f"{s.domain.capitalize()} layer of {framework} (ATT&CK Navigator)", f"layers/{s.domain}/frameworks/{_layer_folder(site, s.domain, framework, s.framework_version)}/overview.json"),
            (f"STIX 2.1 bundle of {framework} {s.framework_version or ''}".rstrip(), _stix_path(framework, s.framework_version)),
        ]
        candidates += _table_links(framework, s.framework_version, s.domain or "enterprise")
    return _links(site, page, list(dict.fromkeys(candidates)))


def _stix_path(framework: str, version: str | None) -> str:
    return f"stix/mappings/{bundle_stem(framework, version)}.json"


def _layer_names(site: Site) -> dict:
    """The layer renderer's names (pipeline.render.navigator.frameworks), worked out once a build."""
    if "layer names" not in site.names:
        pairs: dict[str, set] = {}
        for s in site.mapping_sources:
            pairs.setdefault(s.domain, set()).add((s.framework, s.framework_version or ""))
        site.names["layer names"] = ({d: framework_folders(p) for d, p in pairs.items()}, subject_names(site.g))
    return site.names["layer names"]


def _layer_folder(site: Site, domain: str, framework: str, version: str | None) -> str:
    folders, _ = _layer_names(site)
    return folders.get(domain, {}).get((framework, version or ""), "")


def _table_links(framework: str, version: str | None, domain: str) -> list[tuple[str, str]]:
    what = {"xlsx": "Excel workbook", "csv": "CSV", "json": "Mappings Explorer JSON", "yaml": "Mappings Explorer YAML"}
    name = f"{domain.capitalize()} mappings of {framework} {version or ''}".rstrip()
    return [(f"{name} ({label})", table_path(framework, version, domain, ext)) for ext, label in what.items()]


def control_downloads(site: Site, page: str, key: str) -> list[Md]:
    n = site.g.nodes[key]
    _, names = _layer_names(site)
    control = names.get(n["framework"], {}).get(n["id"], "")
    candidates = [
        (
            f"{d.capitalize()} layer of {n['id']} (ATT&CK Navigator)",
            f"layers/{d}/frameworks/{_layer_folder(site, d, n['framework'], n.get('framework_version'))}/controls/{control}.json",
        )
        for d in n["domains"]
    ]
    candidates.append((f"STIX 2.1 bundle of {n['framework']}", _stix_path(n["framework"], n.get("framework_version"))))
    return _links(site, page, candidates)
