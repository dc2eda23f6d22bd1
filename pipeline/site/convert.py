"""Markdown to HTML for the site's pages, with one Markdown instance per process.

Why: mkdocs (1.6) builds a new `markdown.Markdown` for every page, which loads and
configures every extension again (a tenth of the conversion time over ~10,500
pages), and pymdownx's highlighter looks its Pygments lexer up by name for every code
block (a search through all of Pygments' lexers each time). Here one instance serves
every page of a process: between pages it is `reset()` (which every extension hooks
to drop its state) and mkdocs' four per-page processors (raw HTML anchors, anchor
extraction, relative links, title) are registered anew under their own names, which
replaces the previous page's. `populate` is mkdocs' `_populate_page` (same plugin
events in the same order, same error line) with that conversion.

The result is the HTML, table of contents, title, anchors and links mkdocs' own
rendering gives, byte for byte: `make_site(..., workers=0)` is mkdocs' own build, and
tests/site compare the two sites file by file.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as etree

import markdown
from markdown import inlinepatterns, treeprocessors, util
from markdown.extensions.tables import TableProcessor
from markdown.extensions.toc import TocExtension, TocTreeprocessor
from markdown.postprocessors import RawHtmlPostprocessor
from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace
from mkdocs.exceptions import BuildError
from mkdocs.structure import pages as mkdocs_pages
from mkdocs.structure.toc import get_toc
from pygments.style import Style, StyleMeta
from pymdownx.highlight import HighlightExtension

from pipeline.site.frontmatter import read_source
from pipeline.site.links import LeanRelativePathTreeprocessor
from pipeline.site.pagecache import Reuse, looking_up, watching
from pipeline.site.rawhtml import LeanHtmlBlockPreprocessor, LeanRawHtmlPostprocessor

log = logging.getLogger("mkdocs.commands.build")
# What a kept conversion leaves out: the Markdown (in its key) and the page's date (set
# by the `pre_page` hook from the site's date, which the key leaves out).
_NOT_KEPT = ("markdown", "update_date")


class Converter:
    """Converts pages for one mkdocs config; the Markdown instance is made on first use,
    so a forked worker makes its own."""

    def __init__(self, config) -> None:
        self.config = config
        self._md: markdown.Markdown | None = None
        self._block_level: BlockLevel
        self._targets: dict[tuple[str, str], str] = {}  # links' files (site/links.py)

    def _markdown(self) -> markdown.Markdown:
        if self._md is None:
            md = markdown.Markdown(
                extensions=self.config["markdown_extensions"], extension_configs=self.config["mdx_configs"] or {}
            )
            for name, stock, lean, expression, priority in _LEAN_PATTERNS:
                found = md.inlinePatterns[name] if name in md.inlinePatterns else None
                if type(found) is stock and found.pattern == expression:
                    md.inlinePatterns.register(lean(expression, md), name, priority)
            if type(md.treeprocessors["inline"]) is treeprocessors.InlineProcessor:
                md.treeprocessors.register(SkippingInlineProcessor(md), "inline", 20)  # Python-Markdown's priority
            toc = next((e for e in md.registeredExtensions if type(e) is TocExtension), None)
            if toc is not None and type(md.treeprocessors["toc"]) is TocTreeprocessor:
                md.treeprocessors.register(LeanTocTreeprocessor(md, toc.getConfigs()), "toc", 5)  # the extension's priority
            table = md.parser.blockprocessors["table"] if "table" in md.parser.blockprocessors else None
            if type(table) is TableProcessor:
                md.parser.blockprocessors.register(LeanTableProcessor(md.parser, table.config), "table", 75)
            if "raw_html" in md.postprocessors and type(md.postprocessors["raw_html"]) is RawHtmlPostprocessor:
                md.postprocessors.register(LeanRawHtmlPostprocessor(md), "raw_html", 30)  # Python-Markdown's priority
            if "html_block" in md.preprocessors and type(md.preprocessors["html_block"]) is HtmlBlockPreprocessor:
                md.preprocessors.register(LeanHtmlBlockPreprocessor(md), "html_block", 20)  # Python-Markdown's priority
            if type(md.preprocessors["normalize_whitespace"]) is NormalizeWhitespace:
                md.preprocessors.register(LeanNormalizeWhitespace(md), "normalize_whitespace", 30)  # Python-Markdown's priority
            if type(md.treeprocessors["unescape"]) is treeprocessors.UnescapeTreeprocessor:
                md.treeprocessors.register(LeanUnescapeTreeprocessor(md), "unescape", 0)  # Python-Markdown's priority
            for name, attribute, beginning, needed in _BLOCK_STARTS:
                processor = md.parser.blockprocessors[name] if name in md.parser.blockprocessors else None
                expression = getattr(processor, attribute, None)
                if isinstance(expression, re.Pattern) and expression.pattern.startswith(beginning):
                    setattr(processor, attribute, NeedingPattern(expression, needed))
            for registry in (md.preprocessors, md.parser.blockprocessors, md.treeprocessors, md.inlinePatterns, md.postprocessors):
                if type(registry) is util.Registry:
                    registry.__class__ = OrderedOnce
            self._block_level = BlockLevel(md)
            self._md = md
        return self._md

    def render(self, page, files) -> list:
        """What `Page.render` sets on the page, from the shared instance; returns the
        table of contents' tokens (what `page.toc` is made from, as plain data)."""
        if page.markdown is None:
            raise RuntimeError("`markdown` field hasn't been set (via `read_source`)")
        md = self._markdown()
        md.reset()
        self._block_level.check()
        raw_html = LeanRawHTMLPreprocessor()
        raw_html._register(md)
        anchors = mkdocs_pages._ExtractAnchorsTreeprocessor(page.file, files, self.config)
        anchors._register(md)
        relative = LeanRelativePathTreeprocessor(page.file, files, self.config, self._targets)
        relative._register(md)
        title = mkdocs_pages._ExtractTitleTreeprocessor()
        title._register(md)
        page.content = md.convert(page.markdown)
        tokens = getattr(md, "toc_tokens", [])
        page.toc = get_toc(tokens)
        page._title_from_render = title.title
        page.present_anchor_ids = anchors.present_anchor_ids | raw_html.present_anchor_ids
        if mkdocs_pages.log.getEffectiveLevel() > logging.DEBUG:
            page.links_to_anchors = relative.links_to_anchors
        return tokens

    def populate(self, page, files, reuse: Reuse | None = None) -> tuple[str | None, str | None, dict, bool]:
        """Read the page's source and convert it, with the plugin events around it; the
        conversion (Markdown and the `page_content` hooks) is taken from `reuse`'s cache
        when it holds it. Returns the page's key there, the identity of its conversion
        (`Reuse.keep_converted`), what the page holds now (`page_state`) and whether it
        was converted (not taken from the cache)."""
        config = self.config
        config._current_page = page
        try:
            page = config.plugins.on_pre_page(page, config=config, files=files)
            read_source(page, config)  # mkdocs' `page.read_source`, less copying (site/frontmatter.py)
            page.markdown = config.plugins.on_page_markdown(page.markdown, page=page, config=config, files=files)
            key = reuse.converted_key(page) if reuse is not None else None
            kept = reuse.converted(key, files) if reuse is not None else None
            if kept is not None:
                state, ident = kept
                # Kept without these: the Markdown is in the key, the date is this site's.
                return key, ident, {**state, "markdown": page.markdown, "update_date": page.update_date}, False
            with watching() as warned, looking_up(files) as looked_up:
                tokens = self.render(page, files)
                page.content = config.plugins.on_page_content(page.content, page=page, config=config, files=files)
            state = page_state(page, tokens)
            kept_state = {k: v for k, v in state.items() if k not in _NOT_KEPT}
            ident = reuse.keep_converted(key, kept_state, looked_up, keep=not warned.seen) if reuse is not None else None
            return key, ident, state, True
        except Exception as e:
            log_page_error("reading", page, e)
            raise
        finally:
            config._current_page = None


