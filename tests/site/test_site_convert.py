"""The site's code highlighting (pipeline/site/convert.py): the HTML of the extensions
the site was first made with, for less work — each lexer looked up once per process,
no Pygments stylesheet built per code block."""

from __future__ import annotations

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import pymdownx.highlight
from pygments import highlight
from pygments.formatters.html import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from markdown.extensions.tables import TableProcessor

from pipeline.site.config import MARKDOWN_EXTENSIONS, REFERENCE_EXTENSIONS
from pipeline.site.convert import ClassesOnly, Converter, LeanTableProcessor, LeanTocTreeprocessor, SkippingInlineProcessor, needs

PAGE = """# Queries

```yaml
title: Network Service Discovery  # a comment
detection: {selection: [nmap, 'masscan'], condition: selection}
```

```kusto
DeviceProcessEvents | where FileName in~ ("nmap.exe") | take 10
```

```spl
index=* sourcetype=sysmon EventCode=1 | stats count by host
```

``` { .sql linenums="3" hl_lines="2" }
SELECT 1;
SELECT 'two' AS n;
```

`inline` and ```text
plain
```
"""


def _markdown(extensions: list) -> markdown.Markdown:
    names = [e if isinstance(e, str) else next(iter(e)) for e in extensions]
    configs = {next(iter(e)): next(iter(e.values())) for e in extensions if isinstance(e, dict)}
    return markdown.Markdown(extensions=names, extension_configs=configs)


def test_the_site_extensions_give_the_first_extensions_html():
    reference = _markdown(REFERENCE_EXTENSIONS).convert(PAGE)
    md = _markdown(MARKDOWN_EXTENSIONS)
    for _ in range(3):  # one instance, reset between pages, as the site uses it
        md.reset()
        assert md.convert(PAGE) == reference
    assert 'class="hll"' in reference and 'class="c1"' in reference  # highlighted, with classes


def test_each_lexer_is_looked_up_once_per_instance(monkeypatch):
    calls: list[str] = []
    lookup = pymdownx.highlight.get_lexer_by_name

    def counted(name, **options):
        calls.append(name)
        return lookup(name, **options)

    monkeypatch.setattr(pymdownx.highlight, "get_lexer_by_name", counted)
    md = _markdown(MARKDOWN_EXTENSIONS)
    md.convert(PAGE)
    first = list(calls)
    for _ in range(5):
        md.reset()
        md.convert(PAGE)
    assert calls == first  # no lookup after the first page
    assert {"yaml", "kusto", "spl", "sql"} <= set(first)


def test_classes_only_builds_no_stylesheet_and_the_same_html():
    code = [("yaml", "a: [1, 'b']  # c\n"), ("sql", "SELECT 1;\n")]
    for language, text in code:
        lexer = get_lexer_by_name(language)
        for options in ({}, {"linenos": "table", "hl_lines": [1]}, {"linenos": "inline"}):
            lean = HtmlFormatter(style=ClassesOnly, wrapcode=True, **options)
            usual = HtmlFormatter(wrapcode=True, **options)
            assert lean.class2style == {} and usual.class2style
            assert highlight(text, lexer, lean) == highlight(text, lexer, usual)


def test_the_site_highlighter_formats_with_classes_only(monkeypatch):
    styles: list = []
    create = HtmlFormatter._create_stylesheet

    def recorded(self):
        styles.append(self.style)
        return create(self)

    monkeypatch.setattr(HtmlFormatter, "_create_stylesheet", recorded)
    _markdown(MARKDOWN_EXTENSIONS).convert(PAGE)
    assert len(styles) == 4 and set(styles) == {ClassesOnly}  # one formatter per fenced block



# The same code in blocks that differ only in what the HTML is made from: language,
# highlighted lines, line numbers, title, attributes; each twice, on one page.
_AGAIN = """
```kusto
DeviceProcessEvents | where FileName in~ ("nmap.exe")
```

```sql
DeviceProcessEvents | where FileName in~ ("nmap.exe")
```

``` { .kusto hl_lines="1" }
DeviceProcessEvents | where FileName in~ ("nmap.exe")
```

``` { .kusto linenums="2" }
DeviceProcessEvents | where FileName in~ ("nmap.exe")
```

``` { .kusto title="A <b>query</b>" }
DeviceProcessEvents | where FileName in~ ("nmap.exe")
```

``` { .kusto #an-id data-x="1" }
DeviceProcessEvents | where FileName in~ ("nmap.exe")
```

``` { .kusto data-x="2" }
DeviceProcessEvents | where FileName in~ ("nmap.exe")
```

``` { .kusto .wide }
DeviceProcessEvents | where FileName in~ ("nmap.exe")
```

``` { .kusto title="A <b>query</b>" title_mode="html" }
DeviceProcessEvents | where FileName in~ ("nmap.exe")
```

`#!kusto DeviceProcessEvents`
"""


