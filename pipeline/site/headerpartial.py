"""The theme's header partial, drawn once per folder and given each page's title.

Why: every page prints material's header (`partials/header.html`: the logo, the site's
name, the page's title, the palette, the search box and the repository's link), a
fifth of the site's template time on the default build, and what two pages of one
folder print of it differs only in the page's title: its links are relative to the
page's address (mkdocs' `url` filter), the same for every page of a folder, and the
rest is the site's configuration. So a folder's header is drawn for its first pages
with the title taken out (`MARK` in its place), and every later page of the folder gets
that drawing with its own title put in, as the theme prints it (`TITLE`: the page's
`title` of its front matter, else its title).

Kept only where that holds: the title is found exactly once in the page's header (a
title also printed elsewhere in it, or an empty one, is drawn whole), and the first two
pages of the folder give the same drawing without their titles (any other difference
and the folder's headers are all drawn whole). Not kept with material's sticky tabs
(the header prints the tabs then, the page's own marked) nor for a page with no
address (the 404 page). The site's `partials/header.html` (overrides/) calls `draw`.
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
_ALONE = object()  # a folder whose headers are drawn whole


class HeaderPartial:
    """The template function `attack_pipeline_header()` (`draw`): the theme's own header
    partial drawn with the calling page's context, kept per folder without the title
    (see the module's docstring). One per site build's environment."""

    def __init__(self, env: jinja2.Environment) -> None:
        self._template = theme_template(env, NAME)
        self._title = env.from_string(TITLE)
        # by folder and site name: (drawing without the title, confirmed by a second page)
        self._kept: dict[tuple[str, str], tuple[str, bool] | object] = {}

    @jinja2.pass_context
    def draw(self, context) -> Markup:
        values = context.get_all()
        key = _key(values)
        if key is None:
            return Markup(self._template.render(values))
        title = self._title.render(values)
        kept = self._kept.get(key)
        if isinstance(kept, tuple) and kept[1] and MARK not in title:
            return Markup(kept[0].replace(MARK, title))
        html = self._template.render(values)
        if kept is not _ALONE and title and MARK not in html and html.count(title) == 1:
            drawing = html.replace(title, MARK)
            if kept is None:
                self._kept[key] = (drawing, False)
            elif isinstance(kept, tuple) and not kept[1]:
                self._kept[key] = (drawing, True) if kept[0] == drawing else _ALONE
        return Markup(html)


def _key(values: dict) -> tuple[str, str] | None:
    """The folder of the page and the site's name (printed in the header), or None
    when the page's header is drawn for it alone."""
    page, config = values.get("page"), values.get("config")
    url = getattr(page, "url", None)
    if url is None or config is None:
        return None
    features = config["theme"].get("features") or []
    if "navigation.tabs.sticky" in features:
        return None
    return posixpath.dirname(url.rstrip("/")), str(config["site_name"])