def log_page_error(doing: str, page, error: Exception) -> None:
    """mkdocs' error line for a page that failed ("Error reading page '…': …"), which
    strict mode counts; a BuildError's own message was logged where it was raised."""
    message = f"Error {doing} page '{page.file.src_uri}':"
    if not isinstance(error, BuildError):
        message += f" {error}"
    log.error(message)


def page_state(page, toc_tokens: list) -> dict:
    """What `populate` leaves on a page, as JSON data (to send to the parent process and
    to keep): links to anchors name their target by path, the table of contents is its
    tokens; `set_state` puts it on a page."""
    return {
        "markdown": page.markdown,
        "meta": page.meta,
        "content": page.content,
        "toc": toc_tokens,
        "title": page._title_from_render,
        "update_date": page.update_date,  # set by the `pre_page` hook: the sitemap's date
        "anchors": sorted(page.present_anchor_ids),
        "links": None if page.links_to_anchors is None else {f.src_uri: links for f, links in page.links_to_anchors.items()},
    }


def set_state(page, state: dict, files) -> None:
    page.markdown = state["markdown"]
    page.meta = state["meta"]
    page.content = state["content"]
    page.toc = get_toc(state["toc"])
    page._title_from_render = state["title"]
    page.update_date = state["update_date"]
    page.present_anchor_ids = set(state["anchors"])
    if state["links"] is not None:
        page.links_to_anchors = {files.get_file_from_path(src): links for src, links in state["links"].items()}


