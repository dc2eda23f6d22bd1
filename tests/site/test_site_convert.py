"""The site's code highlighting (pipeline/site/convert.py): the HTML of the extensions
the site was first made with, for less work — each lexer looked up once per process,
no Pygments stylesheet built per code block."""

from __future__ import annotations

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st
import pymdownx.highlight
from pygments import highlight
from pygments.formatters.html import HtmlFormatter
from pygments.lexers import get_lexer_by_name

from pipeline.site.config import MARKDOWN_EXTENSIONS, REFERENCE_EXTENSIONS
from pipeline.site.convert import ClassesOnly, SkippingInlineProcessor

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


def test_the_converter_skips_with_the_inline_processor():
    """The site's converter uses it in place of Python-Markdown's."""
    from pipeline.site.convert import Converter

    names = [e if isinstance(e, str) else next(iter(e)) for e in MARKDOWN_EXTENSIONS]
    configs = {next(iter(e)): next(iter(e.values())) for e in MARKDOWN_EXTENSIONS if isinstance(e, dict)}
    md = Converter({"markdown_extensions": names, "mdx_configs": configs})._markdown()
    assert type(md.treeprocessors["inline"]) is SkippingInlineProcessor
    assert md.convert("*a* [b](c.md) `d` &amp; <i>e</i>") == _with_inline(False).convert("*a* [b](c.md) `d` &amp; <i>e</i>")
