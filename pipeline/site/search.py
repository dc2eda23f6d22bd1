"""The search index of the site, made without parsing what it leaves out.

Why: material's search plugin parses the whole HTML of every indexed page with
Python's `html.parser` — a tenth of a site build's CPU on the default build — and then
drops what the site's hooks marked `data-search-exclude` (tables, code blocks, a
control page's body: `hooks.on_page_content`), which is most of that HTML: a technique
page's mapping tables and queries. `LeanSearchIndex` is material's index fed each
page's HTML with the content of those elements taken out (their start and end tags
kept), so the parser walks a small part of it and finds the same sections, titles and
texts.

Why the entries are the same: the plugin's parser records nothing inside an excluded
element — its text is skipped, and the tags inside only enter and leave its stack of
open elements — as long as no element of the same tag opens inside it (the parser
forgets the exclusion when that one closes), no heading opens inside it (a heading
starts a section even where its text is skipped) and every element opened inside it
is closed inside it (the parser ignores an end tag that does not close the innermost
open element, so an element left open would hide the excluded one's end).
`without_excluded_content` empties an element only when all of that holds, checked on
its content (with the tags of excluded elements left whole before it, which may still
be open around it), and leaves any other element as it is; bench/bench_site.py and
tests/site compare the index with material's own.
"""

from __future__ import annotations

import re

from material.plugins.search.plugin import SearchIndex

# Any start tag the parser skips the element of (an excluded one, or Pygments' line
# numbers), and the plain form the site's hooks and pictures write, which alone is
# emptied: a lower-case tag name and attributes each a plain name with or without a
# double-quoted value holding no `<` or `>`, one of them `data-search-exclude="true"`.
# There html.parser reads the same attributes (the form leaves one way to split it).
_ATTRIBUTE = r'\s+[^\s"\'=<>/]+(?:="[^"<>]*")?'
_SKIPPED = re.compile(r"<([A-Za-z][^\s/>]*)[^>]*?(?:data-search-exclude|class=[\"']?linenodiv)", re.I)
_PLAIN = re.compile(rf'<([a-z][a-z0-9]*)(?:{_ATTRIBUTE})*?\s+data-search-exclude="true"(?:{_ATTRIBUTE})*\s*>')
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)[^>]*?(/?)>")
# What stops the check below, looked for in one pass (ignoring case): what it does not
# model (comments, CDATA, scripts and styles, which are raw text) and a heading.
_STOPS = r"<!|<\?|<(?:script|style)[\s>]|<h[1-6][\s>/]"
# Elements the parser never puts on its stack (material's `void`).
_VOID = frozenset(
    ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr")
)


# An element with nothing but text inside (its start tag not self-closing, its end tag
# of the same name, as written): opened and closed at once, it leaves the stack below.
_PAIR = re.compile(r"<([A-Za-z][^\s/>]*)(?:\s[^>]*[^/>])?>[^<]*</\1>")
# A `<` inside a tag (before the `>` that ends it), where the walk below and `_PAIR`
# could split the text into tags differently.
_SWALLOWED = re.compile(r"<[^>]*<")


def _inert(content: str, skipped: set[str]) -> bool:
    """Whether the parser, inside an excluded element, records nothing for `content`
    and leaves its state as it found it (its stack of open elements included). `skipped`: the tags the parser may hold as
    skipped there (the element's own and any left whole before it): closing an element
    of one of those tags would end its skipping.

    The elements with nothing but text inside are taken out first, innermost first,
    with the regex engine (`_PAIR`): each is pushed and popped at once, so the stack
    ends as it would with them. A highlighted code block is then nothing (its spans,
    then its `code`): 0.3 s of the default site's CPU less than walking its ~1.9 million
    tags in Python. What is left is walked as before. Not where a `<` lies inside a tag
    (`_SWALLOWED`): there the walk alone splits the text into tags."""
    if re.search(_STOPS, content, re.I):
        return False
    if _SWALLOWED.search(content) is None:
        # the tags `_PAIR` takes out are the walk's: one of a skipped tag must stop it first
        opening = "|".join(map(re.escape, sorted(skipped)))
        if re.search(f"<(?:{opening})(?=[\\s/>])[^>]*>", content, re.I):
            return False
        while True:
            fewer = _PAIR.sub("", content)
            if len(fewer) == len(content):
                break
            content = fewer
    stack: list[str] = []
    for close, name, self_closing in _TAG.findall(content):
        name = name.lower()
        if not close:
            if name in skipped:
                return False
            if name not in _VOID and not self_closing:
                stack.append(name)
        elif stack and stack[-1] == name:
            stack.pop()
        # any other end tag is one the parser ignores (it closes only the innermost element)
    return not stack