class _PlainText:
    """Reads the text of a link or reference between its brackets with string searches.

    Why: Python-Markdown reads it (up to the matching `]`) one character at a time in
    Python, once for the reference pattern and again for the link pattern on each of the
    default site's ~700,000 links. Where the text holds no `[` before the first `]`,
    that `]` is the one the walk stops at, so the result is the walk's own; any other
    text is read by the walk."""

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:
        end = data.find("]", index)
        if end != -1 and data.find("[", index, end) == -1:
            return data[index:end], end + 1, True
        return super().getText(data, index)  # type: ignore[misc]


class LeanLinkInlineProcessor(_PlainText, inlinepatterns.LinkInlineProcessor):
    """Python-Markdown's inline links, reading a plain link's text (`_PlainText`) and
    address with string searches.

    Why: the pattern reads a link's address (up to its matching `)`, past quoted titles)
    one character at a time in Python: with the text, 1.5-2 s of the default site's CPU,
    on links nearly all of the form `[text](address)`. Where the address holds no `(`
    and no quote before the first `)`, that `)` is the one the walk stops at, with no
    title, so the result is the walk's own; any other address is read by the walk. An
    address holding no placeholder (`util.STX`) is its own unescaped form."""

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:
        m = self.RE_LINK.match(data, pos=index)
        if m is not None and not m.group(1):
            start = m.end()
            end = data.find(")", start)
            if end != -1:
                href = data[start:end]
                if "(" not in href and "'" not in href and '"' not in href:
                    if util.STX in href:
                        href = self.unescape(href)
                    return href.strip(), None, end + 1, True
        return super().getLink(data, index)


class LeanReferenceInlineProcessor(_PlainText, inlinepatterns.ReferenceInlineProcessor):
    """Python-Markdown's references (`[text][id]`), reading the text with `_PlainText`:
    tried before the link pattern on every link."""


class LeanShortReferenceInlineProcessor(_PlainText, inlinepatterns.ShortReferenceInlineProcessor):
    """Python-Markdown's short references (`[id]`), reading the text with `_PlainText`."""


# Inline patterns replaced by their lean forms where Python-Markdown registered them as
# it does: (name, its class, the lean class, its expression, its priority).
_LEAN_PATTERNS = (
    ("reference", inlinepatterns.ReferenceInlineProcessor, LeanReferenceInlineProcessor, inlinepatterns.REFERENCE_RE, 170),
    ("link", inlinepatterns.LinkInlineProcessor, LeanLinkInlineProcessor, inlinepatterns.LINK_RE, 160),
    (
        "short_reference",
        inlinepatterns.ShortReferenceInlineProcessor,
        LeanShortReferenceInlineProcessor,
        inlinepatterns.REFERENCE_RE,
        130,
    ),
)


