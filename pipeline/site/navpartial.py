"""The theme's navigation partial, drawn once per folder for the pages out of the navigation.

Why: every page prints the whole navigation (material's `partials/nav.html`), and the
default site's ~9,400 control and detection pages, out of the navigation, took two
fifths of their template time drawing it, each the same: with no page of theirs in the
navigation, nothing in it is active or expanded, and what differs from one page to the
next is only its links, each relative to the page's address (mkdocs' `url` filter).
Two pages in one folder get the same relative link to every address outside their own
folders, so such a page's navigation is drawn once per folder (`folder_key`) and kept
for the site build; a page in the navigation, a page with an address of the navigation
under its own, and a page with no address (the 404 page) get it drawn as before.

The site's `partials/nav.html` (overrides/) calls the function `on_env` (site/hooks.py)
puts in the theme's environment (`NavPartial.draw`), which draws the theme's own partial
with the page's context, the same bytes as including it. What a folder's pages print of
the navigation is also what the page cache keys them by (site/pagecache.py): a new
technique in the navigation changes no drawing of the top, so it writes none of them
again.
"""

from __future__ import annotations

import posixpath
import jinja2
from markupsafe import Markup

from pipeline.site.theme import theme_template

NAME = "partials/nav.html"
# The name of the site build's `NavPartial` in the theme's environment.
NAV_PARTIAL = "attack_pipeline_navpartial"


def _folders(nav) -> frozenset[str]:
    """Every folder address that holds an address of the navigation (its own included)."""
    held: set[str] = set()
    for page in nav.pages:
        url = page.url
        held.add(url)
        while url:
            url = posixpath.dirname(url.rstrip("/"))
            url = url + "/" if url else ""
            held.add(url)
    return frozenset(held)


def folder_key(page, nav_pages: frozenset[int], held: frozenset[str]) -> str | None:
    """The folder whose pages draw the same navigation as `page`, or None when `page`'s
    must be drawn for it alone: it is in the navigation (its branch is active), it has
    no address, or an address of the navigation lies under its own (its relative link
    there differs from its neighbours')."""
    if page is None or id(page) in nav_pages:
        return None
    url = getattr(page, "url", None)
    if url is None or url in held:
        return None
    return posixpath.dirname(url.rstrip("/"))


class NavPartial:
    """The template function `attack_pipeline_nav()` (`draw`): the theme's own navigation
    partial (found in the theme's folders without the site's overrides) drawn with the
    calling page's context, kept per folder for pages out of the navigation (see the
    module's docstring). One per site build: its environment, its navigation.

    What it kept is what such a page prints of the navigation: the page cache keys a
    written page out of the navigation by it (`folder`, `drawn`), not by the whole
    navigation (site/pagecache.py)."""

    def __init__(self, env: jinja2.Environment) -> None:
        self._template = theme_template(env, NAME)
        self._kept: dict[tuple[str, str], Markup] = {}  # by folder and site name
        self._known: dict[int, tuple[frozenset[int], frozenset[str]]] = {}

    def folder(self, page, nav) -> str | None:
        """`folder_key` of `page` in `nav` (None: drawn for the page alone)."""
        if nav is None:
            return None
        if id(nav) not in self._known:
            self._known.clear()
            self._kept.clear()
            self._known[id(nav)] = (frozenset(id(p) for p in nav.pages), _folders(nav))
        return folder_key(page, *self._known[id(nav)])

    def drawn(self, folder: str, site_name: str) -> str | None:
        """The navigation drawn for the pages of `folder` under `site_name` (the
        navigation prints it), once one of them was drawn."""
        return self._kept.get((folder, site_name))

    @jinja2.pass_context
    def draw(self, context) -> Markup:
        folder = self.folder(context.get("page"), context.get("nav"))
        key = None if folder is None else (folder, str(context.get("config")["site_name"]))
        if key is not None and key in self._kept:
            return self._kept[key]
        html = Markup(self._template.render(context.get_all()))
        if key is not None:
            self._kept[key] = html
        return html
