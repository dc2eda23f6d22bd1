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

A page in the navigation prints its own branch of it, open down to the page, which is
marked active and holds the page's table of contents; the ~1,100 technique, group and
tactic pages took 2.8 s of CPU drawing it (a technique page's is about 90 items, a
group page's about 180). Two pages with the same parent section and the same folder
print the same navigation but for their own two items: where the page drawn before
prints itself active, the next prints that page as any other, and the reverse. So the
next page's navigation is the one drawn before with those two items drawn again
(`sibling_key`): three items drawn by the theme's own macro (`partials/nav-item.html`,
through the site's `partials/attack-pipeline-nav-item.html`), each found exactly once
in the navigation before, or the navigation is drawn whole.

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
# Draws one item with the theme's macro, as the navigation draws it (`attack_pipeline_item`).
ITEM = "partials/attack-pipeline-nav-item.html"
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


def sibling_key(page, nav_pages: frozenset[int]) -> tuple | None:
    """What two pages of the navigation share when they print the same navigation but
    for their own items (their parent section and their folder, where their links to
    any other address are the same), or None when `page` is not such a page: out of the
    navigation, at the top of it, or a section."""
    if page is None or id(page) not in nav_pages or getattr(page, "children", None):
        return None
    parent, url = getattr(page, "parent", None), getattr(page, "url", None)
    if parent is None or url is None:
        return None
    return id(parent), posixpath.dirname(url.rstrip("/"))


def _spliced(drawn: str, out: str, into: str, old: str, new: str) -> str | None:
    """`drawn` with `out` (found once) put back as `into`, and `old` (found once, apart
    from it) drawn as `new`; None when either is not found exactly once."""
    at, where = drawn.find(out), drawn.find(old)
    if at < 0 or where < 0 or drawn.count(out) != 1 or drawn.count(old) != 1:
        return None
    if at < where:
        if at + len(out) > where:
            return None
        return drawn[:at] + into + drawn[at + len(out) : where] + new + drawn[where + len(old) :]
    if where + len(old) > at:
        return None
    return drawn[:where] + new + drawn[where + len(old) : at] + into + drawn[at + len(out) :]


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
        self._item = env.get_template(ITEM)
        self._kept: dict[tuple[str, str], Markup] = {}  # by folder and site name
        self._known: dict[int, tuple[frozenset[int], frozenset[str]]] = {}
        # by `sibling_key` and site name: the page drawn last, its navigation, its own item
        self._last: dict[tuple, tuple[object, str, str]] = {}

    def folder(self, page, nav) -> str | None:
        """`folder_key` of `page` in `nav` (None: drawn for the page alone)."""
        if nav is None:
            return None
        return folder_key(page, *self._of(nav))

    def _of(self, nav) -> tuple[frozenset[int], frozenset[str]]:
        """The pages of `nav` and the folders holding them; what was kept for another
        navigation is let go."""
        if id(nav) not in self._known:
            self._known.clear()
            self._kept.clear()
            self._last.clear()
            self._known[id(nav)] = (frozenset(id(p) for p in nav.pages), _folders(nav))
        return self._known[id(nav)]

    def drawn(self, folder: str, site_name: str) -> str | None:
        """The navigation drawn for the pages of `folder` under `site_name` (the
        navigation prints it), once one of them was drawn."""
        return self._kept.get((folder, site_name))

    @jinja2.pass_context
    def draw(self, context) -> Markup:
        page, nav = context.get("page"), context.get("nav")
        name = str(context.get("config")["site_name"])
        folder = self.folder(page, nav)
        key = None if folder is None else (folder, name)
        if key is not None and key in self._kept:
            return self._kept[key]
        sibling = sibling_key(page, self._of(nav)[0]) if key is None and nav is not None else None
        values = context.get_all()
        if sibling is not None:
            sibling = (*sibling, name)
            html = self._from_sibling(sibling, page, values)
            if html is not None:
                return html
        html = Markup(self._template.render(values))
        if key is not None:
            self._kept[key] = html
        elif sibling is not None:
            own = self._draw_item(values, page)
            if html.count(own) == 1:
                self._last[sibling] = (page, str(html), own)
        return html

    def _draw_item(self, values: dict, item) -> str:
        return self._item.render({**values, "attack_pipeline_item": item})

    def _from_sibling(self, sibling: tuple, page, values: dict) -> Markup | None:
        """The navigation of `page` from the one of the page drawn last with the same
        `sibling` key: that page's item drawn as any other's, `page`'s as the active one."""
        last = self._last.get(sibling)
        if last is None or last[0] is page:
            return None
        before, drawn, its_own = last
        # `before` as `page` prints it: not the current page, not active
        plain_before = self._draw_item(values, before)
        # `page` as `before` printed it: not active (its ancestors, which `page` shares
        # with `before`, are set back with it), seen from a page of the same folder
        page.active = False
        try:
            plain_page = self._draw_item({**values, "page": before}, page)
        finally:
            page.active = True
        own = self._draw_item(values, page)
        html = _spliced(drawn, its_own, plain_before, plain_page, own)
        if html is None:
            return None
        self._last[sibling] = (page, html, own)
        return Markup(html)