# What each of Python-Markdown's inline patterns needs in a text to find anything: its
# expression cannot match a text holding none of these strings (tests/site hold each to
# that on random text). Keyed by the pattern's class and expression, so a pattern another
# extension adds, or a new version changes, is not known and is always tried.
_NEEDS: dict[tuple[type, str], tuple[str, ...]] = {
    (inlinepatterns.BacktickInlineProcessor, inlinepatterns.BACKTICK_RE): ("`",),
    (inlinepatterns.EscapeInlineProcessor, inlinepatterns.ESCAPE_RE): ("\\",),
    (inlinepatterns.ReferenceInlineProcessor, inlinepatterns.REFERENCE_RE): ("[",),
    (inlinepatterns.LinkInlineProcessor, inlinepatterns.LINK_RE): ("[",),
    (LeanLinkInlineProcessor, inlinepatterns.LINK_RE): ("[",),
    (LeanReferenceInlineProcessor, inlinepatterns.REFERENCE_RE): ("[",),
    (LeanShortReferenceInlineProcessor, inlinepatterns.REFERENCE_RE): ("[",),
    (inlinepatterns.ImageInlineProcessor, inlinepatterns.IMAGE_LINK_RE): ("![",),
    (inlinepatterns.ImageReferenceInlineProcessor, inlinepatterns.IMAGE_REFERENCE_RE): ("![",),
    (inlinepatterns.ShortReferenceInlineProcessor, inlinepatterns.REFERENCE_RE): ("[",),
    (inlinepatterns.ShortImageReferenceInlineProcessor, inlinepatterns.IMAGE_REFERENCE_RE): ("![",),
    (inlinepatterns.AutolinkInlineProcessor, inlinepatterns.AUTOLINK_RE): ("<",),
    (inlinepatterns.AutomailInlineProcessor, inlinepatterns.AUTOMAIL_RE): ("<",),
    (inlinepatterns.SubstituteTagInlineProcessor, inlinepatterns.LINE_BREAK_RE): ("  \n",),
    (inlinepatterns.HtmlInlineProcessor, inlinepatterns.HTML_RE): ("<",),
    (inlinepatterns.HtmlInlineProcessor, inlinepatterns.ENTITY_RE): ("&",),
}


def needs(pattern) -> tuple[str, ...] | None:
    """The strings one of which a text must hold for `pattern` to find anything in it,
    or None when that is not known (the pattern is then always tried)."""
    if type(pattern) is inlinepatterns.DelimiterProcessor:
        # emphasis: its expression is its delimiters (`*`, `_`) joined as alternatives
        tokens = tuple(pattern.tokens)
        return tokens if tokens and pattern.pattern == "|".join(re.escape(t) for t in tokens) else None
    return _NEEDS.get((type(pattern), getattr(pattern, "pattern", None)))