def _configured(extensions: list, name: str, options: dict) -> list:
    """`extensions` with the highlighter (`name`) given `options` too."""
    out = [{name: {**e[name], **options}} if isinstance(e, dict) and name in e else e for e in extensions]
    return [*out, "attr_list", "pymdownx.inlinehilite"]


@pytest.mark.parametrize(
    "options",
    [{}, {"line_spans": "__span"}, {"anchor_linenums": True, "line_anchors": "__line", "linenums": True}],
)
def test_a_code_block_highlighted_again_is_the_one_kept(options, monkeypatch):
    """The same block again (on the page, on the next page) is highlighted once per
    process; each block, with each of its options, is what pymdownx's own highlighter
    gives, including where a block's HTML holds its number on the page (line spans and
    anchors) or its title is raw HTML (kept aside by the page): those are highlighted
    each time."""
    page = _AGAIN + _AGAIN
    reference = _markdown(_configured(REFERENCE_EXTENSIONS, "pymdownx.highlight", options))
    expected = reference.convert(page)
    md = _markdown(_configured(MARKDOWN_EXTENSIONS, "pipeline.site.convert", options))
    formatters: list = []
    made = HtmlFormatter.__init__

    def counted(self, **kwargs):
        formatters.append(self)
        made(self, **kwargs)

    for n in range(3):
        reference.reset()
        assert reference.convert(page) == expected
        md.reset()
        with monkeypatch.context() as m:
            m.setattr(HtmlFormatter, "__init__", counted)
            assert md.convert(page) == expected, n
    # Per page: nine blocks twice, one with its title as raw HTML (never kept), and the
    # inline code twice (never kept).
    keeps = not options.get("line_spans") and not options.get("line_anchors")
    assert len(formatters) == (8 + (2 + 2) * 3 if keeps else (18 + 2) * 3)
    assert 'id="an-id"' in expected and 'data-x="1"' in expected and 'data-x="2"' in expected and "wide" in expected and "hll" in expected and "linenos" in expected


# Pieces of text where every inline pattern has something to find: emphasis, code, links
# and references, images, autolinks, raw HTML, entities, escapes, hard line breaks, and
# the block structure around them (tables, lists, headings).
_PIECES = [
    *"ab T1046.:/|-\n", "*", "**", "_", "`", "``", "\\", "[", "]", "(", ")", "!", "<", ">", "&", ";", "#", "@",
    "  \n", "<http://x.test>", "<a@b.test>", "&amp;", "&#35;", "<b>", "</b>", "<!-- c -->", "[a](b.md)",
    "![i](j.png)", "[r]", "[r][]", "\n[r]: https://r.test\n", "\n| a | b |\n|-|-|\n| `c` | *d* |\n", "\n- ", "\n## ",
]


def _with_inline(skipping: bool) -> markdown.Markdown:
    md = _markdown(MARKDOWN_EXTENSIONS)
    if skipping:
        md.treeprocessors.register(SkippingInlineProcessor(md), "inline", 20)
    return md


@settings(max_examples=400)
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join), min_size=1, max_size=3))
def test_skipping_inline_patterns_gives_python_markdowns_html(pages):
    """The inline processor that skips patterns with nothing to find gives Python-Markdown's
    own HTML, page after page of one instance (reset between pages, as the site uses it)."""
    stock, skipping = _with_inline(False), _with_inline(True)
    for text in pages:
        stock.reset()
        skipping.reset()
        assert skipping.convert(text) == stock.convert(text)


def _site_markdown(extensions: list = MARKDOWN_EXTENSIONS) -> markdown.Markdown:
    """The Markdown instance the site's converter makes for `extensions`."""
    names = [e if isinstance(e, str) else next(iter(e)) for e in extensions]
    configs = {next(iter(e)): next(iter(e.values())) for e in extensions if isinstance(e, dict)}
    return Converter({"markdown_extensions": names, "mdx_configs": configs})._markdown()


def test_the_converter_uses_the_lean_processors():
    """The site's converter uses them in place of Python-Markdown's."""
    md = _site_markdown()
    assert type(md.treeprocessors["inline"]) is SkippingInlineProcessor
    assert type(md.treeprocessors["toc"]) is LeanTocTreeprocessor
    assert type(md.parser.blockprocessors["table"]) is LeanTableProcessor
    assert md.convert("*a* [b](c.md) `d` &amp; <i>e</i>") == _with_inline(False).convert("*a* [b](c.md) `d` &amp; <i>e</i>")


def test_every_inline_pattern_of_the_site_is_known():
    """What each of the site's inline patterns needs is known, so texts are looked at
    once for all of them (an unknown pattern would make every pattern be searched)."""
    md = _site_markdown()
    assert len(md.inlinePatterns) == 14
    assert all(needs(p) for p in md.inlinePatterns)


# Characters every inline pattern's expression is made of, and the strings they need.
_ALPHABET = "ab1 \n\t`\\[]()!<>&;#*_:/@.|-\"'="