def without_excluded_content(html: str) -> str:
    """`html` with the content of every excluded element whose content the parser
    would record nothing for taken out; the elements' tags stay."""
    out: list[str] = []
    done = 0
    kept: set[str] = set()  # tags of skipped elements left whole so far
    found = _SKIPPED.search(html)
    while found is not None:
        tag = found.group(1).lower()
        plain = _PLAIN.match(html, found.start())
        if plain is not None:
            end = html.find(f"</{tag}>", plain.end())
            if end != -1 and _inert(html[plain.end() : end], kept | {tag}):
                out.append(html[done : plain.end()])
                done = end
                found = _SKIPPED.search(html, end)
                continue
        kept.add(tag)
        found = _SKIPPED.search(html, found.start() + 1)
    out.append(html[done:])
    return "".join(out)


# An attribute material's plugin takes out of every page (`on_page_context`), found by
# its first letters; the space before it, when there is one, is taken out with it.
_MARK = re.compile(r'data-search-\w+="[^"]+"')


def without_search_marks(content: str) -> str:
    r"""`content` as material's search plugin leaves it once indexed: every
    `data-search-…="…"` attribute taken out with the one whitespace character before it
    (its `re.sub(r'\s?data-search-\w+="[^"]+"', "", content)`).

    Why: that expression begins with an optional character, so the regular expression
    engine tries it at every position of every page: 1.5 s of a site build's CPU on the
    default build. Here the engine looks for the attribute's first letters, and a
    match's space is the character before it when that is whitespace (`\s` is
    `str.isspace`) and not already taken out: the matches, leftmost first, are the same."""
    out: list[str] = []
    done = 0
    for found in _MARK.finditer(content):
        start = found.start()
        if start > done and content[start - 1].isspace():
            start -= 1
        out.append(content[done:start])
        done = found.end()
    if not out:
        return content
    out.append(content[done:])
    return "".join(out)


def lean_page_context(config, plugin) -> None:
    """Puts `on_page_context` of material's search `plugin` in `config.plugins`' events
    in place of the plugin's own, where it was: the page indexed and its marks taken out
    (`without_search_marks`) as the plugin does."""

    def on_page_context(context, *, page, config, nav):
        if not plugin.config.enabled:
            return None
        plugin.search_index.add_entry_from_context(page)
        page.content = without_search_marks(page.content)
        return None

    events = config.plugins.events["page_context"]
    for at, method in enumerate(events):
        if getattr(method, "__self__", None) is plugin and getattr(method, "__func__", None) is type(plugin).on_page_context:
            events[at] = on_page_context
            origins = getattr(config.plugins, "_event_origins", {})  # the plugin named in mkdocs' errors
            if method in origins:
                origins[on_page_context] = origins[method]
            return


class LeanSearchIndex(SearchIndex):
    """material's search index, fed each page without its excluded elements' content."""

    def add_entry_from_context(self, page):
        if (page.meta.get("search") or {}).get("exclude"):
            return  # left out of the index (the detection pages): nothing to parse
        full = page.content
        page.content = without_excluded_content(full)
        try:
            super().add_entry_from_context(page)
        finally:
            page.content = full


def lean(index: SearchIndex) -> LeanSearchIndex:
    """`index` (empty, as the plugin made it for this build) as a `LeanSearchIndex`."""
    return LeanSearchIndex(**index.config)