class SkippingInlineProcessor(treeprocessors.InlineProcessor):
    """Python-Markdown's inline processor, which tries an inline pattern on a text only
    where the pattern can find something in it.

    Why: inline processing was a fifth of the site's CPU, and most of it was the
    per-pattern bookkeeping of `__applyPattern` (its ancestor check, its match loop)
    and the pattern registry's lookups, repeated for each of the 14 patterns on each of
    the ~900,000 texts of the default site's pages (table cells, list items,
    paragraphs), nearly all of which hold no emphasis, entity or HTML. A pattern that
    finds nothing from the position the loop is at is exactly a pattern
    `__applyPattern` reports unmatched (it returns the text as it was, and the loop
    goes on with the next pattern from the text's start), so skipping it changes
    nothing; a pattern that does find something is applied as before.

    Two checks, the cheaper first (the first one saves 2.7 of the default site's 30 s of
    Markdown in one process):
    - a text that holds none of the strings a known pattern needs (`needs`: a backtick,
      a bracket, `<`, `&`, a delimiter…) is not searched with its expression at all. A
      text is looked at once for all of them, and what a match leaves of it (the text
      around the placeholder of what matched, made of none of them, whatever the pattern)
      holds no more than before, so a pattern ruled out at the start stays ruled out. A
      pattern not known (another extension's) is always searched;
    - a pattern whose expression finds nothing in the text is skipped.
    The patterns are read once per page (they cannot change while a page converts).

    Overrides the name-mangled `__handleInline` of Markdown 3 (the pinned version);
    tests/site/test_site_convert.py holds it equal to Python-Markdown's own on random
    text, and tests/site compare whole sites with mkdocs' own build."""

    _patterns: tuple = ()
    # (needed string, positions of the known patterns needing it)
    _needed: tuple = ()
    _needed_texts: tuple = ()  # the needed strings alone
    _always: frozenset = frozenset()  # positions of the patterns not known: always tried
    _plans: dict

    def run(self, tree, ancestors=None):
        patterns = tuple(self.inlinePatterns)
        if len(patterns) != len(self._patterns) or any(a is not b for a, (b, _e) in zip(patterns, self._patterns)):
            self._patterns = tuple((p, p.getCompiledRegExp()) for p in patterns)
            wanted = [needs(p) for p in patterns]
            by: dict[str, set[int]] = {}
            for at, strings in enumerate(wanted):
                for text in strings or ():
                    by.setdefault(text, set()).add(at)
            self._needed = tuple((text, frozenset(at)) for text, at in sorted(by.items()))
            self._needed_texts = tuple(text for text, _at in self._needed)
            self._always = frozenset(at for at, strings in enumerate(wanted) if strings is None)
            self._plans = {}
        return super().run(tree, ancestors)

    def _plan(self, data: str) -> tuple[int, ...]:
        """The positions of the patterns that may find something in `data`, in order."""
        present = tuple(map(data.__contains__, self._needed_texts))  # looked for at C speed
        plan = self._plans.get(present)
        if plan is None:
            chosen = set(self._always)
            for (_text, at), found in zip(self._needed, present):
                if found:
                    chosen |= at
            plan = self._plans[present] = tuple(sorted(chosen))
        return plan

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if isinstance(data, util.AtomicString):
            return data
        patterns = self._patterns
        apply = self._InlineProcessor__applyPattern
        for index in self._plan(data):
            if index < patternIndex:
                continue
            pattern, expression = patterns[index]
            start = 0
            matched = True
            while matched:
                if expression.search(data, start) is None:
                    break
                data, matched, start = apply(pattern, data, index, start)
        return data


class LeanTocTreeprocessor(TocTreeprocessor):
    """Python-Markdown's table of contents, without drawing it as HTML where nothing
    prints that HTML.

    Why: the extension gives the headings their ids and makes the contents' tokens,
    which mkdocs reads (`toc_tokens`: the page's `toc`), and it also draws the contents
    as an HTML list, which it puts in place of a `[TOC]` marker and keeps as `md.toc`,
    which neither mkdocs nor the theme reads. Looking for the marker walks the page's
    whole text once per element (`replace_marker`): with drawing the list, about 6 % of
    the site's Markdown time on the default build (1.4-2.1 of 30 s in one process). Here the list is drawn, and the marker looked for, only when
    some element's text holds the marker (the one text `replace_marker` replaces); else
    `md.toc` is an empty `div`. The ids and tokens are the extension's own."""

    _marked = True

    def run(self, doc) -> None:
        marker = self.marker
        self._marked = bool(marker) and any(el.text is not None and marker in el.text for el in doc.iter())
        super().run(doc)

    def build_toc_div(self, toc_list: list):
        if self._marked:
            return super().build_toc_div(toc_list)
        return etree.Element("div")

    def replace_marker(self, root, elem) -> None:
        if self._marked:
            super().replace_marker(root, elem)


