"""mkdocs.yml of a site, generated from the build (never committed, the same every time
for the same build and install).

Offline and small by design: `theme.font: false` (material would load Google fonts),
no plugin but the built-in search, no analytics, no external scripts; control and
detection pages are `not_in_nav` (reached by links) and `navigation.prune` renders
only the visible branch of the navigation into each page. `strict` turns every mkdocs
warning (a broken link above all) into a failed site build.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.site.nav import Nav
from pipeline.site.source import BuildSource

NOT_IN_NAV = "/controls/\n/detections/*/\n"
MARKDOWN_EXTENSIONS: list = [
    "tables",
    "toc",
    "attr_list",
    "def_list",
    "abbr",
    "footnotes",
    "md_in_html",
    # Queries: fenced blocks highlighted by Pygments (kusto, sql lexers; text where it has
    # none) with a copy button; languages in content tabs, long lists folded.
    "admonition",
    {"pymdownx.highlight": {"use_pygments": True}},
    "pymdownx.superfences",
    {"pymdownx.tabbed": {"alternate_style": True}},
    "pymdownx.details",
]


def mkdocs_config(build: BuildSource, nav: Nav, site_dir: Path, site_url: str = "") -> dict:
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
            "font": False,
            "features": ["navigation.prune", "navigation.top", "search.highlight", "content.code.copy"],
        },
        "plugins": ["search"],
        "markdown_extensions": MARKDOWN_EXTENSIONS,
        "not_in_nav": NOT_IN_NAV,
        "validation": {
            "omitted_files": "warn",
            "absolute_links": "warn",
            "unrecognized_links": "warn",
            "anchors": "warn",
            "not_found": "warn",
        },
        "hooks": [str(Path(__file__).with_name("hooks.py"))],
        "extra": {"build_root": str(build.root), "generator": False},
        "nav": nav.to_mkdocs(),
    }
    if site_url:
        cfg["site_url"] = site_url
    return cfg


def write_config(path: Path, cfg: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(cfg, sort_keys=True, allow_unicode=True, width=1000), encoding="utf-8")
    return path
