"""mkdocs hooks of the site (mkdocs.yml `hooks:` names this file).

- `on_files`: the build's artifacts join the site's files (see `artifacts`), layers
  linking the site's own address.
- `on_page_markdown`: artifact links rewritten to the files mkdocs sees; the "Open in
  ATT&CK Navigator" links made for the site's own address and Navigator (`navigator`);
  detection pages left out of the search index (material's per-page
  `search.exclude`): they are eight in ten pages and most of the index, and a search
  for a rule is answered by the technique pages that list them.
- `on_page_markdown` also boosts technique pages in the search (material's per-page
  `search.boost`, a factor on every score of the page's entries): a control's title can
  hold a technique's words ("Chromium Network Service Use-After-Free") and, title
  against title, lunr prefers the shorter one; boosted, a technique's own name finds its
  page first, while an id still finds its control (an id is in no technique title, and
  a title match weighs a thousand text matches).
- `on_page_content`: tables and code blocks left out of the index (material skips an
  element marked `data-search-exclude`). A technique page lists every query that names
  it, so its tables and queries were 26 MB of a 29 MB index; titles, descriptions and
  headings (detection titles among them) are what a search should find. Control and
  capability pages (CVEs among them) are indexed by their title alone — id and name,
  so "AC-4" and "CVE-2025-0282" find them — never their text (a control page lists
  the techniques it maps, which would make every control a hit for a technique's name).
  The links of the pictures and card tables (raw HTML, which mkdocs leaves alone) are
  made page addresses here, and checked like mkdocs checks the others.
- `on_page_content` also fixes each page's title as escaped text (`safe_title`).
- `on_env`: the navigation each page prints, drawn once per folder for the pages out
  of the navigation (`navpartial`), the header, stylesheets and scripts' settings drawn
  once per folder (`perfolder`), the theme's interface texts looked up once per key
  (`language`), and its templates kept in a plain dict (`theme.unbounded_cache`).
- `on_pre_page`, `on_page_context`, `on_template_context`: the site's date (`extra:
  source_date_epoch`, the build's `site/source.py` epoch) as every page's
  `update_date` (the sitemap's `lastmod`, and from it the mtime in `sitemap.xml.gz`'s
  gzip header) and as the templates' `build_date_utc`. mkdocs itself takes them from
  the SOURCE_DATE_EPOCH variable, else the clock; setting them here keeps the site
  reproducible without writing the variable into this process's environment.

Why the title needs its own care: mkdocs takes a page's title from its H1 as HTML text
(entities kept: `&lt;script&gt;`), and material prints it into `<title>` through
Jinja's `striptags`, which decodes entities — so a title `</title><script>…` would end
the title element and run. Material prints `page.meta.title` as it is instead (in
`<title>`, the header and the search index), so the hook sets it to the title as
escaped text, the same for a title from the H1, the navigation or front matter.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime, timezone
from pathlib import Path

from pipeline.site.artifacts import artifact_files, rewrite_links
from pipeline.site.navigator import navigator_links
from pipeline.site.language import translations
from pipeline.site.perfolder import FolderBlocks, HeaderPartial
from pipeline.site.theme import unbounded_cache
from pipeline.site.navpartial import NAV_PARTIAL, NavPartial

NOT_SEARCHED = ("detections/",)
TITLE_ONLY = ("controls/",)
# Search boost of a page by its folder (material's `search.boost`); others have 1.
SEARCH_BOOST = {"techniques/": 2}
log = logging.getLogger("mkdocs.hooks.attack_pipeline")


def on_env(env, config, files):
    unbounded_cache(env)
    partial = NavPartial(env)
    env.globals["attack_pipeline_nav"] = partial.draw
    env.globals[NAV_PARTIAL] = partial  # read by the page cache's keys (site/parallel.py)
    env.globals["attack_pipeline_t"] = translations(env, config)
    env.globals["attack_pipeline_header"] = HeaderPartial(env).draw
    blocks = FolderBlocks()
    env.globals["attack_pipeline_kept"] = blocks.kept
    env.globals["attack_pipeline_keep"] = blocks.keep
    return env


def on_files(files, config):
    root = Path(config["extra"]["build_root"])
    for f in artifact_files(root, config, config["extra"].get("layer_base", "")):
        files.append(f)
    return files


def _site_moment(config) -> datetime:
    return datetime.fromtimestamp(config["extra"]["source_date_epoch"], timezone.utc)


def on_pre_page(page, config, files):
    page.update_date = _site_moment(config).strftime("%Y-%m-%d")  # the format of mkdocs' get_build_date
    return page


def on_page_context(context, page, config, nav):
    context["build_date_utc"] = _site_moment(config)
    return context


def on_template_context(context, template_name, config):
    context["build_date_utc"] = _site_moment(config)
    return context


def on_page_markdown(markdown, page, config, files):
    src = page.file.src_uri
    if src.startswith(NOT_SEARCHED) and src.count("/") > 1:
        page.meta["search"] = {"exclude": True}
    for folder, boost in SEARCH_BOOST.items():
        if src.startswith(folder):
            page.meta["search"] = {**(page.meta.get("search") or {}), "boost": boost}
    extra = config["extra"]
    markdown = navigator_links(rewrite_links(markdown, src), src, extra.get("layer_base", ""), extra.get("navigator_url", ""))
    return markdown


_BLOCKS = re.compile(r"<(pre|table)(?=[\s>])")
_BODY = re.compile(r"<(p|table|ul|ol|pre|div|details|dl|blockquote|h[2-6])(?=[\s>])")
# A relative link to a Markdown file left in the HTML: raw HTML, which mkdocs does not rewrite.
_MD_HREF = re.compile(r'href="((?![A-Za-z][A-Za-z0-9+.-]*:)[^"#?/][^"#?]*\.md)(#[^"]*)?"')


def _page_links(content: str, page, files) -> str:
    src = page.file.src_uri
    folder = src.rpartition("/")[0]
    url = page.file.url
    up = "../" * url.count("/") if url else ""

    def fix(m: re.Match) -> str:
        parts = (f"{folder}/{m.group(1)}" if folder else m.group(1)).split("/")
        out: list[str] = []
        for p in parts:
            if p == "..":
                if out:
                    out.pop()
            elif p not in ("", "."):
                out.append(p)
        target = files.get_file_from_path("/".join(out))
        if target is None:
            log.warning("Doc file '%s' contains a link '%s', but the target is not found among documentation files.", src, m.group(1))
            return m.group(0)
        return f'href="{up + target.url or "./"}{m.group(2) or ""}"'

    return _MD_HREF.sub(fix, content)


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
    if ".md" in content:
        content = _page_links(content, page, files)
    if page.file.src_uri.startswith(TITLE_ONLY):
        return _BODY.sub(r'<\1 data-search-exclude="true"', content)
    return _BLOCKS.sub(r'<\1 data-search-exclude="true"', content)
