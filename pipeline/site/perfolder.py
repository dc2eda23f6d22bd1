"""What the theme prints the same on every page of a folder, drawn once per folder.

Why: every page prints material's header (`partials/header.html`: the logo, the site's
name, the page's title, the palette, the search box and the repository's link), its
stylesheets (`styles`) and its scripts' settings (`config`, with the interface texts):
together a quarter of the site's template time on the default build. What two pages of
one folder print of them differs only in the page's title, in the header: their links
are relative to the page's address (mkdocs' `url` filter, and `base_url`), the same for
every page of a folder, and the rest is the site's configuration. So each is drawn for
a folder's first pages and kept (the header with the title taken out, `MARK` in its
place), and every later page of the folder gets that drawing (the header with its own
title put in, as the theme prints it: `TITLE`, the page's `title` of its front matter,
else its title).

Kept only where that holds (`_Drawings`): the first two pages of the folder draw the
same (any other difference, and the folder's are all drawn whole); in the header, the
title is found exactly once (a title also printed elsewhere in it, or an empty one, and
the page's header is drawn whole). Pages share a drawing only at one depth of one
folder (`_key`). Not kept with material's sticky tabs (the header prints the tabs then,
the page's own marked), for a page with no address (the 404 page), nor for a page whose
address lies above a file they link (a page at `assets/`). The site's
`partials/header.html` and `main.html` (overrides/) call the template functions here.
"""

from __future__ import annotations

import posixpath

import jinja2
from markupsafe import Markup

from pipeline.site.theme import theme_template

NAME = "partials/header.html"
# What the theme's header prints as the page's title, in its words.
TITLE = "{% if page.meta and page.meta.title %}{{ page.meta.title }}{% else %}{{ page.title }}{% endif %}"
# In place of the title in a kept drawing: private-use characters no title holds.
MARK = "\U000f0042attack-pipeline-title\U000f0042"
# The blocks of material's base.html that print the same on every page of a folder.
BLOCKS = frozenset(("styles", "config"))
_ALONE = object()  # drawn whole for every page under this key


class _Drawings:
    """Drawings by key, each kept once two pages drew the same under the key."""

    def __init__(self) -> None:
        self._kept: dict[tuple, tuple[str, bool] | object] = {}

    def get(self, key: tuple) -> str | None:
        kept = self._kept.get(key)
        return kept[0] if isinstance(kept, tuple) and kept[1] else None

    def offer(self, key: tuple, drawing: str) -> None:
        """A page's drawing under `key`: kept for the next page, confirmed by it if it
        drew the same, or the key's pages all drawn whole from then on."""
        kept = self._kept.get(key)
        if kept is None:
            self._kept[key] = (drawing, False)
        elif isinstance(kept, tuple) and not kept[1]:
            self._kept[key] = (drawing, True) if kept[0] == drawing else _ALONE


class HeaderPartial:
    """The template function `attack_pipeline_header()` (`draw`): the theme's own header
    partial drawn with the calling page's context, kept per folder without the title
    (see the module's docstring). One per site build's environment."""

    def __init__(self, env: jinja2.Environment) -> None:
        self._template = theme_template(env, NAME)
        self._title = env.from_string(TITLE)
        self._drawings = _Drawings()

    @jinja2.pass_context
    def draw(self, context) -> Markup:
        page = context.get("page")
        key = _key(page, context.get("config"))
        if key is None:
            return Markup(self._template.render(context.get_all()))
        title = self._title.render(page=page)
        kept = self._drawings.get(key)
        if kept is not None and MARK not in title:
            return Markup(kept.replace(MARK, title))
        html = self._template.render(context.get_all())
        if title and MARK not in html and html.count(title) == 1:
            self._drawings.offer(key, html.replace(title, MARK))
        return Markup(html)


class FolderBlocks:
    """The template functions `attack_pipeline_kept(name)` (`kept`: the block `name` as
    the folder's pages print it, once known, else an empty string) and
    `attack_pipeline_keep(name, html)` (`keep`: the block as this page printed it, kept
    for the folder's next pages). One per site build's environment."""

    def __init__(self) -> None:
        self._drawings = _Drawings()

    @jinja2.pass_context
    def kept(self, context, name: str) -> Markup:
        key = _key(context.get("page"), context.get("config")) if name in BLOCKS else None
        found = None if key is None else self._drawings.get((*key, name))
        return Markup(found or "")

    @jinja2.pass_context
    def keep(self, context, name: str, html: str) -> Markup:
        key = _key(context.get("page"), context.get("config")) if name in BLOCKS else None
        if key is not None and html:
            self._drawings.offer((*key, name), str(html))
        return Markup(html)


def _key(page, config) -> tuple[str, int, str] | None:
    """The folder of `page`, its depth (the count of its address's slashes: the `..`
    its links climb) and the site's name (printed in the header), or None when the page
    prints its own: it has no address, or its address lies above one of the files the
    blocks link (the theme's assets, the site's own stylesheets and scripts), whose
    link is then relative to it alone. Both read from the context as they are: a copy
    of the whole context (`get_all`) is made only to draw."""
    url = getattr(page, "url", None)
    if url is None or config is None:
        return None
    features = config["theme"].get("features") or []
    if "navigation.tabs.sticky" in features:
        return None
    if url and any(linked.startswith(url) for linked in _linked(config)):
        return None
    return posixpath.dirname(url.rstrip("/")), url.count("/"), str(config["site_name"])


def _linked(config) -> list[str]:
    """Where the files the kept blocks link lie: the theme's assets, the site's extra
    stylesheets and scripts."""
    extra = [*(config.get("extra_css") or []), *(config.get("extra_javascript") or [])]
    return ["assets/", *(str(getattr(item, "path", item)) for item in extra)]
