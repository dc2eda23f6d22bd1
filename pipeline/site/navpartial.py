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
puts in the theme's environment, which draws the theme's own partial with the page's
context, the same bytes as including it.
"""

from __future__ import annotations

import posixpath
from typing import Callable

import jinja2
from markupsafe import Markup

from pipeline.site.theme import theme_template

NAME = "partials/nav.html"


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


def nav_partial(env: jinja2.Environment) -> Callable:
    """The template function `attack_pipeline_nav()`: the theme's own navigation partial
    (found in the theme's folders without the site's overrides) drawn with the calling
    page's context, kept per folder for pages out of the navigation (see the module's
    docstring). One per site build: its environment, its navigation."""
    template = theme_template(env, NAME)
    kept: dict[str, Markup] = {}
    known: dict[int, tuple[frozenset[int], frozenset[str]]] = {}

    @jinja2.pass_context
    def draw(context) -> Markup:
        page, nav = context.get("page"), context.get("nav")
        key = None
        if nav is not None:
            if id(nav) not in known:
                known.clear()
                kept.clear()
                known[id(nav)] = (frozenset(id(p) for p in nav.pages), _folders(nav))
            key = folder_key(page, *known[id(nav)])
        if key is not None and key in kept:
            return kept[key]
        html = Markup(template.render(context.get_all()))
        if key is not None:
            kept[key] = html
        return html

    return draw