class LeanTableProcessor(TableProcessor):
    """Python-Markdown's tables, splitting a row with no backtick and no backslash at
    every pipe.

    Why: the extension splits each row by walking its backticks, escapes and pipes to
    keep the pipes inside code spans: 1.5 s of the site's 30 s of Markdown in one
    process, on the default build's ~200,000 table rows, 7 % of which hold a backtick
    or a backslash. Without either, every pipe is a cell's border (its expression finds only
    the pipes), so the cells are the row split at each pipe; any other row is split by
    the extension's own walk."""

    def _split(self, row: str) -> list[str]:
        if "`" in row or "\\" in row:
            return super()._split(row)
        return row.split("|")

    def _split_row(self, row: str) -> list[str]:
        """The extension's split, its end border taken off without its expression
        (`RE_END_BORDER`, with a look-behind, which the regex engine tries at every
        position of the row: 0.5 s of the default site's CPU): a pipe ending the row is the border, with
        the backslashes before it when they are even in number (they escape each other),
        and escaped, so kept, when they are odd. A row holding a line break (where `$`
        also matches before one) is the extension's own."""
        if not self.border or "\n" in row:
            return super()._split_row(row)
        if row.startswith("|"):
            row = row[1:]
        if row.endswith("|"):
            escapes = len(row) - 1 - len(row[:-1].rstrip("\\"))
            if not escapes % 2:
                row = row[: len(row) - 1 - escapes]
        return self._split(row)


# Block processors that search every block of every page for their start: (name in the
# block parser, attribute of the expression, how the expression begins, the string that
# beginning matches, which every match therefore holds).
_BLOCK_STARTS = (
    ("admonition", "RE", "(?:^|\\n)!!!", "!!!"),
    ("details", "START", "(?:^|\\n)\\?{3}", "???"),
    ("tabbed", "START", "(?:^|\\n)={3}", "==="),
    ("hashheader", "RE", "(?:^|\\n)(?P<level>#{1,6})", "#"),
)


class NeedingPattern:
    """A compiled expression that is not run on a text lacking a string every match of it
    holds (`needed`); any other use is the expression's own.

    Why: Python-Markdown's headings and the admonition, details and tabbed extensions
    test each block of every page for their start (`#`, `!!!`, `???`, `===` at a line's
    start) with an expression that begins with `(?:^|\n)`, which the regex engine tries
    at every position: 2.2 s of the default site's CPU, on blocks that hold none of them. A text without `needed` cannot match,
    so the search finds nothing either way. Put on a processor only where its expression
    begins as expected (`_BLOCK_STARTS`, checked when the converter is made)."""

    __slots__ = ("expression", "needed")

    def __init__(self, expression: re.Pattern, needed: str) -> None:
        self.expression = expression
        self.needed = needed

    def search(self, text: str, *args):
        if self.needed not in text:
            return None
        return self.expression.search(text, *args)

    def __getattr__(self, name: str):
        return getattr(self.expression, name)


class LeanNormalizeWhitespace(NormalizeWhitespace):
    """Python-Markdown's first preprocessor, emptying the lines of nothing but spaces
    with an expression that begins with a newline.

    Why: Python-Markdown's expression, `(?<=\\n) +\\n`, begins with a look-behind, which
    the regex engine tries at every position of every page (0.45 s of the default
    site's CPU, against 0.07 s). Both delete the spaces of every line that holds nothing
    else and follows a newline: Python-Markdown's matches the spaces and the newline
    after them, this one the newline before them, left where it was; the other steps
    are Python-Markdown's own."""

    _SPACE_LINE = re.compile(r"\n +(?=\n)")

    def run(self, lines: list[str]) -> list[str]:
        source = "\n".join(lines)
        source = source.replace(util.STX, "").replace(util.ETX, "")
        source = source.replace("\r\n", "\n").replace("\r", "\n") + "\n\n"
        source = source.expandtabs(self.md.tab_length)
        source = self._SPACE_LINE.sub("\n", source)
        return source.split("\n")