@settings(max_examples=300)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_a_pattern_finds_nothing_in_a_text_without_what_it_needs(text):
    """The claim `needs` makes for each pattern: a text holding none of its strings is one
    its expression finds nothing in (each pattern tried on the text with them taken out)."""
    for pattern in _site_markdown_once().inlinePatterns:
        without = text
        for needed in needs(pattern):
            without = without.replace(needed, "")
        if any(needed in without for needed in needs(pattern)):
            continue  # taking one out made another (`![` from `!` and `[`): not that text
        assert pattern.getCompiledRegExp().search(without) is None, (pattern, without)


_ONCE: list = []


def _site_markdown_once() -> markdown.Markdown:
    if not _ONCE:
        _ONCE.append(_site_markdown())
    return _ONCE[0]


def test_patterns_of_other_extensions_are_always_tried():
    """Patterns it does not know (keys, inline highlighting, emoji, magic links, and the
    delimiters of caret, mark and tilde, which change the emphasis pattern) are searched
    in every text, as Python-Markdown does; the HTML is Python-Markdown's."""
    extensions = [
        *MARKDOWN_EXTENSIONS, "pymdownx.keys", "pymdownx.inlinehilite", "pymdownx.emoji", "pymdownx.magiclink",
        "pymdownx.caret", "pymdownx.mark", "pymdownx.tilde", "pymdownx.smartsymbols",
    ]
    md, stock = _site_markdown(extensions), _markdown(extensions)
    texts = [
        "++ctrl+alt+del++ `#!py x = 1` :smile: https://x.test ^^a^^ ==b== ~~c~~ (c) *d* [e](f.md)",
        "plain text", "a ==b *c*== ~d~ ^e^ ++enter++", "<i>x</i> &amp; www.example.test",
    ]
    for text in texts:
        md.reset()
        stock.reset()
        assert md.convert(text) == stock.convert(text)
    processor = md.treeprocessors["inline"]
    unknown = {p.__class__.__name__ for at, p in enumerate(md.inlinePatterns) if at in processor._always}
    assert {"KeysPattern", "InlineHilitePattern"} <= unknown, unknown


# Pages with the table of contents' marker (alone in a paragraph, in a heading, in a
# table cell, escaped), tables with code spans, escapes and pipes inside them.
_BLOCKS = [
    "[TOC]", "\\[TOC\\]", "# [TOC]", "## A", "### A", "## b `c`", "text [TOC] text", "> [TOC]", "- [TOC]",
    "| a | b |\n|-|-|\n| `c|d` | e \\| f |", "| x |\n|:-|\n| [TOC] |", "a | b\n--|--\n`|` | \\\\|",
    "| a | b |\n|---|--:|\n| ``c`|`d`` | `e` |\n| \\` | `` ` `` |", "!!! note \"[TOC]\"\n    body",
]


@settings(max_examples=200)
@given(st.lists(st.lists(st.sampled_from(_BLOCKS), min_size=1, max_size=6).map("\n\n".join), min_size=1, max_size=3))
def test_the_lean_processors_give_python_markdowns_html_and_contents(pages):
    """The site's converter gives Python-Markdown's HTML and table of contents' tokens
    (the ids of the headings included) where the marker and tables occur, page after page
    of one instance."""
    md, stock = _site_markdown(), _markdown(MARKDOWN_EXTENSIONS)
    for text in pages:
        md.reset()
        stock.reset()
        assert md.convert(text) == stock.convert(text)
        assert md.toc_tokens == stock.toc_tokens


def test_the_contents_are_drawn_only_where_the_marker_is():
    md, stock = _site_markdown(), _markdown(MARKDOWN_EXTENSIONS)
    page = "# A\n\n## B\n\ntext"
    assert md.convert(page) == stock.convert(page) and md.toc_tokens == stock.toc_tokens
    assert md.toc == "<div></div>" and 'href="#b"' in stock.toc
    md.reset()
    stock.reset()
    marked = "# A\n\n[TOC]\n\n## B"
    assert md.convert(marked) == stock.convert(marked) and md.toc == stock.toc
    assert '<div class="toc">' in md.convert(marked)


@settings(max_examples=300)
@given(st.lists(st.text(alphabet="ab |`\\", max_size=12), min_size=1, max_size=4))
def test_a_row_is_split_as_python_markdown_splits_it(cells):
    """A row without backticks or backslashes split at every pipe; any row, the cells
    the extension's own walk gives."""
    md = _site_markdown()
    lean = md.parser.blockprocessors["table"]
    stock = TableProcessor(md.parser, lean.config)
    row = "|".join(cells)
    assert lean._split(row) == stock._split(row)


@settings(max_examples=1000)
@given(st.text(alphabet="ab |`\\\n", max_size=16), st.sampled_from([0, 1, 2, 3]))
def test_a_rows_border_is_taken_off_as_python_markdown_takes_it_off(row, border):
    """With any border (left, right, both, none), any row: the cells of the extension's
    own split, its end border found without its expression."""
    md = _site_markdown()
    lean = md.parser.blockprocessors["table"]
    stock = TableProcessor(md.parser, lean.config)
    lean.border = stock.border = border
    assert lean._split_row(row) == stock._split_row(row)
