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
  It also fixes each page's title as escaped text (`safe_title`).

Why the title needs its own care: mkdocs takes a page's title from its H1 as HTML text
(entities kept: `&lt;script&gt;`), and material prints it into `<title>` through
Jinja's `striptags`, which decodes entities — so a title `</title><script>…` would end
the title element and run. Material prints `page.meta.title` as it is instead (in
`<title>`, the header and the search index), so the hook sets it to the title as
escaped text, the same for a title from the H1, the navigation or front matter.
"""

from __future__ import annotations

import html
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


_TAGS = re.compile(r"<[^>]*>")


def safe_title(title: str) -> str:
    """A page title as HTML text, printed as it is: in an element and in a quoted
    attribute value alike (every `<`, `>`, `&`, `"`, `'` is an entity, once). Tags
    are dropped and entities decoded first, so the result is the same for a title
    that is already escaped text (the H1 as mkdocs reads it, a navigation title) and
    for raw text (front matter)."""
    return html.escape(" ".join(html.unescape(_TAGS.sub("", title)).split()), quote=True)


def on_page_content(content, page, config, files):
    # After rendering, `page.title` is final: the navigation's title, front matter's
    # `title:`, or the H1. The home page's <title> is the site name alone unless its
    # front matter names one.
    if "title" in page.meta or not page.is_homepage:
        page.meta["title"] = safe_title(str(page.title or ""))
    return _BLOCKS.sub(r'<\1 data-search-exclude="true"', content)