class LeanUnescapeTreeprocessor(treeprocessors.UnescapeTreeprocessor):
    """Python-Markdown's last tree step, which puts back the characters escaped with a
    backslash, asked to look only at texts holding its marker (`util.STX`): a text
    without it is its own unescaped form, and nearly every text of the site's pages is
    (0.3 s of the default site's CPU on expressions that find nothing)."""

    def unescape(self, text: str) -> str:
        return super().unescape(text) if util.STX in text else text


class OrderedOnce(util.Registry):
    """Python-Markdown's registry of processors, whose items in order are listed once
    until one is registered or removed.

    Why: the block parser walks the registry of block processors for every block of every
    page, and Python-Markdown's registry makes a new list of its items for every walk
    (0.3 s of the default site's CPU). The list kept here is replaced, never changed, so
    a walk under way while an item is registered goes on over the items it began with, as
    it does over Python-Markdown's fresh list."""

    _items: list | None = None

    def __iter__(self):
        items = self._items
        if items is None or not self._is_sorted:
            self._sort()
            items = self._items = [self._data[k] for k, _ in self._priority]
        return iter(items)

    def deregister(self, name: str, strict: bool = True) -> None:
        self._items = None  # the order holds (registering marks it unsorted)
        super().deregister(name, strict)


class BlockLevel:
    """`Markdown.is_block_level` with its answers kept by tag, put on the converter's
    Markdown instance in place of the method.

    Why: Python-Markdown asks it for every element when it prettifies, serializes and
    parses raw HTML, and each answer lowercases the tag and searches a list of ~50 tag
    names (1.5 s of the default site's CPU, mostly for inline tags, which are searched
    to the end). The answers depend on the tag and that list only: they are kept until
    the list changes (`check`, before each page), and a tag that is not a string is no
    block, as in Python-Markdown."""

    def __init__(self, md: markdown.Markdown) -> None:
        self.md = md
        self.elements: tuple = ()
        self.known: dict = {}
        md.is_block_level = self._is_block_level
        self.check()

    def check(self) -> None:
        """Forgets the answers when the list of block-level tags has changed."""
        if tuple(self.md.block_level_elements) != self.elements:
            self.elements = tuple(self.md.block_level_elements)
            self.known = {}

    def _is_block_level(self, tag) -> bool:
        found = self.known.get(tag)
        if found is None:
            found = self.known[tag] = isinstance(tag, str) and tag.lower().rstrip("/") in self.elements
        return found


# A start tag's attribute named id or name with a value, in the page's text reversed:
# html.parser reads a name that begins after a quote, a space or a slash and a value
# after `=`. Reversed, the expression begins with a plain `=`, which the regex engine
# looks for at C speed (0.07 s on the default site's 72 M characters, against 1.1 s for
# the same expression on the text as it is).
_VALUED_ANCHOR_REVERSED = re.compile(r"""=\s*(?:[dD][iI]|[eE][mM][aA][nN])(?=['"\s/])""")


class LeanRawHTMLPreprocessor(mkdocs_pages._RawHTMLPreprocessor):
    """mkdocs' collector of the anchors (`id`, and `name` on `a`) that raw HTML in a page's
    Markdown defines, which parses a page only when it can hold one.

    Why: mkdocs runs html.parser over every page's whole text for them, 1.6 s of the
    default site's CPU, and none of its 10,554 pages defines one. A page holding no
    attribute named id or name followed by `=` (`_VALUED_ANCHOR_REVERSED`, a test that
    cannot miss one) defines no anchor, and the others are parsed as mkdocs parses them. An
    attribute without a value, which mkdocs keeps as None, is left out: it is no anchor
    any link can name (and would stop the page's anchors from being sorted)."""

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        self.present_anchor_ids = set()
        if _VALUED_ANCHOR_REVERSED.search(text[::-1]) is not None:
            parser = mkdocs_pages._HTMLHandler()
            parser.feed(text)
            parser.close()
            self.present_anchor_ids = {found for found in parser.present_anchor_ids if found is not None}
        return lines


