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

import markdown
from markdown import treeprocessors, util
from mkdocs.exceptions import BuildError
from mkdocs.structure import pages as mkdocs_pages
from mkdocs.structure.toc import get_toc
from pygments.style import Style, StyleMeta
from pymdownx.highlight import HighlightExtension

from pipeline.site.pagecache import Reuse, looking_up, watching

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

    def _markdown(self) -> markdown.Markdown:
        if self._md is None:
            md = markdown.Markdown(
                extensions=self.config["markdown_extensions"], extension_configs=self.config["mdx_configs"] or {}
            )
            if type(md.treeprocessors["inline"]) is treeprocessors.InlineProcessor:
                md.treeprocessors.register(SkippingInlineProcessor(md), "inline", 20)  # Python-Markdown's priority
            self._md = md
        return self._md

    def render(self, page, files) -> list:
        """What `Page.render` sets on the page, from the shared instance; returns the
        table of contents' tokens (what `page.toc` is made from, as plain data)."""
        if page.markdown is None:
            raise RuntimeError("`markdown` field hasn't been set (via `read_source`)")
        md = self._markdown()
        md.reset()
        raw_html = mkdocs_pages._RawHTMLPreprocessor()
        raw_html._register(md)
        anchors = mkdocs_pages._ExtractAnchorsTreeprocessor(page.file, files, self.config)
        anchors._register(md)
        relative = mkdocs_pages._RelativePathTreeprocessor(page.file, files, self.config)
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
            page.read_source(config)
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


class SkippingInlineProcessor(treeprocessors.InlineProcessor):
    """Python-Markdown's inline processor, which tries an inline pattern on a text only
    where the pattern's expression finds a match in it.

    Why: inline processing was a fifth of the site's CPU, and most of it was the
    per-pattern bookkeeping of `__applyPattern` (its ancestor check, its match loop)
    and the pattern registry's lookups, repeated for each of the 14 patterns on each of
    the ~900,000 texts of the default site's pages (table cells, list items,
    paragraphs), nearly all of which hold no emphasis, entity or HTML. A pattern whose
    expression finds nothing from the position the loop is at is exactly a pattern
    `__applyPattern` reports unmatched (it returns the text as it was, and the loop
    goes on with the next pattern from the text's start), so skipping it changes
    nothing; a pattern that does find something is applied as before. The patterns are
    read once per page (they cannot change while a page converts).

    Overrides the name-mangled `__handleInline` of Markdown 3 (the pinned version);
    tests/site/test_site_convert.py holds it equal to Python-Markdown's own on random
    text, and tests/site compare whole sites with mkdocs' own build."""

    _patterns: tuple = ()

    def run(self, tree, ancestors=None):
        self._patterns = tuple((p, p.getCompiledRegExp()) for p in self.inlinePatterns)
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if isinstance(data, util.AtomicString):
            return data
        patterns = self._patterns
        apply = self._InlineProcessor__applyPattern
        start = 0
        while patternIndex < len(patterns):
            pattern, expression = patterns[patternIndex]
            if expression.search(data, start) is None:
                matched, start = False, 0
            else:
                data, matched, start = apply(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


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


class CachedHighlightExtension(HighlightExtension):
    """pymdownx.highlight whose highlighter keeps the Pygments lexers it has looked up
    (by language and options; a guessed language depends on the code, so is not kept)
    and, highlighting with CSS classes, builds no Pygments stylesheet (`ClassesOnly`).
    Named in the site's Markdown extensions in place of `pymdownx.highlight`; superfences
    finds it as it finds that one."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        lexers: dict[tuple, tuple] = {}
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

        self._highlighter = _Highlight

    def get_pymdownx_highlighter(self):
        return self._highlighter


def makeExtension(*args, **kwargs):  # noqa: N802 - the name Python-Markdown looks for
    return CachedHighlightExtension(*args, **kwargs)
