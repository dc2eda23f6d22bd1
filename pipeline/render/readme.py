"""`README.md` at the top of every build: what each folder holds, how to open a layer
in ATT&CK Navigator and how to publish the site — for whoever is handed the folder.

It names the release, the domains, the frameworks and the detection sources of this
build (from the graph), so it is rendered on every build and listed in the manifest
like any artifact; it carries no date, so identical inputs give identical bytes.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.settings import DEFAULT_NAVIGATOR


def _frameworks(g) -> list[str]:
    return sorted({d["framework"] for _, d in g.nodes(data=True) if d.get("kind") in ("control", "capability") and d.get("framework")})


def _detection_sources(g) -> list[str]:
    return sorted({d["source"] for _, d in g.nodes(data=True) if d.get("kind") == "detection" and d.get("source")})


def text(g, attack_version: str, domains: tuple[str, ...], navigator: str = DEFAULT_NAVIGATOR, site_url: str = "") -> str:
    frameworks = _frameworks(g)
    sources = _detection_sources(g)
    first = domains[0] if domains else "enterprise"
    nist = "nist_800_53" if "nist_800_53" in frameworks else (frameworks[0] if frameworks else "<framework>")
    lines = [
        f"# ATT&CK {attack_version} coverage ({', '.join(domains)})",
        "",
        "One complete build of attack-pipeline: Navigator layers, STIX 2.1 bundles, tables,",
        "Markdown pages and reports, all made from one technique–control–detection graph.",
        "`manifest.json` lists every file with its sha256 and every input the build read.",
        "",
        "## What is where",
        "",
        "| folder | holds |",
        "|---|---|",
        f"| `layers/<domain>/` | ATT&CK Navigator layers (format 4.5) for {', '.join(domains)}: `coverage.json` (every technique coloured by coverage), `gaps.json` (no control, no detection), `groups/G0007.json` (one per group) |",
        "| `layers/<domain>/frameworks/<framework>/` | `overview.json` (every control of the table), `families/<family>.json`, `controls/<id>.json`, `categories/` (Protect, Detect, Respond scores) |",
        "| `layers/<domain>/detections/` | one layer per detection source, and `all.json` |",
        "| `stix/` | STIX 2.1 bundles: `mappings/<framework>--<version>.json`, `detections/<source>.json`; `index.json` lists them |",
        "| `tables/<domain>/` | each mapping table as `.xlsx`, `.csv`, Mappings Explorer `.json` and `.yaml`; `tables/coverage.xlsx` for every technique |",
        "| `queries/<language>/` | runnable query packs, one per technique: the corpora's own queries and the Sigma rules converted by pySigma |",
        "| `docs/` | Markdown pages (one per technique, tactic, framework, control and detection): the source of the docs site |",
        "| `reports/` | `summary.json`, `issues.json` (every warning about the inputs), `reconcile/` (each mapping table against this release), `diff-*.md` (what changed since the previous release) |",
        "",
        f"Frameworks in this build: {', '.join(f'`{f}`' for f in frameworks) or 'none'}.",
        f"Detection sources: {', '.join(f'`{s}`' for s in sources) or 'none'}.",
        "",
        "## Open a layer in ATT&CK Navigator",
        "",
        f"1. Open {navigator} and choose **Open Existing Layer → Upload from local**.",
        f"2. Pick a file, e.g. `layers/{first}/frameworks/{nist}/overview.json` (every control of the",
        f"   table on the techniques it maps), `layers/{first}/frameworks/{nist}/families/<family>.json`",
        f"   (one family) or `layers/{first}/coverage.json`.",
        "",
        "A layer of your own selection (frameworks, families, categories, platforms, detections):",
        "",
        f"    attack-pipeline layer --framework {nist} --family AC --out ac.json",
        "",
        "## Browse and publish the docs site",
        "",
        "    attack-pipeline site      # the docs site of this build into site/",
        "    attack-pipeline serve     # preview it on http://127.0.0.1:8000/",
        "",
        "`site/` is static HTML: copy it to any web server. With the address it is published at",
        "(`attack-pipeline init --site-url URL`, or `site_url` in the sources file) the pages link",
        "each layer straight into ATT&CK Navigator.",
    ]
    if site_url:
        lines.append(f"This build was made for {site_url}.")
    return "\n".join(lines) + "\n"


def render(ctx, out: Path) -> list[Path]:
    navigator = str(ctx.options.get("navigator_url") or DEFAULT_NAVIGATOR)
    path = out / "README.md"
    path.write_text(text(ctx.graph, ctx.attack_version, ctx.domains, navigator, ctx.site_url), encoding="utf-8")
    return [path]
