"""mkdocs.yml of a site, generated from the build (never committed, the same every time
for the same build and install).

Offline and small by design: `theme.font: false` (material would load Google fonts),
no plugin but the built-in search, no analytics, no external scripts; control and
detection pages are `not_in_nav` (reached by links and search) and `navigation.prune`
renders only the visible branch of the navigation into each page. `strict` turns
every mkdocs warning (a broken link above all) into a failed site build.

The theme's overrides (`overrides/`: the stylesheet of the pictures and tables, the
404 page) are package data, copied into the site like the theme's own files.

Search keeps material's word separator (spaces and hyphens).
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.site.nav import Nav
from pipeline.site.source import BuildSource
from pipeline.site.theme import OVERRIDES

NOT_IN_NAV = "/controls/\n/detections/*/\n"
# Queries: fenced blocks highlighted by Pygments (kusto, sql lexers; text where it has
# none) with a copy button; languages in content tabs, long lists folded.
_QUERY_EXTENSIONS: list = [
    "admonition",
    # pymdownx.highlight, keeping the Pygments lexers it looks up (site/convert.py)
    {"pipeline.site.convert": {"use_pygments": True}},
    "pymdownx.superfences",
    {"pymdownx.tabbed": {"alternate_style": True}},
    "pymdownx.details",
]
# The extensions the pages use. Their text is escaped so that no attribute list,
# definition, abbreviation or footnote can occur, and their raw HTML (pictures, card
# tables) carries no `markdown` attribute, so attr_list, def_list, abbr, footnotes and
# md_in_html would find nothing to do — yet each is a pass over every page (about a
# tenth of the conversion time together, on a sample of the default build's pages).
MARKDOWN_EXTENSIONS: list = ["tables", "toc", *_QUERY_EXTENSIONS]
# The extensions the site was first made with, pymdownx.highlight itself among them:
# with mkdocs' own build (`workers=0`) the reference the site must equal byte for byte
# (tests/site on the hostile build, bench/bench_site.py on the default one).
REFERENCE_EXTENSIONS: list = [
    "tables", "toc", "attr_list", "def_list", "abbr", "footnotes", "md_in_html", "admonition",
    {"pymdownx.highlight": {"use_pygments": True}}, "pymdownx.superfences",
    {"pymdownx.tabbed": {"alternate_style": True}}, "pymdownx.details",
]
STYLESHEET = "assets/stylesheets/attack-pipeline.css"


def mkdocs_config(
    build: BuildSource,
    nav: Nav,
    site_dir: Path,
    site_url: str = "",
    navigator_url: str = "",
    markdown_extensions: list | None = None,
) -> dict:
    # The theme prints the site name unescaped (in <title> and attributes): a release
    # number never needs more than these characters.
    version = re.sub(r"[^0-9A-Za-z.+-]", "", build.attack_version)
    cfg = {
        "site_name": f"ATT&CK {version} coverage" if version else "ATT&CK coverage",
        "docs_dir": str(build.docs),
        "site_dir": str(site_dir),
        "use_directory_urls": True,
        "strict": True,
        "theme": {
            "name": "material",
            "custom_dir": str(OVERRIDES),
            "font": False,
            "features": ["navigation.prune", "navigation.top", "search.highlight", "content.code.copy"],
        },
        "extra_css": [STYLESHEET],
        "plugins": ["search"],
        "markdown_extensions": list(MARKDOWN_EXTENSIONS if markdown_extensions is None else markdown_extensions),
        "not_in_nav": NOT_IN_NAV,
        "validation": {
            "omitted_files": "warn",
            "absolute_links": "warn",
            "unrecognized_links": "warn",
            "anchors": "warn",
            "not_found": "warn",
        },
        "hooks": [str(Path(__file__).with_name("hooks.py"))],
        "extra": {
            "build_root": str(build.root),
            # The site's date (site/source.py build_epoch), given to mkdocs by the hooks
            # (on_pre_page, on_page_context): no SOURCE_DATE_EPOCH set in this process.
            "source_date_epoch": build.epoch,
            "generator": False,
            # Navigator links of the layers: the site's address and the Navigator to open.
            "layer_base": site_url,
            "navigator_url": navigator_url,
        },
        "nav": nav.to_mkdocs(),
    }
    if site_url:
        cfg["site_url"] = site_url
    return cfg


def write_config(path: Path, cfg: dict) -> Path:
    # lazy: PyYAML costs ~20 ms to import; only reading YAML needs it
    import yaml

    path.write_text(yaml.safe_dump(cfg, sort_keys=True, allow_unicode=True, width=1000), encoding="utf-8")
    return path
