"""mkdocs hooks of the site (mkdocs.yml `hooks:` names this file).

- `on_files`: the build's artifacts join the site's files (see `artifacts`).
- `on_page_markdown`: artifact links rewritten to the files mkdocs sees; control and
  detection pages left out of the search index (material's per-page `search.exclude`):
  they are nine in ten pages and most of the index, and a search for a technique or a
  control is answered by the technique and framework pages that list them.
- `on_page_content`: tables and code blocks left out of the index (material skips an
  element marked `data-search-exclude`). A technique page lists every query that names
  it, so its tables and queries were 26 MB of a 29 MB index; titles, descriptions and
  headings (detection titles among them) are what a search should find.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.site.artifacts import artifact_files, rewrite_links

NOT_SEARCHED = ("controls/", "detections/")


def on_files(files, config):
    root = Path(config["extra"]["build_root"])
    for f in artifact_files(root, config):
        files.append(f)
    return files


def on_page_markdown(markdown, page, config, files):
    src = page.file.src_uri
    if src.startswith(NOT_SEARCHED) and src.count("/") > 1:
        page.meta["search"] = {"exclude": True}
    return rewrite_links(markdown, src)


_BLOCKS = re.compile(r"<(pre|table)(?=[\s>])")


def on_page_content(html, page, config, files):
    return _BLOCKS.sub(r'<\1 data-search-exclude="true"', html)