class _NoTokenStyles(StyleMeta):
    """A style class that lists no token styles when iterated."""

    def __iter__(cls):
        return iter(())


class ClassesOnly(Style, metaclass=_NoTokenStyles):
    """The Pygments style of code blocks highlighted with CSS classes.

    Why: Pygments' HTML formatter builds a stylesheet from its style's ~90 token
    styles when it is made, and pymdownx makes one formatter per code block (about
    23,600 on the default site: a twentieth of the site's CPU). With CSS classes
    (`noclasses` off, as here: the theme's stylesheet colours the tokens) the HTML
    never reads that stylesheet, only the class names, which come from the token
    types, so a style with no token styles gives the same HTML for nothing."""


# What one process keeps of the code blocks it highlighted (`CachedHighlightExtension`):
# past this many characters of HTML it keeps no more (each worker holds about 40 MB).
HIGHLIGHTED_KEPT = 64 * 1024 * 1024


class CachedHighlightExtension(HighlightExtension):
    """pymdownx.highlight whose highlighter keeps the Pygments lexers it has looked up
    (by language and options; a guessed language depends on the code, so is not kept)
    and, highlighting with CSS classes, builds no Pygments stylesheet (`ClassesOnly`).
    Named in the site's Markdown extensions in place of `pymdownx.highlight`; superfences
    finds it as it finds that one.

    It also keeps the HTML of each code block it highlighted, by everything that HTML
    is made from (the code, the language and every argument; the highlighter's settings
    are the extension's, the same for every block, but for the title's mode, which is in
    the key): a technique page shows each query its detection pages show, and a third of
    the default site's ~23,600 code blocks are a block already highlighted in the same
    process. Not kept: inline code (an element of the page's tree), a block whose title
    is stored as raw HTML (a side effect on the page), or whose line numbers are named
    by the block's number on its page."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        lexers: dict[tuple, tuple] = {}
        highlighted: dict[tuple, str] = {}
        kept = [0]
        base = super().get_pymdownx_highlighter()

        class _Highlight(base):  # type: ignore[misc, valid-type]
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                if not self.noclasses:
                    self.pygments_style = ClassesOnly

            def get_lexer(self, src, language, inline, stripnl):
                # pymdownx's default `guess_lang` is 0: any false value guesses nothing
                if self.guess_lang:
                    return super().get_lexer(src, language, inline, stripnl)
                key = (language, bool(inline), stripnl)
                found = lexers.get(key)
                if found is None:
                    found = lexers[key] = super().get_lexer(src, language, inline, stripnl)
                return found

            def highlight(
                self, src, language, css_class="highlight", hl_lines=None, linestart=-1, linestep=-1,
                linespecial=-1, inline=False, classes=None, id_value="", attrs=None, title=None, code_block_count=0,
            ):
                args = (src, language, css_class, hl_lines, linestart, linestep, linespecial, inline, classes, id_value, attrs, title, code_block_count)
                if inline or (self.title_mode == "html" and (title or self.auto_title)) or self.line_spans or self.line_anchors:
                    return super().highlight(*args)  # an element for inline code, a side effect, a block's number
                key = (
                    src, language, css_class, _frozen(hl_lines), linestart, linestep, linespecial,
                    _frozen(classes), id_value, _frozen(attrs), title, self.title_mode,
                )
                found = highlighted.get(key)
                if found is None:
                    found = super().highlight(*args)
                    if kept[0] < HIGHLIGHTED_KEPT:
                        highlighted[key] = found
                        kept[0] += len(found)
                return found

        self._highlighter = _Highlight

    def get_pymdownx_highlighter(self):
        return self._highlighter


def _frozen(value):
    """`value` (None, a list of line numbers or class names, a dict of attributes) as a
    key: what it holds, in order."""
    if isinstance(value, dict):
        return ("dict", tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    return value


def makeExtension(*args, **kwargs):  # noqa: N802 - the name Python-Markdown looks for
    return CachedHighlightExtension(*args, **kwargs)
